"""A batch of images as one grid, saved as a PNG: torchvision.utils' ``make_grid`` and ``save_image``."""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from ..fileio import atomic_write

__all__ = ["make_grid", "save_image"]


def make_grid(images: Any, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> np.ndarray:
    """The images of a batch, (B, C, H, W) (a Tensor, an array, or a list of (C, H, W) images; a single
    (C, H, W) or (H, W) image too), laid out ``nrow`` to a row with ``padding`` pixels of ``pad_value`` around
    each, as one (3, H', W') float32 array, as torchvision.utils.make_grid lays them out: one-channel images
    become three, and a batch of one is that image alone, unpadded.

    ``normalize``: shift to [0, 1] by ``value_range`` (low, high), clipping to it, or else by the minimum and
    maximum, over the whole batch or, with ``scale_each``, over each image."""
    batch = _batch(images)
    if normalize:
        if value_range is not None:
            if not (isinstance(value_range, tuple) and len(value_range) == 2):
                raise ValueError(f"make_grid: value_range must be a tuple (low, high), got {value_range!r}")
        parts = list(batch) if scale_each else [batch]
        batch = np.stack([_scaled(p, value_range) for p in parts]) if scale_each else _scaled(batch, value_range)
    if batch.shape[0] == 1:
        return batch[0]
    count, channels, h, w = batch.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value, dtype=np.float32)
    for k in range(count):
        y, x = divmod(k, columns)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + h, left:left + w] = batch[k]
    return grid


def _batch(images: Any) -> np.ndarray:
    if isinstance(images, Sequence) and not isinstance(images, (str, bytes)):
        images = np.stack([_array(i) for i in images])
    batch = _array(images).astype(np.float32)
    if batch.ndim == 2:
        batch = batch[None]
    if batch.ndim == 3:
        batch = batch[None]
    if batch.ndim != 4:
        raise ValueError(f"make_grid: expects images of shape (B, C, H, W), (C, H, W) or (H, W), got {batch.shape}")
    if batch.shape[1] == 1:
        batch = np.concatenate([batch] * 3, axis=1)  # grey as three equal channels, as torchvision
    return batch


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _scaled(images: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    low, high = (float(images.min()), float(images.max())) if value_range is None else value_range
    return (np.clip(images, low, high) - low) / max(high - low, 1e-5)


def save_image(images: Any, path: str | os.PathLike[str] | Any, nrow: int = 8, padding: int = 2,
               normalize: bool = False, value_range: tuple[float, float] | None = None, scale_each: bool = False,
               pad_value: float = 0.0) -> None:
    """``make_grid(images, ...)`` written to ``path`` as an RGB PNG, as torchvision.utils.save_image writes it:
    values in [0, 1] become 0..255 (x * 255 + 0.5, clipped, truncated). The file is written atomically (a
    temporary file renamed into place), so a failed write leaves what was there; an open binary file is
    written to as it is. Needs Pillow, which the
    examples extra brings (with matplotlib)."""
    grid = make_grid(images, nrow, padding, normalize, value_range, scale_each, pad_value)
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('save_image needs Pillow: pip install pillow (or pip install -e ".[examples]", whose '
                          "matplotlib brings it)") from None
    picture = Image.fromarray(np.ascontiguousarray(pixels))
    if hasattr(path, "write"):  # an open file, as torchvision also takes
        picture.save(path, format="PNG")
        return
    with atomic_write(path) as f:
        picture.save(f, format="PNG")
