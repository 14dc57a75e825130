"""The Tensor object itself: construction, attributes, factories."""
import numpy as np
import pytest

import tinygrad_np as tg


def test_construction_dtypes():
    # PyTorch's and NumPy's dtypes: Python ints int64, Python floats float32, arrays their own
    assert tg.Tensor([1, 2, 3]).dtype == np.int64
    assert tg.Tensor([1.5, 2.0]).dtype == np.float32
    assert tg.Tensor([1, 2.5]).dtype == np.float32
    assert tg.Tensor(3).dtype == np.int64
    assert tg.Tensor(3.0).dtype == np.float32
    assert tg.Tensor(True).dtype == np.bool_ and tg.Tensor([True, False]).dtype == np.bool_
    assert tg.Tensor(np.arange(3)).dtype == np.int64
    assert tg.Tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert tg.Tensor(np.arange(3, dtype=np.uint8)).dtype == np.uint8
    assert tg.Tensor(np.int16(3)).dtype == np.int16 and tg.Tensor(np.float64(3)).dtype == np.float64
    assert tg.Tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert tg.Tensor(np.zeros(2, np.float32)).dtype == np.float32
    assert tg.Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert tg.Tensor([1, 2], dtype=np.int64).dtype == np.int64


def test_float_ndarray_is_shared_not_copied():
    a = np.zeros(3, np.float32)
    t = tg.Tensor(a)
    a[0] = 5
    assert t.data[0] == 5


def test_attributes():
    t = tg.Tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.numpy() is t.data
    assert tg.Tensor(4.0).item() == 4.0
    with pytest.raises(ValueError, match="item"):
        t.item()


def test_grad_is_assignable_and_data_updatable_in_place():
    p = tg.Tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad.data  # the generic SGD step
    np.testing.assert_allclose(p.data, [0.0, 0.0])
    p.grad = None
    assert p.grad is None


def test_repr_shows_values_shape_dtype_and_op():
    x = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    r = repr(x @ tg.ones(2, 1))
    assert "3." in r and "shape=(1, 1)" in r and "float32" in r and "op=matmul" in r


def test_factories_are_seedable():
    a = tg.randn(2, 3, rng=np.random.default_rng(7))
    b = tg.randn((2, 3), rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    assert a.dtype == np.float32 and a.shape == (2, 3)
    u = tg.uniform(1000, low=-1, high=2, rng=3)
    assert u.data.min() >= -1 and u.data.max() < 2
    assert tg.zeros(2, 2).data.sum() == 0 and tg.ones(3).data.sum() == 3
    assert tg.randn(2, dtype=np.float64).dtype == np.float64
    assert tg.zeros(2, requires_grad=True).requires_grad


def test_detach_shares_data_and_stops_gradient():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.op is None
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])  # d treated as a constant


def test_retain_grad_on_a_non_leaf():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    m = x * 3
    (m * m).sum().backward()
    assert m.grad is None  # non-leaves keep no .grad unless asked


def test_cross_entropy_takes_labels_as_a_tensor_too():
    logits = tg.Tensor(np.array([[2.0, 0.5], [0.1, 1.0]]), requires_grad=True)
    from_array = logits.cross_entropy(np.array([0, 1])).item()
    from_tensor = logits.cross_entropy(tg.Tensor([0, 1], dtype=np.int64)).item()
    assert from_array == from_tensor


def test_numpy_conversion_and_float():
    t = tg.Tensor([[1.0, 2.0]])
    assert np.asarray(t) is t.data
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    copied = np.array(t, copy=True)
    copied[0, 0] = 9
    assert t.data[0, 0] == 1.0
    assert float(tg.Tensor(2.5)) == 2.5
