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

from ..typing import AttachedMethods, Axis, DType, Index, PadWidth, Shape, ShapeLike, TensorLike
from .arguments import axes_arg, axis_arg, data_arg, index_arg, pad_arg, perm_arg, refuse_pytorch_names, shape_arg
from .arguments import scalar_operand as _number_operand
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

# Tensor's slots, with the docs help(Tensor) shows for the public ones (the others are behind properties).
_SLOTS = {"_data": None, "_grad": None, "_version": None, "__weakref__": None,
          "requires_grad": "True if backward computes a gradient for this tensor (a leaf's lands in .grad).",
          "op": "The Function that made this tensor, None for a leaf.", "retains_grad": "True after retain_grad()."}

class Tensor(AttachedMethods):
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is an ndarray,
    a (nested) list or a scalar, and its dtype is PyTorch's and NumPy's: an
    ndarray is used as it is, without a copy, and keeps its dtype (integers
    and bools included); Python floats (alone or in a list) become float32,
    Python ints int64 and bools bool, unless ``dtype`` says otherwise. Only
    floating-point tensors can require grad. ``tinygrad_np.tensor(data)`` is
    PyTorch's ``torch.tensor``: the same, on a copy.

    ``.data`` is the underlying ndarray. Assigning it, or updating it in
    place through it (``p.data -= lr * p.grad.data``, as optimizers do),
    counts as a change: backward then refuses to use this tensor's old value
    in any op recorded before the change. Writes into the array by other
    routes (``t.numpy()[...] = 0``) are not seen.

    ``.grad`` holds dL/d(self) after ``backward()``, as a Tensor of the same
    shape, or None.

    The methods defined here are the primitives' front doors and the array
    basics. Methods attached from other modules, listed by module (``help(Tensor.name)``
    shows each one's docstring, with its derivative):

    * tinygrad_np.composed (composed from the primitives, each with no rule of its own): silu gelu
      leaky_relu elu clip softmax mean min logsumexp var std split chunk flip tan log2 exp2 rsqrt sign
      floor ceil trunc round relu6 hardtanh hardswish softsign mish celu tril triu tile repeat_interleave
      cumsum argmin flatten unflatten unfold roll diagonal diag masked_select scatter scatter_reduce
    * tinygrad_np.reductions (reductions, running ops and sorting): prod cumprod logcumsumexp any all
      isclose cummax cummin argsort sort topk
    * tinygrad_np.pointwise (more elementwise functions): isinf isposinf isneginf isnan isfinite
      logical_not lerp log10 erf copysign logaddexp quick_gelu asin acos atan sinh cosh asinh acosh atanh
    * tinygrad_np.integer (integer and bitwise; also the operators // % & | ^ ~ << >>): floor_divide
      remainder fmod div bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift
      bitwise_right_shift view
    * tinygrad_np.pytorch_spellings (PyTorch's spellings, accepted): size numel dim t pow clamp maximum
      minimum float double eq ne lt le gt ge cpu to
    * tinygrad_np.pytorch_spellings (PyTorch's spellings, refused with an error naming ours): view_as
      expand expand_as amax amin clamp_min clamp_max masked_fill contiguous cuda type long int half
      zero_ fill_ norm gather repeat nonzero
    * tinygrad_np.core.gradient_hooks (a function run on the gradient during backward): register_hook
    """

    __slots__ = _SLOTS
    # Make NumPy hand ``ndarray (op) Tensor`` to Tensor's reflected methods
    # instead of treating the Tensor as an object to loop over.
    __array_ufunc__ = None

    def __init__(self, data: TensorLike, requires_grad: bool = False, dtype: DType = None) -> None:
        if isinstance(data, Tensor):
            data = data._data
        self._data: np.ndarray = data_arg(data, dtype)
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"Tensor: requires_grad=True needs floating-point data, got dtype {self._data.dtype} "
                            "(integers stay integers, as in PyTorch: give floats, or dtype=np.float32)")
        self.requires_grad = bool(requires_grad)
        self._grad: Tensor | None = None
        self.op: Any = None  # the Function that made this tensor; None for a leaf
        self._version = 0  # the clock reading of the last in-place change (function.clock)
        self.retains_grad = False
        if current.trace is not None:  # a tensor a traced call makes (tg.zeros, a layer's buffer): the call's own
            current.trace.created[id(self)] = self

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool) -> "Tensor":
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
    def data(self) -> np.ndarray:
        """The underlying ndarray. Assigning it, or updating it in place through it (``p.data -= lr * g``),
        counts as a change: backward then refuses graphs recorded before it. Refused inside a jit trace."""
        refuse_read(self, ".data")
        return self._data

    @data.setter
    def data(self, array: np.ndarray) -> None:
        # Reached by ``t.data = a`` and by ``t.data -= x`` (Python reads, updates in place, assigns back).
        if not isinstance(array, np.ndarray):
            raise TypeError(f"Tensor.data: assign an ndarray, got {type(array).__name__}")
        refuse_assignment(self)
        self._data = array
        self.bump_version()

    def bump_version(self) -> None:
        """Record that this tensor's values changed in place (optimizers call it after each update)."""
        bump_versions((self,))

    @property
    def grad(self) -> "Tensor | None":
        """dL/d(self) after ``backward()``: a Tensor of this tensor's shape, or None. Assignable (a Tensor of the
        same shape, or None); gradients accumulate into it until cleared."""
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
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
    def shape(self) -> tuple[int, ...]:
        """The shape, a tuple of ints, as NumPy's."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of axes, as NumPy's."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the data (float32 unless made otherwise)."""
        return self._data.dtype

    def __len__(self) -> int:
        """The length of the first axis; a 0-d tensor has none."""
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        refuse_read(self, ".numpy()")
        return self._data

    def __array__(self, dtype: DType = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)`` gives the data (a copy only if a dtype change or ``copy=True`` needs one)."""
        refuse_read(self, "np.asarray(tensor)")
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __float__(self) -> float:
        """The value of a one-element tensor as a Python float (``item()``)."""
        return float(self.item())

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors have an item, this one has shape {self.shape}")
        refuse_read(self, ".item() (or float())")
        return self._data.item()

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op."""
        return self.op is None

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut off from the graph: nothing flows back through it (its
        derivative is taken to be 0)."""
        return Tensor._make(self._data, False)

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        refuse_in_trace("retain_grad()", "a replay makes no intermediate Tensors to keep a .grad on; return the "
                        "value you need")
        self.retains_grad = True
        return self

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (floating-point data only) and return self, as PyTorch's."""
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: needs floating-point data, got dtype {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    def __repr__(self) -> str:
        """The values (shortened past 50), shape, dtype, and the op that made it or requires_grad."""
        refuse_read(self, "repr() or str() (print, an f-string, logging)")
        body = np.array2string(self._data, separator=", ", prefix="Tensor(", threshold=50, precision=4)
        parts = [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self.op is not None:
            parts.append(f"op={self.op.name}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        return f"Tensor({body}, {', '.join(parts)})"

    def __bool__(self) -> bool:
        """The truth of a one-element tensor (``if t:``); more elements are ambiguous and refused."""
        if self._data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        refuse_read(self, "bool() (an if or while on a tensor)")
        return bool(self._data)

    # ---- autograd ----------------------------------------------------------------
    def backward(self, grad: TensorLike | None = None, retain_graph: bool = False, create_graph: bool = False) -> None:
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
    def _operand(self, other: TensorLike) -> "Tensor":
        """``other`` as a Tensor (returned as it is if it already is one).

        Scalars take this tensor's dtype, so float32 stays float32 (beside integers, PyTorch's rules:
        arguments.scalar_operand); arrays keep theirs and NumPy's promotion rules apply.
        """
        if type(other) is Tensor or isinstance(other, Tensor):
            return other
        if isinstance(other, (numbers.Number, np.generic)):
            dtype = self._data.dtype
            return Tensor._make(np.asarray(other, dtype) if dtype.kind == "f" else _number_operand(other, dtype), False)
        arr = np.asarray(other)
        if arr.dtype.kind != "f" and self._data.dtype.kind == "f":
            arr = arr.astype(self._data.dtype)
        return Tensor._make(arr, False)

    # ---- arithmetic ----------------------------------------------------------------
    def __add__(self, other: TensorLike) -> "Tensor":
        """self + other (a Tensor, a number or an array; broadcasting).   dL/dself = dL/dother = dL/dz, each summed
        back to its shape (ops.Add)."""
        return _ops.Add.apply(self, self._operand(other))

    def __radd__(self, other: TensorLike) -> "Tensor":
        """other + self (``2 + t``): see ``__add__``.   dL/dself = dL/dz summed to self's shape."""
        return _ops.Add.apply(self._operand(other), self)

    def __sub__(self, other: TensorLike) -> "Tensor":
        """self - other.   dL/dself = dL/dz,  dL/dother = -dL/dz (each summed to its shape)."""
        return _ops.Sub.apply(self, self._operand(other))

    def __rsub__(self, other: TensorLike) -> "Tensor":
        """other - self (``1 - t``).   dL/dself = -dL/dz, summed to self's shape."""
        return _ops.Sub.apply(self._operand(other), self)

    def __mul__(self, other: TensorLike) -> "Tensor":
        """self * other, elementwise.   dL/dself = dL/dz * other,  dL/dother = dL/dz * self."""
        return _ops.Mul.apply(self, self._operand(other))

    def __rmul__(self, other: TensorLike) -> "Tensor":
        """other * self (``2 * t``).   dL/dself = dL/dz * other."""
        return _ops.Mul.apply(self._operand(other), self)

    def __truediv__(self, other: TensorLike) -> "Tensor":
        """self / other.   dL/dself = dL/dz / other,  dL/dother = -dL/dz * self / other²."""
        return _ops.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other: TensorLike) -> "Tensor":
        """other / self (``1 / t``).   dL/dself = -dL/dz * other / self²."""
        return _ops.Div.apply(self._operand(other), self)

    def __pow__(self, other: TensorLike) -> "Tensor":
        """self ** other.   dL/dself = dL/dz * other * self^(other - 1),  dL/dother = dL/dz * z * log(self)
        (ops.Pow, which takes PyTorch's limits where these read 0 * inf; ``x ** 2`` and ``x ** 0.5`` are exact)."""
        return _ops.Pow.apply(self, self._operand(other), exponent_is_number=isinstance(other, numbers.Number))

    def __rpow__(self, other: TensorLike) -> "Tensor":
        """other ** self (``2 ** t``).   dL/dself = dL/dz * z * log(other)."""
        return _ops.Pow.apply(self._operand(other), self)

    def __neg__(self) -> "Tensor":
        """-self.   dL/dself = -dL/dz."""
        return _ops.Neg.apply(self)

    def __matmul__(self, other: TensorLike) -> "Tensor":
        """self @ other, with ``numpy.matmul``'s rules (1-D, 2-D and batched).   For matrices
        dL/dself = dL/dz @ otherᵀ,  dL/dother = selfᵀ @ dL/dz (ops.MatMul)."""
        return _ops.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other: TensorLike) -> "Tensor":
        """other @ self (an array on the left).   dL/dself = otherᵀ @ dL/dz."""
        return _ops.MatMul.apply(self._operand(other), self)

    def matmul(self, other: TensorLike) -> "Tensor":
        """self @ other (``numpy.matmul``'s rules).   For matrices dL/dself = dL/dz @ otherᵀ,
        dL/dother = selfᵀ @ dL/dz (ops.MatMul)."""
        return self @ other

    # ---- elementwise ---------------------------------------------------------------
    def exp(self) -> "Tensor":
        """e to the power of each element.   d/dx = exp(x) (ops.Exp)."""
        return _ops.Exp.apply(self)

    def log(self) -> "Tensor":
        """The natural logarithm of each element.   d/dx = 1 / x (ops.Log)."""
        return _ops.Log.apply(self)

    def sqrt(self) -> "Tensor":
        """The square root of each element.   d/dx = 1 / (2 sqrt(x)) (ops.Sqrt)."""
        return _ops.Sqrt.apply(self)

    def relu(self) -> "Tensor":
        """max(x, 0), elementwise.   d/dx = 1 where x > 0, else 0 (0 at x = 0, as PyTorch) (ops.Relu)."""
        return _ops.Relu.apply(self)

    def abs(self) -> "Tensor":
        """|x|, elementwise.   d/dx = sign(x), 0 at x = 0 as PyTorch (ops.Abs)."""
        return _ops.Abs.apply(self)

    def __abs__(self) -> "Tensor":
        """``abs(t)``: ``t.abs()``.   d/dx = sign(x)."""
        return self.abs()

    def tanh(self) -> "Tensor":
        """tanh(x), elementwise.   d/dx = 1 - tanh²(x) (ops.Tanh)."""
        return _ops.Tanh.apply(self)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + exp(-x)), elementwise, without overflow.   d/dx = σ(x) (1 - σ(x)) (ops.Sigmoid)."""
        return _ops.Sigmoid.apply(self)

    def sin(self) -> "Tensor":
        """sin(x), elementwise.   d/dx = cos(x) (ops.Sin)."""
        return _ops.Sin.apply(self)

    def cos(self) -> "Tensor":
        """cos(x), elementwise.   d/dx = -sin(x) (ops.Cos)."""
        return _ops.Cos.apply(self)

    def softplus(self) -> "Tensor":
        """log(1 + exp(x)), elementwise, without overflow for any x.   d/dx = sigmoid(x) (ops.Softplus)."""
        return _ops.Softplus.apply(self)

    # ---- comparisons: boolean tensors, outside the graph (PyTorch's semantics) --------------------
    def _compare(self, other: TensorLike, compare: Any) -> "Tensor":
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._make(note(_compared, compare, self._data, other), False)

    def __eq__(self, other: TensorLike) -> "Tensor":  # type: ignore[override]  # booleans, as NumPy's
        """self == other, elementwise: a boolean tensor outside the graph (no gradient, as PyTorch)."""
        return self._compare(other, np.equal)

    def __ne__(self, other: TensorLike) -> "Tensor":  # type: ignore[override]  # booleans, as NumPy's
        """self != other, elementwise: a boolean tensor outside the graph (no gradient)."""
        return self._compare(other, np.not_equal)

    def __lt__(self, other: TensorLike) -> "Tensor":
        """self < other, elementwise: a boolean tensor outside the graph (no gradient)."""
        return self._compare(other, np.less)

    def __le__(self, other: TensorLike) -> "Tensor":
        """self <= other, elementwise: a boolean tensor outside the graph (no gradient)."""
        return self._compare(other, np.less_equal)

    def __gt__(self, other: TensorLike) -> "Tensor":
        """self > other, elementwise: a boolean tensor outside the graph (no gradient)."""
        return self._compare(other, np.greater)

    def __ge__(self, other: TensorLike) -> "Tensor":
        """self >= other, elementwise: a boolean tensor outside the graph (no gradient)."""
        return self._compare(other, np.greater_equal)

    __hash__ = object.__hash__  # identity, as before == was defined: tensors stay usable as dict keys

    # ---- reductions ----------------------------------------------------------------
    def sum(self, axis: Axis = None, keepdims: bool = False, dtype: DType = None, **pytorch_names: Any) -> "Tensor":
        """The sum over ``axis`` (None: every axis; an int or a tuple, negatives counting from the end), the
        summed axes kept with length 1 if ``keepdims``; with ``dtype``, the values are cast to it first, as
        PyTorch's ``sum(dtype=)``.   dL/dx = dL/dz broadcast back over the summed axes (ops.Sum). PyTorch's
        ``dim=`` and ``keepdim=`` are refused, naming ``axis=`` and ``keepdims=``."""
        refuse_pytorch_names("sum", pytorch_names)
        return _ops.Sum.apply(self if dtype is None else self.astype(dtype), axis=axis, keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> "Tensor":
        """The largest value over ``axis`` (None: every axis; an int or a tuple), as NumPy's max (values only:
        ``argmax`` gives the indices).   dL/dx = dL/dz at the maxima, shared equally by ties (ops.Max)."""
        refuse_pytorch_names("max", pytorch_names)
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False, **pytorch_names: Any) -> "Tensor":
        """Indices of the maxima along ``axis`` (of the flattened tensor for None), as an int64 Tensor.
        Not differentiable: the result has no gradient."""
        refuse_pytorch_names("argmax", pytorch_names)
        return Tensor._make(note(_argmax, self._data, axis, keepdims), False)

    # ---- broadcasting ---------------------------------------------------------------
    def broadcast_to(self, shape: Shape) -> "Tensor":
        """self broadcast to ``shape`` by NumPy's rules (self itself if it has that shape).
        dL/dx = dL/dz summed back to self's shape (ops.BroadcastTo)."""
        shape = tuple(shape)
        return self if shape == self.shape else _ops.BroadcastTo.apply(self, shape=shape)

    def sum_to(self, shape: Shape) -> "Tensor":
        """Sum down to ``shape``, undoing a broadcast from ``shape`` to self.shape.   dL/dx = dL/dz
        broadcast back to self's shape (ops.SumTo)."""
        shape = tuple(shape)
        return self if shape == self.shape else _ops.SumTo.apply(self, shape=shape)

    # ---- shape -----------------------------------------------------------------------
    def reshape(self, *shape: ShapeLike) -> "Tensor":
        """The same values in a new shape, given as ``reshape(2, 3)`` or ``reshape((2, 3))``; one -1 is
        inferred.   dL/dx = dL/dz reshaped back (ops.Reshape)."""
        shape = shape_arg(shape, "reshape")
        return self if shape == self.shape else _ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: ShapeLike) -> "Tensor":
        """Permute the axes: ``transpose(1, 0, 2)`` or ``transpose((1, 0, 2))``; with none given, reverse
        them (as NumPy does).   dL/dx = dL/dz transposed by the inverse permutation (ops.Transpose)."""
        if not axes:
            return _ops.Transpose.apply(self, axes=tuple(reversed(range(self._data.ndim))))
        return _ops.Transpose.apply(self, axes=perm_arg(shape_arg(axes, "transpose"), self.ndim, "transpose"))

    @property
    def T(self) -> "Tensor":
        """``transpose()``: the axes reversed, a matrix's transpose.   dL/dx = (dL/dz)ᵀ."""
        return self.transpose()

    def swapaxes(self, a: int, b: int) -> "Tensor":
        """Axes a and b exchanged (a transpose).   dL/dx = dL/dz with them exchanged back."""
        a, b = axis_arg(a, self.ndim, "swapaxes"), axis_arg(b, self.ndim, "swapaxes")
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(*axes)

    def squeeze(self, axis: Axis = None) -> "Tensor":
        """Drop axes of length 1 (all of them, or those named, which must have length 1; a reshape).
        dL/dx = dL/dz reshaped back."""
        if axis is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = axes_arg(axis, self.ndim, "squeeze")
        for a in axes:
            if self.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} has length {self.shape[a]}, not 1")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis: int) -> "Tensor":
        """Insert an axis of length 1 at ``axis`` (of the result; negatives count from its end; a reshape).
        dL/dx = dL/dz reshaped back."""
        axis = axis_arg(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *axes: ShapeLike) -> "Tensor":
        """The axes in a new order: the same as ``transpose(*axes)``.   dL/dx = dL/dz permuted back."""
        return self.transpose(*axes)

    def pad(self, pad_width: PadWidth, value: float = 0.0) -> "Tensor":
        """numpy.pad with a constant: ``pad_width`` in NumPy's forms (n, (before, after), or one pair per
        axis).   d/dx = dL/dz with the padding cut off."""
        return _ops.Pad.apply(self, pad_width=pad_arg(pad_width, self.ndim, "pad"), value=value)

    def __getitem__(self, index: Index) -> "Tensor":
        """self[index] with NumPy's indexing: ints, slices, None, ..., integer and boolean arrays or
        Tensors.   dL/dx = zeros like x with dL/dz added at ``index``; an element picked twice gets both
        (ops.GetItem)."""
        return _ops.GetItem.apply(self, index=index_arg(index))

    def scatter_add(self, index: Index, shape: Shape) -> "Tensor":
        """zeros(shape) with self added at ``index``: the adjoint of ``__getitem__``.
        dL/dx = dL/dz[index] (ops.ScatterAdd)."""
        return _ops.ScatterAdd.apply(self, index=index_arg(index), shape=tuple(shape))

    def astype(self, dtype: DType) -> "Tensor":
        """The values as ``dtype`` (self itself if they already are).   dL/dx = dL/dz cast back to self's
        dtype (ops.Cast)."""
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else _ops.Cast.apply(self, dtype=dtype)

    # ---- classifier output -----------------------------------------------------------
    def log_softmax(self, axis: int = -1, **pytorch_names: Any) -> "Tensor":
        """x - log(sum(exp(x), axis)), computed stably: log-probabilities along ``axis``.
        dL/dx = dL/dz - softmax(x) * sum(dL/dz, axis) (ops.LogSoftmax)."""
        refuse_pytorch_names("log_softmax", pytorch_names)
        return _ops.LogSoftmax.apply(self, axis=axis)

    def cross_entropy(self, labels: TensorLike) -> "Tensor":
        """Mean over rows of -log softmax(self)[row, label]; self is (N, C) logits, labels N ints in
        [0, C) (an array or a Tensor).   dL/dself = dL/dz * (softmax(self) - onehot(labels)) / N (ops.CrossEntropy;
        ``F.cross_entropy`` has PyTorch's other forms)."""
        return _ops.CrossEntropy.apply(self, labels=labels._data if isinstance(labels, Tensor) else labels)


_new_tensor = object.__new__


def bump_versions(tensors: "list[Tensor] | tuple[Tensor, ...]") -> None:
    """``bump_version`` for many tensors under one lock: an optimizer's step changes every parameter."""
    with changes.lock:
        for t in tensors:
            changes.newest = t._version = next(clock)  # the newest change first, the tensor's after: never behind


def _compared(compare, x, y):
    return np.asarray(compare(x, y))


def _argmax(x, axis, keepdims):
    return np.asarray(np.argmax(x, axis=axis, keepdims=keepdims), dtype=np.int64)

