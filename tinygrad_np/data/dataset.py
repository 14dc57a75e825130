"""Datasets, as PyTorch's ``torch.utils.data`` has them: the protocol a DataLoader reads, and TensorDataset."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..core.tensor import Tensor


@runtime_checkable
class Dataset(Protocol):
    """What a DataLoader reads: ``len(dataset)`` items, ``dataset[i]`` the i-th (PyTorch's map-style dataset).

    Subclass it, as in PyTorch (``class Digits(Dataset): ...``), or write any class with these two methods;
    ``isinstance(obj, Dataset)`` checks for them. An item may be anything the DataLoader's ``collate_fn``
    joins: by default arrays, Tensors, numbers, or tuples, lists and dicts of them.
    """

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class TensorDataset:
    """Aligned arrays (or Tensors), one item a row of each: ``TensorDataset(x, y)[i]`` is ``(x[i], y[i])``, a
    1-tuple for one array, as PyTorch's. ``.tensors`` holds them as given (arrays stay arrays)."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one array or Tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, (np.ndarray, Tensor)) or t.ndim == 0:
                what = f"a 0-d {type(t).__name__}" if isinstance(t, (np.ndarray, Tensor)) else type(t).__name__
                raise TypeError(f"TensorDataset: each argument must be an array or Tensor with rows, argument {i} is "
                                f"{what}")
            if len(t) != len(tensors[0]):
                raise ValueError(f"TensorDataset: array 0 has {len(tensors[0])} rows but array {i} has {len(t)}")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)
