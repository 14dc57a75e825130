"""tg.checkpoint: gradients equal to the last bit to those without it, a quarter of the memory on a deep chain
or less, and loud refusals where recomputing would give something forward did not compute."""
import tracemalloc

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import func, nn
from tinygrad_np.nn import functional as F


def chain(W, depth, every):
    """The issue's chain, x = tanh(x @ W) with one W for every layer, checkpointed every ``every`` layers."""
    def layers(x, n):
        for _ in range(n):
            x = (x @ W).tanh()
        return x

    def run(x):
        for start in range(0, depth, every or depth):
            x = tg.checkpoint(layers, x, min(every, depth - start)) if every else layers(x, depth)
        return (x * x).sum()

    return run


def test_gradients_through_a_checkpointed_chain_are_bitwise_those_without():
    rng = np.random.default_rng(0)
    W = tg.Tensor(rng.standard_normal((16, 16)).astype(np.float32) / 4, requires_grad=True)
    x = tg.Tensor(rng.standard_normal((8, 16)).astype(np.float32), requires_grad=True)
    plain = tg.grad(chain(W, 30, None)(x), [x, W])
    for every in (1, 7, 10, 30):
        checkpointed = tg.grad(chain(W, 30, every)(x), [x, W])
        for a, b, name in zip(plain, checkpointed, ("x", "W"), strict=True):
            assert np.array_equal(a.data, b.data), f"d/d{name}, every {every}"


@pytest.mark.slow  # about 6 s: 200 layers, forward and backward, twice, under tracemalloc
def test_a_quarter_of_the_memory_on_the_issues_200_layer_chain():
    """200 layers of tanh(x @ W), one W of width 256, batch 64: checkpointed every 20 layers, the step's peak
    (tracemalloc, forward and backward) is at most a quarter of the plain step's. Measured: 27.2 MB and
    4.4 MB, 16%."""
    rng = np.random.default_rng(1)
    W = tg.Tensor(rng.standard_normal((256, 256)).astype(np.float32) / 16, requires_grad=True)
    x0 = rng.standard_normal((64, 256)).astype(np.float32)
    peaks, grads = {}, {}
    for every in (None, 20):
        x = tg.Tensor(x0, requires_grad=True)
        tracemalloc.start()
        try:
            grads[every] = tg.grad(chain(W, 200, every)(x), [x, W])
            peaks[every] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks[20] <= peaks[None] / 4, {k: v / 1e6 for k, v in peaks.items()}
    for a, b in zip(grads[None], grads[20], strict=True):
        assert np.array_equal(a.data, b.data)


def test_the_profiler_sees_nothing_kept_inside_a_checkpoint_and_the_recomputation_in_backward():
    rng = np.random.default_rng(2)
    W = tg.Tensor(rng.standard_normal((32, 32)).astype(np.float32), requires_grad=True)
    x = tg.Tensor(rng.standard_normal((4, 32)).astype(np.float32), requires_grad=True)
    kept = {}
    for every in (None, 5):
        with tg.profile() as prof:
            loss = chain(W, 10, every)(x)
            kept[every] = sum(e["saved_bytes"] for e in prof.events if e["phase"] == "forward")
            tg.grad(loss, [x, W])
        recomputed = [e for e in prof.events if e["phase"] == "forward" and e["start_us"] > min(
            b["start_us"] for b in prof.events if b["phase"] == "backward")]
        assert len(recomputed) == (20 if every else 0)  # 10 matmuls and 10 tanhs, run again in backward
    assert kept[5] < kept[None] / 3, kept  # what forward left for backward: the inputs of two segments


def test_a_module_s_parameters_closed_over_get_their_gradients_and_second_derivatives_flow():
    rng = np.random.default_rng(3)
    block = nn.Sequential(nn.Linear(6, 6, rng=rng), nn.Tanh(), nn.Linear(6, 6, rng=rng), nn.GELU())
    x = tg.Tensor(rng.standard_normal((5, 6)).astype(np.float64))
    for p in block.parameters():
        p.data = p.data.astype(np.float64)

    def loss(params, checkpointed):
        forward = lambda h: func.functional_call(block, params, (h,))  # noqa: E731
        h = tg.checkpoint(forward, x) if checkpointed else forward(x)
        return (h.sin() * h).sum()

    params = {name: p.data for name, p in block.named_parameters()}
    for transform in (func.grad, lambda f: func.grad(lambda p, c: (func.grad(f)(p, c)["0.weight"] ** 2).sum())):
        plain, checkpointed = transform(loss)(params, False), transform(loss)(params, True)
        for name in plain:
            np.testing.assert_allclose(checkpointed[name].data, plain[name].data, rtol=1e-12, atol=1e-15)


def test_several_outputs_and_keyword_arguments():
    rng = np.random.default_rng(4)
    a = tg.Tensor(rng.standard_normal(5), requires_grad=True)
    b = tg.Tensor(rng.standard_normal(5), requires_grad=True)
    f = lambda x, y, scale=1.0: ((x * y).exp() * scale, (x - y).tanh())  # noqa: E731
    expected = tg.grad(sum(o.sum() for o in f(a, b, scale=2.0)), [a, b])
    got = tg.grad(sum(o.sum() for o in tg.checkpoint(f, a, b, scale=2.0)), [a, b])
    for e, g in zip(expected, got, strict=True):
        assert np.array_equal(e.data, g.data)


def test_a_different_recomputation_is_refused_not_differentiated():
    x = tg.Tensor(np.ones((4, 8)), requires_grad=True)
    out = tg.checkpoint(lambda t: F.dropout(t, 0.5, training=True), x)  # a new mask when run again
    with pytest.raises(RuntimeError, match="checkpoint: running the function again gave a different output"):
        out.sum().backward()
    W = tg.Tensor(np.ones((3, 3)), requires_grad=True)
    h = tg.checkpoint(lambda t: (t @ W).tanh(), tg.Tensor(np.ones((2, 3)), requires_grad=True))
    W.data = W.data * 2  # changed in place after forward: the engine's own check refuses, naming the op
    with pytest.raises(RuntimeError, match="modified|changed"):
        h.sum().backward()


def test_where_checkpoint_does_not_apply_it_says_so_or_steps_aside():
    x = tg.Tensor(np.ones(3), requires_grad=True)
    with tg.no_grad():
        assert tg.checkpoint(lambda t: t * 2, x).requires_grad is False  # nothing to keep: a plain call
    with pytest.raises(tg.JitError, match="tg.checkpoint inside a jitted function"):
        tg.jit(lambda t: tg.checkpoint(lambda u: u * 2, t))(np.ones(3))
    with pytest.raises(RuntimeError, match="checkpoint: inside func.vmap"):
        func.vmap(lambda t: tg.checkpoint(lambda u: u * 2, t))(np.ones((2, 3)))
    with pytest.raises(TypeError, match="checkpoint: the function must return a Tensor"):
        tg.checkpoint(lambda t: 3.0, x)


def test_a_checkpointed_graph_that_is_never_differentiated_leaves_no_hook_behind():
    """The refill hook lives in the engine's registry only as long as the output does: a registry left non-empty
    would cost every later backward pass a look-up per op, and make a jit trace refuse."""
    import gc

    from tinygrad_np.core.gradient_hooks import registry

    before = len(registry)
    x = tg.Tensor(np.ones(3), requires_grad=True)
    out = tg.checkpoint(lambda t: (t * 2).exp(), x)
    assert len(registry) == before + 1
    del out
    gc.collect()
    assert len(registry) == before
    failed = tg.checkpoint(lambda t: F.dropout(t, 0.5, training=True), tg.Tensor(np.ones((4, 4)), requires_grad=True))
    with pytest.raises(RuntimeError):
        failed.sum().backward()
    del failed
    gc.collect()
    assert len(registry) == before
