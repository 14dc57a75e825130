"""Integer and bitwise operators, PyTorch's way: ``//``, ``%``, ``&``, ``|``, ``^``, ``~``, ``<<``, ``>>``, and
fmod, remainder, floor_divide, div(rounding_mode=), the bitwise_* methods and the bitcast ``view(dtype)``.

Integers stay integers of PyTorch's dtype: a Python int beside an int32 tensor is an int32 (wrapped as
PyTorch wraps it, so ``int32 | 0xFFFFFFFF`` is ``int32 | -1``), and int / int is float32
(core/arguments.scalar_operand, core/function.as_output). The bitwise ops and shifts take integers and bools
only (a float is refused, as PyTorch refuses it) and give tensors outside the graph, as comparisons do. The
division family works on floats too and is differentiable there (ops/division.py).

Each operator is a Tensor method attached here (the class itself stays within its size limit).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import ops as _ops
from .composed import method
from .core.errors import ArgumentError, ArgumentTypeError
from .core.jit_seam import note
from .core.tensor import Tensor
from .typing import DType, TensorLike


# ---- division that rounds, and the remainders -------------------------------------------------------
@method(name="__floordiv__")
def floor_divide(x: Tensor, other: TensorLike) -> Tensor:
    """x // other: the quotient rounded down, as Python's, NumPy's and PyTorch's floor_divide
    (ops.RoundedDivision). Integers stay integers; an integer divided by 0 is refused.   d/dx = d/dother = 0."""
    return _ops.RoundedDivision.apply(x, x._operand(other), mode="floor")


method(floor_divide)


@method(name="__rfloordiv__")
def reflected_floor_divide(x: Tensor, other: TensorLike) -> Tensor:
    """other // x (``7 // t``): see ``floor_divide``.   d/dx = 0."""
    return _ops.RoundedDivision.apply(x._operand(other), x, mode="floor")


@method(name="__mod__")
def remainder(x: Tensor, other: TensorLike) -> Tensor:
    """x % other: x - other * floor(x / other), with other's sign, as Python's, NumPy's and PyTorch's remainder
    (ops.Remainder).   d/dx = 1,  d/dother = -floor(x / other)."""
    return _ops.Remainder.apply(x, x._operand(other))


method(remainder)


@method(name="__rmod__")
def reflected_remainder(x: Tensor, other: TensorLike) -> Tensor:
    """other % x (``100 % t``): see ``remainder``.   d/dx = -floor(other / x)."""
    return _ops.Remainder.apply(x._operand(other), x)


@method
def fmod(x: Tensor, other: TensorLike) -> Tensor:
    """x - other * trunc(x / other), with x's sign, as C's, NumPy's and PyTorch's fmod (ops.Fmod).
    d/dx = 1,  d/dother = -trunc(x / other)."""
    return _ops.Fmod.apply(x, x._operand(other))


@method
def div(x: Tensor, other: TensorLike, rounding_mode: str | None = None) -> Tensor:
    """x / other, as PyTorch's div: exact with ``rounding_mode=None`` (float32 for two integers), rounded
    toward zero with "trunc", down with "floor" (integers then stay integers).   d/dx = 1 / other exactly;
    0 rounded (ops.RoundedDivision)."""
    if rounding_mode is None:
        return x / other
    if rounding_mode not in ("trunc", "floor"):
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor' (PyTorch's), got {rounding_mode!r}")
    return _ops.RoundedDivision.apply(x, x._operand(other), mode=rounding_mode)


# ---- bitwise --------------------------------------------------------------------------------------------
def _integers(op: str, kinds: str, *arrays: np.ndarray) -> None:
    for a in arrays:
        if a.dtype.kind not in kinds:
            what = "integer or bool" if "b" in kinds else "integer"
            raise ArgumentTypeError(f"{op}: needs {what} tensors, got {a.dtype} (PyTorch refuses floats too); "
                                    "cast with astype first")


def _bitwise(op: str, ufunc: Any, x: Tensor, y: Tensor, kinds: str = "biu") -> Tensor:
    _integers(op, kinds, x._data, y._data)
    return Tensor._make(note(ufunc, x._data, y._data), False)


@method(name="__and__")
def bitwise_and(x: Tensor, other: TensorLike) -> Tensor:
    """x & other, bit by bit (logical and for bools), as PyTorch's bitwise_and: integers and bools only. Not
    differentiable: a tensor outside the graph (no gradient)."""
    return _bitwise("bitwise_and", np.bitwise_and, x, x._operand(other))


@method(name="__rand__")
def reflected_bitwise_and(x: Tensor, other: TensorLike) -> Tensor:
    """other & x: see ``bitwise_and`` (no gradient)."""
    return _bitwise("bitwise_and", np.bitwise_and, x._operand(other), x)


@method(name="__or__")
def bitwise_or(x: Tensor, other: TensorLike) -> Tensor:
    """x | other, bit by bit (logical or for bools), as PyTorch's bitwise_or: integers and bools only (no
    gradient)."""
    return _bitwise("bitwise_or", np.bitwise_or, x, x._operand(other))


@method(name="__ror__")
def reflected_bitwise_or(x: Tensor, other: TensorLike) -> Tensor:
    """other | x: see ``bitwise_or`` (no gradient)."""
    return _bitwise("bitwise_or", np.bitwise_or, x._operand(other), x)


@method(name="__xor__")
def bitwise_xor(x: Tensor, other: TensorLike) -> Tensor:
    """x ^ other, bit by bit (logical xor for bools), as PyTorch's bitwise_xor: integers and bools only (no
    gradient)."""
    return _bitwise("bitwise_xor", np.bitwise_xor, x, x._operand(other))


@method(name="__rxor__")
def reflected_bitwise_xor(x: Tensor, other: TensorLike) -> Tensor:
    """other ^ x: see ``bitwise_xor`` (no gradient)."""
    return _bitwise("bitwise_xor", np.bitwise_xor, x._operand(other), x)


@method(name="__invert__")
def bitwise_not(x: Tensor) -> Tensor:
    """~x, every bit flipped (logical not for bools), as PyTorch's bitwise_not: integers and bools only (no
    gradient)."""
    _integers("bitwise_not", "biu", x._data)
    return Tensor._make(note(np.invert, x._data), False)


@method(name="__lshift__")
def bitwise_left_shift(x: Tensor, other: TensorLike) -> Tensor:
    """x << other, as PyTorch's bitwise_left_shift: integers only; bits shifted past the top are lost (a
    shift by the width or more gives 0). No gradient."""
    return _bitwise("bitwise_left_shift", np.left_shift, x, x._operand(other), kinds="iu")


@method(name="__rlshift__")
def reflected_left_shift(x: Tensor, other: TensorLike) -> Tensor:
    """other << x: see ``bitwise_left_shift`` (no gradient)."""
    return _bitwise("bitwise_left_shift", np.left_shift, x._operand(other), x, kinds="iu")


@method(name="__rshift__")
def bitwise_right_shift(x: Tensor, other: TensorLike) -> Tensor:
    """x >> other, as PyTorch's bitwise_right_shift: integers only; arithmetic for signed ones (the sign bit
    fills in). No gradient."""
    return _bitwise("bitwise_right_shift", np.right_shift, x, x._operand(other), kinds="iu")


@method(name="__rrshift__")
def reflected_right_shift(x: Tensor, other: TensorLike) -> Tensor:
    """other >> x: see ``bitwise_right_shift`` (no gradient)."""
    return _bitwise("bitwise_right_shift", np.right_shift, x._operand(other), x, kinds="iu")


for _f in (bitwise_and, bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift, bitwise_right_shift):
    method(_f)


# ---- the bitcast ----------------------------------------------------------------------------------------
def _bitcast(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(x).view(dtype)


@method
def view(x: Tensor, *shape_or_dtype: Any) -> Tensor:
    """``view(dtype)``: the same bytes read as ``dtype`` (a bitcast), as PyTorch's and NumPy's; a different
    item size changes the last axis's length, which must divide evenly, and a 0-d tensor keeps its item size.
    Not differentiable (no gradient, as in PyTorch): a tensor outside the graph. ``view(*shape)`` is refused,
    naming ``reshape`` (it may copy; PyTorch's view never does)."""
    dtype = _dtype_or_none(shape_or_dtype)
    if dtype is None:
        raise AttributeError("Tensor has no view(*shape) (PyTorch's name); use reshape (it may copy; PyTorch's "
                             "view never does). view(dtype), a bitcast, is here")
    if dtype.itemsize != x.dtype.itemsize:
        if x.ndim == 0:
            raise ArgumentError(f"view: a 0-d tensor cannot be read as {dtype}, whose items are another size "
                                f"than {x.dtype}'s (as in PyTorch)")
        if (x.shape[-1] * x.dtype.itemsize) % dtype.itemsize:
            raise ArgumentError(f"view: the last axis of shape {x.shape} holds {x.shape[-1] * x.dtype.itemsize} "
                                f"bytes, not a whole number of {dtype} items")
    return Tensor._make(note(_bitcast, x._data, dtype), False)


def _dtype_or_none(args: tuple[Any, ...]) -> np.dtype | None:
    """The dtype of ``view(dtype)``, or None for a shape (ints, a tuple of them)."""
    if len(args) != 1 or isinstance(args[0], (int, np.integer, tuple, list)):
        return None
    return _dtype_arg(args[0])


def _dtype_arg(value: DType) -> np.dtype:
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise ArgumentTypeError(f"view: {value!r} is not a dtype NumPy knows") from None
    if dtype.kind not in "biuf":
        raise ArgumentTypeError(f"view: tensors hold real numbers, not {dtype}")
    return dtype
