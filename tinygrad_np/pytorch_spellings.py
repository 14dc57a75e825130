"""PyTorch's spellings on a Tensor: accepted where PyTorch's meaning costs our NumPy names nothing, and
otherwise an error that names ours.

Accepted: ``t.size(0)`` and ``t.size()`` (``t.size`` is still NumPy's element count), ``numel()``, ``dim()``,
``t()``, ``pow(e)``, ``clamp(min, max)``, ``maximum(other)``, ``minimum(other)``, ``float()``, ``double()``,
``eq``/``ne``/``lt``/``le``/``gt``/``ge`` (the comparison operators), ``cpu()`` and ``to("cpu")`` (nothing to do:
everything is on the CPU), ``to(dtype)`` (astype). Refused with our name: ``view(*shape)`` (reshape;
``view(dtype)``, a bitcast, is in integer.py), ``expand`` (broadcast_to), and the rest in ``OURS`` below. The
package's own spellings (``tg.exp(x)``, ``tg.cat``) are in tinygrad_np/function_forms.py. docs/api.md has the whole
table.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .composed import method
from .composed import minimum as _minimum
from .core.arguments import axis_arg
from .core.tensor import Tensor
from .numpy_functions import maximum as _maximum
from .typing import TensorLike

# PyTorch's name -> ours, for the spellings that are not accepted as they are.
OURS = {
    "view_as": "reshape(other.shape)",
    "expand": "broadcast_to",
    "expand_as": "broadcast_to(other.shape)",
    "amax": "max",
    "amin": "min",
    "clamp_min": "clip(min=...)",
    "clamp_max": "clip(max=...)",
    "masked_fill": "tinygrad_np.where(mask, value, t)",
    "contiguous": "nothing: arrays here need no contiguous()",
    "cuda": "nothing: tinygrad_np runs on NumPy, on the CPU",
    "type": "astype",
    "long": "astype(np.int64) (indices are NumPy arrays here)",
    "int": "astype(np.int32)",
    "half": "astype(np.float16)",
    "zero_": "t.data[...] = 0 or an optimizer's zero_grad()",
    "fill_": "t.data[...] = value",
    "norm": "(t * t).sum().sqrt() or np.linalg.norm(t.data)",
    "gather": "tinygrad_np.take_along_axis(t, indices, axis)",
    "repeat": "tile(reps) (PyTorch's repeat is NumPy's tile; NumPy's repeat is repeat_interleave(n, axis))",
    "nonzero": "tinygrad_np.argwhere(t) (PyTorch's nonzero, an (n, ndim) tensor of indices, is NumPy's argwhere)",
}


class _Size(int):
    """NumPy's ``size`` (the number of elements) that PyTorch's ``size(axis)`` can also be called on."""

    shape: tuple[int, ...]  # the tensor's shape, which size() and size(axis) answer from

    def __new__(cls, n: int, shape: tuple[int, ...]) -> _Size:
        size = super().__new__(cls, n)
        size.shape = shape
        return size

    def __call__(self, axis: int | None = None, **pytorch_names: Any) -> Any:
        if "dim" in pytorch_names:
            axis = pytorch_names.pop("dim")
        if pytorch_names:
            raise TypeError(f"size: unexpected keyword argument {next(iter(pytorch_names))!r}")
        if axis is None:
            return self.shape
        return self.shape[axis_arg(axis, len(self.shape), "size")]


def _size(t: Tensor) -> _Size:
    return _Size(t._data.size, t._data.shape)


setattr(Tensor, "size", property(_size, doc="The number of elements, as NumPy's; ``t.size(axis)`` and "  # noqa: B010
                                           "``t.size()`` give PyTorch's answer (a length, or the shape)."))


@method
def numel(x: Tensor) -> int:
    """The number of elements (PyTorch's name for size)."""
    return x._data.size


@method
def dim(x: Tensor) -> int:
    """The number of axes (PyTorch's name for ndim)."""
    return x._data.ndim


@method
def t(x: Tensor) -> Tensor:
    """PyTorch's t(): a 2-D tensor transposed; 0-d and 1-d tensors as they are.   dL/dx = (dL/dz)ᵀ."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor of at most 2 dimensions, got shape {x.shape}; use transpose(*axes) "
                         "or swapaxes(a, b)")
    return x.T if x.ndim == 2 else x


@method
def pow(x: Tensor, exponent: TensorLike) -> Tensor:
    """x ** exponent (PyTorch's method name).   d/dx = exponent x^(exponent - 1), as ``**``'s."""
    return x ** exponent


@method
def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """clip(min, max) (PyTorch's name): d/dx = 1 where min <= x <= max, else 0."""
    return x.clip(min, max)


@method(name="maximum")
def maximum_method(x: Tensor, other: TensorLike) -> Tensor:
    """The elementwise larger of x and other (tinygrad_np.maximum as a method; ties split the gradient)."""
    return _maximum(x, other)


@method(name="minimum")
def minimum_method(x: Tensor, other: TensorLike) -> Tensor:
    """The elementwise smaller of x and other (tinygrad_np.minimum as a method; ties split the gradient)."""
    return _minimum(x, other)


@method
def eq(x: Tensor, other: TensorLike) -> Tensor:
    """x == other (PyTorch's name): a boolean tensor outside the graph (no gradient, as PyTorch)."""
    return x == other


@method
def ne(x: Tensor, other: TensorLike) -> Tensor:
    """x != other (PyTorch's name): a boolean tensor outside the graph (no gradient)."""
    return x != other


@method
def lt(x: Tensor, other: TensorLike) -> Tensor:
    """x < other (PyTorch's name): a boolean tensor outside the graph (no gradient)."""
    return x < other


@method
def le(x: Tensor, other: TensorLike) -> Tensor:
    """x <= other (PyTorch's name): a boolean tensor outside the graph (no gradient)."""
    return x <= other


@method
def gt(x: Tensor, other: TensorLike) -> Tensor:
    """x > other (PyTorch's name): a boolean tensor outside the graph (no gradient)."""
    return x > other


@method
def ge(x: Tensor, other: TensorLike) -> Tensor:
    """x >= other (PyTorch's name): a boolean tensor outside the graph (no gradient)."""
    return x >= other


@method
def cpu(x: Tensor) -> Tensor:
    """x itself, as PyTorch's cpu() on a tensor already there: tinygrad_np runs on NumPy, on the CPU (the gradient
    passes through unchanged)."""
    return x


@method
def to(x: Tensor, dtype_or_device: Any) -> Tensor:
    """``to(dtype)`` is ``astype(dtype)`` (dL/dx = dL/dz cast back to x's dtype); ``to("cpu")`` is x itself, as
    everything is on the CPU. Another device is refused: tinygrad_np runs on NumPy."""
    if isinstance(dtype_or_device, str) and dtype_or_device.split(":")[0] in _DEVICES:
        if not dtype_or_device.startswith("cpu"):
            raise ValueError(f"to: tinygrad_np runs on NumPy, on the CPU; there is no {dtype_or_device!r} "
                             "device (drop .to(device), or use 'cpu')")
        return x
    try:
        dtype = np.dtype(dtype_or_device)
    except TypeError:
        raise TypeError(f"to: expected a NumPy dtype or 'cpu', got {dtype_or_device!r}") from None
    return x.astype(dtype)


_DEVICES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "vulkan")


@method(name="float")
def as_float32(x: Tensor) -> Tensor:
    """astype(np.float32), PyTorch's float().   dL/dx = dL/dz cast back to x's dtype."""
    return x.astype(np.float32)


@method(name="double")
def as_float64(x: Tensor) -> Tensor:
    """astype(np.float64), PyTorch's double().   dL/dx = dL/dz cast back to x's dtype."""
    return x.astype(np.float64)


def _refusal(name: str) -> property:
    def refuse(self: Tensor) -> Any:
        raise AttributeError(f"Tensor has no {name} (PyTorch's name); use {OURS[name]}")

    return property(refuse, doc=f"PyTorch's {name}: refused, naming ours ({OURS[name]}).")


# One property a name, not a Tensor.__getattr__: a class with __getattr__ takes CPython's slower lookup for every
# attribute of every instance, which cost 10% of a 1,000-op chain.
for _name in OURS:
    setattr(Tensor, _name, _refusal(_name))
