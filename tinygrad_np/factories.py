"""New tensors made from a shape (zeros, ones, full, eye, arange, random samples) or like another tensor."""
from __future__ import annotations

from typing import Any

import numpy as np

from .core.arguments import shape_arg
from .core.jit_seam import draw
from .core.tensor import Tensor
from .typing import DType, ShapeLike


def zeros(*shape: ShapeLike, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` (``zeros(2, 3)`` or ``zeros((2, 3))``) filled with 0, float32 by default."""
    return Tensor(np.zeros(shape_arg(shape, "zeros"), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: ShapeLike, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with 1, float32 by default."""
    return Tensor(np.ones(shape_arg(shape, "ones"), dtype=dtype), requires_grad=requires_grad)


def randn(*shape: ShapeLike, rng: Any = None, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples. ``rng``: a numpy Generator, a seed, or None for fresh entropy."""
    data = draw(_normal, rng, shape_arg(shape, "randn"), np.dtype(dtype).type)  # a jit replay draws again
    return Tensor(data, requires_grad=requires_grad)


def _normal(rng, shape, dtype):
    return np.random.default_rng(rng).standard_normal(shape, dtype=dtype)


def uniform(*shape: ShapeLike, low: float = 0.0, high: float = 1.0, rng: Any = None, dtype: DType = np.float32,
            requires_grad: bool = False) -> Tensor:
    """Samples uniform on [low, high). ``rng``: a numpy Generator, a seed, or None."""
    data = draw(_uniform, rng, low, high, shape_arg(shape, "uniform"), dtype)  # a jit replay draws again
    return Tensor(data, requires_grad=requires_grad)


def _uniform(rng, low, high, shape, dtype):
    return np.random.default_rng(rng).uniform(low, high, shape).astype(dtype)


def full(shape: ShapeLike, fill_value: float, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` holding ``fill_value`` everywhere (PyTorch's and NumPy's full)."""
    shape = shape_arg((shape,) if isinstance(shape, (int, np.integer)) else tuple(shape), "full")
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """The n x m identity (m defaults to n)."""
    n, m = shape_arg((n, n if m is None else m), "eye")
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: DType = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop), as NumPy's and PyTorch's arange: integers give int64, any float
    gives float32 (PyTorch's default float), unless ``dtype`` says otherwise."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if integral else np.float32
    return Tensor(np.arange(start, stop, step, dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def _like(t, what):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: expects a Tensor, got {type(t).__name__}")
    return t


def zeros_like(t: Tensor, dtype: DType = None, requires_grad: bool = False) -> Tensor:
    """A tensor of t's shape filled with 0, of t's dtype unless ``dtype`` says otherwise."""
    t = _like(t, "zeros_like")
    return Tensor(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: DType = None, requires_grad: bool = False) -> Tensor:
    """A tensor of t's shape filled with 1, of t's dtype unless ``dtype`` says otherwise."""
    t = _like(t, "ones_like")
    return Tensor(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: DType = None, requires_grad: bool = False) -> Tensor:
    """A tensor of t's shape holding ``fill_value``, of t's dtype unless ``dtype`` says otherwise."""
    t = _like(t, "full_like")
    return Tensor(np.full(t.shape, fill_value, dtype=dtype or t.dtype), requires_grad=requires_grad)
