"""Eager speed of this checkout's engine against an earlier commit's, side by side in one process.

    python benchmarks/engine_ab.py                 # against HEAD (what an uncommitted change costs)
    python benchmarks/engine_ab.py --base 90d8766  # against any commit

The earlier engine is taken from git (``git archive``) and imported under another
name, so both run in the same process on the same arrays, taking turns within every
round. BLAS is pinned to one thread and each sample is this thread's CPU time, which
a busy neighbour on a shared machine does not inflate. Within a process, a ratio is the
median over rounds of new time / old time in the same round. Across processes the same
code can differ by several percent on a 1,000-op chain (where the heap puts each
engine's objects), so the comparison runs in several processes and reports the median
of their ratios, with the lowest and highest beside it.

Cases: the MNIST step in the example's form (tensor expressions, optim.SGD with
momentum) at batch 32 and 128, hidden 128, and 1,000-op mul and tanh chains.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads its BLAS

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def import_engine_at(rev, folder):
    """tinygrad_np as it was at ``rev``, imported as the package ``tinygrad_np_<rev>`` (its imports are relative)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "tinygrad_np"], check=True,
                             capture_output=True).stdout
    name = "tinygrad_np_" + "".join(c if c.isalnum() else "_" for c in rev)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    os.rename(Path(folder) / "tinygrad_np", Path(folder) / name)
    sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def mnist_step(tg, batch, hidden, rng):
    """The example's training step: tensor expressions, cross-entropy, SGD with momentum 0.9."""
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    w1, w2 = (rng.standard_normal(s).astype(np.float32) * 0.05 for s in ((784, hidden), (hidden, 10)))
    params = [tg.Tensor(a.copy(), requires_grad=True)
              for a in (w1, np.zeros(hidden, np.float32), w2, np.zeros(10, np.float32))]
    W1, b1, W2, b2 = params
    opt = importlib.import_module(tg.__name__ + ".optim").SGD(params, lr=0.01, momentum=0.9)

    def step():
        logits = (tg.Tensor(x) @ W1 + b1).relu() @ W2 + b2
        logits.cross_entropy(y).backward()
        opt.step()
        opt.zero_grad()

    return step


def chain(tg, op, length=1000):
    x = tg.Tensor(np.linspace(-1, 1, 4), requires_grad=True)
    k = tg.Tensor(np.full(4, 0.999))

    def run():
        y = x
        for _ in range(length):
            y = y * k if op == "mul" else y.tanh()
        y.backward(np.ones(4))
        x.grad = None

    return run


def thread_seconds(fn, calls):
    start = time.thread_time()
    for _ in range(calls):
        fn()
    return time.thread_time() - start


def compare(new, old, rounds, target=0.05):
    """Median over rounds of new / old, the two alternating (who goes first alternates too)."""
    new(), old()
    calls = max(3, int(target / max(1e-9, thread_seconds(old, 3) / 3)))
    ratios = []
    for r in range(rounds):
        pair = (new, old) if r % 2 == 0 else (old, new)
        t = {}
        for fn in pair:
            gc.collect()  # a collection owed by one engine's garbage is not charged to the other
            t[fn] = thread_seconds(fn, calls)
        ratios.append(t[new] / t[old])
    return statistics.median(ratios)


def cases(tg):
    rng = np.random.default_rng(0)
    return {"MNIST step B32 H128": mnist_step(tg, 32, 128, rng),
            "MNIST step B128 H128": mnist_step(tg, 128, 128, np.random.default_rng(1)),
            "chain of 1,000 mul": chain(tg, "mul"), "chain of 1,000 tanh": chain(tg, "tanh")}


def one_process(base, rounds):
    """The ratios of every case, measured in this process: {case: new / old}."""
    sys.path.insert(0, str(ROOT))
    import tinygrad_np as new_tg

    with tempfile.TemporaryDirectory() as folder:
        old_tg = import_engine_at(base, folder)
        new_tg.reuse_freed_memory()  # as every example runs; one process-wide setting for both engines
        new_cases, old_cases = cases(new_tg), cases(old_tg)
        return {name: compare(new_cases[name], old_cases[name], rounds) for name in new_cases}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare against (default HEAD)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per case in each process (default 15)")
    parser.add_argument("--processes", type=int, default=5, help="processes to run the comparison in (default 5)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a worker: print one JSON line
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_process(args.base, args.rounds)))
        return
    runs = []
    for _ in range(args.processes):
        out = subprocess.run([sys.executable, __file__, "--one", "--base", args.base, "--rounds", str(args.rounds)],
                             check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    print(f"new ÷ old ({args.base}): one BLAS thread, thread CPU time; median of {args.processes} processes, "
          f"each the median of {args.rounds} rounds (lowest to highest process in brackets)")
    worst = 0.0
    for name in runs[0]:
        ratios = sorted(r[name] for r in runs)
        median = statistics.median(ratios)
        worst = max(worst, median)
        print(f"  {name:<22} {median:.3f}  [{ratios[0]:.3f} to {ratios[-1]:.3f}]")
    print(f"  worst median: {worst:.3f}")


if __name__ == "__main__":
    main()
