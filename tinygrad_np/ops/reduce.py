"""Reductions, and the broadcasting pair that is their adjoint.

``sum`` and ``broadcast_to`` are each other's derivative: summing over an axis
sends the same gradient back to every element of that axis (a broadcast), and
broadcasting along an axis collects the gradients of all the copies (a sum).
"""
import numpy as np

from ..core.arguments import axes_arg
from ..core.function import Function
from ..core.tensor import Tensor


def sum_to(g, shape):
    """``g`` summed down to ``shape`` (the adjoint of broadcasting), an array or a Tensor as ``g`` is: over the
    leading axes it has and ``shape`` lacks, and over the axes where ``shape`` has size 1 and ``g`` does not.
    ``g`` itself when nothing was broadcast. Every rule of an op that broadcasts ends with it."""
    if g.shape == shape:
        return g
    if isinstance(g, Tensor):
        return SumTo.apply(g, shape=shape)
    lead = g.ndim - len(shape)
    if g.shape[lead:] == shape:  # only leading axes to sum, as for a bias: no keepdims, no reshape
        return g.sum(axis=tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def broadcast_to(g, shape):
    """``g`` broadcast to ``shape`` (the adjoint of summing), an array or a Tensor as ``g`` is."""
    return g if g.shape == shape else BroadcastTo.of(g, shape=shape)


def kept_shape(shape, axes):
    """The shape a reduction over ``axes`` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """z = x.sum(axis, keepdims).   dL/dx = dL/dz broadcast back over the summed axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = axes_arg(axis, x.ndim, "sum")
        with np.errstate(invalid="ignore"):  # inf + -inf = nan, as PyTorch's sum, which does not warn
            return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, dz, z, x):
        return broadcast_to(dz.reshape(kept_shape(x.shape, self.axes)), x.shape)


class Max(Function):
    """z = x.max(axis, keepdims).   dL/dx = dL/dz * [x == z] / (number of maxima).

    Ties share the gradient equally: if k elements attain the maximum, each
    gets 1/k of it (as HIPS autograd and ``torch.amax`` do). The split is a
    constant, so the second derivative is 0 wherever it exists.
    """

    def forward(self, x, axis=None, keepdims=False):
        self.axes = axes_arg(axis, x.ndim, "max")
        return x.max(axis=self.axes, keepdims=keepdims)

    def backward(self, dz, z, x):
        shape = kept_shape(x.shape, self.axes)
        is_max = np.asarray(x) == np.asarray(z).reshape(shape)
        share = (is_max / is_max.sum(axis=self.axes, keepdims=True)).astype(x.dtype)
        return dz.reshape(shape) * share


class Min(Function):
    """z = x.min(axis, keepdims).   dL/dx = dL/dz * [x == z] / (number of minima).

    Max's mirror, ties shared alike. Its own op rather than -max(-x): negation
    wraps for integers (-INT32_MIN is INT32_MIN, -uint8 wraps to 256 - x), and
    does not exist for bools, so -max(-x) gave wrong minima without an error.
    """

    def forward(self, x, axis=None, keepdims=False):
        self.axes = axes_arg(axis, x.ndim, "min")
        return x.min(axis=self.axes, keepdims=keepdims)

    def backward(self, dz, z, x):
        shape = kept_shape(x.shape, self.axes)
        is_min = np.asarray(x) == np.asarray(z).reshape(shape)
        share = (is_min / is_min.sum(axis=self.axes, keepdims=True)).astype(x.dtype)
        return dz.reshape(shape) * share


class BroadcastTo(Function):
    """z = broadcast_to(x, shape).   dL/dx = dL/dz summed back to x's shape."""

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, dz, z, x):
        return sum_to(dz, x.shape)


class SumTo(Function):
    """z = x summed down to ``shape`` (the inverse of broadcasting).   dL/dx = dL/dz broadcast to x's shape.

    Sums over the leading axes x has and ``shape`` lacks, and over the axes
    where ``shape`` has size 1 and x does not.
    """

    def forward(self, x, shape):
        return sum_to(x, shape)

    def backward(self, dz, z, x):
        return broadcast_to(dz, x.shape)


class Cumsum(Function):
    """z = the running sum of x along ``axis`` (numpy.cumsum).   dL/dx = the running sum of dL/dz along the
    axis taken from the end: x[i] counts in every z[j] with j >= i."""

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis)

    def backward(self, dz, z, x):
        reverse = (slice(None),) * self.axis + (slice(None, None, -1),)
        return Cumsum.of(dz[reverse], axis=self.axis)[reverse]
