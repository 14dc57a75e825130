"""Elementwise functions PyTorch users reach for, beyond composed.py's: tests for inf and NaN, logical_not,
lerp, log10, erf, copysign, logaddexp, quick_gelu, and the inverse trigonometric and hyperbolic functions.

Each is a Tensor method attached by ``@method``. The smooth ones are primitives (ops/special.py,
ops/trigonometric.py) or a few of them composed; the tests (isinf, isnan, ...) and logical_not give boolean
tensors outside the graph, as comparisons do (``round`` is with floor and ceil in composed.py).
"""
from __future__ import annotations

import math

import numpy as np

from . import ops as _ops
from .composed import method
from .core.jit_seam import note
from .core.tensor import Tensor
from .typing import TensorLike


def _test(x: Tensor, f) -> Tensor:
    return Tensor._make(note(f, x._data), False)


def _logical_not(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.logical_not(x))


def _isinf(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.isinf(x))


def _isposinf(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.isposinf(x)) if x.dtype.kind == "f" else np.zeros(x.shape, dtype=bool)


def _isneginf(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.isneginf(x)) if x.dtype.kind == "f" else np.zeros(x.shape, dtype=bool)


def _isnan(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.isnan(x))


def _isfinite(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.isfinite(x))


TESTS = (_logical_not, _isinf, _isposinf, _isneginf, _isnan, _isfinite)  # elementwise, for vmap's rules


@method
def isinf(x: Tensor) -> Tensor:
    """True where x is inf or -inf: a boolean tensor outside the graph (no gradient), as PyTorch's."""
    return _test(x, _isinf)


@method
def isposinf(x: Tensor) -> Tensor:
    """True where x is inf: a boolean tensor outside the graph (no gradient)."""
    return _test(x, _isposinf)


@method
def isneginf(x: Tensor) -> Tensor:
    """True where x is -inf: a boolean tensor outside the graph (no gradient)."""
    return _test(x, _isneginf)


@method
def isnan(x: Tensor) -> Tensor:
    """True where x is NaN: a boolean tensor outside the graph (no gradient)."""
    return _test(x, _isnan)


@method
def isfinite(x: Tensor) -> Tensor:
    """True where x is neither inf, -inf nor NaN: a boolean tensor outside the graph (no gradient)."""
    return _test(x, _isfinite)


@method
def logical_not(x: Tensor) -> Tensor:
    """True where x is False or 0, as PyTorch's (and NumPy's) logical_not: a boolean tensor outside the graph
    (no gradient)."""
    return _test(x, _logical_not)


@method
def lerp(x: Tensor, end: TensorLike, weight: TensorLike) -> Tensor:
    """x + weight (end - x): from x (weight 0) to end (weight 1), as PyTorch's lerp.   d/dx = 1 - weight,
    d/dend = weight, d/dweight = end - x."""
    end = x._operand(end)
    return x + (end - x) * weight


@method
def log10(x: Tensor) -> Tensor:
    """log(x) / log(10).   d/dx = 1 / (x log 10)."""
    return x.log() * (1.0 / math.log(10.0))


@method
def erf(x: Tensor) -> Tensor:
    """The error function 2/√π ∫₀ˣ exp(-t²) dt (ops.Erf).   d/dx = 2/√π exp(-x²)."""
    return _ops.Erf.apply(x)


@method
def copysign(x: Tensor, other: TensorLike) -> Tensor:
    """|x| with the sign of ``other`` (its sign bit: -0.0 counts as negative), as PyTorch's (ops.Copysign).
    d/dx = ±1 as the signs of x and other agree or not, 0 at x = 0 (PyTorch's);  d/dother = 0."""
    return _ops.Copysign.apply(x, x._operand(other))


@method
def logaddexp(x: Tensor, other: TensorLike) -> Tensor:
    """log(exp(x) + exp(other)), without overflow (ops.LogAddExp).   d/dx = sigmoid(x - other),
    d/dother = sigmoid(other - x)."""
    return _ops.LogAddExp.apply(x, x._operand(other))


@method
def quick_gelu(x: Tensor) -> Tensor:
    """x sigmoid(1.702 x), a fast approximation of GELU (tinygrad's and CLIP's).   d/dx = s + 1.702 x s (1 - s),
    with s = sigmoid(1.702 x)."""
    return x * (x * 1.702).sigmoid()


# ---- the inverse trigonometric and the hyperbolic functions (ops/trigonometric.py) -------------------------
@method
def asin(x: Tensor) -> Tensor:
    """asin(x) (NaN outside [-1, 1], as PyTorch's; ops.Asin).   d/dx = 1 / √(1 - x²)."""
    return _ops.Asin.apply(x)


@method
def acos(x: Tensor) -> Tensor:
    """acos(x) (NaN outside [-1, 1]; ops.Acos).   d/dx = -1 / √(1 - x²)."""
    return _ops.Acos.apply(x)


@method
def atan(x: Tensor) -> Tensor:
    """atan(x) (ops.Atan).   d/dx = 1 / (1 + x²)."""
    return _ops.Atan.apply(x)


@method
def sinh(x: Tensor) -> Tensor:
    """sinh(x) (ops.Sinh).   d/dx = cosh(x)."""
    return _ops.Sinh.apply(x)


@method
def cosh(x: Tensor) -> Tensor:
    """cosh(x) (ops.Cosh).   d/dx = sinh(x)."""
    return _ops.Cosh.apply(x)


@method
def asinh(x: Tensor) -> Tensor:
    """asinh(x) (ops.Asinh).   d/dx = 1 / √(x² + 1)."""
    return _ops.Asinh.apply(x)


@method
def acosh(x: Tensor) -> Tensor:
    """acosh(x) (NaN below 1; ops.Acosh).   d/dx = 1 / √(x² - 1)."""
    return _ops.Acosh.apply(x)


@method
def atanh(x: Tensor) -> Tensor:
    """atanh(x) (NaN outside [-1, 1]; ops.Atanh).   d/dx = 1 / (1 - x²)."""
    return _ops.Atanh.apply(x)
