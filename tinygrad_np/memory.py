"""Memory a training step reuses instead of asking the kernel for fresh pages.

By default glibc's malloc hands large freed blocks back to the operating
system, so the next step's arrays of the same size start as fresh pages, and
the kernel faults in and zeroes every page again. On a LeNet-5 step that was
almost half the time, and on a residual CNN's replayed step a third.

Three things keep a step off fresh pages:

* a ``tg.jit`` replay lets each array go at its last use (jit/program.py), so
  its heap peaks below eager's and glibc keeps it, and ops whose
  forward keeps a large array for backward (conv2d's window matrix) keep it
  from replay to replay: a replayed residual CNN step faults in no page;
* ``scratch``: arrays for work that ends inside one call (conv2d's padded
  input, its gradient's window matrix), kept per thread by purpose and shape;
* ``reuse_freed_memory()`` asks malloc to keep freed memory (up to a limit)
  and to serve arrays below 32 MiB from it, as PyTorch's own allocator does
  for its tensors. It changes the whole process's malloc, which is why it is
  a call you make (the examples and benchmarks do), not something importing
  tinygrad_np does. What it still buys: the eager engine's steps (about 6,000
  page faults a step on the residual CNN without it, none with it) and the two
  traced calls; a replay needs it no more (benchmarks/targets.py --reuse).
"""
import ctypes
import sys
import threading
from collections import OrderedDict

import numpy as np

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters, from <malloc.h>
_M_MMAP_THRESHOLD = -3


def reuse_freed_memory(keep_mb=256):
    """Keep up to ``keep_mb`` MiB of freed memory for reuse and serve blocks below 32 MiB from it.

    Returns True if glibc accepted the settings; False elsewhere (macOS, Windows,
    musl), where nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(_M_TRIM_THRESHOLD, int(keep_mb) << 20))


class _Scratch(threading.local):
    """Each thread's scratch arrays, by (purpose, shape, dtype), the least recently used first."""

    def __init__(self):
        self.arrays = OrderedDict()


_scratch = _Scratch()
_SCRATCH_KEPT = 8  # distinct scratch arrays a thread keeps: a model's few shapes, not every shape ever seen


def scratch(purpose, shape, dtype, zeroed=False):
    """An array for work that ends inside one call (a rule's window matrix), reused by the next call that asks
    for the same purpose, shape and dtype in this thread: its pages are faulted in once, not every step.
    Nothing may keep it past the call. ``zeroed``: it starts as zeros, and the caller must leave the parts it
    does not overwrite as zeros."""
    key = (purpose, tuple(shape), np.dtype(dtype), zeroed)
    arrays = _scratch.arrays
    array = arrays.pop(key, None)
    if array is None:
        array = np.zeros(shape, dtype) if zeroed else np.empty(shape, dtype)
        while len(arrays) >= _SCRATCH_KEPT:
            arrays.popitem(last=False)
    arrays[key] = array
    return array
