"""The factories issue 29 adds (empty, rand, randint, normal, linspace) and arange's refusal to wrap, with
PyTorch's shapes, dtypes and ranges; random ones reproducible from a seed and drawn again by a jit replay."""
import numpy as np
import pytest

import tinygrad_np as tg


def test_empty_has_the_shape_and_dtype_and_is_zeros_here():
    x = tg.empty(3, 4)
    assert x.shape == (3, 4) and x.dtype == np.float32 and not x.numpy().any()
    assert tg.empty((2, 5), dtype=np.int32).dtype == np.int32


def test_rand_randint_and_normal_draw_pytorchs_distributions_reproducibly():
    r = tg.rand(4000, rng=0).numpy()
    assert r.dtype == np.float32 and r.min() >= 0.0 and r.max() < 1.0 and abs(r.mean() - 0.5) < 0.02
    np.testing.assert_array_equal(r, tg.rand(4000, rng=0).numpy())
    i = tg.randint(-3, 3, (4000,), rng=1)
    assert i.dtype == np.int64 and set(i.numpy().tolist()) == {-3, -2, -1, 0, 1, 2}
    assert tg.randint(5, (2, 3), rng=1).shape == (2, 3) and tg.randint(5, (7,)).numpy().max() < 5  # (high, size)
    n = tg.normal(3.0, 2.0, (20000,), rng=2).numpy()
    assert n.dtype == np.float32 and abs(n.mean() - 3.0) < 0.05 and abs(n.std() - 2.0) < 0.05


def test_the_random_factories_refuse_bad_arguments():
    for make in (lambda: tg.rand(-1), lambda: tg.empty(2, -3), lambda: tg.randint(0, 5, (-1,)),
                 lambda: tg.normal(0.0, 1.0, (-2,)), lambda: tg.linspace(0, 1, -1)):
        with pytest.raises(ValueError):
            make()
    with pytest.raises(ValueError, match="low must be below high"):
        tg.randint(5, 2, (2,))
    with pytest.raises(ValueError, match="std must be non-negative"):
        tg.normal(0.0, -1.0, (2,))
    with pytest.raises(TypeError, match="randint"):
        tg.randint(5)


def test_a_jit_replay_draws_the_random_factories_again():
    jitted = tg.jit(lambda x: x + tg.rand(3) + tg.normal(0.0, 1.0, (3,)) + tg.randint(0, 100, (3,)))
    x = tg.Tensor(np.zeros(3, np.float32))
    results = [jitted(x).numpy() for _ in range(4)]
    assert jitted.traces == 2
    assert not np.array_equal(results[2], results[3])  # the replays drew new values


def test_linspace_as_pytorch():
    np.testing.assert_allclose(tg.linspace(5, 10, 3).numpy(), [5.0, 7.5, 10.0])
    assert tg.linspace(5, 10, 1).numpy().tolist() == [5.0] and tg.linspace(5, 10, 0).shape == (0,)
    assert tg.linspace(0, 1, 5).dtype == np.float32
    assert tg.linspace(0, 10, 4, dtype=np.int32).numpy().tolist() == [0, 3, 6, 10]  # truncated, as PyTorch's
    with pytest.raises(TypeError, match="number type"):
        tg.linspace(0, 1, 3, dtype=np.bool_)


def test_arange_refuses_what_its_integer_dtype_cannot_hold_instead_of_wrapping():
    assert tg.arange(0, 128, dtype=np.int8).numpy()[-1] == 127
    for start, stop in [(0, 129), (-129, 0)]:
        with pytest.raises(OverflowError, match="out of range for int8"):
            tg.arange(start, stop, dtype=np.int8)
    assert tg.arange(0, 10, 3, dtype=np.uint8).numpy().tolist() == [0, 3, 6, 9]
    assert tg.arange(2**63 - 3, 2**63, dtype=np.uint64).numpy()[-1] == 2**63 - 1
    with pytest.raises(ValueError, match="step"):
        tg.arange(0, 5, 0, dtype=np.int32)


def test_factories_keep_an_integer_or_bool_dtype_and_full_infers_pytorchs():
    ints = tg.Tensor(np.array([[1, 2, 3]], np.int32), dtype=np.int32)
    for made in (tg.zeros_like(ints), tg.ones_like(ints), tg.full_like(ints, 4)):
        assert made.dtype == np.int32
    assert tg.zeros(2, dtype=np.int64).dtype == np.int64 and tg.eye(2, dtype=np.int32).dtype == np.int32
    assert tg.full((2, 3), 4).dtype == np.int64 and tg.full((2,), True).dtype == np.bool_
    assert tg.full((2,), 4.0).dtype == np.float32 and tg.full((2,), 4, dtype=np.float64).dtype == np.float64


def test_where_of_two_numbers_has_pytorchs_dtype():
    condition = tg.Tensor(np.array([1.0, 0.0], np.float32)) > 0.5
    assert tg.where(condition, 4, 2).dtype == np.int64 and tg.where(condition, 4, 2).numpy().tolist() == [4, 2]
    assert tg.where(condition, 4.0, 2).dtype == np.float32 and tg.where(condition, True, False).dtype == np.bool_
