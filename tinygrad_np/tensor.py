"""``Tensor``: a NumPy array that remembers how it was computed.

Every operation on Tensors is a ``Function`` (function.py, ops/). A recorded
result links to the Function that made it (``.op``), and through it to that
Function's inputs: the graph ``backward`` walks (docs/how_it_works.md).
"""
import itertools
import math
import numbers

import numpy as np

from .arguments import axes_arg, axis_arg, permutation_arg, shape_arg

# One clock for "when an op ran" (Function.seq) and "when a tensor was last
# changed in place" (Tensor._version): an op whose input changed after it ran
# sees a version newer than its own seq, and backward refuses it.
clock = itertools.count(1)


def _as_array(data, dtype):
    """``data`` as a numeric ndarray: float arrays keep their dtype; lists, scalars and integers become
    float32. Anything that is not numbers (None, strings, ragged lists, objects, complex) is refused."""
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} {data!r}; pass numbers, "
                        "a (nested) list of numbers or a NumPy array")
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f" and dtype is None:
        return np.asarray(data)  # the common case, checked first: no copy, dtype kept
    try:
        array = np.asarray(data)
    except ValueError as err:  # NumPy's message for ragged nested lists
        raise ValueError(f"Tensor: cannot make a tensor from this {type(data).__name__}: {err}") from None
    if array.dtype.kind not in "biuf":
        what = "complex numbers" if array.dtype.kind == "c" else f"dtype {array.dtype}"
        raise TypeError(f"Tensor: cannot make a tensor from a {type(data).__name__} of {what}; "
                        "tensors hold real numbers (None, strings and objects are not numbers)")
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"Tensor: dtype must be a real numeric dtype, got {dtype}")
        return array.astype(dtype, copy=False)
    return array if isinstance(data, np.ndarray) and array.dtype.kind == "f" else array.astype(np.float32)


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is an ndarray,
    a (nested) list or a scalar. A float ndarray is used as it is, without a
    copy, and keeps its dtype; lists, scalars and integer data become float32
    unless ``dtype`` says otherwise.

    ``.data`` is the underlying ndarray. Assigning it, or updating it in
    place through it (``p.data -= lr * p.grad.data``, as optimizers do),
    counts as a change: backward then refuses to use this tensor's old value
    in any op recorded before the change. Writes into the array by other
    routes (``t.numpy()[...] = 0``) are not seen.

    ``.grad`` holds dL/d(self) after ``backward()``, as a Tensor of the same
    shape, or None.
    """

    __slots__ = ("_data", "_grad", "requires_grad", "op", "_version", "retains_grad", "__weakref__")
    # Make NumPy hand ``ndarray (op) Tensor`` to Tensor's reflected methods
    # instead of treating the Tensor as an object to loop over.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data._data
        self._data = _as_array(data, dtype)
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: requires_grad=True needs floating-point data, got dtype {self._data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        self._grad = None
        self.op = None  # the Function that made this tensor; None for a leaf
        self._version = 0  # the clock reading of the last in-place change (function.clock)
        self.retains_grad = False

    @staticmethod
    def _make(data, requires_grad):
        """Wrap an ndarray with no conversion and no checks: the cheap path every op takes."""
        t = _new_tensor(Tensor)
        t._data = data
        t.requires_grad = requires_grad
        t._grad = None
        t.op = None
        t._version = 0
        t.retains_grad = False
        return t

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, array):
        # Reached by ``t.data = a`` and by ``t.data -= x`` (Python reads, updates in place, assigns back).
        if not isinstance(array, np.ndarray):
            raise TypeError(f"Tensor.data: assign an ndarray, got {type(array).__name__}")
        self._data = array
        self.bump_version()

    def bump_version(self):
        """Record that this tensor's values changed in place (optimizers call it after each update)."""
        self._version = next(clock)

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"Tensor.grad: assign a Tensor or None, got {type(value).__name__}")
            if value.shape != self._data.shape:
                raise ValueError(f"Tensor.grad: assigned a gradient of shape {value.shape} "
                                 f"to a tensor of shape {self._data.shape}")
        self._grad = value

    # ---- array-like attributes -------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def size(self):
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self._data

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` gives the data (a copy only if a dtype change or ``copy=True`` needs one)."""
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors have an item, this one has shape {self.shape}")
        return self._data.item()

    @property
    def is_leaf(self):
        """True for tensors made by the user rather than by an op."""
        return self.op is None

    def detach(self):
        """A tensor sharing this one's data, cut off from the graph."""
        return Tensor._make(self._data, False)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self.retains_grad = True
        return self

    def requires_grad_(self, flag=True):
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: needs floating-point data, got dtype {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="Tensor(", threshold=50, precision=4)
        parts = [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self.op is not None:
            parts.append(f"op={self.op.name}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        return f"Tensor({body}, {', '.join(parts)})"

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self._data)

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
        _autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # ---- operand handling ----------------------------------------------------------
    def _operand(self, other):
        """``other`` as a Tensor (returned as it is if it already is one).

        Scalars take this tensor's dtype, so float32 stays float32; arrays keep
        theirs and NumPy's promotion rules apply.
        """
        if type(other) is Tensor or isinstance(other, Tensor):
            return other
        if isinstance(other, (numbers.Number, np.generic)):
            dtype = self._data.dtype if self._data.dtype.kind == "f" else None
            return Tensor._make(np.asarray(other, dtype=dtype), False)
        arr = np.asarray(other)
        if arr.dtype.kind != "f" and self._data.dtype.kind == "f":
            arr = arr.astype(self._data.dtype)
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
        """The sum divided by the number of elements summed (composed from sum and *).

        Over an empty axis it is NaN, as in NumPy (0 / 0), not an error.
        """
        axes = axes_arg(axis, self.ndim, "mean")
        count = math.prod(self.shape[a] for a in axes)
        return self.sum(axis=axes, keepdims=keepdims) * (1.0 / count if count else math.nan)

    def max(self, axis=None, keepdims=False):
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """-max(-x): composed, so ties share the gradient as in max."""
        return -(-self).max(axis=axes_arg(axis, self.ndim, "min"), keepdims=keepdims)

    def argmax(self, axis=None):
        """Indices of the maxima, as an int64 Tensor (not differentiable)."""
        return Tensor(np.argmax(self._data, axis=axis), dtype=np.int64)

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
        shape = shape_arg(shape, "reshape")
        return self if shape == self.shape else _ops.Reshape.apply(self, shape=shape)

    def flatten(self):
        return self.reshape(-1)

    def transpose(self, *axes):
        """Permute the axes; with none given, reverse them (as NumPy does)."""
        if not axes:
            return _ops.Transpose.apply(self, axes=_REVERSED_AXES[self._data.ndim])
        return _ops.Transpose.apply(self, axes=permutation_arg(shape_arg(axes, "transpose"), self.ndim, "transpose"))

    @property
    def T(self):
        return self.transpose()

    def swapaxes(self, a, b):
        a, b = axis_arg(a, self.ndim, "swapaxes"), axis_arg(b, self.ndim, "swapaxes")
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
        return self.log_softmax(axis_arg(axis, self.ndim, "softmax")).exp()

    def cross_entropy(self, labels):
        """Mean over rows of -log softmax(self)[row, label]; self is (N, C) logits, labels N ints in [0, C)."""
        return _ops.CrossEntropy.apply(self, labels=labels._data if isinstance(labels, Tensor) else labels)


_new_tensor = object.__new__


def _index_arg(index):
    """An index with any Tensors or lists in it turned into ndarrays, ready for NumPy.

    Arrays are copied: the op keeps the index for backward, and a caller
    changing its array afterwards must not change the gradient.
    """
    def convert(part):
        if isinstance(part, Tensor):
            return part._data.copy()
        if isinstance(part, (list, np.ndarray)):
            return np.array(part)
        return part

    if isinstance(index, tuple):
        return tuple(convert(p) for p in index)
    return convert(index)


# ---- factories -------------------------------------------------------------------------
def zeros(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.zeros(shape_arg(shape, "zeros"), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.ones(shape_arg(shape, "ones"), dtype=dtype), requires_grad=requires_grad)


def randn(*shape, rng=None, dtype=np.float32, requires_grad=False):
    """Standard normal samples. ``rng``: a numpy Generator, a seed, or None for fresh entropy."""
    data = np.random.default_rng(rng).standard_normal(shape_arg(shape, "randn"), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad)


def uniform(*shape, low=0.0, high=1.0, rng=None, dtype=np.float32, requires_grad=False):
    """Samples uniform on [low, high). ``rng``: a numpy Generator, a seed, or None."""
    data = np.random.default_rng(rng).uniform(low, high, shape_arg(shape, "uniform")).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    if tensors[0].ndim == 0:
        raise ValueError("concatenate: 0-d tensors have no axis to join along; use stack")
    return _ops.Concatenate.apply(*tensors, axis=axis_arg(axis, tensors[0].ndim, "concatenate"))


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new axis (composed: reshape each, then concatenate)."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(f"stack: tensor 0 has shape {shape} but tensor {i} has shape {t.shape}")
    axis = axis_arg(axis, len(shape) + 1, "stack")
    new_shape = shape[:axis] + (1,) + shape[axis:]
    return concatenate([t.reshape(new_shape) for t in tensors], axis=axis)


_REVERSED_AXES = [tuple(range(n - 1, -1, -1)) for n in range(65)]  # .T's permutation, for each ndim NumPy allows

from . import autograd as _autograd  # noqa: E402  (these need Tensor defined first)
from . import ops as _ops  # noqa: E402
