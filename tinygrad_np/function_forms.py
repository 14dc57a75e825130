"""PyTorch's spellings at the package level: ``tg.exp(x)`` for ``torch.exp(x)``, and errors naming ours.

Accepted, where PyTorch's meaning is the method's and costs our NumPy names nothing: ``tg.<name>(x, ...)`` is
``x.<name>(...)`` (x a Tensor, an array or a list) for the names in ``FUNCTION_FORMS``. ``tg.tensor``,
``tg.randn_like`` (factories.py) and ``tg.manual_seed`` (generators.py) are PyTorch's too.

Refused, naming ours: the names in ``OURS`` (``tg.cat``: ``tg.concatenate``; ``tg.std``: ``x.std(ddof=1)``, as
PyTorch's default is unbiased), through the package's ``__getattr__``. The Tensor methods' spellings are in
pytorch_spellings.py; docs/api.md has both tables.

The function forms stay out of the package's ``__all__`` (``dir(tg)`` shows them): ``from tinygrad_np import *``
must not hide Python's ``sum`` and ``abs``.
"""
from __future__ import annotations

from typing import Any

from .core.tensor import Tensor
from .typing import Axis, ShapeLike, TensorLike

FUNCTION_FORMS = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "matmul", "sum", "mean",
                  "argmax", "softmax", "log_softmax", "flatten", "reshape", "squeeze", "unsqueeze", "permute")

# PyTorch's name -> ours, for the package-level spellings that are not accepted as they are.
OURS = {
    "cat": "concatenate (tinygrad_np.concatenate(tensors, axis), NumPy's name)",
    "clamp": "Tensor.clip (x.clip(min, max); the method x.clamp(min, max) is accepted too)",
    "from_numpy": "Tensor (tinygrad_np.Tensor(array) shares the array, as from_numpy does; tinygrad_np.tensor copies)",
    "transpose": "x.swapaxes(a, b) (torch.transpose swaps two axes; x.transpose(*axes) permutes all, as NumPy's)",
    "max": "x.max(axis) (the values; x.argmax(axis) gives the indices) or tinygrad_np.maximum(a, b)",
    "min": "x.min(axis) (the values; x.argmin(axis) gives the indices) or tinygrad_np.minimum(a, b)",
    "var": "x.var(axis, ddof=1) (PyTorch's default is unbiased, ddof=1; NumPy's and ours is ddof=0)",
    "std": "x.std(axis, ddof=1) (PyTorch's default is unbiased, ddof=1; NumPy's and ours is ddof=0)",
    "save": "tinygrad_np.nn.save(state_dict, path) or model.save(path) (arrays as .npz or .safetensors, no pickle)",
    "load": "tinygrad_np.nn.load(path) or model.load(path)",
    "device": "nothing: tinygrad_np runs on NumPy, on the CPU (.to('cpu') and .cpu() are accepted)",
    "cuda": "nothing: tinygrad_np runs on NumPy, on the CPU",
    "is_tensor": "isinstance(x, tinygrad_np.Tensor)",
    "float32": "np.float32 (dtypes are NumPy's)",
    "float64": "np.float64 (dtypes are NumPy's)",
    "float16": "np.float16 (dtypes are NumPy's)",
    "int64": "np.int64 (dtypes are NumPy's)",
    "int32": "np.int32 (dtypes are NumPy's)",
    "long": "np.int64 (dtypes are NumPy's)",
    "bool": "np.bool_ (dtypes are NumPy's)",
    "rand_like": "tinygrad_np.uniform(*x.shape, dtype=x.dtype)",
}


def _tensor(x: TensorLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def exp(x: TensorLike) -> Tensor:
    """``x.exp()``, PyTorch's torch.exp (x a Tensor, an array or a list).   d/dx = exp(x)."""
    return _tensor(x).exp()


def log(x: TensorLike) -> Tensor:
    """``x.log()``, PyTorch's torch.log.   d/dx = 1 / x."""
    return _tensor(x).log()


def sqrt(x: TensorLike) -> Tensor:
    """``x.sqrt()``, PyTorch's torch.sqrt.   d/dx = 1 / (2 sqrt(x))."""
    return _tensor(x).sqrt()


def sin(x: TensorLike) -> Tensor:
    """``x.sin()``, PyTorch's torch.sin.   d/dx = cos(x)."""
    return _tensor(x).sin()


def cos(x: TensorLike) -> Tensor:
    """``x.cos()``, PyTorch's torch.cos.   d/dx = -sin(x)."""
    return _tensor(x).cos()


def tanh(x: TensorLike) -> Tensor:
    """``x.tanh()``, PyTorch's torch.tanh.   d/dx = 1 - tanh²(x)."""
    return _tensor(x).tanh()


def sigmoid(x: TensorLike) -> Tensor:
    """``x.sigmoid()``, PyTorch's torch.sigmoid.   d/dx = σ(x) (1 - σ(x))."""
    return _tensor(x).sigmoid()


def relu(x: TensorLike) -> Tensor:
    """``x.relu()``, PyTorch's torch.relu.   d/dx = 1 where x > 0, else 0."""
    return _tensor(x).relu()


def abs(x: TensorLike) -> Tensor:  # noqa: A001  (PyTorch's torch.abs; kept out of __all__, see the docstring)
    """``x.abs()``, PyTorch's torch.abs.   d/dx = sign(x), 0 at 0."""
    return _tensor(x).abs()


def matmul(x: TensorLike, y: TensorLike) -> Tensor:
    """``x @ y``, PyTorch's torch.matmul (NumPy's rules).   dL/dx = dL/dz @ yᵀ,  dL/dy = xᵀ @ dL/dz."""
    return _tensor(x) @ y


def sum(x: TensorLike, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:  # noqa: A001
    """``x.sum(axis, keepdims)``, PyTorch's torch.sum (``dim=`` is refused, naming ``axis=``).   dL/dx = dL/dz
    broadcast back over the summed axes."""
    return _tensor(x).sum(axis, keepdims, **pytorch_names)


def mean(x: TensorLike, axis: Axis = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """``x.mean(axis, keepdims)``, PyTorch's torch.mean.   dL/dx = dL/dz / n, broadcast back."""
    return _tensor(x).mean(axis, keepdims, **pytorch_names)


def argmax(x: TensorLike, axis: int | None = None, keepdims: bool = False, **pytorch_names: Any) -> Tensor:
    """``x.argmax(axis, keepdims)``, PyTorch's torch.argmax: int64 indices, with no gradient."""
    return _tensor(x).argmax(axis, keepdims, **pytorch_names)


def softmax(x: TensorLike, axis: int = -1, **pytorch_names: Any) -> Tensor:
    """``x.softmax(axis)``, PyTorch's torch.softmax.   dL/dx = s (dL/dz - sum(dL/dz s, axis)), s = softmax(x)."""
    return _tensor(x).softmax(axis, **pytorch_names)


def log_softmax(x: TensorLike, axis: int = -1, **pytorch_names: Any) -> Tensor:
    """``x.log_softmax(axis)``, PyTorch's torch.log_softmax.   dL/dx = dL/dz - softmax(x) sum(dL/dz, axis)."""
    return _tensor(x).log_softmax(axis, **pytorch_names)


def flatten(x: TensorLike, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """PyTorch's torch.flatten: axes start_dim..end_dim (inclusive, negative from the end) joined into one, a
    reshape; ``tg.flatten(x)`` is ``x.flatten()``, and a 0-d x becomes shape (1,), as PyTorch's.
    dL/dx = dL/dz reshaped back."""
    t = _tensor(x)
    if t.ndim == 0:
        return t.reshape(1)
    start, end = (_axis(a, t.ndim, name) for a, name in ((start_dim, "start_dim"), (end_dim, "end_dim")))
    if start > end:
        raise ValueError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim}) for {t.ndim} axes")
    joined = 1
    for length in t.shape[start:end + 1]:
        joined *= length
    return t.reshape(t.shape[:start] + (joined,) + t.shape[end + 1:])


def _axis(axis: int, ndim: int, name: str) -> int:
    if not -ndim <= axis < ndim:
        raise IndexError(f"flatten: {name}={axis} is out of range for a tensor of {ndim} axes")
    return axis % ndim


def squeeze(x: TensorLike, axis: Axis = None) -> Tensor:
    """``x.squeeze(axis)``, PyTorch's torch.squeeze; a named axis must have length 1 (NumPy's rule, where PyTorch
    passes it over).   dL/dx = dL/dz reshaped back."""
    return _tensor(x).squeeze(axis)


def unsqueeze(x: TensorLike, axis: int) -> Tensor:
    """``x.unsqueeze(axis)``, PyTorch's torch.unsqueeze.   dL/dx = dL/dz reshaped back."""
    return _tensor(x).unsqueeze(axis)


def permute(x: TensorLike, *axes: ShapeLike) -> Tensor:
    """``x.permute(*axes)``, PyTorch's torch.permute.   dL/dx = dL/dz permuted back."""
    return _tensor(x).permute(*axes)


def reshape(x: TensorLike, *shape: ShapeLike) -> Tensor:
    """``x.reshape(*shape)``, PyTorch's torch.reshape.   dL/dx = dL/dz reshaped back."""
    return _tensor(x).reshape(*shape)
