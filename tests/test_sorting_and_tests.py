"""What tests/op_table.py cannot check of the reductions, scans and sorting (tinygrad_np/reductions.py) and of
the elementwise tests (tinygrad_np/pointwise.py): the int64 indices of sort, argsort, topk, cummax and cummin,
the booleans of any, all, isclose, isinf, isnan, isfinite and logical_not, against NumPy and PyTorch's
answers (ties, NaN, 0-d tensors), with negative axes, through tg.jit and func.vmap. The values' gradients are
op-table rows.
"""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import func

NAN = float("nan")


def t(values, dtype=np.float32):
    return tg.Tensor(np.array(values, dtype=dtype), dtype=dtype)


def test_sort_is_stable_puts_nan_last_and_gives_int64_indices():
    x = t([[3.0, NAN, 1.0, 3.0, -2.0]])
    values, indices = x.sort(-1)
    np.testing.assert_array_equal(values.numpy(), [[-2.0, 1.0, 3.0, 3.0, NAN]])
    assert indices.dtype == np.int64 and indices.numpy().tolist() == [[4, 2, 0, 3, 1]]
    # descending: NaN first, equal values keep their order (PyTorch's stable=True)
    values, indices = x.sort(-1, descending=True)
    np.testing.assert_array_equal(values.numpy(), [[NAN, 3.0, 3.0, 1.0, -2.0]])
    assert indices.numpy().tolist() == [[1, 0, 3, 2, 4]]
    assert x.argsort(descending=True).numpy().tolist() == [[1, 0, 3, 2, 4]]


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_sort_and_argsort_match_numpy_along_any_axis(axis):
    a = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    values, indices = t(a).sort(axis)
    np.testing.assert_array_equal(values.numpy(), np.sort(a, axis=axis))
    np.testing.assert_array_equal(indices.numpy(), np.argsort(a, axis=axis, kind="stable"))
    np.testing.assert_array_equal(t(a).argsort(axis).numpy(), np.argsort(a, axis=axis, kind="stable"))


def test_topk_values_and_indices_and_k_checked():
    x = t([[1.0, 5.0, 4.0, 2.0, 7.0]])
    values, indices = x.topk(2)
    assert values.numpy().tolist() == [[7.0, 5.0]] and indices.numpy().tolist() == [[4, 1]]
    values, indices = x.topk(2, largest=False)
    assert values.numpy().tolist() == [[1.0, 2.0]] and indices.numpy().tolist() == [[0, 3]]
    # among equal values ours takes the first ones; PyTorch leaves that order unspecified (2.13 gives [2, 4])
    assert t([[1.0, 5.0, 5.0, 2.0, 5.0]]).topk(2).indices.numpy().tolist() == [[1, 2]]
    assert x.topk(0).values.shape == (1, 0)
    with pytest.raises(ValueError, match="k=6"):
        x.topk(6)
    with pytest.raises(RuntimeError):  # PyTorch's class too
        x.topk(6)


def test_cummax_and_cummin_indices_take_the_later_tie_and_nan_stays():
    x = t([1.0, 3.0, 3.0, 2.0, NAN, 5.0])
    values, indices = x.cummax(0)
    np.testing.assert_array_equal(values.numpy(), [1.0, 3.0, 3.0, 3.0, NAN, NAN])
    assert indices.dtype == np.int64 and indices.numpy().tolist() == [0, 1, 2, 2, 4, 4]
    values, indices = t([[2, 2, 1, 3]], np.int32).cummin(-1)
    assert values.dtype == np.int32 and values.numpy().tolist() == [[2, 2, 1, 1]]
    assert indices.numpy().tolist() == [[0, 1, 2, 2]]


def test_ops_along_one_axis_take_axis_0_and_minus_1_of_a_0d_tensor_as_pytorch():
    x = t(2.5)
    for axis in (0, -1):
        assert x.sort(axis).values.shape == () and x.sort(axis).indices.item() == 0
        assert x.cummax(axis).values.item() == 2.5 and x.argsort(axis).shape == ()
        assert x.cumprod(axis).item() == 2.5 and x.logcumsumexp(axis).item() == 2.5
        assert x.topk(1, axis).values.item() == 2.5
    with pytest.raises(IndexError, match="out of range"):
        x.sort(1)


def test_any_and_all_over_axes_including_empty_ones_and_nan():
    a = np.array([[0.0, 0.0, 1.0], [NAN, 2.0, 3.0]], np.float32)
    x = t(a)
    assert x.any().item() is True and x.all().item() is False
    assert x.all(axis=-1).numpy().tolist() == [False, True]  # NaN counts as true, as in NumPy and PyTorch
    assert x.any(axis=(0, 1), keepdims=True).shape == (1, 1)
    np.testing.assert_array_equal(x.any(axis=0).numpy(), np.any(a, axis=0))
    empty = t(np.zeros((2, 0)))
    assert empty.any(axis=1).numpy().tolist() == [False, False] and empty.all(axis=1).numpy().tolist() == [True, True]
    assert not x.any().requires_grad


def test_isclose_as_pytorch_for_inf_and_nan():
    x = t([1.0, 1.0 + 1e-6, np.inf, -np.inf, NAN, 2.0])
    y = t([1.0, 1.0, np.inf, np.inf, NAN, 2.1])
    assert x.isclose(y).numpy().tolist() == [True, True, True, False, False, False]
    assert x.isclose(y, equal_nan=True).numpy().tolist()[4] is True
    assert x.isclose(y, rtol=0.1).numpy().tolist()[5] is True
    np.testing.assert_array_equal(x.isclose(y).numpy(), np.isclose(x.numpy(), y.numpy()))


def test_the_elementwise_tests_and_logical_not():
    values = [-np.inf, 0.0, np.inf, NAN, 1.1]
    x = t(values)
    assert x.isinf().numpy().tolist() == [True, False, True, False, False]
    assert x.isposinf().numpy().tolist() == [False, False, True, False, False]
    assert x.isneginf().numpy().tolist() == [True, False, False, False, False]
    assert x.isnan().numpy().tolist() == [False, False, False, True, False]
    assert x.isfinite().numpy().tolist() == [False, True, False, False, True]
    assert x.logical_not().numpy().tolist() == [False, True, False, False, False]
    ints = t([0, 3, -1], np.int32)
    assert ints.isinf().numpy().tolist() == [False] * 3 and ints.isposinf().dtype == np.bool_
    assert ints.isfinite().numpy().tolist() == [True] * 3
    assert ints.logical_not().numpy().tolist() == [True, False, False]


def test_the_index_and_boolean_ops_replay_under_jit_bit_for_bit():
    def f(x):
        return (x.sort(-1), x.argsort(0, descending=True), x.topk(2), x.cummax(1), x.cummin(-1), x.any(-1),
                x.all(0), x.isclose(x * 1.0001), x.isnan(), x.isfinite(), (x > 0).logical_not())

    jitted = tg.jit(f)
    rng = np.random.default_rng(2)
    for _ in range(4):
        a = rng.standard_normal((3, 5)).astype(np.float32)
        a[0, 1] = NAN
        got, expected = jitted(t(a)), f(t(a))
        flat = [(g, e) for g, e in zip(got, expected, strict=True)]
        for g, e in flat:
            for gi, ei in (zip(g, e, strict=True) if isinstance(g, tuple) else [(g, e)]):
                assert gi.dtype == ei.dtype
                np.testing.assert_array_equal(gi.numpy(), ei.numpy())
    assert jitted.traces == 2
    assert type(got[0]).__name__ == "ValuesIndices" and got[0].indices.dtype == np.int64


def test_the_index_and_boolean_ops_batch_under_vmap_as_a_loop_would():
    a = np.random.default_rng(3).standard_normal((4, 3, 5)).astype(np.float32)

    def f(x):
        parts = [x.sort(-1).indices, x.argsort(0), x.topk(2, axis=1).indices, x.cummax(-1).indices,
                 x.any(-1), x.all(0), x.isclose(x.abs()), x.isfinite(), x.logical_not()]
        return tg.concatenate([p.astype(np.float32).reshape(-1) for p in parts])

    batched = func.vmap(f)(t(a))
    looped = np.stack([f(t(example)).numpy() for example in a])
    np.testing.assert_array_equal(batched.numpy(), looped)


def test_prod_of_integers_and_over_an_empty_axis():
    assert t([[2, 3], [4, 5]], np.int32).prod().item() == 120
    assert t(np.zeros((2, 0))).prod(axis=1).numpy().tolist() == [1.0, 1.0]
    assert t([[2.0, 3.0]]).prod(axis=-1, keepdims=True).shape == (1, 1)


def test_sum_with_a_dtype_casts_first():
    x = t([200, 100], np.uint8)
    assert x.sum(dtype=np.int64).item() == 300 and x.sum(dtype=np.int64).dtype == np.int64
    assert t([1.5, 2.0]).sum(dtype=np.float64).dtype == np.float64


def test_std_mean_is_std_and_mean():
    a = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    std, mean = tg.std_mean(t(a), axis=-1, ddof=1)
    np.testing.assert_allclose(std.numpy(), a.std(axis=-1, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(mean.numpy(), a.mean(axis=-1), rtol=1e-6)
    with pytest.raises(TypeError, match="axis"):
        tg.std_mean(t(a), dim=1)
