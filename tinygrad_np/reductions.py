"""Reductions, running ops and sorting beyond composed.py's, with PyTorch's answers: prod, any, all, isclose,
cumprod, cummax, cummin, logcumsumexp, std_mean, sort, argsort and topk.

Each is a Tensor method (``x.prod(axis)``) attached by ``@method``, except ``std_mean``, a function as in
PyTorch (``tg.std_mean``). The differentiable ones are built from primitives (Cumprod, Logcumsumexp, and
indexing for the values that sort, topk, cummax and cummin pick), so their derivatives follow from those; the
indices and the booleans are computed outside the graph (``note``), as argmax's are.

Argument names are NumPy's (``axis``, ``keepdims``, ``ddof``); what they return is PyTorch's: sort, topk,
cummax and cummin give ``(values, indices)`` pairs with ``.values`` and ``.indices``, indices int64.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from . import ops as _ops
from .composed import method, scan
from .core.arguments import axes_arg, axis_arg, refuse_pytorch_names, scalar_axis
from .core.errors import ArgumentError
from .core.jit_seam import note
from .core.tensor import Tensor
from .numpy_functions import take_along_axis
from .typing import Axis, TensorLike


class ValuesIndices(NamedTuple):
    """What sort, topk, cummax and cummin return, as PyTorch's: the values (differentiable) and their int64
    indices along the axis (not)."""

    values: Tensor
    indices: Tensor


def _constant(array: np.ndarray) -> Tensor:
    return Tensor._make(array, False)


# ---- products ---------------------------------------------------------------------------------------
@method
def prod(x: Tensor, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """The product over ``axis`` (None: every axis; an int or a tuple): the last entry of the running product
    over those axes laid out as one.   dL/dx_i = dL/dz * (the product of the other elements), zeros included
    (Cumprod's rule, which never divides by a zero). Integers give int64, as PyTorch's and NumPy's."""
    refuse_pytorch_names("prod", pytorch_names)
    axes = axes_arg(axis, x.ndim, "prod")
    kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    out_shape = kept if keepdims else tuple(n for i, n in enumerate(x.shape) if i not in axes)
    rest = [a for a in range(x.ndim) if a not in axes]
    count = math.prod(x.shape[a] for a in axes)
    if count == 0:  # the empty product, 1 (in the dtype a sum gives), still joined to x for the graph
        return x.sum(axis=axes, keepdims=keepdims) * 0 + 1
    lined_up = x.transpose(*rest, *axes).reshape(tuple(x.shape[a] for a in rest) + (count,))
    running = _ops.Cumprod.apply(lined_up, axis=len(rest))
    return running[..., -1].reshape(out_shape)


@method
def cumprod(x: Tensor, axis: int | None = None, **pytorch_names: Any) -> Tensor:
    """Running products along ``axis`` (of the flattened tensor for None, as NumPy; ops.Cumprod).
    dL/dx_i = sum over j >= i of dL/dz_j * (the product of x_k, k <= j, k != i), zeros included."""
    refuse_pytorch_names("cumprod", pytorch_names)
    return scan(_ops.Cumprod, x, axis, "cumprod")


@method
def logcumsumexp(x: Tensor, axis: int = 0, **pytorch_names: Any) -> Tensor:
    """log(cumsum(exp(x))) along ``axis`` (0 by default, as numpy.logaddexp.accumulate), without overflow
    (ops.Logcumsumexp).   dL/dx_i = sum over j >= i of dL/dz_j exp(x_i - z_j)."""
    refuse_pytorch_names("logcumsumexp", pytorch_names)
    if axis is None:
        raise ArgumentError("logcumsumexp: give an axis (PyTorch's logcumsumexp has no flattened form)")
    return scan(_ops.Logcumsumexp, x, axis, "logcumsumexp")


# ---- truth ------------------------------------------------------------------------------------------------
def _any(x: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    return np.asarray(np.any(x, axis=axes, keepdims=keepdims))


def _all(x: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    return np.asarray(np.all(x, axis=axes, keepdims=keepdims))


@method(name="any")
def any_true(x: Tensor, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """True where any element over ``axis`` is nonzero (None: every axis; NaN counts as nonzero); False over
    an empty axis. A boolean tensor outside the graph: no gradient, as PyTorch's."""
    refuse_pytorch_names("any", pytorch_names)
    return _constant(note(_any, x._data, axes_arg(axis, x.ndim, "any"), keepdims))


@method(name="all")
def all_true(x: Tensor, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """True where every element over ``axis`` is nonzero (None: every axis); True over an empty axis. A
    boolean tensor outside the graph: no gradient, as PyTorch's."""
    refuse_pytorch_names("all", pytorch_names)
    return _constant(note(_all, x._data, axes_arg(axis, x.ndim, "all"), keepdims))


def _isclose(x: np.ndarray, y: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    """PyTorch's isclose: equal, or both finite-apart by at most atol + rtol |y|, computed in x's float dtype."""
    close = x == y
    if equal_nan:
        close |= np.isnan(x) & np.isnan(y)
    if rtol == 0 and atol == 0:
        return np.asarray(close)
    if x.dtype.kind != "f":
        x, y = x.astype(np.float32), y.astype(np.float32)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, which counts as not close
        actual = np.abs(x - y)
        return np.asarray(close | (np.isfinite(actual) & (actual <= atol + np.abs(rtol * y))))


@method
def isclose(x: Tensor, other: TensorLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|x - other| <= atol + rtol |other|, elementwise, as PyTorch's (and NumPy's) isclose: infinities are
    close only to themselves, NaN to nothing unless ``equal_nan``. A boolean tensor outside the graph (no
    gradient)."""
    y = x._operand(other)
    return _constant(note(_isclose, x._data, y._data, rtol, atol, equal_nan))


# ---- statistics -------------------------------------------------------------------------------------------
def std_mean(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0,
             **pytorch_names: Any) -> tuple[Tensor, Tensor]:
    """(x.std(axis, keepdims, ddof), x.mean(axis, keepdims)), as PyTorch's ``torch.std_mean``, with NumPy's
    names (``ddof`` is PyTorch's ``correction``; 0 by default, as ``std``).   Each gradient is std's and
    mean's."""
    refuse_pytorch_names("std_mean", pytorch_names)
    return x.std(axis=axis, keepdims=keepdims, ddof=ddof), x.mean(axis=axis, keepdims=keepdims)


# ---- running extremes and sorting ----------------------------------------------------------------------
def _axis_of(x: Tensor, axis: int, name: str) -> tuple[Tensor, int, bool]:
    """(x, axis) for an op along one axis; a 0-d tensor as one element along axis 0 for axis 0 or -1, as
    PyTorch takes it (the flag says to give 0-d results back)."""
    if scalar_axis(axis, x.ndim, name):
        return x.reshape(1), 0, True
    return x, axis_arg(axis, x.ndim, name), False


def _picked(x: Tensor, indices: np.ndarray, axis: int, scalar: bool) -> ValuesIndices:
    """The values at ``indices`` along ``axis`` (take_along_axis: dL/dx gets dL/dz added where each came from)."""
    taken = _constant(indices)
    values = take_along_axis(x, taken, axis)
    return ValuesIndices(values.reshape(()), taken.reshape(())) if scalar else ValuesIndices(values, taken)


def _running_extreme(x: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """The index of the running max (min) along ``axis``, as PyTorch's cummax (cummin): a tie or a NaN takes
    the later position, and a NaN, once met, stays the extreme."""
    running = (np.maximum if largest else np.minimum).accumulate(x, axis=axis)
    positions = np.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - axis - 1))
    new = (x == running) | np.isnan(x) if x.dtype.kind == "f" else x == running
    return np.maximum.accumulate(np.where(new, positions, 0), axis=axis).astype(np.int64)


def _running(x: Tensor, axis: int, name: str, largest: bool) -> ValuesIndices:
    x, axis, scalar = _axis_of(x, axis, name)
    return _picked(x, note(_running_extreme, x._data, axis, largest), axis, scalar)


@method
def cummax(x: Tensor, axis: int, **pytorch_names: Any) -> ValuesIndices:
    """(values, indices): the running maximum along ``axis`` and where each was found, as PyTorch's cummax
    (a tie takes the later index; NaN propagates).   dL/dx = dL/dz added at the indices (as PyTorch's)."""
    refuse_pytorch_names("cummax", pytorch_names)
    return _running(x, axis, "cummax", largest=True)


@method
def cummin(x: Tensor, axis: int, **pytorch_names: Any) -> ValuesIndices:
    """(values, indices): the running minimum along ``axis`` and where each was found, as PyTorch's cummin.
    dL/dx = dL/dz added at the indices."""
    refuse_pytorch_names("cummin", pytorch_names)
    return _running(x, axis, "cummin", largest=False)


def _argsort(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """A stable argsort, ascending or descending, NaN counted largest (PyTorch's order)."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)
    # Descending and stable: sort the reversed axis ascending, stably, and read it backwards, so equal values
    # keep their order and NaN comes first.
    reverse = (slice(None),) * axis + (slice(None, None, -1),)
    order = np.argsort(x[reverse], axis=axis, kind="stable")[reverse]
    return (x.shape[axis] - 1 - order).astype(np.int64, copy=False)


@method
def argsort(x: Tensor, axis: int = -1, descending: bool = False, stable: bool = False,
            **pytorch_names: Any) -> Tensor:
    """The indices that sort x along ``axis``, int64, as PyTorch's argsort (always stable here: equal values
    keep their order; NaN sorts largest). Not differentiable: the result has no gradient."""
    refuse_pytorch_names("argsort", pytorch_names)
    x, axis, scalar = _axis_of(x, axis, "argsort")
    order = _constant(note(_argsort, x._data, axis, descending))
    return order.reshape(()) if scalar else order


@method
def sort(x: Tensor, axis: int = -1, descending: bool = False, stable: bool = False,
         **pytorch_names: Any) -> ValuesIndices:
    """(values, indices): x sorted along ``axis``, as PyTorch's sort (always stable here; NaN sorts largest).
    Unlike NumPy's in-place ``ndarray.sort``, it returns new tensors.   dL/dx = dL/dz put back where each
    value came from."""
    refuse_pytorch_names("sort", pytorch_names)
    x, axis, scalar = _axis_of(x, axis, "sort")
    return _picked(x, note(_argsort, x._data, axis, descending), axis, scalar)


def _top(x: np.ndarray, axis: int, k: int, largest: bool) -> np.ndarray:
    return _argsort(x, axis, largest)[(slice(None),) * axis + (slice(0, k),)]


@method
def topk(x: Tensor, k: int, axis: int = -1, largest: bool = True, sorted: bool = True,
         **pytorch_names: Any) -> ValuesIndices:
    """(values, indices) of the k largest (or, with ``largest=False``, smallest) along ``axis``, as PyTorch's
    topk: sorted (``sorted=False`` gives them sorted too); among equal values the first ones, where PyTorch
    leaves the order of ties unspecified.
    dL/dx = dL/dz put back where each value came from, 0 elsewhere."""
    refuse_pytorch_names("topk", pytorch_names)
    x, axis, scalar = _axis_of(x, axis, "topk")
    if not 0 <= k <= x.shape[axis]:
        raise ArgumentError(f"topk: k={k} is out of range for axis {axis} of length {x.shape[axis]}")
    return _picked(x, note(_top, x._data, axis, k, largest), axis, scalar)
