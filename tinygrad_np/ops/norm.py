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
