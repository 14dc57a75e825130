"""``tg.detect_anomaly()``: stop at the first op that makes a NaN or an infinity, naming it and the user's line.

It hangs on the engine's hook lists (core/engine_hooks.py), which are per thread: a thread that did not ask to
be checked is not.
"""
import threading

import numpy as np

from ..core.engine_hooks import add, remove
from ..core.user_frames import user_frame

__all__ = ["detect_anomaly", "AnomalyError"]


class AnomalyError(FloatingPointError):
    """An op produced NaN or infinity, in forward or in backward, under ``detect_anomaly()``."""


class _Running(threading.local):
    rule = None  # the Function whose backward rule this thread is running, under detect_anomaly


_running = _Running()


class detect_anomaly:
    """Stop at the first op that produces NaN or infinity, in forward or in backward.

    Inside the block every op is checked as it runs, and remembers the file
    and line that created it; an ``AnomalyError`` names the op and that line.
    NumPy's own floating-point warnings are silenced inside, since this
    reports the same events with the op's name. Checking costs a pass over
    every result, so use it to debug, not to train.
    """

    def __enter__(self):
        self._errstate = np.errstate(divide="ignore", invalid="ignore", over="ignore")
        self._errstate.__enter__()
        add("forward", _check_forward)
        add("backward", _check_backward)
        return self

    def __exit__(self, *exc):
        remove("backward", _check_backward)
        remove("forward", _check_forward)
        self._errstate.__exit__(*exc)
        return False


def _check_forward(fn, inputs, params):
    fn.created_at = _creation_site()
    data = yield
    bad = _nonfinite(data)
    if bad is None:
        return
    inputs_bad = any(_nonfinite(t.data) for t in inputs)
    origin = "its inputs already held non-finite values" if inputs_bad else "from finite inputs"
    shapes = ", ".join(str(t.shape) for t in inputs)
    rule = _running.rule
    if rule is not None:  # an op inside a backward rule: blame the rule
        raise AnomalyError(f"{rule.name} (backward) produced {bad} {origin}, in its {fn.name} on {shapes}; "
                           f"the op was created at {_created_at(rule)}")
    raise AnomalyError(f"{fn.name} (forward, inputs {shapes}) produced {bad} {origin}; "
                       f"the op was created at {fn.created_at}")


def _check_backward(fn, grad):
    outer, _running.rule = _running.rule, fn
    try:
        input_grads = yield
    finally:
        _running.rule = outer
    for i, g in enumerate(input_grads):
        bad = None if g is None else _nonfinite(g.data)
        if bad is not None:
            raise AnomalyError(
                f"{fn.name} (backward) produced {bad} in the gradient for its input {i} "
                f"(shape {tuple(g.shape)}); the op was created at {_created_at(fn)}"
            )


def _created_at(fn):
    return getattr(fn, "created_at", None) or "unknown (created outside detect_anomaly)"


def _creation_site():
    """'file:line' of the innermost frame outside this package: the user's line that ran the op."""
    frame = user_frame()
    return "unknown" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _nonfinite(array):
    """'nan' or 'inf' if the array holds one (nan reported first), else None."""
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"
