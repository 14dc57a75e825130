"""``Tensor``: a NumPy array that remembers how it was computed.

Every operation on Tensors is a ``Function`` (see function.py and ops/). When
recording is on and an input requires a gradient, the result keeps a link to
the Function that made it (``_ctx``), and through it to that Function's
inputs: that chain of links is the graph ``backward`` walks.
"""
import numbers

import numpy as np


def _as_array(data, dtype):
    """``data`` as an ndarray: float arrays keep their dtype; lists, scalars and integers become float32."""
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f":
        return np.asarray(data)
    return np.asarray(data, dtype=np.float32)


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is an ndarray,
    a (nested) list or a scalar. A float ndarray is used as it is, without a
    copy, and keeps its dtype; lists, scalars and integer data become float32
    unless ``dtype`` says otherwise.

    ``.data`` is the underlying ndarray and may be updated in place, as an
    optimizer does: ``p.data -= lr * p.grad.data``. ``.grad`` holds dL/d(self)
    after ``backward()``, as a Tensor of the same shape, or None.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retain_grad", "__weakref__")
    # Make NumPy hand ``ndarray (op) Tensor`` to Tensor's reflected methods
    # instead of treating the Tensor as an object to loop over.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: requires_grad=True needs floating-point data, got dtype {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._ctx = None
        self._retain_grad = False

    @staticmethod
    def _make(data, requires_grad):
        """Wrap an ndarray with no conversion and no checks: the cheap path every op takes."""
        t = _new_tensor(Tensor)
        t.data = data
        t.requires_grad = requires_grad
        t.grad = None
        t._ctx = None
        t._retain_grad = False
        return t

    # ---- array-like attributes -------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` gives the data (a copy only if a dtype change or ``copy=True`` needs one)."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors have an item, this one has shape {self.shape}")
        return self.data.item()

    @property
    def is_leaf(self):
        """True for tensors made by the user rather than by an op."""
        return self._ctx is None

    @property
    def op(self):
        """The Function that made this tensor, or None for a leaf."""
        return self._ctx

    def detach(self):
        """A tensor sharing this one's data, cut off from the graph."""
        return Tensor._make(self.data, False)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retain_grad = True
        return self

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: needs floating-point data, got dtype {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=50, precision=4)
        parts = [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self._ctx is not None:
            parts.append(f"op={self._ctx.name}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        return f"Tensor({body}, {', '.join(parts)})"

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    # ---- autograd ----------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad, into ``leaf.grad``.

        Gradients *accumulate*: a second call adds to ``.grad`` rather than
        replacing it, as in PyTorch, so clear them between steps (the
        optimizers' ``zero_grad()``, or ``p.grad = None``).

        ``grad`` is dL/d(self); it may be omitted when self is a scalar. After
        the call the graph's saved arrays are released, unless
        ``retain_graph=True``. ``create_graph=True`` records the backward pass
        itself, so the gradients can be differentiated again.
        """
        from .autograd import backward

        backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # ---- operand handling ----------------------------------------------------------
    def _operand(self, other):
        """``other`` as a Tensor (returned as it is if it already is one).

        Scalars take this tensor's dtype, so float32 stays float32; arrays keep
        theirs and NumPy's promotion rules apply.
        """
        if type(other) is Tensor or isinstance(other, Tensor):
            return other
        if isinstance(other, (numbers.Number, np.generic)):
            dtype = self.data.dtype if self.data.dtype.kind == "f" else None
            return Tensor._make(np.asarray(other, dtype=dtype), False)
        arr = np.asarray(other)
        if arr.dtype.kind != "f" and self.data.dtype.kind == "f":
            arr = arr.astype(self.data.dtype)
        return Tensor._make(arr, False)

    # ---- arithmetic ----------------------------------------------------------------
    def __add__(self, other):
        return _ops.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return _ops.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return _ops.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return _ops.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return _ops.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return _ops.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return _ops.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return _ops.Div.apply(self._operand(other), self)

    def __pow__(self, other):
        return _ops.Pow.apply(self, self._operand(other))

    def __rpow__(self, other):
        return _ops.Pow.apply(self._operand(other), self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __matmul__(self, other):
        return _ops.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(self._operand(other), self)

    def matmul(self, other):
        return self @ other

    # ---- elementwise ---------------------------------------------------------------
    def exp(self):
        return _ops.Exp.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def sqrt(self):
        return _ops.Sqrt.apply(self)

    def relu(self):
        return _ops.Relu.apply(self)

    def abs(self):
        return _ops.Abs.apply(self)

    def __abs__(self):
        return self.abs()

    def tanh(self):
        return _ops.Tanh.apply(self)

    def sigmoid(self):
        return _ops.Sigmoid.apply(self)

    # ---- reductions ----------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """The sum divided by the number of elements summed (composed from sum and *)."""
        axes = _ops.reduce.normalize_axes(axis, self.ndim)
        count = int(np.prod([self.shape[a] for a in axes]))
        return self.sum(axis=axes, keepdims=keepdims) * (1.0 / count)

    def max(self, axis=None, keepdims=False):
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """-max(-x): composed, so ties share the gradient as in max."""
        return -(-self).max(axis=axis, keepdims=keepdims)

    def argmax(self, axis=None):
        """Indices of the maxima, as an int64 Tensor (not differentiable)."""
        return Tensor(np.argmax(self.data, axis=axis), dtype=np.int64)

    # ---- broadcasting ---------------------------------------------------------------
    def broadcast_to(self, shape):
        shape = tuple(shape)
        return self if shape == self.shape else _ops.BroadcastTo.apply(self, shape=shape)

    def sum_to(self, shape):
        """Sum down to ``shape``, undoing a broadcast from ``shape`` to self.shape."""
        shape = tuple(shape)
        return self if shape == self.shape else _ops.SumTo.apply(self, shape=shape)

    # ---- shape -----------------------------------------------------------------------
    def reshape(self, *shape):
        shape = _shape_arg(shape)
        return self if shape == self.shape else _ops.Reshape.apply(self, shape=shape)

    def flatten(self):
        return self.reshape(-1)

    def transpose(self, *axes):
        """Permute the axes; with none given, reverse them (as NumPy does)."""
        axes = _shape_arg(axes) if axes else None
        return _ops.Transpose.apply(self, axes=axes)

    @property
    def T(self):
        return self.transpose()

    def swapaxes(self, a, b):
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(*axes)

    def __getitem__(self, index):
        return _ops.GetItem.apply(self, index=_index_arg(index))

    def scatter_add(self, index, shape):
        """zeros(shape) with self added at ``index``: the adjoint of ``__getitem__``."""
        return _ops.ScatterAdd.apply(self, index=_index_arg(index), shape=tuple(shape))

    def astype(self, dtype):
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else _ops.Cast.apply(self, dtype=dtype)

    # ---- classifier output -----------------------------------------------------------
    def log_softmax(self, axis=-1):
        return _ops.LogSoftmax.apply(self, axis=axis)

    def softmax(self, axis=-1):
        """exp(log_softmax(x)): composed, so it is as stable as log_softmax."""
        return self.log_softmax(axis).exp()

    def cross_entropy(self, labels):
        """Mean over rows of -log softmax(self)[row, label]; self is (N, C) logits, labels N ints in [0, C)."""
        labels = _check_labels(self, labels)
        return _ops.CrossEntropy.apply(self, labels=labels)


_new_tensor = object.__new__


def _shape_arg(args):
    """Accept both f(2, 3) and f((2, 3))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def _index_arg(index):
    """An index with any Tensors or lists in it turned into ndarrays, ready for NumPy."""
    def convert(part):
        if isinstance(part, Tensor):
            return part.data
        if isinstance(part, list):
            return np.asarray(part)
        return part

    if isinstance(index, tuple):
        return tuple(convert(p) for p in index)
    return convert(index)


def _check_labels(logits, labels):
    if isinstance(labels, Tensor):
        labels = labels.data
    labels = np.asarray(labels)
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


# ---- factories -------------------------------------------------------------------------
def zeros(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.zeros(_shape_arg(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.ones(_shape_arg(shape), dtype=dtype), requires_grad=requires_grad)


def randn(*shape, rng=None, dtype=np.float32, requires_grad=False):
    """Standard normal samples. ``rng``: a numpy Generator, a seed, or None for fresh entropy."""
    data = np.random.default_rng(rng).standard_normal(_shape_arg(shape), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad)


def uniform(*shape, low=0.0, high=1.0, rng=None, dtype=np.float32, requires_grad=False):
    """Samples uniform on [low, high). ``rng``: a numpy Generator, a seed, or None."""
    data = np.random.default_rng(rng).uniform(low, high, _shape_arg(shape)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    return _ops.Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new axis (composed: reshape each, then concatenate)."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(f"stack: tensor 0 has shape {shape} but tensor {i} has shape {t.shape}")
    axis = axis % (len(shape) + 1)
    new_shape = shape[:axis] + (1,) + shape[axis:]
    return concatenate([t.reshape(new_shape) for t in tensors], axis=axis)


from . import ops as _ops  # noqa: E402  (ops need Tensor defined first)
