"""Layers, each a Module with PyTorch's name, arguments, parameter names, shapes and initialisation,
so a PyTorch state_dict loads name for name. The computation is in ``functional``."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..core.arguments import axis_arg
from ..core.tensor import Tensor
from ..generators import generator, own_generator
from ..typing import DType, Pair, Seed, ShapeLike, TensorLike
from . import functional as F
from .init import kaiming_uniform_, normal_, uniform_
from .module import Module


def _parameter(shape: tuple[int, ...], dtype: DType) -> Tensor:
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=True)


def _pytorch_default(weight: Tensor, bias: Tensor | None, fan_in: int, rng: np.random.Generator) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=√5), i.e. U(±1/√fan_in), bias likewise."""
    kaiming_uniform_(weight, a=math.sqrt(5), rng=rng)
    if bias is not None:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, rng=rng)


class Linear(Module):
    """y = x @ weightᵀ + bias, weight (out_features, in_features), bias (out_features,).

    ``init``: 'pytorch' (kaiming_uniform_ with a=√5, PyTorch's default), 'he'
    (kaiming_uniform_ with a=0, for ReLU networks), or a callable
    ``(shape, rng) -> array``. The bias is U(±1/√in_features) as in PyTorch.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str | Callable[[tuple[int, int], np.random.Generator], np.ndarray] = "pytorch", rng: Seed = None,
                 dtype: DType = np.float32) -> None:
        rng = generator(rng)  # None: the global generator (tg.manual_seed)
        self.in_features, self.out_features = in_features, out_features
        self.weight = _parameter((out_features, in_features), dtype)
        self.bias = _parameter((out_features,), dtype) if bias else None
        _pytorch_default(self.weight, self.bias, in_features, rng)
        if callable(init):
            self.weight.data[...] = init((out_features, in_features), rng)
        elif init == "he":
            kaiming_uniform_(self.weight, a=0.0, rng=rng)
        elif init != "pytorch":
            raise ValueError(f"Linear: init must be 'pytorch', 'he' or a callable, got {init!r}")

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _conv_repr(conv: Any) -> str:
    """PyTorch's printout of a convolution: the channels, kernel_size and stride always, as tuples of one entry
    per spatial axis; padding, dilation, output_padding, groups and bias only where they are not the default."""
    axes = len(conv.kernel_size)

    def spread(value: Any) -> Any:
        if isinstance(value, str):  # padding="same" or "valid", shown as PyTorch does: padding=same
            return value
        return tuple(value) if isinstance(value, (tuple, list)) else (value,) * axes

    text = f"{conv.in_channels}, {conv.out_channels}, kernel_size={conv.kernel_size}, stride={spread(conv.stride)}"
    for name, default in (("padding", 0), ("dilation", 1), ("output_padding", 0)):
        value = spread(getattr(conv, name, default))
        if value != (default,) * axes:
            text += f", {name}={value}"
    if conv.groups != 1:
        text += f", groups={conv.groups}"
    return text + (", bias=False" if conv.bias is None else "")


class _Conv(Module):
    """What Conv1d and Conv2d share: the argument checks, the parameters, PyTorch's initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, ...], stride: Any, padding: Any,
                 dilation: Any, groups: int, bias: bool, rng: Seed, dtype: DType) -> None:
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels {in_channels} and out_channels {out_channels} "
                             f"must both divide into groups={groups}")
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.weight = _parameter((out_channels, in_channels // groups) + kernel, dtype)
        self.bias = _parameter((out_channels,), dtype) if bias else None
        _pytorch_default(self.weight, self.bias, in_channels // groups * math.prod(kernel), generator(rng))

    def extra_repr(self) -> str:
        return _conv_repr(self)


class Conv2d(_Conv):
    """F.conv2d with weight (out_channels, in_channels / groups, kh, kw) and bias (out_channels,)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair, stride: Pair = 1,
                 padding: Pair | str = 0, dilation: Pair = 1, groups: int = 1, bias: bool = True, rng: Seed = None,
                 dtype: DType = np.float32) -> None:
        kernel = F._pair(kernel_size, "kernel_size", "Conv2d")
        super().__init__(in_channels, out_channels, kernel, stride, padding, dilation, groups, bias, rng, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """F.conv1d with weight (out_channels, in_channels / groups, k) and bias (out_channels,)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int], stride: int | tuple[int] = 1,
                 padding: int | tuple[int] = 0, dilation: int | tuple[int] = 1, groups: int = 1, bias: bool = True,
                 rng: Seed = None, dtype: DType = np.float32) -> None:
        kernel = (F._single(kernel_size, "kernel_size"),)
        super().__init__(in_channels, out_channels, kernel, stride, padding, dilation, groups, bias, rng, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(Module):
    """F.conv_transpose2d with weight (in_channels, out_channels / groups, kh, kw) and bias (out_channels,),
    PyTorch's layout and initialisation (its fan-in is the weight's second axis times the kernel)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair, stride: Pair = 1, padding: Pair = 0,
                 output_padding: Pair = 0, groups: int = 1, bias: bool = True, dilation: Pair = 1, rng: Seed = None,
                 dtype: DType = np.float32) -> None:
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvTranspose2d: in_channels {in_channels} and out_channels {out_channels} must "
                             f"both divide into groups={groups}")
        kernel = F._pair(kernel_size, "kernel_size", "ConvTranspose2d")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.groups, self.dilation = groups, dilation
        self.weight = _parameter((in_channels, out_channels // groups) + kernel, dtype)
        self.bias = _parameter((out_channels,), dtype) if bias else None
        _pytorch_default(self.weight, self.bias, out_channels // groups * math.prod(kernel), generator(rng))

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

    def extra_repr(self) -> str:
        return _conv_repr(self)


# ---- issue 29: 3-D convolution and pooling, unpooling -------------------------------------------------------
def _triple(value: Any, name: str, op: str) -> tuple[int, int, int]:
    values = F._tuple(value, 3, name, op)
    return values[0], values[1], values[2]


class Conv3d(_Conv):
    """F.conv3d with weight (out_channels, in_channels / groups, kd, kh, kw) and bias (out_channels,), PyTorch's
    names and initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int, int],
                 stride: int | tuple[int, int, int] = 1, padding: int | tuple[int, ...] | str = 0,
                 dilation: int | tuple[int, int, int] = 1, groups: int = 1, bias: bool = True, rng: Seed = None,
                 dtype: DType = np.float32) -> None:
        kernel = _triple(kernel_size, "kernel_size", "Conv3d")
        super().__init__(in_channels, out_channels, kernel, stride, padding, dilation, groups, bias, rng, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv3d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose3d(Module):
    """F.conv_transpose3d with weight (in_channels, out_channels / groups, kd, kh, kw) and bias (out_channels,),
    PyTorch's layout and initialisation (as ConvTranspose2d's)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int, int],
                 stride: int | tuple[int, int, int] = 1, padding: int | tuple[int, int, int] = 0,
                 output_padding: int | tuple[int, int, int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int, int, int] = 1, rng: Seed = None, dtype: DType = np.float32) -> None:
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvTranspose3d: in_channels {in_channels} and out_channels {out_channels} must "
                             f"both divide into groups={groups}")
        kernel = _triple(kernel_size, "kernel_size", "ConvTranspose3d")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.groups, self.dilation = groups, dilation
        self.weight = _parameter((in_channels, out_channels // groups) + kernel, dtype)
        self.bias = _parameter((out_channels,), dtype) if bias else None
        _pytorch_default(self.weight, self.bias, out_channels // groups * math.prod(kernel),
                         generator(rng))

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose3d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

    def extra_repr(self) -> str:
        return _conv_repr(self)


class AvgPool3d(Module):
    """F.avg_pool3d over windows of ``kernel_size``, ``stride`` apart (the kernel size when None), with
    PyTorch's ceil_mode, count_include_pad and divisor_override."""

    def __init__(self, kernel_size: int | tuple[int, int, int], stride: int | tuple[int, int, int] | None = None,
                 padding: int | tuple[int, ...] = 0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride  # what PyTorch stores and shows
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class MaxUnpool2d(Module):
    """F.max_unpool2d: ``unpool(x, indices, output_size=None)`` puts each value of a max_pool2d(...,
    return_indices=True) back where its indices say, zeros elsewhere."""

    def __init__(self, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> None:
        self.kernel_size = F._pair(kernel_size, "kernel_size", "MaxUnpool2d")
        self.stride = self.kernel_size if stride is None else F._pair(stride, "stride", "MaxUnpool2d")
        self.padding = F._pair(padding, "padding", "MaxUnpool2d")

    def forward(self, x: Tensor, indices: TensorLike, output_size: Any = None) -> Tensor:
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """F.adaptive_avg_pool2d to ``output_size`` ((1, 1): global average pooling)."""

    def __init__(self, output_size: Pair) -> None:
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Upsample(Module):
    """F.interpolate with ``size`` or ``scale_factor``, nearest neighbour by default (PyTorch's default mode),
    or any of interpolate's modes with its ``align_corners`` and ``recompute_scale_factor``."""

    def __init__(self, size: int | tuple[int, ...] | None = None, scale_factor: float | tuple[float, ...] | None = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        # PyTorch keeps scale_factor as a float (or a tuple of them), and shows it rather than size when given.
        if self.scale_factor is not None:
            factor = self.scale_factor
            shown = tuple(float(f) for f in factor) if isinstance(factor, (tuple, list)) else float(factor)
            return f"scale_factor={shown!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"


class MaxPool2d(Module):
    """F.max_pool2d over windows of ``kernel_size``, ``stride`` apart (the kernel size when None). PyTorch's
    ``return_indices`` and ``ceil_mode`` are taken at their defaults, False; True is refused, not ignored."""

    def __init__(self, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0, dilation: Pair = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        for name, value in (("return_indices", return_indices), ("ceil_mode", ceil_mode)):
            if value:
                raise ValueError(f"MaxPool2d: {name}=True is not here; only {name}=False (PyTorch's default)")
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.ceil_mode = ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride  # what PyTorch stores and shows
        return (f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}, dilation={self.dilation}, "
                f"ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """F.avg_pool2d over windows of ``kernel_size``, ``stride`` apart (the kernel size when None)."""

    def __init__(self, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> None:
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class _BatchNorm(Module):
    """weight (ones) and bias (zeros) of shape (C,); buffers running_mean (zeros), running_var (ones) and
    num_batches_tracked, as PyTorch's. Training uses and updates batch statistics; eval uses the running ones.
    ``bias=False`` (keyword only, as PyTorch's) keeps the weight and drops the bias."""

    dims: tuple[int, ...] = ()  # the input's number of dimensions: 2 or 3 for BatchNorm1d, 4 for BatchNorm2d
    running_mean: Tensor  # the buffers, registered only with track_running_stats
    running_var: Tensor
    num_batches_tracked: Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype: DType = np.float32, *, bias: bool = True) -> None:
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Tensor(np.ones(num_features, dtype), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(num_features, dtype), requires_grad=True) if affine and bias else None
        self.track_running_stats = track_running_stats
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input of {' or '.join(map(str, self.dims))} dimensions with "
                             f"{self.num_features} channels on axis 1, got shape {x.shape}")
        use_batch = self.training or not self.track_running_stats
        mean, var = (self.running_mean, self.running_var) if self.track_running_stats else (None, None)
        counter = self.num_batches_tracked if self.training and self.track_running_stats else None
        return F.batch_norm(x, mean, var, self.weight, self.bias, training=use_batch, momentum=self.momentum,
                            eps=self.eps, num_batches_tracked=counter)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.weight is not None}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs."""

    dims = (4,)


class LayerNorm(Module):
    """F.layer_norm over the last axes, weight (ones) and bias (zeros) of normalized_shape; ``bias=False`` keeps
    the weight and drops the bias, as PyTorch's."""

    def __init__(self, normalized_shape: ShapeLike, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: DType = np.float32) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = Tensor(np.ones(shape, dtype), requires_grad=True) if elementwise_affine else None
        self.bias = Tensor(np.zeros(shape, dtype), requires_grad=True) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A table of num_embeddings rows of embedding_dim, weight ~ N(0, 1) as in PyTorch; forward looks rows up."""

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: Seed = None, dtype: DType = np.float32) -> None:
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = _parameter((num_embeddings, embedding_dim), dtype)
        normal_(self.weight, rng=rng)

    def forward(self, indices: TensorLike) -> Tensor:
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Flatten(Module):
    """Flatten axes start_dim..end_dim into one (PyTorch's argument names; default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        start = axis_arg(self.start_dim, x.ndim, "Flatten", "start_dim")
        end = axis_arg(self.end_dim, x.ndim, "Flatten", "end_dim")
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim}")
        # The flattened length written out, not -1: an empty batch has no -1 to infer (PyTorch gives (0, n)).
        return x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """max(x, 0), elementwise (``x.relu()``)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class GELU(Module):
    """x Φ(x), as PyTorch's GELU: exact (erf) by default, the tanh approximation with ``approximate="tanh"``."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh' (PyTorch's), got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return x.gelu(self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.silu()


class LeakyReLU(Module):
    """x for x > 0, else negative_slope * x, elementwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sequential(Module):
    """Modules applied in order; their state is named by position (``0.weight``)."""

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def _children(self) -> Iterator[tuple[str, Module]]:
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p); in eval, identity.
    PyTorch's ``inplace`` is taken at its default, False; True is refused (no op here writes into its input)."""

    def __init__(self, p: float = 0.5, inplace: bool = False, rng: Seed = None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        if inplace:
            raise ValueError("Dropout: inplace=True is not here (no op writes into its input); drop it")
        self.p, self.inplace = p, inplace
        self.rng = own_generator(rng)  # None: the global generator, looked up at each draw

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# ---- group norm and channel dropout (issue 29) -----------------------------------------------------------
def _generator(rng: Seed) -> np.random.Generator | None:
    """A seed made into one Generator, to be drawn from in turn (the same int given to each draw would repeat
    the numbers); a Generator as it is; None stays None, so that each draw falls to the global generator
    (generators.own_generator)."""
    return own_generator(rng)


class GroupNorm(Module):
    """F.group_norm: the channels of (N, C, *) in ``num_groups`` groups, each normalised per example; weight
    (ones) and bias (zeros) of (num_channels,) with ``affine``, as PyTorch's (``bias=False`` keeps the weight)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 dtype: DType = np.float32, *, bias: bool = True) -> None:
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self.weight = Tensor(np.ones(num_channels, dtype), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(num_channels, dtype), requires_grad=True) if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input (N, {self.num_channels}, *), got shape {x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class Dropout2d(Module):
    """F.dropout2d: in training, zero whole channels of (N, C, H, W) with probability p and scale the rest by
    1/(1-p); in eval, identity. ``inplace=True`` is refused, as Dropout's."""

    def __init__(self, p: float = 0.5, inplace: bool = False, rng: Seed = None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: p must be in [0, 1], got {p}")
        if inplace:
            raise ValueError("Dropout2d: inplace=True is not here (no op writes into its input); drop it")
        self.p, self.inplace = p, inplace
        self.rng = _generator(rng)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
