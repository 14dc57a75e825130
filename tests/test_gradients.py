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
    "x ** 0.5": (lambda x: x ** 0.5, positive),
    "2 ** x": (lambda x: 2 ** x, arrays),
    "2 * x": (lambda x: 2 * x, arrays),
    "x / 4": (lambda x: x / 4, arrays),
    "1 / x": (lambda x: 1 / x, away_from_zero),
    "3 - x": (lambda x: 3 - x, arrays),
    "x + 1": (lambda x: x + 1, arrays),
}

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
    x = data.draw(arrays(shape), label="x")
    check_gradients(lambda t: t.transpose(*perm), x)
    check_gradients(lambda t: t.T, x)


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
