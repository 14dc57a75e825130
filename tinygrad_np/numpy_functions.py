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
    numbers the result's dtype is PyTorch's (two ints int64, a float float32)
    and needs no gradient.
    """
    condition = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != bool:
        raise TypeError(f"where: condition must be boolean (a comparison, say), got dtype {condition.dtype}")
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = Tensor(x)  # Tensor's dtypes: a Python int int64, a float float32, an array its own
    x, y = _operands(x, y, "where")
    return _ops.Where.apply(x, y, condition=condition)


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
        raise ValueError("concatenate: 0-d tensors have no axis to join along; use stack")
    return _ops.Concatenate.apply(*parts, axis=axis_arg(axis, parts[0].ndim, "concatenate"))


def take_along_axis(x: Tensor, indices: TensorLike, axis: int, **pytorch_names: Any) -> Tensor:
    """numpy.take_along_axis (PyTorch's gather): z[..., i, ...] = x[..., indices[..., i, ...], ...] along
    ``axis``, with ``indices`` an integer array or Tensor of x's number of dimensions (a GetItem).
    dL/dx = dL/dz added back at the indices taken."""
    refuse_pytorch_names("take_along_axis", pytorch_names)
    array = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu" or array.ndim != x.ndim:
        raise TypeError(f"take_along_axis: indices must be integers with x's {x.ndim} dimensions, got "
                        f"{array.dtype} {array.shape}")
    axis = axis_arg(axis, x.ndim, "take_along_axis")
    index = note(_along_axis_index, array, axis, x.shape)
    return x[index]


def _along_axis_index(indices, axis, shape):
    """The fancy index that numpy.take_along_axis builds: ``indices`` on ``axis``, a broadcast range elsewhere."""
    if (indices < -shape[axis]).any() or (indices >= shape[axis]).any():
        raise IndexError(f"take_along_axis: an index is out of range for axis {axis} of length {shape[axis]}")
    grids = np.ogrid[tuple(slice(n) for n in indices.shape)]
    return tuple(indices if a == axis else grids[a] for a in range(len(shape)))


def einsum(subscripts: str, *operands: TensorLike) -> Tensor:
    """numpy.einsum (and torch.einsum) on Tensors: "ij,jk->ik", "bij,bjk->bik", "i,i->", "ij->ji", ... (ops.Einsum,
    whose docstring states its derivative). Without "->" the output is NumPy's: the letters used once, sorted.
    Not here: "..." and a letter twice in one operand (a diagonal); write those with reshape and indexing."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # torch.einsum("ij,jk", [a, b]) also works
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ValueError(f"einsum: '...' is not supported here, got {subscripts!r}; write the axes out")
    inputs, _, output = spec.partition("->")
    letters = inputs.split(",")
    if len(letters) != len(operands):
        raise ValueError(f"einsum: {subscripts!r} names {len(letters)} operands, got {len(operands)}")
    if "->" not in spec:
        counts = {c: inputs.count(c) for c in inputs if c.isalpha()}
        output = "".join(sorted(c for c, n in counts.items() if n == 1))
    for own in letters:
        if len(set(own)) != len(own):
            raise ValueError(f"einsum: {own!r} repeats a letter (a diagonal), which is not supported here")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in operands]
    for own, t in zip(letters, tensors, strict=True):
        if len(own) != t.ndim:
            raise ValueError(f"einsum: {own!r} has {len(own)} letters for an operand of shape {t.shape}")
    return _ops.Einsum.apply(*tensors, subscripts=",".join(letters) + "->" + output)
