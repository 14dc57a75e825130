"""Benchmarks: tinygrad_np against hand-written NumPy, PyTorch and the BLAS limit.

    python benchmarks/run.py            # the full grid; writes benchmarks/results/latest.{md,json}
    python benchmarks/run.py --quick    # seconds: a smoke test for CI
    python benchmarks/run.py --readme   # also write docs/benchmarks.md and the short table in README.md
    python benchmarks/run.py --readme --from benchmarks/results/latest.json   # the same from a saved run

The implementations take turns within each of many rounds, with a pause
between libraries so one library's idle BLAS/OpenMP threads do not slow the
next. Times are medians over rounds; ratios are medians of the ratio within
each round, so the shared machine's drift cancels.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chain import per_node_microseconds  # noqa: E402
from lenet import TinygradJitLeNet, TinygradLeNet, TorchLeNet, initial_state, mnist_like_batch  # noqa: E402
from numpy_mlp import NumpyMLP  # noqa: E402
from tinygrad_mlp import TinygradJitMLP, TinygradLinearMLP, TinygradMLP  # noqa: E402
from torch_mlp import TorchMLP, torch  # noqa: E402

import tinygrad_np as tg  # noqa: E402
from tinygrad_np.nn.init import kaiming_uniform_  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRID = [(b, h) for h in (128, 1000) for b in (32, 128, 512)]
LR = 0.01


# ---- inputs ---------------------------------------------------------------------------------------
def mnist_batch(batch, rng):
    """A batch of real MNIST when TINYGRAD_NP_DATA is set, else random data of the same shape."""
    folder = os.environ.get("TINYGRAD_NP_DATA")
    if folder:
        from tinygrad_np.data import load_mnist, normalize

        images, labels = load_mnist(folder)[:2]
        rows = rng.choice(len(images), batch, replace=False)
        return normalize(images[rows].reshape(batch, -1)), labels[rows].astype(np.int64), "MNIST"
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    return x, rng.integers(0, 10, batch).astype(np.int64), "random"


def initial_params(hidden, rng):
    def he(n_in, n_out):  # as the MNIST example initialises its (in, out) weights
        return kaiming_uniform_(tg.zeros(n_in, n_out), mode="fan_out", nonlinearity="relu", rng=rng).data

    return [he(784, hidden), np.zeros(hidden, np.float32), he(hidden, 10), np.zeros(10, np.float32)]


# ---- timing ---------------------------------------------------------------------------------------
def seconds_per_call(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def calibrate(fn, target):
    """How many calls of fn take about ``target`` seconds (at least 3)."""
    fn()
    once = seconds_per_call(fn, 3)
    return max(3, int(target / max(once, 1e-9)))


def take_turns(candidates, repeats, target, pause, same_library=()):
    """Seconds per call of each candidate, over ``repeats`` rounds in which they take turns.

    Returns the samples, one per round and candidate. The order rotates every
    round. Before a candidate runs, the benchmark pauses for ``pause`` seconds
    so the previous library's idle BLAS/OpenMP threads settle, except between
    candidates listed in ``same_library`` (tinygrad_np and hand-written NumPy
    share NumPy's BLAS and its threads).
    """
    calls = {name: calibrate(fn, target) for name, fn in candidates.items()}
    samples = {name: [] for name in candidates}
    names = list(candidates)
    previous = None
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:  # rotate who goes first
            if not (previous in same_library and name in same_library):
                time.sleep(pause)
            candidates[name]()  # warm caches and thread pools
            samples[name].append(seconds_per_call(candidates[name], calls[name]))
            previous = name
    return samples


def paired_ratio(samples, a, b):
    """Median over rounds of a's time / b's time in the same round: drift on a shared machine cancels."""
    return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))


def training_steps(configs, repeats, target, pause, rng):
    """Wall time with every library's default threads (2 on CI's machines), implementations taking turns."""
    rows = []
    for batch, hidden in configs:
        x, y, source = mnist_batch(batch, rng)
        params = initial_params(hidden, rng)
        impls = [TinygradMLP(params, LR), NumpyMLP(params, LR)]
        if torch is not None:
            impls.append(TorchMLP(params, LR))
        samples = take_turns({m.name: (lambda m=m: m.step(x, y)) for m in impls}, repeats, target, pause,
                             same_library=("tinygrad_np", "numpy"))
        medians = {name: statistics.median(s) for name, s in samples.items()}
        limit, gflops = gemm_limit(batch, hidden, repeats, target)
        row = {"batch": batch, "hidden": hidden, "data": source, "seconds": medians, "samples": samples,
               "gemm_limit_seconds": limit, "blas_gflops": gflops}
        row["vs_numpy"] = paired_ratio(samples, "tinygrad_np", "numpy")
        if "pytorch" in medians:
            row["vs_pytorch"] = paired_ratio(samples, "tinygrad_np", "pytorch")
        row["fraction_of_limit"] = {name: limit / s for name, s in medians.items()}
        rows.append(row)
        print(format_step_row(row), flush=True)
    return rows


def training_steps_one_thread(configs, repeats, target, rng):
    """The steadier measurement: BLAS pinned to one thread, each implementation's thread CPU time
    (time.thread_time, which a busy neighbour on a shared machine does not inflate), the implementations
    alternating within every round. tinygrad_np in the MNIST example's form (x @ W1 + b1) and with
    nn.Linear layers, each against hand-written NumPy. Returns None without threadpoolctl to pin BLAS."""
    limiter = _one_blas_thread()
    if limiter is None:
        return None
    rows = []
    try:
        for batch, hidden in configs:
            x, y, _ = mnist_batch(batch, rng)
            params = initial_params(hidden, rng)
            impls = [TinygradMLP(params, LR), TinygradJitMLP(params, LR), TinygradLinearMLP(params, LR),
                     NumpyMLP(params, LR)]
            for m in impls:
                m.step(x, y), m.step(x, y)  # the jitted step traces on its first two calls
            calls = max(3, int(target / max(1e-9, _thread_seconds(lambda: impls[-1].step(x, y), 3))))
            samples = {m.name: [] for m in impls}
            for r in range(repeats):
                for m in impls[r % len(impls):] + impls[:r % len(impls)]:
                    samples[m.name].append(_thread_seconds(lambda m=m: m.step(x, y), calls))
            row = {"batch": batch, "hidden": hidden, "ms": {k: 1e3 * statistics.median(v) for k, v in samples.items()},
                   "vs_numpy": {k: paired_ratio(samples, k, "numpy") for k in samples if k != "numpy"}}
            rows.append(row)
            print(f"one thread, CPU time: batch {batch:4d} hidden {hidden:4d}: "
                  + "  ".join(f"{k} / numpy {v:.3f}" for k, v in row["vs_numpy"].items()), flush=True)
    finally:
        limiter.__exit__(None, None, None)
    return rows


def guard_cost(repeats, calls, rng):
    """What tg.jit pays on each call before it replays: the guards (every value the trace read, checked), timed
    alone and against the whole replayed MNIST step (batch 32, hidden 128), one BLAS thread, thread CPU time,
    alternating. Returns None without threadpoolctl."""
    limiter = _one_blas_thread()
    if limiter is None:
        return None
    try:
        x, y, _ = mnist_batch(32, rng)
        m = TinygradJitMLP(initial_params(128, rng), LR)
        for _ in range(3):
            m.step(x, y)
        entry = m.jitted._last
        guards, steps = [], []
        for _ in range(repeats):
            guards.append(_thread_seconds(entry.holds, calls * 20))
            steps.append(_thread_seconds(lambda: m.jitted(x, y), calls))
        guard, step = statistics.median(guards), statistics.median(steps)
        row = {"checks": len(entry.guards.checks), "guards_us": 1e6 * guard, "replay_us": 1e6 * step,
               "share": guard / step}
        print(f"guards of a replayed MNIST step (batch 32): {row['checks']} checks, {row['guards_us']:.2f} us, "
              f"{100 * row['share']:.2f}% of the replayed step", flush=True)
        return row
    finally:
        limiter.__exit__(None, None, None)


def _thread_seconds(fn, calls):
    start = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - start) / calls


def peak_memory_of_a_step(batch, hidden, rng):
    """Peak traced memory (MB) above what was held before, during one training step, after a warm-up step."""
    x, y, _ = mnist_batch(batch, rng)
    params = initial_params(hidden, rng)
    result = {}
    for m in (TinygradMLP(params, LR), TinygradLinearMLP(params, LR), NumpyMLP(params, LR)):
        m.step(x, y)
        tracemalloc.start()
        held = tracemalloc.get_traced_memory()[0]
        m.step(x, y)
        result[m.name] = (tracemalloc.get_traced_memory()[1] - held) / 1e6
        tracemalloc.stop()
    return {"batch": batch, "hidden": hidden, "peak_mb": result}


def chain_cost(repeats, length, calls):
    """Per-node cost on a 1,000-op chain; implementations take turns, CPU time of this thread, BLAS unused."""
    def turns(candidates, rounds, n):
        samples = {name: [] for name in candidates}
        for r in range(rounds):
            names = list(candidates)
            for name in names[r % len(names):] + names[:r % len(names)]:
                fn = candidates[name]
                fn()
                start = time.thread_time()
                for _ in range(n):
                    fn()
                samples[name].append((time.thread_time() - start) / n)
        return samples

    return per_node_microseconds(repeats, length, calls, turns, torch is not None)


def lenet_step(repeats, calls):
    """LeNet-5's training step, tinygrad_np against PyTorch from the same weights, taking turns: wall time
    with every library's default threads, and, steadier, each thread's CPU time with one BLAS/PyTorch
    thread (PyTorch's intra-op threads set to 1; NumPy's BLAS pinned where threadpoolctl is installed)."""
    if torch is None:
        return None
    x, y = mnist_like_batch(np.random.default_rng(0))
    state = initial_state()
    impls = [TinygradLeNet(state, LR), TinygradJitLeNet(state, LR), TorchLeNet(state, LR)]
    first = [m.step(x, y) for m in impls]
    impls[1].step(x, y)  # its second traced call: from here on it replays
    result = {"first_losses": first}
    for mode in ("wall", "cpu, one thread"):
        clock = time.perf_counter if mode == "wall" else time.thread_time
        threads = torch.get_num_threads()
        if mode != "wall":
            torch.set_num_threads(1)
        limiter = _one_blas_thread() if mode != "wall" else None
        try:
            samples = {m.name: [] for m in impls}
            for r in range(repeats):
                for m in impls[r % len(impls):] + impls[:r % len(impls)]:
                    m.step(x, y)
                    start = clock()
                    for _ in range(calls):
                        m.step(x, y)
                    samples[m.name].append((clock() - start) / calls)
        finally:
            torch.set_num_threads(threads)
            if limiter is not None:
                limiter.__exit__(None, None, None)
        result[mode] = {"ms": {k: 1e3 * statistics.median(v) for k, v in samples.items()},
                        "ratio": paired_ratio(samples, "tinygrad_np", "pytorch"),
                        "jit_ratio": paired_ratio(samples, "tinygrad_np jit", "pytorch"),
                        "blas_pinned": limiter is not None or mode == "wall"}
    return result


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    limiter = threadpool_limits(1)
    return limiter


def gemm_limit(batch, hidden, repeats, target):
    """The step's five matrix products, timed alone in BLAS: no step can be faster than their sum."""
    rng = np.random.default_rng(0)

    def m(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    x, w1, a1, w2, p = m(batch, 784), m(784, hidden), m(batch, hidden), m(hidden, 10), m(batch, 10)
    products = [(x, w1), (a1, w2), (a1.T, p), (p, w2.T), (x.T, a1)]  # forward two, backward three
    total, flops = 0.0, 0
    for a, b in products:
        out = np.empty((a.shape[0], b.shape[1]), np.float32)
        def fn(a=a, b=b, out=out):
            return np.matmul(a, b, out=out)

        calls = calibrate(fn, target / 5)
        total += statistics.median(seconds_per_call(fn, calls) for _ in range(repeats))
        flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]
    return total, flops / total / 1e9


def per_op_overhead(repeats, calls):
    """Microseconds per elementwise op on a 4-element tensor: forward, and forward plus backward."""
    results = {}
    base = np.linspace(0.1, 1.0, 4, dtype=np.float32)
    seed = np.ones(4, np.float32)
    ops = {"mul": (lambda t: t * t, lambda a: a * a), "add": (lambda t: t + t, lambda a: a + a),
           "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0)), "exp": (lambda t: t.exp(), np.exp)}
    for name, (op, numpy_op) in ops.items():
        t = tg.Tensor(base.copy(), requires_grad=True)
        g = tg.Tensor(seed)
        candidates = {
            "numpy forward": lambda: numpy_op(base),
            "tinygrad_np forward": lambda: op(t),
            "tinygrad_np forward+backward": lambda: op(t).backward(g),
        }
        if torch is not None:
            tt, tgrad = torch.from_numpy(base.copy()).requires_grad_(), torch.from_numpy(seed)
            torch_op = {"mul": lambda: tt * tt, "add": lambda: tt + tt, "relu": lambda: tt.relu(),
                        "exp": lambda: tt.exp()}[name]
            candidates["pytorch forward"] = torch_op
            candidates["pytorch forward+backward"] = lambda: torch_op().backward(tgrad)
        samples = {k: [] for k in candidates}
        for _ in range(repeats):
            for k, fn in candidates.items():
                samples[k].append(seconds_per_call(fn, calls) * 1e6)
        results[name] = {k: statistics.median(v) for k, v in samples.items()}
    return results


def safety_check_cost(repeats, calls, steps):
    """What refusing in-place changes costs: the version check backward makes per op (one comparison with
    the newest in-place change, and a look at each input for an op recorded before that change), the
    optimizer's version bump per parameter, and the .data property, in microseconds; and per MNIST
    training step, as a fraction of the batch-128, hidden-128 step measured above."""
    from tinygrad_np.core.backward_checks import check_unchanged
    from tinygrad_np.core.tensor import changes

    a, b, c = (tg.Tensor(np.ones(4, np.float32), requires_grad=True) for _ in range(3))
    out = a * b
    op = out.op
    array = c.data
    candidates = {"version check per op": lambda: changes.newest > op.seq and check_unchanged(op, out),
                  "inputs checked after a change": lambda: check_unchanged(op, out),
                  # c is not in the graph: changing it leaves the checks above passing, in any order
                  "version bump per parameter": c.bump_version,
                  ".data read": lambda: c.data, ".data assignment": lambda: setattr(c, "data", array)}
    costs = {k: statistics.median(seconds_per_call(fn, calls) for _ in range(repeats)) * 1e6
             for k, fn in candidates.items()}
    x, y = mnist_batch(128, np.random.default_rng(0))[:2]
    model = TinygradMLP(initial_params(128, np.random.default_rng(0)), LR)
    with tg.trace(quiet=True) as visited:
        model.step(x, y)
    ops, params = len(visited.steps), 4
    per_step = ops * costs["version check per op"] + params * costs["version bump per parameter"]
    row = next((r for r in steps if (r["batch"], r["hidden"]) == (128, 128)), steps[0])
    step_us = row["seconds"]["tinygrad_np"] * 1e6
    return {"microseconds": costs, "ops_per_step": ops, "per_step_us": per_step,
            "step": f"batch {row['batch']}, hidden {row['hidden']}", "fraction_of_step": per_step / step_us}


def memory_per_epoch(epochs, n, batch, hidden, rng):
    """Peak and retained traced memory (MB) of training epochs; retained must not grow."""
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    model = TinygradMLP(initial_params(hidden, rng), LR)
    tracemalloc.start()
    rows = []
    for epoch in range(1, epochs + 1):
        tracemalloc.reset_peak()
        for i in range(0, n, batch):
            model.step(x[i:i + batch], y[i:i + batch])
        current, peak = tracemalloc.get_traced_memory()
        rows.append({"epoch": epoch, "peak_mb": peak / 1e6, "retained_mb": current / 1e6})
    tracemalloc.stop()
    growth = rows[-1]["retained_mb"] - rows[0]["retained_mb"]
    return {"batch": batch, "hidden": hidden, "examples": n, "epochs": rows, "retained_growth_mb": growth,
            "grows": growth > 0.1}


# ---- reporting ------------------------------------------------------------------------------------
def machine():
    info = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "cores": os.cpu_count()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["blas"] = tg.blas_description()  # the library, its kernel (and what pinned it) and its threads
    if torch is not None:
        info["pytorch"] = torch.__version__
        info["pytorch_threads"] = torch.get_num_threads()
    return info


def format_step_row(row):
    s = row["seconds"]
    parts = [f"batch {row['batch']:4d} hidden {row['hidden']:4d}:"]
    parts += [f"{name} {1e3 * t:7.3f} ms" for name, t in s.items()]
    parts.append(f"limit {1e3 * row['gemm_limit_seconds']:.3f} ms")
    parts.append(f"tg/np {row['vs_numpy']:.3f}")
    if "vs_pytorch" in row:
        parts.append(f"tg/torch {row['vs_pytorch']:.3f}")
    return "  ".join(parts)


def markdown(report):
    m = report["machine"]
    lines = [f"Machine: {m.get('cpu', m['machine'])}, {m['cores']} cores; Python {m['python']}, NumPy {m['numpy']} "
             f"({m['blas']})" + (f", PyTorch {m['pytorch']} ({m['pytorch_threads']} threads)" if "pytorch" in m else "")
             + f". {report['repeats']} rounds; times are medians, ratios are medians of the per-round ratios; "
             f"data: {report['steps'][0]['data']}.", "",
             "**Training step** (forward, backward, SGD update), float32, milliseconds per step:", "",
             "| batch | hidden | tinygrad_np | NumPy by hand | PyTorch | tinygrad_np / NumPy | tinygrad_np / PyTorch "
             "| GEMM limit | tinygrad_np at % of limit |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in report["steps"]:
        s = r["seconds"]
        torch_ms = f"{1e3 * s['pytorch']:.3f}" if "pytorch" in s else "n/a"
        vs_torch = f"{r['vs_pytorch']:.3f}" if "vs_pytorch" in r else "n/a"
        lines.append(f"| {r['batch']} | {r['hidden']} | {1e3 * s['tinygrad_np']:.3f} | {1e3 * s['numpy']:.3f} | "
                     f"{torch_ms} | {r['vs_numpy']:.3f} | {vs_torch} | {1e3 * r['gemm_limit_seconds']:.3f} | "
                     f"{100 * r['fraction_of_limit']['tinygrad_np']:.0f}% |")
    captions = {"steps_one_thread": "The same steps, steadier: BLAS pinned to one thread, each implementation's "
                                    "thread CPU time, alternating in every round (milliseconds; ratios are medians "
                                    "of per-round ratios):",
                "steps_one_thread_reusing_memory": "And so again with freed memory kept for reuse "
                                                   "(`tinygrad_np.reuse_freed_memory()`, which every example calls), "
                                                   "for all three implementations alike:"}
    for key, caption in captions.items():
        if report.get(key):
            lines += ["", caption, ""] + _one_thread_table(report[key])
    lines += ["", "**Per-op overhead**, microseconds per op on a 4-element tensor:", ""]
    columns = list(next(iter(report["per_op"].values())))
    lines.append("| op | " + " | ".join(columns) + " |")
    lines.append("| --- |" + " --- |" * len(columns))
    for op, values in report["per_op"].items():
        lines.append(f"| {op} | " + " | ".join(f"{values[c]:.1f}" for c in columns) + " |")
    chain = report["chain"]
    names = [n for n in next(iter(chain.values())) if n != "ratios"]
    lines += ["", f"**Per node on a long chain** (y = op(y), {report['chain_length']:,} ops on 4 elements, forward "
                  "and backward; microseconds per node, thread CPU time):", "",
              "| op | " + " | ".join(names) + " | " + " | ".join(next(iter(chain.values()))["ratios"]) + " |",
              "| --- |" + " --- |" * (len(names) + len(next(iter(chain.values()))["ratios"]))]
    for op, v in chain.items():
        lines.append(f"| {op} | " + " | ".join(f"{v[n]:.2f}" for n in names) + " | "
                     + " | ".join(f"{r:.2f}" for r in v["ratios"].values()) + " |")
    if report.get("lenet"):
        lenet = report["lenet"]
        lines += ["", f"**LeNet-5 training step** (batch 64, milliseconds, from the same weights: first losses "
                      f"{lenet['first_losses'][0]:.6f} and {lenet['first_losses'][-1]:.6f}):", "",
                  "| malloc | timing | tinygrad_np | tinygrad_np jit | PyTorch | tinygrad_np / PyTorch "
                  "| jit / PyTorch |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for label, key in (("default", "lenet"), ("freed memory reused", "lenet_reusing_memory")):
            for mode, v in (report.get(key) or {}).items():
                if mode != "first_losses":
                    ms = v["ms"]
                    lines.append(f"| {label} | {mode} | {ms['tinygrad_np']:.2f} | {ms['tinygrad_np jit']:.2f} | "
                                 f"{ms['pytorch']:.2f} | {v['ratio']:.2f} | {v['jit_ratio']:.2f} |")
    cost = report["safety"]
    us = cost["microseconds"]
    lines += ["", f"**Refusing in-place changes** costs {us['version check per op']:.2f} µs per op in backward "
                  f"(one comparison with the newest in-place change; {us['inputs checked after a change']:.2f} µs "
                  "for an op recorded before such a change, whose inputs are then looked at one by one) "
                  f"and {us['version bump per parameter']:.2f} µs per parameter in the optimizer: "
                  f"{cost['per_step_us']:.1f} µs for the {cost['ops_per_step']} ops and 4 parameters of the "
                  f"{cost['step']} training step, {100 * cost['fraction_of_step']:.2f}% of it. Reading `.data` "
                  f"costs {us['.data read']:.3f} µs, assigning it {us['.data assignment']:.3f} µs."]
    g = report.get("guards")
    if g:
        lines += ["", f"**`tg.jit`'s guards** (every value the trace read, checked before each replay): "
                      f"{g['checks']} checks for the batch-32 MNIST step, {g['guards_us']:.2f} µs, "
                      f"{100 * g['share']:.2f}% of the replayed step ({g['replay_us']:.0f} µs; one BLAS thread, "
                      "thread CPU time)."]
    mem = report["memory"]
    epochs = ", ".join(f"epoch {e['epoch']}: peak {e['peak_mb']:.1f} MB, retained {e['retained_mb']:.1f} MB"
                       for e in mem["epochs"])
    peak = report.get("step_memory")
    if peak:
        lines += ["", f"**Peak memory of one training step** (tracemalloc, above what the model holds; batch "
                      f"{peak['batch']}, hidden {peak['hidden']}): "
                  + ", ".join(f"{k} {v:.1f} MB" for k, v in peak["peak_mb"].items()) + "."]
    lines += ["", f"**Memory** (tracemalloc, batch {mem['batch']}, hidden {mem['hidden']}, {mem['examples']} examples "
                  f"an epoch): {epochs}; retained memory {'GROWS' if mem['grows'] else 'does not grow'} "
                  f"({mem['retained_growth_mb']:+.2f} MB from the first epoch to the last)."]
    return "\n".join(lines) + "\n"


def _one_thread_table(rows):
    names = list(rows[0]["ms"])
    lines = ["| batch | hidden | " + " | ".join(names) + " | "
             + " | ".join(f"{k} / NumPy" for k in names if k != "numpy")
             + " |", "| --- | --- |" + " --- |" * (2 * len(names) - 1)]
    for r in rows:
        lines.append(f"| {r['batch']} | {r['hidden']} | " + " | ".join(f"{r['ms'][k]:.3f}" for k in names) + " | "
                     + " | ".join(f"{v:.3f}" for v in r["vs_numpy"].values()) + " |")
    return lines


def summary(report):
    """The README's short table: the MNIST step at three sizes, eager and replayed by tg.jit, against hand-written
    NumPy (one thread, CPU time), and a long chain's node against a minimal tape. (LeNet-5 against PyTorch is in
    docs/benchmarks.md; the README's gallery table has the example's own CNN step, from benchmarks/gallery.py.)"""
    rows = {(r["batch"], r["hidden"]): r["vs_numpy"] for r in report.get("steps_one_thread") or ()}
    lines = ["| measure (one BLAS thread, thread CPU time; ratios, lower is faster) | eager | `tg.jit` |",
             "| --- | --- | --- |"]
    for batch, hidden in ((32, 128), (128, 128), (512, 1000)):
        r = rows.get((batch, hidden))
        if r and "tinygrad_np jit" in r:
            lines.append(f"| MNIST step, batch {batch}, hidden {hidden}, ÷ hand-written NumPy | "
                         f"{r['tinygrad_np']:.2f} | {r['tinygrad_np jit']:.2f} |")
    g = report.get("guards")
    if g:
        lines.append(f"| `tg.jit`'s guards, checked before each replay of the batch-32 step ({g['checks']} checks) | "
                     f"| {g['guards_us']:.1f} µs ({100 * g['share']:.1f}%) |")
    for op in ("mul", "tanh"):
        ratios = report["chain"][op]["ratios"]
        lines.append(f"| {report['chain_length']:,}-op `{op}` chain, per node, ÷ a minimal Python tape | "
                     f"{ratios['tinygrad_np / minimal tape']:.2f} | {ratios['tinygrad_np jit / minimal tape']:.2f} |")
    return "\n".join(lines) + "\n"


def write_docs(table, report):
    """docs/benchmarks.md, every table of the run; README.md's block, the short table and a link to it."""
    from tinygrad_np.fileio import atomic_write

    intro = ("# Benchmarks\n\nWritten by `python benchmarks/run.py --readme` (see its docstring for what each "
             "measurement is and how the implementations take turns). The latest run, from the machine it names:\n\n")
    # The other benchmarks' saved tables (targets.py, threads.py write them), after this run's.
    others = "".join("\n" + path.read_text() for path in sorted((ROOT / "benchmarks" / "results").glob("*.md"))
                     if path.name != "latest.md")
    with atomic_write(ROOT / "docs" / "benchmarks.md", "w") as f:
        f.write(intro + table + others)
    update_readme(summary(report) + "\nEvery table of that run, with the machine, is in "
                  "[docs/benchmarks.md](docs/benchmarks.md).\n")


def update_readme(table):
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{readme}: the markers {start} and {end} are missing")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    from tinygrad_np.fileio import atomic_write

    with atomic_write(readme, "w") as f:
        f.write(f"{head}{start}\n{table}{end}{tail}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small configuration, few repeats: seconds")
    parser.add_argument("--repeats", type=int, help="repeats per measurement (default 21, quick 3)")
    parser.add_argument("--out", help="folder for latest.md and latest.json (default benchmarks/results; "
                                      "with --quick, nothing is written unless given)")
    parser.add_argument("--readme", action="store_true",
                        help="write every table into docs/benchmarks.md and the short one into README.md")
    parser.add_argument("--from", dest="saved", help="a saved latest.json to write the tables from, measuring nothing")
    args = parser.parse_args(argv)
    if args.saved:
        report = json.loads(Path(args.saved).read_text())
        table = markdown(report)
        print(table)
        if args.readme:
            write_docs(table, report)
        return 0
    rng = np.random.default_rng(0)
    if torch is not None:
        torch.set_num_threads(os.cpu_count())  # the same thread count as NumPy's BLAS uses by default
    quick = args.quick
    repeats = args.repeats or (3 if quick else 21)
    report = {"machine": machine(), "repeats": repeats, "quick": quick}
    print(json.dumps(report["machine"]))
    report["steps"] = training_steps([(32, 128)] if quick else GRID, repeats, 0.02 if quick else 0.1,
                                     0.02 if quick else 0.5, rng)
    report["steps_one_thread"] = training_steps_one_thread([(32, 128)] if quick else GRID, repeats,
                                                           0.02 if quick else 0.1, rng)
    report["guards"] = guard_cost(repeats, 20 if quick else 200, rng)
    report["step_memory"] = peak_memory_of_a_step(64 if quick else 512, 128 if quick else 1000, rng)
    report["per_op"] = per_op_overhead(repeats, 200 if quick else 5000)
    report["chain_length"] = 100 if quick else 1000
    report["chain"] = chain_cost(repeats, report["chain_length"], 2 if quick else 5)
    report["lenet"] = lenet_step(repeats, 2 if quick else 10)
    # Last, since it changes the whole process's malloc for good: the same LeNet step with freed memory kept
    # for reuse (tinygrad_np.reuse_freed_memory), as the examples run.
    reusing = tg.reuse_freed_memory()
    report["lenet_reusing_memory"] = lenet_step(repeats, 2 if quick else 10) if reusing else None
    report["steps_one_thread_reusing_memory"] = training_steps_one_thread(
        [(32, 128)] if quick else GRID, repeats, 0.02 if quick else 0.1, rng) if reusing else None
    report["safety"] = safety_check_cost(repeats, 2000 if quick else 100000, report["steps"])
    report["memory"] = memory_per_epoch(2 if quick else 3, 1024 if quick else 20000, 128, 128 if quick else 1000, rng)
    table = markdown(report)
    print("\n" + table)
    out = Path(args.out) if args.out else (None if quick else ROOT / "benchmarks" / "results")
    if out is not None:
        from tinygrad_np.fileio import atomic_write

        out.mkdir(parents=True, exist_ok=True)
        with atomic_write(out / "latest.json", "w") as f:
            json.dump(report, f, indent=1)
        with atomic_write(out / "latest.md", "w") as f:
            f.write(table)
    if args.readme:
        write_docs(table, report)
    if report["memory"]["grows"]:
        print("memory grows from epoch to epoch", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
