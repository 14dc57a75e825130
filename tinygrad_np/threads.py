"""How many threads NumPy's BLAS runs its matrix products on: ``tg.set_num_threads(n)``, ``tg.get_num_threads()``.

NumPy's BLAS (OpenBLAS in NumPy's wheels) starts one thread per core and
keeps them spinning between products. On a machine whose cores are busy with
other work, the spinning threads fight it for the cores: the MNIST demo took
127 s of training with the default threads on a busy 2-core machine, and 20 s
with one. benchmarks/threads.py measures one thread against all cores on the
machine as it is and with a spinning process per core beside it
(docs/benchmarks.md has the figures).

PyTorch sizes its own pool from the core count, but keeps small work on one
thread: an elementwise op below 32,768 elements runs in the calling thread,
and its BLAS (MKL or oneDNN) splits a product only when it is large. OpenBLAS
does the same for products under about 262,144 multiply-adds, but spins its
threads between calls either way.

The default, chosen by that measurement: one BLAS thread. On a shared
2-core machine, loaded by other work, all cores took 3-21x one thread's wall
time per training step; on an idle one, where more threads can win on large
products (not measured: no idle machine was at hand), one thread loses at
most what a second core would add. Importing tinygrad_np applies it, unless the environment
already says how many (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
MKL_NUM_THREADS or BLIS_NUM_THREADS): ``tg.set_num_threads(os.cpu_count())``
takes all cores back.

Changing a running process's BLAS threads takes threadpoolctl (the one
library that knows OpenBLAS's, MKL's and BLIS's calls), an optional
dependency: ``pip install tinygrad_np[threads]`` (the examples' extras
include it). Without it, NumPy's threads stay as the environment set them,
``get_num_threads`` reports that, and ``set_num_threads`` says how to set
them instead.
"""
import os

from .core.jit_seam import refuse_in_trace

_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
DEFAULT_THREADS = 1
_limiter = None  # threadpoolctl's handle of the limit set_num_threads set, kept so that a later call replaces it


def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def get_num_threads() -> int:
    """The threads NumPy's BLAS uses for a matrix product (the most among its BLAS libraries, if several).
    Without threadpoolctl: the first of OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS and
    BLIS_NUM_THREADS that is set, else the number of cores (what OpenBLAS starts with)."""
    refuse_in_trace("tg.get_num_threads() is called", "a replay would keep the number read while tracing; read it "
                    "outside and pass it in")
    controller = _controller()
    if controller is not None:
        blas = controller.select(user_api="blas")
        if blas.lib_controllers:
            return max(c.num_threads for c in blas.lib_controllers)
    for name in _VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Run NumPy's BLAS on ``n`` threads from now on (as ``torch.set_num_threads``), for every thread of the
    process. Needs threadpoolctl (``pip install tinygrad_np[threads]``); without it, this raises and says to set
    OPENBLAS_NUM_THREADS before Python starts instead."""
    global _limiter
    refuse_in_trace("tg.set_num_threads() is called", "a replay would not set it again; set it outside")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    controller = _controller()
    if controller is None:
        raise RuntimeError("set_num_threads: changing the BLAS threads of a running process needs threadpoolctl: "
                           f"pip install threadpoolctl (or tinygrad_np[threads]); or start Python with "
                           f"OPENBLAS_NUM_THREADS={n} (OMP_NUM_THREADS for other BLAS libraries) in the environment")
    if _limiter is not None:
        _limiter.restore_original_limits()
    _limiter = controller.limit(limits=n, user_api="blas")


def blas_description() -> str:
    """NumPy's BLAS, its kernel and its threads, as a benchmark table names them ("openblas 0.3.31, Haswell
    kernel, 1 thread"), and the OPENBLAS_CORETYPE that chose the kernel, if set."""
    controller = _controller()
    pinned = os.environ.get("OPENBLAS_CORETYPE")
    note = f" (pinned by OPENBLAS_CORETYPE={pinned})" if pinned else ""
    if controller is None:
        import numpy as np

        blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
        return (f"{blas.get('name', '?')} {blas.get('version', '')}, {get_num_threads()} threads{note} "
                "(kernel unknown without threadpoolctl)")
    parts = []
    for c in controller.select(user_api="blas").lib_controllers:
        info = c.info()
        kernel = info.get("architecture") or "?"
        threads = info["num_threads"]
        parts.append(f"{info['internal_api']} {info.get('version') or ''}, {kernel} kernel{note}, "
                     f"{threads} thread{'s' * (threads != 1)}")
    return "; ".join(parts) or "no BLAS found"


def apply_default() -> bool:
    """One BLAS thread (``DEFAULT_THREADS``), unless the environment names a count; called once, on import.
    True if it changed anything."""
    if any(os.environ.get(name, "").strip() for name in _VARIABLES):
        return False
    controller = _controller()
    if controller is None:
        return False
    global _limiter
    _limiter = controller.limit(limits=DEFAULT_THREADS, user_api="blas")
    return True
