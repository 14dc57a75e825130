"""log-softmax and cross-entropy, the classifier's output layer and loss, and binary cross-entropy."""
import numpy as np

from ..core.arguments import axis_arg, scalar_axis
from ..core.function import Function
from ..core.tensor import Tensor
from .elementwise import Exp, Log


def _log_softmax(x, axis):
    # Subtracting the max makes every exponent <= 0, so nothing overflows even
    # for logits of ±1e4, and the largest term contributes exp(0) = 1.
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """z = x - log(sum(exp(x), axis)).   dL/dx = dL/dz - softmax(x) * sum(dL/dz, axis)."""

    def forward(self, x, axis=-1):
        # A 0-d tensor takes axis 0 and -1, as in PyTorch: its one value is all of its softmax (the axes are ()).
        self.axis = () if scalar_axis(axis, x.ndim, "log_softmax") else axis_arg(axis, x.ndim, "log_softmax")
        return _log_softmax(x, self.axis)

    def backward(self, dz, z, x):
        return dz - Exp.of(z) * dz.sum(axis=self.axis, keepdims=True)


class CrossEntropy(Function):
    """z = mean over rows n of -log softmax(x)[n, labels[n]], for logits x of shape (N, C).

    dL/dx = dL/dz * (softmax(x) - onehot(labels)) / N.

    Forward is log-softmax evaluated at the label only: -log softmax(x)[label]
    = log Σ exp(x - m) - (x[label] - m), with m the row's max, so no exponent
    is positive and any finite logits are safe. Backward is fused: one pass
    over the probabilities saved in forward instead of the chain
    log-softmax -> index -> mean.
    """

    def forward(self, x, labels):
        labels = _checked_labels(x, labels)
        n = x.shape[0]
        rows = np.arange(n)
        shifted = x - x.max(axis=1, keepdims=True)
        picked = shifted[rows, labels]  # the label's logit, before shifted is reused below
        exp = np.exp(shifted, out=shifted)
        total = exp.sum(axis=1, keepdims=True)
        self.rows, self.labels = rows, labels
        self.probs = np.divide(exp, total, out=exp)  # softmax, kept for the fused backward
        # -log p[label] = log(sum(exp)) - shifted[label]: only the picked log-probabilities are needed.
        loss = (np.log(total[:, 0]) - picked).sum() / n
        return np.asarray(loss, dtype=x.dtype)  # NumPy 1.x would make a float32 scalar / int float64

    def backward(self, dz, z, x):
        n = len(self.labels)
        # softmax(x): saved by forward for a plain pass; a recorded pass needs it as a function of x, so that
        # this rule can be differentiated again.
        if isinstance(x, Tensor):
            probs = Exp.of(LogSoftmax.of(x, axis=1))
            onehot = np.zeros(probs.shape, dtype=x.dtype)
            onehot[self.rows, self.labels] = 1
            return (probs - onehot) * (dz * (1.0 / n if n else 0.0))
        # On arrays, one new array: softmax minus the one-hot, subtracted at the labels only, then scaled.
        # (probs itself is kept unchanged: a second backward through this graph reads it again.)
        grad = self.probs.copy()
        grad[self.rows, self.labels] -= 1
        grad *= dz * (1.0 / n if n else 0.0)
        return grad


def _checked_labels(logits, labels):
    """Labels as a private copy, after checking them against the logits: one class index per row.

    A copy, because backward reads them later: a caller reusing its label
    array for the next batch must not change this batch's gradient.
    """
    labels = np.array(labels)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (N, C), got shape {logits.shape}")
    if labels.shape != (logits.shape[0],):
        raise ValueError(
            f"cross_entropy: logits {logits.shape} need labels of shape ({logits.shape[0]},), got {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integers, got dtype {labels.dtype}")
    classes = logits.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(f"cross_entropy: label {bad} is out of range for {classes} classes (0..{classes - 1})")
    return labels


class BinaryCrossEntropy(Function):
    """z = -(t max(log p, -100) + (1 - t) max(log(1 - p), -100)), elementwise, for probabilities p and targets
    t in [0, 1]: PyTorch's binary_cross_entropy, whose clamps keep p = 0 or 1 finite.

    dL/dp = dL/dz (p - t) / max(p (1 - p), 1e-12),   dL/dt = dL/dz (max(log(1 - p), -100) - max(log p, -100)).

    PyTorch's rule, which differs from the derivative of the clamped logs only where a clamp holds (p
    within e^-100 of 0 or 1): there the clamped log's derivative would be 0 and 1/p infinite, and their
    product NaN. A float32 sigmoid reaches 1.0 from about x = 17, so this is not rare.
    """

    def forward(self, p, t):
        with np.errstate(divide="ignore"):  # log1p(-1) is -inf, which the clamp replaces
            log_q = np.log1p(-p)
        return -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p, log_q))

    def backward(self, dz, z, p, t):
        need_p, need_t = self.needs_input_grad
        dp = dt = None
        if need_p:
            product = p * (1 - p)
            small = np.asarray(product) < 1e-12  # a constant: max(product, 1e-12)'s choice
            floor = (small * 1e-12).astype(dz.dtype)
            dp = dz * (p - t) / (product * ~small + floor)
        if need_t:
            dt = dz * (_clamped_log(1 - p) - _clamped_log(p))
        return dp, dt


def _clamped_log(v, log_v=None):
    """max(log v, -100), on an array or a Tensor: log v where v > e^-100, else the constant -100 (whose
    derivative is 0). ``log_v`` is log v already computed (log1p(-p) for v = 1 - p, which forward uses)."""
    inside = np.asarray(v) > np.exp(-100.0)
    if log_v is not None:
        return np.where(inside, log_v, -100.0).astype(log_v.dtype)
    safe = v * inside + ~inside  # 1 where the clamp holds: its log is 0, and no warning
    logged = Log.of(safe) if isinstance(safe, Tensor) else np.log(safe)
    return logged * inside + (~inside * -100.0).astype(np.asarray(v).dtype)
