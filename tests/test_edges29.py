"""Issue 29's behaviour differences at the edges of the reductions and elementwise ops, each answered as PyTorch
2.13 answers it (the expected values were checked against torch when written; CI has no torch)."""
import warnings

import numpy as np
import pytest

import tinygrad_np as tg


def f32(values):
    return tg.Tensor(np.array(values, np.float32))


def test_var_with_ddof_at_least_n_is_inf_or_nan_as_pytorch_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f32([1.0, 2.0, 3.0]).var(ddof=3).item() == np.inf  # it was NaN
        assert np.isnan(f32([2.0, 2.0]).var(ddof=2).item())  # 0 / 0


def test_an_int_to_a_float_power_is_float32_as_pytorch():
    x = tg.Tensor(np.array([2, 3], np.int32), dtype=np.int32)
    assert (x ** 2.5).dtype == np.float32 and (x ** 0.5).dtype == np.float32  # it was float64
    np.testing.assert_allclose((x ** 2.5).numpy(), [5.656854, 15.588457], rtol=1e-6)


def test_a_0d_tensor_takes_axis_0_and_minus_1_in_softmax_logsumexp_and_the_reductions():
    s = tg.Tensor(np.float32(2.0))
    for axis in (0, -1):
        assert s.softmax(axis).item() == 1.0 and s.logsumexp(axis).item() == 2.0
        assert s.log_softmax(axis).item() == 0.0 and s.sum(axis).item() == 2.0 and s.max(axis).item() == 2.0
        assert s.cumsum(axis).item() == 2.0 and s.prod(axis).item() == 2.0
    with pytest.raises(IndexError):
        s.softmax(1)


def test_hardswish_hardtanh_and_relu6_gradients_at_their_edges_are_pytorchs():
    x = tg.Tensor(np.array([-3.0, 3.0], np.float32), requires_grad=True)
    (g,) = tg.grad(x.hardswish().sum(), [x])
    assert g.numpy().tolist() == [0.0, 1.0]  # it was -0.5 and 1.5
    y = tg.Tensor(np.array([-1.0, 1.0, 0.0], np.float32), requires_grad=True)
    (g,) = tg.grad(y.hardtanh().sum(), [y])
    assert g.numpy().tolist() == [0.0, 0.0, 1.0]


def test_errors_derive_from_numpys_and_pytorchs_classes():
    x = f32([[1.0, 2.0]])
    with pytest.raises(IndexError):  # PyTorch's
        x.sum(axis=2)
    with pytest.raises(ValueError):  # NumPy's, and what tinygrad_np raised before
        x.sum(axis=2)
    with pytest.raises(RuntimeError):  # PyTorch's, for shapes that do not fit
        x @ f32([[1.0, 2.0]])
    with pytest.raises(RuntimeError):
        x.reshape(3)


def test_inf_and_nan_where_pytorch_has_them_come_without_numpys_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = f32([0.0, -1.0, np.inf])
        assert x.log().numpy()[0] == -np.inf and np.isnan(x.log().numpy()[1])
        assert np.isnan(x.sqrt().numpy()[1]) and np.isnan(x.sin().numpy()[2])
        assert np.isnan((x / x).numpy()[0]) and (f32([1.0]) / f32([0.0])).item() == np.inf
        assert np.isnan(f32([np.inf, -np.inf]).sum().item())
