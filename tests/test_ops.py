"""Every row of the op table (tests/op_table.py) through the same four tests."""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import FUSED, OPS

import tinygrad_np as tg
from tinygrad_np.testing import check_gradients

NAMES = [op.name for op in OPS]
BY_NAME = {op.name: op for op in OPS}
AXIS_OPS = [op.name for op in OPS if op.axis_param]



def examples(n):
    """n hypothesis examples a row, or a quarter of them in the fast loop (tests/conftest.py)."""
    return max(1, n // 4) if os.environ.get("TINYGRAD_NP_FAST_LOOP") else n

def run(op, arrays, params, dtype, requires_grad=False):
    tensors = [tg.Tensor(a.astype(dtype), requires_grad=requires_grad) for a in arrays]
    return tensors, op.ours(*tensors, **params)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(40))
@given(data=st.data())
def test_forward_matches_numpy(name, data):
    op = BY_NAME[name]
    case = data.draw(op.inputs, label="case")
    _, out = run(op, case.arrays, case.params, np.float64)
    expected = np.asarray(op.numpy(*case.arrays, **case.params))
    assert out.shape == expected.shape, f"{name}: shape {out.shape}, NumPy's {expected.shape}"
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12, err_msg=f"{name} on {case}")


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(15))
@given(data=st.data())
def test_float32_in_float32_out_and_gradients_float32(name, data):
    op = BY_NAME[name]
    case = data.draw(op.inputs, label="case")
    tensors, out = run(op, case.arrays, case.params, np.float32, requires_grad=True)
    assert out.dtype == np.float32, f"{name}: float32 in gave {out.dtype} out"
    expected = np.asarray(op.numpy(*case.arrays, **case.params))
    np.testing.assert_allclose(out.data, expected, rtol=2e-4, atol=2e-5, err_msg=f"{name} on {case}")
    if out.requires_grad:
        out.backward(np.ones(out.shape, np.float32))
        for i, t in enumerate(tensors):
            if t.grad is not None:
                assert t.grad.dtype == np.float32, f"{name}: input {i}'s gradient is {t.grad.dtype}"
                assert t.grad.shape == t.shape


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(25))
@given(data=st.data())
def test_gradients_first_and_second_order(name, data):
    op = BY_NAME[name]
    case = data.draw(op.inputs, label="case")
    check_gradients(lambda *ts: op.ours(*ts, **case.params), *case.arrays, second_order=op.second_order)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(15))
@given(data=st.data())
def test_the_plain_and_the_recorded_pass_give_the_same_gradient(name, data):
    """An op's one rule runs on arrays in a plain backward and on Tensors in a recorded one (create_graph).
    gradcheck checks the first and gradgradcheck differentiates the second, so this holds them to each other:
    a rule whose two lanes drifted apart (CrossEntropy reads its saved softmax on arrays only) would fail."""
    op = BY_NAME[name]
    case = data.draw(op.inputs, label="case")
    tensors, out = run(op, case.arrays, case.params, np.float64, requires_grad=True)
    if not out.requires_grad:
        return
    v = np.random.default_rng(0).standard_normal(out.shape)
    plain = tg.grad(out, tensors, v, retain_graph=True, allow_unused=True)
    recorded = tg.grad(out, tensors, v, create_graph=True, allow_unused=True)
    for i, (a, t) in enumerate(zip(plain, recorded, strict=True)):
        assert (a is None) == (t is None), f"{name}: input {i} has a gradient in one lane only"
        if a is not None:
            np.testing.assert_allclose(a.data, t.data, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name}: input {i}, plain pass against recorded pass, on {case}")


@pytest.mark.parametrize("name", AXIS_OPS)
@settings(max_examples=examples(15))
@given(data=st.data())
def test_an_axis_counted_from_the_end_gives_the_same_result_and_gradient(name, data):
    op = BY_NAME[name]
    case = data.draw(op.inputs, label="case")
    axis = case.params[op.axis_param]
    if axis is None:
        return
    out_ndim = op.ours(*[tg.Tensor(a) for a in case.arrays], **case.params).ndim
    ndim = case.arrays[0].ndim + (1 if name == "stack" else 0)
    def flip(a):
        return a - ndim if a >= 0 else a + ndim

    other = tuple(map(flip, axis)) if isinstance(axis, tuple) else flip(axis)
    results = []
    for a in (axis, other):
        tensors, out = run(op, case.arrays, {**case.params, op.axis_param: a}, np.float64, requires_grad=True)
        assert out.ndim == out_ndim
        if out.requires_grad:
            out.backward(np.ones(out.shape))
        results.append((out.data, [t.grad.data if t.grad is not None else None for t in tensors]))
    (out_a, grads_a), (out_b, grads_b) = results
    np.testing.assert_array_equal(out_a, out_b)
    for ga, gb in zip(grads_a, grads_b, strict=True):
        np.testing.assert_array_equal(ga, gb)


@settings(max_examples=examples(1))
@given(data=st.data())
def test_the_table_covers_every_primitive(data):
    """Each Function in tinygrad_np.ops is run by at least one row: in forward, or inside another op's rule
    (Fold and ScatterAdd are Unfold's and GetItem's derivatives). Rules run on Tensors here, with recording
    on, so the ops they call go through apply and are seen; the second backward runs those ops' own rules."""
    import tinygrad_np.ops as ops
    from tinygrad_np.core import engine_hooks as hooks

    seen = set()

    def record(fn, inputs, params):
        seen.add(type(fn).__name__)
        yield

    hooks.add("forward", record)
    try:
        for op in OPS:
            case = data.draw(op.inputs, label=op.name)
            tensors = [tg.Tensor(a, requires_grad=True) for a in case.arrays]
            out = op.ours(*tensors, **case.params)
            if out.requires_grad:
                grads = [g for g in tg.grad(out, tensors, np.ones(out.shape), create_graph=True, allow_unused=True)
                         if g is not None and g.requires_grad]
                if grads:
                    sum(g.sum() for g in grads).backward()
    finally:
        hooks.remove("forward", record)
    missing = set(ops.__all__) - seen
    assert not missing, f"no row of the op table runs {sorted(missing)}"


@pytest.mark.parametrize("row", FUSED, ids=[f.name for f in FUSED])
@settings(max_examples=examples(15))
@given(data=st.data())
def test_a_fused_op_equals_its_composition(row, data):
    """Value, gradient and second derivative (the gradient of v . grad, in float64) of each fused op against
    the chain of primitives it stands for."""
    case = data.draw(row.inputs, label="case")
    rng = np.random.default_rng(0)
    results = []
    for f in (row.fused, row.composed):
        tensors = [tg.Tensor(a.astype(np.float64), requires_grad=True) for a in case.arrays]
        out = f(*tensors, **case.params)
        v = tg.Tensor(rng.standard_normal(out.shape))
        grads = tg.grad(out, tensors, v, create_graph=True)
        w = [rng.standard_normal(t.shape) for t in tensors]
        second = tg.grad(sum((g * wi).sum() for g, wi in zip(grads, w, strict=True)), tensors, allow_unused=True)
        results.append((out.data, [g.data for g in grads], [None if s is None else s.data for s in second]))
        rng = np.random.default_rng(0)  # the same v and w for the composition
    (value, grads, second), (value_c, grads_c, second_c) = results
    np.testing.assert_allclose(value, value_c, rtol=1e-9, atol=1e-12, err_msg=f"{row.name}: value, on {case}")
    for i, (g, gc) in enumerate(zip(grads, grads_c, strict=True)):
        np.testing.assert_allclose(g, gc, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{row.name}: gradient of input {i}, on {case}")
    for i, (s2, sc) in enumerate(zip(second, second_c, strict=True)):
        s2 = np.zeros_like(case.arrays[i]) if s2 is None else s2
        sc = np.zeros_like(case.arrays[i]) if sc is None else sc
        np.testing.assert_allclose(s2, sc, rtol=1e-7, atol=1e-10,
                                   err_msg=f"{row.name}: second derivative, input {i}, on {case}")


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(8), deadline=None)
@given(data=st.data())
def test_a_jit_replay_of_forward_and_backward_equals_eager(name, data):
    """Every row through tg.jit: the first two calls trace, the third replays the op's forward and its rule on
    arrays; output and gradients must be eager's, bit for bit, on each call's own values."""
    op = BY_NAME[name]
    case = data.draw(op.inputs, label="case")

    def f(*tensors):
        out = op.ours(*tensors, **case.params)
        if out.requires_grad:
            (out * tg.Tensor(np.random.default_rng(0).standard_normal(out.shape))).sum().backward()
        return out

    jitted = tg.jit(f)
    for k in range(4):
        arrays = [a * (1 + 1e-3 * k) for a in case.arrays]  # each call its own values, same signs
        eager_inputs = [tg.Tensor(a, requires_grad=True) for a in arrays]
        jit_inputs = [tg.Tensor(a, requires_grad=True) for a in arrays]
        expected, got = f(*eager_inputs), jitted(*jit_inputs)
        np.testing.assert_array_equal(got.data, expected.data, err_msg=f"{name}: call {k + 1}'s output on {case}")
        for i, (e, g) in enumerate(zip(eager_inputs, jit_inputs, strict=True)):
            assert (e.grad is None) == (g.grad is None), f"{name}: input {i} has a gradient only one way"
            if e.grad is not None:
                np.testing.assert_array_equal(g.grad.data, e.grad.data,
                                              err_msg=f"{name}: call {k + 1}, input {i}'s gradient on {case}")
    assert jitted.traces == 2
