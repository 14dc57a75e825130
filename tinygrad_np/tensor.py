"""``Tensor``: a NumPy array that remembers how it was computed.

Every operation on Tensors is a ``Function`` (function.py, ops/). A recorded
result links to the Function that made it (``.op``), and through it to that
Function's inputs: the graph ``backward`` walks (docs/how_it_works.md).
"""
import itertools
import math
import numbers
import threading

import numpy as np

from .arguments import axes_arg, axis_arg, permutation_arg, refuse_pytorch_names, shape_arg

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
        with changes.lock:
            changes.newest = version = next(clock)  # raised before the tensor's own, never after
            self._version = version

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

    def sin(self):
        return _ops.Sin.apply(self)

    def cos(self):
        return _ops.Cos.apply(self)

    def softplus(self):
        return _ops.Softplus.apply(self)

    def silu(self):
        """x * sigmoid(x) (composed).   d/dx = s + x s (1 - s), with s = sigmoid(x)."""
        return self * self.sigmoid()

    def gelu(self):
        """The tanh approximation of GELU (PyTorch's ``approximate="tanh"``), composed:
        0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))); the derivative follows from the parts."""
        return 0.5 * self * (1.0 + (math.sqrt(2.0 / math.pi) * (self + 0.044715 * self ** 3)).tanh())

    def leaky_relu(self, negative_slope=0.01):
        """x for x > 0, else negative_slope * x (composed from where).   d/dx = 1 or negative_slope,
        negative_slope at 0, as in PyTorch."""
        return where(self._data > 0, self, self * negative_slope)

    def elu(self, alpha=1.0):
        """x for x > 0, else alpha (exp(x) - 1) (composed).   d/dx = 1 or alpha exp(x), alpha at 0.

        The exponential only ever sees min(x, 0), so large x cannot overflow it.
        """
        negative_part = where(self._data > 0, 0.0, self)
        return where(self._data > 0, self, alpha * (negative_part.exp() - 1.0))

    def clip(self, min=None, max=None):
        """x limited to [min, max] (either may be None; composed from where).

        d/dx = 1 where min <= x <= max (bounds included, as PyTorch's clamp), else 0.
        """
        low = -np.inf if min is None else min
        high = np.inf if max is None else max
        inside = (self._data >= low) & (self._data <= high)
        bound = np.clip(self._data, low, high).astype(self._data.dtype, copy=False)  # NumPy 1.x would upcast 0-d
        return where(inside, self, Tensor._make(bound, False))

    # ---- comparisons: boolean tensors, outside the graph (PyTorch's semantics) --------------------
    def _compare(self, other, compare):
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._make(np.asarray(compare(self._data, other)), False)

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

    def mean(self, axis=None, keepdims=False, **pytorch_names):
        """The sum divided by the number of elements summed (composed from sum and *).

        Over an empty axis it is NaN, as in NumPy (0 / 0), not an error.
        """
        refuse_pytorch_names("mean", pytorch_names)
        axes = axes_arg(axis, self.ndim, "mean")
        count = math.prod(self.shape[a] for a in axes)
        return self.sum(axis=axes, keepdims=keepdims) * (1.0 / count if count else math.nan)

    def max(self, axis=None, keepdims=False, **pytorch_names):
        refuse_pytorch_names("max", pytorch_names)
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, **pytorch_names):
        """-max(-x): composed, so ties share the gradient as in max."""
        refuse_pytorch_names("min", pytorch_names)
        return -(-self).max(axis=axes_arg(axis, self.ndim, "min"), keepdims=keepdims)

    def argmax(self, axis=None, **pytorch_names):
        """Indices of the maxima, as an int64 Tensor (not differentiable)."""
        refuse_pytorch_names("argmax", pytorch_names)
        return Tensor(np.argmax(self._data, axis=axis), dtype=np.int64)

    def logsumexp(self, axis=None, keepdims=False, **pytorch_names):
        """log(sum(exp(x), axis)), computed as m + log(sum(exp(x - m))) with m the max (composed).

        d/dx = softmax(x) along the axes. m is held constant: it cancels in the
        value, and treating it so keeps its ties out of the gradient. Rows that
        are all -inf give -inf, as in NumPy and PyTorch.
        """
        refuse_pytorch_names("logsumexp", pytorch_names)
        axes = axes_arg(axis, self.ndim, "logsumexp")
        m = self._data.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0).astype(self.dtype)
        shifted = (self - Tensor._make(m, False)).exp().sum(axis=axes, keepdims=True).log()
        out = shifted + Tensor._make(m, False)
        return out if keepdims else out.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def var(self, axis=None, keepdims=False, ddof=0, **pytorch_names):
        """mean((x - mean(x))²) over the axes, times n / (n - ddof) (composed, NumPy's ddof).

        d/dx = 2 (x - mean(x)) / (n - ddof).
        """
        refuse_pytorch_names("var", pytorch_names)
        axes = axes_arg(axis, self.ndim, "var")
        count = math.prod(self.shape[a] for a in axes) - ddof
        centred = self - self.mean(axis=axes, keepdims=True)
        return (centred * centred).sum(axis=axes, keepdims=keepdims) * (1.0 / count if count > 0 else math.nan)

    def std(self, axis=None, keepdims=False, ddof=0, **pytorch_names):
        """sqrt(var(...)) (composed).   d/dx = (x - mean(x)) / ((n - ddof) std)."""
        refuse_pytorch_names("std", pytorch_names)
        return self.var(axis=axis, keepdims=keepdims, ddof=ddof).sqrt()

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

    def split(self, size_or_sections, axis=0):
        """A list of pieces along ``axis``: of ``size_or_sections`` each (the last may be shorter), or of
        the listed sizes, which must add up to the axis's length (PyTorch's split; slices, composed)."""
        axis = axis_arg(axis, self.ndim, "split")
        length = self.shape[axis]
        if isinstance(size_or_sections, (list, tuple)):
            sizes = [int(n) for n in size_or_sections]
            if sum(sizes) != length or min(sizes, default=0) < 0:
                raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {length}, "
                                 f"the length of axis {axis}")
        else:
            size = shape_arg((size_or_sections,), "split")[0]
            if size < 1:
                raise ValueError(f"split: the piece size must be positive, got {size}")
            sizes = [min(size, length - start) for start in range(0, length, size)]
        pieces, start = [], 0
        for n in sizes:
            pieces.append(self[(slice(None),) * axis + (slice(start, start + n),)])
            start += n
        return pieces

    def chunk(self, n, axis=0):
        """``n`` pieces along ``axis`` of ceil(length / n) each (fewer if they run out), as PyTorch's chunk."""
        n = shape_arg((n,), "chunk")[0]
        if n < 1:
            raise ValueError(f"chunk: the number of pieces must be positive, got {n}")
        axis = axis_arg(axis, self.ndim, "chunk")
        return self.split(max(1, -(-self.shape[axis] // n)), axis=axis)

    def pad(self, pad_width, value=0.0):
        """numpy.pad with a constant: ``pad_width`` in NumPy's forms (n, (before, after), or one pair per
        axis).   d/dx = dL/dz with the padding cut off."""
        if self.ndim == 0:
            raise ValueError("pad: a 0-d tensor has no axis to pad")
        try:
            widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (self.ndim, 2))
        except ValueError:
            raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of {self.ndim} dimensions; "
                             "give n, (before, after), or one (before, after) per axis") from None
        if (widths < 0).any():
            raise ValueError(f"pad: pad_width {pad_width!r} has a negative width")
        return _ops.Pad.apply(self, pad_width=tuple(map(tuple, widths.tolist())), value=value)

    def flip(self, axis=None):
        """Reverse the order along ``axis`` (all axes for None; a reversed slice, composed)."""
        axes = axes_arg(axis, self.ndim, "flip")
        return self[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(self.ndim))]

    def __getitem__(self, index):
        return _ops.GetItem.apply(self, index=_index_arg(index))

    def scatter_add(self, index, shape):
        """zeros(shape) with self added at ``index``: the adjoint of ``__getitem__``."""
        return _ops.ScatterAdd.apply(self, index=_index_arg(index), shape=tuple(shape))

    def astype(self, dtype):
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else _ops.Cast.apply(self, dtype=dtype)

    # ---- classifier output -----------------------------------------------------------
    def log_softmax(self, axis=-1, **pytorch_names):
        refuse_pytorch_names("log_softmax", pytorch_names)
        return _ops.LogSoftmax.apply(self, axis=axis)

    def softmax(self, axis=-1, **pytorch_names):
        """exp(log_softmax(x)): composed, so it is as stable as log_softmax."""
        refuse_pytorch_names("softmax", pytorch_names)
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


def maximum(x, y):
    """The elementwise larger of x and y (tensors or numbers); ties split the gradient equally."""
    x, y = _operands(x, y, "maximum")
    return _ops.Maximum.apply(x, y)


def minimum(x, y):
    """The elementwise smaller of x and y: -maximum(-x, -y) (composed; ties split the gradient equally)."""
    x, y = _operands(x, y, "minimum")
    return -maximum(-x, -y)


def where(condition, x, y):
    """x where ``condition`` holds, else y, elementwise with broadcasting (x, y tensors or numbers).

    ``condition`` is a boolean tensor or array (a comparison, say) and gets no
    gradient; x gets dL/dz where it was chosen, y where it was not.
    """
    condition = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != bool:
        raise TypeError(f"where: condition must be boolean (a comparison, say), got dtype {condition.dtype}")
    x, y = _operands(x, y, "where")
    return _ops.Where.apply(x, y, condition=condition)


def _operands(x, y, op):
    """Two operands as Tensors: numbers take the dtype of the tensor beside them."""
    if isinstance(x, Tensor):
        return x, x._operand(y)
    if isinstance(y, Tensor):
        return y._operand(x), y
    raise TypeError(f"{op}: at least one of the two operands must be a Tensor")


def concatenate(tensors, axis=0, **pytorch_names):
    """Join tensors along an existing axis."""
    refuse_pytorch_names("concatenate", pytorch_names)
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    if tensors[0].ndim == 0:
        raise ValueError("concatenate: 0-d tensors have no axis to join along; use stack")
    return _ops.Concatenate.apply(*tensors, axis=axis_arg(axis, tensors[0].ndim, "concatenate"))


def stack(tensors, axis=0, **pytorch_names):
    """Join same-shaped tensors along a new axis (composed: reshape each, then concatenate)."""
    refuse_pytorch_names("stack", pytorch_names)
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
