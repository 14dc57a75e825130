"""tg.profile(): every op's forward and backward inside the block, nothing outside it, in this thread only."""
import json
import threading

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np.core.engine_hooks import hooks, in_use


def mlp_step(rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    W1 = tg.Tensor(rng.standard_normal((20, 8)), requires_grad=True)
    b1 = tg.Tensor(np.zeros(8), requires_grad=True)
    W2 = tg.Tensor(rng.standard_normal((8, 3)), requires_grad=True)
    x = tg.Tensor(rng.standard_normal((5, 20)))
    labels = rng.integers(0, 3, 5)

    def step():
        loss = ((x @ W1 + b1).relu() @ W2).cross_entropy(labels)
        loss.backward()
        return loss

    return step, (x, W1, b1, W2)


def test_every_op_is_recorded_forward_and_backward_with_shapes_and_memory():
    step, (x, W1, b1, W2) = mlp_step()
    with tg.profile() as prof:
        step()
    forward = [e for e in prof.events if e["phase"] == "forward"]
    backward = [e for e in prof.events if e["phase"] == "backward"]
    assert [e["op"] for e in forward] == ["matmul", "add", "relu", "matmul", "cross_entropy"]
    assert sorted(e["op"] for e in backward) == sorted(e["op"] for e in forward)
    assert all(e["duration_us"] > 0 for e in prof.events)
    first = forward[0]
    assert first["shapes"] == [(5, 20), (20, 8), (5, 8)]
    assert first["output_bytes"] == 5 * 8 * 8
    assert first["saved_bytes"] == x.data.nbytes + W1.data.nbytes  # both inputs' arrays, kept for backward
    assert forward[-1]["saved_bytes"] >= 5 * 3 * 8  # cross-entropy keeps its probabilities
    summary = prof.summary()
    assert summary["matmul"]["calls"] == 2 and summary["cross_entropy"]["calls"] == 1
    assert summary["matmul"]["backward_us"] > 0


def test_the_table_has_a_row_per_op_sorts_as_asked_and_refuses_an_unknown_key():
    step, _ = mlp_step()
    with tg.profile() as prof:
        step()
    lines = prof.table().splitlines()
    assert lines[0].split()[:3] == ["op", "calls", "forward"]
    assert {line.split()[0] for line in lines[1:-1]} == {"matmul", "add", "relu", "cross_entropy"}
    assert lines[-1].startswith("all ops") and "100.0%" in lines[-1]
    by_name = [line.split()[0] for line in prof.table(sort_by="name").splitlines()[1:-1]]
    assert by_name == sorted(by_name)
    by_calls = prof.table(sort_by="calls").splitlines()[1:-1]
    assert [int(line.split()[1]) for line in by_calls] == sorted((int(line.split()[1]) for line in by_calls),
                                                                 reverse=True)
    with pytest.raises(ValueError, match=r"profile.table: sort_by='speed'; choose one of total, forward"):
        prof.table(sort_by="speed")


def test_the_chrome_trace_is_trace_event_json(tmp_path):
    step, _ = mlp_step()
    with tg.profile() as prof:
        step()
    path = prof.export_chrome_trace(tmp_path / "step.json")
    trace = json.loads((tmp_path / "step.json").read_text())
    events = trace["traceEvents"]
    assert len(events) == len(prof.events) == 10
    assert {e["ph"] for e in events} == {"X"} and {e["cat"] for e in events} == {"forward", "backward"}
    assert all(e["dur"] > 0 and e["ts"] >= 0 for e in events)
    starts = [e["ts"] for e in events if e["cat"] == "forward"]
    assert starts == sorted(starts)
    assert [p.name for p in tmp_path.iterdir()] == ["step.json"]  # no temporary file left beside it
    assert path == tmp_path / "step.json"


def test_nothing_is_recorded_outside_the_block_and_the_hooks_are_gone():
    step, _ = mlp_step()
    with tg.profile() as prof:
        pass
    step()
    assert prof.events == []
    assert in_use.watching == 0 and hooks.forward == () and hooks.timed == ()


def test_another_threads_ops_are_not_recorded():
    step, _ = mlp_step()
    started, done = threading.Event(), threading.Event()

    def other():
        started.wait()
        step()
        done.set()

    worker = threading.Thread(target=other)
    worker.start()
    with tg.profile() as prof:
        started.set()
        done.wait(30)
    worker.join()
    assert prof.events == []


def test_gradients_under_the_profiler_are_the_same():
    step, params = mlp_step()
    step()
    plain = [p.grad.data.copy() for p in params[1:]]
    for p in params[1:]:
        p.grad = None
    with tg.profile():
        step()
    for a, p in zip(plain, params[1:], strict=True):
        np.testing.assert_array_equal(a, p.grad.data)
