"""torchvision.datasets' MNIST as a Dataset over the package's MNIST loading, so that a PyTorch script's
``datasets.MNIST('../data', train=True, download=True, transform=transform)`` runs as written.

Where the images come from, in order: ``root`` when it holds MNIST's four files (in torchvision's layout,
``root/MNIST/raw``, or in ``root`` itself); else what ``load_mnist`` finds (the ``TINYGRAD_NP_DATA`` folder, the
package's cache, a download into that cache when ``download``); else the bundled offline sample (2,000 training
and 1,000 test images of real MNIST), with the same banner on stderr ``load_mnist_or_sample`` prints, so that no
one mistakes the sample's accuracy for MNIST's. ``is_sample`` says which.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .mnist import MNIST_FILES, MnistNotFound, _why, load_mnist, load_mnist_sample, offline_banner

__all__ = ["MNIST"]


def _holds_mnist(folder: Path) -> bool:
    return all((folder / name).is_file() or (folder / name[:-3]).is_file() for name in MNIST_FILES)


class MNIST:
    """torchvision's ``MNIST(root, train=True, transform=None, target_transform=None, download=False)``: item i
    is ``(transform(image), target_transform(label))``, the image a uint8 (28, 28) array (torchvision's is a PIL
    image; ``transforms.ToTensor`` takes either to a float32 (1, 28, 28) Tensor in [0, 1]) and the label an int.
    ``data`` (uint8 (N, 28, 28)) and ``targets`` (int64 (N,)) are the whole split, as torchvision's."""

    def __init__(self, root: str | os.PathLike[str], train: bool = True, transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None, download: bool = False) -> None:
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        folder = next((f for f in (Path(root) / "MNIST" / "raw", Path(root)) if f.is_dir() and _holds_mnist(f)), None)
        self.is_sample = False
        try:
            arrays = load_mnist(folder, download=download)
        except MnistNotFound as err:
            print(offline_banner(_why(err)), file=sys.stderr, flush=True)
            arrays, self.is_sample = load_mnist_sample(), True
        images, labels = arrays[:2] if train else arrays[2:]
        self.data, self.targets = images, labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        source = "the bundled offline sample" if self.is_sample else "MNIST"
        return f"Dataset MNIST\n    Number of datapoints: {len(self)}\n    Split: {split}\n    Source: {source}"
