"""Bad input gets an error that names the op and the values involved."""
import re

import numpy as np
import pytest

import tinygrad_np as tg


def test_matmul_shape_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: \(128, 784\) @ \(100, 10\): inner dimensions 784 and 100 differ"):
        tg.zeros(128, 784) @ tg.zeros(100, 10)


@pytest.mark.parametrize("left, right, why", [
    ((), (3,), "operands must have at least one dimension"),
    ((3,), (4,), "inner dimensions 3 and 4 differ"),
    ((2, 3, 4), (5, 2), "inner dimensions 4 and 5 differ"),
    ((2, 3, 4), (5, 4, 2), r"the batch axes \(2,\) and \(5,\) do not broadcast"),
])
def test_every_matmul_mismatch_says_why_in_the_shapes_terms(left, right, why):
    with pytest.raises(ValueError, match=rf"matmul: {re.escape(str(left))} @ {re.escape(str(right))}: {why}"):
        tg.zeros(*left) @ tg.zeros(*right)


def test_broadcast_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        tg.zeros(2, 3) + tg.zeros(4)
    with pytest.raises(ValueError, match=r"mul: shapes \(5,\) and \(2, 3\)"):
        tg.zeros(5) * tg.zeros(2, 3)


def test_reshape_and_index_errors_name_the_op():
    with pytest.raises(ValueError, match=r"reshape: shape \(2, 3\)"):
        tg.zeros(2, 3).reshape(4)
    with pytest.raises(IndexError, match="getitem"):
        tg.zeros(2, 3)[5]
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for a tensor of 2 dimensions"):
        tg.zeros(2, 3).sum(axis=2)


def test_stack_and_concatenate_shape_errors():
    with pytest.raises(ValueError, match=r"stack: tensor 0 has shape \(2,\) but tensor 1 has shape \(3,\)"):
        tg.stack([tg.zeros(2), tg.zeros(3)])
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 3\) and \(2, 4\)"):
        tg.concatenate([tg.zeros(2, 3), tg.zeros(2, 4)], axis=0)


def test_requires_grad_on_integer_data():
    with pytest.raises(TypeError, match="requires_grad=True needs floating-point data, got dtype int64"):
        tg.Tensor(np.arange(3), dtype=np.int64, requires_grad=True)


def test_backward_on_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (tg.Tensor([1.0]) * 2).sum().backward()


def test_non_scalar_backward_without_grad():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for a scalar output; this one has shape \(2,\)"):
        (x * 2).backward()


def test_backward_grad_of_wrong_shape():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the tensor has shape \(2,\)"):
        (x * 2).backward(np.ones(3))


@pytest.mark.parametrize("labels, message", [
    ([0, 3], r"label 3 is out of range for 3 classes \(0..2\)"),
    ([-1, 0], r"label -1 is out of range for 3 classes"),
    ([0.0, 1.0], "labels must be integers, got dtype float64"),
    ([0, 1, 2], r"logits \(2, 3\) need labels of shape \(2,\), got \(3,\)"),
])
def test_cross_entropy_bad_labels(labels, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tg.zeros(2, 3).cross_entropy(np.array(labels))


def test_cross_entropy_needs_2d_logits():
    with pytest.raises(ValueError, match=r"cross_entropy: logits must be \(N, C\), got shape \(3,\)"):
        tg.zeros(3).cross_entropy(np.array([0]))


@pytest.mark.parametrize("data, error, message", [
    (None, TypeError, "Tensor: cannot make a tensor from NoneType"),
    ("3.5", TypeError, "Tensor: cannot make a tensor from str '3.5'"),
    (b"3", TypeError, "Tensor: cannot make a tensor from bytes"),
    ([1, None, 3], TypeError, "Tensor: cannot make a tensor from a list of dtype object"),
    ([[1, 2], [3]], ValueError, "Tensor: cannot make a tensor from this list"),
    (np.array([1, "a"], dtype=object), TypeError, "Tensor: cannot make a tensor from a ndarray of dtype object"),
    (np.array([1 + 2j]), TypeError, "Tensor: cannot make a tensor from a ndarray of complex numbers"),
    (3 + 1j, TypeError, "Tensor: cannot make a tensor from a complex of complex numbers"),
    (["1", "2"], TypeError, "Tensor: cannot make a tensor from a list of dtype <U1"),
])
def test_tensor_refuses_what_is_not_numbers(data, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        tg.Tensor(data)


def test_tensor_still_takes_numbers_lists_and_bools():
    assert tg.Tensor([1, 2]).dtype == np.int64
    assert tg.Tensor(3).dtype == np.int64
    assert tg.Tensor([1.0, 2]).dtype == np.float32
    assert tg.Tensor(np.array([True, False])).data.tolist() == [True, False]
    assert tg.Tensor([1.5], dtype=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match="dtype must be a real numeric dtype, got complex128"):
        tg.Tensor([1.0], dtype=np.complex128)


@pytest.mark.parametrize("call, error, message", [
    (lambda: tg.zeros(2.7), TypeError, "zeros: each size in a shape must be an integer, got float 2.7"),  # type: ignore[arg-type]
    (lambda: tg.ones("3"), TypeError, "ones: each size in a shape must be an integer, got str '3'"),  # type: ignore[arg-type]
    (lambda: tg.randn(2, 1.5), TypeError, "randn: each size in a shape must be an integer, got float 1.5"),  # type: ignore[arg-type]
    (lambda: tg.zeros(2, 3).reshape(2.5, 2), TypeError, "reshape: each size in a shape must be an integer"),  # type: ignore[arg-type]
    (lambda: tg.zeros(2, 3).sum(axis=1.0), TypeError, "sum: axis must be an integer, got float 1.0"),  # type: ignore[arg-type]
    (lambda: tg.zeros(2, 3).max(axis=(0, 0)), ValueError, r"max: axis \(0, 0\) names the same axis twice"),
    (lambda: tg.zeros(2, 3).mean(axis=-3), ValueError, "mean: axis -3 is out of range for a tensor of 2"),
    (lambda: tg.zeros(2, 3).min(axis=2), ValueError, "min: axis 2 is out of range"),
    (lambda: tg.zeros(2, 3).swapaxes(0, 5), ValueError, "swapaxes: axis 5 is out of range for a tensor of 2"),
    (lambda: tg.zeros(2, 3).transpose(0, 0), ValueError, r"transpose: axes \(0, 0\) is not a permutation"),
    (lambda: tg.zeros(2, 3).transpose(0), ValueError, r"transpose: axes \(0,\) must name each of the tensor's 2"),
    (lambda: tg.zeros(2, 3).transpose(0, 2), ValueError, "transpose: axes entry 2 is out of range"),
    (lambda: tg.stack([tg.zeros(2), tg.zeros(2)], axis=5), ValueError, "stack: axis 5 is out of range for a "
                                                                        "tensor of 2 dimensions"),
    (lambda: tg.stack([tg.zeros(2)], axis=-3), ValueError, "stack: axis -3 is out of range"),
    (lambda: tg.concatenate([tg.zeros(2), tg.zeros(2)], axis=1), ValueError, "concatenate: axis 1 is out of range"),
    (lambda: tg.zeros(2, 3).log_softmax(axis=2), ValueError, "log_softmax: axis 2 is out of range"),
    (lambda: tg.zeros(2, 3).softmax(axis=-4), ValueError, "softmax: axis -4 is out of range"),
])
def test_bad_shape_and_axis_arguments_name_the_op_and_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_mean_over_an_empty_axis_is_nan_as_in_numpy():
    x = tg.Tensor(np.zeros((0, 3)), requires_grad=True)
    m = x.mean(axis=0)
    assert m.shape == (3,) and np.isnan(m.data).all()
    m.sum().backward()
    assert x.grad.shape == (0, 3)
    assert np.isnan(tg.zeros(0).mean().item())


def test_cross_entropy_of_an_empty_batch_is_nan_with_an_empty_gradient_as_in_pytorch():
    x = tg.Tensor(np.zeros((0, 3), np.float32), requires_grad=True)
    with np.errstate(invalid="ignore"):  # 0 / 0, as NumPy's mean of nothing
        loss = x.cross_entropy(np.zeros(0, np.int64))
    assert np.isnan(loss.item())
    loss.backward()
    assert x.grad.shape == (0, 3) and x.grad.dtype == np.float32
