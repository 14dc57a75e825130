"""L-BFGS: a quasi-Newton method that calls a closure for the loss and gradient, as PyTorch's ``optim.LBFGS``.

All parameters are treated as one flat vector x. Each iteration picks a
direction d = -H g, where H approximates the inverse Hessian from the last
``history_size`` pairs (s = step taken, y = change of gradient), applied to g
by the two-loop recursion (Nocedal and Wright, Algorithm 7.4) without forming
H. The step length is ``lr`` (the first iteration scales it by min(1, 1/|g|₁)),
or found by a line search satisfying the strong Wolfe conditions
(``line_search_fn="strong_wolfe"``; Nocedal and Wright, Algorithms 3.5 and
3.6, with cubic interpolation). The iteration counts, tolerances and
the order of the tests follow PyTorch's implementation, so that the two give
the same parameter trajectory.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..core.grad_mode import enable_grad
from ..core.jit_seam import refuse_in_trace, replayable
from ..core.tensor import bump_versions
from .optimizer import Optimizer, Params, _hyperparameter, _shown, _whole_number

Closure = Callable[[], Any]
# The smallest lr a file may give LBFGS: 0 divided by zero in the strong-Wolfe line search, part-way through a step,
# and 1e-100 made its interpolation NaN; no run uses an lr below this one.
_SMALLEST_LR = 1e-30
# The most iterations, closure calls and history pairs a file may give one step: a step's time and memory grow with
# them, and no run asks for more (the constructor takes what a user writes).
_LARGEST_COUNTS = {"max_iter": 100_000, "max_eval": 125_000, "history_size": 10_000}


class LBFGS(Optimizer):
    """``step(closure)`` runs up to ``max_iter`` iterations, calling ``closure`` (which zeroes the gradients,
    computes the loss, calls backward and returns the loss) at most ``max_eval`` times (default
    ``max_iter * 5 // 4``). It stops early when the largest gradient entry is at most ``tolerance_grad``, or when
    the step or the change of loss is below ``tolerance_change``. It returns the loss of the first closure call.

    Only one parameter group, as in PyTorch. Not inside ``tg.jit``: how many times the closure runs depends on
    the values it returns; jit the closure instead (``opt.step(tg.jit(closure))``).
    """

    state_arrays = ("func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
                    "prev_loss")

    def __init__(self, params: Params, lr: float = 1.0, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        for name, value in (("max_iter", max_iter), ("max_eval", max_eval), ("history_size", history_size)):
            if not (isinstance(value, (int, np.integer)) and value > 0):
                raise ValueError(f"LBFGS: {name} must be a positive integer, got {value!r}")
        super().__init__(params, lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                         tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): give it one list of "
                             "parameters, as PyTorch's LBFGS")
        self._params = self.param_groups[0]["params"]
        dtypes = {p.dtype for p in self._params}
        if len(dtypes) > 1 or self._params[0].dtype.kind != "f":
            raise TypeError(f"LBFGS: the parameters must share one floating-point dtype, got "
                            f"{sorted(map(str, dtypes))}")

    # ---- the parameters as one vector ----------------------------------------------------------------
    def _flat_grad(self) -> np.ndarray:
        """Every parameter's gradient, raveled and concatenated (zeros for a parameter without one)."""
        return np.concatenate([np.zeros(p.size, p.dtype) if p._grad is None else p._grad._data.reshape(-1)
                               for p in self._params])

    def _move(self, t: Any, d: np.ndarray) -> None:
        """x ← x + t·d, in place."""
        offset = 0
        for p in self._params:
            p._data += t * d[offset:offset + p.size].reshape(p.shape)
            offset += p.size
        bump_versions(self._params)  # a graph built before the move can no longer be differentiated

    def _copy_params(self) -> list[np.ndarray]:
        return [p._data.copy() for p in self._params]

    def _set_params(self, values: list[np.ndarray]) -> None:
        for p, value in zip(self._params, values, strict=True):
            p._data[...] = value
        bump_versions(self._params)

    def _evaluate(self, closure: Closure) -> tuple[Any, float]:
        with enable_grad():  # PyTorch's too: the closure needs its graph whatever mode step() was called in
            loss = closure()
        try:
            return loss, float(loss)
        except TypeError:
            raise TypeError(f"LBFGS.step: the closure must return the loss (a one-element Tensor or a number), got "
                            f"{type(loss).__name__}") from None

    def _at(self, closure: Closure, x: list[np.ndarray], t: Any, d: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss and flat gradient at x + t·d; the parameters are put back to x afterwards."""
        self._move(t, d)
        _, loss = self._evaluate(closure)
        grad = self._flat_grad()
        self._set_params(x)
        return loss, grad

    # ---- one step: up to max_iter iterations -------------------------------------------------------------
    def step(self, closure: Closure | None = None) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations on what ``closure`` computes; returns its first loss."""
        refuse_in_trace("LBFGS.step(closure)", "how many times it calls the closure, and where, depends on the "
                        "losses it sees, which a replay would not look at. Jit the closure instead and step "
                        "outside: opt.step(tg.jit(closure))")
        if closure is None:
            raise TypeError("LBFGS.step needs a closure: a function that clears the gradients, computes the loss, "
                            "calls loss.backward() and returns the loss (as PyTorch's LBFGS)")
        if not self._from_file:
            return self._step(closure)
        # A state from a file: the step is all or nothing. One that turns finite parameters into inf or NaN is
        # refused, the parameters and the state put back (as the first-order optimizers refuse such a step).
        before = [p._data.copy() for p in self._params]
        if not all(np.isfinite(b).all() for b in before):
            return self._step(closure)
        state = {k: list(v) if isinstance(v, list) else v for k, v in self.state[0].items()}
        try:
            result = self._step(closure)
            finite = all(np.isfinite(p._data).all() for p in self._params)
        except BaseException:
            self._set_params(before)
            self.state[0] = state
            raise
        if not finite:
            self._set_params(before)
            self.state[0] = state
            raise ValueError("LBFGS.step: the step would turn finite parameters into inf or NaN. Nothing was changed. "
                             "Its state was loaded from a file no run made, or lr is far too large: lower lr, or "
                             "start the optimizer afresh")
        return result

    def _step(self, closure: Closure) -> Any:
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[0]  # the state is global; PyTorch keeps it with the first parameter, as here
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss, loss = self._evaluate(closure)
        evals = 1
        state["func_evals"] += 1
        grad = self._flat_grad()
        if np.abs(grad).max() <= tolerance_grad:
            return first_loss

        d: Any = state.get("d")
        t, prev_grad, prev_loss = state.get("t"), state.get("prev_flat_grad"), state.get("prev_loss")
        iteration = 0
        while iteration < max_iter:
            iteration += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -grad
                state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
            else:
                d = self._direction(state, grad, grad - prev_grad, d * t, group["history_size"])
            prev_grad = grad.copy()
            prev_loss = loss

            # The step length: lr, the first time scaled down to a step of at most 1 in the 1-norm.
            t = min(1.0, 1.0 / np.abs(grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = grad.dot(d)  # the directional derivative
            if gtd > -tolerance_change:
                break  # not a descent direction any more, to within tolerance

            if group["line_search_fn"] == "strong_wolfe":
                x = self._copy_params()
                loss, grad, t, used = _strong_wolfe(lambda x, t, d: self._at(closure, x, t, d), x, t, d, loss, grad,
                                                    gtd, tolerance_change=tolerance_change, max_ls=max_eval - evals)
                self._move(t, d)
                optimal = np.abs(grad).max() <= tolerance_grad
            else:
                self._move(t, d)
                used, optimal = 0, False
                if iteration != max_iter:  # the last iteration's loss is left for the next step() to compute
                    _, loss = self._evaluate(closure)
                    grad = self._flat_grad()
                    optimal, used = np.abs(grad).max() <= tolerance_grad, 1
            evals += used
            state["func_evals"] += used

            if iteration == max_iter or evals >= max_eval or optimal:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break  # no progress
        state.update(d=d, t=t, prev_flat_grad=prev_grad, prev_loss=prev_loss)
        return first_loss

    @staticmethod
    def _direction(state: dict[str, Any], grad: np.ndarray, y: np.ndarray, s: np.ndarray, history: int) -> np.ndarray:
        """-H g by the two-loop recursion, after adding the pair (s, y) to the history if it keeps H positive
        definite (yᵀs > 1e-10); H's initial diagonal is yᵀs / yᵀy of the newest pair."""
        dirs, steps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        ys = y.dot(s)
        if ys > 1e-10:
            while len(dirs) >= history:  # >=, not ==: a history_size lowered by hand still bounds the history
                dirs.pop(0)
                steps.pop(0)
                ro.pop(0)
            dirs.append(y)
            steps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)
        return LBFGS._two_loop(dirs, steps, ro, state["H_diag"], grad)

    # ---- saving and resuming -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """The hyperparameters (``group.0.<name>``; line_search_fn as a string, "" for None) and the global state
        (``state.0.<name>``; the history as 2-D arrays, one row per pair), arrays only, for ``nn.save``."""
        group = self.param_groups[0]
        out = {"group.0.params": np.asarray(len(group["params"]))}
        for key in self.defaults:
            value = group[key]
            out[f"group.0.{key}"] = np.asarray("" if value is None else value)
        n = sum(p.size for p in self._params)
        for key, value in self.state[0].items():
            if key in ("old_dirs", "old_stps"):
                value = np.stack(value) if value else np.zeros((0, n), self._params[0].dtype)
            out[f"state.0.{key}"] = np.array(value)
        return out

    @replayable  # inside a jitted step, each replay loads again
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned; everything is checked before anything changes, and a refusal is a
        ValueError naming the entry: the hyperparameters as the constructor and ``HYPERPARAMETER_RANGES`` take
        them, the counts whole numbers from 0, every array of its shape (the history's rows and ``ro`` one per
        pair) with finite values the parameters' dtype holds."""
        try:
            hyper, restored = self._checked_state(state)
        except (TypeError, ValueError, IndexError, OverflowError) as err:
            raise ValueError(f"LBFGS.load_state_dict: {err}") from None
        self.param_groups[0].update(hyper)
        self.state = [restored] + [{} for _ in self._params[1:]]
        self._from_file = True  # each step from now on is all or nothing (step)

    def _checked_state(self, state: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        group, loaded, n = self.param_groups[0], {}, sum(p.size for p in self._params)
        hyper: dict[str, Any] = {}
        for key, value in state.items():
            value = np.asarray(value)
            if key == "group.0.params":
                if _whole_number(value, key) != len(group["params"]):
                    raise ValueError(f"saved with {int(value)} parameters but has {len(group['params'])}: the "
                                     "state of another model")
            elif isinstance(key, str) and key.startswith("group.0.") and key[8:] in self.defaults:
                name = key[8:]
                if name == "line_search_fn":
                    text = value.item() if value.shape == () and value.dtype.kind in "US" else None
                    if text not in ("", "strong_wolfe"):
                        raise ValueError(f"{key} must be '' (None) or 'strong_wolfe', got {_shown(value)}")
                    hyper[name] = text or None
                elif name in ("max_iter", "max_eval", "history_size"):
                    hyper[name] = _whole_number(value, key)
                    most = _LARGEST_COUNTS[name]
                    if not 1 <= hyper[name] <= most:  # (a file's 10**9 iterations ran a day-long step)
                        raise ValueError(f"{key} must be a whole number from 1 to {most:,}, got {hyper[name]:,}")
                else:
                    try:
                        hyper[name] = float(_hyperparameter(value, 0.0, name))
                    except ValueError as err:
                        raise ValueError(f"{key} {err}") from None
                    if name == "lr" and not hyper[name] >= _SMALLEST_LR:  # as the constructor: lr > 0 (and, for
                        raise ValueError(f"{key} is {hyper[name]!r}: LBFGS's lr must be at least {_SMALLEST_LR:g} "
                                         "(0 divides by zero in the line search, 1e-300 makes NaN)")
            elif isinstance(key, str) and key.startswith("state.0.") and key[8:] in self.state_arrays:
                loaded[key[8:]] = value
            else:
                raise ValueError(f"{key!r} is not a key of LBFGS's state")
        missing = set(self.defaults) - set(hyper)
        if missing:
            raise ValueError(f"group 0 lacks {sorted(missing)}")
        absent = set(self.state_arrays) - set(loaded)
        if loaded and absent:  # a run's state is all of these or none: a part would fail at the next step()
            raise ValueError(f"the state lacks {sorted('state.0.' + a for a in absent)}: a run that has stepped leaves "
                             "all of LBFGS's state entries, a fresh one none")
        dtype = self._params[0].dtype
        history = loaded.get("old_dirs", loaded.get("old_stps"))
        pairs = history.shape[0] if history is not None and history.ndim == 2 else (
            loaded["ro"].shape[0] if "ro" in loaded and loaded["ro"].ndim == 1 else None)
        shapes = {"d": (n,), "prev_flat_grad": (n,), "ro": (pairs,), "old_dirs": (pairs, n), "old_stps": (pairs, n),
                  "t": (), "H_diag": (), "prev_loss": (), "func_evals": (), "n_iter": ()}
        if pairs is not None and pairs > hyper["history_size"]:  # kept: the history and its cost would never shrink
            raise ValueError(f"the history (state.0.old_dirs, old_stps, ro) has {pairs:,} pairs, more than the "
                             f"history_size of {hyper['history_size']:,}")
        restored: dict[str, Any] = {}
        for name, value in loaded.items():
            key = f"state.0.{name}"
            if value.shape != shapes[name] or (name == "ro" and pairs is None):
                expected = ("expected one value per pair of the history" if name == "ro" else
                            f"the parameters {n} values" if name in ("d", "prev_flat_grad") else
                            f"expected {shapes[name]}")
                raise ValueError(f"{key} has shape {value.shape}, {expected}")
            if name in ("func_evals", "n_iter"):
                restored[name] = _whole_number(value, key)
                continue
            if value.dtype.kind not in "iuf":
                raise ValueError(f"{key} must hold real numbers, got dtype {value.dtype}")
            with np.errstate(over="ignore", invalid="ignore"):
                cast = value.astype(np.float64 if name == "prev_loss" else dtype)
            if not np.isfinite(cast).all():
                raise ValueError(f"{key} holds values that are not finite in {cast.dtype} (NaN, inf, or too large)")
            if name in ("old_dirs", "old_stps"):
                restored[name] = list(cast)
            elif name == "ro":
                restored[name] = [dtype.type(v) for v in cast]
            elif name in ("d", "prev_flat_grad"):
                restored[name] = cast
            elif name == "prev_loss":
                restored[name] = float(cast)
            else:  # t, H_diag
                restored[name] = dtype.type(cast)
        if "d" in restored:
            self._check_consistent(hyper, restored)
        return hyper, restored

    @classmethod
    def _check_consistent(cls, hyper: dict[str, Any], state: dict[str, Any]) -> None:
        """What the rule makes, held together: each pair's ro = 1/yᵀs with yᵀs > 1e-10 (ro ≤ 1e10); H_diag = yᵀs/yᵀy
        of the newest pair (≤ |s|/|y| by Cauchy-Schwarz; 1 before any pair); d = -H·prev_flat_grad by the
        two-loop recursion over the saved history (d is computed from it, then the gradient saved); t ≥ 0. A
        state with H_diag 3e38 or d 3e38 passed the finite test and made the next step inf. (A huge finite t, or
        a huge but consistent history, is not caught here; a step it would make inf is refused by step().)"""
        dirs, steps, ro, h_diag = state["old_dirs"], state["old_stps"], state["ro"], float(state["H_diag"])
        if any(not 0 < float(r) <= 1e10 * (1 + 1e-6) for r in ro):
            raise ValueError("state.0.ro holds a value outside (0, 1e10]: each is 1/yᵀs of a pair kept only when "
                             "yᵀs > 1e-10")
        if not dirs and h_diag != 1.0:
            raise ValueError(f"state.0.H_diag is {h_diag:g} with no pair in the history, where it is 1")
        if dirs:
            y, s = dirs[-1].astype(np.float64), steps[-1].astype(np.float64)
            bound = np.linalg.norm(s) / max(np.linalg.norm(y), 1e-300) * (1 + 1e-3) + 1e-30
            if not 0 < h_diag <= bound:
                raise ValueError(f"state.0.H_diag is {h_diag:g}: it is yᵀs/yᵀy of the newest pair, in (0, "
                                 f"|s|/|y| = {bound:.3g}]")
        if not float(state["t"]) >= 0:  # (its size is not bounded: a scheduler may have lowered lr since)
            raise ValueError(f"state.0.t is {float(state['t']):g}: a step length is not negative")
        prev = state["prev_flat_grad"]
        expected = cls._two_loop(dirs, steps, ro, state["H_diag"], prev)
        scale = float(np.abs(expected).max()) if expected.size else 0.0
        tiny = float(np.finfo(prev.dtype).tiny)
        with np.errstate(over="ignore", invalid="ignore"):
            off = float(np.abs(state["d"].astype(np.float64) - expected.astype(np.float64)).max()) if expected.size \
                else 0.0
        if not off <= 1e-2 * scale + tiny:
            raise ValueError("state.0.d is not the direction the saved history gives for state.0.prev_flat_grad "
                             f"(-H·g by the two-loop recursion): off by up to {off:.3g}, where the direction's "
                             f"largest entry is {scale:.3g}")

    @staticmethod
    def _two_loop(dirs: list, steps: list, ro: list, h_diag: Any, grad: np.ndarray) -> np.ndarray:
        """-H g by the two-loop recursion over the history (dirs: the y's, steps: the s's, ro: 1/yᵀs)."""
        alphas = [0.0] * len(dirs)
        q = -grad
        for i in range(len(dirs) - 1, -1, -1):
            alphas[i] = steps[i].dot(q) * ro[i]
            q = q - alphas[i] * dirs[i]
        r = q * h_diag
        for i in range(len(dirs)):
            beta = dirs[i].dot(r) * ro[i]
            r = r + (alphas[i] - beta) * steps[i]
        return r


def _cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                   bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clipped to ``bounds``
    (default: between x1 and x2); the middle of the bounds when the cubic has no minimum."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_squared = d1 ** 2 - g1 * g2
    if d2_squared < 0:
        return (low + high) / 2.0
    d2 = np.sqrt(d2_squared)
    if x1 <= x2:
        minimum = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        minimum = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(minimum, low), high)


def _strong_wolfe(evaluate: Callable[[Any, Any, np.ndarray], tuple[float, np.ndarray]], x: Any, t: Any,
                  d: np.ndarray, f: float, g: np.ndarray, gtd: Any, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple[float, np.ndarray, Any, int]:
    """A step t along d meeting the strong Wolfe conditions, f(t) <= f + c1·t·gtd and |f'(t)| <= c2·|gtd|:
    first widen t until an interval [lo, hi] must hold one (the bracket), then shrink it by cubic
    interpolation (the zoom). Returns the loss, flat gradient and t found, and how many evaluations it made."""
    d_max = np.abs(d).max()
    f_new, g_new = evaluate(x, t, d)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done, tries = False, 0
    while tries < max_ls:  # the bracket phase
        too_far = f_new > f + c1 * t * gtd or (tries > 1 and f_new >= f_prev)  # no sufficient decrease
        if not too_far and abs(gtd_new) <= -c2 * gtd:  # both conditions hold at t
            bracket, bracket_f, bracket_g, done = [t], [f_new], [g_new], True
            break
        if too_far or gtd_new >= 0:  # a minimum lies between the last two points
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # Still descending and still below the sufficient-decrease line: a longer step, by interpolation.
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        tries += 1
    if tries == max_ls:  # out of evaluations: the best of the start and the last point
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and tries < max_ls:  # the zoom phase
        if abs(bracket[1] - bracket[0]) * d_max < tolerance_change:
            break
        t = _cubic_minimum(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # A point too near an end of the bracket makes little progress: the second time, or at the end itself,
        # move it a tenth of the bracket inside.
        margin = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < margin:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - margin if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        tries += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            # Not a sufficient decrease, or not below the low end: t becomes the high end.
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:  # the minimum lies behind t: the old low is high
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals
