"""Hyperparameters, the original notebook's first item of future work: train the MNIST MLP over a grid.

    python examples/sweep.py            # 4 optimizers x 3 learning rates x 3 hidden sizes, ~3 min on 2 cores
    python examples/sweep.py --quick    # a tiny grid on a slice of the data, for CI

For each optimizer the learning rates are its default (mnist_dnn.DEFAULT_LR)
times each ``--lr-scales`` factor, so one grid suits SGD and Adam alike. Each
cell is a short run of mnist_dnn.py's own loop (cosine schedule, batch 128)
from the same seed. Writes ``sweep.csv``, ``sweep.md`` (the table) and
``heatmap.png`` (test accuracy, one panel per optimizer) to ``--out``.
"""
import argparse
import csv
import datetime
import os
import time

import mnist_dnn  # beside this script: its arguments, data, model and loop
import numpy as np

import tinygrad_np as tg
from tinygrad_np.data import MnistData
from tinygrad_np.fileio import atomic_write


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--optimizers", nargs="+", choices=list(mnist_dnn.DEFAULT_LR), default=list(mnist_dnn.DEFAULT_LR),
                   help="the optimizers to try, each at its default learning rate times each --lr-scales")
    p.add_argument("--lr-scales", nargs="+", type=mnist_dnn.positive_float, default=[0.3, 1.0, 3.0],
                   help="multiples of each optimizer's default learning rate")
    p.add_argument("--hidden", nargs="+", type=mnist_dnn.positive_int, default=[64, 256, 800],
                   help="the hidden sizes to try")
    p.add_argument("--epochs", type=mnist_dnn.positive_int, default=2, help="passes over the training set per run")
    p.add_argument("--seed", type=mnist_dnn.non_negative_int, default=0,
                   help="for the weights and the batch order, the same in every run")
    p.add_argument("--data-dir", type=mnist_dnn.folder,
                   help="folder with the four MNIST files; None means $TINYGRAD_NP_DATA, the cache, a download, "
                        "else the bundled sample")
    p.add_argument("--out", type=mnist_dnn.folder, help="output folder; None means runs/sweep-<timestamp>")
    p.add_argument("--quick", action="store_true",
                   help="2 optimizers x 2 learning rates x 2 hidden sizes, 2 epochs on 6,000 images (all 2,000 "
                        "of the bundled sample without MNIST), for CI")
    args = p.parse_args(argv)
    if args.quick:
        args.optimizers, args.lr_scales, args.hidden, args.epochs = ["momentum", "adam"], [0.1, 1.0], [16, 64], 2
    return args


def run_cell(sweep, optimizer, lr, hidden, data):
    """One short training run; returns its row of the table."""
    flags = ["--optimizer", optimizer, "--lr", str(lr), "--hidden", str(hidden), "--epochs", str(sweep.epochs),
             "--seed", str(sweep.seed), "--no-plots"]
    args = mnist_dnn.parse_args(flags)
    x_train, y_train, x_test, y_test = data
    model = mnist_dnn.MLP(hidden, np.random.default_rng(sweep.seed))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            history, _, _, seconds = mnist_dnn.train(args, model, x_train, y_train, x_test, y_test, verbose=False)
            test_accuracy, test_loss = history[-1]["test_accuracy"], history[-1]["test_loss"]
        except FloatingPointError:  # this learning rate diverged: a result too
            test_accuracy, test_loss, seconds = float("nan"), float("nan"), float("nan")
    return {"optimizer": optimizer, "lr": lr, "hidden": hidden, "epochs": sweep.epochs,
            "test_accuracy": test_accuracy, "test_loss": test_loss, "seconds": seconds}


def table(rows):
    lines = ["| optimizer | lr | hidden | test accuracy | test loss | seconds |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        accuracy = "diverged" if np.isnan(r["test_accuracy"]) else f"{100 * r['test_accuracy']:.2f}%"
        lines.append(f"| {r['optimizer']} | {r['lr']:g} | {r['hidden']} | {accuracy} | {r['test_loss']:.4f} "
                     f"| {r['seconds']:.2f} |")
    return "\n".join(lines) + "\n"


def heatmap(rows, sweep, path, note):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mnist_plots  # beside this script

    optimizers = sweep.optimizers
    fig, axes = plt.subplots(1, len(optimizers), figsize=(3.6 * len(optimizers), 3.9), squeeze=False,
                             layout="constrained")
    best = best_run(rows)
    for ax, optimizer in zip(axes[0], optimizers, strict=True):
        cells = [r for r in rows if r["optimizer"] == optimizer]
        grid = np.array([[next(r["test_accuracy"] for r in cells if r["hidden"] == h and r["lr"] == lr)
                          for lr in sorted({r["lr"] for r in cells})] for h in sweep.hidden])
        low = 100 * np.nanmin([r["test_accuracy"] for r in rows] + [1])
        high = 100 * best["test_accuracy"] if best else 100.0
        im = ax.imshow(100 * grid, cmap="viridis", vmin=low, vmax=high)
        lrs = sorted({r["lr"] for r in cells})
        for i, h in enumerate(sweep.hidden):
            for j, lr in enumerate(lrs):
                value = grid[i, j]
                text = "diverged" if np.isnan(value) else f"{100 * value:.1f}"
                star = "*" if best and (optimizer, lr, h) == (best["optimizer"], best["lr"], best["hidden"]) else ""
                bright = not np.isnan(value) and 100 * value > low + 0.6 * (high - low)  # viridis turns yellow
                ax.text(j, i, text + star, ha="center", va="center", fontsize=8, color="black" if bright else "white")
        ax.set(xticks=range(len(lrs)), xticklabels=[f"{lr:g}" for lr in lrs], yticks=range(len(sweep.hidden)),
               yticklabels=sweep.hidden, xlabel="learning rate", ylabel="hidden units", title=optimizer)
    fig.colorbar(im, ax=axes[0].tolist(), label="test accuracy (%)")
    fig.suptitle(f"Test accuracy after {sweep.epochs} epoch(s) from seed {sweep.seed}; * the best" +
                 (f"\n({note})" if note else ""))
    mnist_plots.save_png(fig, path)


def main(argv=None):
    sweep = parse_args(argv)
    tg.reuse_freed_memory()
    out = sweep.out or os.path.join("runs", "sweep-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    data_args = mnist_dnn.parse_args(["--data-dir", sweep.data_dir] if sweep.data_dir else [])
    if sweep.quick:
        data_args.train_size, data_args.test_size = 6000, 1000
    x_train, y_train, x_test, y_test, _, dataset = mnist_dnn.load_data(data_args)
    notes = ([f"QUICK: 2 epochs on {len(x_train):,} images"] if sweep.quick else []) + (
        [MnistData.SAMPLE_NOTE] if dataset["sample"] else [])
    # 0.001 * 0.1 printed as 0.0001, not 0.00010000000000000002
    cells = [(o, float(f"{mnist_dnn.DEFAULT_LR[o] * s:.6g}"), h)
             for o in sweep.optimizers for s in sweep.lr_scales for h in sweep.hidden]
    print(f"data: {dataset['name']}, {len(x_train)} train, {len(x_test)} test images; {len(cells)} runs of "
          f"{sweep.epochs} epoch(s)", flush=True)
    rows, start = [], time.perf_counter()
    for n, (optimizer, lr, hidden) in enumerate(cells, 1):
        row = run_cell(sweep, optimizer, lr, hidden, (x_train, y_train, x_test, y_test))
        rows.append(row)
        print(f"[{n:2d}/{len(cells)}] {optimizer:8s} lr {lr:<8g} hidden {hidden:4d}: "
              f"test accuracy {100 * row['test_accuracy']:6.2f}%  ({row['seconds']:.2f} s)", flush=True)
    with atomic_write(os.path.join(out, "sweep.csv"), "w") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with atomic_write(os.path.join(out, "sweep.md"), "w") as f:
        f.write(table(rows))
    heatmap(rows, sweep, os.path.join(out, "heatmap.png"), "; ".join(notes))
    print(f"\n{table(rows)}\nswept in {time.perf_counter() - start:.0f} s; results in {out}")
    for note in notes:
        print(f"NOTE: {note}: not a real result")
    print(best_line(rows))
    return rows


def best_run(rows):
    """The row with the highest test accuracy, or None when every run diverged (there is no best then)."""
    finished = [r for r in rows if not np.isnan(r["test_accuracy"])]
    return max(finished, key=lambda r: r["test_accuracy"]) if finished else None


def best_line(rows):
    best = best_run(rows)
    if best is None:
        return f"every one of the {len(rows)} runs diverged: there is no best; try smaller learning rates"
    return (f"best: {best['optimizer']} lr {best['lr']:g} hidden {best['hidden']}: "
            f"test accuracy {100 * best['test_accuracy']:.2f}%")


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
