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


def test_detect_anomaly_in_one_thread_does_not_reach_another():
    inside = threading.Event()
    other_done = threading.Event()
    results = {}

    def debugging(_):
        with tg.detect_anomaly():
            inside.set()
            other_done.wait(10)

    def training(_):
        inside.wait(10)
        x = tg.Tensor(np.array([-1.0]), requires_grad=True)
        with np.errstate(invalid="ignore"):
            results["value"] = x.log().data  # NaN, which only the debugging thread asked to catch
        other_done.set()

    errors = run_in_threads(lambda i: (debugging, training)[i](i), 2)
    assert errors == [] and np.isnan(results["value"]).all()


def test_trace_in_one_thread_does_not_trace_another():
    inside = threading.Event()
    other_done = threading.Event()
    log = io.StringIO()

    def tracing(_):
        with tg.trace(file=log) as t:
            inside.set()
            other_done.wait(10)
        assert t.steps == []

    def training(_):
        inside.wait(10)
        x = tg.Tensor(np.ones(2), requires_grad=True)
        (x * 3).sum().backward()
        other_done.set()

    assert run_in_threads(lambda i: (tracing, training)[i](i), 2) == []
    assert log.getvalue() == ""


def test_no_grad_in_one_thread_does_not_stop_another():
    inside = threading.Event()
    other_done = threading.Event()
    recorded = {}

    def evaluating(_):
        with tg.no_grad():
            inside.set()
            other_done.wait(10)

    def training(_):
        inside.wait(10)
        recorded["requires_grad"] = (tg.Tensor(np.ones(1), requires_grad=True) * 2).requires_grad
        other_done.set()

    assert run_in_threads(lambda i: (evaluating, training)[i](i), 2) == []
    assert recorded["requires_grad"] is True


@pytest.mark.parametrize("mode", ["trace", "detect_anomaly"])
def test_modes_end_with_their_block(mode):
    with getattr(tg, mode)(*([io.StringIO()] if mode == "trace" else [])):
        pass
    from tinygrad_np import autograd, function

    assert autograd.hooks.backward == () and function.hooks.forward == ()
