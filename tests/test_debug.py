"""trace() and detect_anomaly()."""
import io

import numpy as np
import pytest

import tinygrad_np as tg


def test_trace_lists_ops_in_reverse_topological_order():
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    w = tg.Tensor(np.ones((3, 4)), requires_grad=True)
    h = (x @ w).tanh()
    loss = (h * h + h).sum()
    buffer = io.StringIO()
    with tg.trace(file=buffer) as t:
        loss.backward()
    ops = [s["op"] for s in t.steps]
    assert ops[0] == "sum" and ops[-1] == "matmul" and sorted(ops) == sorted(["sum", "add", "mul", "tanh", "matmul"])
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 5 and "matmul" in lines[-1] and "(2, 3) (3, 4) -> (2, 4)" in lines[-1]
    assert "|grad out|" in lines[0]


def test_trace_order_against_the_graph():
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    c = b * a
    d = c.log() + b
    with tg.trace(quiet=True) as t:
        d.sum().backward(retain_graph=True)
    index = {id(s["function"]): i for i, s in enumerate(t.steps)}
    for step in t.steps:
        for parent in step["function"].inputs:
            if parent.op is not None:
                assert index[id(parent.op)] > index[id(step["function"])], (parent.op, step["op"])


def test_trace_reports_gradient_norms():
    x = tg.Tensor([3.0, 4.0], requires_grad=True)
    with tg.trace(quiet=True) as t:
        (x * 2).sum().backward()
    mul = t.steps[1]
    assert mul["op"] == "mul" and mul["grad_norm"] == pytest.approx(np.sqrt(2))
    assert mul["input_grad_norms"][0] == pytest.approx(np.sqrt(8))


def test_anomaly_names_the_forward_op_and_the_line():
    x = tg.Tensor([1.0, -1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x * 2
        with pytest.raises(tg.AnomalyError, match=r"log \(forward.*produced nan from finite inputs.*test_debug.py:\d+"):
            y.log()


def test_anomaly_in_backward_names_the_op():
    x = tg.Tensor([0.0, 1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x.sqrt().sum()  # forward is finite; d sqrt(x)/dx at 0 is inf
        expected = r"sqrt \(backward\) produced inf from finite inputs.*test_debug.py:\d+"
        with pytest.raises(tg.AnomalyError, match=expected):
            y.backward()


def test_anomaly_mode_ends_with_the_block():
    with tg.detect_anomaly():
        pass
    with np.errstate(divide="ignore"):
        tg.Tensor([0.0]).log()  # no error outside the block


def test_trace_gives_one_norm_per_input_for_single_input_and_0_d_ops():
    """A single-input rule returns its gradient bare; trace once read that Tensor row by row, printing
    '|grad| 2, 2, 2' for a (3, 4) ones gradient where the norm is 3.464, and nothing for a 0-d one."""
    x = tg.Tensor(np.ones((3, 4)), requires_grad=True)
    s = tg.Tensor(np.array(2.0), requires_grad=True)
    buffer = io.StringIO()
    with tg.trace(file=buffer) as t:
        ((x * 1.0).exp().sum() + s.exp() * s).backward()
    by_op = {}
    for step in t.steps:
        by_op.setdefault(step["op"], []).append(step)
    assert [len(s["input_grad_norms"]) for s in t.steps] == [len(s["input_shapes"]) for s in t.steps]
    big_exp, small_exp = sorted(by_op["exp"], key=lambda s: s["output_shape"], reverse=True)
    assert big_exp["input_grad_norms"] == pytest.approx([np.e * np.sqrt(12)])  # one norm, of the whole (3, 4)
    assert small_exp["output_shape"] == () and small_exp["input_grad_norms"] == pytest.approx([2 * np.exp(2.0)])
    times_s = next(s for s in by_op["mul"] if s["output_shape"] == ())
    assert times_s["input_grad_norms"] == pytest.approx([2.0, np.exp(2.0)])  # two inputs, one norm each
    assert f"passes |grad| {np.e * np.sqrt(12):.4g}\n" in buffer.getvalue()


class InfInRowOne(tg.Function):
    """A rule that hands back a gradient made outside any op, with inf in its second row."""

    def forward(self, x):
        return x.copy()

    def backward(self, dz, z, x):
        return tg.Tensor(np.array([[0.0], [np.inf]]))


def test_detect_anomaly_names_input_0_of_a_single_input_op_whatever_row_holds_the_inf():
    """detect_anomaly once read a single-input rule's gradient row by row, and named the row as the input."""
    x = tg.Tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    with pytest.raises(tg.AnomalyError, match=r"inf_in_row_one \(backward\) produced inf in the gradient for its "
                                              r"input 0 \(shape \(2, 1\)\)"):
        with tg.detect_anomaly():
            InfInRowOne.apply(x).sum().backward()
