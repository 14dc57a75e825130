"""A backward pass that fails part-way changes no .grad and says truly what happened; custom
Functions that break the contract are named."""
import numpy as np
import pytest

import tinygrad_np as tg


def leaf(values):
    return tg.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


class FailingIdentity(tg.Function):
    """z = x, whose backward raises: a stand-in for a user's buggy rule."""

    def forward(self, x):
        return x.copy()

    def backward(self, dz, z, x):
        raise ValueError("my rule is broken")


def graph_with_a_failing_rule():
    """loss = sum(FailingIdentity(b) * 3) + sum(a * 2): a's ops are newer, so backward reaches a (and
    has its gradient) before it reaches the failing rule."""
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    loss = (FailingIdentity.apply(b) * 3).sum() + (a * 2).sum()
    return a, b, loss


def test_a_rule_that_raises_changes_no_grad():
    a, b, loss = graph_with_a_failing_rule()
    a.grad = tg.Tensor(np.array([10.0, 10.0]))
    with pytest.raises(ValueError, match="my rule is broken"):
        loss.backward()
    assert a.grad.data.tolist() == [10.0, 10.0], "a's gradient was updated although backward failed"
    assert b.grad is None


def test_a_retry_after_a_failure_says_what_really_happened():
    a, b, loss = graph_with_a_failing_rule()
    with pytest.raises(ValueError):
        loss.backward()
    with pytest.raises(RuntimeError, match="an earlier backward\\(\\) stopped part-way with ValueError") as info:
        loss.backward()
    assert "no .grad was changed" in str(info.value)


def test_a_retry_with_retain_graph_meets_the_same_error_again():
    a, b, loss = graph_with_a_failing_rule()
    for _ in range(2):
        with pytest.raises(ValueError, match="my rule is broken"):
            loss.backward(retain_graph=True)
    assert a.grad is None


def test_a_second_backward_without_retain_graph_says_it_already_ran():
    x = leaf([1.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"sum can't be differentiated again: backward\(\) has already run"):
        y.backward()


class ReturnsArrays(tg.Function):
    def forward(self, x):
        return x * 2

    def backward(self, dz, z, x):
        return np.asarray(dz) * 2  # an ndarray even when dz is a Tensor


class ReturnsTooFew(tg.Function):
    def forward(self, x, y):
        return x * y

    def backward(self, dz, z, x, y):
        return (dz * y,)  # forgot x's


def test_a_rule_returning_arrays_on_a_recorded_pass_is_a_type_error_naming_the_op():
    """On a plain pass arrays are what a rule is given and returns; on a recorded one an array would be a
    first derivative that create_graph cannot differentiate again: refused, not silently wrong."""
    x = leaf([1.0])
    ReturnsArrays.apply(x).sum().backward()
    assert x.grad.data.tolist() == [2.0]
    with pytest.raises(TypeError, match=r"returns_arrays.backward returned a ndarray for input 0 on a recorded "
                                        r"pass, where it is given Tensors"):
        tg.grad(ReturnsArrays.apply(x).sum(), [x], create_graph=True)


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "recorded"])
def test_a_rule_returning_too_few_gradients_is_refused_not_truncated(create_graph):
    x, y = leaf([1.0]), leaf([2.0])
    with pytest.raises(TypeError, match=r"returns_too_few.backward returned 1 gradients for 2 inputs"):
        ReturnsTooFew.apply(x, y).sum().backward(create_graph=create_graph)
    assert x.grad is None and y.grad is None  # all or nothing


def test_a_rule_in_the_old_one_argument_form_is_refused_when_its_class_is_made():
    with pytest.raises(TypeError, match=r"OldForm.backward takes \(dz\); a rule takes \(dz, z, \*inputs\)"):
        class OldForm(tg.Function):
            def forward(self, x):
                return x

            def backward(self, dz):
                return dz


def test_a_grad_of_the_wrong_shape_is_refused_on_assignment():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match=r"assigned a gradient of shape \(1,\) to a tensor of shape \(2,\)"):
        x.grad = tg.Tensor(np.array([5.0]))
    with pytest.raises(TypeError, match="assign a Tensor or None, got ndarray"):
        x.grad = np.ones(2)
    x.grad = tg.Tensor(np.ones(2))  # the right shape is fine
    (x * 1).sum().backward()
    assert x.grad.data.tolist() == [2.0, 2.0]


class AddsAFloat64Constant(tg.Function):
    def forward(self, x):
        return x * np.float64(2.0)  # NumPy 2 promotes float32 * float64 scalar to float64

    def backward(self, dz, z, x):
        return dz * 2.0


def test_a_float64_scalar_inside_a_forward_keeps_float32_float32():
    x = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    y = AddsAFloat64Constant.apply(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_cast_still_changes_the_dtype():
    x = tg.Tensor(np.ones(2, np.float32), requires_grad=True)
    assert x.astype(np.float64).dtype == np.float64
