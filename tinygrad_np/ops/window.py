"""Sliding windows: the im2col pair that convolution and pooling are built from.

``Unfold`` lays every kh x kw window of an image out along two new axes, so a
convolution becomes one matrix product and a pooling one reduction. Its
adjoint, ``Fold``, adds each window's values back onto the image at the place
the window came from. Each is the other's derivative, and both are linear, so
derivatives of every order follow.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..function import Function


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

    def backward(self, dz):
        return Fold.apply(dz, shape=self.inputs[0].shape, stride=self.stride, dilation=self.dilation)


class Fold(Function):
    """The adjoint of Unfold: z = zeros(shape), then z[n, c, i*sh + p*dh, j*sw + q*dw] += x[n, c, i, j, p, q].

    dL/dx = unfold(dL/dz).   Forward loops over the kh*kw kernel offsets, each
    a strided add of a whole (N, C, OH, OW) slab: no per-element scatter.
    """

    def forward(self, x, shape, stride, dilation):
        self.kernel, self.stride, self.dilation = x.shape[-2:], stride, dilation
        n, c, oh, ow, kh, kw = x.shape
        (sh, sw), (dh, dw) = stride, dilation
        z = np.zeros(shape, dtype=x.dtype)
        for p in range(kh):
            for q in range(kw):
                rows = slice(p * dh, p * dh + sh * (oh - 1) + 1, sh)
                cols = slice(q * dw, q * dw + sw * (ow - 1) + 1, sw)
                z[:, :, rows, cols] += x[:, :, :, :, p, q]
        return z

    def backward(self, dz):
        return Unfold.apply(dz, kernel=self.kernel, stride=self.stride, dilation=self.dilation)
