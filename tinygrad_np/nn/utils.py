"""``tinygrad_np.nn.utils``: gradient clipping, as in PyTorch."""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..core.jit_seam import replayable
from ..core.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grad_arrays(parameters: Any) -> list[np.ndarray]:
    """The arrays of the gradients the parameters (a Tensor, or several) have; one without a gradient is skipped."""
    parameters = [parameters] if hasattr(parameters, "grad") else list(parameters)
    return [p._grad._data for p in parameters if p._grad is not None]


@replayable
def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0) -> Tensor:
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
    grads = _grad_arrays(parameters)
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
def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    for g in _grad_arrays(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
