"""Elementwise functions of one tensor: z = f(x), so dL/dx = dL/dz * f'(x).

Where f'(x) is cheaper in terms of the output z (exp, sqrt, tanh, sigmoid),
the rule reads the output z instead of recomputing f.

Outside a function's domain (log of a negative, sqrt of a negative, sin of
inf) NumPy returns NaN or inf and warns; PyTorch returns the same values and
says nothing. Those ops compute under ``np.errstate`` for exactly the warnings
whose values are PyTorch's (``tg.detect_anomaly`` finds where a NaN starts).
"""
import numpy as np

from ..core.function import Function


class Exp(Function):
    """z = exp(x).   dL/dx = dL/dz * z."""

    def forward(self, x):
        return np.exp(x)

    def backward(self, dz, z, x):
        return dz * z


class Log(Function):
    """z = log(x).   dL/dx = dL/dz / x."""

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, log(-1) = nan, as PyTorch's
            return np.log(x)

    def backward(self, dz, z, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # 1/0 = inf at x = 0, as PyTorch's
            return dz / x


class Sqrt(Function):
    """z = sqrt(x).   dL/dx = dL/dz / (2 z)."""

    def forward(self, x):
        with np.errstate(invalid="ignore"):  # sqrt(-1) = nan, as PyTorch's
            return np.sqrt(x)

    def backward(self, dz, z, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # inf at x = 0, as PyTorch's
            return dz / (z * 2.0)


class Relu(Function):
    """z = max(x, 0).   dL/dx = dL/dz * [x > 0].

    At x = 0 the derivative is taken to be 0. The mask is a constant, so the
    second derivative is 0 wherever it exists.
    """

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, dz, z, x):
        return dz * (x > 0)  # a boolean mask, outside the graph on either pass


class Abs(Function):
    """z = |x|.   dL/dx = dL/dz * sign(x).

    At x = 0 the derivative is taken to be 0. The sign is a constant, so the
    second derivative is 0 wherever it exists.
    """

    def forward(self, x):
        return np.abs(x)

    def backward(self, dz, z, x):
        return dz * np.sign(np.asarray(x))


class Tanh(Function):
    """z = tanh(x).   dL/dx = dL/dz * (1 - z²).

    (The derivative of tanh is 1 - tanh², not 1 - tan²: the slip the original
    notebook made by hand, and the kind of error gradcheck catches.)
    """

    def forward(self, x):
        return np.tanh(x)

    def backward(self, dz, z, x):
        return dz * (1.0 - z * z)


class Sigmoid(Function):
    """z = 1 / (1 + exp(-x)).   dL/dx = dL/dz * z * (1 - z).

    Fused rather than composed from exp and division for stability: forward
    never exponentiates a positive number, so it neither overflows nor warns
    for any finite x: with e = exp(-|x|), z = 1/(1+e) for x >= 0 and e/(1+e)
    for x < 0.
    """

    def forward(self, x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0, e) / (1.0 + e)

    def backward(self, dz, z, x):
        return dz * z * (1.0 - z)


class Sin(Function):
    """z = sin(x).   dL/dx = dL/dz * cos(x)."""

    def forward(self, x):
        with np.errstate(invalid="ignore"):  # sin(inf) = nan, as PyTorch's
            return np.sin(x)

    def backward(self, dz, z, x):
        return dz * Cos.of(x)


class Cos(Function):
    """z = cos(x).   dL/dx = -dL/dz * sin(x)."""

    def forward(self, x):
        with np.errstate(invalid="ignore"):  # cos(inf) = nan, as PyTorch's
            return np.cos(x)

    def backward(self, dz, z, x):
        return -dz * Sin.of(x)


class Softplus(Function):
    """z = log(1 + exp(x)).   dL/dx = dL/dz * sigmoid(x).

    Fused for stability: ``np.logaddexp(0, x)`` computes it without overflow for any finite x.
    """

    def forward(self, x):
        return np.logaddexp(0, x)

    def backward(self, dz, z, x):
        return dz * Sigmoid.of(x)


class PiecewiseConstant(Function):
    """z = sign(x), floor(x), ceil(x), trunc(x) or round(x) (half to even, as NumPy's and PyTorch's), as
    ``kind`` says.   dL/dx = 0: each is constant between its
    jumps, and PyTorch gives these the derivative 0 too."""

    kinds = ("sign", "floor", "ceil", "trunc", "round")

    def forward(self, x, kind):
        return getattr(np, kind)(x)

    def backward(self, dz, z, x):
        return dz * 0.0
