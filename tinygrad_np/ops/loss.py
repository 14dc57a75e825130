"""log-softmax and cross-entropy, the classifier's output layer and loss."""
import numpy as np

from ..core.arguments import axis_arg, scalar_axis
from ..core.function import Function
from ..core.tensor import Tensor
from .elementwise import Exp


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
        probs = Exp.of(LogSoftmax.of(x, axis=1)) if isinstance(x, Tensor) else self.probs
        onehot = np.zeros(probs.shape, dtype=x.dtype)
        onehot[self.rows, self.labels] = 1
        return (probs - onehot) * (dz * (1.0 / n if n else 0.0))


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
