"""Checking the shape and axis arguments users pass, with errors that name the op and the argument.

NumPy would turn ``2.7`` into ``2`` or ``"3"`` into ``3`` here and there, and
``axis % ndim`` would turn an axis of 5 into a valid one: a wrong answer with
no error. Every op that takes a shape or an axis goes through these instead.
"""
import operator

import numpy as np

from .errors import ArgumentError, AxisError
from .jit_seam import note


def _integer(value, op, what):
    try:
        return operator.index(value)  # ints and NumPy integers; not floats, strings or bools' lookalikes
    except TypeError:
        raise TypeError(f"{op}: {what} must be an integer, got {type(value).__name__} {value!r}") from None


def shape_arg(args, op):
    """A shape given as f(2, 3) or f((2, 3)), as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(_integer(n, op, "each size in a shape") for n in args)


def axis_arg(axis, ndim, op, name="axis"):
    """One axis, negatives counted from the end, as a non-negative int below ``ndim``. Out of range is an
    ``AxisError``: a ValueError (NumPy's class) and an IndexError (PyTorch's)."""
    axis = _integer(axis, op, name)
    if not -ndim <= axis < ndim:
        raise AxisError(f"{op}: {name} {axis} is out of range for a tensor of {ndim} dimensions "
                        f"(valid: {-ndim} to {ndim - 1})")
    return axis % ndim


def axes_arg(axis, ndim, op):
    """``axis`` (None, an int or a tuple of ints, negatives allowed) as a sorted tuple of distinct axes.

    A 0-d tensor takes axis 0 and -1 as PyTorch does (it has one element, as a tensor of shape (1,) would):
    they name no axis, so a reduction over them is the value itself."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = [a for a in axis if not scalar_axis(a, ndim, op)]
        if len(axes) < len(axis) - 1:
            raise ArgumentError(f"{op}: axis {tuple(axis)} names the same axis twice")
        axes = [axis_arg(a, ndim, op) for a in axes]
        if len(set(axes)) != len(axes):
            raise ArgumentError(f"{op}: axis {tuple(axis)} names the same axis twice")
        return tuple(sorted(axes))
    return () if scalar_axis(axis, ndim, op) else (axis_arg(axis, ndim, op),)


def scalar_axis(axis, ndim, op):
    """True for axis 0 or -1 of a 0-d tensor, which PyTorch takes (as the one axis of a tensor of shape (1,))."""
    return ndim == 0 and _integer(axis, op, "axis") in (0, -1)


def perm_arg(axes, ndim, op):
    """A permutation of the axes (negatives allowed), as non-negative ints."""
    if len(axes) != ndim:
        raise ArgumentError(f"{op}: axes {tuple(axes)} must name each of the tensor's {ndim} axes once")
    perm = tuple(axis_arg(a, ndim, op, "axes entry") for a in axes)
    if len(set(perm)) != ndim:
        raise ArgumentError(f"{op}: axes {tuple(axes)} is not a permutation of the tensor's {ndim} axes")
    return perm



def pad_arg(pad_width, ndim, op):
    """``pad_width`` in NumPy's forms (n, (before, after), or one pair per axis) as one (before, after) pair
    of non-negative ints per axis."""
    if ndim == 0:
        raise ValueError(f"{op}: a 0-d tensor has no axis to pad")
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    except ValueError:
        raise ValueError(f"{op}: pad_width {pad_width!r} does not fit a tensor of {ndim} dimensions; "
                         "give n, (before, after), or one (before, after) per axis") from None
    if (widths < 0).any():
        raise ValueError(f"{op}: pad_width {pad_width!r} has a negative width")
    return tuple(map(tuple, widths.tolist()))


def data_arg(data, dtype):
    """The data of a new Tensor as a numeric ndarray, with PyTorch's and NumPy's dtypes: an array keeps its dtype
    (no copy); a Python float, or a list holding one, becomes float32 (PyTorch's default float); Python ints
    become int64 and bools bool; ``dtype``, when given, wins. Anything that is not numbers (None, strings,
    ragged lists, objects, complex) is refused. A copy made from an array or a list goes through ``note``, so
    that a jit replay makes it again from what the list or array holds then."""
    if isinstance(data, list) or (isinstance(data, np.ndarray) and dtype is not None):
        return note(_data_array, data, dtype)
    return _data_array(data, dtype)


def _data_array(data, dtype):
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} {data!r}; pass numbers, "
                        "a (nested) list of numbers or a NumPy array")
    if isinstance(data, (np.ndarray, np.generic)) and dtype is None and data.dtype.kind in "biuf":
        if hasattr(data, "levels"):  # func.vmap's batched array (batching.py): np.asarray would drop its batch
            _refuse_batched()
        return np.asarray(data)  # the common case, checked first: no copy, dtype kept
    if hasattr(data, "levels") and isinstance(data, np.ndarray):
        _refuse_batched()
    try:
        array = np.asarray(data)
    except ValueError as err:  # NumPy's message for ragged nested lists
        raise ValueError(f"Tensor: cannot make a tensor from this {type(data).__name__}: {err}") from None
    if array.dtype.kind not in "biuf":
        what = "complex numbers" if array.dtype.kind == "c" else f"dtype {array.dtype}"
        raise TypeError(f"Tensor: cannot make a tensor from a {type(data).__name__} of {what}; "
                        "tensors hold real numbers (None, strings and objects are not numbers)")
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"Tensor: dtype must be a real numeric dtype, got {dtype}")
        return array.astype(dtype, copy=False)
    if isinstance(data, (np.ndarray, np.generic)):
        return array
    if array.dtype.kind == "f":  # Python floats, alone or in a list: PyTorch's default float
        return array.astype(np.float32)
    return array.astype(np.int64, copy=False) if array.dtype.kind == "i" else array  # Python ints: int64, as PyTorch


def scalar_operand(value, dtype):
    """A number beside a tensor of the integer or bool ``dtype``, as an array, by PyTorch's rules: an integer
    takes the tensor's dtype (wrapping as PyTorch does: ``int32 | 0xFFFFFFFF`` is ``int32 | -1``), a float
    becomes float32 (PyTorch's default float), a bool beside bools stays bool, an integer beside bools int64.
    (A number beside a float tensor takes its dtype; Tensor._operand does that without calling here.)"""
    if isinstance(value, (bool, np.bool_)):
        return np.asarray(value, dtype=dtype)
    if isinstance(value, (int, np.integer)):
        return np.asarray(value).astype(np.int64 if dtype == np.bool_ else dtype)
    return np.asarray(value, dtype=np.float32 if isinstance(value, (float, np.floating)) else None)


def _refuse_batched():
    raise TypeError("Tensor: cannot make a new tensor from a batched tensor inside func.vmap (it stands for a "
                    "whole batch, one value per example); use it as it is, or its detach()")


PYTORCH_SPELLINGS = {"dim": "axis", "keepdim": "keepdims", "correction": "ddof", "unbiased": "ddof"}


def refuse_pytorch_names(op, keywords):
    """Tensor methods keep NumPy's argument names; a PyTorch spelling gets an error naming ours."""
    if not keywords:
        return
    name = next(iter(keywords))
    ours = PYTORCH_SPELLINGS.get(name)
    if ours is None:
        raise TypeError(f"{op}: unexpected keyword argument {name!r}")
    raise TypeError(f"{op}: got {name}=, PyTorch's spelling; tinygrad_np keeps NumPy's names: use {ours}=")


def index_arg(index):
    """An index with any Tensors or lists in it turned into ndarrays, ready for NumPy.

    Arrays are copied: the op keeps the index for backward, and a caller
    changing its array afterwards must not change the gradient. The copies go
    through ``note`` so that a jit replay copies each call's own index.
    """
    def convert(part):
        data = getattr(part, "_data", None)  # a Tensor's array
        if data is not None:
            return note(np.ndarray.copy, data)
        if isinstance(part, (list, np.ndarray)):
            return note(np.array, part)
        return part

    if isinstance(index, tuple):
        return tuple(convert(p) for p in index)
    return convert(index)
