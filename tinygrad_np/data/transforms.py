"""Transforms for images held as arrays, with torchvision.transforms' names and arguments.

An image is an array (or a Tensor) of shape (H, W) or (C, H, W), as torchvision's tensors are laid out;
``ToTensor`` makes one from a (H, W) or (H, W, C) uint8 array, the layout of a PIL image's array. Each transform
is a callable object taking one image and returning one, of the kind it was given (an array stays an array, a
Tensor comes back a Tensor, outside any graph: augmentation is data preparation, not part of the model).

The random ones (``RandomCrop``, ``RandomRotation``, ``RandomAffine`` for shifts and rotations,
``RandomHorizontalFlip``) draw from ``rng``: a numpy Generator, a seed, or None for the global generator that
``tg.manual_seed`` seeds, so an augmented run is repeatable and resumable (``tg.get_rng_state``).

Rotation and shifting sample the nearest source pixel, filling what comes from outside the image with
``fill``, as torchvision's default (nearest) interpolation does.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..core.jit_seam import refuse_in_trace
from ..core.tensor import Tensor
from ..generators import generator, own_generator
from ..typing import Seed

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomRotation", "RandomAffine",
           "RandomHorizontalFlip", "Lambda"]


def _image(image: Any, what: str) -> np.ndarray:
    array = image.data if isinstance(image, Tensor) else np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f"{what}: expects one image of shape (H, W) or (C, H, W), got shape {array.shape} (a "
                         "batch is transformed image by image: give the transform to the dataset)")
    return array


def _as_given(result: np.ndarray, image: Any) -> Any:
    return Tensor(result) if isinstance(image, Tensor) else result


def _not_in_a_jitted_step(name):
    """A random transform draws and then runs Python on the draw (which window, whether to flip): a tg.jit replay
    would keep the traced choice. Refused inside a jitted step; apply it where the batch is made."""
    refuse_in_trace(f"{name} is applied", "it draws in Python, and a replay would keep the traced draw (the same crop, "
                    "angle or flip on every call); apply it outside the step, as the DataLoader's transform")


class Compose:
    """The transforms one after another: ``Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: Any) -> Any:
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self) -> str:
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class Lambda:
    """A function of one image as a transform."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def __call__(self, image: Any) -> Any:
        return self.function(image)


class ToTensor:
    """A (H, W) or (H, W, C) image array (a PIL image's layout) as a float32 (C, H, W) Tensor, as torchvision's
    ToTensor: uint8 pixels are divided by 255 into [0, 1]; other dtypes keep their values."""

    def __call__(self, image: Any) -> Tensor:
        array = image.data if isinstance(image, Tensor) else np.asarray(image)
        if array.ndim == 2:
            array = array[None]
        elif array.ndim == 3:
            array = array.transpose(2, 0, 1)
        else:
            raise ValueError(f"ToTensor: expects an image of shape (H, W) or (H, W, C), got shape {array.shape}")
        scaled = array / np.float32(255) if array.dtype == np.uint8 else array
        return Tensor(np.ascontiguousarray(scaled, dtype=np.float32))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(image - mean) / std, channel by channel (one mean and one std for each of C channels, or one for all),
    as torchvision's Normalize. A (H, W) image is one channel."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float32))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float32))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError("Normalize: mean and std are one number per channel")
        if (self.std == 0).any():
            raise ValueError(f"Normalize: std must not be 0, got {std!r} (it would divide by zero)")

    def __call__(self, image: Any) -> Any:
        array = _image(image, "Normalize")
        channels = 1 if array.ndim == 2 else array.shape[0]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize: {len(values)} values of {name} for an image of {channels} channels")
        shape = (-1, 1, 1) if array.ndim == 3 else ()
        mean = self.mean.reshape(shape) if array.ndim == 3 else self.mean[0]
        std = self.std.reshape(shape) if array.ndim == 3 else self.std[0]
        return _as_given(((array - mean) / std).astype(np.float32, copy=False), image)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _pair(value: Any, what: str) -> tuple[int, int]:
    if isinstance(value, numbers.Integral):
        return int(value), int(value)
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, numbers.Integral) for v in value):
        return int(value[0]), int(value[1])
    raise ValueError(f"{what}: expects an int or a pair of ints, got {value!r}")


class RandomCrop:
    """A random ``size`` (h, w) window of the image, as torchvision's RandomCrop: the image is first padded by
    ``padding`` (an int, or (left/right, top/bottom), or (left, top, right, bottom)) with ``fill``; with
    ``pad_if_needed`` it is also padded up to ``size``. Each window position is equally likely."""

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float = 0, rng: Seed = None) -> None:
        self.size = _pair(size, "RandomCrop size")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.rng = own_generator(rng)

    def __call__(self, image: Any) -> Any:
        _not_in_a_jitted_step(type(self).__name__)
        array = _image(image, "RandomCrop")
        if self.padding is not None:
            left, top, right, bottom = _padding(self.padding)
            array = _pad(array, top, bottom, left, right, self.fill)
        th, tw = self.size
        if self.pad_if_needed:
            h, w = array.shape[-2:]
            array = _pad(array, max(th - h, 0), max(th - h, 0), max(tw - w, 0), max(tw - w, 0), self.fill)
        h, w = array.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: the image is {h}x{w}, smaller than the crop {th}x{tw}; pad it "
                             "(padding=, pad_if_needed=True)")
        rng = generator(self.rng)
        top = int(rng.integers(0, h - th + 1))
        left = int(rng.integers(0, w - tw + 1))
        return _as_given(np.ascontiguousarray(array[..., top:top + th, left:left + tw]), image)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


def _padding(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """torchvision's padding forms as (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4  # type: ignore[return-value]
    values = [int(p) for p in padding]  # type: ignore[union-attr]  # an int returned above
    if len(values) == 2:
        return values[0], values[1], values[0], values[1]
    if len(values) == 4:
        return values[0], values[1], values[2], values[3]
    raise ValueError(f"RandomCrop: padding must be an int, 2 ints or 4 ints, got {padding!r}")


def _pad(array: np.ndarray, top: int, bottom: int, left: int, right: int, fill: float) -> np.ndarray:
    if min(top, bottom, left, right) < 0:
        raise ValueError("RandomCrop: padding must not be negative")
    widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(array, widths, constant_values=fill)


class RandomAffine:
    """A random rotation by an angle uniform in ``degrees`` (a number d for [-d, d], or (low, high);
    counter-clockwise for positive angles, about the image's centre) and a random shift by up to
    ``translate`` = (a, b) of the width and height (whole pixels, uniform in [-a W, a W] and [-b H, b H], rounded),
    as torchvision's RandomAffine with nearest interpolation. Pixels from outside the image are ``fill``."""

    def __init__(self, degrees: float | Sequence[float], translate: Sequence[float] | None = None,
                 fill: float = 0, rng: Seed = None) -> None:
        self.degrees = _range(degrees, "degrees")
        if translate is not None:
            if len(translate) != 2 or not all(0 <= t <= 1 for t in translate):
                raise ValueError(f"RandomAffine: translate must be two fractions in [0, 1], got {translate!r}")
            translate = (float(translate[0]), float(translate[1]))
        self.translate = translate
        self.fill = fill
        self.rng = own_generator(rng)

    def __call__(self, image: Any) -> Any:
        _not_in_a_jitted_step(type(self).__name__)
        array = _image(image, type(self).__name__)
        rng = generator(self.rng)
        angle = float(rng.uniform(self.degrees[0], self.degrees[1]))
        dx = dy = 0
        if self.translate is not None:
            h, w = array.shape[-2:]
            max_dx, max_dy = self.translate[0] * w, self.translate[1] * h
            dx = int(round(float(rng.uniform(-max_dx, max_dx))))
            dy = int(round(float(rng.uniform(-max_dy, max_dy))))
        return _as_given(affine(array, angle, (dx, dy), self.fill), image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(degrees={self.degrees}, translate={self.translate})"


class RandomRotation(RandomAffine):
    """A random rotation by an angle uniform in ``degrees`` (d for [-d, d], or (low, high)), counter-clockwise
    for positive angles, about the centre, nearest pixel, ``fill`` outside: torchvision's RandomRotation."""

    def __init__(self, degrees: float | Sequence[float], fill: float = 0, rng: Seed = None) -> None:
        super().__init__(degrees, None, fill, rng)


def _range(degrees: float | Sequence[float], what: str) -> tuple[float, float]:
    if isinstance(degrees, numbers.Real):
        if degrees < 0:
            raise ValueError(f"{what}: a single number must be non-negative, got {degrees}")
        return -float(degrees), float(degrees)
    low, high = (float(d) for d in degrees)  # type: ignore[union-attr]  # a number returned above
    if low > high:
        raise ValueError(f"{what}: ({low}, {high}) is not a range (low <= high)")
    return low, high


def affine(image: np.ndarray, angle: float, translate: tuple[int, int] = (0, 0), fill: float = 0) -> np.ndarray:
    """``image`` ((H, W) or (C, H, W)) rotated by ``angle`` degrees counter-clockwise about its centre, then
    shifted by ``translate`` = (dx, dy) pixels (right, down); each output pixel takes the nearest source pixel,
    ``fill`` where that falls outside."""
    h, w = image.shape[-2:]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    rows, cols = np.mgrid[0:h, 0:w]
    # Undo the shift, then the rotation: where in the source each output pixel comes from (y points down, so a
    # counter-clockwise turn on screen is x' = x cos + y sin, y' = -x sin + y cos; this is its inverse).
    x, y = cols - cx - translate[0], rows - cy - translate[1]
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    source_x = np.rint(x * cos - y * sin + cx).astype(np.int64)
    source_y = np.rint(x * sin + y * cos + cy).astype(np.int64)
    inside = (source_x >= 0) & (source_x < w) & (source_y >= 0) & (source_y < h)
    out = np.full(image.shape, fill, dtype=image.dtype)
    out[..., inside] = image[..., source_y[inside], source_x[inside]]
    return out


class RandomHorizontalFlip:
    """The image mirrored left to right with probability ``p``, as torchvision's RandomHorizontalFlip."""

    def __init__(self, p: float = 0.5, rng: Seed = None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        self.rng = own_generator(rng)

    def __call__(self, image: Any) -> Any:
        _not_in_a_jitted_step(type(self).__name__)
        array = _image(image, "RandomHorizontalFlip")
        if generator(self.rng).random() < self.p:
            array = np.ascontiguousarray(array[..., ::-1])
        return _as_given(array, image)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"
