"""Learning-rate schedules written as a factor of the step count: LRSchedule, LambdaLR, CosineLR.

PyTorch's own schedulers (StepLR, CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau) live in lr_scheduler.py.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..core.jit_seam import replayable
from .optimizer import LARGEST_RATE, Optimizer, _whole_number


class LRSchedule:
    """Sets every group's lr to base_lr * factor(t), where t counts the calls of ``step()``.

    Call ``step()`` once per epoch or once per batch: t counts whichever you
    choose, and the schedule's lengths are in the same unit. At construction
    the lr is set to its value for t = 0.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer, self.t = optimizer, 0
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self._apply()

    def factor(self, t: int) -> float:
        """The multiple of each group's base lr at step ``t`` (a subclass defines it, or ``lr`` itself)."""
        raise NotImplementedError

    def lr(self, base_lr: float, t: int) -> float:
        """The lr of a group whose base lr is ``base_lr``, at step ``t``."""
        return base_lr * self.factor(t)

    @replayable
    def step(self) -> None:
        """One more step (an epoch or a batch, as you count them): every group's lr set for it."""
        self.t += 1
        self._apply()

    def state_dict(self) -> dict[str, np.ndarray]:
        """What a resumed run needs to continue the schedule where it stopped: the step count and base lrs."""
        return {"t": np.asarray(self.t), "base_lrs": np.asarray(self.base_lrs, dtype=np.float64)}

    @replayable  # inside a jitted step, each replay loads again
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state_dict()``'s step; checked before anything changes. Sets the lr at once."""
        name = type(self).__name__
        unknown = sorted(set(state) - {"t", "base_lrs"})
        if unknown or "t" not in state or "base_lrs" not in state:
            raise ValueError(f"{name}.load_state_dict: expected the keys t and base_lrs, got {sorted(state)}")
        lrs = np.asarray(state["base_lrs"])
        if lrs.ndim != 1:
            raise ValueError(f"{name}.load_state_dict: base_lrs has shape {lrs.shape}, expected one rate per "
                             "parameter group")
        if lrs.dtype.kind not in "iuf" or not (np.isfinite(lrs).all() and (lrs >= 0).all()
                                               and (lrs <= LARGEST_RATE).all()):
            raise ValueError(f"{name}.load_state_dict: base_lrs must be rates from 0 to {LARGEST_RATE:g} "
                             f"(optim.LARGEST_RATE), got {lrs.ravel().tolist()[:4]} ({lrs.dtype})")
        base_lrs = [float(v) for v in lrs.ravel()]
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"{name}.load_state_dict: {len(base_lrs)} base lrs for "
                             f"{len(self.optimizer.param_groups)} parameter groups")
        try:
            t = _whole_number(state["t"], "t", 2**53)  # past 2**53 a count is not exact in the rates' floats
        except ValueError as err:
            raise ValueError(f"{name}.load_state_dict: {err}") from None
        rates: list[float] = []
        for base in base_lrs:  # the rate at the loaded step, checked as a loaded rate is, before anything changes
            try:
                rate = self.lr(base, t)
            except Exception as err:  # (a user's lr_lambda: 1/(100 - t) at t = 100, 1.05**t past a float)
                raise ValueError(f"{name}.load_state_dict: at the loaded t = {t:,} the schedule raised "
                                 f"{type(err).__name__} ({err}); it cannot continue from that step") from None
            if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= LARGEST_RATE:
                raise ValueError(f"{name}.load_state_dict: at the loaded t = {t:,} the schedule gives the rate "
                                 f"{rate!r}, which is not a number from 0 to {LARGEST_RATE:g} (optim.LARGEST_RATE): "
                                 "the next step would take it (a negative rate ascends the loss)")
            rates.append(rate)
        self.t, self.base_lrs = t, base_lrs
        for group, rate in zip(self.optimizer.param_groups, rates, strict=True):
            group["lr"] = rate

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = self.lr(base, self.t)

    def get_last_lr(self) -> list[float]:
        """The rates the last step (or the construction) set, one per parameter group, as PyTorch's schedulers."""
        return [self.lr(base, self.t) for base in self.base_lrs]


class LambdaLR(LRSchedule):
    """lr = base_lr · lr_lambda(t), as PyTorch's LambdaLR."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        return self.lr_lambda(t)


class CosineLR(LRSchedule):
    """A linear warm-up over ``warmup`` steps, then a cosine from base_lr down to min_lr at ``total``:

    t < warmup:  lr = base_lr · (t + 1) / warmup;
    then:        lr = min_lr + (base_lr − min_lr)(1 + cos(π p)) / 2,  p = (t − warmup) / (total − warmup),
    staying at min_lr after ``total``. With warmup=0 this is PyTorch's CosineAnnealingLR.
    """

    def __init__(self, optimizer: Optimizer, total: int, min_lr: float = 0.0, warmup: int = 0) -> None:
        if not 0 <= warmup < total:
            raise ValueError(f"CosineLR: warmup must be in [0, total), got warmup={warmup}, total={total}")
        self.total, self.min_lr, self.warmup = total, min_lr, warmup
        super().__init__(optimizer)

    def lr(self, base_lr: float, t: int) -> float:
        if t < self.warmup:
            return base_lr * (t + 1) / self.warmup
        p = min(1.0, (t - self.warmup) / (self.total - self.warmup))
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * p)) / 2
