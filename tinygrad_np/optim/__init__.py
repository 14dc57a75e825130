"""Optimizers and learning-rate schedules.

Each optimizer updates ``p.data`` in place from ``p.grad`` and keeps its
state (momentum buffers, moment estimates) as arrays beside the parameters.
The update rules follow PyTorch's formulations, written out in each docstring.
Parameters come in groups, as in PyTorch: ``SGD([{"params": a, "lr": 0.1},
{"params": b}], lr=0.01)`` gives each group its own hyperparameters, the
optimizer's arguments being the defaults.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ..core.jit_seam import replayable
from ..core.tensor import bump_versions

if TYPE_CHECKING:
    from ..core.tensor import Tensor

#: What an optimizer takes: parameters (an iterable of Tensors), or parameter groups (dicts with "params" and
#: any hyperparameters of their own), as PyTorch's optimizers do.
Params = Union[Iterable["Tensor"], Iterable[dict[str, Any]], dict[str, Any]]


class Optimizer:
    """The base of the optimizers: parameter groups, ``zero_grad``, ``step`` (each subclass's ``update`` on every
    parameter with a gradient), and ``state_dict`` / ``load_state_dict``."""

    hyperparameters: tuple[str, ...] = ()  # the names of the keyword arguments a group may set
    decoupled = False  # True when the rule applies weight decay itself (AdamW), not through g
    state_arrays: tuple[str, ...] = ()  # the names of the per-parameter state that state_dict saves

    def __init__(self, params: Params, **defaults: Any) -> None:
        name = type(self).__name__
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        for i, group in enumerate(_as_groups(params, name)):
            unknown = set(group) - {"params"} - set(defaults)
            if unknown:
                raise ValueError(f"{name}: parameter group {i} sets {sorted(unknown)}, which {name} does not "
                                 f"take (it takes {sorted(defaults)})")
            group = {**defaults, **group, "params": _param_list(group["params"], name, i)}
            self._check(group, f"{name}: " + (f"group {i}: " if i else ""))
            self.param_groups.append(group)
        seen = set()
        for p in self.params:
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter of shape {p.shape} appears in more than one place; "
                                 "give each parameter once")
            seen.add(id(p))
        if not self.params:
            raise ValueError(f"{name}: got no parameters to optimize")
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def _check(self, group, where):
        if not (isinstance(group["lr"], numbers.Real) and group["lr"] > 0):
            raise ValueError(f"{where}lr must be positive, got {group['lr']!r}")

    @property
    def params(self) -> list[Tensor]:
        """Every parameter, group by group."""
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = value

    @replayable
    def zero_grad(self) -> None:
        """Clear every parameter's gradient (backward accumulates into .grad)."""
        for group in self.param_groups:
            for p in group["params"]:
                p._grad = None  # None always passes the .grad setter's shape check: skip it

    @replayable
    def step(self) -> None:
        """Update every parameter that has a gradient, in place, by the optimizer's rule."""
        # Arrays only (the underscored fields behind .grad and .data, read once a step each), so
        # nothing here is recorded: no need for no_grad().
        k, updated = 0, []
        for group in self.param_groups:
            coupled_decay = group["weight_decay"] and not self.decoupled
            for p in group["params"]:
                grad, state = p._grad, self.state[k]
                k += 1
                if grad is None:
                    continue
                g = grad._data
                if coupled_decay:
                    g = g + group["weight_decay"] * p._data  # a new array: p.grad is left as it was
                self.update(p._data, g, state, group)
                updated.append(p)
        bump_versions(updated)  # a graph built before this step can no longer be differentiated

    def update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update the array ``w`` in place, given its gradient ``g``, its ``state`` and its ``group``."""
        raise NotImplementedError

    # ---- saving and resuming ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything needed to resume, as a flat dict of arrays (``nn.save`` writes it as .npz):
        ``group.<i>.<hyperparameter>`` for each group, ``state.<k>.<name>`` for parameter k's state."""
        out = {}
        for i, group in enumerate(self.param_groups):
            out[f"group.{i}.params"] = np.asarray(len(group["params"]))  # to refuse another model's state
            for key in self.defaults:
                out[f"group.{i}.{key}"] = np.asarray(group[key])
        for k, state in enumerate(self.state):
            for key, value in state.items():
                if key in self.state_arrays:
                    out[f"state.{k}.{key}"] = np.array(value)
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned; everything is checked before anything changes."""
        name = type(self).__name__
        groups: list[dict[str, Any]] = [{} for _ in self.param_groups]
        per_param: list[dict[str, Any]] = [{} for _ in self.params]
        params = self.params
        for key, value in state.items():
            parts = key.split(".")
            try:
                kind, index, field = parts[0], int(parts[1]), ".".join(parts[2:])
                if kind == "group" and field == "params":
                    if int(np.asarray(value)) != len(self.param_groups[index]["params"]):
                        raise ValueError(f"group {index} was saved with {int(np.asarray(value))} parameters but "
                                         f"has {len(self.param_groups[index]['params'])}: the state of another model")
                elif kind == "group" and field in self.defaults:
                    groups[index][field] = _hyperparameter(value, self.defaults[field])
                elif kind == "state" and field in self.state_arrays:
                    value = np.asarray(value)
                    if field != "t" and value.shape != params[index].shape:
                        raise ValueError(f"{key} has shape {value.shape}, the parameter {params[index].shape}")
                    per_param[index][field] = value.astype(np.int64 if field == "t" else params[index].dtype)
                else:
                    raise ValueError(f"{key} is not a key of {name}'s state")
            except (IndexError, ValueError) as err:
                raise ValueError(f"{name}.load_state_dict: {err if 'shape' in str(err) else f'{key!r}: {err}'}"
                                 ) from None
        for i, group in enumerate(groups):
            missing = set(self.defaults) - set(group)
            if missing:
                raise ValueError(f"{name}.load_state_dict: group {i} lacks {sorted(missing)}")
        fields = {frozenset(s) for s in per_param if s}
        if len(fields) > 1:  # one parameter's state lacks an entry the others have: step() would fail part-way
            complete = max(fields, key=len)
            k = next(k for k, s in enumerate(per_param) if s and frozenset(s) != complete)
            raise ValueError(f"{name}.load_state_dict: parameter {k}'s state has {sorted(per_param[k])} but the "
                             f"others have {sorted(complete)}: an entry is missing")
        for group, loaded in zip(self.param_groups, groups, strict=True):
            group.update(loaded)
        self.state = [{k: (int(v) if k == "t" else v) for k, v in s.items()} for s in per_param]


def _as_groups(params, name):
    params = list(params) if not isinstance(params, dict) else [params]
    if params and all(isinstance(g, dict) for g in params):
        for i, g in enumerate(params):
            if "params" not in g:
                raise ValueError(f"{name}: parameter group {i} has no 'params'")
        return params
    if any(isinstance(g, dict) for g in params):
        raise TypeError(f"{name}: give either parameters or parameter groups (dicts), not a mix")
    return [{"params": params}]


def _param_list(params, name, i):
    from ..core.tensor import Tensor

    params = [params] if isinstance(params, Tensor) else list(params)
    for p in params:
        if not isinstance(p, Tensor) or not p.requires_grad:
            what = type(p).__name__ if not isinstance(p, Tensor) else "a Tensor that does not require grad"
            raise TypeError(f"{name}: parameter group {i} holds {what}; parameters are Tensors with "
                            "requires_grad=True")
    return params


def _hyperparameter(value, default):
    value = np.asarray(value)
    if isinstance(default, tuple):
        return tuple(float(v) for v in value)
    if isinstance(default, bool):
        return bool(value)
    return float(value)


class SGD(Optimizer):
    """g ← g + λw;  b ← μb + g (b = g at the first step);  g ← g + μb (Nesterov) or b;  w ← w − lr·g."""

    state_arrays = ("momentum",)

    def __init__(self, params: Params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)

    def _check(self, group, where):
        super()._check(group, where)
        if group["nesterov"] and group["momentum"] <= 0:
            raise ValueError(f"{where}nesterov needs momentum > 0")

    def update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum")
            if buf is None:
                buf = state["momentum"] = g.copy()
            else:
                buf *= momentum
                buf += g
            g = g + momentum * buf if group["nesterov"] else buf
        # w -= lr * g, with lr * g written into a buffer kept from step to step instead of a new array.
        step = state.get("scratch")
        if step is None:
            step = state["scratch"] = np.empty_like(w)
        np.multiply(g, group["lr"], out=step)
        w -= step


class Adam(Optimizer):
    """g ← g + λw;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
    w ← w − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)."""

    state_arrays = ("t", "m", "v")

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)

    def update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if self.decoupled and group["weight_decay"]:
            w *= 1 - lr * group["weight_decay"]
        if not state:
            state.update(t=0, m=np.zeros_like(w), v=np.zeros_like(w))
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        denom = np.sqrt(v / (1 - beta2 ** t))
        denom += group["eps"]
        w -= (lr / (1 - beta1 ** t)) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: w ← w(1 − lr·λ) before the Adam step, g untouched."""

    decoupled = True

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """g ← g + λw;  v ← αv + (1−α)g²;  u = g / (√v + ε);  b ← μb + u (with momentum) ;  w ← w − lr·(b or u)."""

    state_arrays = ("v", "momentum")

    def __init__(self, params: Params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay)

    def update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        if "v" not in state:
            state["v"] = np.zeros_like(w)
        v = state["v"]
        v *= alpha
        v += (1 - alpha) * g * g
        u = g / (np.sqrt(v) + group["eps"])
        if momentum:
            buf = state.setdefault("momentum", np.zeros_like(w))
            buf *= momentum
            buf += u
            u = buf
        w -= group["lr"] * u


# ---- by name, for command lines ---------------------------------------------------------------------------
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3}


def by_name(name: str, params: Params, lr: float | None = None) -> Optimizer:
    """An optimizer from a command-line name, each with its own default learning rate (``DEFAULT_LR``):
    sgd, momentum (SGD with Nesterov momentum 0.9), adam, adamw, rmsprop."""
    if name not in DEFAULT_LR:
        raise ValueError(f"by_name: unknown optimizer {name!r}; choose from {', '.join(DEFAULT_LR)}")
    lr = DEFAULT_LR[name] if lr is None else lr
    if name == "momentum":
        return SGD(params, lr=lr, momentum=0.9, nesterov=True)
    return {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}[name](params, lr=lr)


# ---- learning-rate schedules ------------------------------------------------------------------------
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

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state_dict()``'s step; checked before anything changes. Sets the lr at once."""
        name = type(self).__name__
        unknown = sorted(set(state) - {"t", "base_lrs"})
        if unknown or "t" not in state or "base_lrs" not in state:
            raise ValueError(f"{name}.load_state_dict: expected the keys t and base_lrs, got {sorted(state)}")
        base_lrs = [float(v) for v in np.asarray(state["base_lrs"]).ravel()]
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"{name}.load_state_dict: {len(base_lrs)} base lrs for "
                             f"{len(self.optimizer.param_groups)} parameter groups")
        self.t, self.base_lrs = int(np.asarray(state["t"])), base_lrs
        self._apply()

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


# ---- in modules of their own (each imports the base above) ------------------------------------------------
# PyTorch's schedulers live in optim.lr_scheduler; optim.StepLR is its StepLR (PyTorch's rule, which the one
# defined here before gave too).
from . import lr_scheduler as lr_scheduler  # noqa: E402
from .adadelta import Adadelta as Adadelta  # noqa: E402
from .lbfgs import LBFGS as LBFGS  # noqa: E402
from .lr_scheduler import StepLR as StepLR  # noqa: E402
