"""``tinygrad_np.nn.functional`` (import it as ``F``): layers as plain functions, PyTorch's names and arguments.

Everything here is composed from the engine's ops, so each function's
derivative is the chain rule through those ops, and derivatives of any order
work. Images are NCHW, sequences NCL, as in PyTorch.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import ops
from ..composed import stack
from ..core.arguments import refuse_pytorch_names
from ..core.errors import ArgumentError
from ..core.jit_seam import draw, note, replayable
from ..core.tensor import Tensor
from ..generators import generator
from ..numpy_functions import concatenate, where
from ..typing import Pair, Seed, ShapeLike, TensorLike

__all__ = [
    "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "layer_norm", "batch_norm", "embedding", "one_hot",
    "dropout", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits",
    "relu", "sigmoid", "tanh", "softplus", "gelu", "silu", "leaky_relu", "elu", "softmax", "log_softmax",
    "relu6", "hardtanh", "hardswish", "softsign", "mish", "celu", "binary_cross_entropy",
    "scaled_dot_product_attention", "conv_transpose2d", "adaptive_avg_pool2d", "interpolate", "pad", "linear",
    # issue 29 (ops2)
    "conv3d", "conv_transpose3d", "avg_pool3d", "max_unpool2d",
    # issue 29 (ops1)
    "selu", "logsigmoid", "hardsigmoid", "softmin", "normalize",
]


def __dir__() -> list[str]:
    """The public API, ``__all__``, not the imports and helpers (np, note, ...) a plain dir() would list."""
    return sorted(__all__)


# ---- activations: the Tensor methods, as functions ---------------------------------------------
def relu(x: Tensor) -> Tensor:
    """max(x, 0), as ``torch.nn.functional.relu`` (``x.relu()``).   d/dx = 1 where x > 0, else 0."""
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)) (``x.sigmoid()``).   d/dx = σ(x) (1 - σ(x))."""
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """tanh(x) (``x.tanh()``).   d/dx = 1 - tanh²(x)."""
    return x.tanh()


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, without overflow, as PyTorch's: x itself where beta x > threshold (there
    the two differ by less than exp(-threshold) / beta).   d/dx = sigmoid(beta x), and 1 past the threshold."""
    if beta == 1:
        return where(x > threshold, x, x.softplus())
    return where(x * beta > threshold, x, (x * beta).softplus() * (1.0 / beta))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU, x Φ(x), as PyTorch's (``x.gelu(approximate)``): exact, 0.5 x (1 + erf(x / √2)), by default, or with
    ``approximate="tanh"`` 0.5 x (1 + t), t = tanh(c (x + a x³)), c = √(2/π), a = 0.044715.
    d/dx = Φ(x) + x φ(x) exactly; 0.5 (1 + t) + 0.5 x (1 - t²) c (1 + 3 a x²) for tanh's (ops.Gelu)."""
    return x.gelu(approximate)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (``x.silu()``).   d/dx = s + x s (1 - s), with s = sigmoid(x)."""
    return x.silu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, else negative_slope * x (``x.leaky_relu(negative_slope)``).   d/dx = 1 or
    negative_slope (negative_slope at 0, as PyTorch)."""
    return x.leaky_relu(negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x) - 1) (``x.elu(alpha)``).   d/dx = 1 or alpha exp(x)."""
    return x.elu(alpha)


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6) (``x.relu6()``).   d/dx = 1 strictly between 0 and 6, else 0 (0 at 0 and 6, as
    PyTorch's)."""
    return x.relu6()


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x limited to [min_val, max_val] (``x.hardtanh(min_val, max_val)``).   d/dx = 1 strictly inside, else 0
    (0 at the bounds, as PyTorch's)."""
    return x.hardtanh(min_val, max_val)


def hardswish(x: Tensor) -> Tensor:
    """x relu6(x + 3) / 6 (``x.hardswish()``).   d/dx = 0 up to -3, 1 from 3 on, (2x + 3) / 6 between (as
    PyTorch's, 0 at -3 and 1 at 3)."""
    return x.hardswish()


# ---- issue 29 (ops1): more of PyTorch's activations, composed ----------------------------------------------
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's (and the paper's) alpha ≈ 1.6733 and scale ≈ 1.0507.
    d/dx = scale for x > 0, scale alpha exp(x) otherwise."""
    return x.elu(_SELU_ALPHA) * _SELU_SCALE


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), without overflow for any x.   d/dx = sigmoid(-x) = 1 - sigmoid(x)."""
    return -(-x).softplus()


def hardsigmoid(x: Tensor) -> Tensor:
    """relu6(x + 3) / 6: 0 up to -3, 1 from 3 on, linear between.   d/dx = 1/6 strictly between -3 and 3, else
    0 (PyTorch's)."""
    return (x + 3.0).relu6() * (1.0 / 6.0)


def softmin(x: Tensor, axis: int = -1, **pytorch_names: Any) -> Tensor:
    """softmax(-x, axis): weights that favour the smallest values (PyTorch's softmin; ``dim=`` is refused,
    naming ``axis=``).   dL/dx = -z * (dL/dz - sum(dL/dz * z, axis))."""
    refuse_pytorch_names("F.softmin", pytorch_names)
    return (-x).softmax(axis)


def normalize(x: Tensor, p: float = 2.0, axis: int = 1, eps: float = 1e-12, **pytorch_names: Any) -> Tensor:
    """x / max(‖x‖_p, eps) along ``axis``, as PyTorch's F.normalize (``dim=`` is refused, naming ``axis=``).
    ‖x‖_p = (Σ |x|^p)^(1/p); p = inf is max |x|, -inf min |x|, and 0 counts the nonzero entries (as
    torch.norm). The derivative follows from the parts: the norm's (|x|^(p-1) sign(x) / ‖x‖^(p-1)), and 0
    where the norm is below eps or p is 0."""
    refuse_pytorch_names("F.normalize", pytorch_names)
    magnitude = x.abs()
    if p == math.inf:
        norm = magnitude.max(axis=axis, keepdims=True)
    elif p == -math.inf:
        norm = magnitude.min(axis=axis, keepdims=True)
    elif p == 0:
        norm = (x != 0).astype(x.dtype).sum(axis=axis, keepdims=True)
    else:
        norm = (magnitude ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
    return x / norm.clip(min=eps)


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|) (``x.softsign()``).   d/dx = 1 / (1 + |x|)²."""
    return x.softsign()


def mish(x: Tensor) -> Tensor:
    """x tanh(softplus(x)) (``x.mish()``).   d/dx = tanh(sp) + x sigmoid(x) (1 - tanh²(sp)), sp = softplus(x)."""
    return x.mish()


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x / alpha) - 1) (``x.celu(alpha)``).   d/dx = 1, or exp(x / alpha)."""
    return x.celu(alpha)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: TensorLike | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False, rng: Seed = None) -> Tensor:
    """softmax(q kᵀ · scale + mask) v, as PyTorch's: q (..., L, E), k (..., S, E), v (..., S, Ev); scale
    1/√E by default. ``attn_mask``: boolean (True = may attend) or floating-point (added to the scores); an
    integer mask (a tokenizer's 0/1 attention mask) is refused, as PyTorch refuses it: added, it would mask
    nothing. ``is_causal``: position i attends to j <= i. A query that may attend to nothing gets zeros, as
    PyTorch's, and no NaN reaches any gradient. ``enable_gqa``: k and v may have fewer heads (axis -3) than q,
    each shared by q's heads in turn (repeat_interleave).

    Composed from matmul, where and softmax, so its derivative is theirs (a fully masked query's row, 0).
    """
    if attn_mask is not None and is_causal:
        raise RuntimeError("scaled_dot_product_attention: give attn_mask or is_causal, not both (as PyTorch)")
    if enable_gqa:
        key, value = _shared_heads(query, key, "key"), _shared_heads(query, value, "value")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query @ key.swapaxes(-1, -2) * scale
    if is_causal:
        attn_mask = np.tri(query.shape[-2], key.shape[-2], dtype=bool)
    masked_rows = None
    if attn_mask is not None:
        scores = _masked(scores, attn_mask, query.dtype)
        # PyTorch's safe softmax: a row with nothing to attend to gives zeros, not exp(-inf - -inf) = NaN.
        masked_rows = Tensor._make(note(_nothing_to_attend, scores._data), False)
        scores = where(masked_rows, 0.0, scores)
    weights = scores.softmax(axis=-1)
    if masked_rows is not None:
        weights = where(masked_rows, 0.0, weights)
    if dropout_p:
        weights = dropout(weights, dropout_p, True, rng)
    return weights @ value


def _shared_heads(query, kv, name):
    """k or v with each of its heads repeated for the query heads that share it (grouped-query attention)."""
    if query.ndim < 3 or kv.ndim < 3 or query.shape[-3] % kv.shape[-3]:
        raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa, the query's heads (axis -3 of "
                           f"{query.shape}) must be a multiple of the {name}'s ({kv.shape})")
    groups = query.shape[-3] // kv.shape[-3]
    return kv if groups == 1 else kv.repeat_interleave(groups, axis=kv.ndim - 3)


def _masked(scores, attn_mask, dtype):
    """A boolean mask keeps the scores where it is True and makes the rest -inf; a floating-point one is
    added (in the query's dtype). Any other dtype is refused: PyTorch refuses it too."""
    mask = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    if mask.dtype == bool:
        return where(attn_mask if isinstance(attn_mask, Tensor) else mask, scores, -np.inf)
    if mask.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: attn_mask must be boolean (True where a query may attend) "
                        f"or floating-point (added to the scores), got dtype {mask.dtype}; for a 0/1 attention "
                        "mask write attn_mask.astype(bool)")
    if isinstance(attn_mask, Tensor):
        return scores + (attn_mask if attn_mask.dtype == dtype else attn_mask.astype(dtype))
    return scores + Tensor._make(note(_as_dtype, mask, dtype), False)


def _nothing_to_attend(scores):
    """The rows (a query each) whose scores are all -inf: a boolean array that broadcasts against scores."""
    return np.isneginf(scores).all(axis=-1, keepdims=True)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weightᵀ + bias, as one op (ops.Linear): weight (out, in), bias (out,) or None, as in PyTorch.
    With x's leading axes as rows and G = dL/dz:  dL/dx = G @ weight,  dL/dweight = Gᵀ @ x,  dL/dbias = G summed
    over the rows."""
    return ops.Linear.apply(x, weight) if bias is None else ops.Linear.apply(x, weight, bias)


def softmax(x: Tensor, axis: int = -1, **pytorch_names: Any) -> Tensor:
    """exp(x) / sum(exp(x), axis), stably (``x.softmax(axis)``; PyTorch's ``dim=`` is refused, naming
    ``axis=``).   dL/dx = z * (dL/dz - sum(dL/dz * z, axis))."""
    refuse_pytorch_names("F.softmax", pytorch_names)
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1, **pytorch_names: Any) -> Tensor:
    """x - log(sum(exp(x), axis)), stably (``x.log_softmax(axis)``; ``dim=`` is refused, naming
    ``axis=``).   dL/dx = dL/dz - softmax(x) * sum(dL/dz, axis)."""
    refuse_pytorch_names("F.log_softmax", pytorch_names)
    return x.log_softmax(axis)


# ---- convolution and pooling ------------------------------------------------------------------
def _pair(value: Any, name: str, op: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _windows(x, kernel, stride, padding, dilation, op, pad_value=0.0):
    """x (N, C, H, W) padded and cut into windows: (N, C, OH, OW, kh, kw), with the sizes checked."""
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be (N, C, H, W), got shape {x.shape}")
    kernel, stride = _pair(kernel, "kernel_size", op), _pair(stride, "stride", op)
    padding, dilation = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    _check_windows(x.shape[2:], kernel, stride, padding, dilation, op)
    if any(padding):
        x = x.pad(((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])), value=pad_value)
    return ops.Unfold.apply(x, kernel=kernel, stride=stride, dilation=dilation)


def _check_windows(size, kernel, stride, padding, dilation, op):
    """Positive sizes, and at least one window in the padded image, or an error naming which is wrong."""
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive and padding non-negative, "
                         f"got {kernel}, {stride}, {dilation}, {padding}")
    for n, k, s, p, d, axis in zip(size, kernel, stride, padding, dilation, ("height", "width"), strict=True):
        if ops.window.output_size(n + 2 * p, k, s, d) < 1:
            raise ArgumentError(f"{op}: the padded input's {axis} {n + 2 * p} is smaller than the kernel's reach "
                                f"{d * (k - 1) + 1}")  # a ValueError, and PyTorch's RuntimeError


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Pair = 1, padding: Pair | str = 0,
           dilation: Pair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``: x (N, C, H, W), weight
    (out, C / groups, kh, kw), bias (out,); the result is (N, out, OH, OW). ``padding`` is an int, a pair,
    or PyTorch's "valid" (none) or "same" (the output as large as the input; stride 1 only; an odd total pad
    puts the extra row and column at the end, as PyTorch). Uneven padding is F.pad's flat form, (left,
    right, top, bottom), and a negative width cuts the input (as F.pad's does).

    Computed as im2col: every window laid out by ``Unfold`` (a strided view),
    then one matrix product per group. Its derivative is the chain rule through
    those ops: the input's gradient is ``Fold`` (windows added back where they
    came from), the weight's a matrix product of the windows with dL/dz.
    """
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            ops.linalg.check_same_float(x, t, "conv2d", "input ", name + " ")
    if isinstance(padding, str):
        x, padding = _string_padding(x, weight.shape[2:], stride, dilation, padding), 0
    elif _uneven(padding, 2, "conv2d"):  # (left, right, top, bottom), or a negative width: F.pad's, then none
        x, padding = pad(x, _flat_pad(padding, 2)), 0
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (out, in / groups, kh, kw), got shape {weight.shape}")
    out_channels, per_group, kh, kw = weight.shape
    if x.ndim == 4 and (x.shape[1] != per_group * groups or out_channels % groups):
        nhwc = "" if x.shape[-1] != per_group * groups else (
            f"; its last axis has {x.shape[-1]}: channels last (N, H, W, C)? conv2d expects the channels on axis "
            "1, (N, C, H, W): x.transpose(0, 3, 1, 2)")
        raise ValueError(f"conv2d: input {x.shape} and weight {weight.shape} with groups={groups}: the input "
                         f"needs {per_group * groups} channels on axis 1 and the weight's {out_channels} outputs "
                         f"must divide into {groups} groups{nhwc}")
    if groups == 1 and x.ndim == 4:  # one op (ops.Conv2d): one window copy and one product each way
        stride, padding = _pair(stride, "stride", "conv2d"), _pair(padding, "padding", "conv2d")
        dilation = _pair(dilation, "dilation", "conv2d")
        _check_windows(x.shape[2:], (kh, kw), stride, padding, dilation, "conv2d")
        out = ops.Conv2d.apply(x, weight, stride=stride, padding=padding, dilation=dilation)
        return out + bias.reshape(out_channels, 1, 1) if bias is not None else out
    cols = _windows(x, (kh, kw), stride, padding, dilation, "conv2d")  # (N, C, OH, OW, kh, kw)
    n, _, oh, ow = cols.shape[:4]
    # The columns as one matrix (C * kh * kw, N * OH * OW), one column per output position: one matrix
    # product per group, forward and for each gradient. Laid out in this order, the copy reads long
    # contiguous runs of each image row; the result is copied once more into NCHW, so that what
    # follows (bias, activation, pooling) reads contiguous memory.
    columns = cols.transpose(1, 4, 5, 0, 2, 3)
    size = out_channels // groups
    outs = []
    for g in range(groups):
        part = columns if groups == 1 else columns[g * per_group:(g + 1) * per_group]
        w = weight if groups == 1 else weight[g * size:(g + 1) * size]
        outs.append(w.reshape(size, per_group * kh * kw) @ part.reshape(per_group * kh * kw, n * oh * ow))
    out = outs[0] if groups == 1 else concatenate(outs, axis=0)  # (out, N * OH * OW)
    out = out.reshape(out_channels, n, oh * ow).transpose(1, 0, 2).reshape(n, out_channels, oh, ow)
    return out + bias.reshape(out_channels, 1, 1) if bias is not None else out


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | tuple[int] = 1,
           padding: int | tuple[int] = 0, dilation: int | tuple[int] = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation, as ``torch.nn.functional.conv1d``: x (N, C, L), weight (out, C / groups, k).
    ``padding`` is an int, or (left, right) for uneven padding; a negative width cuts the input.

    conv2d on a height-1 image (composed), so its derivative is conv2d's.
    """
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d: input must be (N, C, L) and weight (out, in / groups, k), "
                         f"got {x.shape} and {weight.shape}")
    sides = isinstance(padding, (tuple, list)) and len(padding) == 2  # (left, right)
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, stride=(1, _single(stride, "stride")),
                 padding=(*padding, 0, 0) if sides else (0, _single(padding, "padding")),  # type: ignore[misc]
                 dilation=(1, _single(dilation, "dilation")), groups=groups)
    return out.squeeze(2)


def _single(value: Any, name: str) -> Any:
    """conv1d's stride, padding or dilation: an int or a 1-tuple. A longer tuple is refused, not cut short."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise TypeError(f"conv1d: {name} must be an int or a 1-tuple, got {tuple(value)}")
        value = value[0]
    return value


def max_pool2d(x: Tensor, kernel_size: Pair, stride: Pair | None = None, padding: Pair | tuple[int, ...] = 0,
               dilation: Pair = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The largest value of each window, as ``torch.nn.functional.max_pool2d`` (padding counts as -inf; a
    ``dilation`` spreads each window's taps that far apart). ``ceil_mode`` and ``return_indices`` are
    PyTorch's, as are integer inputs; uneven padding is F.pad's flat form, (left, right, top, bottom)
    (``_max_pool2d_more`` computes those).

    d/dx = dL/dz at each window's first maximum, 0 elsewhere: PyTorch's rule
    (``ops.WindowMax``). When the windows tile the image (stride = kernel, no
    padding), the image is only viewed as (N, C, OH, kh, OW, kw); otherwise
    ``Unfold`` lays the windows out.
    """
    stride = kernel_size if stride is None else stride
    if ceil_mode or return_indices or x.dtype.kind != "f" or _uneven(padding, 2, "max_pool2d"):
        return _max_pool2d_more(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    _pool_args(kernel_size, stride, padding, "max_pool2d")
    dilated = _pair(dilation, "dilation", "max_pool2d") != (1, 1)
    if x.ndim == 4 and not dilated and _tiles(x, kernel_size, stride, padding):
        (kh, kw), (n, c, h, w) = _pair(kernel_size, "kernel_size", "max_pool2d"), x.shape
        return ops.WindowMax.apply(x.reshape(n, c, h // kh, kh, w // kw, kw), axes=(3, 5))
    windows = _windows(x, kernel_size, stride, padding, dilation, "max_pool2d", pad_value=-np.inf)
    return ops.WindowMax.apply(windows, axes=(4, 5))


def _tiles(x, kernel_size, stride, padding):
    """True when the windows tile the image exactly."""
    k = _pair(kernel_size, "kernel_size", "pool")
    return (_pair(stride, "stride", "pool") == k and _pair(padding, "padding", "pool") == (0, 0)
            and x.shape[2] % k[0] == 0 and x.shape[3] % k[1] == 0)


def avg_pool2d(x: Tensor, kernel_size: Pair, stride: Pair | None = None, padding: Pair | tuple[int, ...] = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool2d`` (padding counts as zeros). PyTorch's
    ``ceil_mode`` (windows that start inside reach past the end), ``count_include_pad=False`` (the mean of the
    input's elements only) and ``divisor_override``; uneven padding as (left, right, top, bottom).

    d/dx = dL/dz / (kh kw), spread over the window (over the window's divisor with those arguments).
    """
    stride = kernel_size if stride is None else stride
    if ceil_mode or not count_include_pad or divisor_override is not None or _uneven(padding, 2, "avg_pool2d"):
        return _avg_pool(x, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                         "avg_pool2d")
    _pool_args(kernel_size, stride, padding, "avg_pool2d")
    return _windows(x, kernel_size, stride, padding, 1, "avg_pool2d").mean(axis=(4, 5))


def _string_padding(x, kernel, stride, dilation, padding):
    """x padded for conv2d's padding="valid" or "same"."""
    if padding == "valid":
        return x
    if padding != "same":
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if _pair(stride, "stride", "conv2d") != (1, 1):
        raise ValueError("conv2d: padding='same' needs stride 1 (as PyTorch)")
    total = [d * (k - 1) for d, k in zip(_pair(dilation, "dilation", "conv2d"), kernel, strict=True)]
    if not any(total):
        return x
    (th, tw) = total
    return x.pad(((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))


def pad(x: Tensor, pad: tuple[int, ...] | list[int], value: float = 0.0, mode: str = "constant") -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` lists (before, after) pairs starting from the LAST axis, (left, right, top,
    bottom, ...); a negative width cuts that many elements off instead (composed from Tensor.pad and
    indexing, so its derivative is theirs: the padding's gradient dropped, a cut part's zero).

    ``mode``: "constant" (``value``), or PyTorch's "reflect" (mirrored about the edge element, a width below
    the axis's length), "replicate" (the edge element repeated) and "circular" (wrapped around from the other
    end, after any cut, at most once). Those three are an index along each padded axis, so dL/dx adds each
    output's gradient into the element it copied. An unknown mode raises NotImplementedError, as PyTorch."""
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"F.pad: mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim or not all(isinstance(p, (int, np.integer)) for p in pad):
        raise ValueError(f"F.pad: pad must be an even number of ints, at most two per axis of the {x.ndim}, "
                         f"got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    for axis, (before, after) in enumerate(widths):
        if x.shape[axis] + min(before, 0) + min(after, 0) < 0:
            raise ValueError(f"F.pad: cutting {-min(before, 0) - min(after, 0)} from axis {axis} of length "
                             f"{x.shape[axis]}")
    if mode != "constant":
        return _pad_by_index(x, widths, mode)
    if any(b > 0 or a > 0 for b, a in widths):
        x = x.pad([(max(b, 0), max(a, 0)) for b, a in widths], value=value)
    if any(b < 0 or a < 0 for b, a in widths):
        x = x[tuple(slice(-min(b, 0), x.shape[i] + min(a, 0) if a < 0 else None)
                    for i, (b, a) in enumerate(widths))]
    return x


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_by_index(x, widths, mode):
    """F.pad's reflect, replicate and circular modes: along each padded axis, the output's element o copies
    input element o - before, mirrored, clipped or wrapped into the axis. Circular cuts first and wraps within
    what is left, as PyTorch's."""
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        length = x.shape[axis]
        if mode == "circular":
            start, stop = -min(before, 0), length + min(after, 0)
            length, before, after = stop - start, max(before, 0), max(after, 0)
        if (mode == "reflect" and max(before, after) >= length) or (mode == "circular" and max(before, after) > length):
            raise ValueError(f"F.pad: mode={mode!r} needs padding {'below' if mode == 'reflect' else 'at most'} "
                             f"the length of axis {axis}, {length}; got ({before}, {after})")
        if mode != "reflect" and length == 0:
            raise ValueError(f"F.pad: mode={mode!r} has nothing to copy from axis {axis} of length 0")
        source = np.arange(-before, length + after)
        if mode == "reflect":
            source = np.abs(source)
            source = np.where(source >= length, 2 * (length - 1) - source, source)
        elif mode == "replicate":
            source = np.clip(source, 0, length - 1)
        else:
            source = start + source % length
        x = x[(slice(None),) * axis + (source,)]
    return x


def _pool_args(kernel_size, stride, padding, op):
    """Positive kernel and stride, and padding at most half the kernel (PyTorch's rule): a wider pad would
    make windows of padding alone, whose max is -inf."""
    kernel, stride, padding = (_pair(kernel_size, "kernel_size", op), _pair(stride, "stride", op),
                               _pair(padding, "padding", op))
    if min(kernel) < 1 or min(stride) < 1:
        raise ValueError(f"{op}: kernel_size and stride must be positive, got {kernel} and {stride}")
    if any(p < 0 or p > k // 2 for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(f"{op}: padding {padding} must be between 0 and half the kernel size {kernel}")


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Pair = 1, padding: Pair = 0,
                     output_padding: Pair = 0, groups: int = 1, dilation: Pair = 1) -> Tensor:
    """The adjoint of conv2d, as ``torch.nn.functional.conv_transpose2d``: x (N, C, H, W), weight (C, out /
    groups, kh, kw); each input pixel adds weight times its value into the output window it maps to.

    H_out = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1. Composed: one matrix product
    per group gives every window's values, ``Fold`` adds them where they land (col2im), and the padding is
    cut off; the derivative is the chain rule through those.
    """
    op = "conv_transpose2d"
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            ops.linalg.check_same_float(x, t, op, "input ", name + " ")
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(f"{op}: input (N, C, H, W) {x.shape} and weight (C, out / groups, kh, kw) {weight.shape} "
                         f"with groups={groups}: the input's C must be the weight's first axis, divisible by groups")
    stride, padding = _pair(stride, "stride", op), _pair(padding, "padding", op)
    extra, dilation = _pair(output_padding, "output_padding", op), _pair(dilation, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(extra) < 0:
        raise ValueError(f"{op}: stride and dilation must be at least 1, padding and output_padding at least 0")
    if extra[0] >= max(stride[0], dilation[0]) or extra[1] >= max(stride[1], dilation[1]):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than stride {stride} or dilation {dilation}")
    n, c, h, w = x.shape
    per_group, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    covered = tuple((size - 1) * s + d * (k - 1) + 1
                    for size, s, d, k in zip((h, w), stride, dilation, (kh, kw), strict=True))
    full = (covered[0] + extra[0], covered[1] + extra[1])
    rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)  # one row per input pixel
    c_group = c // groups
    products = [rows[:, g * c_group:(g + 1) * c_group] @ weight[g * c_group:(g + 1) * c_group].reshape(
        c_group, per_group * kh * kw) for g in range(groups)]
    windows = products[0] if groups == 1 else concatenate(products, axis=1)
    windows = windows.reshape(n, h, w, groups * per_group, kh, kw).transpose(0, 3, 1, 2, 4, 5)
    out = ops.Fold.apply(windows, shape=(n, groups * per_group) + covered, stride=stride, dilation=dilation)
    if extra != (0, 0):  # output_padding: rows and columns no window reaches, at the bottom and right
        out = out.pad(((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    (top, left), size = padding, (full[0] - 2 * padding[0], full[1] - 2 * padding[1])
    if min(size) < 1:
        raise ArgumentError(f"{op}: padding {padding} leaves no output from an input of {h}x{w}")
    if top or left:
        out = out[:, :, top:top + size[0], left:left + size[1]]
    return out + bias.reshape(-1, 1, 1) if bias is not None else out


def adaptive_avg_pool2d(x: Tensor, output_size: Pair) -> Tensor:
    """The mean over PyTorch's adaptive windows: output (oh, ow), row window i covering input rows
    floor(i H / oh) to ceil((i + 1) H / oh). avg_pool2d when the sizes divide; slices, means and a stack
    otherwise (composed).   d/dx = dL/dz spread evenly over each window the element falls in."""
    if x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: input must be (N, C, H, W), got shape {x.shape}")
    oh, ow = _pair(output_size, "output_size", "adaptive_avg_pool2d")
    h, w = x.shape[2:]
    if min(oh, ow) < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {(oh, ow)}")
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(x, (h // oh, w // ow))
    def bins(size, out):
        return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]

    rows = [stack([x[:, :, r0:r1, c0:c1].mean(axis=(2, 3)) for c0, c1 in bins(w, ow)], axis=-1)
            for r0, r1 in bins(h, oh)]
    return stack(rows, axis=-2)


# ---- 3-D convolution and pooling, and PyTorch's other pooling and padding arguments (issue 29) -------------
# The n-dimensional windows of ops.VolumeUnfold and ops.VolumeFold; conv2d's and the pools' own fast paths above
# are left as they are, and hand these functions only the arguments they do not take.
def _tuple(value: Any, dims: int, name: str, op: str) -> tuple[int, ...]:
    values = (value,) * dims if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != dims or not all(isinstance(v, (int, np.integer)) for v in values):
        raise TypeError(f"{op}: {name} must be an int or {dims} ints, got {value!r}")
    return tuple(int(v) for v in values)


def _uneven(padding: Any, dims: int, op: str) -> bool:
    """True for padding in F.pad's flat form (before and after for each spatial axis, the last axis first) or
    with a negative width; a tuple of any length but 1, ``dims`` and 2 ``dims`` is refused."""
    if isinstance(padding, str):
        return False
    if isinstance(padding, (int, np.integer)):
        return bool(padding < 0)
    widths = tuple(padding)
    if len(widths) not in (1, dims, 2 * dims) or not all(isinstance(w, (int, np.integer)) for w in widths):
        raise ValueError(f"{op}: padding must be an int, {dims} ints, or {2 * dims} (before and after each axis, "
                         f"the last axis first, as F.pad), got {padding!r}")
    return len(widths) == 2 * dims or min(widths) < 0


def _flat_pad(padding: Any, dims: int) -> tuple[int, ...]:
    """Any padding form as F.pad's flat tuple over the last ``dims`` axes."""
    if isinstance(padding, (int, np.integer)):
        return (int(padding),) * (2 * dims)
    widths = tuple(int(w) for w in padding)
    if len(widths) == 2 * dims:
        return widths
    widths = widths * dims if len(widths) == 1 else widths
    return tuple(w for axis in reversed(widths) for w in (axis, axis))


def _edges(padding: Any, dims: int) -> list[tuple[int, int]]:
    """(before, after) for each spatial axis, first axis first, from any padding form."""
    flat = _flat_pad(padding, dims)
    return [(flat[2 * (dims - 1 - a)], flat[2 * (dims - 1 - a) + 1]) for a in range(dims)]


def _pool_geometry(x, dims, kernel_size, stride, padding, dilation, ceil_mode, op):
    """Checked kernel, stride, dilation and (before, after) padding for a pool over the last ``dims`` axes of
    (N, C, *spatial) or (C, *spatial), and the padding each axis needs after that for ceil_mode's last window
    (PyTorch's rule: a window must start inside the input or its front padding)."""
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: input must have {dims + 1} or {dims + 2} dimensions, got shape {x.shape}")
    kernel = _tuple(kernel_size, dims, "kernel_size", op)
    stride = kernel if stride is None else _tuple(stride, dims, "stride", op)
    dilation = _tuple(dilation, dims, "dilation", op)
    _uneven(padding, dims, op)
    edges = _edges(padding, dims)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got {kernel}, {stride}, "
                         f"{dilation}")
    if any(min(e) < 0 or max(e) > k // 2 for e, k in zip(edges, kernel, strict=True)):
        raise ValueError(f"{op}: padding {padding} must be between 0 and half the kernel size {kernel}")
    extra = []
    for size, k, s, d, (before, after) in zip(x.shape[-dims:], kernel, stride, dilation, edges, strict=True):
        reach = size + before + after - d * (k - 1) - 1
        count = (-(-reach // s) if ceil_mode else reach // s) + 1
        if ceil_mode and (count - 1) * s >= size + before:
            count -= 1
        if count < 1:
            raise ArgumentError(f"{op}: the padded input's length {size + before + after} is shorter than the kernel's "
                                f"reach {d * (k - 1) + 1}")
        extra.append(max(0, (count - 1) * s + d * (k - 1) + 1 - (size + before + after)))
    return kernel, stride, dilation, edges, extra


def _batched(x: Tensor, dims: int) -> tuple[Tensor, bool]:
    """(N, C, *spatial) as it is, or an unbatched (C, *spatial) with a batch axis of 1 (and True)."""
    return (x, False) if x.ndim == dims + 2 else (x.unsqueeze(0), True)


def _lowest(dtype: np.dtype) -> Any:
    """The value padding must hold so that it never wins a max: -inf, or an integer type's smallest."""
    if dtype.kind == "f":
        return -np.inf
    return False if dtype.kind == "b" else np.iinfo(dtype).min


def _max_pool2d_more(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """max_pool2d with ceil_mode, return_indices, uneven padding or an integer input: padding that can never
    win (-inf, or the integer type's smallest), reaching as far as ceil_mode's last window, then the windows
    and their max (ops.WindowMax: d/dx = dL/dz at each window's first maximum). The indices, PyTorch's
    (where each maximum is in its input's flattened plane), are computed in a note."""
    op = "max_pool2d"
    kernel, stride, dilation, edges, extra = _pool_geometry(x, 2, kernel_size, stride, padding, dilation, ceil_mode,
                                                            op)
    x4, unbatched = _batched(x, 2)
    widths = ((0, 0), (0, 0)) + tuple((b, a + e) for (b, a), e in zip(edges, extra, strict=True))
    padded = x4.pad(widths, value=_lowest(x.dtype)) if any(map(any, widths)) else x4
    out = ops.WindowMax.apply(ops.Unfold.apply(padded, kernel=kernel, stride=stride, dilation=dilation), axes=(4, 5))
    out = out.squeeze(0) if unbatched else out
    if not return_indices:
        return out
    indices = Tensor._make(note(_max_pool_indices, x4._data, kernel, stride, dilation, widths), False)
    return out, indices.squeeze(0) if unbatched else indices


def _max_pool_indices(x, kernel, stride, dilation, widths):
    """PyTorch's max_pool2d indices: for each window, its maximum's place in the input's flattened (H, W) plane;
    the first maximum in row-major order of the window, or its last NaN, as PyTorch's loop finds it; padding is
    never chosen."""
    (kh, kw), (h, w) = kernel, x.shape[2:]

    def windows(a):
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
        view = sliding_window_view(a, span, axis=(-2, -1))
        return view[..., ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]

    values = windows(np.pad(x, widths, constant_values=_lowest(x.dtype)))
    values = values.reshape(values.shape[:4] + (kh * kw,))
    valid = windows(np.pad(np.ones((h, w), dtype=bool), widths[2:]))
    valid = valid.reshape(valid.shape[:2] + (kh * kw,))
    best = values.max(axis=-1, keepdims=True)
    chosen = np.argmax((values == best) & valid, axis=-1)
    if x.dtype.kind == "f":
        nans = np.isnan(values) & valid
        last_nan = kh * kw - 1 - np.argmax(nans[..., ::-1], axis=-1)
        chosen = np.where(nans.any(axis=-1), last_nan, chosen)
    oh, ow = values.shape[2:4]
    p, q = np.divmod(chosen, kw)
    rows = np.arange(oh)[:, None] * stride[0] - widths[2][0] + p * dilation[0]
    cols = np.arange(ow)[None, :] * stride[1] - widths[3][0] + q * dilation[1]
    return (rows * w + cols).astype(np.int64)


def max_unpool2d(x: Tensor, indices: TensorLike, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0,
                 output_size: Any = None) -> Tensor:
    """The inverse of max_pool2d with return_indices, as ``torch.nn.functional.max_unpool2d``: zeros of (N, C,
    H_out, W_out), each value of x put at its index in the flattened (H_out, W_out) plane. H_out = (H - 1)
    stride - 2 padding + kernel, or the last two of ``output_size``. A scatter (Tensor.scatter): dL/dx =
    dL/dz at the place each value went (0 for one a later value overwrote)."""
    op = "max_unpool2d"
    kernel = _tuple(kernel_size, 2, "kernel_size", op)
    steps = kernel if stride is None else _tuple(stride, 2, "stride", op)
    pads = _tuple(padding, 2, "padding", op)
    x4, unbatched = _batched(x, 2)
    index = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if index.shape != x.shape:
        raise ValueError(f"{op}: indices {index.shape} must have the shape of x {x.shape}")
    if output_size is None:
        size = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[-2:], steps, pads, kernel, strict=True))
    else:
        size = tuple(int(n) for n in tuple(output_size)[-2:])
    n, c = x4.shape[:2]
    plane = Tensor._make(np.zeros((n, c, size[0] * size[1]), dtype=x.dtype), False)
    # the indices reshaped as a tensor op, not as an array: a jit replay then reads each call's own indices
    flat = (indices if isinstance(indices, Tensor) else Tensor(index, dtype=index.dtype)).reshape(n, c, -1)
    out = plane.scatter(2, flat, x4.reshape(n, c, -1))  # type: ignore[attr-defined]
    out = out.reshape((n, c) + size)
    return out.squeeze(0) if unbatched else out


def _avg_pool(x, dims, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, op):
    """The sum over each window of the zero-padded input (ops.VolumeUnfold), over PyTorch's divisor: the
    window's size within the padded input (count_include_pad), or within the input alone, or
    ``divisor_override``.   dL/dx = dL/dz over each window's divisor, spread over the window."""
    kernel, stride, _, edges, extra = _pool_geometry(x, dims, kernel_size, stride, padding, 1, ceil_mode, op)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override < 1):
        raise ValueError(f"{op}: divisor_override must be a positive int, got {divisor_override!r}")
    xb, unbatched = _batched(x, dims)
    widths = ((0, 0), (0, 0)) + tuple((b, a + e) for (b, a), e in zip(edges, extra, strict=True))
    padded = xb.pad(widths) if any(map(any, widths)) else xb
    windows = ops.VolumeUnfold.apply(padded, kernel=kernel, stride=stride, dilation=(1,) * dims)
    total = windows.sum(axis=tuple(range(2 + dims, 2 + 2 * dims)))
    if divisor_override is not None:
        divisor = np.asarray(divisor_override, dtype=x.dtype)
    else:
        divisor = _avg_divisors(xb.shape[2:], total.shape[2:], kernel, stride, edges, count_include_pad, x.dtype)
    out = total / Tensor._make(divisor, False)
    return out.squeeze(0) if unbatched else out


def _avg_divisors(sizes, counts, kernel, stride, edges, count_include_pad, dtype):
    """Each window's divisor, PyTorch's: the product over axes of the window's length inside the padded input
    (count_include_pad) or inside the input; ceil_mode's overhang past the padding never counts."""
    divisor = np.ones((), dtype=np.int64)
    for size, count, k, s, (before, after) in zip(sizes, counts, kernel, stride, edges, strict=True):
        start = np.arange(count) * s - before
        stop = np.minimum(start + k, size + after)
        if not count_include_pad:
            start, stop = np.maximum(start, 0), np.minimum(stop, size)
        divisor = np.multiply.outer(divisor, stop - start)
    return divisor.astype(dtype)


def avg_pool3d(x: Tensor, kernel_size: int | tuple[int, int, int], stride: int | tuple[int, int, int] | None = None,
               padding: int | tuple[int, ...] = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window of (N, C, D, H, W) (or (C, D, H, W)), as ``torch.nn.functional.avg_pool3d``,
    with its ``ceil_mode``, ``count_include_pad`` and ``divisor_override`` (as avg_pool2d's).   d/dx = dL/dz
    over each window's divisor, spread over the window."""
    return _avg_pool(x, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, "avg_pool3d")


def conv3d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | tuple[int, int, int] = 1,
           padding: int | tuple[int, ...] | str = 0, dilation: int | tuple[int, int, int] = 1,
           groups: int = 1) -> Tensor:
    """3-D cross-correlation, as ``torch.nn.functional.conv3d``: x (N, C, D, H, W), weight (out, C / groups,
    kd, kh, kw), bias (out,); the result is (N, out, OD, OH, OW). ``padding``: an int, three, "valid" or
    "same", or F.pad's flat six (a negative width cuts).

    im2col, as conv2d: every window laid out by ``ops.VolumeUnfold``, then one matrix product per group; the
    derivative is the chain rule through those (the input's gradient is ``VolumeFold``, the windows' gradients
    added back where they came from).
    """
    return _conv(x, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv(x, weight, bias, stride, padding, dilation, groups, dims, op):
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            ops.linalg.check_same_float(x, t, op, "input ", name + " ")
    if x.ndim != dims + 2 or weight.ndim != dims + 2:
        raise ValueError(f"{op}: input must be (N, C, {dims} spatial axes) and weight (out, in / groups, "
                         f"{dims} kernel sizes), got {x.shape} and {weight.shape}")
    out_channels, per_group = weight.shape[:2]
    kernel = weight.shape[2:]
    stride, dilation = _tuple(stride, dims, "stride", op), _tuple(dilation, dims, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1 or groups < 1:
        raise ValueError(f"{op}: stride, dilation and groups must be positive, got {stride}, {dilation}, {groups}")
    if x.shape[1] != per_group * groups or out_channels % groups:
        raise ValueError(f"{op}: input {x.shape} and weight {weight.shape} with groups={groups}: the input needs "
                         f"{per_group * groups} channels on axis 1 and the weight's {out_channels} outputs must "
                         f"divide into {groups} groups")
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"{op}: padding must be an int, ints, 'valid' or 'same', got {padding!r}")
        if padding == "same" and stride != (1,) * dims:
            raise ValueError(f"{op}: padding='same' needs stride 1 (as PyTorch)")
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)] if padding == "same" else [0] * dims
        flat = tuple(w for t in reversed(total) for w in (t // 2, t - t // 2))
    else:
        _uneven(padding, dims, op)
        flat = _flat_pad(padding, dims)
    if any(flat):
        x = pad(x, flat)
    for size, k, d in zip(x.shape[2:], kernel, dilation, strict=True):
        if size < d * (k - 1) + 1:
            raise ArgumentError(f"{op}: the padded input {x.shape} is smaller than the kernel's reach "
                                f"{d * (k - 1) + 1}")  # a ValueError, and PyTorch's RuntimeError
    cols = ops.VolumeUnfold.apply(x, kernel=kernel, stride=stride, dilation=dilation)  # (N, C, *out, *kernel)
    n, out = x.shape[0], cols.shape[2:2 + dims]
    taps, positions = per_group * math.prod(kernel), n * math.prod(out)
    # One column per output position, as conv2d lays them out: (C, *kernel, N, *out).
    columns = cols.transpose(1, *range(2 + dims, 2 + 2 * dims), 0, *range(2, 2 + dims))
    size = out_channels // groups
    outs = []
    for g in range(groups):
        part = columns if groups == 1 else columns[g * per_group:(g + 1) * per_group]
        w = weight if groups == 1 else weight[g * size:(g + 1) * size]
        outs.append(w.reshape(size, taps) @ part.reshape(taps, positions))
    result = outs[0] if groups == 1 else concatenate(outs, axis=0)  # (out, N * prod(out))
    result = result.reshape((out_channels, n) + out).transpose(1, 0, *range(2, 2 + dims))
    return result + bias.reshape((out_channels,) + (1,) * dims) if bias is not None else result


def conv_transpose3d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | tuple[int, int, int] = 1,
                     padding: int | tuple[int, int, int] = 0, output_padding: int | tuple[int, int, int] = 0,
                     groups: int = 1, dilation: int | tuple[int, int, int] = 1) -> Tensor:
    """The adjoint of conv3d, as ``torch.nn.functional.conv_transpose3d``: x (N, C, D, H, W), weight (C, out /
    groups, kd, kh, kw); each input element adds weight times its value into the output window it maps to.
    D_out = (D - 1) stride - 2 padding + dilation (kd - 1) + output_padding + 1, as conv_transpose2d.

    Composed: one matrix product per group gives every window's values, ``ops.VolumeFold`` adds them where
    they land, and the padding is cut off; the derivative is the chain rule through those.
    """
    op, dims = "conv_transpose3d", 3
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            ops.linalg.check_same_float(x, t, op, "input ", name + " ")
    if x.ndim != dims + 2 or weight.ndim != dims + 2 or x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(f"{op}: input (N, C, D, H, W) {x.shape} and weight (C, out / groups, kd, kh, kw) "
                         f"{weight.shape} with groups={groups}: the input's C must be the weight's first axis, "
                         "divisible by groups")
    steps, pads = _tuple(stride, dims, "stride", op), _tuple(padding, dims, "padding", op)
    extra, spread = _tuple(output_padding, dims, "output_padding", op), _tuple(dilation, dims, "dilation", op)
    if min(steps) < 1 or min(spread) < 1 or min(pads) < 0 or min(extra) < 0:
        raise ValueError(f"{op}: stride and dilation must be at least 1, padding and output_padding at least 0")
    if any(e >= max(s, d) for e, s, d in zip(extra, steps, spread, strict=True)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than stride {steps} or dilation {spread}")
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    per_group, kernel = weight.shape[1], weight.shape[2:]
    covered = tuple((size - 1) * s + d * (k - 1) + 1
                    for size, s, d, k in zip(spatial, steps, spread, kernel, strict=True))
    rows = x.transpose(0, *range(2, 2 + dims), 1).reshape(n * math.prod(spatial), c)  # one row per input element
    c_group = c // groups
    products = [rows[:, g * c_group:(g + 1) * c_group] @ weight[g * c_group:(g + 1) * c_group].reshape(
        c_group, per_group * math.prod(kernel)) for g in range(groups)]
    windows = products[0] if groups == 1 else concatenate(products, axis=1)
    windows = windows.reshape((n,) + spatial + (groups * per_group,) + kernel)
    windows = windows.transpose(0, 1 + dims, *range(1, 1 + dims), *range(2 + dims, 2 + 2 * dims))
    out = ops.VolumeFold.apply(windows, shape=(n, groups * per_group) + covered, stride=steps, dilation=spread)
    if any(extra):  # output_padding: places no window reaches, at the end of each axis
        out = out.pad(((0, 0), (0, 0)) + tuple((0, e) for e in extra))
    full = tuple(cv + e for cv, e in zip(covered, extra, strict=True))
    if min(f - 2 * p for f, p in zip(full, pads, strict=True)) < 1:
        raise ArgumentError(f"{op}: padding {pads} leaves no output from an input of {spatial}")
    if any(pads):
        out = out[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(pads, full, strict=True))]
    return out + bias.reshape((-1,) + (1,) * dims) if bias is not None else out


# ---- resizing (issue 29): PyTorch's interpolate, index for index ----------------------------------------------
_RESIZE_MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(x: Tensor, size: int | tuple[int, ...] | None = None,
                scale_factor: float | tuple[float, ...] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resizing of (N, C, L), (N, C, H, W) or (N, C, D, H, W), as ``torch.nn.functional.interpolate``, to
    ``size`` or ``scale_factor`` times the input (rounded down). Modes: "nearest" (PyTorch's: source index
    floor(i * scale), with scale 1 / scale_factor as given, in float32 as PyTorch computes it), "nearest-exact"
    (floor((i + 0.5) scale)), and "linear", "bilinear", "trilinear" for 3-, 4- and 5-D input (the two
    neighbours' weighted sum along each resized axis; ``align_corners`` as PyTorch's). uint8 images resize
    bilinearly with PyTorch's fixed-point weights, to the same bytes.

    Nearest is an index, so its derivative adds each output's gradient into the element it copied; linear
    modes are a gather and a weighted sum along each axis: dL/dx gets dL/dz times each weight at each source.
    """
    if mode not in _RESIZE_MODES:
        raise NotImplementedError(f"interpolate: mode must be one of {', '.join(_RESIZE_MODES)}, got {mode!r}")
    dims = x.ndim - 2
    needs = _RESIZE_MODES[mode]
    if dims not in (1, 2, 3) or (needs is not None and needs != dims):
        wanted = f"{needs + 2}-D input" if needs is not None else "3-, 4- or 5-D input"
        raise NotImplementedError(f"interpolate: mode={mode!r} needs {wanted} (N, C, ...), got shape {x.shape}")
    if align_corners is not None and needs is None:
        raise ValueError("interpolate: align_corners can only be set with the linear modes (linear, bilinear, "
                         "trilinear), as PyTorch")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not here; only antialias=False")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"interpolate: give exactly one of size and scale_factor, got size={size}, "
                         f"scale_factor={scale_factor}")
    spatial = x.shape[2:]
    if size is not None:
        out = _tuple(size, dims, "size", "interpolate")
        scales: tuple[float | None, ...] = (None,) * dims
    else:
        factors: tuple[Any, ...] = (scale_factor,) * dims if np.isscalar(scale_factor) else tuple(
            scale_factor)  # type: ignore[arg-type]  # not None here: one of size and scale_factor is given
        if len(factors) != dims:
            raise ValueError(f"interpolate: scale_factor {scale_factor} needs one factor for each of {dims} axes")
        out = tuple(int(math.floor(n * float(f))) for n, f in zip(spatial, factors, strict=True))
        scales = (None,) * dims if recompute_scale_factor else tuple(float(f) for f in factors)
    if min(out) < 1 or min(spatial) < 1:
        raise ValueError(f"interpolate: input {spatial} and output {out} sizes must be positive")
    if needs is None:
        for axis, (n_in, n_out, scale) in enumerate(zip(spatial, out, scales, strict=True)):
            if n_in != n_out or mode == "nearest-exact" or (dims != 2 and scale is not None):
                x = x[(slice(None),) * (2 + axis) + (_nearest_sources(n_in, n_out, scale, mode, dims),)]
        return x
    if x.dtype.kind != "f":
        if x.dtype != np.uint8 or mode != "bilinear":
            raise RuntimeError(f"interpolate: mode={mode!r} takes floating-point input (and uint8 for bilinear), "
                               f"got {x.dtype}")
        return Tensor._make(note(_bilinear_uint8, x._data, out, bool(align_corners), scales), False)
    weight_dtype = np.float64 if x.dtype == np.float64 else np.float32  # PyTorch's opmath type
    for axis, (n_in, n_out, scale) in enumerate(zip(spatial, out, scales, strict=True)):
        if n_in == n_out:
            continue
        first, second, weight = _linear_sources(n_in, n_out, bool(align_corners), scale, weight_dtype)
        before, after = (slice(None),) * (2 + axis), (1,) * (dims - 1 - axis)
        w1 = Tensor._make(weight.reshape((n_out,) + after).astype(x.dtype), False)
        w0 = Tensor._make((1 - weight).reshape((n_out,) + after).astype(x.dtype), False)
        x = x[before + (first,)] * w0 + x[before + (second,)] * w1
    return x


def _nearest_sources(n_in, n_out, scale, mode, dims):
    """PyTorch's nearest source index for each output index, in its float32 arithmetic (nearest_idx and
    nearest_neighbor_exact_compute_source_index): float64 would pick another row now and then. PyTorch's 2-D
    nearest kernel alone takes an output as long as the input, or twice as long, as exact (it is measured so:
    its 1-D and 3-D kernels compute those from the scale factor too)."""
    o = np.arange(n_out)
    if mode == "nearest" and dims == 2:
        if n_out == n_in:
            return o
        if n_out == 2 * n_in:
            return o // 2
    step = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    if mode == "nearest":
        source = np.floor(o.astype(np.float32) * step)
    else:  # (o + 0.5) is a double in PyTorch's C++; the product is rounded to float before floorf
        source = np.floor(((o + 0.5) * np.float64(step)).astype(np.float32))
    return np.minimum(source.astype(np.int64), n_in - 1)


def _linear_sources(n_in, n_out, align_corners, scale, dtype):
    """For each output index: the two input neighbours and the second's weight, as PyTorch's
    compute_source_index_and_lambda computes them in ``dtype``."""
    one, half = dtype(1), dtype(0.5)
    if align_corners:
        ratio = dtype(n_in - 1) / dtype(n_out - 1) if n_out > 1 else dtype(0)
        real = ratio * np.arange(n_out).astype(dtype)
    else:
        ratio = dtype(1.0 / scale) if scale is not None and scale > 0 else dtype(n_in) / dtype(n_out)
        real = np.maximum(ratio * (np.arange(n_out).astype(dtype) + half) - half, dtype(0))
    first = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    weight = np.clip(real - first.astype(dtype), 0, one).astype(dtype)
    return first, first + (first < n_in - 1), weight


def _bilinear_uint8(x, out, align_corners, scales):
    """PyTorch's uint8 bilinear resize, byte for byte: each axis in turn (width, then height), with the
    weights in fixed point (int16, PyTorch's precision) and the running sum rounded and clipped to a byte
    after each pass, as Pillow's resampling that PyTorch follows does."""
    for axis in (3, 2):
        n_in, n_out = x.shape[axis], out[axis - 2]
        if n_in == n_out:
            continue
        starts, weights, precision = _fixed_point_weights(n_in, n_out, align_corners, scales[axis - 2])
        moved = np.moveaxis(x, axis, -1).astype(np.int64)
        total = np.full(moved.shape[:-1] + (n_out,), 1 << (precision - 1), dtype=np.int64)
        for j in range(weights.shape[1]):
            total += moved[..., np.minimum(starts + j, n_in - 1)] * weights[:, j]
        x = np.moveaxis(np.clip(total >> precision, 0, 255).astype(np.uint8), -1, axis)
    return x


def _fixed_point_weights(n_in, n_out, align_corners, scale):
    """The triangle filter's weights for each output index (at most 3 taps, from ``starts``), normalised, then
    scaled to int16 with the most bits that keep the largest below 2^15 (PyTorch's _compute_int16_weights)."""
    if align_corners:
        step, delta = ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0), 0.5
    else:
        step, delta = (1.0 / scale if scale is not None and scale > 0 else n_in / n_out), 0.0
    starts = np.zeros(n_out, dtype=np.int64)
    weights = np.zeros((n_out, 3))
    for i in range(n_out):
        center = step * (i + 0.5 - delta)
        start = max(int(center - 1 + 0.5 + delta), 0)
        count = min(max(min(int(center + 1 + 0.5 + delta), n_in) - start, 0), 3)
        taps = np.maximum(0.0, 1 - np.abs(np.arange(count) + start - center + 0.5 - delta))
        if taps.sum():
            taps = taps / taps.sum()
        starts[i], weights[i, :count] = start, taps
    largest = weights.max()
    precision = 0
    while precision < 22 and int(0.5 + largest * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    scaled = weights * (1 << precision)
    return starts, np.where(scaled < 0, -0.5 + scaled, 0.5 + scaled).astype(np.int64), precision


# ---- normalisation ------------------------------------------------------------------------------
def layer_norm(x: Tensor, normalized_shape: ShapeLike, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) over the last len(normalized_shape) axes (the fused op ops.Normalize;
    var without Bessel's correction, as PyTorch), then * weight + bias.   With z the normalised x, s the
    sqrt and g = dL/dz:  dL/dx = (g - mean(g) - z mean(g z)) / s, the means over those axes."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.dtype == np.float16:  # squares of values near 1,000 overflow float16: compute in float32, as PyTorch
        weight32 = None if weight is None else weight.astype(np.float32)
        bias32 = None if bias is None else bias.astype(np.float32)
        return layer_norm(x.astype(np.float32), normalized_shape, weight32, bias32, eps=eps).astype(np.float16)
    if x.shape[x.ndim - len(normalized_shape):] != normalized_shape:
        raise ValueError(f"layer_norm: input {x.shape} does not end in normalized_shape {normalized_shape}")
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    out = ops.Normalize.apply(x, axes=axes, eps=eps)
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def batch_norm(x: Tensor, running_mean: TensorLike | None, running_var: TensorLike | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5, *, num_batches_tracked: Tensor | None = None) -> Tensor:
    """Normalise each channel (axis 1) by the batch's statistics (training) or the running ones (eval).

    In training, the running statistics (arrays or Tensors, updated in place)
    move toward the batch's: r <- (1 - momentum) r + momentum * stat, with the
    variance unbiased (n / (n - 1)) there, and biased in the normalisation, as
    in PyTorch. The gradient flows through the batch statistics: with z the
    normalised x, s = sqrt(var + eps) and g = dL/dz, dL/dx = (g - mean(g) -
    z mean(g z)) / s, the means over every axis but 1 (ops.Normalize).
    ``num_batches_tracked`` (BatchNorm's counter) is counted up in training;
    with ``momentum=None`` the n-th batch then weighs 1/n (a cumulative average).
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...), got shape {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // x.shape[1]
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input {x.shape}")
        affine = weight is not None and bias is not None and weight.shape == bias.shape == x.shape[1:2]
        if affine or running_mean is not None or running_var is not None or num_batches_tracked is not None:
            mean, var = note(_batch_statistics, x._data, axes)  # a note: a jit replay computes them again
            _update_running(running_mean, running_var, mean, var, count, momentum, num_batches_tracked)
        if affine:  # one op (ops.BatchNorm) on the statistics just computed, with its weight and bias
            return ops.BatchNorm.apply(x, weight, bias, Tensor._make(mean, False), Tensor._make(var, False), eps=eps)
        # One fused op (ops.Normalize, layer norm's core, over the batch and spatial axes) instead of eight
        # primitives: a few passes each way, no node and temporary per primitive.
        out = ops.Normalize.apply(x, axes=axes, eps=eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        # Tensor ops on the running statistics, not NumPy on their arrays: a jit replay reads them afresh.
        mean = _as_tensor(running_mean).reshape(shape).astype(x.dtype)
        std = (_as_tensor(running_var).reshape(shape) + eps).sqrt().astype(x.dtype)
        out = (x - mean) / std
    if weight is not None:
        out = out * weight.reshape(shape)
    return out + bias.reshape(shape) if bias is not None else out


def _batch_statistics(x, axes):
    """The batch's mean and variance (without Bessel's correction) per channel, for the running statistics."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    return mean, (centred * centred).mean(axis=axes, keepdims=True)


def _array(value: Any) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asanyarray(value)  # any: func.vmap's batched arrays


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._make(np.asarray(value), False)


@replayable
def _update_running(running_mean, running_var, mean, var, count, momentum, num_batches_tracked):
    """Move the running statistics toward the batch's (a jit replay makes this call again, with its own)."""
    if num_batches_tracked is not None:
        num_batches_tracked._data += 1
        num_batches_tracked.bump_version()
        if momentum is None:  # PyTorch's cumulative average: the n-th batch weighs 1/n
            momentum = 1.0 / int(num_batches_tracked._data)
    if running_mean is not None:
        _move_toward(running_mean, mean.reshape(-1), momentum)
    if running_var is not None:
        _move_toward(running_var, var.reshape(-1) * (count / (count - 1)), momentum)


def _move_toward(running, stat, momentum):
    target = _array(running)
    target *= 1 - momentum
    target += momentum * stat.astype(target.dtype)
    if isinstance(running, Tensor):
        running.bump_version()


# ---- lookup and encoding ---------------------------------------------------------------------------
def embedding(indices: TensorLike, weight: Tensor) -> Tensor:
    """weight[indices]: one row of weight per index, as ``torch.nn.functional.embedding``.

    d/dweight adds each position's gradient into the row it looked up (rows
    looked up twice get both).
    """
    indices = _array(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    # The range check is a note, so that a jit replay checks each call's indices too.
    return weight[Tensor._make(note(_rows_in_range, indices, weight.shape[0]), False)]


def _rows_in_range(indices, rows):
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError(f"embedding: index {indices.max() if indices.max() >= rows else indices.min()} "
                         f"is out of range for {rows} rows")
    return indices


def one_hot(labels: TensorLike, num_classes: int) -> Tensor:
    """(…, num_classes) int64 tensor with a 1 at each label, as ``torch.nn.functional.one_hot`` (no gradient)."""
    labels = _array(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    return Tensor._make(note(_one_hot, labels, num_classes), False)


def _one_hot(labels, num_classes):
    """The one-hot rows. The range check is here, in a note (core/jit_seam.py), so that a jit replay checks
    each call's labels too (NumPy would wrap a -1 to the last class)."""
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return np.eye(num_classes, dtype=np.int64)[labels]


def dropout(x: Tensor, p: float = 0.5, training: bool = True, rng: Seed = None) -> Tensor:
    """In training, zero each element with probability p and scale the rest by 1 / (1 - p); else x.
    d/dx = the same mask: 0 where dropped, 1 / (1 - p) where kept."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    return x * Tensor._make(draw(_dropout_scale, rng, x.shape, p, x.dtype), False)


def _dropout_scale(rng, shape, p, dtype):
    """0 with probability p, else 1 / (1 - p): drawn again on every jit replay (tracing.draw)."""
    keep = generator(rng).random(shape) >= p  # rng None: the global generator as it is now, on each replay
    return (keep / (1 - p)).astype(dtype)


# ---- losses ---------------------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, op, count=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean" and count is not None:
        # 1 / count and, when nothing counts, a NaN added (as PyTorch) whose gradient is exactly 0. Notes
        # (core/jit_seam.py) rather than Python numbers: under jit, each replay counts its own targets.
        scale = Tensor._make(note(_mean_scale, count, loss.dtype), False)
        return loss.sum() * scale + Tensor._make(note(_nan_if_empty, count, loss.dtype), False)
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def nll_loss(log_probs: Tensor, target: TensorLike, weight: TensorLike | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """-weight[c] log_probs[n, c, ...] at each position's target class c, as ``torch.nn.functional.nll_loss``:
    log_probs (N, C) or (N, C, d1, ...) (or one unbatched (C,) with a 0-d target), target (N,) or (N, d1, ...).
    ``weight`` (C,) weighs each class (1 for all when None). Positions whose target is ``ignore_index`` count
    for nothing; "mean" divides by the counted positions' total weight (NaN if nothing counts, as in PyTorch).
    dL/dlog_probs = -weight[c] at each counted position's target class (over the total weight, for "mean"),
    0 elsewhere."""
    weight = _weight_arg(weight, log_probs, "nll_loss")
    if log_probs.ndim == 1:  # one unbatched example
        loss = nll_loss(log_probs.unsqueeze(0), _array(target).reshape(1), weight, ignore_index, reduction)
        return loss.squeeze(0) if reduction == "none" else loss
    target = _targets(log_probs, target, "nll_loss")
    keep = note(np.not_equal, target, ignore_index)
    # The target's class picked out by a one-hot mask (a constant): the sum over classes keeps one term.
    mask = note(_one_hot_mask, target, keep, log_probs.shape[1], log_probs.dtype, "nll_loss")
    picked = (log_probs * Tensor._make(mask, False)).sum(axis=1)
    counted = _counted_weight(target, keep, weight, log_probs.dtype)
    loss = -picked * counted
    if weight is None or reduction != "mean":
        return _reduce(loss, reduction, "nll_loss", count=keep)
    return loss.sum() / counted.sum()


def _weight_arg(weight: Any, scores: Tensor, op: str) -> Tensor | None:
    """The class weights as a (C,) tensor of the scores' dtype, or None. A string or an int here is an argument
    that came before ``weight`` was added (PyTorch's third): refused, naming the keyword."""
    if weight is None:
        return None
    if isinstance(weight, (str, int, np.integer)):
        raise TypeError(f"{op}: the third argument is weight, a tensor of one weight a class (PyTorch's order); "
                        f"got {weight!r}: pass reduction= and ignore_index= by keyword")
    if not isinstance(weight, Tensor):
        weight = Tensor._make(np.asarray(weight, dtype=scores.dtype), False)
    classes = scores.shape[1] if scores.ndim > 1 else scores.shape[0]
    if weight.shape != (classes,):
        raise ValueError(f"{op}: weight must have one value for each of the {classes} classes, got shape "
                         f"{weight.shape}")
    ops.linalg.check_same_float(scores, weight, op, "input ", "weight ")
    return weight


def _counted_weight(target, keep, weight, dtype):
    """Each position's weight: its target class's weight (1 without weights) where it counts, 0 where ignored."""
    kept = Tensor._make(note(_as_dtype, keep, dtype), False)
    if weight is None:
        return kept
    return weight[Tensor._make(note(_kept_classes, target, keep), False)] * kept


def _kept_classes(target, keep):
    return np.where(keep, target, 0)


def cross_entropy(logits: Tensor, target: TensorLike, weight: TensorLike | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over axis 1, then the loss against the target, as ``torch.nn.functional.cross_entropy``:
    logits (N, C) or (N, C, d1, ...), or one unbatched example (C,). The target holds class indices
    (integers: nll_loss, with ``weight`` and ``ignore_index``) or class probabilities (floats of the logits'
    shape: -sum over classes of weight * target * log_softmax, and "mean" divides by the number of
    positions, as PyTorch).

    With label_smoothing ε the target is (1 - ε) on its class (or the given probabilities) plus ε / C on every
    class. For plain (N, C) logits with class indices and a "mean", ``Tensor.cross_entropy`` is the same number
    on a fused, faster path.

    dL/dlogits = softmax(logits) times the target's total weight - the (smoothed, weighted) target, at each
    counted position (over the count or total weight, for "mean"); 0 at ignored positions.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    weight = _weight_arg(weight, logits, "cross_entropy")
    target_array = _array(target)
    if logits.ndim == 1:  # one unbatched example: a 0-d class index, or (C,) probabilities
        probabilities = target_array.dtype.kind == "f"
        batched_target = (target.unsqueeze(0) if isinstance(target, Tensor) else target_array[None]) if (
            probabilities) else target_array.reshape(1)
        loss = cross_entropy(logits.unsqueeze(0), batched_target, weight, ignore_index, reduction, label_smoothing)
        return loss.squeeze(0) if reduction == "none" else loss
    log_probs = logits.log_softmax(axis=1)
    if target_array.dtype.kind == "f":
        return _cross_entropy_probabilities(log_probs, target, weight, reduction, label_smoothing)
    target = _targets(logits, target, "cross_entropy")
    if not label_smoothing:
        return nll_loss(log_probs, target, weight, ignore_index=ignore_index, reduction=reduction)
    keep = note(np.not_equal, target, ignore_index)
    nll = nll_loss(log_probs, target, weight, ignore_index=ignore_index, reduction="none")
    weighted = log_probs if weight is None else log_probs * weight.reshape((-1,) + (1,) * (logits.ndim - 2))
    kept = Tensor._make(note(_as_dtype, keep, logits.dtype), False)
    uniform = -weighted.sum(axis=1) * (1.0 / logits.shape[1]) * kept
    loss = nll * (1.0 - label_smoothing) + uniform * label_smoothing
    if weight is None or reduction != "mean":
        return _reduce(loss, reduction, "cross_entropy", count=keep)
    return loss.sum() / _counted_weight(target, keep, weight, logits.dtype).sum()


def _cross_entropy_probabilities(log_probs, target, weight, reduction, label_smoothing):
    """PyTorch's cross-entropy against class probabilities (a float target of the logits' shape)."""
    shape = target.shape if isinstance(target, Tensor) else np.shape(target)
    if tuple(shape) != log_probs.shape:
        raise RuntimeError(f"cross_entropy: a floating-point target holds class probabilities and must have the "
                           f"input's shape {log_probs.shape}, got {tuple(shape)}; class indices must be integers")
    target = target if isinstance(target, Tensor) else log_probs._operand(target)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / log_probs.shape[1]
    terms = log_probs * target
    if weight is not None:
        terms = terms * weight.reshape((-1,) + (1,) * (log_probs.ndim - 2))
    return _reduce(-terms.sum(axis=1), reduction, "cross_entropy")


def _targets(scores: Tensor, target: TensorLike, op: str) -> np.ndarray:
    target = _array(target)
    if scores.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C) or (N, C, d1, ...), got shape {scores.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (integers), got dtype {target.dtype}")
    expected = scores.shape[:1] + scores.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{op}: input {scores.shape} needs a target of shape {expected}, got {target.shape}")
    return note(np.array, target)  # a copy: backward must not see the caller's later changes


def _one_hot_mask(target, keep, classes, dtype, op):
    """A mask shaped like the scores, 1 at each kept position's target class (on axis 1). The range check is
    here, in a note (core/jit_seam.py), so that a jit replay checks each call's targets too."""
    return np.ascontiguousarray(np.moveaxis(_one_hot_last(target, keep, classes, dtype, op), -1, 1))


def _one_hot_last(target, keep, classes, dtype, op):
    """_one_hot_mask with the class axis last: the same for any leading axes (func.vmap's batch axes too)."""
    target, keep = np.broadcast_arrays(target, keep)
    kept = target[keep]
    if kept.size and (kept.min() < 0 or kept.max() >= classes):
        bad = kept[(kept < 0) | (kept >= classes)][0]
        raise ValueError(f"{op}: target {bad} is out of range for {classes} classes (0..{classes - 1})")
    return np.eye(classes, dtype=dtype)[np.where(keep, target, 0)]


def _as_dtype(array, dtype):
    return array.astype(dtype)


def _mean_scale(keep, dtype):
    count = int(keep.sum())
    return np.asarray(1.0 / count if count else 0.0, dtype=dtype)


def _nan_if_empty(keep, dtype):
    return np.asarray(0.0 if keep.any() else math.nan, dtype=dtype)


def _same_shape(x, target, op):
    """Input and target must have one shape: broadcasting (4, 1) against (4,) would compare every input with
    every target and average 16 pairs, a wrong answer with no error (PyTorch only warns)."""
    shape = target.shape if isinstance(target, Tensor) else np.shape(target)  # a batched target's: one example's
    if tuple(shape) != x.shape:
        raise ValueError(f"{op}: input {x.shape} and target {tuple(shape)} differ in shape; give the target the "
                         "input's shape (reshape one of them)")


def mse_loss(x: Tensor, target: TensorLike, reduction: str = "mean") -> Tensor:
    """(x - target)², as ``torch.nn.functional.mse_loss``.   d/dx = 2 (x - target) (then reduced)."""
    _same_shape(x, target, "mse_loss")
    diff = x - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(x: Tensor, target: TensorLike, reduction: str = "mean") -> Tensor:
    """|x - target|, as ``torch.nn.functional.l1_loss``.   d/dx = sign(x - target), 0 where equal."""
    _same_shape(x, target, "l1_loss")
    return _reduce((x - target).abs(), reduction, "l1_loss")


def binary_cross_entropy(p: Tensor, target: TensorLike, weight: TensorLike | None = None,
                         reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p and targets t in [0, 1], as PyTorch's: each log
    clamped at -100, so p = 0 or 1 gives a finite loss, and times ``weight`` (broadcast) when given
    (ops.BinaryCrossEntropy). Values outside [0, 1] are refused, in p and in t.   dL/dp = (p - t) / max(p (1 -
    p), 1e-12), PyTorch's rule, finite at p = 0 and 1 too; dL/dt = log(1 - p) - log p, clamped alike. For
    logits, binary_cross_entropy_with_logits is exact and stable."""
    weight = _loss_weight(weight, p, "binary_cross_entropy")
    _same_shape(p, target, "binary_cross_entropy")
    target = target if isinstance(target, Tensor) else p._operand(target)
    note(_check_probabilities, p._data, target._data)
    loss = ops.BinaryCrossEntropy.apply(p, target)
    return _reduce(loss * weight if weight is not None else loss, reduction, "binary_cross_entropy")


def _check_probabilities(p, t):
    """PyTorch's checks, in a note so that each jit replay checks its own values."""
    for name, values in (("input", p), ("target", t)):
        if values.size and not ((values >= 0) & (values <= 1)).all():
            bad = values[~((values >= 0) & (values <= 1))].flat[0]
            hint = "; for logits use binary_cross_entropy_with_logits" if name == "input" else ""
            raise ValueError(f"binary_cross_entropy: every {name} must be in [0, 1], got {bad}{hint}")
    return p


def _loss_weight(weight: Any, x: Tensor, op: str) -> Tensor | None:
    """A loss's elementwise ``weight`` (PyTorch's third argument) as a tensor, or None. A string here is the
    reduction, passed by position as before ``weight`` was added: refused, naming the keyword."""
    if weight is None:
        return None
    if isinstance(weight, str):
        raise TypeError(f"{op}: the third argument is weight (PyTorch's order), got {weight!r}; pass "
                        f"reduction={weight!r} by keyword")
    return weight if isinstance(weight, Tensor) else x._operand(weight)


def binary_cross_entropy_with_logits(x: Tensor, target: TensorLike, weight: TensorLike | None = None,
                                     reduction: str = "mean", pos_weight: TensorLike | None = None) -> Tensor:
    """-(w_p t log σ(x) + (1 - t) log(1 - σ(x))) times ``weight``, as PyTorch's, computed as (1 - t) x + (1 +
    (w_p - 1) t) softplus(-x), which cannot overflow (softplus(x) - t x without ``pos_weight``).
    ``pos_weight`` w_p weighs the positive term, one value for each class (the last axis; broadcast).
    d/dx = σ(x) - t without pos_weight; (1 + (w_p - 1) t) σ(x) - w_p t with it; times weight."""
    weight = _loss_weight(weight, x, "binary_cross_entropy_with_logits")
    _same_shape(x, target, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = x.softplus() - x * target
    else:
        target = target if isinstance(target, Tensor) else x._operand(target)
        pos_weight = pos_weight if isinstance(pos_weight, Tensor) else x._operand(pos_weight)
        loss = (1.0 - target) * x + ((pos_weight - 1.0) * target + 1.0) * (-x).softplus()
    return _reduce(loss * weight if weight is not None else loss, reduction, "binary_cross_entropy_with_logits")


# ---- group norm and channel dropout (issue 29) -----------------------------------------------------------
__all__ += ["group_norm", "dropout2d"]


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """x (N, C, *) with its C channels split into ``num_groups`` groups, each example's group normalised over
    its channels and positions ((x - mean) / sqrt(var + eps), var without Bessel's correction), then
    * weight + bias per channel, as ``torch.nn.functional.group_norm``. The normalisation is ops.Normalize on x
    reshaped to (N, num_groups, rest), so its derivative is layer_norm's: with z the normalised x, s the sqrt and
    g = dL/dz, dL/dx = (g - mean(g) - z mean(g z)) / s, the means over each group."""
    if x.ndim < 2:
        raise ValueError(f"group_norm: input must be (N, C, *), got shape {x.shape}")
    channels = x.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(f"group_norm: expected the number of channels in the input ({channels}, of shape "
                         f"{x.shape}) to be divisible by num_groups={num_groups}")
    if x.dtype == np.float16:  # as layer_norm: squares overflow float16, so compute in float32 as PyTorch does
        weight32 = None if weight is None else weight.astype(np.float32)
        bias32 = None if bias is None else bias.astype(np.float32)
        return group_norm(x.astype(np.float32), num_groups, weight32, bias32, eps).astype(np.float16)
    per_group = math.prod(x.shape[1:]) // num_groups
    out = ops.Normalize.apply(x.reshape((x.shape[0], num_groups, per_group)), axes=(2,), eps=eps).reshape(x.shape)
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out + bias.reshape(shape) if bias is not None else out


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True, rng: Seed = None) -> Tensor:
    """In training, zero whole channels of x (N, C, H, W), each with probability p, and scale the rest by
    1 / (1 - p); else x. d/dx = the same mask: 0 on a dropped channel, 1 / (1 - p) on a kept one.

    Only 4-D input: PyTorch reads a 3-D one as (N, C, L) with a warning that it will read it as (C, H, W) in a
    later release; either reading could be the wrong one for a given caller, so it is refused here."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p}")
    if x.ndim != 4:
        hint = ("for one image (C, H, W) add the batch axis, x[None]; for (N, C, L) use x[..., None]" if x.ndim == 3
                else "for elementwise dropout use F.dropout")
        raise ValueError(f"dropout2d: input must be (N, C, H, W), got shape {x.shape}; {hint}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    return x * Tensor._make(draw(_dropout_scale, rng, x.shape[:2] + (1, 1), p, x.dtype), False)
