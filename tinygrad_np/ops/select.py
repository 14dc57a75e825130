"""Choosing between values: the larger or the smaller of two, and one of two by a condition.

Both pass each output element's gradient back to the input it came from; the
condition itself is a constant, so the second derivative is zero wherever the
choice does not change.
"""
import numpy as np

from ..core.function import Function
from .reduce import sum_to


class Maximum(Function):
    """z = maximum(x, y), elementwise.   dL/dx = dL/dz * ([x > y] + [x == y] / 2),  dL/dy likewise.

    Ties split the gradient equally between x and y, as PyTorch's maximum does.
    """

    def forward(self, x, y):
        return np.maximum(x, y)

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        xs, ys = np.asarray(x), np.asarray(y)
        share = ((xs > ys) + 0.5 * (xs == ys)).astype(dz.dtype)  # x's share of each element's gradient
        return sum_to(dz * share, x.shape) if need_x else None, sum_to(dz * (1 - share), y.shape) if need_y else None


class Minimum(Function):
    """z = minimum(x, y), elementwise.   dL/dx = dL/dz * ([x < y] + [x == y] / 2),  dL/dy likewise.

    Maximum's mirror, ties split alike. Its own op rather than -maximum(-x, -y),
    which wraps for integers at INT32_MIN and for unsigned ones, without an error.
    """

    def forward(self, x, y):
        return np.minimum(x, y)

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        xs, ys = np.asarray(x), np.asarray(y)
        share = ((xs < ys) + 0.5 * (xs == ys)).astype(dz.dtype)  # x's share of each element's gradient
        return sum_to(dz * share, x.shape) if need_x else None, sum_to(dz * (1 - share), y.shape) if need_y else None


class Where(Function):
    """z = where(condition, x, y).   dL/dx = dL/dz * [condition],  dL/dy = dL/dz * [not condition].

    ``condition`` is a boolean array (a parameter, not an input: it has no gradient).
    """

    def forward(self, x, y, condition):
        self.condition = condition
        return np.where(condition, x, y)

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        chosen = self.condition
        return sum_to(dz * chosen, x.shape) if need_x else None, sum_to(dz * ~chosen, y.shape) if need_y else None
