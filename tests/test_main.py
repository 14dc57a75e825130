"""``python -m tinygrad_np`` prints what a bug report needs, with or without MNIST and threadpoolctl."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_np

FIELDS = ("tinygrad_np:", "Python:", "NumPy:", "BLAS:", "BLAS/OpenMP env:", "OS:", "CPU:", "MNIST:", "optional:")
WITHOUT_THREADPOOLCTL = ("import runpy, sys; sys.modules['threadpoolctl'] = None; "
                         "runpy.run_module('tinygrad_np', run_name='__main__')")


def run(env_changes, *command):
    env = {k: v for k, v in os.environ.items() if v is not None}
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    result = subprocess.run([sys.executable, *(command or ("-m", "tinygrad_np"))], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def field(out, name):
    return next(line for line in out.splitlines() if line.startswith(name + ":"))[len(name) + 1:].strip()


def test_it_prints_every_field_with_the_versions(tmp_path):
    out = run({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": None})
    for name in FIELDS:
        assert any(line.startswith(name) for line in out.splitlines()), (name, out)
    assert field(out, "tinygrad_np").startswith(tinygrad_np.__version__)
    assert field(out, "NumPy") == np.__version__
    assert field(out, "Python").startswith("%d.%d.%d" % sys.version_info[:3])
    assert "OPENBLAS_NUM_THREADS=1" in field(out, "BLAS/OpenMP env")
    assert "OMP_NUM_THREADS" not in field(out, "BLAS/OpenMP env")


def test_with_no_mnist_it_says_the_examples_would_use_the_bundled_sample(tmp_path):
    out = run({"TINYGRAD_NP_DATA": None, "XDG_CACHE_HOME": str(tmp_path)})
    mnist = field(out, "MNIST")
    assert mnist.startswith("not found") and "bundled sample" in mnist and str(tmp_path) in mnist
    assert not any(tmp_path.iterdir())  # nothing downloaded, nothing created


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_it_names_the_folder_mnist_was_found_in(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes(b"")
    assert field(run({"TINYGRAD_NP_DATA": str(folder)}), "MNIST") == f"{folder} (from $TINYGRAD_NP_DATA)"
    (folder / "t10k-images-idx3-ubyte").unlink()
    lacking = field(run({"TINYGRAD_NP_DATA": str(folder)}), "MNIST")
    assert "lacks t10k-images-idx3-ubyte.gz" in lacking and "stop" in lacking
    missing = field(run({"TINYGRAD_NP_DATA": str(tmp_path / "nowhere")}), "MNIST")
    assert "no such folder" in missing


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_without_threadpoolctl_it_shows_numpys_build_and_says_what_it_cannot_tell():
    out = run({"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"}, "-c", WITHOUT_THREADPOOLCTL)
    blas = field(out, "BLAS")
    assert "kernel Haswell (forced by OPENBLAS_CORETYPE)" in blas and "threads 1 (from OPENBLAS_NUM_THREADS)" in blas
    assert "pip install threadpoolctl" in blas
    out = run({"OPENBLAS_CORETYPE": None, "OPENBLAS_NUM_THREADS": None, "OMP_NUM_THREADS": None}, "-c",
              WITHOUT_THREADPOOLCTL)
    assert "kernel unknown" in field(out, "BLAS") and "threads unknown" in field(out, "BLAS")


def test_with_threadpoolctl_it_shows_the_kernel_and_threads_that_run():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    out = run({"OPENBLAS_NUM_THREADS": "1"})
    blas = [lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"][0]
    line = field(out, "BLAS")
    assert blas["version"] in line and "1 thread," in line and blas["filepath"] in line
    if blas.get("architecture"):
        assert f"kernel {blas['architecture']}" in line
