"""An LSTM that learns the adding problem, trained by backpropagation through time.

    python examples/lstm_sequence.py            # about a minute on 2 cores
    python examples/lstm_sequence.py --quick    # seconds, for CI

Each input is a sequence of (value, marker) pairs: values uniform in [0, 1],
markers 1 at exactly two random positions and 0 elsewhere. The target is the
sum of the two marked values (Hochreiter and Schmidhuber, 1997). Guessing the
mean gives a mean squared error of 1/6 ≈ 0.167; a model that solves the task
must remember the first marked value until it sees the second, across the
whole sequence.

The network is one ``nn.LSTMCell`` unrolled by a Python loop over time and a
linear read-out. ``loss.backward()`` differentiates through the loop
(backpropagation through time) with no new derivation; gradients are clipped
with ``nn.utils.clip_grad_norm_``. Trained on sequences of length
up to ``--length`` (each batch of a random length from half of it), it is
tested at that length and on sequences twice and three times as long, which
it never saw.
"""
import argparse
import json
import os
import time

import numpy as np

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.fileio import atomic_write

CORRECT = 0.04  # an answer within this of the true sum counts as right


def adding_problem(batch, length, rng):
    """(batch, length, 2) inputs and (batch, 1) targets."""
    values = rng.random((batch, length))
    markers = np.zeros((batch, length))
    for row in range(batch):
        markers[row, rng.choice(length, 2, replace=False)] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    return x, (values * markers).sum(axis=1, keepdims=True).astype(np.float32)


class Adder(nn.Module):
    def __init__(self, hidden, rng):
        self.cell = nn.LSTMCell(2, hidden, rng=rng)
        self.readout = nn.Linear(hidden, 1, rng=rng)

    def forward(self, x):
        state = None
        for t in range(x.shape[1]):  # unrolled in Python: backward goes back through every step
            state = self.cell(x[:, t], state)
        return self.readout(state[0])


@tg.no_grad()
def evaluate(model, length, rng, n=1000):
    x, y = adding_problem(n, length, rng)
    error = model(tg.Tensor(x)).data - y
    return float((error ** 2).mean()), float((np.abs(error) < CORRECT).mean())


def main(argv=None):
    p = argparse.ArgumentParser(description="An LSTM on the adding problem, with tinygrad_np.")
    p.add_argument("--length", type=int, default=20, help="the longest sequences in training")
    p.add_argument("--steps", type=int, default=3000, help="training steps, one batch each (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="sequences a step (default: %(default)s)")
    p.add_argument("--hidden", type=int, default=32, help="the LSTM's hidden size (default: %(default)s)")
    p.add_argument("--optimizer", choices=list(optim.DEFAULT_LR), default="adam",
                   help="the optimizer, from tinygrad_np.optim.by_name (default: %(default)s)")
    p.add_argument("--lr", type=float, default=3e-3, help="with a cosine decay (default: %(default)s)")
    p.add_argument("--clip", type=float, default=1.0, help="max gradient norm (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="for the weights and the sequences (default: %(default)s)")
    p.add_argument("--out", help="folder for metrics.json, model.npz and loss.png (default: runs/lstm-<timestamp>)")
    p.add_argument("--no-plots", action="store_true", help="write no loss.png (and need no matplotlib)")
    p.add_argument("--no-jit", action="store_true",
                   help="run each step eagerly, op by op, instead of replaying it with tg.jit "
                   "(the same numbers, slower)")
    p.add_argument("--quick", action="store_true", help="length 8, 600 steps, for CI")
    args = p.parse_args(argv)
    if args.quick:
        args.length, args.steps = 8, 600
    if min(args.length, args.steps, args.batch_size, args.hidden) < 2 or not args.lr > 0 or not args.clip > 0:
        p.error("--length, --steps, --batch-size and --hidden must be at least 2; --lr and --clip positive")
    tg.reuse_freed_memory()  # each step frees and reallocates the same arrays: keep their pages (memory.py)
    rng = np.random.default_rng(args.seed)
    model = Adder(args.hidden, rng)
    opt = optim.by_name(args.optimizer, model.parameters(), args.lr)
    schedule = optim.CosineLR(opt, total=args.steps, warmup=min(100, args.steps // 10))
    def train_step(x, y):
        error = model(x) - y
        loss = (error * error).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)  # replayed: each step's own norm
        opt.step()
        opt.zero_grad()
        return loss

    # Each sequence length is a signature of its own (the loop over time unrolls into the program): room for all.
    train_step = train_step if args.no_jit else tg.jit(train_step, cache_size=args.length + 1)
    losses, start = [], time.perf_counter()
    for step in range(1, args.steps + 1):
        # Lengths vary from batch to batch, so the model cannot count on a fixed distance to the end.
        x, y = adding_problem(args.batch_size, int(rng.integers(args.length // 2, args.length + 1)), rng)
        loss = train_step(tg.Tensor(x), tg.Tensor(y))
        schedule.step()
        losses.append(loss.item())
        if step % max(1, args.steps // 10) == 0:
            print(f"step {step:5d}  mse {np.mean(losses[-50:]):.5f}  ({time.perf_counter() - start:.0f} s)", flush=True)
    seconds = time.perf_counter() - start
    results = {}
    for length in (args.length, 2 * args.length, 3 * args.length):
        mse, correct = evaluate(model, length, np.random.default_rng(1000 + length))
        results[length] = {"mse": mse, "correct": correct}
        trained = "trained length" if length == args.length else "longer than any seen in training"
        print(f"length {length:3d} ({trained}): mse {mse:.5f}, {100 * correct:.1f}% within {CORRECT}")
    args.out = args.out or os.path.join("runs", f"lstm-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.npz"))
    with atomic_write(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"losses": losses, "seconds": seconds, "results": results, "args": vars(args)}, f)
    if not args.no_plots:
        draw_losses(losses, os.path.join(args.out, "loss.png"))
    print(f"trained in {seconds:.0f} s; guessing the mean would give mse 0.167")


def draw_losses(losses, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mnist_plots as plots  # beside this script: save_png

    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(np.arange(1, len(losses) + 1), losses, lw=0.5, alpha=0.6, label="per batch")
    ax.axhline(1 / 6, color="gray", ls="--", label="guessing the mean (1/6)")
    ax.set(xlabel="step", ylabel="mean squared error", yscale="log", title="The adding problem: training loss")
    ax.legend()
    plots.save_png(fig, path, dpi=100)


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
