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
from .core.arguments import axes_arg, axis_arg, refuse_pytorch_names, shape_arg
from .core.jit_seam import note
from .core.tensor import Tensor
from .numpy_functions import _operands, concatenate, maximum, where
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
def gelu(x: Tensor) -> Tensor:
    """The tanh approximation of GELU (PyTorch's ``approximate="tanh"``): 0.5 x (1 + tanh(√(2/π) (x + 0.044715
    x³))). Not a composition: the fused op ``ops.Gelu``, whose docstring states its derivative."""
    return _ops.Gelu.apply(x)


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

    d/dx = 1 where min <= x <= max (bounds included, as PyTorch's clamp), else 0.
    """
    low = -np.inf if min is None else min
    high = np.inf if max is None else max
    inside = note(_between, x._data, low, high)
    bound = note(_clipped, x._data, low, high)
    return where(Tensor._make(inside, False), x, Tensor._make(bound, False))


def _between(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.asarray((x >= low) & (x <= high))


def _clipped(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.asarray(np.clip(x, low, high)).astype(x.dtype, copy=False)  # NumPy 1.x would upcast 0-d


@method
def softmax(x: Tensor, axis: int = -1, **pytorch_names: Any) -> Tensor:
    """exp(log_softmax(x)): as stable as log_softmax.   dL/dx = z * (dL/dz - sum(dL/dz * z, axis))."""
    refuse_pytorch_names("softmax", pytorch_names)
    return x.log_softmax(axis_arg(axis, x.ndim, "softmax")).exp()


def minimum(x: TensorLike, y: TensorLike) -> Tensor:
    """The elementwise smaller of x and y (tensors or numbers): -maximum(-x, -y).   dL/dx = dL/dz where x is
    the smaller, and half of it at ties (as PyTorch); y likewise."""
    x, y = _operands(x, y, "minimum")
    return -maximum(-x, -y)


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
    """The smallest value over ``axis`` (None: every axis; an int or a tuple): -max(-x).   dL/dx = dL/dz at
    the minima, shared equally by ties, as in max."""
    refuse_pytorch_names("min", pytorch_names)
    return -(-x).max(axis=axes_arg(axis, x.ndim, "min"), keepdims=keepdims)


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

    d/dx = 2 (x - mean(x)) / (n - ddof).
    """
    refuse_pytorch_names("var", pytorch_names)
    axes = axes_arg(axis, x.ndim, "var")
    count = math.prod(x.shape[a] for a in axes) - ddof
    centred = x - x.mean(axis=axes, keepdims=True)
    return (centred * centred).sum(axis=axes, keepdims=keepdims) * (1.0 / count if count > 0 else math.nan)


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
    """min(max(x, 0), 6) (clip).   d/dx = 1 between 0 and 6, else 0."""
    return x.clip(0.0, 6.0)


@method
def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x limited to [min_val, max_val] (clip; PyTorch's argument names).   d/dx = 1 inside, else 0."""
    return x.clip(min_val, max_val)


@method
def hardswish(x: Tensor) -> Tensor:
    """x relu6(x + 3) / 6.   d/dx follows from the parts: 0 below -3, 1 above 3, (2x + 3) / 6 between."""
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
    zero = np.zeros((), x.dtype)  # x's own dtype: a bool or integer tensor stays one, as PyTorch's
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
    if axis is None:
        x, axis = x.reshape(-1), 0
    return _ops.Cumsum.apply(x, axis=axis_arg(axis, x.ndim, "cumsum"))


@method
def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """Indices of the minima along ``axis`` (of the flattened tensor for None), as an int64 Tensor. Not
    differentiable: the result has no gradient."""
    refuse_pytorch_names("argmin", pytorch_names)
    return Tensor._make(note(_argmin, x._data, axis, keepdims), False)


def _argmin(x: np.ndarray, axis: int | None, keepdims: bool) -> np.ndarray:
    return np.asarray(np.argmin(x, axis=axis, keepdims=keepdims), dtype=np.int64)
