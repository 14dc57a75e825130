"""One BLAS thread against all cores, on an idle and on a busy machine: the measurement behind tinygrad_np's
default (tinygrad_np/threads.py).

    python benchmarks/threads.py            # a few minutes; needs threadpoolctl

Each case is a jitted training step timed in wall-clock time (threads exist to cut wall time), the thread
counts taking turns within every round, medians of the rounds. "Busy" starts one spinning process per core
(this script's own children, ended at the end), as other work on a shared machine would. NumPy's BLAS, its
kernel and its threads are printed first; the environment's OPENBLAS_CORETYPE is left as it is.
"""
import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tinygrad_np as tg  # noqa: E402
from tinygrad_np import nn, optim  # noqa: E402


def spin():
    while True:
        pass


def mlp_step(batch, hidden):
    """The MNIST demo's step (784-hidden-10, SGD), replayed by tg.jit."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    opt = optim.SGD(model.parameters(), lr=0.01)
    x, y = rng.standard_normal((batch, 784)).astype(np.float32), rng.integers(0, 10, batch)
    return _replayed_step(model, opt, x, y)


def _replayed_step(model, opt, x, y):
    """One training step of model on (x, y), replayed by tg.jit, as a call with no arguments."""

    @tg.jit
    def step(x, y):
        loss = model(x).cross_entropy(y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    return lambda: step(x, y)


def cnn_step(name):
    from models import lenet5, residual_cnn  # beside this file

    rng = np.random.default_rng(0)
    model = residual_cnn(nn) if name == "residual" else lenet5(nn)
    opt = optim.AdamW(model.parameters(), lr=1e-3)
    x, y = rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
    return _replayed_step(model, opt, x, y)


def measure(cases, counts, rounds, calls):
    from threadpoolctl import threadpool_limits

    out = {}
    for name, fn in cases.items():
        for _ in range(3):
            fn()
        samples = {n: [] for n in counts}
        for r in range(rounds):
            for n in counts[r % len(counts):] + counts[:r % len(counts)]:
                with threadpool_limits(n, user_api="blas"):
                    fn()
                    start = time.perf_counter()
                    for _ in range(calls):
                        fn()
                    samples[n].append((time.perf_counter() - start) / calls)
        out[name] = {n: 1e3 * statistics.median(s) for n, s in samples.items()}
        print(f"  {name}: " + ", ".join(f"{n} thread{'s' * (n > 1)} {ms:.1f} ms" for n, ms in out[name].items())
              + f"; all ÷ one {out[name][counts[-1]] / out[name][1]:.2f}", flush=True)
    return out


def markdown(idle, busy, counts, blas, load):
    lines = ["## Threads (`python benchmarks/threads.py --save`)", "",
             f"A jitted training step in wall time, one BLAS thread against all {counts[-1]}, taking turns; "
             f"\"idle\" is the machine as it was (1-minute load average {load:.1f} when the run began), \"busy\" "
             f"has {counts[-1]} spinning processes beside that. NumPy's BLAS: {blas}. Milliseconds per step:",
             "", "| step | idle, 1 thread | idle, all | all ÷ 1 | busy, 1 thread | busy, all | all ÷ 1 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in idle:
        i, b = idle[name], busy[name]
        lines.append(f"| {name} | {i[1]:.1f} | {i[counts[-1]]:.1f} | {i[counts[-1]] / i[1]:.2f} | {b[1]:.1f} | "
                     f"{b[counts[-1]]:.1f} | {b[counts[-1]] / b[1]:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--save", action="store_true", help="write benchmarks/results/threads.md (run.py --readme copies "
                   "it into docs/benchmarks.md)")
    args = p.parse_args(argv)
    blas = tg.blas_description()
    print("BLAS:", blas)
    cores = os.cpu_count()
    counts = [1, cores]
    cases = {f"MNIST MLP step, batch {b}, hidden {h}": mlp_step(b, h) for b, h in ((128, 800), (512, 1000))}
    cases["LeNet-5 step, batch 64"] = cnn_step("lenet")
    cases["residual CNN step, batch 64"] = cnn_step("residual")
    load = os.getloadavg()[0]  # a shared machine is seldom idle: the table says how busy it already was
    print(f"idle (as the machine is, load average {load:.1f}), {cores} cores; ms per step, wall time:")
    idle = measure(cases, counts, args.rounds, 5)
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(cores)]
    for s in spinners:
        s.start()
    try:
        print(f"busy ({cores} spinning processes beside it):")
        busy = measure(cases, counts, args.rounds, 5)
    finally:
        for s in spinners:
            s.terminate()
            s.join()
    text = markdown(idle, busy, counts, blas.replace(", 1 thread", "").replace(f", {counts[-1]} threads", ""), load)
    print(text)
    if args.save:
        from tinygrad_np.fileio import atomic_write

        with atomic_write(Path(__file__).resolve().parent / "results" / "threads.md", "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
