"""The functions of several tensors that are not methods: ``where``, ``maximum`` and ``concatenate``.

Each checks its arguments and calls one primitive op (ops/). They are exported
as ``tg.where``, ``tg.maximum`` and ``tg.concatenate``.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import ops as _ops
from .core.arguments import axis_arg, refuse_pytorch_names
from .core.errors import ArgumentError, ArgumentTypeError, IndexOutOfRange
from .core.jit_seam import note
from .core.tensor import Tensor
from .typing import TensorLike


def maximum(x: TensorLike, y: TensorLike) -> Tensor:
    """The elementwise larger of x and y (tensors or numbers); ties split the gradient equally."""
    x, y = _operands(x, y, "maximum")
    return _ops.Maximum.apply(x, y)


def where(condition: TensorLike, x: TensorLike, y: TensorLike) -> Tensor:
    """x where ``condition`` holds, else y, elementwise with broadcasting (x, y tensors or numbers).

    ``condition`` is a boolean tensor or array (a comparison, say) and gets no
    gradient; x gets dL/dz where it was chosen, y where it was not. With two
    numbers the result needs no gradient and has PyTorch's dtype: float32 if
    either is a float, int64 if either is an int, else bool.
    """
    condition = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != bool:
        raise TypeError(f"where: condition must be boolean (a comparison, say), got dtype {condition.dtype}")
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = Tensor._make(np.asarray(x, dtype=_numbers_dtype(x, y)), False)
    x, y = _operands(x, y, "where")
    return _ops.Where.apply(x, y, condition=condition)


def _numbers_dtype(*numbers: Any) -> type:
    """PyTorch's dtype for Python numbers alone: float32 if any is a float, int64 if any is an int, else bool."""
    if any(not isinstance(n, (bool, np.bool_, int, np.integer)) for n in numbers):
        return np.float32
    return np.int64 if any(not isinstance(n, (bool, np.bool_)) for n in numbers) else np.bool_


def _operands(x: TensorLike, y: TensorLike, op: str) -> tuple[Tensor, Tensor]:
    """Two operands as Tensors: numbers take the dtype of the tensor beside them."""
    if isinstance(x, Tensor):
        return x, x._operand(y)
    if isinstance(y, Tensor):
        return y._operand(x), y
    raise TypeError(f"{op}: at least one of the two operands must be a Tensor")


def concatenate(tensors: Iterable[TensorLike], axis: int = 0, **pytorch_names: Any) -> Tensor:
    """Join tensors along an existing axis."""
    refuse_pytorch_names("concatenate", pytorch_names)
    parts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not parts:
        raise ValueError("concatenate: needs at least one tensor")
    if parts[0].ndim == 0:
        raise ArgumentError("concatenate: 0-d tensors have no axis to join along; use stack")
    return _ops.Concatenate.apply(*parts, axis=axis_arg(axis, parts[0].ndim, "concatenate"))


def take_along_axis(x: Tensor, indices: TensorLike, axis: int, **pytorch_names: Any) -> Tensor:
    """numpy.take_along_axis (PyTorch's gather): z[..., i, ...] = x[..., indices[..., i, ...], ...] along
    ``axis``, with ``indices`` an integer array or Tensor of x's number of dimensions (a GetItem).
    dL/dx = dL/dz added back at the indices taken."""
    refuse_pytorch_names("take_along_axis", pytorch_names)
    array = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu" or array.ndim != x.ndim:
        raise ArgumentTypeError(f"take_along_axis: indices must be integers with x's {x.ndim} dimensions, got "
                                f"{array.dtype} {array.shape}")
    axis = axis_arg(axis, x.ndim, "take_along_axis")
    index = note(_along_axis_index, array, axis, x.shape)
    return x[index]


def _along_axis_index(indices, axis, shape):
    """The fancy index that numpy.take_along_axis builds: ``indices`` on ``axis``, a broadcast range elsewhere."""
    if (indices < -shape[axis]).any() or (indices >= shape[axis]).any():
        raise IndexOutOfRange(f"take_along_axis: an index is out of range for axis {axis} of length {shape[axis]}")
    grids = np.ogrid[tuple(slice(n) for n in indices.shape)]
    return tuple(indices if a == axis else grids[a] for a in range(len(shape)))


def einsum(subscripts: str, *operands: TensorLike) -> Tensor:
    """numpy.einsum and torch.einsum on Tensors: "ij,jk->ik", "bij,bjk->bik", "i,i->", "ij->ji", ... (ops.Einsum,
    whose docstring states its derivative). Without "->" the output is NumPy's: the letters used once, sorted.
    "..." stands for the axes no letter names (broadcast between operands, first in an implicit output); a
    letter twice in one operand takes that operand's diagonal ("ii->i", the trace "ii->"); an axis of length 1
    broadcasts against its letter's length elsewhere, as in PyTorch. Those are a diagonal and a broadcast_to
    before the product, so each gradient is theirs: summed back over the broadcast, put back on the diagonal."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # torch.einsum("ij,jk", [a, b]) also works
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, got {len(operands)}")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in operands]
    terms, output = _einsum_ellipsis(subscripts, terms, arrow, output, tensors)
    sizes = _einsum_sizes(subscripts, terms, tensors)
    for c in output:
        if output.count(c) > 1 or c not in sizes:
            raise ValueError(f"einsum: the output letter {c!r} of {subscripts!r} must appear once, and in an operand")
    prepared = []
    for own, t in zip(terms, tensors, strict=True):
        wanted = tuple(sizes[c] for c in own)
        if t.shape != wanted:  # an axis of length 1 broadcast to its letter's length
            t = t.broadcast_to(wanted)
        while len(set(own)) != len(own):  # a letter twice: the diagonal of those two axes, now the last axis
            c = next(c for c in own if own.count(c) > 1)
            first, second = own.index(c), own.index(c, own.index(c) + 1)
            t = t.diagonal(0, first, second)  # type: ignore[attr-defined]  # attached in composed.py
            own = "".join(d for k, d in enumerate(own) if k not in (first, second)) + c
        prepared.append((own, t))
    return _ops.Einsum.apply(*(t for _, t in prepared),
                             subscripts=",".join(own for own, _ in prepared) + "->" + output)


def _einsum_ellipsis(subscripts, terms, arrow, output, tensors):
    """The terms and output with "..." written out in letters no term uses (the broadcast shape of every
    operand's unnamed axes, right-aligned), and the implicit output filled in."""
    used = set("".join(terms) + output)
    if any(not (c.isalpha() or c == ".") for c in used):
        raise ValueError(f"einsum: {subscripts!r} may hold only letters, commas, '...' and '->'")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    unnamed = []
    for term, t in zip(terms, tensors, strict=True):
        if term.count("...") > 1 or term.replace("...", "").count("."):
            raise RuntimeError(f"einsum: {term!r} in {subscripts!r} may hold at most one '...'")
        named = len(term) - (3 if "..." in term else 0)
        if ("..." in term and t.ndim < named) or ("..." not in term and t.ndim != named):
            raise ValueError(f"einsum: {term!r} has {named} letters for an operand of shape {t.shape}")
        before = term.index("...") if "..." in term else named
        unnamed.append(t.shape[before:t.ndim - (named - before)])
    try:
        broadcast = np.broadcast_shapes(*unnamed)
    except ValueError:
        raise RuntimeError(f"einsum: the axes '...' stands for in {subscripts!r}, {' and '.join(map(str, unnamed))}, "
                           "do not broadcast together") from None
    letters = "".join(spare[:len(broadcast)])
    terms = [term.replace("...", letters[len(letters) - len(shape):]) for term, shape in zip(terms, unnamed,
                                                                                          strict=True)]
    if not arrow:
        joined = "".join(terms)
        return terms, letters + "".join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in letters))
    if output.replace("...", "").count(".") or output.count("...") > 1:
        raise RuntimeError(f"einsum: the output of {subscripts!r} may hold at most one '...'")
    return terms, output.replace("...", letters)


def _einsum_sizes(subscripts, terms, tensors):
    """Each letter's length; an axis of length 1 broadcasts, as PyTorch's einsum (NumPy's too)."""
    sizes: dict[str, int] = {}
    for i, (term, t) in enumerate(zip(terms, tensors, strict=True)):
        for c, n in zip(term, t.shape, strict=True):
            seen = sizes.get(c, 1)
            if n != seen and 1 not in (n, seen):
                raise RuntimeError(f"einsum: letter {c!r} of {subscripts!r} has length {n} in operand {i} and {seen} "
                                   "before; lengths must match or be 1")
            sizes[c] = max(seen, n)
    return sizes


# ---- issue 29: PyTorch's meshgrid and nonzero (NumPy's argwhere) ------------------------------------------------
def meshgrid(*tensors: TensorLike, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D (or 0-d) tensors: output i holds tensor i's values along axis i, broadcast
    over the others (reshapes and broadcast_to, so dL/dtensor_i = dL/dz_i summed over the other axes).
    ``indexing="ij"`` (matrix order, PyTorch's default) or ``"xy"`` (the first two axes swapped, NumPy's default:
    give it to get NumPy's answer). One list or tuple of tensors works too, as in PyTorch."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    parts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    for i, t in enumerate(parts):
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: tensor {i} has shape {t.shape}; each must be 0-d or 1-D")
    lengths = [t.size for t in parts]
    axes = list(range(len(parts)))
    if indexing == "xy" and len(parts) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(parts)
    for axis, n in zip(axes, lengths, strict=True):
        shape[axis] = n
    grids = []
    for t, axis in zip(parts, axes, strict=True):
        spread = [1] * len(parts)
        spread[axis] = t.size
        grids.append(t.reshape(tuple(spread)).broadcast_to(tuple(shape)))
    return tuple(grids)


def argwhere(x: TensorLike) -> Tensor:
    """The indices of x's nonzero elements, one row each, as an (n, x.ndim) int64 tensor: numpy.argwhere,
    which is PyTorch's x.nonzero(). Not differentiable: the result has no gradient."""
    array = x._data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor._make(note(_argwhere, array), False)


def _argwhere(x):
    return np.argwhere(x).astype(np.int64, copy=False)
