"""``Tensor``: a NumPy array that remembers how it was computed.

Every operation on Tensors is a ``Function`` (function.py, ops/). A recorded
result links to the Function that made it (``.op``), and through it to that
Function's inputs: the graph ``backward`` walks (docs/how_it_works.md).
"""
import itertools
import numbers
import threading
from typing import Any

import numpy as np

from .arguments import (
    axes_arg,
    axis_arg,
    data_arg,
    index_arg,
    pad_width_arg,
    permutation_arg,
    refuse_pytorch_names,
    shape_arg,
)
from .jit_seam import current, note, refuse_assignment, refuse_in_trace, refuse_read

# The primitive ops (ops/) and the backward pass (autograd.py) import Tensor, so Tensor's methods reach them
# through these two names, which the package's __init__ binds once all three exist: no import circle, and the
# same one module-global lookup per op as an import would give.
_ops: Any = None
_autograd: Any = None

# One clock for "when an op ran" (Function.seq) and "when a tensor was last
# changed in place" (Tensor._version): an op whose input changed after it ran
# sees a version newer than its own seq, and backward refuses it.
clock = itertools.count(1)


class _Changes:
    """The clock reading of the newest in-place change to any tensor. An op that ran after it cannot have
    a changed input, so backward looks at an op's inputs one by one only when this is newer than the op:
    in a training loop, never (the optimizer's step comes before the next forward)."""

    newest = 0
    lock = threading.Lock()  # newest must never go backwards, whichever threads bump


changes = _Changes()


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
        self._data = data_arg(data, dtype)
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
        refuse_read(self, ".data")
        return self._data

    @data.setter
    def data(self, array):
        # Reached by ``t.data = a`` and by ``t.data -= x`` (Python reads, updates in place, assigns back).
        if not isinstance(array, np.ndarray):
            raise TypeError(f"Tensor.data: assign an ndarray, got {type(array).__name__}")
        refuse_assignment(self)
        self._data = array
        self.bump_version()

    def bump_version(self):
        """Record that this tensor's values changed in place (optimizers call it after each update)."""
        bump_versions((self,))

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
        if current.trace is not None:
            current.trace.assigned_grad(self, value)
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

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        refuse_read(self, ".numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` gives the data (a copy only if a dtype change or ``copy=True`` needs one)."""
        refuse_read(self, "np.asarray(tensor)")
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors have an item, this one has shape {self.shape}")
        refuse_read(self, ".item() (or float())")
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
        refuse_in_trace("retain_grad()", "a replay makes no intermediate Tensors to keep a .grad on; return the "
                        "value you need")
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
        refuse_read(self, "bool() (an if or while on a tensor)")
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

    def sin(self):
        return _ops.Sin.apply(self)

    def cos(self):
        return _ops.Cos.apply(self)

    def softplus(self):
        return _ops.Softplus.apply(self)

    # ---- comparisons: boolean tensors, outside the graph (PyTorch's semantics) --------------------
    def _compare(self, other, compare):
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._make(note(_compared, compare, self._data, other), False)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    __hash__ = object.__hash__  # identity, as before == was defined: tensors stay usable as dict keys

    # ---- reductions ----------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, **pytorch_names):
        refuse_pytorch_names("sum", pytorch_names)
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False, **pytorch_names):
        refuse_pytorch_names("max", pytorch_names)
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False, **pytorch_names):
        """Indices of the maxima, as an int64 Tensor (not differentiable)."""
        refuse_pytorch_names("argmax", pytorch_names)
        return Tensor._make(note(_argmax, self._data, axis, keepdims), False)

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
            return _ops.Transpose.apply(self, axes=tuple(reversed(range(self._data.ndim))))
        return _ops.Transpose.apply(self, axes=permutation_arg(shape_arg(axes, "transpose"), self.ndim, "transpose"))

    @property
    def T(self):
        return self.transpose()

    def swapaxes(self, a, b):
        a, b = axis_arg(a, self.ndim, "swapaxes"), axis_arg(b, self.ndim, "swapaxes")
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(*axes)

    def squeeze(self, axis=None):
        """Drop axes of length 1 (all of them, or those named, which must have length 1; a reshape)."""
        if axis is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = axes_arg(axis, self.ndim, "squeeze")
        for a in axes:
            if self.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} has length {self.shape[a]}, not 1")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis):
        """Insert an axis of length 1 at ``axis`` (of the result; negatives count from its end; a reshape)."""
        axis = axis_arg(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *axes):
        """The axes in a new order: the same as ``transpose(*axes)``."""
        return self.transpose(*axes)

    def pad(self, pad_width, value=0.0):
        """numpy.pad with a constant: ``pad_width`` in NumPy's forms (n, (before, after), or one pair per
        axis).   d/dx = dL/dz with the padding cut off."""
        return _ops.Pad.apply(self, pad_width=pad_width_arg(pad_width, self.ndim, "pad"), value=value)

    def __getitem__(self, index):
        return _ops.GetItem.apply(self, index=index_arg(index))

    def scatter_add(self, index, shape):
        """zeros(shape) with self added at ``index``: the adjoint of ``__getitem__``."""
        return _ops.ScatterAdd.apply(self, index=index_arg(index), shape=tuple(shape))

    def astype(self, dtype):
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else _ops.Cast.apply(self, dtype=dtype)

    # ---- classifier output -----------------------------------------------------------
    def log_softmax(self, axis=-1, **pytorch_names):
        refuse_pytorch_names("log_softmax", pytorch_names)
        return _ops.LogSoftmax.apply(self, axis=axis)

    def cross_entropy(self, labels):
        """Mean over rows of -log softmax(self)[row, label]; self is (N, C) logits, labels N ints in [0, C)."""
        return _ops.CrossEntropy.apply(self, labels=labels._data if isinstance(labels, Tensor) else labels)


_new_tensor = object.__new__


def bump_versions(tensors):
    """``bump_version`` for many tensors under one lock: an optimizer's step changes every parameter."""
    with changes.lock:
        for t in tensors:
            changes.newest = t._version = next(clock)  # the newest change first, the tensor's after: never behind


def _compared(compare, x, y):
    return np.asarray(compare(x, y))


def _argmax(x, axis, keepdims):
    return np.asarray(np.argmax(x, axis=axis, keepdims=keepdims), dtype=np.int64)

