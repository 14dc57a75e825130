"""The functions of several tensors that are not methods: ``where``, ``maximum`` and ``concatenate``.

Each checks its arguments and calls one primitive op (ops/). They are exported
as ``tg.where``, ``tg.maximum`` and ``tg.concatenate``.
"""
import numpy as np

from .arguments import axis_arg, refuse_pytorch_names
from .tensor import Tensor
from . import ops as _ops


def maximum(x, y):
    """The elementwise larger of x and y (tensors or numbers); ties split the gradient equally."""
    x, y = _operands(x, y, "maximum")
    return _ops.Maximum.apply(x, y)


def where(condition, x, y):
    """x where ``condition`` holds, else y, elementwise with broadcasting (x, y tensors or numbers).

    ``condition`` is a boolean tensor or array (a comparison, say) and gets no
    gradient; x gets dL/dz where it was chosen, y where it was not.
    """
    condition = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != bool:
        raise TypeError(f"where: condition must be boolean (a comparison, say), got dtype {condition.dtype}")
    x, y = _operands(x, y, "where")
    return _ops.Where.apply(x, y, condition=condition)


def _operands(x, y, op):
    """Two operands as Tensors: numbers take the dtype of the tensor beside them."""
    if isinstance(x, Tensor):
        return x, x._operand(y)
    if isinstance(y, Tensor):
        return y._operand(x), y
    raise TypeError(f"{op}: at least one of the two operands must be a Tensor")


def concatenate(tensors, axis=0, **pytorch_names):
    """Join tensors along an existing axis."""
    refuse_pytorch_names("concatenate", pytorch_names)
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    if tensors[0].ndim == 0:
        raise ValueError("concatenate: 0-d tensors have no axis to join along; use stack")
    return _ops.Concatenate.apply(*tensors, axis=axis_arg(axis, tensors[0].ndim, "concatenate"))
