"""Batching: a small DataLoader over arrays."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..typing import Seed


class DataLoader:
    """Iterate over aligned arrays in batches: ``for x, y in DataLoader(x, y, batch_size=128): ...``

    Each batch is a tuple of arrays, one per array given: a 1-tuple for one
    array (``for (x,) in DataLoader(x)``), as PyTorch's TensorDataset gives.
    Each iteration is one epoch. With ``shuffle=True`` every epoch draws a new
    order from ``rng`` (a numpy Generator or a seed), so a seeded run is
    repeatable. ``drop_last`` skips a final batch smaller than ``batch_size``.
    """

    def __init__(self, *arrays: Any, batch_size: int = 128, shuffle: bool = False, drop_last: bool = False,
                 rng: Seed = None) -> None:
        if not arrays:
            raise ValueError("DataLoader: needs at least one array")
        n = len(arrays[0])
        for i, a in enumerate(arrays):
            if len(a) != n:
                raise ValueError(f"DataLoader: array 0 has {n} rows but array {i} has {len(a)}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        self.arrays = arrays
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = np.random.default_rng(rng)  # a Generator passes through as it is

    def __len__(self) -> int:
        """Batches an epoch."""
        n = len(self.arrays[0])
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        """One epoch, batch by batch (a new order each epoch with ``shuffle``)."""
        n = len(self.arrays[0])
        order = self.rng.permutation(n) if self.shuffle else None
        for b in range(len(self)):
            rows: slice | np.ndarray = slice(b * self.batch_size, min((b + 1) * self.batch_size, n))
            if order is not None:
                rows = order[rows]
            yield tuple(a[rows] for a in self.arrays)  # a 1-tuple for one array, as PyTorch's TensorDataset
