"""PyTorch's spellings on a Tensor: accepted where they cost our NumPy names nothing, else an error naming ours;
and the factories a PyTorch user reaches for."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np.pytorch_spellings import OURS


def test_size_is_numpys_count_and_pytorchs_method_at_once():
    x = tg.Tensor(np.ones((2, 3, 4)))
    assert x.size == 24 and x.size + 1 == 25  # NumPy: the number of elements, an int
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size(dim=1) == 3  # x.size(0) was "'int' object is not callable"
    assert x.size() == (2, 3, 4)
    with pytest.raises(ValueError, match="size: axis 3 is out of range for a tensor of 3 dimensions"):
        x.size(3)


def test_numel_dim_t_pow_clamp_float_double_maximum_minimum_are_accepted():
    x = tg.Tensor(np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]), requires_grad=True)
    assert x.numel() == 6 and x.dim() == 2
    assert x.t().shape == (3, 2) and tg.Tensor(np.ones(3)).t().shape == (3,)
    with pytest.raises(ValueError, match=r"t: expects a tensor of at most 2 dimensions, got shape \(2, 2, 2\)"):
        tg.Tensor(np.ones((2, 2, 2))).t()
    np.testing.assert_array_equal(x.pow(2).data, x.data ** 2)
    np.testing.assert_array_equal(x.clamp(0, 2).data, np.clip(x.data, 0, 2))
    np.testing.assert_array_equal(x.clamp(min=0).data, np.clip(x.data, 0, None))
    assert x.float().dtype == np.float32 and x.float().double().dtype == np.float64
    np.testing.assert_array_equal(x.maximum(0.0).data, np.maximum(x.data, 0))
    np.testing.assert_array_equal(x.minimum(tg.Tensor(np.zeros(3))).data, np.minimum(x.data, 0))
    (x.pow(3).sum() + x.clamp(-1, 1).sum()).backward()  # they are differentiable, as their compositions
    np.testing.assert_allclose(x.grad.data, 3 * x.data ** 2 + ((x.data >= -1) & (x.data <= 1)))


@pytest.mark.parametrize("name", sorted(OURS))
def test_a_pytorch_spelling_we_do_not_accept_names_ours(name):
    with pytest.raises(AttributeError, match=rf"Tensor has no {name} \(PyTorch's name\); use "):
        getattr(tg.Tensor(np.ones(2)), name)


def test_an_unknown_attribute_is_the_usual_error():
    with pytest.raises(AttributeError, match=r"'Tensor' object has no attribute 'nonsense'"):
        getattr(tg.Tensor(np.ones(2)), "nonsense")  # noqa: B009  (the attribute access is the test)


def test_factories_a_pytorch_user_reaches_for():
    assert tg.arange(4).data.tolist() == [0, 1, 2, 3] and tg.arange(4).dtype == np.int64
    assert tg.arange(1, 2, 0.25).data.tolist() == [1.0, 1.25, 1.5, 1.75] and tg.arange(0.0, 1.0).dtype == np.float32
    assert tg.eye(3).data.tolist() == np.eye(3).tolist() and tg.eye(2, 3).shape == (2, 3)
    assert tg.full((2, 2), 7.0).data.tolist() == [[7.0, 7.0], [7.0, 7.0]] and tg.full(3, 1.0).shape == (3,)
    x = tg.Tensor(np.ones((2, 3), np.float64))
    for made, value in ((tg.zeros_like(x), 0.0), (tg.ones_like(x), 1.0), (tg.full_like(x, 2.5), 2.5)):
        assert made.shape == (2, 3) and made.dtype == np.float64 and (made.data == value).all()
    assert tg.zeros_like(x, requires_grad=True).requires_grad
    assert tg.zeros_like(np.ones(2, np.int32)).dtype == np.int32  # an array stands for its tensor
    with pytest.raises(TypeError, match="zeros_like: expects a Tensor or an array, got list"):
        tg.zeros_like([1.0, 2.0])
