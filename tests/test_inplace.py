"""Changes made in place between forward and backward: refused loudly, never differentiated at the new value."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim


def leaf(values):
    return tg.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_optimizer_step_before_backward_is_refused_naming_the_op():
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    x = tg.Tensor(np.ones((1, 2)))
    loss = (x @ w).relu().sum()
    w.grad = tg.Tensor(np.ones((2, 2)))
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"matmul: input 1 \(shape \(2, 2\)\) was modified in place after"):
        loss.backward()


def test_data_assignment_is_refused():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    w.data = w.data * 2
    with pytest.raises(RuntimeError, match=r"mul: input 0 \(shape \(2,\)\) was modified in place"):
        loss.backward()


def test_in_place_update_through_data_is_refused():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    w.data -= 0.5  # Python reads .data, updates the array in place, assigns it back: the setter sees it
    with pytest.raises(RuntimeError, match=r"mul: input 0 \(shape \(2,\)\) was modified in place"):
        loss.backward()


def test_changes_before_the_forward_pass_or_after_backward_are_fine():
    w = leaf([1.0, 2.0])
    w.data -= 1.0  # before the graph exists: nothing to refuse
    loss = (w * w).sum()
    loss.backward()
    np.testing.assert_allclose(w.grad.data, [0.0, 2.0])
    opt = optim.SGD([w], lr=0.25)
    opt.step()  # after backward: the usual training step; w is now [0, 0.5]
    opt.zero_grad()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.data, [0.0, 1.0])


def test_an_op_that_saves_nothing_of_the_changed_input_is_still_refused():
    # We refuse whenever any input of a recorded op changed: simpler than PyTorch's
    # per-op saved tensors, and never silently wrong.
    a, b = leaf([1.0]), leaf([2.0])
    loss = (a + b).sum()
    b.data = np.array([5.0])
    with pytest.raises(RuntimeError, match=r"add: input 1 .* modified in place"):
        loss.backward()


def test_every_optimizer_bumps_the_version():
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps),
                 lambda ps: optim.AdamW(ps), lambda ps: optim.RMSprop(ps)):
        model = nn.Linear(3, 2, rng=0)
        out = model(tg.Tensor(np.ones((4, 3), np.float32))).sum()
        for p in model.parameters():
            p.grad = tg.Tensor(np.ones(p.shape, np.float32))
        make(model.parameters()).step()
        with pytest.raises(RuntimeError, match="modified in place"):
            out.backward()


def test_load_state_dict_bumps_the_version():
    model = nn.Linear(2, 2, rng=0)
    out = model(tg.Tensor(np.ones((1, 2), np.float32))).sum()
    model.load_state_dict(nn.Linear(2, 2, rng=1).state_dict())
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


def test_index_array_changed_after_forward_does_not_change_the_gradient():
    x = leaf([10.0, 20.0, 30.0])
    index = np.array([0, 0, 1])
    y = x[index].sum()
    index[:] = 2
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 1.0, 0.0])


def test_index_list_and_tensor_index_are_kept_by_value_too():
    x = leaf([10.0, 20.0, 30.0])
    index = tg.Tensor(np.array([2, 2]), dtype=np.int64)
    y = x[index].sum()
    index.numpy()[:] = 0
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 2.0])


def test_labels_changed_after_forward_do_not_change_the_gradient():
    logits = leaf(np.zeros((2, 3)))
    labels = np.array([0, 1])
    loss = logits.cross_entropy(labels)
    labels[:] = 2  # e.g. the caller reusing its label buffer for the next batch
    loss.backward()
    expected = np.full((2, 3), 1 / 3) - np.eye(3)[[0, 1]]
    np.testing.assert_allclose(logits.grad.data, expected / 2)


def test_a_refused_backward_changes_no_grad():
    a, b = leaf([1.0]), leaf([2.0])
    a.grad = tg.Tensor(np.array([7.0]))
    loss = (a * 3).sum() + (b * b).sum()
    b.data = np.array([4.0])
    with pytest.raises(RuntimeError):
        loss.backward()
    assert a.grad.data.tolist() == [7.0] and b.grad is None
