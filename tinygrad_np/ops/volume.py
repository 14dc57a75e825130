"""Sliding windows over any number of spatial axes: the im2col pair that 3-D convolution and pooling are built
from (window.py's ``Unfold`` and ``Fold`` are the 2-D pair, kept apart for their fast paths).

``VolumeUnfold`` lays every window of an input (N, C, *spatial) out along new trailing axes, so a convolution
becomes one matrix product and a pooling one reduction; ``VolumeFold``, its adjoint, adds each window's values
back where the window came from. Each is the other's derivative, and both are linear, so derivatives of every
order follow.
"""
import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.function import Function


class VolumeUnfold(Function):
    """z[n, c, *o, *k] = x[n, c, *(o * stride + k * dilation)] for x of shape (N, C, *spatial), one o and k per
    spatial axis: z has shape (N, C, *out, *kernel).   dL/dx = fold(dL/dz): each window's gradient added back
    where the window came from (``VolumeFold``).

    Forward is a strided view of x, with no copy.
    """

    def forward(self, x, kernel, stride, dilation):
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        spatial = tuple(range(2, x.ndim))
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))  # what a dilated window covers
        windows = sliding_window_view(x, span, axis=spatial)  # (N, C, *(size - span + 1), *span)
        return windows[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)
                       + tuple(slice(None, None, d) for d in dilation)]

    def backward(self, dz, z, x):
        return VolumeFold.of(dz, shape=x.shape, stride=self.stride, dilation=self.dilation)


class VolumeFold(Function):
    """The adjoint of VolumeUnfold: z = zeros(shape), then z[n, c, *(o * stride + k * dilation)] +=
    x[n, c, *o, *k].   dL/dx = unfold(dL/dz).

    Forward loops over the kernel's offsets, each a strided add of a whole (N, C, *out) slab.
    """

    def forward(self, x, shape, stride, dilation):
        dims = len(stride)
        self.kernel, self.stride, self.dilation = x.shape[-dims:], stride, dilation
        out = x.shape[2:2 + dims]
        z = np.zeros(shape, dtype=x.dtype)
        for offset in itertools.product(*(range(k) for k in self.kernel)):
            place = tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
                          for k, d, s, o in zip(offset, dilation, stride, out, strict=True))
            z[(slice(None), slice(None)) + place] += x[(Ellipsis,) + offset]
        return z

    def backward(self, dz, z, x):
        return VolumeUnfold.of(dz, kernel=self.kernel, stride=self.stride, dilation=self.dilation)
