"""Normalisation: layer norm's core, as one op."""
import numpy as np

from ..core.function import Function
from ..core.tensor import Tensor


class Normalize(Function):
    """z = (x - mean(x)) / s, s = sqrt(var(x) + eps), the mean and the variance (without Bessel's correction)
    over ``axes``: layer norm before its weight and bias.

    dL/dx = (g - mean(g) - z * mean(g * z)) / s, the means over ``axes``, g = dL/dz.

    Fused rather than composed from seven primitives: a few passes over x each
    way instead of a node and a temporary per primitive, at every layer norm of
    a transformer.
    """

    def forward(self, x, axes, eps):
        self.axes, self.eps = axes, eps
        centred = x - x.mean(axis=axes, keepdims=True)
        self.scale = np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + eps)  # s, for the plain pass
        return centred / self.scale

    def backward(self, dz, z, x):
        axes = self.axes
        if isinstance(x, Tensor):  # a recorded pass: s as a function of x, so that this rule differentiates again
            centred = x - x.mean(axis=axes, keepdims=True)
            scale = ((centred * centred).mean(axis=axes, keepdims=True) + self.eps).sqrt()
        else:
            scale = self.scale
        return (dz - dz.mean(axis=axes, keepdims=True) - z * (dz * z).mean(axis=axes, keepdims=True)) / scale


class BatchNorm(Function):
    """Batch normalisation in training with its affine step, one op: z = (x - m) / s * w + b per channel (axis 1),
    m and v the batch's mean and variance over every other axis (without Bessel's correction), s = sqrt(v + eps).

    ``mean`` and ``var`` are x's own statistics, computed once by F.batch_norm (which updates the running
    statistics from the same arrays) and passed in, so that nothing computes them twice. They get no gradient
    of their own: dL/dx counts how they depend on x. With xhat = (x - m) / s, g = dL/dz and the means and sums
    over every axis but 1:
        dL/dx = w / s * (g - mean(g) - xhat mean(g xhat)),   dL/dw = sum(g xhat),   dL/db = sum(g).

    Fused rather than Normalize, a product and a sum: about half the passes over the activations each way,
    at every BatchNorm layer of a CNN.
    """

    def forward(self, x, w, b, mean, var, eps):
        self.eps, self.axes = eps, (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        self.inverse = 1.0 / np.sqrt(var + eps)  # 1 / s, (1, C, 1, ...)
        xhat = self.xhat = x - mean
        xhat *= self.inverse
        out = xhat * w.reshape(shape)
        out += b.reshape(shape)
        return out

    def backward(self, dz, z, x, w, b, mean, var):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        axes, shape = self.axes, (1, -1) + (1,) * (x.ndim - 2)
        if isinstance(dz, Tensor):  # a recorded pass: xhat and s as functions of x, so that this differentiates again
            normalize = Normalize()
            normalize.axes, normalize.eps = axes, self.eps
            xhat = Normalize.apply(x, axes=axes, eps=self.eps)
            dx = normalize.backward(dz * w.reshape(shape), xhat, x) if need_x else None
            return (dx, (dz * xhat).sum(axis=axes) if need_w else None, dz.sum(axis=axes) if need_b else None,
                    None, None)
        n = dz.size // dz.shape[1]
        sum_g = dz.sum(axis=axes)
        sum_g_xhat = (dz * self.xhat).sum(axis=axes)
        dx = None
        if need_x:
            dx = self.xhat * (sum_g_xhat / n).reshape(shape)
            np.subtract(dz, dx, out=dx)
            dx -= (sum_g / n).reshape(shape)
            dx *= w.reshape(shape) * self.inverse
        return dx, sum_g_xhat if need_w else None, sum_g if need_b else None, None, None
