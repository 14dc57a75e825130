"""Adadelta (Zeiler 2012): a step size per weight from running averages of squared gradients and squared steps."""
from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, Params


class Adadelta(Optimizer):
    """PyTorch's Adadelta, with its arguments and defaults:

    g ← g + λw;  v ← ρv + (1−ρ)g²;  Δ = √(u + ε) / √(v + ε) · g;  u ← ρu + (1−ρ)Δ²;  w ← w − lr·Δ,

    v (``square_avg``) and u (``acc_delta``) starting at zero. With lr = 1, Zeiler's paper: the ratio of the two
    root-mean-squares carries the units of w, so no learning rate needs tuning (PyTorch's MNIST example still
    uses lr = 1 with a StepLR).
    """

    state_arrays = ("square_avg", "acc_delta")

    def __init__(self, params: Params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)

    def _check(self, group: dict[str, Any], where: str) -> None:
        super()._check(group, where)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"{where}rho must be in [0, 1], got {group['rho']!r}")
        if not group["weight_decay"] >= 0.0:
            raise ValueError(f"{where}weight_decay must be >= 0, got {group['weight_decay']!r}")

    def propose(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]
                ) -> tuple[np.ndarray, dict[str, Any]]:
        rho, eps = group["rho"], group["eps"]
        square_avg = state.get("square_avg", 0) * rho + (1 - rho) * g * g
        acc_delta = state.get("acc_delta", np.zeros_like(w))
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta = acc_delta * rho + (1 - rho) * delta * delta
        new_w = (w - group["lr"] * delta).astype(w.dtype, copy=False)
        return new_w, {"square_avg": square_avg.astype(w.dtype, copy=False),
                       "acc_delta": acc_delta.astype(w.dtype, copy=False)}
