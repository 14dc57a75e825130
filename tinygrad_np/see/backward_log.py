"""``tg.trace()``: print the backward pass op by op, as the engine visits each op's rule.

It hangs on the engine's backward hook list (core/engine_hooks.py), which is per thread: a thread that did not
ask to be traced is not.
"""
import sys

import numpy as np

from ..core.engine_hooks import add, remove

__all__ = ["trace"]


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
        add("backward", self._visit)
        return self

    def __exit__(self, *exc):
        remove("backward", self._visit)
        return False

    def _visit(self, fn, grad):
        input_grads = yield
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
            print(f"{len(self.steps):4d}. {fn.name:<14} {inputs} -> {step['output_shape']}  "
                  f"|grad out| {step['grad_norm']:.4g}  passes |grad| {passes}", file=self.file or sys.stdout)
