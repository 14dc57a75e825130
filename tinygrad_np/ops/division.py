"""Division that rounds: the quotient rounded down or toward zero, and the two remainders that go with them.

``//`` and ``%`` are Python's (and PyTorch's floor_divide and remainder): the quotient rounded down, the
remainder with the divisor's sign. ``fmod`` and ``div(rounding_mode="trunc")`` are C's: toward zero, the
remainder with the dividend's sign. Integers stay integers, and an integer divided by zero is refused, as
PyTorch refuses it (NumPy returns 0 with a warning: a wrong number). A float divided by zero gives inf or NaN,
as in PyTorch, without NumPy's warning.

The rounded quotient is constant between its jumps, so its derivative is 0 (PyTorch's too, for
``div(rounding_mode=...)``). The remainders are x - y q for that constant q: dL/dx = dL/dz, dL/dy = -q dL/dz.
"""
import numpy as np

from ..core.errors import IntegerDivisionByZero
from ..core.function import Function
from .reduce import sum_to


def _refuse_integer_zero(y, op):
    if y.dtype.kind in "biu" and not y.all():
        raise IntegerDivisionByZero(f"{op}: an integer divided by zero (PyTorch raises too; NumPy would give 0); "
                                    "divide floats for inf and NaN, or keep zeros out of the divisor")


def _quotient(x, y, mode):
    """x / y rounded down ("floor") or toward zero ("trunc"), in x's and y's promoted dtype."""
    with np.errstate(divide="ignore", invalid="ignore"):  # float: inf and NaN, as PyTorch's
        if mode == "floor":
            return np.floor_divide(x, y)
        if x.dtype.kind in "biu" and y.dtype.kind in "biu":
            return (x - np.fmod(x, y)) // y  # exact: x - fmod(x, y) is a multiple of y
        return np.trunc(x / y)


class RoundedDivision(Function):
    """z = x / y rounded down (``mode="floor"``: ``//``) or toward zero (``mode="trunc"``).   dL/dx = dL/dy = 0:
    the quotient is constant between its jumps (PyTorch's derivative of div(rounding_mode=) too)."""

    def forward(self, x, y, mode):
        _refuse_integer_zero(y, "div" if mode == "trunc" else "floor_divide")
        return _quotient(x, y, mode)

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        return sum_to(dz * 0.0, x.shape) if need_x else None, sum_to(dz * 0.0, y.shape) if need_y else None


class Remainder(Function):
    """z = x - y floor(x / y), with y's sign (Python's %, numpy.remainder, PyTorch's remainder).
    dL/dx = dL/dz,  dL/dy = -dL/dz * floor(x / y)."""

    def forward(self, x, y):
        _refuse_integer_zero(y, "remainder")
        with np.errstate(divide="ignore", invalid="ignore"):  # x % 0.0 = NaN, as PyTorch's
            return np.remainder(x, y)

    def backward(self, dz, z, x, y):
        return _remainder_rule(self, dz, x, y, "floor")


class Fmod(Function):
    """z = x - y trunc(x / y), with x's sign (C's fmod, numpy.fmod, PyTorch's fmod).
    dL/dx = dL/dz,  dL/dy = -dL/dz * trunc(x / y)."""

    def forward(self, x, y):
        _refuse_integer_zero(y, "fmod")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(x, y)

    def backward(self, dz, z, x, y):
        return _remainder_rule(self, dz, x, y, "trunc")


def _remainder_rule(fn, dz, x, y, mode):
    """The shared rule of x - y q(x, y), q rounded by ``mode``: q is a constant (read with np.asarray)."""
    need_x, need_y = fn.needs_input_grad
    dy = None
    if need_y:
        q = _quotient(np.asarray(x), np.asarray(y), mode).astype(np.asarray(y).dtype, copy=False)
        dy = sum_to(-dz * q, y.shape)
    return sum_to(dz, x.shape) if need_x else None, dy
