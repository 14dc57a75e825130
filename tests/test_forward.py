"""Forward values against NumPy, and dtype preservation: float32 in, float32 out."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.testing import arrays, broadcastable_shapes, shapes

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((4, 5))
P = np.abs(A) + 0.5

CASES = {
    # name: (tinygrad_np expression, NumPy expression, inputs)
    "add": (lambda a, b: a + b, lambda a, b: a + b, (A, A[0])),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, (A, A[:, :1])),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, (A, A)),
    "div": (lambda a, b: a / b, lambda a, b: a / b, (A, P)),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, (P, A)),
    "neg": (lambda a: -a, lambda a: -a, (A,)),
    "scalar ops": (lambda a: 2 * a - 1 / (a * a + 1) + 3 ** a, lambda a: 2 * a - 1 / (a * a + 1) + 3 ** a, (A,)),
    "exp": (lambda a: a.exp(), np.exp, (A,)),
    "log": (lambda a: a.log(), np.log, (P,)),
    "sqrt": (lambda a: a.sqrt(), np.sqrt, (P,)),
    "relu": (lambda a: a.relu(), lambda a: np.maximum(a, 0), (A,)),
    "tanh": (lambda a: a.tanh(), np.tanh, (A,)),
    "abs": (lambda a: abs(a), np.abs, (A,)),
    "min": (lambda a: a.min(axis=1, keepdims=True), lambda a: a.min(axis=1, keepdims=True), (A,)),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), (A,)),
    "sum": (lambda a: a.sum(axis=1), lambda a: a.sum(axis=1), (A,)),
    "mean": (lambda a: a.mean(axis=(0, 1), keepdims=True), lambda a: a.mean(axis=(0, 1), keepdims=True), (A,)),
    "max": (lambda a: a.max(axis=0), lambda a: a.max(axis=0), (A,)),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, (A, B)),
    "reshape": (lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6), (A,)),
    "transpose": (lambda a: a.transpose(1, 0), lambda a: a.transpose(1, 0), (A,)),
    "T": (lambda a: a.T, lambda a: a.T, (A,)),
    "flatten": (lambda a: a.flatten(), lambda a: a.flatten(), (A,)),
    "getitem": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], (A,)),
    "getitem array": (lambda a: a[np.array([2, 0, 2])], lambda a: a[np.array([2, 0, 2])], (A,)),
    "concatenate": (lambda a, b: tg.concatenate([a, b.T], axis=0), lambda a, b: np.concatenate([a, b.T]), (A, B)),
    "stack": (lambda a: tg.stack([a, a], axis=1), lambda a: np.stack([a, a], axis=1), (A,)),
    "log_softmax": (
        lambda a: a.log_softmax(axis=0),
        lambda a: a - np.log(np.exp(a).sum(axis=0, keepdims=True)),
        (A,),
    ),
    "softmax": (lambda a: a.softmax(), lambda a: np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True), (A,)),
    "cross_entropy": (
        lambda a: a.cross_entropy(np.array([0, 3, 1])),
        lambda a: -np.mean((a - np.log(np.exp(a).sum(1, keepdims=True)))[[0, 1, 2], [0, 3, 1]]),
        (A,),
    ),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy_and_keeps_dtype(name, dtype):
    ours, reference, inputs = CASES[name]
    inputs = [x.astype(dtype) for x in inputs]
    out = ours(*[tg.Tensor(x, requires_grad=True) for x in inputs])
    expected = reference(*inputs)
    assert out.dtype == dtype, f"{name}: {np.dtype(dtype).name} in gave {out.dtype} out"
    assert out.shape == np.shape(expected)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, expected, rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("name", CASES)
def test_float32_gradients_are_float32(name):
    ours, _, inputs = CASES[name]
    xs = [tg.Tensor(x.astype(np.float32), requires_grad=True) for x in inputs]
    ours(*xs).sum().backward()
    for i, x in enumerate(xs):
        assert x.grad is not None, f"{name}: input {i} got no gradient"
        assert x.grad.dtype == np.float32, f"{name}: input {i} gradient is {x.grad.dtype}"
        assert x.grad.shape == x.shape


@given(data=st.data())
def test_broadcast_forward_matches_numpy(data):
    x_shape, y_shape = data.draw(broadcastable_shapes(2))
    x, y = data.draw(arrays(x_shape)), data.draw(arrays(y_shape))
    out = tg.Tensor(x) * tg.Tensor(y) + tg.Tensor(y)
    np.testing.assert_allclose(out.data, x * y + y)


@given(x=arrays(shapes()))
def test_gradient_has_the_tensors_shape(x):
    t = tg.Tensor(x, requires_grad=True)
    (t * 2).sum().backward()
    assert t.grad.shape == t.shape


def test_mixed_float32_float64_gives_each_input_its_own_dtype_of_gradient():
    a = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = tg.Tensor(np.ones(3, np.float64), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_numpy_scalars_do_not_upcast():
    a = tg.Tensor(np.ones(3, np.float32))
    assert (a * np.float64(2.0)).dtype == np.float32
    assert (np.float64(2.0) * a).dtype == np.float32
    assert (a ** 2).dtype == np.float32
