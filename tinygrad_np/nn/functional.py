"""``tinygrad_np.nn.functional`` (import it as ``F``): layers as plain functions, PyTorch's names and arguments.

Everything here is composed from the engine's ops, so each function's
derivative is the chain rule through those ops, and derivatives of any order
work. Images are NCHW, sequences NCL, as in PyTorch.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..composed import stack
from ..core.arguments import refuse_pytorch_names
from ..core.jit_seam import draw, note, replayable
from ..core.tensor import Tensor
from ..numpy_functions import concatenate, where
from ..typing import Pair, Seed, ShapeLike, TensorLike

__all__ = [
    "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "layer_norm", "batch_norm", "embedding", "one_hot",
    "dropout", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits",
    "relu", "sigmoid", "tanh", "softplus", "gelu", "silu", "leaky_relu", "elu", "softmax", "log_softmax",
    "relu6", "hardtanh", "hardswish", "softsign", "mish", "celu", "binary_cross_entropy",
    "scaled_dot_product_attention", "conv_transpose2d", "adaptive_avg_pool2d", "interpolate", "pad", "linear",
]


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


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), without overflow (``x.softplus()``).   d/dx = sigmoid(x)."""
    return x.softplus()


def gelu(x: Tensor) -> Tensor:
    """The tanh approximation (PyTorch's ``gelu(x, approximate="tanh")``): 0.5 x (1 + t), t = tanh(c (x + a x³)),
    c = √(2/π), a = 0.044715.   d/dx = 0.5 (1 + t) + 0.5 x (1 - t²) c (1 + 3 a x²) (ops.Gelu)."""
    return x.gelu()


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
    """min(max(x, 0), 6) (``x.relu6()``).   d/dx = 1 between 0 and 6, else 0."""
    return x.relu6()


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x limited to [min_val, max_val] (``x.hardtanh(min_val, max_val)``).   d/dx = 1 inside, else 0."""
    return x.hardtanh(min_val, max_val)


def hardswish(x: Tensor) -> Tensor:
    """x relu6(x + 3) / 6 (``x.hardswish()``).   d/dx = 0 below -3, 1 above 3, (2x + 3) / 6 between."""
    return x.hardswish()


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
                                 rng: Seed = None) -> Tensor:
    """softmax(q kᵀ · scale + mask) v, as PyTorch's: q (..., L, E), k (..., S, E), v (..., S, Ev); scale
    1/√E by default. ``attn_mask``: boolean (True = may attend) or added to the scores; ``is_causal``: position
    i attends to j <= i. Composed from matmul, where and softmax, so its derivative is theirs."""
    if attn_mask is not None and is_causal:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both (as PyTorch)")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query @ key.swapaxes(-1, -2) * scale
    if is_causal:
        attn_mask = np.tri(query.shape[-2], key.shape[-2], dtype=bool)
    if attn_mask is not None:
        mask = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        scores = _masked(scores, attn_mask, mask)
    weights = scores.softmax(axis=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, True, rng)
    return weights @ value


def _masked(scores, attn_mask, mask):
    """A boolean mask keeps the scores where it is True and makes the rest -inf; any other mask is added."""
    if mask.dtype == bool:
        return where(attn_mask if isinstance(attn_mask, Tensor) else mask, scores, -np.inf)
    return scores + attn_mask


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
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive and padding non-negative, "
                         f"got {kernel}, {stride}, {dilation}, {padding}")
    if any(padding):
        x = x.pad(((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])), value=pad_value)
    for size, k, s, d, axis in zip(x.shape[2:], kernel, stride, dilation, ("height", "width"), strict=True):
        if ops.window.output_size(size, k, s, d) < 1:
            raise ValueError(f"{op}: the padded input's {axis} {size} is smaller than the kernel's reach "
                             f"{d * (k - 1) + 1}")
    return ops.Unfold.apply(x, kernel=kernel, stride=stride, dilation=dilation)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Pair = 1, padding: Pair | str = 0,
           dilation: Pair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``: x (N, C, H, W), weight
    (out, C / groups, kh, kw), bias (out,); the result is (N, out, OH, OW). ``padding`` is an int, a pair,
    or PyTorch's "valid" (none) or "same" (the output as large as the input; stride 1 only; an odd total pad
    puts the extra row and column at the end, as PyTorch).

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

    conv2d on a height-1 image (composed), so its derivative is conv2d's.
    """
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d: input must be (N, C, L) and weight (out, in / groups, k), "
                         f"got {x.shape} and {weight.shape}")
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, stride=(1, _single(stride, "stride")),
                 padding=(0, _single(padding, "padding")), dilation=(1, _single(dilation, "dilation")),
                 groups=groups)
    return out.squeeze(2)


def _single(value: Any, name: str) -> Any:
    """conv1d's stride, padding or dilation: an int or a 1-tuple. A longer tuple is refused, not cut short."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise TypeError(f"conv1d: {name} must be an int or a 1-tuple, got {tuple(value)}")
        value = value[0]
    return value


def max_pool2d(x: Tensor, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0,
               dilation: Pair = 1) -> Tensor:
    """The largest value of each window, as ``torch.nn.functional.max_pool2d`` (padding counts as -inf; a
    ``dilation`` spreads each window's taps that far apart).

    d/dx = dL/dz at each window's first maximum, 0 elsewhere: PyTorch's rule
    (``ops.WindowMax``). When the windows tile the image (stride = kernel, no
    padding), the image is only viewed as (N, C, OH, kh, OW, kw); otherwise
    ``Unfold`` lays the windows out.
    """
    stride = kernel_size if stride is None else stride
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


def avg_pool2d(x: Tensor, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool2d`` (padding counts as zeros).

    d/dx = dL/dz / (kh kw), spread over the window.
    """
    stride = kernel_size if stride is None else stride
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
    indexing, so its derivative is theirs: the padding's gradient dropped, a cut part's zero)."""
    if mode != "constant":
        raise ValueError(f"F.pad: only mode='constant' is here, got {mode!r}")
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
    if any(b > 0 or a > 0 for b, a in widths):
        x = x.pad([(max(b, 0), max(a, 0)) for b, a in widths], value=value)
    if any(b < 0 or a < 0 for b, a in widths):
        x = x[tuple(slice(-min(b, 0), x.shape[i] + min(a, 0) if a < 0 else None)
                    for i, (b, a) in enumerate(widths))]
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
        raise ValueError(f"{op}: padding {padding} leaves no output from an input of {h}x{w}")
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


def interpolate(x: Tensor, size: Pair | None = None, scale_factor: float | tuple[float, float] | None = None,
                mode: str = "nearest") -> Tensor:
    """Nearest-neighbour resizing of (N, C, H, W), as ``torch.nn.functional.interpolate(mode="nearest")``:
    output pixel (i, j) copies input (floor(i / scale_h), floor(j / scale_w)) (an index, so its derivative
    adds each output's gradient back into the pixel it copied)."""
    if mode != "nearest":
        raise ValueError(f"interpolate: only mode='nearest' is here, got {mode!r}")
    if x.ndim != 4 or (size is None) == (scale_factor is None):
        raise ValueError(f"interpolate: give (N, C, H, W) input and exactly one of size and scale_factor, "
                         f"got shape {x.shape}, size={size}, scale_factor={scale_factor}")
    h, w = x.shape[2:]
    if size is not None:
        out = _pair(size, "size", "interpolate")
        scale = (h / out[0], w / out[1])
    else:
        factor: Any = scale_factor  # a number, or one for each axis
        factors = (factor, factor) if np.isscalar(factor) else tuple(factor)
        out = (int(h * factors[0]), int(w * factors[1]))
        scale = (1 / factors[0], 1 / factors[1])
    rows = np.minimum(np.floor(np.arange(out[0]) * scale[0]).astype(np.int64), h - 1)
    cols = np.minimum(np.floor(np.arange(out[1]) * scale[1]).astype(np.int64), w - 1)
    return x[:, :, rows[:, None], cols[None, :]]


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
    in PyTorch. The gradient flows through the batch statistics (composed).
    ``num_batches_tracked`` (BatchNorm's counter) is counted up in training;
    with ``momentum=None`` the n-th batch then weighs 1/n (a cumulative average).
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...), got shape {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        count = x.size // x.shape[1]
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input {x.shape}")
        _update_running(running_mean, running_var, mean._data, var._data, count, momentum, num_batches_tracked)
        out = centred / (var + eps).sqrt()
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
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return Tensor._make(note(_one_hot, labels, num_classes), False)


def _one_hot(labels, num_classes):
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
    keep = np.random.default_rng(rng).random(shape) >= p
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


def nll_loss(log_probs: Tensor, target: TensorLike, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-log_probs[n, target[n], ...] per position, as ``torch.nn.functional.nll_loss``: log_probs (N, C) or
    (N, C, d1, ...), target (N,) or (N, d1, ...). Positions whose target is ``ignore_index`` count for
    nothing; "mean" divides by the positions that count (NaN if none do, as in PyTorch).   dL/dlog_probs = -1
    at each counted position's target class (over the count, for "mean"), 0 elsewhere."""
    target = _targets(log_probs, target, "nll_loss")
    keep = note(np.not_equal, target, ignore_index)
    # The target's class picked out by a one-hot mask (a constant): the sum over classes keeps one term.
    mask = note(_one_hot_mask, target, keep, log_probs.shape[1], log_probs.dtype, "nll_loss")
    picked = (log_probs * Tensor._make(mask, False)).sum(axis=1)
    loss = -picked * Tensor._make(note(_as_dtype, keep, log_probs.dtype), False)
    return _reduce(loss, reduction, "nll_loss", count=keep)


def cross_entropy(logits: Tensor, target: TensorLike, ignore_index: int = -100, label_smoothing: float = 0.0,
                  reduction: str = "mean") -> Tensor:
    """log_softmax over axis 1, then nll_loss, as ``torch.nn.functional.cross_entropy``.

    With label_smoothing ε the target is (1 - ε) on its class and ε / C on
    every class: the loss adds ε times the mean of -log p over the classes.
    For plain (N, C) logits with a "mean", ``Tensor.cross_entropy`` is the
    same number on a fused, faster path.

    dL/dlogits = softmax(logits) - the (smoothed) target, at each counted
    position (over the count, for "mean"); 0 at ignored positions.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = _targets(logits, target, "cross_entropy")
    log_probs = logits.log_softmax(axis=1)
    if not label_smoothing:
        return nll_loss(log_probs, target, ignore_index=ignore_index, reduction=reduction)
    keep = note(np.not_equal, target, ignore_index)
    nll = nll_loss(log_probs, target, ignore_index=ignore_index, reduction="none")
    uniform = -log_probs.mean(axis=1) * Tensor._make(note(_as_dtype, keep, logits.dtype), False)
    loss = nll * (1.0 - label_smoothing) + uniform * label_smoothing
    return _reduce(loss, reduction, "cross_entropy", count=keep)


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
    kept = target[keep]
    if kept.size and (kept.min() < 0 or kept.max() >= classes):
        bad = kept[(kept < 0) | (kept >= classes)][0]
        raise ValueError(f"{op}: target {bad} is out of range for {classes} classes (0..{classes - 1})")
    mask = np.moveaxis(np.eye(classes, dtype=dtype)[np.where(keep, target, 0)], -1, 1)
    return np.ascontiguousarray(mask)


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


def binary_cross_entropy(p: Tensor, target: TensorLike, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1], as PyTorch's, which clamps each log at
    -100 so that p = 0 or 1 gives a finite loss (clip).   d/dp = (p - t) / (p (1 - p)) where no log is clamped.
    For logits, binary_cross_entropy_with_logits is exact and stable."""
    _same_shape(p, target, "binary_cross_entropy")
    note(_check_probabilities, p._data)
    target = target if isinstance(target, Tensor) else p._operand(target)
    loss = -(target * p.log().clip(min=-100.0) + (1.0 - target) * (1.0 - p).log().clip(min=-100.0))
    return _reduce(loss, reduction, "binary_cross_entropy")


def _check_probabilities(p):
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"binary_cross_entropy: inputs must be probabilities in [0, 1], got values from {p.min()} "
                         f"to {p.max()}; for logits use binary_cross_entropy_with_logits")
    return p


def binary_cross_entropy_with_logits(x: Tensor, target: TensorLike, reduction: str = "mean") -> Tensor:
    """-(t log σ(x) + (1 - t) log(1 - σ(x))), as PyTorch's, computed as softplus(x) - t x
    (no overflow for any x).   d/dx = σ(x) - t."""
    _same_shape(x, target, "binary_cross_entropy_with_logits")
    return _reduce(x.softplus() - x * target, reduction, "binary_cross_entropy_with_logits")


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
