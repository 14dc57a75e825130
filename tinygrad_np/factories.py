"""New tensors made from a shape (zeros, ones, empty, full, eye, arange, linspace, random samples), from data
(``tensor``) or like another tensor. Each honours ``dtype=``; random ones draw from ``rng``, or the global generator
(tinygrad_np/generators.py) when it is None."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .core.arguments import shape_arg
from .core.errors import ArgumentError, ArgumentTypeError
from .core.jit_seam import draw, note
from .core.tensor import Tensor
from .generators import generator
from .typing import DType, Seed, ShapeLike, TensorLike


def zeros(*shape: ShapeLike, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` (``zeros(2, 3)`` or ``zeros((2, 3))``) filled with 0, float32 by default."""
    return _made(np.zeros(shape_arg(shape, "zeros"), dtype=dtype), requires_grad)


def ones(*shape: ShapeLike, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with 1, float32 by default."""
    return _made(np.ones(shape_arg(shape, "ones"), dtype=dtype), requires_grad)


def randn(*shape: ShapeLike, rng: Seed = None, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, float32 unless ``dtype`` is another float. ``rng``: a numpy Generator, a seed, or
    None for the global generator (``tg.manual_seed``)."""
    dtype = _float_dtype(dtype, "randn")
    data = draw(_normal, rng, shape_arg(shape, "randn"), dtype.type)  # a jit replay draws again
    return Tensor(data, requires_grad=requires_grad)


def _normal(rng, shape, dtype):
    drawn = np.float64 if dtype == np.float64 else np.float32  # NumPy draws these two; float16 is cast from float32
    return generator(rng).standard_normal(shape, dtype=drawn).astype(dtype, copy=False)  # rng None: the global one


def uniform(*shape: ShapeLike, low: float = 0.0, high: float = 1.0, rng: Seed = None, dtype: DType = np.float32,
            requires_grad: bool = False) -> Tensor:
    """Samples uniform on [low, high). ``rng``: a numpy Generator, a seed, or None for the global generator."""
    dtype = _float_dtype(dtype, "uniform")
    data = draw(_uniform, rng, low, high, shape_arg(shape, "uniform"), dtype)  # a jit replay draws again
    return Tensor(data, requires_grad=requires_grad)


def _uniform(rng, low, high, shape, dtype):
    return generator(rng).uniform(low, high, shape).astype(dtype)


def _float_dtype(dtype: DType, op: str) -> np.dtype:
    """Samples of a continuous distribution need a float dtype (PyTorch refuses an integer one too)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating-point dtype, got {dtype}")
    return dtype


def randn_like(t: TensorLike, dtype: DType = None, rng: Seed = None, requires_grad: bool = False) -> Tensor:
    """``randn`` of t's shape (PyTorch's randn_like), of t's dtype unless ``dtype`` says otherwise."""
    t = _like(t, "randn_like")
    return randn(*t.shape, rng=rng, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)


def tensor(data: TensorLike, dtype: DType = None, requires_grad: bool = False) -> Tensor:
    """PyTorch's ``torch.tensor``: a new tensor holding a copy of ``data`` (a list, a number, an array or a
    Tensor, whose graph is not kept), with ``Tensor``'s dtypes: Python floats float32, Python ints int64, an
    array's own dtype, unless ``dtype`` says otherwise. ``Tensor(array)`` shares the array instead."""
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, np.ndarray):
        data = note(np.array, data)  # a copy; a jit replay copies the array again
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def full(shape: ShapeLike, fill_value: float, dtype: DType = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` holding ``fill_value`` everywhere (PyTorch's and NumPy's full). Without ``dtype``,
    as PyTorch: a Python float gives float32, an int int64, a bool bool (a NumPy number keeps its dtype)."""
    shape = shape_arg((shape,) if isinstance(shape, (int, np.integer)) else tuple(shape), "full")
    if dtype is None:
        dtype = Tensor(fill_value).dtype  # Tensor's rule for a number: the same as PyTorch's here
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def _made(array: np.ndarray, requires_grad: bool) -> Tensor:
    """A factory's array as a Tensor of the array's own dtype (Tensor() alone would make integers float32)."""
    if array.dtype.kind == "f":  # the float path exactly as before (a jit trace sees the same steps)
        return Tensor(array, requires_grad=requires_grad)
    return Tensor(array, dtype=array.dtype, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """The n x m identity (m defaults to n)."""
    n, m = shape_arg((n, n if m is None else m), "eye")
    return _made(np.eye(n, m, dtype=dtype), requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: DType = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop), as NumPy's and PyTorch's arange: integers give int64, any float
    gives float32 (PyTorch's default float), unless ``dtype`` says otherwise. Values an integer ``dtype``
    cannot hold are refused with OverflowError (PyTorch wraps them round without a word: arange(129,
    dtype=int8) would end in -128), before anything is allocated."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if integral else np.float32
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":  # computed in 64 bits and cast: NumPy refuses a stop outside the dtype it never reaches
        wide = np.uint64 if _check_integer_range(start, stop, step, dtype) > np.iinfo(np.int64).max else np.int64
        values = np.arange(start, stop, step, dtype=wide).astype(dtype)
    else:
        values = np.arange(start, stop, step, dtype=dtype)
    return Tensor(values, dtype=dtype, requires_grad=requires_grad)


def _check_integer_range(start: float, stop: float, step: float, dtype: np.dtype) -> float:
    """Refuse an arange whose first or last value ``dtype`` cannot hold (OverflowError, as Python and NumPy);
    the largest value it holds (0 if none)."""
    if step == 0:
        raise ValueError("arange: step must not be 0")
    count = max(0, math.ceil((stop - start) / step))
    if count == 0:
        return 0
    info = np.iinfo(dtype)
    ends = (start, start + (count - 1) * step)
    for value in ends:
        if not info.min <= value <= info.max:
            raise OverflowError(f"arange: {value} is out of range for {dtype} ({info.min} to {info.max}); "
                                "PyTorch would wrap it round, a wrong number: choose a wider dtype")
    return max(ends)


def _like(t: Any, what: str) -> Tensor:
    if isinstance(t, np.ndarray):
        return Tensor(t)  # an array stands for the tensor it would make
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: expects a Tensor or an array, got {type(t).__name__}")
    return t


def zeros_like(t: TensorLike, dtype: DType = None, requires_grad: bool = False) -> Tensor:
    """A tensor of t's shape filled with 0, of t's dtype unless ``dtype`` says otherwise."""
    t = _like(t, "zeros_like")
    return Tensor(np.zeros(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad=requires_grad)


def ones_like(t: TensorLike, dtype: DType = None, requires_grad: bool = False) -> Tensor:
    """A tensor of t's shape filled with 1, of t's dtype unless ``dtype`` says otherwise."""
    t = _like(t, "ones_like")
    return Tensor(np.ones(t.shape, dtype=t.dtype if dtype is None else dtype), requires_grad=requires_grad)


def full_like(t: TensorLike, fill_value: float, dtype: DType = None, requires_grad: bool = False) -> Tensor:
    """A tensor of t's shape holding ``fill_value``, of t's dtype unless ``dtype`` says otherwise."""
    t = _like(t, "full_like")
    return Tensor(np.full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype),
                  requires_grad=requires_grad)


# ---- issue 29 (ops1): PyTorch's other factories ------------------------------------------------------------
def empty(*shape: ShapeLike, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` whose values are not to be relied on, as PyTorch's empty (here zeros, so a run is
    reproducible and a jit replay bit for bit)."""
    return _made(np.zeros(shape_arg(shape, "empty"), dtype=dtype), requires_grad)


def rand(*shape: ShapeLike, rng: Any = None, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """Samples uniform on [0, 1), as PyTorch's rand. ``rng``: a numpy Generator, a seed, or None (as randn)."""
    data = draw(_uniform, rng, 0.0, 1.0, shape_arg(shape, "rand"), dtype)  # a jit replay draws again
    return Tensor(data, requires_grad=requires_grad)


def randint(low: int, high: Any = None, size: ShapeLike | None = None, *, rng: Any = None,
            dtype: DType = np.int64) -> Tensor:
    """Integers uniform on [low, high), int64, as PyTorch's: ``randint(low, high, size)`` or
    ``randint(high, size)`` (low 0). ``rng``: a numpy Generator, a seed, or None (as randn)."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None or high is None:
        raise TypeError("randint: give randint(low, high, size) or randint(high, size), as PyTorch's")
    shape = shape_arg((size,) if isinstance(size, (int, np.integer)) else tuple(size), "randint")
    if not low < high:
        raise ValueError(f"randint: low must be below high (the range is [low, high)), got {low} and {high}")
    return Tensor(draw(_integers, rng, low, high, shape, np.dtype(dtype)), dtype=dtype)


def _integers(rng, low, high, shape, dtype):
    return generator(rng).integers(low, high, shape, dtype=dtype)  # rng None: the global generator


def normal(mean: float, std: float, size: ShapeLike, *, rng: Any = None, dtype: DType = np.float32,
           requires_grad: bool = False) -> Tensor:
    """Samples of a normal distribution, mean + std * a standard normal, as PyTorch's ``normal(mean, std, size)``.
    ``rng``: a numpy Generator, a seed, or None (as randn)."""
    if std < 0:
        raise ValueError(f"normal: std must be non-negative, got {std}")
    shape = shape_arg((size,) if isinstance(size, (int, np.integer)) else tuple(size), "normal")
    data = draw(_shifted_normal, rng, mean, std, shape, np.dtype(dtype).type)  # a jit replay draws again
    return Tensor(data, requires_grad=requires_grad)


def _shifted_normal(rng, mean, std, shape, dtype):
    # scaled and shifted inside the draw: an array computed from the draw outside it would be a constant to tg.jit
    return _normal(rng, shape, dtype) * dtype(std) + dtype(mean)


def linspace(start: float, end: float, steps: int, dtype: DType = np.float32, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included, as PyTorch's linspace (float32 unless
    ``dtype`` says; an integer dtype truncates the values toward zero, as PyTorch does)."""
    steps = shape_arg((steps,), "linspace")[0]
    if steps < 0:
        raise ArgumentError(f"linspace: steps must be non-negative, got {steps}")
    dtype = np.dtype(dtype)
    if dtype.kind not in "iuf":
        raise ArgumentTypeError(f"linspace: dtype must be a number type, got {dtype} (PyTorch refuses bool too)")
    return Tensor(np.linspace(start, end, steps).astype(dtype), dtype=dtype, requires_grad=requires_grad)
