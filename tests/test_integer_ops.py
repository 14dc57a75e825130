"""Integer and bitwise ops (tinygrad_np/integer.py, ops/division.py) against NumPy, with PyTorch's result dtypes
and PyTorch's refusals, and through tg.jit and func.vmap. The differentiable float cases of //, %, fmod and
div(rounding_mode=) are rows of tests/op_table.py; these are the integer ones, which have no gradient.

The expected values here are PyTorch's (checked against torch 2.13 when written): CI has no torch.
"""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import func


def ints(values, dtype=np.int32):
    return tg.Tensor(np.array(values, dtype=dtype), dtype=dtype)


X = [[7, -7, 5, 0], [-9, 2, 13, -1]]
Y = [[2, 2, -3, 5], [4, -3, 5, 7]]


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8])
def test_rounding_divisions_match_numpy_and_keep_the_dtype(dtype):
    x_values = np.abs(np.array(X)) if dtype == np.uint8 else np.array(X)
    y_values = np.abs(np.array(Y)) if dtype == np.uint8 else np.array(Y)
    x, y = ints(x_values, dtype), ints(y_values, dtype)
    xs, ys = x.numpy(), y.numpy()
    cases = {
        "//": (x // y, np.floor_divide(xs, ys)),
        "%": (x % y, np.remainder(xs, ys)),
        "fmod": (x.fmod(y), np.fmod(xs, ys)),
        "trunc": (x.div(y, rounding_mode="trunc"), np.trunc(xs / ys).astype(dtype)),
        "floor": (x.div(y, rounding_mode="floor"), np.floor_divide(xs, ys)),
        "floor_divide": (x.floor_divide(y), np.floor_divide(xs, ys)),
        "remainder": (x.remainder(y), np.remainder(xs, ys)),
    }
    for name, (got, expected) in cases.items():
        assert got.dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(got.numpy(), expected, err_msg=name)


def test_a_python_int_beside_an_int_tensor_takes_its_dtype_and_int_over_int_is_float32():
    x = ints(X, np.int32)
    assert (x // 2).dtype == np.int32 and (7 // x.abs().clip(1, None).astype(np.int32)).dtype == np.int32
    assert (x % 3).dtype == np.int32 and (100 % ints([3, 7])).numpy().tolist() == [1, 2]
    assert (x / 2).dtype == np.float32 and (x / ints(Y)).dtype == np.float32  # PyTorch's true division
    assert x.div(2).dtype == np.float32
    np.testing.assert_array_equal((ints([7, -7]) / 2).numpy(), [3.5, -3.5])
    assert (x * 2.5).dtype == np.float32  # a float number beside integers: PyTorch's default float
    assert (ints([1, 2], np.int8) + 1).dtype == np.int8


def test_integer_division_by_zero_is_refused_where_numpy_gives_0():
    x, zero = ints([4, 5]), ints([1, 0])
    for op in (lambda: x // zero, lambda: x % zero, lambda: x.fmod(zero), lambda: x.div(zero, rounding_mode="trunc")):
        with pytest.raises(ZeroDivisionError, match="divided by zero"):
            op()
        with pytest.raises(RuntimeError):  # PyTorch's class too
            op()
    # floats divide by zero as PyTorch's do: inf and NaN, without NumPy's warnings (warnings are errors here)
    f = tg.Tensor(np.array([1.0, -1.0, 0.0], np.float32))
    np.testing.assert_array_equal((f // 0.0).numpy(), [np.inf, -np.inf, np.nan])
    assert np.isnan((f % 0.0).numpy()).all()


def test_div_refuses_an_unknown_rounding_mode():
    with pytest.raises(ValueError, match="rounding_mode"):
        ints([1]).div(ints([1]), rounding_mode="round")


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int16, np.int32, np.int64])
def test_bitwise_ops_match_numpy_and_keep_the_dtype(dtype):
    rng = np.random.default_rng(0)
    if dtype == np.bool_:
        a, b = rng.integers(0, 2, (3, 4)).astype(bool), rng.integers(0, 2, (3, 4)).astype(bool)
    else:
        info = np.iinfo(dtype)
        a = rng.integers(info.min, int(info.max) + 1, (3, 4), dtype=dtype)
        b = rng.integers(info.min, int(info.max) + 1, (3, 4), dtype=dtype)
    x, y = tg.Tensor(a, dtype=dtype), tg.Tensor(b, dtype=dtype)
    for got, expected in [(x & y, a & b), (x | y, a | b), (x ^ y, a ^ b), (~x, ~a), (x.bitwise_and(y), a & b),
                          (x.bitwise_or(y), a | b), (x.bitwise_xor(y), a ^ b), (x.bitwise_not(), ~a)]:
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got.numpy(), expected)


def test_shifts_match_numpy_and_signed_right_shift_is_arithmetic():
    x = ints([1, -8, 255, 3])
    np.testing.assert_array_equal((x << 2).numpy(), [4, -32, 1020, 12])
    np.testing.assert_array_equal((x >> 1).numpy(), [0, -4, 127, 1])
    np.testing.assert_array_equal((1 << ints([0, 3])).numpy(), [1, 8])
    np.testing.assert_array_equal(x.bitwise_left_shift(ints([1, 1, 1, 1])).numpy(), [2, -16, 510, 6])
    assert (ints([1], np.uint8) << 1).dtype == np.uint8


def test_a_python_int_wraps_into_the_tensors_dtype_as_in_pytorch():
    # PyTorch: torch.tensor([5], dtype=torch.int32) | 0xFFFFFFFF is -1 (the int read as int32's bits)
    np.testing.assert_array_equal((ints([5]) | 0xFFFFFFFF).numpy(), [-1])
    assert (tg.Tensor(np.array([True, False]), dtype=np.bool_) & True).dtype == np.bool_


def test_bitwise_ops_refuse_floats_with_a_clear_error():
    f = tg.Tensor(np.ones(3, np.float32))
    for op in (lambda: f & 1, lambda: ~f, lambda: ints([1, 2, 3]) | f, lambda: f << 1):
        with pytest.raises(TypeError, match="integer"):
            op()
    with pytest.raises(TypeError, match="integer tensors"):  # shifts take no bools (PyTorch refuses them too)
        tg.Tensor(np.array([True]), dtype=np.bool_) << 1


def test_view_dtype_is_a_bitcast_and_view_shape_names_reshape():
    f = tg.Tensor(np.array([1.0, -2.0], np.float32))
    np.testing.assert_array_equal(f.view(np.int32).numpy(), np.array([1.0, -2.0], np.float32).view(np.int32))
    assert f.view(np.uint8).shape == (8,) and f.view(np.int16).dtype == np.int16
    with pytest.raises(AttributeError, match="reshape"):
        f.view(2, 1)
    with pytest.raises(ValueError, match="0-d"):
        tg.Tensor(np.float32(1.0)).view(np.int16)


def test_integer_min_and_minimum_are_exact_at_the_dtypes_ends():
    # -max(-x) gave INT32_MAX here without an error; Min and Minimum are ops of their own now
    lo, hi = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    assert tg.minimum(ints([lo]), ints([hi])).numpy().tolist() == [lo]
    assert ints([lo, hi]).min().item() == lo
    bools = tg.Tensor(np.array([True, False]), dtype=np.bool_)
    assert bools.min().dtype == np.bool_ and bools.min().item() is False and tg.minimum(bools, True).numpy()[1] == 0
    assert ints([3, 200], np.uint8).min().item() == 3


def test_integer_powers_stay_integers_and_a_negative_number_exponent_is_refused():
    x = ints([2, -3, 1, -1])
    assert (x ** 2).dtype == np.int32 and (x ** 2).numpy().tolist() == [4, 9, 1, 1]
    with pytest.raises(ValueError, match="negative integer powers"):
        x ** -2
    # as a tensor, PyTorch's integer answer: 1 for 1, +-1 for -1, 0 otherwise
    np.testing.assert_array_equal((x ** ints([-1, -1, -5, -3])).numpy(), [0, 0, 1, -1])


def test_the_integer_ops_replay_under_jit_bit_for_bit():
    def f(x, y):
        return x // y, x % y, x.fmod(y), x & y, x | y, x ^ y, ~x, x << 1, x >> 1, x.div(y, rounding_mode="trunc")

    jitted = tg.jit(f)
    rng = np.random.default_rng(1)
    for _ in range(4):
        a = rng.integers(-50, 50, (3, 5)).astype(np.int32)
        b = rng.integers(1, 9, (3, 5)).astype(np.int32) * rng.choice([-1, 1], (3, 5)).astype(np.int32)
        got = jitted(ints(a), ints(b))
        expected = f(ints(a), ints(b))
        for g, e in zip(got, expected, strict=True):
            assert g.dtype == e.dtype
            np.testing.assert_array_equal(g.numpy(), e.numpy())
    assert jitted.traces == 2


def test_the_integer_ops_batch_under_vmap_as_a_loop_would():
    a = np.arange(-12, 12, dtype=np.int32).reshape(4, 6)
    b = np.array([3, -2, 5, 7, -4, 1], dtype=np.int32)

    def f(x):
        y = ints(b)
        return (x // y) + (x % y) + (x & y) + (x << 1) + (~x)

    batched = func.vmap(f)(ints(a))
    looped = np.stack([f(ints(row)).numpy() for row in a])
    np.testing.assert_array_equal(batched.numpy(), looped)


def test_tril_and_triu_keep_integer_and_bool_dtypes():
    bools = tg.Tensor(np.ones((3, 3), bool), dtype=np.bool_)
    assert bools.tril().dtype == np.bool_
    assert bools.triu(1).numpy().tolist() == np.triu(np.ones((3, 3), bool), 1).tolist()
    assert ints([[1, 2], [3, 4]]).tril().numpy().tolist() == [[1, 0], [3, 4]]
    assert ints([[1, 2], [3, 4]]).triu().dtype == np.int32
