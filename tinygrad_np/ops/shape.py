"""Operations that move values without changing them: reshape, transpose,
indexing, concatenation, and dtype casts.

Each one's derivative moves the gradient back the way the values came.
"""
import numpy as np

from ..core.errors import ArgumentError
from ..core.function import Function


class Reshape(Function):
    """z = x.reshape(shape).   dL/dx = dL/dz reshaped to x's shape."""

    def forward(self, x, shape):
        try:
            return x.reshape(shape)
        except ValueError as err:  # shapes that do not fit: NumPy's ValueError, PyTorch's RuntimeError
            raise ArgumentError(str(err)) from None

    def backward(self, dz, z, x):
        return dz.reshape(x.shape)


class Transpose(Function):
    """z = x.transpose(axes).   dL/dx = dL/dz transposed by the inverse permutation.

    ``axes`` is a permutation of non-negative axes (Tensor.transpose resolves
    negative ones first): the inverse of a permutation with negative entries
    is not found by sorting them.
    """

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, dz, z, x):
        return dz.transpose(sorted(range(len(self.axes)), key=self.axes.__getitem__))  # the inverse permutation


def is_advanced_index(index):
    """True if ``index`` uses integer or boolean arrays (NumPy's advanced indexing)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


class GetItem(Function):
    """z = x[index].   dL/dx = zeros like x, with dL/dz added at ``index``.

    An element picked several times (a repeated integer index) receives the
    sum of the gradients of all its copies.
    """

    name = "getitem"

    def forward(self, x, index):
        self.index = index
        return x[index]

    def backward(self, dz, z, x):
        return ScatterAdd.of(dz, index=self.index, shape=x.shape)


class ScatterAdd(Function):
    """z = zeros(shape) with x added at ``index``: the adjoint of indexing.   dL/dx = dL/dz[index]."""

    def forward(self, x, index, shape):
        self.index = index
        z = np.zeros(shape, dtype=x.dtype)
        if is_advanced_index(index):
            np.add.at(z, index, x)  # unbuffered, so repeated indices accumulate
        else:
            z[index] = x  # basic indexing never repeats an element: plain assignment is enough
        return z

    def backward(self, dz, z, x):
        return GetItem.of(dz, index=self.index)


class Concatenate(Function):
    """z = concatenate(xs, axis).   dL/dxᵢ = the slice of dL/dz that xᵢ occupies."""

    def forward(self, *xs, axis=0):
        self.axis = axis
        return np.concatenate(xs, axis=axis)

    def backward(self, dz, z, *xs):
        axis = self.axis
        grads, start = [], 0
        for x, needed in zip(xs, self.needs_input_grad, strict=True):
            stop = start + x.shape[axis]
            index = (slice(None),) * axis + (slice(start, stop),)
            grads.append(dz[index] if needed else None)
            start = stop
        return tuple(grads)


class Pad(Function):
    """z = numpy.pad(x, pad_width, constant_values=value).   dL/dx = dL/dz with the padding cut off."""

    def forward(self, x, pad_width, value):
        self.inner = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape, strict=True))
        return np.pad(x, pad_width, constant_values=value)

    def backward(self, dz, z, x):
        return GetItem.of(dz, index=self.inner)


class Cast(Function):
    """z = x.astype(dtype).   dL/dx = dL/dz cast back to x's dtype."""

    preserves_dtype = False  # changing the dtype is the point

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, dz, z, x):
        return dz.astype(x.dtype)
