"""Choosing between values: the larger of two, and one of two by a condition.

Both pass each output element's gradient back to the input it came from; the
condition itself is a constant, so the second derivative is zero wherever the
choice does not change.
"""
import numpy as np

from ..function import Function
from ..tensor import Tensor


class Maximum(Function):
    """z = maximum(x, y), elementwise.   dL/dx = dL/dz * ([x > y] + [x == y] / 2),  dL/dy likewise.

    Ties split the gradient equally between x and y, as PyTorch's maximum does.
    """

    def forward(self, x, y):
        return np.maximum(x, y)

    def backward(self, dz):
        x, y = self.inputs
        share = (x.data > y.data) + 0.5 * (x.data == y.data)  # x's share of each element's gradient
        dx = (dz * _constant(share, dz.dtype)).sum_to(x.shape) if self.needs_input_grad[0] else None
        dy = (dz * _constant(1.0 - share, dz.dtype)).sum_to(y.shape) if self.needs_input_grad[1] else None
        return dx, dy


class Where(Function):
    """z = where(condition, x, y).   dL/dx = dL/dz * [condition],  dL/dy = dL/dz * [not condition].

    ``condition`` is a boolean array (a parameter, not an input: it has no gradient).
    """

    def forward(self, x, y, condition):
        self.condition = condition
        return np.where(condition, x, y)

    def backward(self, dz):
        x, y = self.inputs
        chosen = _constant(self.condition, dz.dtype)
        dx = (dz * chosen).sum_to(x.shape) if self.needs_input_grad[0] else None
        dy = (dz * (1.0 - chosen)).sum_to(y.shape) if self.needs_input_grad[1] else None
        return dx, dy


def _constant(array, dtype):
    return Tensor._make(np.asarray(array, dtype=dtype), False)
