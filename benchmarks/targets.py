"""Issue 31's targets, measured: where models are written (a residual CNN, LeNet-5, the MNIST MLP), against
PyTorch and hand-written NumPy, and the replay's memory against eager's.

    python benchmarks/targets.py              # pinned (the environment as it is) and native, side by side
    python benchmarks/targets.py --quick      # a smoke run: few rounds
    python benchmarks/targets.py --reuse      # also with tg.reuse_freed_memory(), to show what it still buys

One BLAS thread and one PyTorch thread; each sample is the process's CPU time (``time.process_time``: user and
system time, so the kernel's work faulting in fresh pages counts), the implementations taking turns within
every round; times are medians of the rounds, a ratio the median of the per-round ratios. With the defaults:
no ``reuse_freed_memory()``. "pinned" runs in the environment as it is; "native" is this script run again
with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that run only, so that OpenBLAS picks its kernel for
this CPU. Each part prints NumPy's BLAS, its kernel and its threads.
"""
import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tinygrad_np as tg  # noqa: E402
from tinygrad_np import nn, optim  # noqa: E402

PINNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
TITLE = ("## Where models are written (`python benchmarks/targets.py --reuse --save`)\n\nOne BLAS and one PyTorch "
         "thread; process CPU time (user and system); medians of interleaved rounds; with tinygrad_np's defaults "
         "(no `reuse_freed_memory()`) unless a column says so. Peak traced memory is above what was held before the "
         "step; a replay also holds, between steps, the window matrices its convolutions keep for backward.\n\n")


def turns(candidates, rounds, calls):
    """{name: [seconds per call, one per round]}, process CPU time, the order rotating every round."""
    names = list(candidates)
    samples = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            fn = candidates[n]
            fn()
            start = time.process_time()
            for _ in range(calls):
                fn()
            samples[n].append((time.process_time() - start) / calls)
    return samples


def ratio(samples, a, b):
    return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))


def residual_cnn(rounds, calls):
    import torch
    from models import residual_cnn as build

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
    ours, theirs = build(nn), build(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    twin = build(nn)  # the jitted step trains its own copy, from the same weights
    twin.load_state_dict(ours.state_dict())
    our_opt, twin_opt = optim.AdamW(ours.parameters(), lr=1e-3), optim.AdamW(twin.parameters(), lr=1e-3)
    their_opt = torch.optim.AdamW(theirs.parameters(), lr=1e-3)

    def eager():
        loss = ours(tg.Tensor(x)).cross_entropy(y)
        loss.backward()
        our_opt.step()
        our_opt.zero_grad()
        return loss

    @tg.jit
    def replayed(x, y):
        loss = twin(x).cross_entropy(y)
        loss.backward()
        twin_opt.step()
        twin_opt.zero_grad()
        return loss

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def pytorch():
        loss = torch.nn.functional.cross_entropy(theirs(xt), yt)
        loss.backward()
        their_opt.step()
        their_opt.zero_grad(set_to_none=True)
        return loss

    first = (float(eager().item()), float(pytorch().item()))
    tracemalloc.start()  # before the jit's first call, so that the buffers a replay keeps are counted as held
    before = tracemalloc.get_traced_memory()[0]
    replayed(x, y), replayed(x, y), replayed(x, y)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    memory = {"eager": peak_of(eager), "jit": peak_of(lambda: replayed(x, y))}
    faults = {"eager": faults_of(eager), "jit": faults_of(lambda: replayed(x, y)), "pytorch": faults_of(pytorch)}
    samples = turns({"eager": eager, "jit": lambda: replayed(x, y), "pytorch": pytorch}, rounds, calls)
    return {"first_losses": first, "ms": {k: 1e3 * statistics.median(v) for k, v in samples.items()},
            "eager / pytorch": ratio(samples, "eager", "pytorch"), "jit / pytorch": ratio(samples, "jit", "pytorch"),
            "jit / eager": ratio(samples, "jit", "eager"), "peak_mb": memory, "jit_held_mb": held / 1e6,
            "page_faults": faults}


def peak_of(step):
    """Peak traced memory (MB) of one step above what was held before it, after a warm-up step."""
    step()
    tracemalloc.start()
    held = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1] - held
    tracemalloc.stop()
    return peak / 1e6


def faults_of(step, calls=5):
    """Minor page faults per step: pages the kernel mapped (and zeroed) afresh."""
    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def lenet(rounds, calls):
    from lenet import TinygradJitLeNet, TinygradLeNet, TorchLeNet, initial_state, mnist_like_batch

    x, y = mnist_like_batch(np.random.default_rng(0))
    state = initial_state()
    impls = [TinygradLeNet(state, 0.01), TinygradJitLeNet(state, 0.01), TorchLeNet(state, 0.01)]
    first = [m.step(x, y) for m in impls]
    impls[1].step(x, y)
    samples = turns({m.name: (lambda m=m: m.step(x, y)) for m in impls}, rounds, calls)
    return {"first_losses": first, "ms": {k: 1e3 * statistics.median(v) for k, v in samples.items()},
            "eager / pytorch": ratio(samples, "tinygrad_np", "pytorch"),
            "jit / pytorch": ratio(samples, "tinygrad_np jit", "pytorch")}


def mlp(rounds, calls):
    from numpy_mlp import NumpyMLP
    from run import initial_params, mnist_batch
    from tinygrad_mlp import TinygradJitMLP

    rows = {}
    rng = np.random.default_rng(0)
    for batch, hidden in ((32, 128), (128, 128), (512, 1000)):
        x, y, _ = mnist_batch(batch, rng)
        params = initial_params(hidden, rng)
        impls = [TinygradJitMLP(params, 0.01), NumpyMLP(params, 0.01)]
        for m in impls:
            m.step(x, y), m.step(x, y)
        n = calls * max(1, 512 // batch)
        samples = turns({m.name: (lambda m=m: m.step(x, y)) for m in impls}, rounds, n)
        rows[f"B{batch} H{hidden}"] = ratio(samples, "tinygrad_np jit", "numpy")
    return rows


def worker(args):
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1, user_api="blas")  # threadpoolctl itself: an earlier checkout (--base) has no set_num_threads
    if args.reuse:
        tg.reuse_freed_memory()
    blas = [f"{i['internal_api']} {i.get('version')}, {i.get('architecture')} kernel, {i['num_threads']} thread"
            for i in threadpool_info() if i["user_api"] == "blas"]
    report = {"blas": "; ".join(blas) + (f" (OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']})"
                                         if "OPENBLAS_CORETYPE" in os.environ else ""),
              "pytorch": f"{torch.__version__}, {torch.get_num_threads()} thread", "reuse_freed_memory": args.reuse,
              "tinygrad_np": str(Path(tg.__file__).parent)}
    report["residual_cnn"] = residual_cnn(args.rounds, args.calls)
    report["lenet"] = lenet(args.rounds, args.calls)
    report["mlp"] = mlp(args.rounds, args.calls)
    print(json.dumps(report))


def run(kind, args, reuse=False):
    env = dict(os.environ)
    if args.base:  # an earlier commit's tinygrad_np, first on the path (the benchmark code stays this checkout's)
        env["PYTHONPATH"] = os.pathsep.join([args.base_folder, env.get("PYTHONPATH", "")])
    if kind == "native":
        for name in PINNING:
            env.pop(name, None)
    command = [sys.executable, __file__, "--worker", "--rounds", str(args.rounds), "--calls", str(args.calls)]
    out = subprocess.run(command + (["--reuse"] if reuse else []), env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def table(reports):
    """Markdown: one column per run (pinned, native, ...)."""
    names = list(reports)
    lines = ["| measure | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]

    def row(label, get, fmt="{:.2f}"):
        lines.append(f"| {label} | " + " | ".join(fmt.format(get(reports[n])) for n in names) + " |")

    row("residual CNN step, jit ÷ PyTorch", lambda r: r["residual_cnn"]["jit / pytorch"])
    row("residual CNN step, eager ÷ PyTorch", lambda r: r["residual_cnn"]["eager / pytorch"])
    row("residual CNN step, ms: eager / jit / PyTorch", lambda r: r["residual_cnn"]["ms"],
        "{0[eager]:.1f} / {0[jit]:.1f} / {0[pytorch]:.1f}")
    row("residual CNN replay ÷ eager", lambda r: r["residual_cnn"]["jit / eager"])
    row("residual CNN peak traced memory of a step, MB: eager / jit (+ held by the jit)",
        lambda r: (r["residual_cnn"]["peak_mb"], r["residual_cnn"]["jit_held_mb"]),
        "{0[0][eager]:.0f} / {0[0][jit]:.0f} (+ {0[1]:.0f})")
    row("residual CNN memory of a replayed step ÷ the eager step's (the jit's peak above the step's start plus "
        "what it keeps between steps, ÷ eager's peak)",
        lambda r: (r["residual_cnn"]["peak_mb"]["jit"] + r["residual_cnn"]["jit_held_mb"])
        / r["residual_cnn"]["peak_mb"]["eager"])
    row("residual CNN page faults a step: eager / jit / PyTorch", lambda r: r["residual_cnn"]["page_faults"],
        "{0[eager]:.0f} / {0[jit]:.0f} / {0[pytorch]:.0f}")
    row("LeNet-5 step, jit ÷ PyTorch", lambda r: r["lenet"]["jit / pytorch"])
    row("LeNet-5 step, eager ÷ PyTorch", lambda r: r["lenet"]["eager / pytorch"])
    row("MNIST MLP replay ÷ hand-written NumPy, B32 / B128 / B512", lambda r: r["mlp"],
        "{0[B32 H128]:.2f} / {0[B128 H128]:.2f} / {0[B512 H1000]:.2f}")
    blas = [f"{n}: {r['blas']}" for n, r in reports.items()]
    first = reports[names[0]]
    where = f"tinygrad_np from {first['tinygrad_np']}. " if "tinygrad_np" in first else ""
    return "\n".join(lines) + f"\n\n{where}NumPy's BLAS — " + "; ".join(blas) + f". PyTorch {first['pytorch']}.\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--reuse", action="store_true", help="also run with tg.reuse_freed_memory()")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--calls", type=int, default=None)
    p.add_argument("--pinned-only", action="store_true", help="skip the native run")
    p.add_argument("--base", help="measure this commit's tinygrad_np instead (git archive into a temporary folder)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", help="write the reports here")
    p.add_argument("--save", action="store_true", help="write the table to benchmarks/results/targets.md, which "
                   "run.py --readme copies into docs/benchmarks.md, and into README.md's speed section")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 11)
    args.calls = args.calls or (1 if args.quick else 3)
    if args.worker:
        return worker(args)
    with tempfile.TemporaryDirectory() as folder:
        args.base_folder = folder
        if args.base:
            archive = subprocess.run(["git", "-C", str(Path(__file__).resolve().parents[1]), "archive", args.base,
                                      "tinygrad_np"], check=True, capture_output=True).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(folder, filter="data")
        reports = measure_all(args)
    text = table(reports)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1))
    if args.save:
        from tinygrad_np.fileio import atomic_write

        with atomic_write(Path(__file__).resolve().parent / "results" / "targets.md", "w") as f:
            f.write(TITLE + text)
        readme = Path(__file__).resolve().parents[1] / "README.md"
        start, end = "<!-- targets:start -->", "<!-- targets:end -->"
        head, rest = readme.read_text().split(start, 1)
        with atomic_write(readme, "w") as f:
            f.write(f"{head}{start}\n{text}{end}{rest.split(end, 1)[1]}")


def measure_all(args):
    reports = {"pinned": run("pinned", args)}
    if not args.pinned_only:
        reports["native (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset)"] = run("native", args)
    if args.reuse:
        reports["pinned, reuse_freed_memory()"] = run("pinned", args, reuse=True)
    return reports


if __name__ == "__main__":
    main()
