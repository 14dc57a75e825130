"""A replay's memory (issue 31): each array let go at its last use, the conv's window matrix kept from replay to
replay without ever being handed out, thread scratch arrays, and NumPy's BLAS threads (tg.set_num_threads)."""
import threading
import tracemalloc

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import memory, nn, optim, threads
from tinygrad_np.jit.program import released_at_last_use


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        return (x + self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))).relu()


def residual_cnn(seed):
    """benchmarks/models.py's residual CNN, smaller: stem, a residual block, a strided conv, pools, a head."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), Block(4),
                         nn.Conv2d(4, 8, 3, stride=2, padding=1, rng=rng), nn.BatchNorm2d(8), nn.ReLU(), Block(8),
                         nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3, rng=rng))


def training(model):
    opt = optim.AdamW(model.parameters(), lr=1e-2)

    def step(x, y):
        loss = model(x).cross_entropy(y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    return step


def batches(n):
    rng = np.random.default_rng(1)
    return [(rng.standard_normal((6, 1, 12, 12)).astype(np.float32), rng.integers(0, 3, 6)) for _ in range(n)]


def test_a_residual_cnn_replays_eagers_bits_step_after_step():
    eager_model, jit_model = residual_cnn(0), residual_cnn(0)
    jit_model.load_state_dict(eager_model.state_dict())
    eager, jitted = training(eager_model), tg.jit(training(jit_model))
    losses = [(float(eager(tg.Tensor(x), y)), float(jitted(x, y))) for x, y in batches(2) * 3]
    assert jitted.traces == 2
    assert all(a == b for a, b in losses), losses
    for (name, a), (_, b) in zip(eager_model.state_dict().items(), jit_model.state_dict().items(), strict=True):
        assert np.array_equal(a, b), name
    assert losses[4][0] < losses[0][0]  # the same batch, two updates later


def peak_of(step, x, y):
    for _ in range(3):  # a jitted step traces twice, then replays
        step(x, y)
    tracemalloc.start()
    held = tracemalloc.get_traced_memory()[0]
    step(x, y)
    peak = tracemalloc.get_traced_memory()[1] - held
    tracemalloc.stop()
    return peak


def deep_mlp(seed):
    rng = np.random.default_rng(seed)
    layers = []
    for _ in range(8):
        layers += [nn.Linear(128, 128, rng=rng), nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(128, 3, rng=rng))


@pytest.mark.parametrize("model", [residual_cnn, deep_mlp])
def test_a_replayed_step_peaks_no_higher_than_the_eager_step(model):
    # Before the plan a replay held every intermediate to its end: 1.9 times eager's peak on the residual CNN,
    # 1.6 times on the deep MLP.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 1, 12, 12) if model is residual_cnn else (256, 128)).astype(np.float32)
    y = rng.integers(0, 3, len(x))
    eager, jitted = training(model(0)), tg.jit(training(model(0)))
    assert peak_of(jitted, x, y) <= peak_of(lambda x, y: eager(tg.Tensor(x), y), x, y)


def test_each_local_is_deleted_after_its_last_use_and_not_before():
    code = ["v1 = f(v0)", "v2 = g(v1, 'r')", "r = h(v2, v1)", "g3 = r[0]", "g3 = g3 + r", "v0 = k(g3)", "return v0"]
    assert released_at_last_use(code) == [
        "v1 = f(v0)", "v2 = g(v1, 'r')", "r = h(v2, v1)", "del v1, v2", "g3 = r[0]", "g3 = g3 + r", "del r",
        "v0 = k(g3)", "del g3", "return v0"]


def test_a_replayed_programs_text_is_the_same_and_its_code_lets_arrays_go():
    step = tg.jit(training(residual_cnn(0)))
    for x, y in batches(3):
        step(x, y)
    source = step._last.program.source
    assert "del " in source
    assert "del" not in step.program()  # the text a user reads shows the math, not the bookkeeping


def test_a_conv_replays_results_are_fresh_arrays_never_its_kept_buffers():
    w = tg.Tensor(np.random.default_rng(0).standard_normal((3, 2, 3, 3)), requires_grad=True)

    @tg.jit
    def step(x):
        out = nn.functional.conv2d(x, w, padding=1)
        out.sum().backward()
        return out

    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((2, 2, 5, 5)) for _ in range(4)]
    outs = [step(x) for x in inputs]
    for x, out in zip(inputs, outs, strict=True):  # each result still holds its own call's values
        expected = nn.functional.conv2d(tg.Tensor(x), w.detach(), padding=1).data
        np.testing.assert_array_equal(out.data, expected)


def test_scratch_arrays_are_reused_per_thread_and_bounded():
    a = memory.scratch("test", (3, 4), np.float32)
    assert memory.scratch("test", (3, 4), np.float32) is a
    assert memory.scratch("test", (3, 4), np.float64) is not a
    zeros = memory.scratch("test zeros", (2,), np.float32, zeroed=True)
    assert not zeros.any()
    other = []
    thread = threading.Thread(target=lambda: other.append(memory.scratch("test", (3, 4), np.float32)))
    thread.start()
    thread.join()
    assert other[0] is not a
    for i in range(20):
        memory.scratch("many", (i + 1,), np.float32)
    assert len(memory._scratch.arrays) <= memory._SCRATCH_KEPT


# ---- threads -----------------------------------------------------------------------------------------------------
def test_set_num_threads_changes_what_get_num_threads_reports():
    pytest.importorskip("threadpoolctl")
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(2)
        assert tg.get_num_threads() == 2
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
    finally:
        tg.set_num_threads(before)
    assert "thread" in tg.blas_description()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match="positive int"):
        tg.set_num_threads(bad)


def test_without_threadpoolctl_set_says_what_to_do_and_get_reads_the_environment(monkeypatch):
    monkeypatch.setattr(threads, "_controller", lambda: None)
    with pytest.raises(RuntimeError, match="threadpoolctl.*OPENBLAS_NUM_THREADS=3"):
        tg.set_num_threads(3)
    for name in threads._VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert tg.get_num_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert tg.get_num_threads() >= 1
    assert "kernel unknown" in tg.blas_description()


def test_the_default_leaves_a_count_the_environment_names(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads.apply_default() is False


def test_an_op_whose_rule_runs_in_two_passes_keeps_what_it_saved_until_the_second():
    w = tg.Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)

    def step(x, y):
        loss = (x @ w.T).cross_entropy(y)
        loss.backward(retain_graph=True)
        loss.backward()  # CrossEntropy's rule again, on the probabilities its forward saved
        return loss

    x, y = np.ones((4, 3)), np.array([0, 1, 1, 0])
    jitted = tg.jit(step)
    for _ in range(3):
        w.grad = None
        jitted(x, y)
    replayed = w.grad.data.copy()
    w.grad = None
    step(tg.Tensor(x), y)
    np.testing.assert_array_equal(replayed, w.grad.data)


def test_a_padded_scratch_array_shared_by_two_paddings_keeps_each_border_zero():
    """(1, 5) padded by 1 and (1, 3) padded by (1, 2) are both 3 x 7: a scratch array shared between them held the
    first one's edge columns inside the second's border, and a zero input convolved to nonzeros (found by the
    fused-op row's hypothesis draw). Each padding now has its own array; both directions are checked against
    the composition of pad, windows and a product."""
    from tinygrad_np.nn import functional as F

    rng = np.random.default_rng(0)
    for _ in range(2):  # the second round finds the first round's arrays in the thread's scratch
        wide = tg.Tensor(rng.standard_normal((2, 2, 1, 5)), requires_grad=True)
        F.conv2d(wide, tg.Tensor(rng.standard_normal((1, 2, 3, 3))), padding=(1, 1)).sum().backward()
        narrow = tg.Tensor(np.zeros((2, 2, 1, 3)), requires_grad=True)
        w = tg.Tensor(rng.standard_normal((1, 2, 3, 5)))
        out = F.conv2d(narrow, w, padding=(1, 2))
        np.testing.assert_array_equal(out.data, np.zeros(out.shape))
        v = rng.standard_normal(out.shape)
        out.backward(tg.Tensor(v))
        padded = np.pad(v, ((0, 0), (0, 0), (1, 1), (2, 2)))  # dL/dx: v correlated with the flipped kernel
        windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 5), axis=(2, 3))
        expected = np.einsum("nohwpq,ocpq->nchw", windows[:, :, :, :, ::-1, ::-1], w.data)
        np.testing.assert_allclose(narrow.grad.data, expected, rtol=1e-12, atol=1e-12)


def test_a_finished_trace_is_freed_by_reference_counting_not_left_for_the_collector():
    """The first trace's arrays go when the second trace replaces it: no reference cycle keeps them until a full
    garbage collection, which a training loop may not run for a long time (on the residual CNN, 49 MB)."""
    import gc

    w = tg.Tensor(np.ones((256, 256), np.float32), requires_grad=True)
    opt = optim.SGD([w], lr=1e-9)

    @tg.jit
    def step(x):
        big = (x @ w).relu() * 2.0  # 1 MB activations, kept by a trace while it lives
        loss = (big @ w).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    x = np.ones((1024, 256), np.float32)
    step(x)  # warm-up of everything but the jit's own traces
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        step2 = tg.jit(step.fn)
        for _ in range(4):
            step2(x)
        held = tracemalloc.get_traced_memory()[0]
        gc.collect()
        garbage = held - tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    finally:
        if enabled:
            gc.enable()
    assert step2.traces == 2
    assert garbage < 200_000, f"{garbage / 1e6:.1f} MB left in reference cycles after the traces"
