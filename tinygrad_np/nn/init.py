"""``tinygrad_np.nn.init``: filling weights in place, with PyTorch's names and formulas.

Each function takes the Tensor to fill and an ``rng`` (a NumPy Generator, a
seed, or None for the global generator that ``tg.manual_seed`` seeds), writes
into it and returns it. Fans follow PyTorch: for a
weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.jit_seam import replayable
from ..core.tensor import Tensor
from ..generators import generator
from ..typing import Seed

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["calculate_gain", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_",
           "normal_", "uniform_", "zeros_", "ones_"]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity`` (PyTorch's values)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fans(tensor: Tensor, op: str) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(f"{op}: needs a weight of at least 2 dimensions to know its fans, got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _mode_index(mode: str, op: str) -> int:
    """0 for "fan_in", 1 for "fan_out"; anything else is refused (it was read as fan_out)."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return 0 if mode == "fan_in" else 1


@replayable
def _fill(tensor: Tensor, make: Callable[..., ArrayLike], *args: Any) -> None:
    """``tensor``'s data set to ``make(shape, *args)``, in place. Replayed by tg.jit: inside a jitted function
    each replay fills (and draws) again, as each eager call does."""
    tensor.data[...] = make(tensor.shape, *args)
    tensor.bump_version()


def _uniform(shape: tuple[int, ...], a: float, b: float, rng: Seed) -> np.ndarray:
    return generator(rng).uniform(a, b, shape)


def _normal(shape: tuple[int, ...], mean: float, std: float, rng: Seed) -> np.ndarray:
    return generator(rng).normal(mean, std, shape)


def _constant(shape: tuple[int, ...], value: float) -> float:
    return value


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, rng: Seed = None) -> Tensor:
    """Fill ``tensor`` with samples of U(a, b), in place; returns it."""
    _fill(tensor, _uniform, a, b, rng)
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, rng: Seed = None) -> Tensor:
    """Fill ``tensor`` with samples of N(mean, std²), in place; returns it."""
    _fill(tensor, _normal, mean, std, rng)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 0, in place; returns it."""
    _fill(tensor, _constant, 0)
    return tensor


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 1, in place; returns it."""
    _fill(tensor, _constant, 1)
    return tensor


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     rng: Seed = None) -> Tensor:
    """U(-b, b), b = gain * sqrt(3 / fan), He et al. 2015. a = 0 is He's choice for ReLU networks; a = √5 gives
    PyTorch's default for Linear and Conv (b = 1 / sqrt(fan_in))."""
    fan = _fans(tensor, "kaiming_uniform_")[_mode_index(mode, "kaiming_uniform_")]
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, rng)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    rng: Seed = None) -> Tensor:
    """N(0, std²), std = gain / sqrt(fan)."""
    fan = _fans(tensor, "kaiming_normal_")[_mode_index(mode, "kaiming_normal_")]
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), rng)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, rng: Seed = None) -> Tensor:
    """U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)), Glorot and Bengio 2010."""
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, rng: Seed = None) -> Tensor:
    """N(0, std²), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)
