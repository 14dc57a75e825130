"""The error function and GELU, which is made from it; and two functions of two tensors NumPy has as
ufuncs, logaddexp and copysign.

NumPy has no erf (SciPy does, and tinygrad_np depends on NumPy alone), so ``erf`` here evaluates two
polynomials whose coefficients are computed when this module is imported, by interpolating the standard
library's ``math.erf`` and ``math.erfc`` at Chebyshev points: no table of numbers to trust, and within a few
units in the last place of ``math.erf`` (tests/test_pointwise.py holds it to that).
"""
import math

import numpy as np
from numpy.polynomial import chebyshev

from ..core.function import Function
from ..core.tensor import Tensor
from .elementwise import Exp, Sigmoid, Tanh
from .reduce import sum_to

# The two series, for |x| < 1 and for 1 <= |x|, each interpolated at Chebyshev points and rewritten as a
# polynomial (Horner's rule: two in-place NumPy passes a term). Below 1, erf(x) / x, an even function, is a
# polynomial in w = x². From 1 on, erf(x) = 1 - exp(-x²) erfcx(x), with erfcx(x) = exp(x²) erfc(x) smooth and
# slowly varying: a polynomial in t = (x - 2) / (x + 2), which maps [1, 6] onto [-1/3, 1/2]. Past 6 (past 4 in
# float32) erf is ±1 to the dtype's precision. float64 takes degrees 12 and 20 (within 13 units in the last place
# of math.erf); float32 takes 5 and 8 (within 3), a quarter of the work.
_T_LOW, _T_HIGH = -1 / 3, 1 / 2


def _erf_over_x(w):
    return np.vectorize(lambda x: math.erf(x) / x)(np.sqrt(w))


def _erfcx(t):
    return np.vectorize(lambda x: math.exp(x * x) * math.erfc(x))(2 * (1 + t) / (1 - t))


def _polynomial(f, low, high, degree):
    """The coefficients (constant first) of the polynomial in v that interpolates f at Chebyshev points of
    [low, high]."""
    series = chebyshev.Chebyshev.interpolate(f, degree, domain=[low, high])
    return [float(c) for c in series.convert(kind=np.polynomial.Polynomial).coef]


_SERIES = {  # dtype's itemsize >= 8: (the polynomial below 1, the one from 1 on, where erf is ±1 from)
    True: (_polynomial(_erf_over_x, 0, 1, 12), _polynomial(_erfcx, _T_LOW, _T_HIGH, 20), 6.0),
    False: (_polynomial(_erf_over_x, 0, 1, 5), _polynomial(_erfcx, _T_LOW, _T_HIGH, 8), 4.0),
}


def _horner(coefficients, v):
    total = np.full_like(v, coefficients[-1])
    for c in coefficients[-2::-1]:
        total *= v
        total += c
    return total


def erf(x):
    """The error function of an array, elementwise, in its float dtype (float32 for integers)."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    inner = np.asarray(x, dtype=np.float32 if dtype.itemsize < 4 else dtype).reshape(-1)  # float16 in float32
    below, above, flat = _SERIES[inner.dtype.itemsize >= 8]
    a = np.minimum(np.abs(inner), flat)  # NaN stays NaN
    # Both polynomials over the whole array, then a blend by a 0/1 weight: selecting with a boolean mask (a
    # gather and scatter, np.where, copyto) is branchy, and a random pattern made it cost 20 passes.
    near = np.minimum(a, 1)
    result = near * _horner(below, near * near)
    far = np.maximum(a, 1)
    large = _horner(above, (far - 2) / (far + 2))
    large *= np.exp(-far * far)
    np.subtract(1, large, out=large)
    large -= result
    large *= a >= 1  # NaN compares False: result keeps it
    result += large
    return np.copysign(result, inner, out=result).reshape(x.shape).astype(dtype, copy=False)


_TWO_OVER_ROOT_PI = 2 / math.sqrt(math.pi)


class Erf(Function):
    """z = erf(x) = 2/√π ∫₀ˣ exp(-t²) dt.   dL/dx = dL/dz * 2/√π exp(-x²)."""

    def forward(self, x):
        return erf(x)

    def backward(self, dz, z, x):
        return dz * _TWO_OVER_ROOT_PI * Exp.of(-(x * x))


_GELU_C, _GELU_A = float(np.sqrt(2.0 / np.pi)), 0.044715
_ROOT_HALF, _ONE_OVER_ROOT_TWO_PI = float(np.sqrt(0.5)), float(1 / np.sqrt(2 * np.pi))


class Gelu(Function):
    """GELU, x Φ(x) with Φ the standard normal's distribution function, as PyTorch's ``approximate``:

    * "none" (PyTorch's default): z = x Φ(x) = 0.5 x (1 + erf(x / √2)).
      dL/dx = dL/dz * (Φ(x) + x φ(x)), φ(x) = exp(-x² / 2) / √(2π).
    * "tanh": z = 0.5 x (1 + t), t = tanh(c (x + a x³)), c = √(2/π), a = 0.044715.
      dL/dx = dL/dz * (0.5 (1 + t) + 0.5 x (1 - t²) c (1 + 3 a x²)).

    Fused rather than composed from eight primitives: forward and backward
    are each a few passes over the activation, which is the widest array of
    a transformer's MLP, instead of a node and a temporary per primitive.
    """

    def forward(self, x, approximate="none"):
        self.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_GELU_C * (x + _GELU_A * x * x * x))
            self.t = t  # for the plain pass's rule
            return 0.5 * x * (1.0 + t)
        cdf = 0.5 * (1.0 + erf(x * _ROOT_HALF))
        self.cdf = cdf  # for the plain pass's rule
        return x * cdf

    def backward(self, dz, z, x):
        # t and Φ: saved by forward for a plain pass; a recorded pass needs them as functions of x, to
        # differentiate again.
        recorded = isinstance(x, Tensor)
        if self.approximate == "tanh":
            t = Tanh.of(_GELU_C * (x + _GELU_A * x * x * x)) if recorded else self.t
            return dz * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3 * _GELU_A * x * x))
        cdf = 0.5 * (1.0 + Erf.of(x * _ROOT_HALF)) if recorded else self.cdf
        return dz * (cdf + x * Exp.of(x * x * -0.5) * _ONE_OVER_ROOT_TWO_PI)


class LogAddExp(Function):
    """z = log(exp(x) + exp(y)), without overflow (numpy.logaddexp).   dL/dx = dL/dz * sigmoid(x - y),
    dL/dy = dL/dz * sigmoid(y - x) (each summed back to its shape)."""

    def forward(self, x, y):
        return np.logaddexp(x, y)

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        share = Sigmoid.of(x - y)  # x's share of exp(z); sigmoid is stable where exp(x - z) would be too
        return sum_to(dz * share, x.shape) if need_x else None, sum_to(dz * (1 - share), y.shape) if need_y else None


class Copysign(Function):
    """z = |x| with the sign of y (numpy.copysign; -0.0 and NaN's sign bit count).   dL/dx = dL/dz * sign(x)
    * (±1, y's sign): ±1 where x != 0, 0 at x = 0, as PyTorch's;  dL/dy = 0 (the sign is constant between
    its jumps)."""

    def forward(self, x, y):
        return np.copysign(x, y)

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        flip = np.sign(np.asarray(x)) * np.copysign(1, np.asarray(y))  # a constant: dz/dx where it exists
        dx = sum_to(dz * flip.astype(np.asarray(x).dtype), x.shape) if need_x else None
        return dx, sum_to(dz * 0.0, y.shape) if need_y else None
