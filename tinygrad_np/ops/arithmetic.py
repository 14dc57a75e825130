"""+, -, *, /, ** and unary minus.

Inputs may have different shapes that broadcast together (NumPy's rules). The
adjoint of broadcasting is summation, so each gradient is summed back to its
input's shape with ``sum_to``: an input that was stretched across an axis
receives the sum of the gradients of every position it was stretched to.
"""
import numpy as np

from ..function import Function


class Add(Function):
    """z = x + y.   dL/dx = dL/dz,  dL/dy = dL/dz  (each summed back to its shape)."""

    def forward(self, x, y):
        return x + y

    def backward(self, dz):
        x, y = self.inputs
        return dz.sum_to(x.shape), dz.sum_to(y.shape)


class Sub(Function):
    """z = x - y.   dL/dx = dL/dz,  dL/dy = -dL/dz."""

    def forward(self, x, y):
        return x - y

    def backward(self, dz):
        x, y = self.inputs
        dy = -dz.sum_to(y.shape) if self.needs_input_grad[1] else None
        return dz.sum_to(x.shape), dy


class Mul(Function):
    """z = x * y.   dL/dx = dL/dz * y,  dL/dy = dL/dz * x."""

    def forward(self, x, y):
        return x * y

    def backward(self, dz):
        x, y = self.inputs
        dx = (dz * y).sum_to(x.shape) if self.needs_input_grad[0] else None
        dy = (dz * x).sum_to(y.shape) if self.needs_input_grad[1] else None
        return dx, dy


class Div(Function):
    """z = x / y.   dL/dx = dL/dz / y,  dL/dy = -dL/dz * x / y²."""

    def forward(self, x, y):
        return x / y

    def backward(self, dz):
        x, y = self.inputs
        dx = (dz / y).sum_to(x.shape) if self.needs_input_grad[0] else None
        dy = (-dz * x / (y * y)).sum_to(y.shape) if self.needs_input_grad[1] else None
        return dx, dy


class Pow(Function):
    """z = x ** y.   dL/dx = dL/dz * y * x^(y-1),  dL/dy = dL/dz * z * log(x).

    The exponent's gradient needs log(x), so it is defined for x > 0 only; it
    is computed only when the exponent requires a gradient, so ``x ** 2`` on
    negative x is fine.
    """

    def forward(self, x, y):
        return np.power(x, y)

    def backward(self, dz):
        x, y = self.inputs
        dx = (dz * y * x ** (y - 1)).sum_to(x.shape) if self.needs_input_grad[0] else None
        dy = (dz * self.output * x.log()).sum_to(y.shape) if self.needs_input_grad[1] else None
        return dx, dy


class Neg(Function):
    """z = -x.   dL/dx = -dL/dz."""

    def forward(self, x):
        return -x

    def backward(self, dz):
        return -dz
