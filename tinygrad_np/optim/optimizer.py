"""Optimizer, the base every optimizer shares (parameter groups, state, checked loading), and the first-order
optimizers: SGD, Adam, AdamW, RMSprop.

Each optimizer updates ``p.data`` in place from ``p.grad`` and keeps its
state (momentum buffers, moment estimates) as arrays beside the parameters.
The update rules follow PyTorch's formulations, written out in each docstring.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
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
    """The base of the optimizers: parameter groups, ``zero_grad``, ``step`` (each subclass's ``propose`` on every
    parameter with a gradient), and ``state_dict`` / ``load_state_dict``."""

    hyperparameters: tuple[str, ...] = ()  # the names of the keyword arguments a group may set
    decoupled = False  # True when the rule applies weight decay itself (AdamW), not through g
    state_arrays: tuple[str, ...] = ()  # the names of the per-parameter state that state_dict saves
    state_counters: tuple[str, ...] = ()  # those of state_arrays that count steps: whole numbers from 0
    whole_state = False  # True when a parameter's state is all of state_arrays or none (Adam's t, m and v)

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
        if "eps" in group:
            _check_eps(group["eps"], group["params"], where)

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
        """Update every parameter that has a gradient, in place, by the optimizer's rule: all of them, or, when
        a group or a parameter's state could not be used, none (checked before the first update). Every new value
        is computed before any is written, and a step that would turn a finite parameter with a finite gradient
        into inf or NaN is refused, changing nothing: an overflow the gradient did not bring, made by the state or
        the hyperparameters (a state loaded from a file that no run made, a learning rate far too large)."""
        self._check_usable()
        # Arrays only (the underscored fields behind .grad and .data, read once a step each), so
        # nothing here is recorded: no need for no_grad().
        if not self._from_file and type(self).propose_into_w:
            self._step_in_place()  # the fast path, PyTorch's: nothing from a file to distrust
            return
        proposals = []
        with np.errstate(over="ignore"):  # an overflow is judged below: refused, or a diverged gradient's
            for k, p, g, state, group in self._with_gradients():
                new_w, new_state = self.propose(p._data, g, state, group)
                proposals.append((k, p, p._grad._data, new_w, state, new_state, group))
        for k, p, grad, new_w, _, new_state, group in proposals:
            _refuse_overflow(type(self).__name__, k, p._data, grad, new_w, new_state, group)
        for _, p, _, new_w, state, new_state, _ in proposals:
            np.copyto(p._data, new_w)
            state.update(new_state)
        bump_versions([p for _, p, *_ in proposals])  # a graph built before this step can no longer be differentiated

    #: True for a rule with a ``propose_into`` that may be given w itself as ``out`` (it reads w before writing
    #: its result): then an optimizer whose state no file gave (a fresh one) steps in place, without the two-phase
    #: check's extra passes over every parameter (on the MNIST MLP at batch 32, SGD's step took 2.6x as long).
    propose_into_w = False
    _from_file = False  # set by load_state_dict: a loaded state is checked on every step (step's docstring)

    def _with_gradients(self):
        """(k, parameter, its gradient with any coupled weight decay, its state, its group) for each parameter
        that has a gradient, k counting every parameter."""
        k = 0
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
                yield k - 1, p, g, state, group

    def _step_in_place(self) -> None:
        updated = []
        for _, p, g, state, group in self._with_gradients():
            state.update(self.propose_into(p._data, g, state, group, p._data))
            updated.append(p)
        bump_versions(updated)

    def propose_into(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any],
                     out: np.ndarray) -> dict[str, Any]:
        """The rule written into ``out`` (w itself, in the fast path): returns the new state entries."""
        raise NotImplementedError

    def propose(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]
                ) -> tuple[np.ndarray, dict[str, Any]]:
        """The rule: ``(new w, new state entries)`` for the array ``w``, given its gradient ``g``, its ``state`` and
        its ``group``, changing none of them (``step`` writes them once every parameter's is known and checked).
        The new w is in w's dtype."""
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

    @replayable  # inside a jitted step (a warm restart), each replay loads again
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned; everything is checked before anything changes, and a refusal is
        a ValueError naming the entry. Each hyperparameter must be of its default's kind (one real number, a
        pair, true or false), finite and in its range (``HYPERPARAMETER_RANGES``: lr, eps and weight_decay from
        0 to ``LARGEST_RATE``, 10,000, momentum and alpha from 0 to 1, each beta from 0 to below 1), and the
        groups together what the constructor accepts (nesterov needs momentum); each state entry must name a
        parameter by its index (0 to the count less one; never a negative index) and be an array of that
        parameter's shape of finite real numbers its dtype holds (a step count: one whole number from 0; a mean
        of squares such as Adam's v: no value below 0), and every parameter's state must have what the rule
        needs, so that ``step`` cannot fail part-way."""
        name = type(self).__name__
        groups: list[dict[str, Any]] = [{} for _ in self.param_groups]
        per_param: list[dict[str, Any]] = [{} for _ in self.params]
        params = self.params
        for key, value in state.items():
            try:
                kind, index, field = _state_key(key, len(groups), len(params))
                if kind is None:
                    raise ValueError(f"{key} is not a key of {name}'s state")
                if kind == "group" and field == "params":
                    count = _whole_number(value, "the count of the group's parameters")
                    if count != len(self.param_groups[index]["params"]):
                        raise ValueError(f"group {index} was saved with {count} parameters but "
                                         f"has {len(self.param_groups[index]['params'])}: the state of another model")
                elif kind == "group" and field in self.defaults:
                    groups[index][field] = _hyperparameter(value, self.defaults[field], field)
                elif kind == "state" and field in self.state_arrays:
                    per_param[index][field] = _state_entry(key, field, value, params[index],
                                                           field in self.state_counters)
                else:
                    raise ValueError(f"{key} is not a key of {name}'s state")
            except (IndexError, ValueError, TypeError) as err:
                raise ValueError(f"{name}.load_state_dict: {err if 'shape' in str(err) else f'{key!r}: {err}'}"
                                 ) from None
        for i, group in enumerate(groups):
            missing = set(self.defaults) - set(group)
            if missing:
                raise ValueError(f"{name}.load_state_dict: group {i} lacks {sorted(missing)}")
            if group.get("nesterov") and not group.get("momentum", 0) > 0:  # as the constructor refuses it
                raise ValueError(f"{name}.load_state_dict: group {i} has nesterov true, which needs momentum > 0, "
                                 f"and momentum {group.get('momentum')}")
        fields = {frozenset(s) for s in per_param if s}
        if len(fields) > 1:  # one parameter's state lacks an entry the others have: step() would fail part-way
            complete = max(fields, key=len)
            k = next(k for k, s in enumerate(per_param) if s and frozenset(s) != complete)
            raise ValueError(f"{name}.load_state_dict: parameter {k}'s state has {sorted(per_param[k])} but the "
                             f"others have {sorted(complete)}: an entry is missing")
        if self.whole_state and fields and fields != {frozenset(self.state_arrays)}:
            k = next(k for k, s in enumerate(per_param) if s)
            raise ValueError(f"{name}.load_state_dict: parameter {k}'s state has {sorted(per_param[k])}; {name} "
                             f"needs all of {sorted(self.state_arrays)} or none")
        k = 0
        for group, loaded in zip(self.param_groups, groups, strict=True):
            for _ in group["params"]:
                if per_param[k]:
                    try:
                        self._check_loaded_state({**group, **loaded}, per_param[k], k)
                    except ValueError as err:
                        raise ValueError(f"{name}.load_state_dict: {err}") from None
                k += 1
        for i, (group, loaded) in enumerate(zip(self.param_groups, groups, strict=True)):
            if "eps" in loaded:
                try:
                    _check_eps(loaded["eps"], group["params"], "")
                    _check_loaded_eps(loaded["eps"], group["params"])
                except ValueError as err:
                    raise ValueError(f"{name}.load_state_dict: 'group.{i}.eps': {err}") from None
        for group, loaded in zip(self.param_groups, groups, strict=True):
            group.update(loaded)
        self.state = per_param
        self._from_file = True  # from now on each step is checked before it writes (step's docstring)

    def _check_loaded_state(self, group: dict[str, Any], state: dict[str, Any], k: int) -> None:
        """Refuse parameter k's loaded state when no run of this rule could have made it (a subclass's own rules;
        each entry has been checked for its shape and for being finite)."""

    def _check_usable(self) -> None:
        """Refuse, before a step changes anything, a group or a parameter's state that its update could not use
        (set by hand after load_state_dict checked it): a pair of the wrong length, a step count that is not a
        whole number from 0, a state array of another shape. The cheap checks, made every step."""
        name, counters, arrays, states = type(self).__name__, self.state_counters, self.state_arrays, self.state
        k = 0
        for i, group in enumerate(self.param_groups):
            for key, default in self.defaults.items():
                if type(default) is tuple and len(group[key]) != len(default):
                    raise ValueError(f"{name}.step: group {i}'s {key} is {group[key]!r}, not {len(default)} numbers")
            for p in group["params"]:
                state, k = states[k], k + 1
                for key, value in state.items() if state else ():
                    if key in counters:
                        if not (isinstance(value, (int, np.integer)) and value >= 0):
                            raise ValueError(f"{name}.step: parameter {k - 1}'s {key} is {value!r}, not a whole "
                                             "number from 0")
                    elif key in arrays and getattr(value, "shape", None) != p._data.shape:
                        raise ValueError(f"{name}.step: parameter {k - 1}'s {key} has shape "
                                         f"{getattr(value, 'shape', None)}, the parameter {p._data.shape}")


def _check_eps(eps, params, where):
    """eps keeps a division by √v + eps away from 0/0: it must be above 0, and still above 0 once rounded to each
    parameter's dtype (1e-8 is 0 in float16), or a parameter whose gradient is 0 becomes NaN at the next step."""
    if isinstance(eps, bool) or not (isinstance(eps, numbers.Real) and eps > 0):
        raise ValueError(f"{where}eps must be > 0, got {eps!r} (with eps 0, a parameter whose gradient is 0 "
                         "would become 0/0 = NaN)")
    for dtype in sorted({p._data.dtype for p in params if p._data.dtype.kind == "f"}, key=str):
        if not np.asarray(eps, dtype=dtype) > 0:
            raise ValueError(f"{where}eps {eps!r} is 0 in the parameters' dtype {dtype} (a parameter whose gradient "
                             f"is 0 would become 0/0 = NaN); use an eps of at least {np.finfo(dtype).tiny:g}")


def _refuse_overflow(name, k, w, g, new_w, new_state, group):
    """Refuse a proposed step that turns parameter k, finite with a finite gradient, into inf or NaN. A gradient
    that is itself inf or NaN passes through as in PyTorch (the loss diverged: the parameters show it)."""
    # The sum of finite values is finite unless it overflows, and any inf or NaN makes it inf or NaN: one pass,
    # no array, on every step; the exact test only when it is not finite.
    def finite(a):
        return math.isfinite(a.sum()) or bool(np.isfinite(a).all())

    with np.errstate(over="ignore", invalid="ignore"):
        states = [(key, v) for key, v in new_state.items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                  and key not in ("scratch", "spare")]
        bad_state = [key for key, v in states if not finite(v)]  # a float16 v past 65504: the weights then stall
        if (finite(new_w) and not bad_state) or not (np.isfinite(w).all() and np.isfinite(g).all()):
            return
    if bad_state and finite(new_w):
        raise ValueError(f"{name}.step: parameter {k}'s {', '.join(bad_state)} would become inf or NaN from finite "
                         f"values and a finite gradient ({w.dtype}): the optimizer could never step it again, and "
                         "its own state_dict would be refused. Nothing was changed. Its state was loaded from a file "
                         "no run made, or the gradients are too large for this dtype: clip them, or use float32")
    held = ", ".join(f"its {key} up to {float(np.max(np.abs(value))):.3g}" for key, value in new_state.items()
                     if isinstance(value, np.ndarray) and value.size and key not in ("scratch", "spare"))
    largest = float(np.max(np.abs(g))) if g.size else 0.0
    raise ValueError(f"{name}.step: parameter {k} (shape {w.shape}, {w.dtype}) would become inf or NaN from finite "
                     f"values and a finite gradient (up to {largest:.3g}): the update overflows with lr "
                     f"{group['lr']:g}" + (f", {held}" if held else "") + ". Nothing was changed. Its state was "
                     "loaded from a file no run made, or lr is far too large for these gradients: lower lr, clip the "
                     "gradients, or start the optimizer afresh")


def _check_loaded_eps(eps, params):
    """A file's eps must also be at least √(the dtype's smallest subnormal) / 10 (3.7e-24 in float32): below
    the gradients whose squares underflow to 0 (|g| < 3.7e-23 in float32, a vanishing gradient), √v is 0 and
    the step is lr·m̂/eps, which an eps of 1e-45 made 7e16 from a gradient of 1e-25. Above it, such a step is
    at most 10·lr. (A user's own eps is theirs, as in PyTorch; every run's default is far above.)"""
    for dtype in sorted({p._data.dtype for p in params if p._data.dtype.kind == "f"}, key=str):
        floor = math.sqrt(float(np.finfo(dtype).smallest_subnormal)) / 10
        if float(eps) < floor:
            raise ValueError(f"eps {eps!r} is below {floor:.2g} for the parameters' dtype {dtype}: a gradient too "
                             "small for its square to register would then take a step up to "
                             f"{floor * 10 / float(eps):.2g} times lr. No run's eps is that small; use at least "
                             f"{floor:.2g}")


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
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter group {i} holds {type(p).__name__}; parameters are Tensors")
        if p.op is not None:  # PyTorch's rule: a frozen leaf (requires_grad False) is fine, it just gets no grad
            raise ValueError(f"{name}: parameter group {i} holds a non-leaf Tensor (made by {p.op.name}); "
                             "optimize the leaves it was computed from")
    return params


#: The range of each hyperparameter a loaded state may give, by name (both ends included, None for no end); each
#: beta of ``betas`` lies in [0, 1) (Adam divides by 1 - beta^t). A hyperparameter not named here need only be
#: finite and of its default's kind. lr, eps and weight_decay stop at LARGEST_RATE: a file's lr of 1e300 is
#: finite, but its first step would turn every parameter to inf or NaN (the constructor takes what a user writes).
LARGEST_RATE = 1e4
HYPERPARAMETER_RANGES: dict[str, tuple[float | None, float | None]] = {
    "lr": (0.0, LARGEST_RATE), "eps": (0.0, LARGEST_RATE), "weight_decay": (0.0, LARGEST_RATE),
    "momentum": (0.0, 1.0),
    "alpha": (0.0, 1.0), "rho": (0.0, 1.0), "dampening": (0.0, 1.0),
}
#: State arrays that hold means of squares, which no step makes negative (their square roots are taken).
NON_NEGATIVE_STATE = frozenset({"v", "square_avg", "acc_delta", "max_exp_avg_sq"})
_LARGEST_COUNT = 2**62


def _state_key(key, groups, params):
    """``(kind, index, field)`` of a state_dict key ``group.<i>.<field>`` or ``state.<k>.<field>``, the index
    written as state_dict writes it (digits, no sign, no leading zero) and in range."""
    parts = key.split(".") if isinstance(key, str) else []
    if len(parts) < 3 or parts[0] not in ("group", "state"):
        return None, None, None  # the caller names the key
    text = parts[1]
    count = groups if parts[0] == "group" else params
    if not (text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))):
        raise ValueError(f"its index {text!r} is not a whole number from 0 (a negative index names no parameter)")
    if int(text) >= count:
        raise ValueError(f"its index {text} is past the {count} {'groups' if parts[0] == 'group' else 'parameters'}")
    return parts[0], int(text), ".".join(parts[2:])


def _whole_number(value, what, largest=_LARGEST_COUNT):
    array = np.asarray(value)
    if array.shape != () or array.dtype.kind not in "iu" or not 0 <= int(array) <= largest:
        raise ValueError(f"{what} must be one whole number from 0" + (f" to 2**{largest.bit_length() - 1}" if int(
            array.size == 1 and array.dtype.kind in "iu" and int(array.reshape(-1)[0]) > largest) else "")
            + f", got {_shown(array)}")
    return int(array)


def _hyperparameter(value, default, field):
    """A group's hyperparameter from a loaded state: of ``default``'s kind, finite and in its range."""
    array = np.asarray(value)
    if isinstance(default, bool):
        if array.shape != () or array.dtype.kind != "b":
            raise ValueError(f"must be true or false, got {_shown(array)}")
        return bool(array)
    if default is None or isinstance(default, str):  # a choice by name (a string or None): kept as it is
        item = array.item() if array.shape == () and array.dtype.kind in "OUS" else array
        if not (item is None or isinstance(item, str)):
            raise ValueError(f"must be a name or None, got {_shown(array)}")
        return item
    pair = isinstance(default, tuple)
    shape = (len(default),) if pair else ()
    if array.shape != shape or array.dtype.kind not in "iuf" or not np.isfinite(array).all():
        raise ValueError(f"must be {f'{len(default)} finite numbers' if pair else 'one finite number'}, got "
                         f"{_shown(array)}")
    low, high = ((0.0, None) if field == "betas" else HYPERPARAMETER_RANGES.get(field, (None, None)))
    for v in array.reshape(-1).tolist():
        below_one = field in ("betas", "alpha")  # (RMSprop's alpha of 1 never moves v: v = 0 divides by eps alone)
        if (low is not None and v < low) or (high is not None and v > high) or (below_one and v >= 1):
            span = "from 0 to below 1" if below_one else (
                f"from {low:g}" + (f" to {high:g}" if high is not None else "") if low is not None else f"to {high:g}")
            raise ValueError(f"must be {span}, got {_shown(array)}")
    if pair:
        return tuple(float(v) for v in array)
    return int(array) if array.dtype.kind in "iu" else float(array)  # a count saved as one stays one


def _state_entry(key, field, value, param, counter):
    """One parameter's state entry from a loaded state: a step count, one whole number from 0; else an array of
    the parameter's shape of finite real numbers its dtype holds (and none below 0 in a mean of squares)."""
    if counter:
        return _whole_number(value, "a step count")
    array = np.asarray(value)
    if array.shape != param.shape:
        raise ValueError(f"{key} has shape {array.shape}, the parameter {param.shape}")
    if array.dtype.kind not in "iuf":
        raise ValueError(f"must hold real numbers, got dtype {array.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        cast = array.astype(param.dtype)
    if not np.isfinite(cast).all():
        raise ValueError("holds values that are not finite in the parameter's dtype "
                         f"{param.dtype} (NaN, inf, or too large)")
    if field in NON_NEGATIVE_STATE and (cast < 0).any():
        raise ValueError("is a mean of squares, and holds a value below 0")
    return cast


def _shown(array):
    text = repr(array.tolist()) if array.size <= 4 and array.dtype.kind != "O" else f"an array of shape {array.shape}"
    return f"{text} ({array.dtype})"


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

    propose_into_w = True

    def propose(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]
                ) -> tuple[np.ndarray, dict[str, Any]]:
        # w - lr * g, written into a buffer kept from step to step instead of a new array.
        new_w = state.get("scratch")
        if new_w is None:
            new_w = state["scratch"] = np.empty_like(w)
        return new_w, self.propose_into(w, g, state, group, new_w)

    def propose_into(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any],
                     out: np.ndarray) -> dict[str, Any]:
        momentum, new_state = group["momentum"], {}
        if momentum:
            buf = state.get("momentum")
            if buf is None:
                new_buf = g.copy()
            else:  # into the buffer the step before last used (kept as "spare"): no new array a step
                new_buf = state.get("spare")
                if new_buf is None or new_buf.shape != buf.shape or new_buf.dtype != buf.dtype:
                    new_buf = np.empty_like(buf)
                np.multiply(buf, momentum, out=new_buf)
                new_buf += g
                new_state["spare"] = buf
            new_state["momentum"] = new_buf
            g = g + momentum * new_buf if group["nesterov"] else new_buf
        if out is w:  # in place: lr * g into the kept scratch buffer, then w -= it
            step = state.get("scratch")
            if step is None:
                step = state["scratch"] = np.empty_like(w)
            np.multiply(g, group["lr"], out=step)
            w -= step
        else:
            np.multiply(g, group["lr"], out=out)
            np.subtract(w, out, out=out)
        return new_state


class Adam(Optimizer):
    """g ← g + λw;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
    w ← w − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)."""

    state_arrays = ("t", "m", "v")
    state_counters = ("t",)
    whole_state = True

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)

    def _check_loaded_state(self, group: dict[str, Any], state: dict[str, Any], k: int) -> None:
        """m and v are running averages of the same gradients: m = Σ aⱼ·gⱼ with weights aⱼ ≥ 0 summing to at most 1
        whatever β₁ did over the run (OneCycleLR cycles it, so the β₁ saved is not the one every step used), and
        v = Σ bⱼ·gⱼ² with bⱼ = (1−β₂)·β₂ʲ. By Cauchy-Schwarz m² ≤ (Σ aⱼ²/bⱼ)·v ≤ C²·v with C² = 1/((1−β₂)·β₂ᵗ⁻¹),
        the weights' worst case (all on the first gradient): a loaded m past that (m = −1.7e38 beside v = 0 was
        finite, and the next step made the weights inf) is a state no run made, whose step m̂/(√v̂ + ε) has no
        bound. (A bound from the saved β₁ alone refused real OneCycleLR checkpoints: 231 of 830 in a test.) That
        worst case fades as β₂ᵗ⁻¹ underflows (any m passed at t = 10⁶); when β₁ ≤ β₂, as in every usual setting
        (OneCycleLR's β₁ stays below 0.95), m forgets old gradients at least as fast as v, aⱼ ≤ β₂ᵗ⁻ʲ, and
        C² ≤ (1−β₂ᵗ)/(1−β₂)² at any t. When β₂ = 0, nothing is checked here; step() still refuses a step that
        would overflow."""
        (beta1, beta2), t, m, v = group["betas"], state["t"], state["m"], state["v"]
        if t == 0:  # no step taken: no gradient has reached m or v (a file's m of 1e30 at t 0 moved a weight 1e28)
            if np.any(m != 0) or np.any(v != 0):
                raise ValueError(f"parameter {k}'s state has t 0 (no step taken) but m or v not 0: no run made it")
            return
        if beta2 <= 0:
            return
        weight = (1 - beta2) * beta2 ** (t - 1)  # the smallest bⱼ: the first gradient's, in v
        c2 = 1 / weight if weight > 0 else math.inf
        if beta1 <= beta2 < 1:  # m forgets at least as fast as v: aⱼ ≤ β₂ᵗ⁻ʲ, so Σ aⱼ²/bⱼ ≤ Σₖ β₂ᵏ/(1−β₂),
            c2 = min(c2, (1 - beta2 ** t) / (1 - beta2) ** 2)  # ≤ 1/(1−β₂)² at any t (1e6 for the default β₂)
        if not math.isfinite(c2):
            return
        c = math.sqrt(c2)
        # Slack for rounding: 1% of the bound, and the m of gradients too small for their squares to reach v.
        floor = c * math.sqrt(float(np.finfo(m.dtype).smallest_subnormal) / (1 - beta2)) if m.dtype.kind == "f" else 0
        bound = c * np.sqrt(v.astype(np.float64)) * 1.01 + floor
        over = np.abs(m.astype(np.float64)) > bound
        if over.any():
            at = int(np.argmax(over))
            raise ValueError(f"parameter {k}'s m holds {float(m.flat[at]):.8g} beside v {float(v.flat[at]):.8g}: "
                             f"running averages of the same gradients keep |m| ≤ {c:.3g}·√v (betas "
                             f"{tuple(group['betas'])}, t {t}), so no run made this state, and its next step would be "
                             "unbounded")

    def propose(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]
                ) -> tuple[np.ndarray, dict[str, Any]]:
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if self.decoupled and group["weight_decay"]:
            w = w * (1 - lr * group["weight_decay"])
        t = state.get("t", 0) + 1
        m = beta1 * state["m"] + (1 - beta1) * g if state else (1 - beta1) * g
        v = beta2 * state["v"] + (1 - beta2) * g * g if state else (1 - beta2) * g * g
        m, v = m.astype(w.dtype, copy=False), v.astype(w.dtype, copy=False)  # the state keeps w's dtype
        denom = np.sqrt(v / (1 - beta2 ** t))
        denom += group["eps"]
        new_w = (w - (lr / (1 - beta1 ** t)) * m / denom).astype(w.dtype, copy=False)
        return new_w, {"t": t, "m": m, "v": v}


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

    def propose(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]
                ) -> tuple[np.ndarray, dict[str, Any]]:
        alpha, momentum = group["alpha"], group["momentum"]
        v = (alpha * state["v"] + (1 - alpha) * g * g if "v" in state else (1 - alpha) * g * g).astype(w.dtype,
                                                                                                      copy=False)
        u = g / (np.sqrt(v) + group["eps"])
        new_state = {"v": v}
        if momentum:
            u = (momentum * state["momentum"] + u if "momentum" in state else u).astype(w.dtype, copy=False)
            new_state["momentum"] = u
        return (w - group["lr"] * u).astype(w.dtype, copy=False), new_state


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
