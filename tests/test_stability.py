"""log_softmax, cross_entropy and sigmoid stay finite at ±1e4 (RuntimeWarnings are errors in this suite)."""
import numpy as np
import pytest

import tinygrad_np as tg

BIG = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, 1e4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_and_softmax_at_extremes(dtype):
    for fn in (lambda t: t.log_softmax(), lambda t: t.softmax()):
        x = tg.Tensor(BIG.astype(dtype), requires_grad=True)
        y = fn(x)
        y.backward(np.ones_like(BIG, dtype=dtype))
        assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(tg.Tensor(BIG.astype(dtype)).log_softmax().data[0], [0, -2e4, -1e4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_at_extremes(dtype):
    x = tg.Tensor(BIG.astype(dtype), requires_grad=True)
    loss = x.cross_entropy(np.array([1, 2, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(loss.item(), (2e4 + 0 + np.log(3)) / 3, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_at_extremes(dtype):
    x = tg.Tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype), requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(y.data[[0, 2, 4]], [0.0, 0.5, 1.0])
    assert y.dtype == dtype
