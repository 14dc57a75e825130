"""Watching backward: ``trace()`` prints it op by op; ``detect_anomaly()`` stops at the first NaN or inf."""
import sys

import numpy as np

from . import autograd
from .function import AnomalyError, _nonfinite, anomaly_mode

__all__ = ["trace", "detect_anomaly", "AnomalyError"]


def _norm(t):
    return None if t is None else float(np.linalg.norm(t.data))


class trace:
    """``with tinygrad_np.trace(): loss.backward()`` prints each op as backward visits it.

    One line an op, in the order backward visits them (newest op first, a
    reverse topological order): its input and output shapes, the norm of the
    gradient arriving at its output, and the norms of the gradients it passes
    on to its inputs. The steps are also kept in ``.steps`` as dicts.
    """

    def __init__(self, file=None, quiet=False):
        self.file = file
        self.quiet = quiet
        self.steps = []

    def __enter__(self):
        autograd.observers.append(self._visit)
        return self

    def __exit__(self, *exc):
        autograd.observers.remove(self._visit)
        return False

    def _visit(self, fn, grad, input_grads):
        step = {
            "op": fn.name,
            "function": fn,
            "input_shapes": [tuple(t.shape) for t in fn.inputs],
            "output_shape": tuple(grad.shape),
            "grad_norm": _norm(grad),
            "input_grad_norms": [_norm(g) for g in input_grads],
        }
        self.steps.append(step)
        if not self.quiet:
            passes = ", ".join("-" if n is None else f"{n:.4g}" for n in step["input_grad_norms"])
            inputs = " ".join(str(s) for s in step["input_shapes"])
            print(f"{len(self.steps):4d}. {fn.name:<12} {inputs} -> {step['output_shape']}  "
                  f"|grad out| {step['grad_norm']:.4g}  passes |grad| {passes}", file=self.file or sys.stdout)


class detect_anomaly:
    """Stop at the first op that produces NaN or infinity, in forward or in backward.

    Inside the block every op is checked as it runs, and remembers the file
    and line that created it; an ``AnomalyError`` names the op and that line.
    NumPy's own floating-point warnings are silenced inside, since this
    reports the same events with the op's name. Checking costs a pass over
    every result, so use it to debug, not to train.
    """

    def __enter__(self):
        self._previous = anomaly_mode.enabled
        anomaly_mode.enabled = True
        self._errstate = np.errstate(divide="ignore", invalid="ignore", over="ignore")
        self._errstate.__enter__()
        autograd.observers.append(self._check_backward)
        return self

    def __exit__(self, *exc):
        autograd.observers.remove(self._check_backward)
        self._errstate.__exit__(*exc)
        anomaly_mode.enabled = self._previous
        return False

    @staticmethod
    def _check_backward(fn, grad, input_grads):
        for i, g in enumerate(input_grads):
            bad = None if g is None else _nonfinite(g.data)
            if bad is not None:
                where = getattr(fn, "created_at", None) or "unknown (created outside detect_anomaly)"
                raise AnomalyError(
                    f"{fn.name} (backward) produced {bad} in the gradient for its input {i} "
                    f"(shape {tuple(g.shape)}); the op was created at {where}"
                )
