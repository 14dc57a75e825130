"""Gradients beyond the op table (tests/op_table.py runs every op through gradcheck and
gradgradcheck): limits at special points, speed of the special cases, and a whole network."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.testing import arrays, away_from_zero, check_gradients


def test_pow_has_finite_gradients_at_zero_as_in_pytorch():
    x = tg.Tensor(np.array([0.0, 2.0]), requires_grad=True)
    (x ** 0).sum().backward()  # x^0 = 1 is constant: its derivative is 0, at x = 0 too
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    y = tg.Tensor(np.array([0.5, 2.0, 0.0]), requires_grad=True)
    (tg.Tensor(np.zeros(3)) ** y).sum().backward()  # 0^y = 0 for y > 0: its derivative in y is 0
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("exponent", [2, 3, 0.5, 2.5, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow_with_a_scalar_exponent_matches_numpy(exponent, dtype):
    x = np.random.default_rng(0).standard_normal(1000).astype(dtype)
    if exponent in (0.5, 2.5):
        x = np.abs(x)
    got = (tg.Tensor(x) ** exponent).data
    assert got.dtype == dtype
    np.testing.assert_allclose(got, np.power(x, dtype(exponent)), rtol=4 * np.finfo(dtype).eps, atol=0)


def test_small_integer_powers_are_fast_on_negative_inputs():
    # np.power on negative bases is hundreds of times slower than multiplying; x ** 3 must not pay that.
    import time

    x = tg.Tensor(-np.abs(np.random.default_rng(0).standard_normal(262_144)))
    def best(f):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            f()
            times.append(time.perf_counter() - start)
        return min(times)
    ours = best(lambda: x ** 3)
    reference = best(lambda: np.power(x.data, np.float64(3.0)))
    assert ours < reference / 5, f"x ** 3 took {ours * 1e3:.2f} ms, np.power {reference * 1e3:.2f} ms"


def test_transpose_with_negative_axes_on_the_reported_cases():
    # x.transpose(-1, 0) on a 2x2 used to get the gradient of another transpose, and on a 2x3 to fail in backward.
    for shape in [(2, 2), (2, 3)]:
        x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
        t = tg.Tensor(x, requires_grad=True)
        weights = np.arange(np.prod(shape), dtype=np.float64).reshape(shape[::-1]) + 1
        (t.transpose(-1, 0) * tg.Tensor(weights)).sum().backward()
        np.testing.assert_array_equal(t.grad.data, weights.T)


@pytest.mark.slow
@given(data=st.data())
def test_composite_two_layer_net(data):
    """A whole MLP loss at once: gradients through matmul, broadcasting add, relu and the loss."""
    x = data.draw(arrays((3, 4)), label="x")
    w1 = data.draw(away_from_zero((4, 5), margin=0.1), label="W1")
    b1 = data.draw(arrays((5,)), label="b1")
    w2 = data.draw(arrays((5, 3)), label="W2")
    labels = np.array([0, 2, 1])

    def loss(w1, b1, w2):
        return ((x @ w1 + b1).tanh() @ w2).cross_entropy(labels)

    check_gradients(loss, w1, b1, w2)



def test_every_grad_is_its_own_array():
    """Add hands one array to both inputs, Sum a read-only broadcast view, and a seed passed to backward could
    be passed straight through: changing one .grad in place must change no other, nor the caller's seed."""
    a, b = (tg.Tensor(np.ones(3), requires_grad=True) for _ in range(2))
    seed = np.full(3, 2.0)
    (a + b).backward(seed)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, seed) and not np.shares_memory(b.grad.data, seed)
    c = tg.Tensor(np.ones(3), requires_grad=True)
    (c + 1).backward(seed)
    assert not np.shares_memory(c.grad.data, seed)
    c.grad.data[...] = 0  # writeable, and the seed is untouched
    assert (seed == 2).all()
    d = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    d.sum().backward()
    assert d.grad.data.flags.writeable
