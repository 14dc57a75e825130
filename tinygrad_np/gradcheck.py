"""Check analytic gradients against numerical ones.

``gradcheck`` compares the gradient backward computes with central
differences, (f(x + eps) - f(x - eps)) / (2 eps), for every element of every
input. Everything runs in float64 (float32 inputs are upcast here), where
central differences with eps = 1e-6 are accurate to about 1e-9 for smooth
functions. A non-scalar output is projected onto a random direction v, so the
check compares vᵀJ, the quantity backward actually computes, and not only the
gradient of ``sum()``.

``gradgradcheck`` applies the same test to the gradient itself, as a function
of the inputs, which checks the backward rules' own derivatives (what
``create_graph=True`` relies on).
"""
import numpy as np

from .core.autograd import grad
from .core.tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def _float64_leaves(inputs):
    leaves = []
    for i, x in enumerate(inputs):
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.dtype.kind != "f":
            raise TypeError(f"gradcheck: input {i} has dtype {data.dtype}; pass floating-point inputs "
                            "(close over integer arguments such as labels instead)")
        leaves.append(Tensor(data.astype(np.float64), requires_grad=True))
    return leaves


def _analytic(out, xs, v, create_graph=False):
    """vᵀ J for each input (zeros where the output does not depend on it)."""
    if not out.requires_grad:
        return [None] * len(xs)
    return list(grad(out, xs, Tensor(v), create_graph=create_graph, allow_unused=True))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    """Raise GradcheckError unless backward's gradient of ``fn(*inputs)`` matches central differences.

    ``fn`` maps Tensors to a Tensor. ``inputs`` are Tensors or arrays of
    floats; each is checked. The error names the input, the element's index,
    and both values. Returns True when every element agrees within
    ``atol + rtol * |numerical|``.
    """
    return _check(fn, _float64_leaves(inputs), eps, atol, rtol, seed, "gradcheck", "gradient")


def _check(fn, xs, eps, atol, rtol, seed, who, what):
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"{who}: fn must return a Tensor, got {type(out).__name__}")
    v = np.random.default_rng(seed).standard_normal(out.shape)
    analytic = _analytic(out, xs, v)

    def projected():
        # Recording stays on: fn may itself call grad() (as gradgradcheck's does).
        return float(np.sum(fn(*xs).data * v))

    for i, (x, a) in enumerate(zip(xs, analytic, strict=True)):
        a = np.zeros(x.shape) if a is None else a.data
        flat = x.data.reshape(-1)  # a view: writing it perturbs the input in place
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            f_plus = projected()
            flat[k] = original - eps
            f_minus = projected()
            flat[k] = original
            numerical = (f_plus - f_minus) / (2 * eps)
            analytic_k = a.reshape(-1)[k]
            if not abs(analytic_k - numerical) <= atol + rtol * abs(numerical):
                index = np.unravel_index(k, x.shape) if x.ndim else ()
                raise GradcheckError(
                    f"{who}: input {i} (shape {x.shape}) at index {tuple(int(j) for j in index)}: "
                    f"analytic {what} {analytic_k:.8g}, numerical {numerical:.8g} "
                    f"(difference {abs(analytic_k - numerical):.3g}, allowed {atol + rtol * abs(numerical):.3g})"
                )
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    """Check second derivatives: gradcheck applied to x -> Σᵢ <∂(vᵀ fn)/∂xᵢ, wᵢ>.

    v and wᵢ are fixed random directions, so every entry of the Hessian-vector
    products backward builds with ``create_graph=True`` is compared with
    central differences of the first-order gradient.
    """
    xs = _float64_leaves(inputs)
    rng = np.random.default_rng(seed + 1)
    v = rng.standard_normal(fn(*xs).shape)
    ws = [rng.standard_normal(x.shape) for x in xs]

    def first_order_projected(*ys):
        out = fn(*ys)
        total = Tensor(np.zeros((), dtype=np.float64))
        for g, w in zip(_analytic(out, ys, v, create_graph=True), ws, strict=True):
            if g is not None:
                total = total + (g * w).sum()
        return total

    return _check(first_order_projected, xs, eps, atol, rtol, seed, "gradgradcheck",
                  "second derivative (Hessian-vector product)")
