"""Batching: PyTorch's DataLoader over a dataset, and over arrays as before."""
from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..composed import stack
from ..core.jit_seam import refuse_in_trace
from ..core.tensor import Tensor
from ..generators import generator, own_generator
from ..typing import Seed
from .dataset import TensorDataset


class DataLoader:
    """Batches of a dataset, PyTorch's ``DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False,
    sampler=None, collate_fn=None)``, one epoch an iteration: ``for x, y in DataLoader(ds, batch_size=64): ...``

    ``dataset`` is anything with ``len()`` and ``[i]`` (data.Dataset), kept as ``.dataset``. Arrays given
    instead (``DataLoader(x, y, batch_size=128)``) are ``TensorDataset(x, y)``: each batch is a tuple of
    arrays, one per array, a 1-tuple for one (``for (x,) in DataLoader(x)``).

    ``shuffle=True`` draws a new order at the start of every epoch from ``rng`` (a numpy Generator, a seed, or
    None for the global generator that ``tg.manual_seed`` seeds, so that a seeded run is repeatable and
    ``tg.get_rng_state`` can resume it). ``sampler``, an iterable of indices read afresh each epoch, gives the
    order instead (not together with shuffle, as in PyTorch). ``drop_last`` skips a final batch smaller than
    ``batch_size``. ``collate_fn`` joins a batch's items; the default (``default_collate``) stacks arrays into
    an array, Tensors into a Tensor, numbers into an array, and goes into tuples, lists and dicts.
    """

    def __init__(self, dataset: Any, *more_arrays: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, sampler: Iterable[int] | None = None,
                 collate_fn: Callable[[list[Any]], Any] | None = None, rng: Seed = None) -> None:
        for extra in more_arrays:
            if isinstance(extra, numbers.Number):
                raise TypeError(f"DataLoader: got {extra!r} after the dataset; give batch_size={extra!r} by name "
                                "(arrays given one after another are taken as TensorDataset(x, y, ...))")
        if more_arrays or isinstance(dataset, (np.ndarray, Tensor)):
            try:
                dataset = TensorDataset(dataset, *more_arrays)
            except (TypeError, ValueError) as err:
                raise type(err)(str(err).replace("TensorDataset", "DataLoader", 1)) from None
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: the dataset must have __len__ and __getitem__ (data.Dataset), got "
                            f"{type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True both choose the order; give one (as PyTorch)")
        self.dataset: Any = dataset
        self.batch_size: int = int(batch_size)
        self.shuffle: bool = shuffle
        self.drop_last: bool = drop_last
        self.sampler: Any = sampler
        self.collate_fn: Callable[[list[Any]], Any] | None = collate_fn
        # None: the global generator, looked up at each epoch's start
        self.rng: np.random.Generator | None = own_generator(rng)

    def __len__(self) -> int:
        """Batches an epoch."""
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        """One epoch, batch by batch (a new order each epoch with ``shuffle``)."""
        refuse_in_trace("a DataLoader is iterated", "its order and batches are Python work a replay does not do "
                        "again (a shuffle's draw, which items), so a replay would keep the traced batch. Iterate the "
                        "loader outside and pass each batch to the jitted step as an argument")
        order = self._order()
        n, size = len(order), self.batch_size
        stop = n - n % size if self.drop_last else n
        for start in range(0, stop, size):
            yield self._batch(order[start:start + size])

    def _order(self) -> np.ndarray:
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        if self.shuffle:
            return generator(self.rng).permutation(len(self.dataset))
        return np.arange(len(self.dataset))

    def _batch(self, rows: np.ndarray) -> Any:
        if self.collate_fn is None and type(self.dataset) is TensorDataset:
            # The rows of each array taken at once: what default_collate would make of the items, without a
            # Python call per item (a plain range is a slice, which NumPy reads without copying the index).
            index: Any = rows
            if not self.shuffle and self.sampler is None:
                index = slice(int(rows[0]), int(rows[-1]) + 1)
            return tuple(t[index] for t in self.dataset.tensors)
        getitems = getattr(self.dataset, "__getitems__", None)  # PyTorch's batched fetch, where a dataset has one
        items = getitems(rows.tolist()) if getitems is not None else [self.dataset[int(i)] for i in rows]
        return (self.collate_fn or default_collate)(items)


def default_collate(batch: list[Any]) -> Any:
    """A batch's items joined as PyTorch's default_collate joins them: arrays stacked into an array along a new
    first axis, Tensors into a Tensor, Python ints into int64 and floats into float64 arrays (NumPy scalars keep
    their dtype); tuples, lists and dicts field by field; strings left as a list."""
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch)
    if isinstance(first, (np.ndarray, np.generic, numbers.Number)):
        shapes = {np.shape(item) for item in batch}
        if len(shapes) > 1:
            raise ValueError(f"default_collate: the items of a batch differ in shape ({sorted(shapes)}); give a "
                             "collate_fn that pads or joins them")
        return np.stack([np.asarray(item) for item in batch])
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([item[key] for item in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if len({len(item) for item in batch}) > 1:
            raise ValueError("default_collate: the items of a batch have different numbers of fields")
        fields = [default_collate(list(column)) for column in zip(*batch, strict=True)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"default_collate: cannot join items of type {type(first).__name__}; give a collate_fn")
