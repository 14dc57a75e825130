"""Matrix products."""
import numpy as np

from ..core.errors import ArgumentError
from ..core.function import Function
from .reduce import broadcast_to, sum_to


class MatMul(Function):
    """z = x @ y, with ``numpy.matmul``'s rules (1-D, 2-D and batched).

    For matrices:  dL/dx = dL/dz @ yᵀ,  dL/dy = xᵀ @ dL/dz.
    A 1-D x is treated as a row (1, n) and a 1-D y as a column (n, 1), and the
    batch axes broadcast, so the gradients are summed back to each input's shape.
    """

    name = "matmul"

    def forward(self, x, y):
        if x.dtype is not y.dtype:
            check_same_float(x, y, "matmul")
        try:  # the shapes are looked at only when NumPy refuses them: forward runs for every product
            if x.ndim > 2 and y.ndim == 2:  # a stack of rows times one matrix (a Linear on sequences): one product
                return (x.reshape(-1, x.shape[-1]) @ y).reshape(x.shape[:-1] + (y.shape[1],))
            return np.matmul(x, y)
        except ValueError:
            raise ArgumentError(_mismatch(x, y)) from None  # a ValueError, and PyTorch's RuntimeError

    def backward(self, dz, z, x, y):
        need_x, need_y = self.needs_input_grad
        if x.ndim == 2 and y.ndim == 2:  # the common case: two products, no reshaping, no summing
            return (dz @ y.T if need_x else None), (x.T @ dz if need_y else None)
        if x.ndim > 2 and y.ndim == 2:  # as in forward: the stacked rows as one matrix, one product each way
            rows, dz_rows = x.reshape(-1, x.shape[-1]), dz.reshape(-1, dz.shape[-1])
            return ((dz_rows @ y.T).reshape(x.shape) if need_x else None), (rows.T @ dz_rows if need_y else None)
        # A 1-D x is a row (1, n) and a 1-D y a column (n, 1); the batch axes broadcast, so sum back.
        xm = x.reshape((1,) + x.shape) if x.ndim == 1 else x
        ym = y.reshape(y.shape + (1,)) if y.ndim == 1 else y
        batch = np.broadcast_shapes(xm.shape[:-2], ym.shape[:-2])
        dzm = dz.reshape(batch + (xm.shape[-2], ym.shape[-1]))
        dx = sum_to(dzm @ ym.swapaxes(-1, -2), xm.shape).reshape(x.shape) if need_x else None
        dy = sum_to(xm.swapaxes(-1, -2) @ dzm, ym.shape).reshape(y.shape) if need_y else None
        return dx, dy


def check_same_float(x, y, op, x_name="", y_name=""):
    """Two float dtypes that differ are refused: NumPy would compute float32 @ float64 in float64, quietly
    doubling the memory and time of every layer after it (PyTorch refuses too). Integer constants are fine.
    matmul, linear and conv2d (on its weight and bias) all refuse through this one check."""
    if x.dtype.kind == "f" and y.dtype.kind == "f" and x.dtype != y.dtype:
        raise TypeError(f"{op}: {x_name}{x.dtype} {x.shape} and {y_name}{y.dtype} {y.shape} differ in dtype; "
                        f"convert one (x.astype(np.{y.dtype}) or Tensor(..., dtype=np.{x.dtype}))")


def _mismatch(x, y):
    """Why ``x @ y`` has no value, in the shapes' terms."""
    if x.ndim == 0 or y.ndim == 0:
        return f"matmul: {x.shape} @ {y.shape}: operands must have at least one dimension"
    inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if x.shape[-1] != inner_y:
        return f"matmul: {x.shape} @ {y.shape}: inner dimensions {x.shape[-1]} and {inner_y} differ"
    return f"matmul: {x.shape} @ {y.shape}: the batch axes {x.shape[:-2]} and {y.shape[:-2]} do not broadcast"


class Linear(Function):
    """z = x @ wᵀ + b, PyTorch's layout: x (..., in), w (out, in), b (out,) or absent.

    With the leading axes of x flattened into rows X (n, in) and dL/dz into G (n, out):
        dL/dx = G @ w,   dL/dw = Gᵀ @ X,   dL/db = G summed over the rows.
    The same as matmul, transpose and add, as one op: one node instead of three,
    and the matmul's result is not kept alive for the add.
    """

    def forward(self, x, w, b=None):
        if x.dtype is not w.dtype:
            check_same_float(x, w, "linear")
        if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1] or (b is not None and b.shape != w.shape[:1]):
            bias = "" if b is None else f" + {b.shape}"
            raise ValueError(f"linear: x {x.shape} @ weight {w.shape}ᵀ{bias}: expected x (..., in), weight (out, in) "
                             "and bias (out,)")
        if x.ndim != 2:  # 2-D, a batch of rows, is the common case and needs no reshaping
            return self.forward(x.reshape(-1, x.shape[-1]), w, b).reshape(x.shape[:-1] + w.shape[:1])
        z = x @ w.T
        if b is not None:
            z += b
        return z

    def backward(self, dz, z, x, w, b=None):
        need = self.needs_input_grad
        rows, grad_rows = (x, dz) if x.ndim == 2 else (x.reshape(-1, x.shape[-1]), dz.reshape(-1, dz.shape[-1]))
        dx = (grad_rows @ w).reshape(x.shape) if need[0] else None
        dw = grad_rows.T @ rows if need[1] else None
        if b is None:
            return dx, dw
        return dx, dw, grad_rows.sum(axis=0) if need[2] else None


class Einsum(Function):
    """z = numpy.einsum(subscripts, *operands), subscripts written out ("ij,jk->ik"; see ``tinygrad_np.einsum``).

    dL/d(operand i) = einsum of dL/dz with the other operands, into operand i's letters: each element of
    operand i meets dL/dz at the places it was multiplied into. A letter of operand i that is in neither the
    output nor another operand was summed away, so its gradient is broadcast back along it.
    """

    def forward(self, *operands, subscripts):
        self.subscripts = subscripts
        return np.einsum(subscripts, *operands)

    def backward(self, dz, z, *operands):
        inputs, output = self.subscripts.split("->")
        letters = inputs.split(",")
        grads = []
        for i, (own, x) in enumerate(zip(letters, operands, strict=True)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [pair for j, pair in enumerate(zip(letters, operands, strict=True)) if j != i]
            kept = "".join(c for c in own if c in output or any(c in spec for spec, _ in others))
            spec = ",".join([output] + [spec for spec, _ in others]) + "->" + kept
            g = Einsum.of(dz, *[operand for _, operand in others], subscripts=spec)
            if kept != own:  # letters summed away inside this operand: broadcast the gradient back along them
                kept_shape = tuple(n if c in kept else 1 for c, n in zip(own, x.shape, strict=True))
                g = broadcast_to(g.reshape(kept_shape), x.shape)
            grads.append(g)
        return tuple(grads)
