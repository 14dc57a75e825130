"""``optim.lr_scheduler``: PyTorch's learning-rate schedulers, with its arguments and its sequences of rates.

    from tinygrad_np.optim.lr_scheduler import OneCycleLR
    schedule = OneCycleLR(opt, max_lr=0.1, total_steps=1000)
    for batch in loader:
        ...; opt.step(); schedule.step()

Each scheduler sets every parameter group's ``lr`` at construction (its value
for step 0) and again at each ``step()``; ``get_last_lr()`` returns them.
StepLR and CosineAnnealingLR compute the new rate from the current one, as
PyTorch's do, so that a rate changed by hand between steps carries on from
there. ``step()`` is replayed by ``tg.jit`` like an optimizer's.

The library's own schedules (``LambdaLR``, ``CosineLR`` with its warm-up, and
their base ``LRSchedule``) are here too; ``optim.StepLR`` is this module's.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core.jit_seam import replayable
from .optimizer import LARGEST_RATE, Optimizer, _whole_number
from .schedules import CosineLR, LambdaLR, LRSchedule

__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau", "LambdaLR", "CosineLR",
           "LRSchedule"]


class LRScheduler:
    """The base of PyTorch's schedulers: ``last_epoch`` counts the steps (0 after construction), ``base_lrs``
    holds each group's rate when the scheduler was made (kept in the group as ``initial_lr``, as PyTorch does),
    and a subclass's ``get_lr()`` gives the groups' rates for the step ``last_epoch``."""

    saved: tuple[str, ...] = ("last_epoch", "_step_count", "base_lrs", "_last_lr")  # what state_dict keeps

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{name}: param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                                   f"with last_epoch={last_epoch}; make the scheduler with last_epoch=-1 and load "
                                   "its state_dict() instead")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial = True  # the first step, made here: subclasses keep the groups' rates as they are
        self._advance()
        self._initial = False

    def get_lr(self) -> list[float]:
        """Each group's rate for the step ``last_epoch`` (a subclass defines it)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The rates the last step (or the construction) set, one per parameter group."""
        return list(self._last_lr)

    @replayable
    def step(self) -> None:
        """One step more (an epoch or a batch, as the schedule's lengths count them): every group's lr set for it.
        Call it after the optimizer's step."""
        self._advance()

    def _advance(self) -> None:
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _groups_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # ---- saving and resuming ---------------------------------------------------------------------------
    def _check_loaded(self, values: dict[str, Any]) -> None:
        """Refuse a loaded state that this scheduler's step could not continue from (a subclass's own rules)."""

    def state_dict(self) -> dict[str, np.ndarray]:
        """What a resumed run needs to continue where this one stopped, as arrays (``nn.save`` writes them):
        the step count and rates, and the scheduler's own counters. The hyperparameters are the constructor's:
        make the scheduler again with the same arguments, then load."""
        return {key: np.asarray(getattr(self, key)) for key in self.saved}

    @replayable  # inside a jitted step (a warm restart), each replay loads again
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state_dict()``; checked before anything changes. The groups' rates are set to the
        saved ``_last_lr`` at once (PyTorch leaves that to the optimizer's own load_state_dict)."""
        name = type(self).__name__
        if set(state) != set(self.saved):
            raise ValueError(f"{name}.load_state_dict: expected the keys {sorted(self.saved)}, got {sorted(state)}")
        values: dict[str, Any] = {}
        for key in self.saved:
            current, value = getattr(self, key), np.asarray(state[key])
            if isinstance(current, list):  # rates: finite, from 0, and no more than a loaded lr may be
                if value.shape != (len(current),):
                    raise ValueError(f"{name}.load_state_dict: {key} has shape {value.shape}, expected one value "
                                     f"for each of the {len(current)} parameter groups")
                if value.dtype.kind not in "iuf" or not (np.isfinite(value).all() and (value >= 0).all()
                                                         and (value <= LARGEST_RATE).all()):
                    raise ValueError(f"{name}.load_state_dict: {key} must be rates from 0 to {LARGEST_RATE:g} "
                                     f"(optim.LARGEST_RATE), got {value.tolist()[:4]} ({value.dtype})")
                values[key] = [float(v) for v in value]
            elif value.shape != ():
                raise ValueError(f"{name}.load_state_dict: {key} must be one number, got shape {value.shape}")
            elif isinstance(current, int):  # a count (last_epoch, _step_count, ...): a whole number from 0
                try:  # past 2**53 a count is no longer exact in the float arithmetic of the rates
                    values[key] = _whole_number(value, key, 2**53)
                except ValueError as err:
                    raise ValueError(f"{name}.load_state_dict: {err}") from None
            else:  # a float such as ReduceLROnPlateau's best (inf until a metric comes): a number, never NaN
                if value.dtype.kind not in "iuf" or np.isnan(value):
                    raise ValueError(f"{name}.load_state_dict: {key} must be a number, got {value!r}")
                values[key] = type(current)(value)
        self._check_loaded(values)
        for key, value in values.items():
            setattr(self, key, value)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr, strict=True):
            group["lr"] = lr


class StepLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` every ``step_size`` steps: base_lr · gamma^(last_epoch // step_size)
    while nothing else changes the rate."""

    step_size: int
    gamma: float

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if not (isinstance(step_size, numbers.Integral) and step_size > 0):
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def _check_loaded(self, values: dict[str, Any]) -> None:
        """With gamma at most 1 the rate only falls from base_lr: a loaded rate above it is no run's (a file's
        _last_lr of 1e4 set the optimizer's lr, and the loss went to 1e8)."""
        if self.gamma <= 1:
            for i, (base, lr) in enumerate(zip(values["base_lrs"], values["_last_lr"], strict=True)):
                if lr > base * (1 + 1e-9):
                    raise ValueError(f"StepLR.load_state_dict: group {i}'s rate {lr!r} is above its base_lr {base!r}, "
                                     f"which a StepLR with gamma {self.gamma} only lowers")

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return self._groups_lr()
        return [lr * self.gamma for lr in self._groups_lr()]

    @replayable  # inside a jitted step (a warm restart), each replay loads again
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """As every scheduler's; a state saved by the earlier optim.StepLR (keys ``t`` and ``base_lrs``) loads too."""
        if set(state) == {"t", "base_lrs"}:
            try:
                t = _whole_number(state["t"], "t", 2**53)
            except ValueError as err:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {err}") from None
            if np.asarray(state["base_lrs"]).ndim != 1:
                raise ValueError(f"{type(self).__name__}.load_state_dict: base_lrs has shape "
                                 f"{np.asarray(state['base_lrs']).shape}, expected one rate per parameter group")
            base_lrs = [float(v) for v in np.asarray(state["base_lrs"]).ravel()]
            state = {"last_epoch": t, "_step_count": t + 1, "base_lrs": base_lrs,
                     "_last_lr": [base * self.gamma ** (t // self.step_size) for base in base_lrs]}
        super().load_state_dict(state)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to ``eta_min`` over ``T_max`` steps,

        lr = eta_min + (base_lr − eta_min)(1 + cos(π · last_epoch / T_max)) / 2,

    computed as PyTorch does, from the current rate: lr ← eta_min + (lr − eta_min) · (1 + cos(π e / T_max)) /
    (1 + cos(π (e − 1) / T_max)). Past T_max the cosine goes on, climbing back to base_lr at 2·T_max, as
    PyTorch's does. (``CosineLR`` stays at its minimum instead, and can warm up first.)"""

    T_max: int
    eta_min: float

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        e, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._groups_lr()
        if self._step_count == 1 and e > 0:  # made with last_epoch > -1: straight to the formula
            return [low + (base - low) * (1 + math.cos(e * math.pi / period)) / 2 for base in self.base_lrs]
        if (e - 1 - period) % (2 * period) == 0:  # just past the bottom, where the ratio below is 0 / 0
            rates = [lr + (base - low) * (1 - math.cos(math.pi / period)) / 2
                     for base, lr in zip(self.base_lrs, self._groups_lr(), strict=True)]
        else:
            rates = [(1 + math.cos(math.pi * e / period)) / (1 + math.cos(math.pi * (e - 1) / period)) * (lr - low)
                     + low for lr in self._groups_lr()]
        # Exactly, the cosine stays between eta_min and base_lr; the chained products drift by a rounding past
        # base_lr at the top of a cycle (10000.000000000045 from a base of LARGEST_RATE, which the optimizer's and
        # this scheduler's own loaders then refused). Kept within the two, as the exact value is.
        return [min(max(rate, min(base, low)), max(base, low)) for base, rate in zip(self.base_lrs, rates, strict=True)]

    def _check_loaded(self, values: dict[str, Any]) -> None:
        """The chained formula scales lr − eta_min by (1 + cos(π e / T_max)) / (1 + cos(π (e−1) / T_max)), up to
        about 4·T_max²/π² just past the cosine's bottom: it is right only for a rate on the schedule. A loaded rate
        further from eta_min than the schedule's own value at the loaded last_epoch (a rate raised by hand, or a
        state whose rate does not fit its step) would be multiplied past any bound, so it is refused; a rate
        lowered towards eta_min only stays proportionally lower."""
        e, low = values["last_epoch"], self.eta_min
        for i, (base, lr) in enumerate(zip(values["base_lrs"], values["_last_lr"], strict=True)):
            scheduled = (base - low) * (1 + math.cos(math.pi * e / self.T_max)) / 2  # the closed form, less eta_min
            if (lr - low) * (base - low) < 0 or abs(lr - low) > abs(scheduled) * (1 + 1e-6) + 1e-12 * abs(base - low):
                raise ValueError(f"CosineAnnealingLR.load_state_dict: group {i}'s rate {lr!r} at last_epoch {e:,} is "
                                 f"further from eta_min {low!r} than this schedule's {low + scheduled!r} (base "
                                 f"{base!r}, T_max {self.T_max}); the chained formula would multiply the difference "
                                 "without bound. The state was saved with another T_max or eta_min, or its rate does "
                                 "not fit its step")


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """``value`` for each parameter group: a list or tuple gives one each, anything else is shared."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} has {len(value)} "
                             f"values, param_groups has {len(optimizer.param_groups)}.")
        return list(value)
    return [value] * len(optimizer.param_groups)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin 2017), per batch: the lr climbs from max_lr / div_factor to ``max_lr``
    over the first ``pct_start`` of ``total_steps`` (or ``epochs * steps_per_epoch``), then anneals down to
    max_lr / (div_factor · final_div_factor); with ``three_phase`` it comes back to the start first and only then
    anneals. ``anneal_strategy`` "cos" or "linear". With ``cycle_momentum``, the momentum (SGD's ``momentum``,
    Adam's β₁) moves the opposite way between ``max_momentum`` and ``base_momentum``. Stepping past
    ``total_steps`` is an error, as in PyTorch."""

    total_steps: int
    anneal_strategy: str
    cycle_momentum: bool
    use_beta1: bool = False
    _phases: list[tuple[float, str, str, str, str]]

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85, max_momentum: float | Sequence[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: {type(optimizer).__name__} is not an Optimizer")
        if total_steps is not None:
            if not (isinstance(total_steps, numbers.Integral) and total_steps > 0):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = int(total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            for what, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not (isinstance(value, numbers.Integral) and value > 0):
                    raise ValueError(f"Expected positive integer {what}, but got {value}")
            self.total_steps = int(epochs) * int(steps_per_epoch)
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not (isinstance(pct_start, numbers.Real) and 0 <= pct_start <= 1):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self.anneal_strategy = anneal_strategy
        # Each phase: the step it ends at, and the group keys holding the rate and momentum it goes from and to.
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                             "max_momentum"),
                            (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, _per_group("max_lr", optimizer, max_lr), strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"optimizer must support momentum or beta1 with `cycle_momentum` option enabled "
                                 f"({type(optimizer).__name__} has neither; pass cycle_momentum=False)")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                tops = _per_group("max_momentum", optimizer, max_momentum)
                bottoms = _per_group("base_momentum", optimizer, base_momentum)
                for group, top, bottom in zip(optimizer.param_groups, tops, bottoms, strict=True):
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _check_loaded(self, values: dict[str, Any]) -> None:
        if values["last_epoch"] > self.total_steps:  # its next step would raise, part-way through a run
            raise ValueError(f"OneCycleLR.load_state_dict: last_epoch is {values['last_epoch']:,}, past the "
                             f"{self.total_steps:,} total_steps of this schedule")

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, momentum_from, momentum_to) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[momentum_from], group[momentum_to], pct))
                    break
                start = end
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric has not improved for more than ``patience`` steps:
    ``step(metric)`` once per epoch with, say, the validation loss. ``mode`` "min" (a loss) or "max" (an
    accuracy); an improvement must beat the best by ``threshold``, relative ("rel") or absolute ("abs"). After a
    reduction, ``cooldown`` steps pass before counting again; the lr never goes below ``min_lr`` (one for all
    groups, or a list), and a reduction smaller than ``eps`` is skipped. PyTorch's rules, case for case."""

    saved = ("last_epoch", "_last_lr", "best", "num_bad_epochs", "cooldown_counter")

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0, eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown! (use 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown! (use 'rel' or 'abs')")
        if isinstance(min_lr, (list, tuple)) and len(min_lr) != len(optimizer.param_groups):
            raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
        self.optimizer, self.factor, self.patience, self.cooldown, self.eps = optimizer, factor, patience, cooldown, eps
        self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.last_epoch = 0
        self._last_lr = self._groups_lr()
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = self.num_bad_epochs = 0

    def _check_loaded(self, values: dict[str, Any]) -> None:
        """best starts at +inf ("min") or -inf ("max") and then holds metrics: the other infinity is no run's,
        and with it every metric counts as worse, so the lr would be cut every patience + 1 steps, forever."""
        for key, most in (("cooldown_counter", self.cooldown), ("num_bad_epochs", self.patience)):
            if values[key] > most:  # a step resets them past these: a counter of 2**53 stopped every reduction
                raise ValueError(f"ReduceLROnPlateau.load_state_dict: {key} is {values[key]:,}, more than this "
                                 f"scheduler's {'cooldown' if key == 'cooldown_counter' else 'patience'} of {most}, "
                                 "which no run leaves")
        for i, (group, lr) in enumerate(zip(self.optimizer.param_groups, values["_last_lr"], strict=True)):
            if lr > group["lr"] * (1 + 1e-9):  # it only lowers the rate: loading it never raises the optimizer's
                raise ValueError(f"ReduceLROnPlateau.load_state_dict: group {i}'s rate {lr!r} is above the "
                                 f"optimizer's {group['lr']!r}, which this scheduler only lowers")
        wrong = -math.inf if self.mode == "min" else math.inf
        if values["best"] == wrong:
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: best is {wrong} in mode {self.mode!r}: no metric "
                             "could then count as an improvement, and the lr would be cut every patience + 1 steps")

    def get_lr(self) -> list[float]:
        raise TypeError("ReduceLROnPlateau has no get_lr(): its rates follow the metrics step(metric) is given; "
                        "get_last_lr() returns them")

    @replayable
    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Count one more step with this value of the metric (a number or a one-element Tensor), and reduce
        the rates if it has not improved for more than ``patience`` steps."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._groups_lr()

    @property
    def in_cooldown(self) -> bool:
        """True while the steps after a reduction are not counted."""
        return self.cooldown_counter > 0

    def _is_better(self, value: float, best: float) -> bool:
        if self.mode == "min":
            return value < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return value > (best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold)
