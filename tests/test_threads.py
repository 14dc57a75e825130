"""Threads: no lost gradient updates, and debugging modes that stay in the thread that asked for them."""
import io
import sys
import threading

import numpy as np
import pytest

import tinygrad_np as tg


def run_in_threads(target, n):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as err:  # noqa: BLE001  (reported to the test below)
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_eight_threads_accumulating_into_one_leaf_lose_no_update():
    shared = tg.Tensor(np.zeros(4), requires_grad=True)
    barrier = threading.Barrier(8)

    def work(_):
        barrier.wait()
        for _ in range(250):
            (shared * 2.0).sum().backward()  # adds 2 to each element's gradient

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so an unguarded read-add-write races
    try:
        assert run_in_threads(work, 8) == []
    finally:
        sys.setswitchinterval(interval)
    np.testing.assert_array_equal(shared.grad.data, np.full(4, 8 * 250 * 2.0))


def while_another_thread_holds(mode, work):
    """Run ``work()`` in one thread while a second thread sits inside ``with mode:``; return work's result."""
    inside, done, result = threading.Event(), threading.Event(), {}

    def holder(_):
        with mode:
            inside.set()
            done.wait(10)

    def worker(_):
        inside.wait(10)
        try:
            result["value"] = work()
        finally:
            done.set()

    assert run_in_threads(lambda i: (holder, worker)[i](i), 2) == []
    return result["value"]


def test_in_place_changes_from_many_threads_are_all_seen_by_backward():
    """backward skips an op's version check when no tensor changed after the op ran (tensor.changes.newest):
    that is right only while newest is at least every tensor's version, whatever the threads interleave."""
    from tinygrad_np.core.tensor import changes

    old = tg.Tensor(np.ones(3), requires_grad=True)
    loss = (old * old).sum()  # recorded before any of the changes below
    params = [tg.Tensor(np.zeros(2), requires_grad=True) for _ in range(8)]
    sys_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        errors = run_in_threads(lambda i: [params[i].bump_version() for _ in range(2000)], 8)
    finally:
        sys.setswitchinterval(sys_interval)
    assert errors == []
    assert changes.newest >= max(p._version for p in params)
    old.bump_version()  # the last change, made after the graph: backward must refuse
    with pytest.raises(RuntimeError, match="mul: input 0 .* was modified in place"):
        loss.backward()


def test_detect_anomaly_in_one_thread_does_not_reach_another():
    def make_a_nan():
        with np.errstate(invalid="ignore"):
            return tg.Tensor(np.array([-1.0]), requires_grad=True).log().data  # only the other thread checks

    assert np.isnan(while_another_thread_holds(tg.detect_anomaly(), make_a_nan)).all()


def test_trace_in_one_thread_does_not_trace_another():
    log = io.StringIO()
    tracer = tg.trace(file=log)

    def train():
        x = tg.Tensor(np.ones(2), requires_grad=True)
        (x * 3).sum().backward()

    while_another_thread_holds(tracer, train)
    assert tracer.steps == [] and log.getvalue() == ""


def test_no_grad_in_one_thread_does_not_stop_another():
    def record():
        return (tg.Tensor(np.ones(1), requires_grad=True) * 2).requires_grad

    assert while_another_thread_holds(tg.no_grad(), record) is True


@pytest.mark.parametrize("mode", ["trace", "detect_anomaly"])
def test_modes_end_with_their_block(mode):
    with getattr(tg, mode)(*([io.StringIO()] if mode == "trace" else [])):
        pass
    from tinygrad_np.core.engine_hooks import hooks, in_use

    assert hooks.backward == () and hooks.forward == () and in_use.watching == 0
