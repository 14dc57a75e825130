"""What ``func.vmap`` stands on: tensors that hold a whole batch, and each op's batching rule.

Inside ``vmap(f)``, f is written for one example, and its arguments stand for the whole batch. A ``Batched``
tensor shows f one example's shape (its *logical* shape) and keeps every example's values in one array (its
*physical* array): one batch axis in front for each vmap it belongs to (a *level*; nested vmaps add one each,
the outer first), then the logical axes.

When an op meets a batched input, ``Function.apply`` hands it here (through core/engine_hooks.py), and the
op's batching rule runs instead: the same op, or a few ops, on the physical arrays, once for the whole
batch, with axes moved past the batch axes and broadcasting arranged so that example i only ever meets
example i. Those physical ops are ordinary recorded ops, so the graph backward walks is the batched
one, and gradients come out batched with no rule of their own: ``vmap(grad(loss))`` is one forward and
one backward over the batch, not one per example.

Arrays a library function computes from a tensor outside any op (``note``: comparisons, clip's masks,
logsumexp's shift, argmax) go through ``Batching.note``: elementwise ones, and those with a known axis, run
on the whole batch; any other is run once per example. An op without a rule runs the same way, once per
example, the results stacked: correct, and slower. ``RULES`` and ``NOTE_RULES`` say who has a rule; the
ops that fall back, and when, are listed in docs/forward_and_reverse.md.

What vmap cannot batch it refuses: a random draw (torch.func's default, ``randomness="error"``), reading a
batched value into Python (``.item()``, ``if``, ``.numpy()``: a batched tensor has no one value), and a
batched tensor used after its vmap has returned.
"""
import itertools
import math
import string
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from . import integer, ops, pointwise, reductions
from .composed import _argmin, _between, _clipped, _finite_max, _strictly_between, stack
from .core.arguments import axes_arg, axis_arg, scalar_axis
from .core.engine_hooks import hooks, in_use
from .core.tensor import Tensor, _argmax, _compared
from .nn.functional import (
    _as_dtype,
    _check_probabilities,
    _mean_scale,
    _nan_if_empty,
    _nothing_to_attend,
    _one_hot_last,
    _one_hot_mask,
)
from .pytorch_spellings import _Size

_level_ids = itertools.count(1)
_count_lock = threading.Lock()


class Level:
    """One vmap call: its size, and whether it is still running (its batched tensors are dead after)."""

    __slots__ = ("id", "size", "alive")

    def __init__(self, size):
        self.id, self.size, self.alive = next(_level_ids), size, True

    def __repr__(self):
        return f"<vmap level {self.id}, size {self.size}{'' if self.alive else ', finished'}>"


class BatchedArray(np.ndarray):
    """A batched tensor's physical array as library code sees it through ``tensor._data``: an ndarray that
    remembers its levels, so that an array made from it outside an op (a mask from ``note``), or handed to
    an op as a parameter (labels, a condition, an index), is still known to hold a batch."""

    levels: tuple = ()

    def __array_finalize__(self, obj):
        self.levels = getattr(obj, "levels", ())

    # Its shape is one example's, as the library code reading it (a shape check on labels, say) expects; NumPy's
    # own C code sees the whole array. This module reads the whole one through _plain.
    @property  # type: ignore[misc]
    def shape(self):
        return np.ndarray.shape.__get__(self)[len(self.levels):]

    @property
    def ndim(self):
        return np.ndarray.ndim.__get__(self) - len(self.levels)

    @property
    def size(self):
        return math.prod(self.shape)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]


def _marked(array, levels):
    marked = np.asarray(array).view(BatchedArray)
    marked.levels = levels
    return marked


def _plain(array):
    return array.view(np.ndarray) if isinstance(array, BatchedArray) else array


def _escaped():
    return RuntimeError("vmap: this batched tensor was made inside a vmap call that has returned. Inside vmap a "
                        "tensor stands for a whole batch; return it from the function (vmap stacks it) instead "
                        "of keeping it")


class Batched(Tensor):
    """A tensor inside vmap: one example's shape (``shape``), every example's values (``physical``, with one
    batch axis in front per level in ``levels``, outer first). See the module's doc."""

    __slots__ = ("physical", "levels")

    @property
    def _data(self):
        for level in self.levels:
            if not level.alive:
                raise _escaped()
        return _marked(self.physical._data, self.levels)

    @property
    def shape(self):
        return self.physical._data.shape[len(self.levels):]

    @property
    def ndim(self):
        return self.physical._data.ndim - len(self.levels)

    @property
    def dtype(self):
        return self.physical._data.dtype

    @property
    def size(self):
        shape = self.shape
        return _Size(math.prod(shape), shape)

    def numel(self):
        return math.prod(self.shape)

    def dim(self):
        return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        levels = ", ".join(str(level.id) for level in self.levels)
        return f"Batched(shape={self.shape}, dtype={self.dtype}, vmap levels {levels}, physical {self.physical!r})"

    # ---- what a batched tensor cannot do: each is a value of one example taken into Python -------------
    def _refuse(self, what):
        raise RuntimeError(f"vmap: {what} reads a batched tensor's value, but inside vmap a tensor stands for a "
                           "whole batch of values, one per example, so it has no one value. Use tensor operations "
                           "(tg.where for a choice), or read the value outside vmap, from what vmap returns")

    @property
    def data(self):
        self._refuse(".data")

    @data.setter
    def data(self, array):
        self._refuse("assigning .data")

    def numpy(self):
        self._refuse(".numpy()")

    def __array__(self, dtype=None, copy=None):
        self._refuse("np.asarray(tensor)")

    def item(self):
        self._refuse(".item()")

    def __float__(self):
        self._refuse("float()")

    def __bool__(self):
        self._refuse("bool() (an if or while on a tensor)")

    @property
    def grad(self):
        return None

    @grad.setter
    def grad(self, value):
        raise RuntimeError("vmap: a batched tensor has no .grad; take gradients inside vmap with func.grad")

    def backward(self, grad=None, retain_graph=False, create_graph=False):
        raise RuntimeError("vmap: backward() inside vmap is not supported (as in torch.func): differentiate the "
                           "function with func.grad (or func.vjp) and vmap that: vmap(grad(loss))")

    def retain_grad(self):
        raise RuntimeError("vmap: retain_grad() inside vmap is not supported; return the tensor instead")

    def requires_grad_(self, flag=True):
        raise RuntimeError("vmap: requires_grad_() inside vmap is not supported; differentiate with func.grad")

    # ---- methods that compute outside any op, or read the physical array's shape, batched here -----------
    def transpose(self, *axes):
        if axes:
            return Tensor.transpose(self, *axes)
        return ops.Transpose.apply(self, axes=tuple(reversed(range(self.ndim))))  # reversed, as NumPy's

    def detach(self):
        return _wrap(self.physical.detach(), self.levels)

    def _compare(self, other, compare):
        other = other._data if isinstance(other, Tensor) else other
        array, levels = _elementwise(_compared, (compare, self._data, other))
        return _wrap(Tensor._make(array, False), levels)

    def argmax(self, axis=None, keepdims=False, **pytorch_names):
        result = Tensor.argmax(self, axis, keepdims, **pytorch_names)
        return _wrap(Tensor._make(_plain(result._data), False), self.levels)

    def argmin(self, axis=None, keepdims=False, **pytorch_names):
        result = Tensor.argmin(self, axis, keepdims, **pytorch_names)  # type: ignore[attr-defined]
        return _wrap(Tensor._make(_plain(result._data), False), self.levels)


def _wrap(physical, levels):
    """``physical`` as f sees it: Batched over ``levels``, or the plain tensor itself when there are none."""
    if not levels:
        return physical
    t = object.__new__(Batched)
    t.physical, t.levels = physical, tuple(levels)
    t.requires_grad, t._grad, t.op, t._version, t.retains_grad = physical.requires_grad, None, None, 0, False
    return t


def view_of(t):
    """(physical tensor, levels) for a Tensor: a Batched one's parts; a plain one made from a batched array
    outside any op (a mask from a comparison) over its array's levels; any other over no levels."""
    if type(t) is Batched:
        for level in t.levels:
            if not level.alive:
                raise _escaped()
        return t.physical, t.levels
    data = t._data
    if type(data) is BatchedArray:
        if t.requires_grad:
            raise RuntimeError("vmap: a tensor made from a batched array outside any op (Tensor(t.data) or "
                               "Tensor._make) cannot require grad; compute it with tensor operations")
        for level in data.levels:
            if not level.alive:
                raise _escaped()
        return Tensor._make(data.view(np.ndarray), False), data.levels
    return t, ()


def _union(*level_tuples):
    return tuple(sorted(set().union(*level_tuples), key=lambda level: level.id))


def _sizes(levels):
    return tuple(level.size for level in levels)


def _aligned(physical, own, levels, ndim):
    """``physical`` (over ``own``) with an axis for each of ``levels`` (size 1 for one it lacks), and its
    logical axes padded with 1s in front to ``ndim``: ready to broadcast against others aligned alike."""
    logical = physical.shape[len(own):]
    shape = tuple(level.size if level in own else 1 for level in levels) + (1,) * (ndim - len(logical)) + logical
    return physical if shape == physical.shape else ops.Reshape.apply(physical, shape=shape)


def _full(physical, own, levels):
    """``physical`` broadcast to every level in ``levels`` (a view: nothing is copied)."""
    aligned = _aligned(physical, own, levels, physical.ndim - len(own))
    shape = _sizes(levels) + physical.shape[len(own):]
    return aligned if aligned.shape == shape else ops.BroadcastTo.apply(aligned, shape=shape)


def _aligned_array(array, own, levels, ndim):
    array = _plain(np.asarray(array))
    logical = array.shape[len(own):]
    return array.reshape(tuple(level.size if level in own else 1 for level in levels)
                         + (1,) * (ndim - len(logical)) + logical)


# ---- the rules: each takes [(physical, levels)] and the op's parameters, and returns (physical, levels),
# or None for a case it does not cover (the op then runs once per example) --------------------------------
def _elementwise_op(cls):
    def rule(views, params):
        ((physical, levels),) = views
        return cls.apply(physical, **params), levels
    return rule


def _broadcasting_op(cls):
    def rule(views, params):
        levels = _union(*(own for _, own in views))
        ndim = max(p.ndim - len(own) for p, own in views)
        # An operand without a batch broadcasts against the logical axes as it is: only the batched ones
        # need their logical axes padded, so that no logical axis lines up with a batch axis.
        operands = [_aligned(p, own, levels, ndim) if own else p for p, own in views]
        return cls.apply(*operands, **params), levels
    return rule


def _where(views, params):
    condition = params["condition"]
    cond_levels = condition.levels if isinstance(condition, BatchedArray) else ()
    levels = _union(cond_levels, *(own for _, own in views))
    ndim = max([p.ndim - len(own) for p, own in views] + [condition.ndim])  # a batched array's is one example's
    operands = [_aligned(p, own, levels, ndim) if own else p for p, own in views]
    if cond_levels:
        condition = _aligned_array(condition, cond_levels, levels, ndim)
    return ops.Where.apply(*operands, condition=condition), levels


def _reduction(cls):
    def rule(views, params):
        ((physical, levels),) = views
        k = len(levels)
        axes = axes_arg(params.get("axis"), physical.ndim - k, cls.name)
        return cls.apply(physical, axis=tuple(a + k for a in axes), keepdims=params.get("keepdims", False)), levels
    return rule


def _shifted(cls, name, one=False):
    """An op whose parameter ``name`` holds non-negative logical axes: the same axes past the batch axes."""
    def rule(views, params):
        ((physical, levels),) = views
        k = len(levels)
        value = params[name]
        if one and scalar_axis(value, physical.ndim - k, cls.name):
            return None  # axis 0 of a 0-d example (PyTorch's): each example on its own
        if one:
            value = axis_arg(value, physical.ndim - k, cls.name, name) + k
        else:
            value = tuple(a + k for a in value)
        return cls.apply(physical, **{**params, name: value}), levels
    return rule


def _transpose(views, params):
    ((physical, levels),) = views
    k = len(levels)
    return ops.Transpose.apply(physical, axes=tuple(range(k)) + tuple(a + k for a in params["axes"])), levels


def _reshape(views, params):
    ((physical, levels),) = views
    k = len(levels)
    # The shape an example's reshape would give (a -1 resolved, a bad size refused with NumPy's message), found
    # on a stand-in that holds no data.
    logical = np.broadcast_to(np.empty((), dtype=bool), physical.shape[k:]).reshape(params["shape"]).shape
    return ops.Reshape.apply(physical, shape=physical.shape[:k] + logical), levels


def _sum_to(views, params):
    ((physical, levels),) = views
    k, shape = len(levels), tuple(params["shape"])
    lead = physical.ndim - k - len(shape)
    if lead < 0:
        return None
    padded = physical.shape[:k] + (1,) * lead + shape
    summed = ops.SumTo.apply(physical, shape=padded)
    return (summed if lead == 0 else ops.Reshape.apply(summed, shape=physical.shape[:k] + shape)), levels


def _broadcast_to(views, params):
    ((physical, levels),) = views
    shape = tuple(params["shape"])
    if len(shape) < physical.ndim - len(levels):
        return None
    aligned = _aligned(physical, levels, levels, len(shape))
    return ops.BroadcastTo.apply(aligned, shape=physical.shape[:len(levels)] + shape), levels


def _pad(views, params):
    ((physical, levels),) = views
    return ops.Pad.apply(physical, pad_width=((0, 0),) * len(levels) + tuple(params["pad_width"]),
                         value=params["value"]), levels


def _concatenate(views, params):
    levels = _union(*(own for _, own in views))
    operands = [_full(p, own, levels) for p, own in views]
    return ops.Concatenate.apply(*operands, axis=params["axis"] + len(levels)), levels


def _matmul(views, params):
    (x, x_levels), (y, y_levels) = views
    xn, yn = x.ndim - len(x_levels), y.ndim - len(y_levels)
    if xn == 0 or yn == 0:
        return None  # each example's matmul gives the error
    levels = _union(x_levels, y_levels)
    if y_levels and yn == 2 and xn <= 2:
        # A matrix per example on the right (per-example weights, as vmap(grad) makes them): one einsum, whose
        # gradient for the weights is a batched outer product. numpy.matmul takes 4x as long for those.
        row = xn == 1
        x = _full(x, x_levels, levels)
        x = x.reshape(_sizes(levels) + ((1,) if row else ()) + x.shape[len(levels):])
        y = _full(y, y_levels, levels)
        letters = _free_letters("nkm", len(levels))
        z = ops.Einsum.apply(x, y, subscripts=f"{letters}nk,{letters}km->{letters}nm")
        return (z.reshape(z.shape[:len(levels)] + z.shape[len(levels) + 1:]) if row else z), levels
    # A 1-D operand is a row (on the left) or a column (on the right), squeezed afterwards, as numpy.matmul.
    if xn == 1:
        x = ops.Reshape.apply(x, shape=x.shape[:len(x_levels)] + (1,) + x.shape[len(x_levels):])
    if yn == 1:
        y = ops.Reshape.apply(y, shape=y.shape + (1,))
    ndim = max(xn, yn, 2)
    x = _aligned(x, x_levels, levels, ndim) if x_levels else x
    y = _aligned(y, y_levels, levels, ndim) if y_levels else y
    z = ops.MatMul.apply(x, y)
    if xn == 1 or yn == 1:  # drop the row's and the column's axes of length 1 again
        z = ops.Reshape.apply(z, shape=z.shape[:-2] + (() if xn == 1 else z.shape[-2:-1])
                              + (() if yn == 1 else z.shape[-1:]))
    return z, levels


def _linear(views, params):
    (x, x_levels), (w, w_levels) = views[:2]
    b, b_levels = views[2] if len(views) == 3 else (None, ())
    xn = x.ndim - len(x_levels)
    logical_w, logical_b = w.shape[len(w_levels):], None if b is None else b.shape[len(b_levels):]
    if (xn == 0 or len(logical_w) != 2 or x.shape[-1] != logical_w[1]
            or (b is not None and logical_b != logical_w[:1])):
        return None  # each example's linear gives the error
    if not w_levels and not b_levels:  # one weight for every example: one product over all the rows
        return ops.Linear.apply(x, w, *(() if b is None else (b,))), x_levels
    levels = _union(x_levels, w_levels, b_levels)
    sizes, k = _sizes(levels), len(levels)
    lead = x.shape[len(x_levels):-1]
    rows = _full(x, x_levels, levels).reshape(sizes + (math.prod(lead), logical_w[1]))
    letters = _free_letters("nio", k)
    z = ops.Einsum.apply(rows, _full(w, w_levels, levels), subscripts=f"{letters}ni,{letters}oi->{letters}no")
    if b is not None:
        z = ops.Add.apply(z, _full(b, b_levels, levels).reshape(sizes + (1, logical_w[0])))
    return z.reshape(sizes + lead + logical_w[:1]), levels


def _free_letters(used, count):
    return "".join([c for c in string.ascii_letters if c not in used][:count])


def _einsum(views, params):
    levels = _union(*(own for _, own in views))
    inputs, output = params["subscripts"].split("->")
    letters = dict(zip(levels, _free_letters(params["subscripts"], len(levels)), strict=True))
    specs = ["".join(letters[level] for level in own) + spec
             for (_, own), spec in zip(views, inputs.split(","), strict=True)]
    out = "".join(letters[level] for level in levels) + output
    return ops.Einsum.apply(*(p for p, _ in views), subscripts=",".join(specs) + "->" + out), levels


def _unfold(views, params):
    ((physical, levels),) = views
    k = len(levels)
    if physical.ndim - k != 4:
        return None
    merged = physical.reshape((-1,) + physical.shape[k + 1:])  # the batch axes and N as one axis of images
    windows = ops.Unfold.apply(merged, **params)
    return windows.reshape(physical.shape[:k + 1] + windows.shape[1:]), levels


def _fold(views, params):
    ((physical, levels),) = views
    k = len(levels)
    shape = tuple(params["shape"])
    if physical.ndim - k != 6 or len(shape) != 4:
        return None
    merged = physical.reshape((-1,) + physical.shape[k + 1:])
    images = ops.Fold.apply(merged, shape=(merged.shape[0],) + shape[1:], stride=params["stride"],
                            dilation=params["dilation"])
    return images.reshape(physical.shape[:k] + shape), levels


def _conv2d(views, params):
    """A batch of inputs against one weight: the batch axes and N as one axis of images. A batched weight runs
    example by example (the loop)."""
    (physical, levels), (weight, weight_levels) = views
    if physical.ndim - len(levels) != 4 or weight.ndim - len(weight_levels) != 4:
        return None
    if not weight_levels:
        k = len(levels)
        merged = physical.reshape((-1,) + physical.shape[k + 1:])
        images = ops.Conv2d.apply(merged, weight, **params)
        return images.reshape(physical.shape[:k + 1] + images.shape[1:]), levels
    # A weight per example (as vmap(grad) makes them): every example's windows against its own weight, one einsum.
    levels = _union(levels, weight_levels)
    x = _full(physical, views[0][1], levels)
    merged = x.reshape((-1,) + x.shape[len(levels) + 1:])
    (ph, pw), kernel = params["padding"], weight.shape[-2:]
    if ph or pw:
        merged = ops.Pad.apply(merged, pad_width=((0, 0), (0, 0), (ph, ph), (pw, pw)), value=0.0)
    windows = ops.Unfold.apply(merged, kernel=kernel, stride=params["stride"], dilation=params["dilation"])
    windows = windows.reshape(_sizes(levels) + x.shape[len(levels):len(levels) + 2] + windows.shape[2:])
    letters = _free_letters("ncijpqo", len(levels))
    return ops.Einsum.apply(windows, _full(weight, weight_levels, levels),
                            subscripts=f"{letters}ncijpq,{letters}ocpq->{letters}noij"), levels


def _batch_norm(views, params):
    """Each example's batch normalised by its own statistics: Normalize over the example's batch and spatial axes,
    then the weight and bias. The statistics passed in are left out and computed from x again, so that a
    gradient taken through this rule sees how they depend on x."""
    (x, x_levels), (w, w_levels), (b, b_levels) = views[:3]
    levels = _union(x_levels, w_levels, b_levels)
    k, ndim = len(levels), x.ndim - len(x_levels)
    z = ops.Normalize.apply(_full(x, x_levels, levels), axes=(k,) + tuple(range(k + 2, k + ndim)), eps=params["eps"])
    channel = (1,) * (ndim - 2)
    w = _aligned(ops.Reshape.apply(w, shape=w.shape + channel), w_levels, levels, ndim)
    b = _aligned(ops.Reshape.apply(b, shape=b.shape + channel), b_levels, levels, ndim)
    return ops.Add.apply(ops.Mul.apply(z, w), b), levels


def _advanced(parts):
    return [i for i, p in enumerate(parts) if isinstance(p, np.ndarray)]


def _getitem(views, params):
    ((physical, levels),) = views
    index = params["index"]
    parts = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(p, BatchedArray) for p in parts):
        return _with_plain_index(physical, levels, parts)
    return _with_batched_index(physical, levels, parts)


def _with_plain_index(physical, levels, parts):
    """Every example indexed alike: the index behind a full slice for each batch axis. Where NumPy puts the
    advanced axes first (advanced indices apart from each other), the batch axes are moved back in front."""
    k = len(levels)
    advanced = _advanced(parts)
    if any(parts[i].dtype == bool for i in advanced):
        return None
    out = ops.GetItem.apply(physical, index=(slice(None),) * k + tuple(parts))
    if advanced and advanced != list(range(advanced[0], advanced[-1] + 1)):
        front = len(np.broadcast_shapes(*(parts[i].shape for i in advanced)))
        order = tuple(range(front, front + k)) + tuple(range(front)) + tuple(range(front + k, out.ndim))
        out = ops.Transpose.apply(out, axes=order)
    return out, levels


def _batched_index_parts(parts, levels, k):
    """The index of each example at once, for an index of integer arrays only: an arange per batch axis,
    then each array aligned over the levels (None when the index has anything else)."""
    if not all(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts):
        return None
    ndim = max(p.ndim for p in parts)  # a batched array's is one example's
    aranges = tuple(np.arange(level.size).reshape((1,) * i + (-1,) + (1,) * (k - 1 - i + ndim))
                    for i, level in enumerate(levels))
    return aranges + tuple(_aligned_array(p, p.levels, levels, ndim) if isinstance(p, BatchedArray) else p
                           for p in parts)


def _with_batched_index(physical, own, parts):
    levels = _union(own, *(p.levels for p in parts if isinstance(p, BatchedArray)))
    if not own and len(parts) == 1 and parts[0].dtype.kind in "iu":
        # A table indexed by a batch of integer arrays (an embedding): one lookup for them all.
        return ops.GetItem.apply(physical, index=_plain(parts[0])), parts[0].levels
    index = _batched_index_parts(parts, levels, len(levels))
    if index is None or len(parts) > physical.ndim - len(own):
        return None
    return ops.GetItem.apply(_full(physical, own, levels), index=index), levels


def _scatter_add(views, params):
    ((physical, levels),) = views
    index, shape = params["index"], tuple(params["shape"])
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(p, BatchedArray) for p in parts):
        all_levels = _union(levels, *(p.levels for p in parts if isinstance(p, BatchedArray)))
        full_index = _batched_index_parts(parts, all_levels, len(all_levels))
        if full_index is None or len(parts) > len(shape):
            return None
        values = _full(physical, levels, all_levels)
        return ops.ScatterAdd.apply(values, index=full_index, shape=_sizes(all_levels) + shape), all_levels
    k = len(levels)
    advanced = _advanced(parts)
    if any(parts[i].dtype == bool for i in advanced):
        return None
    if advanced and advanced != list(range(advanced[0], advanced[-1] + 1)):
        # NumPy lays such an index's result out advanced axes first: put the batch axes where it expects them.
        front = len(np.broadcast_shapes(*(parts[i].shape for i in advanced)))
        order = tuple(range(k, k + front)) + tuple(range(k)) + tuple(range(k + front, physical.ndim))
        physical = ops.Transpose.apply(physical, axes=order)
    return ops.ScatterAdd.apply(physical, index=(slice(None),) * k + tuple(parts),
                                shape=_sizes(levels) + shape), levels


def _cross_entropy(views, params):
    """Each example's mean cross-entropy, as log_softmax, the label's entry, a sum and a scale: the same value
    and gradient (softmax - onehot) / N as the fused op, whose single mean cannot be split by example."""
    ((x, x_levels),) = views
    labels = params["labels"] if isinstance(params["labels"], np.ndarray) else np.asarray(params["labels"])
    label_levels = labels.levels if isinstance(labels, BatchedArray) else ()
    logical = x.shape[len(x_levels):]
    if len(logical) != 2 or labels.shape != logical[:1] or labels.dtype.kind not in "iu":
        return None  # each example's cross_entropy gives the error (a batched array's shape is one example's)
    n, classes = logical
    if n == 0 or _plain(labels).min() < 0 or _plain(labels).max() >= classes:
        return None
    levels = _union(x_levels, label_levels)
    sizes = _sizes(levels)
    count = math.prod(sizes)
    logits = _full(x, x_levels, levels).reshape((count, n, classes))
    picked_labels = np.broadcast_to(_aligned_array(labels, label_levels, levels, 1), sizes + (n,)).reshape(count, n)
    log_probs = ops.LogSoftmax.apply(logits, axis=2)
    picked = ops.GetItem.apply(log_probs, index=(np.arange(count)[:, None], np.arange(n)[None, :], picked_labels))
    scale = Tensor._make(np.asarray(-1.0 / n, dtype=x.dtype), False)
    return ops.Mul.apply(ops.Sum.apply(picked, axis=(1,)), scale).reshape(sizes), levels


# ---- issue 29 (ops2): n-dimensional windows, binary cross-entropy -------------------------------------------
def _volume_unfold(views, params):
    """VolumeUnfold on the batch axes and N merged into one axis of inputs (as _unfold does for Unfold)."""
    ((physical, levels),) = views
    k = len(levels)
    if physical.ndim - k != len(params["kernel"]) + 2:
        return None
    merged = physical.reshape((-1,) + physical.shape[k + 1:])
    windows = ops.VolumeUnfold.apply(merged, **params)
    return windows.reshape(physical.shape[:k + 1] + windows.shape[1:]), levels


def _volume_fold(views, params):
    ((physical, levels),) = views
    k, shape = len(levels), tuple(params["shape"])
    if physical.ndim - k != 2 * len(params["stride"]) + 2 or len(shape) != len(params["stride"]) + 2:
        return None
    merged = physical.reshape((-1,) + physical.shape[k + 1:])
    folded = ops.VolumeFold.apply(merged, shape=(merged.shape[0],) + shape[1:], stride=params["stride"],
                                  dilation=params["dilation"])
    return folded.reshape(physical.shape[:k] + shape), levels


def _note_last_axis(func, args):
    """A note that reduces over the last axis with keepdims (attention's fully masked rows): the batch axes
    lead, so it runs on the whole batch at once."""
    (x,) = args
    return _marked(func(_plain(x)), x.levels)


RULES: dict[Any, Callable] = {
    **{cls: _elementwise_op(cls) for cls in (ops.Neg, ops.Exp, ops.Log, ops.Sqrt, ops.Relu, ops.Abs, ops.Tanh,
                                             ops.Sigmoid, ops.Sin, ops.Cos, ops.Softplus, ops.Gelu,
                                             ops.PiecewiseConstant, ops.Cast)},
    **{cls: _broadcasting_op(cls) for cls in (ops.Add, ops.Sub, ops.Mul, ops.Div, ops.Pow, ops.Maximum)},
    ops.Where: _where,
    ops.Sum: _reduction(ops.Sum), ops.Max: _reduction(ops.Max),
    ops.Cumsum: _shifted(ops.Cumsum, "axis", one=True),
    ops.LogSoftmax: _shifted(ops.LogSoftmax, "axis", one=True),
    ops.Normalize: _shifted(ops.Normalize, "axes"), ops.BatchNorm: _batch_norm,
    ops.WindowMax: _shifted(ops.WindowMax, "axes"),
    ops.SumTo: _sum_to, ops.BroadcastTo: _broadcast_to,
    ops.MatMul: _matmul, ops.Linear: _linear, ops.Einsum: _einsum,
    ops.Reshape: _reshape, ops.Transpose: _transpose, ops.Pad: _pad, ops.Concatenate: _concatenate,
    ops.GetItem: _getitem, ops.ScatterAdd: _scatter_add,
    ops.Unfold: _unfold, ops.Fold: _fold, ops.Conv2d: _conv2d,
    ops.CrossEntropy: _cross_entropy,
    ops.VolumeUnfold: _volume_unfold, ops.VolumeFold: _volume_fold,
    ops.BinaryCrossEntropy: _broadcasting_op(ops.BinaryCrossEntropy),
    # issue 29 (ops1)
    **{cls: _elementwise_op(cls) for cls in (ops.Erf, ops.Asin, ops.Acos, ops.Atan, ops.Sinh, ops.Cosh, ops.Asinh,
                                             ops.Acosh, ops.Atanh)},
    **{cls: _broadcasting_op(cls) for cls in (ops.Minimum, ops.LogAddExp, ops.Copysign, ops.RoundedDivision,
                                              ops.Remainder, ops.Fmod)},
    ops.Min: _reduction(ops.Min),
    ops.Cumprod: _shifted(ops.Cumprod, "axis", one=True),
    ops.Logcumsumexp: _shifted(ops.Logcumsumexp, "axis", one=True),
}


# ---- issue 29 (layers29): nn.LSTM's layer ---------------------------------------------------------------------
def _lstm_sequence(views, params):
    """LSTMSequence takes the same leading axes on all six inputs: each one broadcast over every level (a view),
    and one op runs the whole batch, its leading axes the levels."""
    levels = _union(*(own for _, own in views))
    logical = [p.ndim - len(own) for p, own in views]
    if logical != [3, 2, 2, 2, 2, 1]:
        return None  # each example's op gives the error
    return ops.LSTMSequence.apply(*[_full(p, own, levels) for p, own in views], **params), levels


RULES[ops.LSTMSequence] = _lstm_sequence


def _loop(cls, views, params):
    """The op on each example in turn, the results stacked: for an op without a rule, and the cases a rule
    leaves out. The slices and the stacking are recorded ops, so gradients flow through them too."""
    levels = _union(*(own for _, own in views), *(_param_levels(v) for v in params.values()))
    results = []
    for position in np.ndindex(*_sizes(levels)):
        at = dict(zip(levels, position, strict=True))
        inputs = [ops.GetItem.apply(p, index=tuple(at[level] for level in own)) if own else p for p, own in views]
        results.append(cls.apply(*inputs, **{name: _example(v, at) for name, v in params.items()}))
    shapes = {r.shape for r in results}
    if len(shapes) > 1:
        raise ValueError(f"vmap: {cls.name} gives results of different shapes for different examples "
                         f"({', '.join(map(str, sorted(shapes)))}), which cannot be stacked into one batch")
    return stack(results).reshape(_sizes(levels) + results[0].shape), levels


def _carries_batch(value):
    """Whether a parameter is (or a tuple holding) a batched array: the quick test, before any levels."""
    return type(value) is BatchedArray or (type(value) is tuple and any(type(p) is BatchedArray for p in value))


def _param_levels(value):
    if isinstance(value, BatchedArray):
        return value.levels
    if isinstance(value, tuple):
        return _union(*(_param_levels(v) for v in value))
    return ()


def _example(value, at):
    """One example's part of a parameter (a batched array, or a tuple holding some), as a plain array."""
    if isinstance(value, BatchedArray):
        return _plain(value)[tuple(at[level] for level in value.levels)]
    if isinstance(value, tuple):
        return tuple(_example(v, at) for v in value)
    return value


# ---- arrays computed outside ops (core/jit_seam.note) ------------------------------------------------
def _elementwise(func, args):
    """func on batched and plain arrays whose every element is computed from the same element of each:
    the batched ones aligned over all their levels, so example i meets example i. (array, levels)."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    levels = _union(*(a.levels for a in arrays if isinstance(a, BatchedArray)))
    ndim = max(a.ndim for a in arrays)  # a batched array's is one example's
    aligned = [_aligned_array(a, a.levels, levels, ndim) if isinstance(a, BatchedArray) else a for a in args]
    return _plain(np.asarray(func(*aligned))), levels


def _note_elementwise(func, args):
    array, levels = _elementwise(func, args)
    return _marked(array, levels)


def _note_finite_max(func, args):
    x, axes = args
    k = len(x.levels)
    return _marked(func(_plain(x), tuple(a + k for a in axes)), x.levels)


def _note_arg_extreme(func, args):
    x, axis, keepdims = args
    k, ndim = len(x.levels), x.ndim
    plain = _plain(x)
    if axis is None:  # the index into each example's flattened values
        flat = func(plain.reshape(plain.shape[:k] + (-1,)), -1, False)
        return _marked(flat.reshape(flat.shape + (1,) * ndim) if keepdims else flat, x.levels)
    return _marked(func(plain, axis_arg(axis, ndim, func.__name__.strip("_"), "axis") + k, keepdims), x.levels)


def _note_along(func, args):
    """A function of one array along axes given next (an int or a tuple; any, all, argsort, cummax's indices):
    the same axes past the batch axes."""
    x, axes, *rest = args
    k = len(x.levels)
    shifted = axes + k if isinstance(axes, int) else tuple(a + k for a in axes)
    return _marked(func(_plain(x), shifted, *rest), x.levels)


def _note_one_hot_mask(func, args):
    """nll_loss's one-hot mask (class axis 1 of each example's) for the whole batch at once: the class axis
    made last, over the aligned targets and keep masks, then moved past the batch axes. (Looped per example,
    it was a third of vmap(grad)'s time on the MNIST MLP.)"""
    target, keep, classes, dtype, op = args
    last, levels = _elementwise(lambda t, k: _one_hot_last(t, k, classes, dtype, op), (target, keep))
    return _marked(np.ascontiguousarray(np.moveaxis(last, -1, len(levels) + 1)), levels)


def _note_kept_count(func, args):
    """A loss's mean scale (1 / the kept count, 0 for none) or its NaN-if-nothing-kept term, per example: the
    count taken over each example's own axes at once, computed as each example's call computes it."""
    keep, dtype = args
    if not isinstance(keep, BatchedArray):
        return func(keep, dtype)
    plain = _plain(keep)
    flat = plain.reshape(plain.shape[:len(keep.levels)] + (-1,))
    if func is _mean_scale:
        count = flat.sum(axis=-1)
        with np.errstate(divide="ignore"):
            result = np.where(count != 0, 1.0 / count, 0.0)
    else:
        result = np.where(flat.any(axis=-1), 0.0, math.nan)
    return _marked(result.astype(dtype), keep.levels)


def _note_whole(func, args):
    """A check over every value (it returns nothing): run once over every example's values together."""
    return func(*(_plain(a) if isinstance(a, BatchedArray) else a for a in args))


NOTE_RULES: dict[Any, Callable] = {
    _finite_max: _note_finite_max,
    _argmax: _note_arg_extreme, _argmin: _note_arg_extreme,
    _check_probabilities: _note_whole,
    _nothing_to_attend: _note_last_axis,
    _one_hot_mask: _note_one_hot_mask,
    _mean_scale: _note_kept_count, _nan_if_empty: _note_kept_count,
}
NOTE_RULES.update(dict.fromkeys((_compared, _between, _clipped, np.ndarray.copy, np.array, np.not_equal, _as_dtype),
                                _note_elementwise))
# issue 29 (ops1)
NOTE_RULES.update(dict.fromkeys((_strictly_between, reductions._isclose, integer._bitcast, np.bitwise_and,
                                 np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift,
                                 *pointwise.TESTS), _note_elementwise))
NOTE_RULES.update(dict.fromkeys((reductions._any, reductions._all, reductions._argsort, reductions._running_extreme,
                                 reductions._top), _note_along))


def _note_loop(func, args):
    """func on each example's arrays in turn, the results stacked."""
    levels = _union(*(_param_levels(a) for a in args))
    results = []
    for position in np.ndindex(*_sizes(levels)):
        at = dict(zip(levels, position, strict=True))
        results.append(func(*(_example(a, at) for a in args)))
    if all(r is None for r in results):
        return None
    if isinstance(results[0], tuple):  # an index, one array an axis (take_along_axis's): each stacked alike
        return tuple(_stacked_note([r[j] for r in results], levels) for j in range(len(results[0])))
    return _stacked_note(results, levels)


def _stacked_note(results, levels):
    return _marked(np.stack([np.asarray(r) for r in results]).reshape(_sizes(levels) + np.shape(results[0])),
                   levels)


# ---- one thread's vmap calls -------------------------------------------------------------------------
class Batching:
    """The levels of the vmap calls running in this thread, innermost last; Function.apply and note() hand it
    the ops and arrays that meet a batch (core/engine_hooks.hooks.vmap)."""

    def __init__(self):
        self.levels = []

    def apply(self, cls, inputs, params):
        """The op on batched inputs by its rule (or once per example); None when nothing in it is batched."""
        views = [view_of(t) for t in inputs]
        if not any(own for _, own in views) and not any(_carries_batch(v) for v in params.values()):
            return None
        hooks.vmap = None  # the rule's own ops run on whole physical arrays
        try:
            rule = RULES.get(cls)
            result = rule(views, params) if rule is not None else None
            physical, levels = result if result is not None else _loop(cls, views, params)
        finally:
            hooks.vmap = self
        return _wrap(physical, levels)

    def note(self, func, args):
        if not any(_carries_batch(a) for a in args):
            return func(*args)
        hooks.vmap = None
        try:
            rule = NOTE_RULES.get(func)
            return rule(func, args) if rule is not None else _note_loop(func, args)
        finally:
            hooks.vmap = self

    @staticmethod
    def refuse_random(func):
        raise RuntimeError("vmap: a random draw (dropout in training mode, randn, uniform) inside func.vmap is "
                           "refused, as torch.func refuses it by default (randomness='error'): one draw would be "
                           "shared by every example. Draw outside vmap and pass the values in (with in_dims), "
                           "or put the model in eval()")


_threads = threading.local()


def _batching():
    batching = getattr(_threads, "batching", None)
    if batching is None:
        batching = _threads.batching = Batching()
    return batching


def enter(size):
    """Start a vmap level of ``size`` in this thread: batched ops go to their rules until ``leave``."""
    batching = _batching()
    level = Level(size)
    batching.levels.append(level)
    with _count_lock:
        in_use.watching += 1
    hooks.vmap = batching
    return level


def leave(level):
    batching = _batching()
    batching.levels.remove(level)
    level.alive = False
    with _count_lock:
        in_use.watching -= 1
    hooks.vmap = batching if batching.levels else None


def active_levels():
    """The levels of the vmap calls running in this thread, outer first (an empty tuple outside vmap)."""
    batching = getattr(_threads, "batching", None)
    return tuple(batching.levels) if batching is not None else ()


def batch(value, level, in_dim):
    """``value`` (a Tensor, maybe already batched by an outer vmap) with its logical axis ``in_dim`` taken as
    ``level``'s batch axis."""
    if not isinstance(value, Tensor):
        value = Tensor(value, dtype=np.asarray(value).dtype)  # an array keeps its dtype: labels stay integers
    physical, own = view_of(value)
    k = len(own)
    axis = k + axis_arg(in_dim, physical.ndim - k, "vmap", "in_dims")
    if axis != k:
        order = list(range(physical.ndim))
        order.insert(k, order.pop(axis))
        physical = ops.Transpose.apply(physical, axes=tuple(order))
    return _wrap(physical, own + (level,))


def unbatch(value, level, out_dim):
    """What f returned, with ``level``'s batch axis moved to logical axis ``out_dim`` (and a value that does
    not depend on the batch repeated along it, as torch.func does)."""
    physical, own = view_of(value)
    rest = tuple(lv for lv in own if lv is not level)
    k = len(rest)
    axis = k + axis_arg(out_dim, physical.ndim - len(own) + 1, "vmap", "out_dims")
    if len(rest) == len(own):  # f's value does not depend on this level: the same for every example
        shape = physical.shape[:axis] + (1,) + physical.shape[axis:]
        physical = ops.BroadcastTo.apply(ops.Reshape.apply(physical, shape=shape),
                                         shape=shape[:axis] + (level.size,) + shape[axis + 1:])
    elif axis != k:
        order = list(range(physical.ndim))
        order.insert(axis, order.pop(k))
        physical = ops.Transpose.apply(physical, axes=tuple(order))
    return _wrap(physical, rest)


def example_slices(value, levels):
    """``value`` (a Tensor) one example at a time along ``levels``, which it must all have: for per-example
    loops (a vjp_fn called inside a later vmap)."""
    physical, own = view_of(value)
    rest = tuple(level for level in own if level not in levels)
    for position in np.ndindex(*_sizes(levels)):
        at = dict(zip(levels, position, strict=True))
        index = tuple(at[level] if level in at else slice(None) for level in own)
        yield _wrap(ops.GetItem.apply(physical, index=index), rest)


def stacked(values, levels, shape_levels):
    """Per-example results (each over ``shape_levels``) stacked over ``levels``, which come after them all."""
    physicals = [view_of(v)[0] for v in values]
    k = len(shape_levels)
    first = physicals[0]
    joined = stack(physicals, axis=k) if len(physicals) > 1 else ops.Reshape.apply(
        first, shape=first.shape[:k] + (1,) + first.shape[k:])
    return _wrap(joined.reshape(first.shape[:k] + _sizes(levels) + first.shape[k:]),
                 tuple(shape_levels) + tuple(levels))


def aligned_to(value, physical_like, levels_like):
    """``value`` (Tensor or array, one example's shape of ``physical_like``) as a physical tensor of
    ``physical_like``'s shape: broadcast over the levels it lacks. Through recorded ops, so a value that
    requires grad stays differentiable. Its levels must be among ``levels_like``."""
    if not isinstance(value, Tensor):
        value = Tensor(np.asarray(value, dtype=physical_like.dtype))
    physical, own = view_of(value)
    aligned = _aligned(physical, own, levels_like, physical.ndim - len(own))
    if aligned.shape != physical_like.shape:
        aligned = ops.BroadcastTo.apply(aligned, shape=physical_like.shape)
    return aligned


def broadcast_over(physical, own, levels):
    """``physical`` (over ``own``) broadcast over every one of ``levels``, through a recorded op."""
    return _full(physical, own, levels)


wrap = _wrap
sizes_of = _sizes
