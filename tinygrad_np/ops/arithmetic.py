"""+, -, *, /, ** and unary minus.

Inputs may have different shapes that broadcast together (NumPy's rules). The
adjoint of broadcasting is summation, so each gradient is summed back to its
input's shape with ``sum_to``: an input that was stretched across an axis
receives the sum of the gradients of every position it was stretched to.
"""
import numpy as np

from ..core.errors import ArgumentError
from ..core.function import Function
from .elementwise import Log
from .reduce import sum_to


class Add(Function):
    """z = x + y.   dL/dx = dL/dz,  dL/dy = dL/dz  (each summed back to its shape)."""

    def forward(self, x, y):
        return x + y

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        return sum_to(dz, x.shape) if need_x else None, sum_to(dz, y.shape) if need_y else None


class Sub(Function):
    """z = x - y.   dL/dx = dL/dz,  dL/dy = -dL/dz."""

    def forward(self, x, y):
        return x - y

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        return sum_to(dz, x.shape) if need_x else None, -sum_to(dz, y.shape) if need_y else None


class Mul(Function):
    """z = x * y.   dL/dx = dL/dz * y,  dL/dy = dL/dz * x."""

    def forward(self, x, y):
        return x * y

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        return sum_to(dz * y, x.shape) if need_x else None, sum_to(dz * x, y.shape) if need_y else None


class Div(Function):
    """z = x / y.   dL/dx = dL/dz / y,  dL/dy = -dL/dz * x / y²."""

    def forward(self, x, y):
        if x.dtype.kind in "biu" and y.dtype.kind in "biu":  # PyTorch divides integers in float32, its default
            x, y = x.astype(np.float32), y.astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):  # 1/0 = inf and 0/0 = nan, as PyTorch's
            return x / y

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = sum_to(dz / y, x.shape) if need_x else None
            return dx, sum_to(-dz * x / (y * y), y.shape) if need_y else None


class Pow(Function):
    """z = x ** y.   dL/dx = dL/dz * y * x^(y-1),  dL/dy = dL/dz * z * log(x).

    Where the formulas read 0 * inf, the limits are taken as in PyTorch, so
    no NaN appears: at y = 0, dz/dx = 0 (x^0 is constant); at x = 0 with
    y >= 0, dz/dy = 0 (z = 0 there). Each is a shift, by a constant 0/1
    mask, of the exponent (x^(y-1) becomes x^0 = 1) or of log's argument
    (log(0) becomes log(1) = 0), so the rules stay differentiable. When y
    itself needs a gradient, the exponent is shifted only at x = 0, so that
    d(dz/dx)/dy = x^(-1) is kept where it is finite.

    A scalar exponent of 2, 3 or 0.5 is computed as x*x, x*x*x or sqrt(x):
    exact to rounding like ``np.power``, and hundreds of times faster than
    ``np.power`` for odd powers of negative numbers.

    Integers to integer powers stay integers (``int32 ** 2`` is int32), as in
    PyTorch. A negative integer exponent is refused when it is a Python number
    (``x ** -2``, as PyTorch and NumPy refuse it) and, given as a tensor, gives
    PyTorch's integer answer: 1 for a base of 1, ±1 for -1, and 0 otherwise.
    NaN and inf where PyTorch has them (0 ** -1, (-8) ** 0.5) come without
    NumPy's warnings.
    """

    def forward(self, x, y, exponent_is_number=False):
        if x.dtype.kind in "biu":
            if y.dtype.kind in "biu":
                return _integer_power(x, y, exponent_is_number)
            x = x.astype(y.dtype)  # an integer to a float power is a float, PyTorch's float32 for a number
        if y.ndim == 0:
            e = y.item()
            if e == 2:
                return x * x
            if e == 3:
                return x * x * x
            if e == 0.5:
                with np.errstate(invalid="ignore"):
                    return np.sqrt(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.power(x, y)

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        xs, ys = np.asarray(x), np.asarray(y)  # the values, as constants for the masks
        dx = dy = None
        with np.errstate(divide="ignore", invalid="ignore"):  # inf and NaN where PyTorch's gradient has them
            if need_x:
                shift = (ys == 0) & (xs == 0) if need_y else ys == 0
                dx = sum_to(dz * y * x ** (y - 1 + shift.astype(xs.dtype)), x.shape)
            if need_y:
                base_is_zero = ((xs == 0) & (ys >= 0)).astype(xs.dtype)  # log(0 + 1) = 0 there
                dy = sum_to(dz * z * Log.of(x + base_is_zero), y.shape)
        return dx, dy


def _integer_power(x, y, exponent_is_number):
    """x ** y for integers, as PyTorch computes it (see Pow)."""
    negative = y < 0
    if not negative.any():
        return np.power(x, y)
    if exponent_is_number:
        raise ArgumentError(f"pow: integers to negative integer powers are not allowed (x ** {y.item()} on "
                            f"{x.dtype}, as PyTorch and NumPy refuse it); use x.astype(np.float32) ** {y.item()}")
    powers = np.power(x, np.where(negative, 0, y))
    odd = (y % 2) != 0
    inverse = np.where(x == 1, 1, np.where(x == -1, np.where(odd, -1, 1), 0)).astype(powers.dtype)
    return np.where(negative, inverse, powers)


class Neg(Function):
    """z = -x.   dL/dx = -dL/dz."""

    def forward(self, x):
        return -x

    def backward(self, dz, z, x):
        return -dz
