"""``profile()``: where a step spends its time and memory, op by op, forward and backward.

    with tg.profile() as prof:
        loss = model(x).cross_entropy(y)
        loss.backward()
    print(prof)                              # prof.table(): one row per op: calls, forward, backward, share, memory
    prof.export_chrome_trace("step.json")    # open in Perfetto or chrome://tracing

It records every op this thread runs inside the block: its name, shapes, start, duration, the bytes of its
output and the bytes it keeps for backward (its inputs' arrays when the op is recorded, and whatever its
forward saved, such as cross-entropy's probabilities). Backward rules are timed on the plain pass, as
they normally run. Outside the block nothing is recorded and nothing is paid: the engine looks at the
hook lists (core/engine_hooks.py) only while some thread has one.
"""
import json
import os
import threading
from time import perf_counter_ns

import numpy as np

from ..core.engine_hooks import add, remove
from ..core.grad_mode import is_grad_enabled
from ..fileio import atomic_write

__all__ = ["profile"]

_SORT_KEYS = ("total", "forward", "backward", "calls", "memory", "name")


class profile:
    """Record every op's forward and backward in this thread while the block runs (see the module's doc).

    ``events`` holds one dict per op run: ``op``, ``phase`` ("forward" or "backward"), ``shapes``,
    ``start_us`` (from the block's start), ``duration_us``, ``output_bytes`` and ``saved_bytes``.
    """

    def __init__(self):
        self.events = []
        self._origin = None
        self._thread = None

    def __enter__(self):
        self._origin = perf_counter_ns()
        self._thread = threading.get_ident()
        add("forward", self._forward)
        add("timed", self._backward)
        return self

    def __exit__(self, *exc):
        remove("timed", self._backward)
        remove("forward", self._forward)
        return False

    # ---- recording -------------------------------------------------------------------------------------
    def _forward(self, fn, inputs, params):
        start = perf_counter_ns()
        data = yield
        duration = perf_counter_ns() - start
        recorded = is_grad_enabled() and any(t.requires_grad for t in inputs)
        kept = {id(t.data): t.data for t in inputs} if recorded else {}
        kept.update({id(v): v for v in vars(fn).values() if isinstance(v, np.ndarray)})
        self.events.append(self._event(fn.name, "forward", [tuple(t.shape) for t in inputs] + [tuple(data.shape)],
                                       start, duration, data.nbytes, sum(a.nbytes for a in kept.values())))

    def _backward(self, fn, grad, input_grads, start, duration):
        self.events.append(self._event(fn.name, "backward", [tuple(np.shape(grad))], start, duration, 0, 0))

    def _event(self, op, phase, shapes, start, duration, output_bytes, saved_bytes):
        return {"op": op, "phase": phase, "shapes": shapes, "start_us": (start - self._origin) / 1e3,
                "duration_us": duration / 1e3, "output_bytes": int(output_bytes), "saved_bytes": int(saved_bytes)}

    # ---- reading -----------------------------------------------------------------------------------------
    def summary(self):
        """{op: {"calls", "forward_us", "backward_us", "total_us", "output_bytes", "saved_bytes"}}."""
        rows = {}
        for e in self.events:
            row = rows.setdefault(e["op"], {"calls": 0, "forward_us": 0.0, "backward_us": 0.0, "total_us": 0.0,
                                            "output_bytes": 0, "saved_bytes": 0})
            row["calls"] += e["phase"] == "forward"
            row[e["phase"] + "_us"] += e["duration_us"]
            row["total_us"] += e["duration_us"]
            row["output_bytes"] += e["output_bytes"]
            row["saved_bytes"] += e["saved_bytes"]
        return rows

    def table(self, sort_by="total"):
        """One row per op, largest first by ``sort_by`` (total, forward, backward, calls, memory or name):
        calls, forward and backward time, total, share of all the ops' time, output and saved memory."""
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"profile.table: sort_by={sort_by!r}; choose one of {', '.join(_SORT_KEYS)}")
        rows = self.summary()
        key = {"total": "total_us", "forward": "forward_us", "backward": "backward_us", "calls": "calls",
               "memory": "saved_bytes"}.get(sort_by)
        order = sorted(rows) if key is None else sorted(rows, key=lambda op: -rows[op][key])
        everything = sum(r["total_us"] for r in rows.values()) or 1.0
        lines = [f"{'op':<22}{'calls':>7}{'forward ms':>12}{'backward ms':>13}{'total ms':>10}{'share':>8}"
                 f"{'output MB':>11}{'saved MB':>10}"]
        for op in order:
            r = rows[op]
            lines.append(f"{op:<22}{r['calls']:>7}{r['forward_us'] / 1e3:>12.3f}{r['backward_us'] / 1e3:>13.3f}"
                         f"{r['total_us'] / 1e3:>10.3f}{100 * r['total_us'] / everything:>7.1f}%"
                         f"{r['output_bytes'] / 1e6:>11.3f}{r['saved_bytes'] / 1e6:>10.3f}")
        totals = {k: sum(r[k] for r in rows.values()) for k in ("calls", "forward_us", "backward_us", "total_us",
                                                                 "output_bytes", "saved_bytes")}
        lines.append(f"{'all ops':<22}{totals['calls']:>7}{totals['forward_us'] / 1e3:>12.3f}"
                     f"{totals['backward_us'] / 1e3:>13.3f}{totals['total_us'] / 1e3:>10.3f}{'100.0%':>8}"
                     f"{totals['output_bytes'] / 1e6:>11.3f}{totals['saved_bytes'] / 1e6:>10.3f}")
        return "\n".join(lines)

    def __str__(self):
        """``print(prof)`` prints ``table()``."""
        return self.table()

    def __repr__(self):
        ops = len({e["op"] for e in self.events})
        return f"<profile: {len(self.events)} events of {ops} ops; print() it for the table>"

    def export_chrome_trace(self, path):
        """Write the events as Chrome trace-event JSON (complete events, microseconds), which Perfetto and
        chrome://tracing open. Written to a temporary name and renamed, so a failure leaves no half file."""
        events = [{"name": e["op"], "cat": e["phase"], "ph": "X", "ts": e["start_us"], "dur": e["duration_us"],
                   "pid": os.getpid(), "tid": self._thread,
                   "args": {"shapes": [list(s) for s in e["shapes"]], "output_bytes": e["output_bytes"],
                            "saved_bytes": e["saved_bytes"]}} for e in self.events]
        with atomic_write(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)
        return path
