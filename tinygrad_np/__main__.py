"""``python -m tinygrad_np``: the facts a bug report needs, as PyTorch's collect_env gives them.

Versions (tinygrad_np, Python, NumPy), the BLAS library NumPy calls with its kernel and threads (the numbers
behind every speed figure), the BLAS and OpenMP environment variables that are set, the machine, where MNIST
was found (the order the examples look in), and the optional packages installed. Nothing is downloaded.

The BLAS kernel and thread count are read at run time by threadpoolctl when it is installed; without it, NumPy's
build configuration is shown instead, saying what it cannot tell.
"""
import importlib.metadata
import os
import platform
import sys
from pathlib import Path

import numpy as np

import tinygrad_np
from tinygrad_np.data.mnist import MNIST_FILES, SAMPLE_PATH, _cached_ok, cache_dir

ENVIRONMENT_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "GOTO_", "BLIS_")
OPTIONAL = ("matplotlib", "tqdm", "safetensors", "hypothesis", "threadpoolctl")


def python_line() -> str:
    return f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})"


def blas_lines() -> list[tuple[str, str]]:
    """A line for each BLAS and OpenMP library loaded in this process, from threadpoolctl; else NumPy's build."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [("BLAS", _blas_without_threadpoolctl())]
    lines = []
    for lib in threadpool_info():
        name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(lib.get("internal_api"), lib.get("prefix"))
        kernel = f"kernel {lib.get('architecture')}, " if lib.get("architecture") else ""
        layer = f", {lib['threading_layer']} threading" if lib.get("threading_layer") else ""
        field = "BLAS" if lib.get("user_api") == "blas" else "OpenMP"
        threads = f"{lib.get('num_threads')} thread{'' if lib.get('num_threads') == 1 else 's'}"
        lines.append((field, f"{name} {lib.get('version')}, {kernel}{threads}{layer}; "
                             f"{lib.get('filepath')}"))
    return lines or [("BLAS", "none loaded (threadpoolctl finds no BLAS library in this process)")]


def _blas_without_threadpoolctl() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # NumPy >= 1.25
    except (TypeError, KeyError):
        return f"unknown: NumPy {np.__version__} does not report its BLAS, and threadpoolctl is not installed"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    kernel = f"kernel {forced} (forced by OPENBLAS_CORETYPE)" if forced else "kernel unknown"
    pinned = next((f"threads {os.environ[k]} (from {k})" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                   if k in os.environ), "threads unknown")
    return (f"{blas.get('name')} {blas.get('version')}, as NumPy was built ({blas.get('openblas configuration', '')}"
            f"); {kernel}, {pinned}: pip install threadpoolctl to see what runs")


def environment_line() -> str:
    found = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(ENVIRONMENT_PREFIXES)]
    return " ".join(found) if found else f"none of {', '.join(p + '*' for p in ENVIRONMENT_PREFIXES)} is set"


def cpu_line() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {usable} of {os.cpu_count()} cores usable by this process"


def mnist_line() -> str:
    """Where the examples would find MNIST: $TINYGRAD_NP_DATA, then the cache; the sample otherwise."""
    named = os.environ.get("TINYGRAD_NP_DATA")
    if named:
        folder = Path(named)
        if not folder.is_dir():
            return f"$TINYGRAD_NP_DATA={named}: no such folder (the examples stop with this error)"
        missing = [n for n in MNIST_FILES if not (folder / n).is_file() and not (folder / n[:-3]).is_file()]
        if missing:
            return (f"$TINYGRAD_NP_DATA={named} lacks {', '.join(missing)} (the examples stop with this error)")
        return f"{folder} (from $TINYGRAD_NP_DATA)"
    cache = cache_dir()
    if all(_cached_ok(cache / n) for n in MNIST_FILES):
        return f"{cache} (the cache; every file's MD5 checked)"
    return (f"not found: $TINYGRAD_NP_DATA is not set and the cache {cache} does not hold it; the examples would "
            f"try to download it there, and use the bundled sample ({SAMPLE_PATH.name}) if they cannot")


def optional_line() -> str:
    versions = []
    for name in OPTIONAL:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return ", ".join(versions)


def report() -> list[tuple[str, str]]:
    """(field, value) pairs, in the order they are printed."""
    fields = [("tinygrad_np", f"{tinygrad_np.__version__} ({Path(tinygrad_np.__file__).parent})"),
              ("Python", python_line()), ("NumPy", np.__version__)]
    fields += blas_lines()
    fields += [("BLAS/OpenMP env", environment_line()), ("OS", platform.platform()), ("CPU", cpu_line()),
               ("MNIST", mnist_line()), ("optional", optional_line())]
    return fields


def main() -> int:
    print("tinygrad_np environment (paste this into a bug report)")
    fields = report()
    width = max(len(name) for name, _ in fields) + 2
    for name, value in fields:
        print(f"{name + ':':<{width}}{value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
