"""Operations composed from the primitives: a few lines each, with no derivative rule of their own.

The engine differentiates the parts (ops/), so each derivative follows from
theirs; the docstrings state what it comes to. Each function here is also a
Tensor method (``x.softmax()`` is ``softmax(x)``), attached by ``@method``,
and each has an op-table row against NumPy (tests/op_table.py).

Where a composition was too slow or not stable enough, it became a fused
primitive instead: docs/how_it_works.md lists those and why.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from . import ops as _ops
from .core.arguments import axes_arg, axis_arg, refuse_pytorch_names, scalar_axis, shape_arg
from .core.errors import ArgumentError
from .core.jit_seam import note
from .core.tensor import Tensor
from .numpy_functions import _operands, concatenate, where
from .typing import Axis, TensorLike

F = TypeVar("F", bound=Callable[..., Any])


def method(f: F | None = None, *, name: str | None = None) -> Any:
    """Make ``f(x, ...)`` a Tensor method as well: ``x.f(...)``, or ``x.<name>(...)`` where a name is given."""
    def attach(f: F) -> F:
        setattr(Tensor, name or f.__name__, f)
        return f

    return attach if f is None else attach(f)


# ---- activations ------------------------------------------------------------------------------------
@method
def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x).   d/dx = s + x s (1 - s), with s = sigmoid(x)."""
    return x * x.sigmoid()


@method
def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU, x Φ(x), as PyTorch's: exact, 0.5 x (1 + erf(x / √2)), by default (``approximate="none"``), or the
    tanh approximation 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) with ``approximate="tanh"``. Not a
    composition: the fused op ``ops.Gelu``, whose docstring states its derivative (d/dx = Φ(x) + x φ(x) for
    the exact form)."""
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh' (PyTorch's), got {approximate!r}")
    return _ops.Gelu.apply(x, approximate=approximate)


@method
def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, else negative_slope * x (from where).   d/dx = 1 or negative_slope, negative_slope at 0,
    as in PyTorch."""
    return where(x > 0, x, x * negative_slope)


@method
def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x) - 1).   d/dx = 1 or alpha exp(x), alpha at 0.

    The exponential only ever sees min(x, 0), so large x cannot overflow it.
    """
    positive = x > 0
    negative_part = where(positive, 0.0, x)
    return where(positive, x, alpha * (negative_part.exp() - 1.0))


@method
def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """x limited to [min, max] (either may be None; from where).

    d/dx = 1 where min <= x <= max (bounds included, as PyTorch's clamp), else 0. With neither bound it is
    refused, as PyTorch refuses it.
    """
    if min is None and max is None:
        raise ArgumentError("clip: give min, max or both (at least one must not be None, as in PyTorch's clamp)")
    low = -np.inf if min is None else min
    high = np.inf if max is None else max
    inside = note(_between, x._data, low, high)
    bound = note(_clipped, x._data, low, high)
    return where(Tensor._make(inside, False), x, Tensor._make(bound, False))


def _between(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.asarray((x >= low) & (x <= high))


def _strictly_between(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.asarray((x > low) & (x < high))


def _limited(x: Tensor, low: float, high: float) -> Tensor:
    """x limited to [low, high] with PyTorch's gradient for relu6, hardtanh and hardsigmoid: 1 strictly inside,
    0 at the bounds and outside (clip passes 1 at the bounds, as PyTorch's clamp does)."""
    inside = note(_strictly_between, x._data, low, high)
    bound = note(_clipped, x._data, low, high)
    return where(Tensor._make(inside, False), x, Tensor._make(bound, False))


def _clipped(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.asarray(np.clip(x, low, high)).astype(x.dtype, copy=False)  # NumPy 1.x would upcast 0-d


@method
def softmax(x: Tensor, axis: int = -1, **pytorch_names: Any) -> Tensor:
    """exp(log_softmax(x)): as stable as log_softmax.   dL/dx = z * (dL/dz - sum(dL/dz * z, axis))."""
    refuse_pytorch_names("softmax", pytorch_names)
    return x.log_softmax(axis if scalar_axis(axis, x.ndim, "softmax") else axis_arg(axis, x.ndim, "softmax")).exp()


def minimum(x: TensorLike, y: TensorLike) -> Tensor:
    """The elementwise smaller of x and y (tensors or numbers; ops.Minimum).   dL/dx = dL/dz where x is the
    smaller, and half of it at ties (as PyTorch); y likewise."""
    x, y = _operands(x, y, "minimum")
    return _ops.Minimum.apply(x, y)


# ---- reductions -------------------------------------------------------------------------------------
@method
def mean(x: Tensor, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """The sum divided by the number of elements summed.   d/dx = dL/dz / n, broadcast back.

    Over an empty axis it is NaN, as in NumPy (0 / 0), not an error.
    """
    refuse_pytorch_names("mean", pytorch_names)
    axes = axes_arg(axis, x.ndim, "mean")
    count = math.prod(x.shape[a] for a in axes)
    return x.sum(axis=axes, keepdims=keepdims) * (1.0 / count if count else math.nan)


@method(name="min")  # not called min here: that would hide Python's min from this module
def reduce_min(x: Tensor, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """The smallest value over ``axis`` (None: every axis; an int or a tuple; ops.Min).   dL/dx = dL/dz at
    the minima, shared equally by ties, as in max."""
    refuse_pytorch_names("min", pytorch_names)
    return _ops.Min.apply(x, axis=axes_arg(axis, x.ndim, "min"), keepdims=keepdims)


@method
def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """log(sum(exp(x), axis)), computed as m + log(sum(exp(x - m))) with m the max.

    d/dx = softmax(x) along the axes. m is held constant: it cancels in the
    value, and treating it so keeps its ties out of the gradient. Rows that
    are all -inf give -inf, as in NumPy and PyTorch.
    """
    refuse_pytorch_names("logsumexp", pytorch_names)
    axes = axes_arg(axis, x.ndim, "logsumexp")
    m = Tensor._make(note(_finite_max, x._data, axes), False)
    out = (x - m).exp().sum(axis=axes, keepdims=True).log() + m
    return out if keepdims else out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))



def _finite_max(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The max along the axes, 0 where it is not finite: logsumexp's shift, a constant for the gradient."""
    m = x.max(axis=axes, keepdims=True)
    return np.where(np.isfinite(m), m, 0).astype(x.dtype)


@method
def var(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0, **pytorch_names: Any) -> Tensor:
    """mean((x - mean(x))²) over the axes, times n / (n - ddof) (NumPy's ddof).

    d/dx = 2 (x - mean(x)) / (n - ddof). With ddof >= n the sum of squares is divided by 0, as in NumPy and
    PyTorch: inf, or NaN where it is 0 (one element, or all equal), without NumPy's warnings.
    """
    refuse_pytorch_names("var", pytorch_names)
    axes = axes_arg(axis, x.ndim, "var")
    count = math.prod(x.shape[a] for a in axes) - ddof
    centred = x - x.mean(axis=axes, keepdims=True)
    if count > 0:
        return (centred * centred).sum(axis=axes, keepdims=keepdims) * (1.0 / count)
    # Pow and Div say nothing of the inf * 0 and 0 / 0 their values and gradients hold here; Mul would warn.
    return (centred ** 2).sum(axis=axes, keepdims=keepdims) / 0.0


@method
def std(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0, **pytorch_names: Any) -> Tensor:
    """sqrt(var(...)).   d/dx = (x - mean(x)) / ((n - ddof) std)."""
    refuse_pytorch_names("std", pytorch_names)
    return x.var(axis=axis, keepdims=keepdims, ddof=ddof).sqrt()


# ---- pieces and order -------------------------------------------------------------------------------
@method
def split(x: Tensor, size_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """A list of pieces along ``axis``: of ``size_or_sections`` each (the last may be shorter), or of the listed
    sizes, which must add up to the axis's length (PyTorch's split; slices).   Each piece's gradient lands in
    its slice of dL/dx."""
    axis = axis_arg(axis, x.ndim, "split")
    length = x.shape[axis]
    if isinstance(size_or_sections, (list, tuple)):
        sizes = [int(n) for n in size_or_sections]
        if sum(sizes) != length or min(sizes, default=0) < 0:
            raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {length}, "
                             f"the length of axis {axis}")
    else:
        size = shape_arg((size_or_sections,), "split")[0]
        if size < 1:
            raise ValueError(f"split: the piece size must be positive, got {size}")
        sizes = [min(size, length - start) for start in range(0, length, size)]
    pieces, start = [], 0
    for n in sizes:
        pieces.append(x[(slice(None),) * axis + (slice(start, start + n),)])
        start += n
    return pieces


@method
def chunk(x: Tensor, n: int, axis: int = 0) -> list[Tensor]:
    """``n`` pieces along ``axis`` of ceil(length / n) each (fewer if they run out), as PyTorch's chunk (split).
    Each piece's gradient lands in its slice of dL/dx."""
    n = shape_arg((n,), "chunk")[0]
    if n < 1:
        raise ValueError(f"chunk: the number of pieces must be positive, got {n}")
    axis = axis_arg(axis, x.ndim, "chunk")
    return x.split(max(1, -(-x.shape[axis] // n)), axis=axis)


@method
def flip(x: Tensor, axis: Axis = None) -> Tensor:
    """Reverse the order along ``axis`` (all axes for None; a reversed slice).   dL/dx = dL/dz flipped back."""
    axes = axes_arg(axis, x.ndim, "flip")
    return x[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))]


def stack(tensors: Iterable[TensorLike], axis: int = 0, **pytorch_names: Any) -> Tensor:
    """Join same-shaped tensors along a new axis: reshape each, then concatenate.   Each tensor's gradient is
    its slice of dL/dz."""
    refuse_pytorch_names("stack", pytorch_names)
    parts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not parts:
        raise ValueError("stack: needs at least one tensor")
    shape = parts[0].shape
    for i, t in enumerate(parts):
        if t.shape != shape:
            raise ValueError(f"stack: tensor 0 has shape {shape} but tensor {i} has shape {t.shape}")
    axis = axis_arg(axis, len(shape) + 1, "stack")
    new_shape = shape[:axis] + (1,) + shape[axis:]
    return concatenate([t.reshape(new_shape) for t in parts], axis=axis)


# ---- more of what PyTorch users reach for ------------------------------------------------------------------
@method
def tan(x: Tensor) -> Tensor:
    """sin(x) / cos(x).   d/dx = 1 / cos²(x)."""
    return x.sin() / x.cos()


@method
def log2(x: Tensor) -> Tensor:
    """log(x) / log(2).   d/dx = 1 / (x log 2)."""
    return x.log() * (1.0 / math.log(2.0))


@method
def exp2(x: Tensor) -> Tensor:
    """exp(x log 2).   d/dx = 2^x log 2."""
    return (x * math.log(2.0)).exp()


@method
def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x).   d/dx = -1 / (2 x^(3/2))."""
    return 1.0 / x.sqrt()


def _piecewise_constant(kind: str) -> Callable[[Tensor], Tensor]:
    def f(x: Tensor) -> Tensor:
        return _ops.PiecewiseConstant.apply(x, kind=kind)

    f.__name__ = kind
    f.__doc__ = f"numpy.{kind} of each element (ops.PiecewiseConstant).   d/dx = 0."
    return f


for _kind in _ops.PiecewiseConstant.kinds:
    method(_piecewise_constant(_kind))


@method
def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6) (where).   d/dx = 1 strictly between 0 and 6, else 0: 0 at 0 and at 6, as PyTorch's."""
    return _limited(x, 0.0, 6.0)


@method
def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x limited to [min_val, max_val] (where; PyTorch's argument names).   d/dx = 1 strictly inside, else 0:
    0 at the bounds, as PyTorch's (clip passes 1 there, as PyTorch's clamp)."""
    return _limited(x, min_val, max_val)


@method
def hardswish(x: Tensor) -> Tensor:
    """x relu6(x + 3) / 6.   d/dx follows from the parts: 0 up to -3, 1 from 3 on, (2x + 3) / 6 between (0 at
    -3 and 1 at 3, as PyTorch's)."""
    return x * (x + 3.0).relu6() * (1.0 / 6.0)


@method
def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|).   d/dx = 1 / (1 + |x|)²."""
    return x / (1.0 + abs(x))


@method
def mish(x: Tensor) -> Tensor:
    """x tanh(softplus(x)).   d/dx follows from the parts."""
    return x * x.softplus().tanh()


@method
def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x / alpha) - 1): alpha elu(x / alpha).   d/dx = 1, or exp(x / alpha)."""
    return (x * (1.0 / alpha)).elu(1.0) * alpha


def _triangle(x: Tensor, k: int, lower: bool, op: str) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{op}: needs at least 2 dimensions, got shape {x.shape}")
    keep = np.tri(x.shape[-2], x.shape[-1], k, dtype=bool)
    zero = Tensor._make(np.zeros((), dtype=x.dtype), False)  # x's own zero: a bool or int x keeps its dtype
    return where(keep if lower else ~np.tri(x.shape[-2], x.shape[-1], k - 1, dtype=bool), x, zero)


@method
def tril(x: Tensor, k: int = 0) -> Tensor:
    """x on and below the k-th diagonal of its last two axes, 0 above (where).   d/dx = the same mask."""
    return _triangle(x, k, True, "tril")


@method
def triu(x: Tensor, k: int = 0) -> Tensor:
    """x on and above the k-th diagonal of its last two axes, 0 below (where).   d/dx = the same mask."""
    return _triangle(x, k, False, "triu")


@method
def tile(x: Tensor, reps: int | Sequence[int]) -> Tensor:
    """x repeated ``reps`` times along each axis, as numpy.tile and PyTorch's tile (and PyTorch's repeat): a
    broadcast and a reshape.   dL/dx = dL/dz summed over the copies."""
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    reps = (1,) * (x.ndim - len(reps)) + reps
    x = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
    spread = x.reshape(tuple(n for pair in zip((1,) * x.ndim, x.shape, strict=True) for n in pair))
    copies = spread.broadcast_to(tuple(n for pair in zip(reps, x.shape, strict=True) for n in pair))
    return copies.reshape(tuple(r * n for r, n in zip(reps, x.shape, strict=True)))


@method
def repeat_interleave(x: Tensor, repeats: int, axis: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (flattened for None): numpy.repeat with one count,
    PyTorch's repeat_interleave.   dL/dx = dL/dz summed over each element's copies."""
    if not isinstance(repeats, (int, np.integer)) or repeats < 0:
        raise TypeError(f"repeat_interleave: repeats must be a non-negative integer, got {repeats!r}")
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis_arg(axis, x.ndim, "repeat_interleave")
    spread = x.reshape(x.shape[:axis + 1] + (1,) + x.shape[axis + 1:])
    copies = spread.broadcast_to(x.shape[:axis + 1] + (repeats,) + x.shape[axis + 1:])
    return copies.reshape(x.shape[:axis] + (x.shape[axis] * repeats,) + x.shape[axis + 1:])


@method
def cumsum(x: Tensor, axis: int | None = None, **pytorch_names: Any) -> Tensor:
    """Running sums along ``axis`` (of the flattened tensor for None, as NumPy) (ops.Cumsum).   dL/dx = the
    running sum of dL/dz along the axis taken from the end."""
    refuse_pytorch_names("cumsum", pytorch_names)
    return scan(_ops.Cumsum, x, axis, "cumsum")


def scan(op: Any, x: Tensor, axis: int | None, name: str, **params: Any) -> Tensor:
    """A running op (Cumsum, Cumprod, Logcumsumexp) along ``axis``: over the flattened tensor for None (NumPy's
    rule), and along the one element of a 0-d tensor for axis 0 or -1 (PyTorch's)."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    elif scalar_axis(axis, x.ndim, name):
        return op.apply(x.reshape(1), axis=0, **params).reshape(())
    return op.apply(x, axis=axis_arg(axis, x.ndim, name), **params)


@method
def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """Indices of the minima along ``axis`` (of the flattened tensor for None), as an int64 Tensor. Not
    differentiable: the result has no gradient."""
    refuse_pytorch_names("argmin", pytorch_names)
    return Tensor._make(note(_argmin, x._data, axis, keepdims), False)


def _argmin(x: np.ndarray, axis: int | None, keepdims: bool) -> np.ndarray:
    return np.asarray(np.argmin(x, axis=axis, keepdims=keepdims), dtype=np.int64)


# ---- shape and indexing in PyTorch's forms (issue 29): flatten's axes, unflatten, unfold, roll, diagonal, diag,
# masked_select, scatter and scatter_reduce. Each is indexing, reshapes and joins, so the engine differentiates
# the parts; the index arrays are computed from shapes alone, or in notes (core/jit_seam.py) from the index a
# caller passes, so that a jit replay checks and uses each call's own.
def _axis_of(axis: int, ndim: int, op: str, name: str = "axis") -> int:
    """``axis`` resolved against ``ndim``; out of range is NumPy's AxisError, which is both the ValueError our
    other ops raise and the IndexError PyTorch raises."""
    try:
        return axis_arg(axis, ndim, op, name)
    except ValueError as err:
        raise np.exceptions.AxisError(str(err)) from None


@method
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Axes start_dim..end_dim (negatives count from the end) as one: all of them by default, NumPy's
    flatten(); ``x.flatten(1)`` keeps the batch axis, as PyTorch's (a reshape; a 0-d tensor becomes (1,)).
    dL/dx = dL/dz reshaped back."""
    if x.ndim == 0:
        _axis_of(start_dim, 1, "flatten", "start_dim"), _axis_of(end_dim, 1, "flatten", "end_dim")
        return x.reshape(1)
    start, end = _axis_of(start_dim, x.ndim, "flatten", "start_dim"), _axis_of(end_dim, x.ndim, "flatten", "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    # The flattened length written out, not -1: an empty tensor has no -1 to infer.
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


@method
def unflatten(x: Tensor, axis: int, sizes: Sequence[int]) -> Tensor:
    """Axis ``axis`` split into axes of ``sizes`` (one may be -1), as PyTorch's unflatten (a reshape).
    dL/dx = dL/dz reshaped back."""
    axis = _axis_of(axis, x.ndim, "unflatten")
    sizes = shape_arg((sizes,), "unflatten")
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[axis]) or (
            -1 in sizes and (known == 0 or x.shape[axis] % known)):
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to axis {axis}'s length {x.shape[axis]}")
    sizes = tuple(x.shape[axis] // known if n == -1 else n for n in sizes)
    return x.reshape(x.shape[:axis] + sizes + x.shape[axis + 1:])


@method
def unfold(x: Tensor, axis: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements along ``axis``, ``step`` apart, as PyTorch's Tensor.unfold(dimension,
    size, step): that axis holds the windows and a new last axis the elements of each (an index). dL/dx =
    dL/dz added back where each window came from (overlapping windows add up)."""
    axis = _axis_of(axis, x.ndim, "unfold")
    length = x.shape[axis]
    if not isinstance(size, (int, np.integer)) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"unfold: size and step must be integers, got {size!r} and {step!r}")
    if step < 1:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if not 0 <= size <= length:
        raise RuntimeError(f"unfold: the window size {size} does not fit axis {axis} of length {length}")
    starts = np.arange((length - size) // step + 1) * step
    windows = x[(slice(None),) * axis + (starts[:, None] + np.arange(size)[None, :],)]
    order = tuple(a for a in range(windows.ndim) if a != axis + 1) + (axis + 1,)
    return windows.transpose(*order)


@method
def roll(x: Tensor, shift: int | Sequence[int] | None = None, axis: Axis = None, **pytorch_names: Any) -> Tensor:
    """Elements shifted ``shift`` places along ``axis`` (each of several, with a shift each), those pushed off
    the end coming back at the start, as numpy.roll and PyTorch's roll(shifts, dims); with axis None the
    flattened tensor is rolled. Several shifts need as many axes (PyTorch refuses them unpaired; NumPy would add
    them up). Two slices joined in the other order: dL/dx = dL/dz rolled back."""
    if pytorch_names:
        names = {"shifts": "shift", "dims": "axis"}
        name = next(iter(pytorch_names))
        raise TypeError(f"roll: got {name}=, " + (f"PyTorch's spelling; use {names[name]}=" if name in names
                                                  else "an unexpected keyword argument"))
    if shift is None:
        raise TypeError("roll: missing the shift (numpy.roll's first argument)")
    shifts = tuple(shift) if isinstance(shift, (tuple, list)) else (shift,)
    if axis is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: {len(shifts)} shifts need as many axes, got axis=None")
        return x.reshape(-1).roll(shifts[0], 0).reshape(x.shape)
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if len(axes) != len(shifts):
        raise RuntimeError(f"roll: shifts {shifts} and axes {axes} differ in length")
    for s, a in zip(shifts, axes, strict=True):
        a = _axis_of(a, x.ndim, "roll")
        n = x.shape[a]
        k = int(s) % n if n else 0
        if k:
            before = (slice(None),) * a
            x = concatenate([x[before + (slice(n - k, None),)], x[before + (slice(0, n - k),)]], axis=a)
    return x


@method
def diagonal(x: Tensor, offset: int = 0, axis1: int = 0, axis2: int = 1, **pytorch_names: Any) -> Tensor:
    """The diagonal of the axes axis1 and axis2 (``offset`` above it, or below for a negative one), as
    numpy.diagonal and PyTorch's diagonal(offset, dim1, dim2): those axes go, and the diagonal is the last
    axis (an index). dL/dx = dL/dz on that diagonal, 0 elsewhere."""
    if pytorch_names:
        name = next(iter(pytorch_names))
        ours = {"dim1": "axis1", "dim2": "axis2"}.get(name)
        raise TypeError(f"diagonal: got {name}=, " + (f"PyTorch's spelling; use {ours}=" if ours
                                                      else "an unexpected keyword argument"))
    a1, a2 = _axis_of(axis1, x.ndim, "diagonal", "axis1"), _axis_of(axis2, x.ndim, "diagonal", "axis2")
    if a1 == a2:
        raise RuntimeError(f"diagonal: axis1 and axis2 both name axis {a1}; a diagonal needs two axes")
    rows, cols = x.shape[a1], x.shape[a2]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    i = np.arange(length) + max(-offset, 0)
    rest = tuple(a for a in range(x.ndim) if a not in (a1, a2))
    moved = x.transpose(*rest, a1, a2)
    return moved[(slice(None),) * len(rest) + (i, i + offset)]


@method
def diag(x: Tensor, k: int = 0) -> Tensor:
    """numpy.diag (PyTorch's diag): a 1-D x as the k-th diagonal of a square matrix, zeros elsewhere; a 2-D x's
    k-th diagonal. dL/dx = dL/dz's k-th diagonal, or dL/dz on it."""
    if x.ndim == 2:
        return x.diagonal(k)
    if x.ndim != 1:
        raise RuntimeError(f"diag: x must be 1-D or 2-D, got shape {x.shape}")
    n, size = x.shape[0], x.shape[0] + abs(k)
    i = np.arange(n)
    return x.scatter_add((i + max(-k, 0), i + max(k, 0)), (size, size))


@method
def masked_select(x: Tensor, mask: TensorLike) -> Tensor:
    """The elements of x where the boolean ``mask`` is True, in row-major order, as a 1-D tensor (x and mask
    broadcast together), as PyTorch's masked_select. dL/dx = dL/dz put back where each element came from."""
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != bool:
        raise RuntimeError(f"masked_select: the mask must be boolean, got dtype {mask.dtype}")
    shape = np.broadcast_shapes(x.shape, mask.shape)
    return x.broadcast_to(shape).reshape(-1)[note(_selected, mask, shape)]


def _selected(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.flatnonzero(np.broadcast_to(mask, shape))


# -- scatter and scatter_reduce --
_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@method
def scatter(x: Tensor, axis: int, index: TensorLike, src: TensorLike, reduce: str | None = None) -> Tensor:
    """PyTorch's scatter: x with src written where ``index`` points along ``axis``, z[..., index[i, j], ...] =
    src[i, j] (for axis 0 of 2-D: z[index[i][j]][j] = src[i][j]); ``src`` is a tensor (its leading corner of
    index's shape is used) or one number. Where two elements of src land on one place, the later in row-major
    order of index wins. ``reduce="add"`` or ``"multiply"`` combines them with x instead (scatter_reduce's
    "sum" and "prod", self included).   dL/dx = dL/dz where nothing was written, 0 where something was;
    dL/dsrc = dL/dz at the place each element was written (0 for one a later element overwrote)."""
    axis = _axis_of(axis, x.ndim, "scatter")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        index_array = _index_array(index, "scatter")
        if not isinstance(src, Tensor):
            src = Tensor._make(np.full(index_array.shape, src, dtype=x.dtype), False)
        return x.scatter_reduce(axis, index_array, src, "sum" if reduce == "add" else "prod")
    index_array = _index_array(index, "scatter")
    src = _scatter_source(x, src, index_array, "scatter")
    _scatter_check(x.shape, axis, index_array, src.shape, "scatter")
    hit = Tensor._make(note(_scatter_hits, index_array, axis, x.shape), False)
    if src.ndim == 0:  # one number
        return where(hit, src, x)
    places = note(_scatter_winners, index_array, axis, x.shape)  # flat: a jit trace follows each array of it
    targets, sources = places[:x.ndim], places[x.ndim:]
    return where(hit, src[sources].scatter_add(targets, x.shape), x)


@method
def scatter_reduce(x: Tensor, axis: int, index: TensorLike, src: Tensor, reduce: str,
                   include_self: bool = True) -> Tensor:
    """PyTorch's scatter_reduce: each place of x that ``index`` points at along ``axis`` (as in scatter)
    becomes the "sum", "prod", "mean", "amax" or "amin" of the src elements landing there, and of x's own
    value unless include_self=False; places nothing lands on keep x's value. Integer tensors compute exactly
    (mean rounds down, as PyTorch's).   The derivative is that of the reduction: dL/dsrc = dL/dz at its place
    (sum), over the count (mean), times the product of the others (prod), shared equally among the tied
    extremes (amax, amin); x's share likewise where included, dL/dz where nothing landed."""
    axis = _axis_of(axis, x.ndim, "scatter_reduce")
    if reduce not in _SCATTER_REDUCTIONS:
        raise RuntimeError(f"scatter_reduce: reduce must be one of {', '.join(_SCATTER_REDUCTIONS)}, got {reduce!r}")
    index_array = _index_array(index, "scatter_reduce")
    src = _scatter_source(x, src, index_array, "scatter_reduce")
    if src.ndim == 0:
        raise TypeError("scatter_reduce: src must be a tensor (scatter takes one number)")
    _scatter_check(x.shape, axis, index_array, src.shape, "scatter_reduce")
    if x.dtype.kind != "f":  # integers have no gradient: computed in NumPy, with PyTorch's rounding
        return Tensor._make(note(_scatter_reduce_integers, x._data, axis, index_array, src._data, reduce,
                                 include_self), False)
    hit = Tensor._make(note(_scatter_hits, index_array, axis, x.shape), False)
    pairs = note(_scatter_pairs, index_array, axis, x.shape)
    targets, sources = pairs[:x.ndim], pairs[x.ndim:]
    values = src[sources]  # one per element of index, in row-major order
    if reduce in ("sum", "mean"):
        total = values.scatter_add(targets, x.shape)
        if include_self:
            total = total + x
        if reduce == "mean":
            count = note(_scatter_counts, index_array, axis, x.shape, include_self, x.dtype)
            total = total / Tensor._make(count, False)
        return where(hit, total, x)
    # prod, amax, amin: each place's contributors gathered into one row of a table, padded with the identity
    table, *place_axes = note(_scatter_table, index_array, axis, x.shape, include_self)
    places = tuple(place_axes)
    parts = [values]
    if include_self:
        parts.append(x[places])
    identity = {"prod": 1.0, "amax": -np.inf, "amin": np.inf}[reduce]
    parts.append(Tensor._make(np.full(1, identity, dtype=x.dtype), False))
    rows = concatenate(parts)[table]  # (places, contributors)
    if reduce == "amax":
        reduced = rows.max(axis=1)
    elif reduce == "amin":
        reduced = rows.min(axis=1)
    else:
        reduced = rows[:, 0]
        for k in range(1, rows.shape[1]):
            reduced = reduced * rows[:, k]
    return where(hit, reduced.scatter_add(places, x.shape), x)


def _index_array(index: TensorLike, op: str) -> np.ndarray:
    array = index._data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: index must hold integers, got dtype {array.dtype}")
    return note(np.array, array)  # a copy: backward must not see the caller's later changes


def _scatter_source(x: Tensor, src: TensorLike, index: np.ndarray, op: str) -> Tensor:
    if isinstance(src, Tensor):
        if src.dtype != x.dtype:
            raise RuntimeError(f"{op}: x is {x.dtype} and src {src.dtype}; they must have one dtype "
                               f"(src.astype(np.{x.dtype}))")
        if src.ndim != x.ndim and src.ndim:
            raise RuntimeError(f"{op}: src {src.shape} must have x's {x.ndim} dimensions")
        return src
    if not isinstance(src, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"{op}: src must be a Tensor or one number, got {type(src).__name__}")
    return Tensor._make(np.asarray(src).astype(x.dtype), False)


def _scatter_check(shape, axis, index, src_shape, op):
    """PyTorch's rules: index has x's dimensions, is no larger than src along any axis and than x along the
    others; its values are checked in a note (``_scatter_positions``), so each jit replay checks its own."""
    if index.ndim != len(shape):
        raise RuntimeError(f"{op}: index {index.shape} must have x's {len(shape)} dimensions")
    if any(n > m for n, m in zip(index.shape, src_shape or index.shape, strict=True)) or any(
            n > m for a, (n, m) in enumerate(zip(index.shape, shape, strict=True)) if a != axis):
        raise RuntimeError(f"{op}: index {index.shape} must be no larger than src {src_shape} along every axis "
                           f"and than x {shape} along every axis but {axis}")


def _scatter_positions(index, axis, shape):
    """Where each element of index lands in x, and which element of src it takes: flat positions, row-major."""
    if index.size and (index.min() < 0 or index.max() >= shape[axis]):
        bad = index[(index < 0) | (index >= shape[axis])].flat[0]
        raise RuntimeError(f"scatter: index {bad} is out of bounds for axis {axis} of length {shape[axis]}")
    grid = np.indices(index.shape, sparse=True)
    target = tuple(index if a == axis else grid[a] for a in range(index.ndim))
    return np.ravel_multi_index(np.broadcast_arrays(*target), shape).reshape(-1)


def _scatter_hits(index, axis, shape):
    hits = np.zeros(math.prod(shape), dtype=bool)
    hits[_scatter_positions(index, axis, shape)] = True
    return hits.reshape(shape)


def _scatter_pairs(index, axis, shape):
    """Places in x, then elements of src: one pair per element of index, as the arrays of two index tuples
    (one flat tuple, which a jit trace follows array by array)."""
    flat = _scatter_positions(index, axis, shape)
    return np.unravel_index(flat, shape) + np.unravel_index(np.arange(flat.size), index.shape)


def _scatter_winners(index, axis, shape):
    """As _scatter_pairs, keeping for each place only the last element of index that lands on it."""
    flat = _scatter_positions(index, axis, shape)
    _, last_from_end = np.unique(flat[::-1], return_index=True)
    chosen = flat.size - 1 - last_from_end
    return np.unravel_index(flat[chosen], shape) + np.unravel_index(chosen, index.shape)


def _scatter_counts(index, axis, shape, include_self, dtype):
    counts = np.bincount(_scatter_positions(index, axis, shape), minlength=math.prod(shape)) + int(include_self)
    return np.maximum(counts, 1).reshape(shape).astype(dtype)


def _scatter_table(index, axis, shape, include_self):
    """For prod, amax and amin: a table with a row for each place something lands on, holding the positions
    of its contributors in concatenate([values, x at those places (include_self), identity]); short rows are
    padded with the identity's position; then the places, an array per axis (one flat tuple)."""
    flat = _scatter_positions(index, axis, shape)
    places, row_of, counts = np.unique(flat, return_inverse=True, return_counts=True)
    order = np.argsort(row_of, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    column = np.empty(flat.size, dtype=np.int64)
    column[order] = np.arange(flat.size) - starts[row_of[order]]
    own = int(include_self)
    identity = flat.size + own * places.size
    # As many columns as can ever land on one place (index's length along the axis), not as many as do: the
    # number of ops after it (prod's products) then depends on shapes alone, as a jit replay needs.
    table = np.full((places.size, index.shape[axis] + own), identity, dtype=np.int64)
    if own:
        table[:, 0] = flat.size + np.arange(places.size)
    table[row_of, column + own] = np.arange(flat.size)
    return (table,) + np.unravel_index(places, shape)


def _scatter_reduce_integers(x, axis, index, src, reduce, include_self):
    flat = _scatter_positions(index, axis, x.shape)
    values = src[tuple(slice(0, n) for n in index.shape)].reshape(-1)
    out = x.reshape(-1).copy()
    hit = np.zeros(out.size, dtype=bool)
    hit[flat] = True
    if not include_self:
        out[hit] = {"sum": 0, "mean": 0, "prod": 1, "amax": np.iinfo(x.dtype).min if x.dtype.kind != "b" else 0,
                    "amin": np.iinfo(x.dtype).max if x.dtype.kind != "b" else 1}[reduce]
    ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
    ufunc.at(out, flat, values)
    if reduce == "mean":
        counts = np.bincount(flat, minlength=out.size) + int(include_self)
        out = np.where(hit, out // np.maximum(counts, 1), out).astype(x.dtype)
    return out.reshape(x.shape)
