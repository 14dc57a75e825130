"""Running products and running log-sum-exps along an axis (the running sum, Cumsum, is in reduce.py).

Both rules are written with the scans themselves (a running product, a running sum or log-sum-exp taken from
the end), so a recorded pass differentiates them again.
"""
import numpy as np

from ..core.function import Function
from ..core.tensor import Tensor
from .elementwise import Exp, Log
from .reduce import Cumsum


def _reversed(axis):
    """The index that reverses an array along ``axis``."""
    return (slice(None),) * axis + (slice(None, None, -1),)


def _from_the_end(scan, values, axis):
    """``scan`` (Cumsum or Logcumsumexp) of ``values`` taken from the end of ``axis``: position i covers j >= i."""
    reverse = _reversed(axis)
    return scan.of(values[reverse], axis=axis)[reverse]


class Cumprod(Function):
    """z = the running product of x along ``axis`` (numpy.cumprod).

    dL/dx_i = sum over j >= i of dL/dz_j * (the product of x_l, l <= j, l != i).

    Before the first zero along the axis (at k) that is (sum over j >= i of dL/dz_j z_j) / x_i, PyTorch's
    formula. At k it is (the product of the x before k) * (sum over j >= k of dL/dz_j * the product of x_l,
    k < l <= j), with no division. After k every product holds x_k, so the gradient there is x_k times the
    same rule applied to x with x_k made 1: 0 in value, which a plain pass uses, and a recorded pass keeps
    as that product, so that the second derivative with respect to x_k is right. The zeros' positions are
    constants, and the rule is built from running products and sums, so it can be differentiated again.
    """

    def forward(self, x, axis):
        self.axis = axis
        return np.cumprod(x, axis=axis)

    def backward(self, dz, z, x):
        return _cumprod_grad(dz, z, x, self.axis)


def _cumprod_grad(dz, z, x, axis):
    """Cumprod's rule (see its docstring), on arrays or on Tensors."""
    is_zero = np.asarray(x) == 0
    zeros_so_far = np.cumsum(is_zero, axis=axis)
    before = zeros_so_far == 0  # no zero at or before this position
    nonzero_x = x * before + ~before  # x before the first zero, 1 from it on
    grad = _from_the_end(Cumsum, dz * z, axis) / nonzero_x * before
    first = is_zero & (zeros_so_far == 1)
    if not first.any():
        return grad
    after = zeros_so_far > 0  # positions j >= k
    later = after & ~first
    running = Cumprod.of(x * later + ~later, axis=axis)  # the product of x_l, k < l <= j, for j >= k
    tail = (dz * running * after).sum(axis=axis, keepdims=True)
    head = Cumprod.of(nonzero_x, axis=axis)[(slice(None),) * axis + (slice(-1, None),)]
    grad = grad + head * tail * first
    if isinstance(x, Tensor):  # a recorded pass: x_k times the rule at x with x_k made 1 (0, with a derivative)
        lifted = x * ~first + first
        x_first = (x * first).sum(axis=axis, keepdims=True)
        grad = grad + x_first * _cumprod_grad(dz, Cumprod.of(lifted, axis=axis), lifted, axis) * later
    return grad


# Where a part of dL/dz has no entries (all of one sign), its log would be -inf throughout, and a -inf running
# log-sum-exp differentiates to inf - inf. A log of -1e4 stands in: exp(-1e4) is 0 in float32 and float64, so
# the value is exactly the same, and every derivative stays finite.
_NO_TERM = -1e4


class Logcumsumexp(Function):
    """z_j = log(sum over i <= j of exp(x_i)) along ``axis``, without overflow (numpy.logaddexp.accumulate).

    dL/dx_i = sum over j >= i of dL/dz_j exp(x_i - z_j): softmax weights of each prefix. Computed stably by
    parts: with g = dL/dz split into its positive and negative entries, each part is exp(x_i + R_i), where
    R_i is the running log-sum-exp from the end of log|g_j| - z_j over that part's entries (every exponent
    x_i - z_j is <= 0, so nothing overflows).
    """

    def forward(self, x, axis):
        self.axis = axis
        return np.logaddexp.accumulate(x, axis=axis)

    def backward(self, dz, z, x):
        if isinstance(dz, Tensor):
            return _logcumsumexp_grad_recorded(dz, z, x, self.axis)
        signs = np.sign(np.asarray(dz))
        magnitude = dz * signs + (signs == 0)  # |dz|, and 1 where it is 0 (left out below), so the log is finite
        with np.errstate(divide="ignore", invalid="ignore"):  # z = -inf only where every x so far is -inf
            log_terms = Log.of(magnitude) - z
            grad = 0.0
            for sign in (1.0, -1.0):
                part = log_terms + np.where(signs == sign, 0.0, _NO_TERM).astype(signs.dtype)
                grad = grad + sign * Exp.of(x + _from_the_end(Logcumsumexp, part, self.axis))
        return grad


def _logcumsumexp_grad_recorded(dz, z, x, axis):
    """Logcumsumexp's rule for a recorded pass: dL/dx_i = sum over j >= i of dL/dz_j exp(x_i - z_j), as a
    weight matrix W[i, j] = exp(x_i - z_j) for i <= j (each at most 1: nothing overflows) times dL/dz along the
    axis. Linear in dL/dz everywhere, so that it differentiates again with respect to dL/dz too (the plain pass
    splits dL/dz by sign, a split whose zeros drop out of that derivative: forward-over-reverse Hessians were
    wrong). O(n²) along the axis, for the higher derivatives only."""
    from ..numpy_functions import where  # (the composed layer, above the ops)

    n = x.shape[axis]
    last = x.ndim - 1
    xs, zs, gs = (t.swapaxes(axis, last) for t in (x, z, dz))
    upper = np.triu(np.ones((n, n), dtype=bool))  # i <= j
    exponent = xs.reshape(xs.shape + (1,)) - zs.reshape(zs.shape[:-1] + (1, n))  # [..., i, j] = x_i - z_j
    weights = where(upper, exponent, -np.inf).exp()
    grad = (weights * gs.reshape(gs.shape[:-1] + (1, n))).sum(axis=-1)
    return grad.swapaxes(axis, last)
