"""The inverse trigonometric functions and the hyperbolic ones with their inverses: z = f(x), so
dL/dx = dL/dz * f'(x).

Outside a function's domain (asin(2), acosh(0.5), atanh(2)) NumPy returns NaN and warns; PyTorch returns
NaN without a word, and so do these. The derivatives are PyTorch's formulas, so they agree with its
gradients there too (acosh's 1/√(x² - 1) is finite at x = -300, where acosh itself is NaN).
"""
import numpy as np

from ..core.function import Function
from .elementwise import Sqrt


def _quietly(f, x):
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # NaN and inf, as PyTorch's
        return f(x)


class Asin(Function):
    """z = asin(x).   dL/dx = dL/dz / √(1 - x²)."""

    def forward(self, x):
        return _quietly(np.arcsin, x)

    def backward(self, dz, z, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # inf at the domain's edge, as PyTorch's
            return dz / Sqrt.of(1.0 - x * x)


class Acos(Function):
    """z = acos(x).   dL/dx = -dL/dz / √(1 - x²)."""

    def forward(self, x):
        return _quietly(np.arccos, x)

    def backward(self, dz, z, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # inf at the domain's edge, as PyTorch's
            return -dz / Sqrt.of(1.0 - x * x)


class Atan(Function):
    """z = atan(x).   dL/dx = dL/dz / (1 + x²)."""

    def forward(self, x):
        return np.arctan(x)

    def backward(self, dz, z, x):
        return dz / (1.0 + x * x)


class Sinh(Function):
    """z = sinh(x).   dL/dx = dL/dz * cosh(x)."""

    def forward(self, x):
        return _quietly(np.sinh, x)

    def backward(self, dz, z, x):
        return dz * Cosh.of(x)


class Cosh(Function):
    """z = cosh(x).   dL/dx = dL/dz * sinh(x)."""

    def forward(self, x):
        return _quietly(np.cosh, x)

    def backward(self, dz, z, x):
        return dz * Sinh.of(x)


class Asinh(Function):
    """z = asinh(x).   dL/dx = dL/dz / √(x² + 1)."""

    def forward(self, x):
        return np.arcsinh(x)

    def backward(self, dz, z, x):
        return dz / Sqrt.of(x * x + 1.0)


class Acosh(Function):
    """z = acosh(x).   dL/dx = dL/dz / √(x² - 1)."""

    def forward(self, x):
        return _quietly(np.arccosh, x)

    def backward(self, dz, z, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # inf at the domain's edge, as PyTorch's
            return dz / Sqrt.of(x * x - 1.0)


class Atanh(Function):
    """z = atanh(x).   dL/dx = dL/dz / (1 - x²)."""

    def forward(self, x):
        return _quietly(np.arctanh, x)

    def backward(self, dz, z, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # inf at the domain's edge, as PyTorch's
            return dz / (1.0 - x * x)
