"""Every op's gradient, first and second order, against central differences in float64.

Each op is one line in a table: the function and the strategy for its
inputs. Inputs are kept away from the op's kinks, where a numerical
derivative is meaningless.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.testing import (
    arrays,
    away_from_zero,
    axes,
    broadcastable_shapes,
    check_gradients,
    distinct,
    positive,
    shapes,
)

UNARY = {
    "neg": (lambda x: -x, arrays),
    "exp": (lambda x: x.exp(), arrays),
    "log": (lambda x: x.log(), positive),
    "sqrt": (lambda x: x.sqrt(), positive),
    "relu": (lambda x: x.relu(), away_from_zero),
    "abs": (lambda x: abs(x), away_from_zero),
    "tanh": (lambda x: x.tanh(), arrays),
    "sigmoid": (lambda x: x.sigmoid(), arrays),
    "x ** 3": (lambda x: x ** 3, arrays),
    "x ** 2": (lambda x: x ** 2, arrays),
    "x ** 0": (lambda x: x ** 0, arrays),
    "x ** 0.5": (lambda x: x ** 0.5, positive),
    "2 ** x": (lambda x: 2 ** x, arrays),
    "2 * x": (lambda x: 2 * x, arrays),
    "x / 4": (lambda x: x / 4, arrays),
    "1 / x": (lambda x: 1 / x, away_from_zero),
    "3 - x": (lambda x: 3 - x, arrays),
    "x + 1": (lambda x: x + 1, arrays),
}

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


BINARY = {
    "add": (lambda x, y: x + y, arrays, arrays),
    "sub": (lambda x, y: x - y, arrays, arrays),
    "mul": (lambda x, y: x * y, arrays, arrays),
    "div": (lambda x, y: x / y, arrays, away_from_zero),
    "pow": (lambda x, y: x ** y, positive, arrays),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary(name, data):
    fn, values = UNARY[name]
    check_gradients(fn, data.draw(values(shapes()), label="x"))


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_broadcasting(name, data):
    fn, x_values, y_values = BINARY[name]
    x_shape, y_shape = data.draw(broadcastable_shapes(2), label="shapes")
    x = data.draw(x_values(x_shape), label="x")
    y = data.draw(y_values(y_shape), label="y")
    check_gradients(fn, x, y)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@given(data=st.data())
def test_reduction(name, data):
    shape = data.draw(shapes(), label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = data.draw((distinct if name in ("max", "min") else arrays)(shape), label="x")
    check_gradients(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x)


@given(data=st.data())
def test_matmul(data):
    n, k, m = (data.draw(st.integers(1, 4), label=s) for s in "nkm")
    x_batch, y_batch = data.draw(broadcastable_shapes(2, max_dims=2), label="batch shapes")
    x_vector, y_vector = data.draw(st.booleans(), label="x 1-D"), data.draw(st.booleans(), label="y 1-D")
    x_shape = (k,) if x_vector else x_batch + (n, k)
    y_shape = (k,) if y_vector else y_batch + (k, m)
    x = data.draw(arrays(x_shape), label="x")
    y = data.draw(arrays(y_shape), label="y")
    check_gradients(lambda a, b: a @ b, x, y)


@given(data=st.data())
def test_reshape_and_flatten(data):
    x = data.draw(arrays(shapes()), label="x")
    check_gradients(lambda t: t.reshape(-1, 1) * 2, x)
    check_gradients(lambda t: t.flatten(), x)


@given(data=st.data())
def test_transpose(data):
    shape = data.draw(shapes(), label="shape")
    perm = data.draw(st.permutations(range(len(shape))), label="axes")
    negate = data.draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)), label="negative")
    perm = [a - len(shape) if n else a for a, n in zip(perm, negate)]  # the same axes, some counted from the end
    x = data.draw(arrays(shape), label="x")
    check_gradients(lambda t: t.transpose(*perm), x)
    check_gradients(lambda t: t.T, x)


@given(data=st.data())
def test_swapaxes(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    a = data.draw(st.integers(-len(shape), len(shape) - 1), label="a")
    b = data.draw(st.integers(-len(shape), len(shape) - 1), label="b")
    x = data.draw(arrays(shape), label="x")
    check_gradients(lambda t: t.swapaxes(a, b), x)


def test_transpose_with_negative_axes_on_the_reported_cases():
    # x.transpose(-1, 0) on a 2x2 used to get the gradient of another transpose, and on a 2x3 to fail in backward.
    for shape in [(2, 2), (2, 3)]:
        x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
        t = tg.Tensor(x, requires_grad=True)
        weights = np.arange(np.prod(shape), dtype=np.float64).reshape(shape[::-1]) + 1
        (t.transpose(-1, 0) * tg.Tensor(weights)).sum().backward()
        np.testing.assert_array_equal(t.grad.data, weights.T)


@given(data=st.data())
def test_getitem_basic(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(arrays(shape), label="x")
    index = []
    for n in shape:
        kind = data.draw(st.sampled_from(["int", "slice"]), label="kind")
        if kind == "int":
            index.append(data.draw(st.integers(-n, n - 1), label="int"))
        else:
            start = data.draw(st.none() | st.integers(-n, n), label="start")
            stop = data.draw(st.none() | st.integers(-n, n), label="stop")
            step = data.draw(st.none() | st.integers(1, 3) | st.integers(-3, -1), label="step")
            index.append(slice(start, stop, step))
    index = tuple(index)
    check_gradients(lambda t: t[index], x)


@given(data=st.data())
def test_getitem_integer_arrays_accumulate(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(arrays(shape), label="x")
    picks = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6), label="rows")
    check_gradients(lambda t: t[np.array(picks)], x)


@given(data=st.data())
def test_concatenate_and_stack(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    other = list(shape)
    other[axis] = data.draw(st.integers(1, 3), label="other length")
    x = data.draw(arrays(shape), label="x")
    y = data.draw(arrays(tuple(other)), label="y")
    check_gradients(lambda a, b: tg.concatenate([a, b, a], axis=axis), x, y)
    z = data.draw(arrays(shape), label="z")
    stack_axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="stack axis")
    check_gradients(lambda a, b: tg.stack([a, b], axis=stack_axis), x, z)


@given(data=st.data())
def test_log_softmax_and_softmax(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    x = data.draw(arrays(shape, low=-5, high=5), label="x")
    check_gradients(lambda t: t.log_softmax(axis=axis), x)
    check_gradients(lambda t: t.softmax(axis=axis), x)


@given(data=st.data())
def test_cross_entropy(data):
    n, c = data.draw(st.integers(1, 5), label="N"), data.draw(st.integers(1, 5), label="C")
    x = data.draw(arrays((n, c), low=-5, high=5), label="logits")
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), label="labels"))
    check_gradients(lambda t: t.cross_entropy(labels), x)


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
