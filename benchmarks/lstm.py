"""A 20-step LSTM layer, forward and backward, in tinygrad_np and PyTorch, side by side in one process.

    python benchmarks/lstm.py            # this machine's BLAS settings as they are (the tests pin OpenBLAS)
    python benchmarks/lstm.py --native   # the same with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset

Three ways to run the layer, from the same weights on the same input: ``nn.LSTM`` (one op per layer,
ops.LSTMSequence), ``nn.LSTMCell`` in a Python loop (about twenty ops a step), and ``torch.nn.LSTM``. Each sample
is the process's CPU time for output.sum().backward() from a fresh graph; BLAS and PyTorch are held to one
thread; the three take turns within every round, and a ratio is the median over rounds of the round's ratio.
"""
import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads its BLAS
if "--native" in sys.argv and os.environ.get("_LSTM_BENCH_NATIVE") != "1":
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["_LSTM_BENCH_NATIVE"] = "1"
    os.execve(sys.executable, [sys.executable] + sys.argv, env)  # OpenBLAS reads them when it loads

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import tinygrad_np as tg  # noqa: E402
from tinygrad_np import nn  # noqa: E402

SIZES = [(20, 1, 8, 16), (20, 32, 32, 64), (20, 64, 128, 256)]  # steps, batch, input, hidden


def contestants(steps, batch, inputs, hidden):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps, batch, inputs)).astype(np.float32)
    fused = nn.LSTM(inputs, hidden, rng=1)
    cell = nn.LSTMCell(inputs, hidden)
    cell.load_state_dict({k[:-3]: v for k, v in fused.state_dict().items()})  # weight_ih_l0 -> weight_ih

    def ours():
        out, _ = fused(tg.Tensor(x))
        out.sum().backward()

    def cells():
        xs, state, outputs = tg.Tensor(x), None, []
        for t in range(steps):
            state = cell(xs[t], state)
            outputs.append(state[0])
        tg.stack(outputs).sum().backward()

    runs = {"nn.LSTM": ours, "LSTMCell loop": cells}
    try:
        import torch
    except ImportError:
        return runs
    torch.set_num_threads(1)
    theirs = torch.nn.LSTM(inputs, hidden)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in fused.state_dict().items()})
    tx = torch.from_numpy(x)

    def pytorch():
        out, _ = theirs(tx)
        out.sum().backward()

    runs["torch.nn.LSTM"] = pytorch
    return runs


def measure(runs, rounds):
    for run in runs.values():
        run()  # warm up
    samples = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.process_time()
            run()
            samples[name].append(time.process_time() - start)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--native", action="store_true", help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE first")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    pinned = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    print(f"OpenBLAS settings: {pinned or 'native (none pinned)'}; one thread; CPU time, median of "
          f"{args.rounds} interleaved rounds")
    print("| steps, batch, input, hidden | nn.LSTM ms | LSTMCell loop ms | torch ms | nn.LSTM / torch | "
          "cells / nn.LSTM |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size in SIZES:
        samples = measure(contestants(*size), args.rounds)
        ms = {name: 1e3 * statistics.median(s) for name, s in samples.items()}

        def ratio(a, b, samples=samples):
            return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))

        torch_ms = f"{ms['torch.nn.LSTM']:.2f}" if "torch.nn.LSTM" in ms else "-"
        vs_torch = f"{ratio('nn.LSTM', 'torch.nn.LSTM'):.2f}" if "torch.nn.LSTM" in ms else "-"
        print(f"| {', '.join(map(str, size))} | {ms['nn.LSTM']:.2f} | {ms['LSTMCell loop']:.2f} | {torch_ms} | "
              f"{vs_torch} | {ratio('LSTMCell loop', 'nn.LSTM'):.2f} |")


if __name__ == "__main__":
    main()
