"""``tinygrad_np.nn.utils``: gradient clipping, as in PyTorch."""
import math

import numpy as np

from ..core.jit_seam import replayable
from ..core.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters):
    parameters = [parameters] if hasattr(parameters, "grad") else list(parameters)
    return [p for p in parameters if p.grad is not None]


@replayable
def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale all gradients together so their total norm is at most ``max_norm``; return the norm before,
    as a 0-d float64 Tensor (as PyTorch returns a Tensor; ``float()`` of it is the number).

    The total norm is that of all gradients joined into one vector. Scaling
    uses max_norm / (norm + 1e-6), only when that is below 1, as PyTorch does.
    A NaN or infinite norm is not hidden: the scale is then NaN or 0, and the
    gradients become NaN (where infinite) as in PyTorch, so the step fails
    visibly instead of taking unclipped gradients.
    """
    if not (norm_type > 0):
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (or math.inf), got {norm_type}")
    grads = [p._grad._data for p in _with_grads(parameters)]
    if not grads:
        return Tensor(np.array(0.0))
    if norm_type == math.inf:
        total = max(float(np.abs(g).max()) for g in grads)
    else:
        total = float(sum(float((np.abs(g.astype(np.float64)) ** norm_type).sum()) for g in grads) ** (1 / norm_type))
    scale = max_norm / (total + 1e-6)
    if scale < 1 or math.isnan(scale):
        with np.errstate(invalid="ignore"):  # inf * 0 is NaN on purpose
            for g in grads:
                g *= scale
    return Tensor(np.array(total))


@replayable
def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    for p in _with_grads(parameters):
        np.clip(p._grad._data, -clip_value, clip_value, out=p._grad._data)
