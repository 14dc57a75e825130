"""Bad input gets an error that names the op and the values involved."""
import numpy as np
import pytest

import tinygrad_np as tg


def test_matmul_shape_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: \(128, 784\) @ \(100, 10\): inner dimensions 784 and 100 differ"):
        tg.zeros(128, 784) @ tg.zeros(100, 10)


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
    with pytest.raises(ValueError, match="sum: .*axis 2 is out of bounds"):
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
