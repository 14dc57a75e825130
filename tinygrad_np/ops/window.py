"""Sliding windows: the im2col pair that convolution and pooling are built from.

``Unfold`` lays every kh x kw window of an image out along two new axes, so a
convolution becomes one matrix product and a pooling one reduction. Its
adjoint, ``Fold``, adds each window's values back onto the image at the place
the window came from. Each is the other's derivative, and both are linear, so
derivatives of every order follow.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.function import Function


def output_size(size, kernel, stride, dilation):
    """How many windows of ``kernel`` taps, ``dilation`` apart, fit in ``size`` at steps of ``stride``."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


class Unfold(Function):
    """z[n, c, i, j, p, q] = x[n, c, i*sh + p*dh, j*sw + q*dw] for x of shape (N, C, H, W).

    z has shape (N, C, OH, OW, kh, kw).   dL/dx = fold(dL/dz): each window's
    gradient added back where the window came from (``Fold``).

    Forward is a strided view of x, with no copy.
    """

    def forward(self, x, kernel, stride, dilation):
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # what a dilated window covers
        windows = sliding_window_view(x, span, axis=(2, 3))  # (N, C, H - span + 1, W - span + 1, *span)
        return windows[:, :, ::sh, ::sw, ::dh, ::dw]

    def backward(self, dz, z, x):
        return Fold.of(dz, shape=x.shape, stride=self.stride, dilation=self.dilation)


class Fold(Function):
    """The adjoint of Unfold: z = zeros(shape), then z[n, c, i*sh + p*dh, j*sw + q*dw] += x[n, c, i, j, p, q].

    dL/dx = unfold(dL/dz).   Forward loops over the kh*kw kernel offsets, each
    a strided add of a whole (N, C, OH, OW) slab: no per-element scatter.
    """

    def forward(self, x, shape, stride, dilation):
        self.kernel, self.stride, self.dilation = x.shape[-2:], stride, dilation
        n, c, oh, ow, kh, kw = x.shape
        (sh, sw), (dh, dw) = stride, dilation
        if (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and shape == (n, c, oh * kh, ow * kw):
            # Windows that tile the image exactly (pooling's usual case): putting them back is one copy.
            return x.transpose(0, 1, 2, 4, 3, 5).reshape(shape)
        z = np.zeros(shape, dtype=x.dtype)
        for p in range(kh):
            for q in range(kw):
                rows = slice(p * dh, p * dh + sh * (oh - 1) + 1, sh)
                cols = slice(q * dw, q * dw + sw * (ow - 1) + 1, sw)
                z[:, :, rows, cols] += x[:, :, :, :, p, q]
        return z

    def backward(self, dz, z, x):
        return Unfold.of(dz, kernel=self.kernel, stride=self.stride, dilation=self.dilation)


class WindowMax(Function):
    """z = max of x over the two window axes ``axes`` (max pooling): over (4, 5) of Unfold's windows, or
    over (3, 5) of an image viewed as (N, C, OH, kh, OW, kw) when the windows tile it.

    dL/dx = dL/dz at each window's first maximum (in row-major order of the
    window), 0 elsewhere: PyTorch's max_pool2d rule. The choice is a constant,
    so the second derivative is 0 wherever it exists.

    Both directions loop over the kh*kw window offsets, each an elementwise
    step over all windows at once: NumPy reduces small, separated axes of a
    view many times more slowly.
    """

    def forward(self, x, axes):
        self.axes = axes
        best = None
        for offset in self._offsets(x.shape):
            best = x[offset].copy() if best is None else np.maximum(best, x[offset], out=best)
        return best

    def _offsets(self, shape):
        """Index tuples picking one offset (p, q) of every window, in row-major order of the window."""
        a, b = self.axes
        for p in range(shape[a]):
            for q in range(shape[b]):
                index = [slice(None)] * len(shape)
                index[a], index[b] = p, q
                yield tuple(index)

    def backward(self, dz, z, x):
        x, best = np.asarray(x), np.asarray(z)
        chosen = np.empty(x.shape, dtype=bool)
        equal = np.empty(best.shape, dtype=bool)
        seen = np.zeros(best.shape, dtype=bool)  # windows whose first maximum is already found
        for offset in self._offsets(x.shape):
            np.equal(x[offset], best, out=equal)
            np.greater(equal, seen, out=chosen[offset])  # equal and not seen: the first maximum
            seen |= equal
        expanded = list(dz.shape)
        for a in self.axes:
            expanded.insert(a, 1)
        return dz.reshape(tuple(expanded)) * chosen
