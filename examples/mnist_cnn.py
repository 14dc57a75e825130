"""A LeNet-style convolutional network on MNIST, written with tinygrad_np's nn layers.

    python examples/mnist_cnn.py              # about 99% test accuracy in a few minutes on 2 cores
    python examples/mnist_cnn.py --quick      # a few hundred steps, for CI
    python examples/mnist_cnn.py --help

The network is LeNet-5 with ReLU and max pooling: conv 6@5x5 (padding 2),
pool, conv 16@5x5, pool, 400 -> 120 -> 84 -> 10. The same ``backward()`` that
trains the MLP trains it: convolution is a strided view and a matrix product,
pooling a maximum over window offsets, and the engine differentiates through
them with no new derivation. Results go to ``--out``: metrics.json,
model.npz, and the MLP example's plots (loss, accuracy, predictions, confusion
matrix) with the first layer's filters in place of its weights.
"""
import argparse
import datetime
import json
import os
import sys
import time

import numpy as np
from mnist_dnn import evaluate, make_step, progress  # beside this script: the MLP example's, which fit any classifier

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.data import DataLoader, load_mnist_or_sample, normalize
from tinygrad_np.fileio import atomic_write
from tinygrad_np.metrics import accuracy


def lenet5(rng):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120, rng=rng), nn.ReLU(),
        nn.Linear(120, 84, rng=rng), nn.ReLU(),
        nn.Linear(84, 10, rng=rng),
    )


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train LeNet-5 on MNIST with tinygrad_np.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--epochs", type=int, default=8, help="passes over the training set")
    p.add_argument("--batch-size", type=int, default=64, help="images a step")
    p.add_argument("--optimizer", choices=list(optim.DEFAULT_LR), default="momentum",
                   help="momentum is SGD with Nesterov momentum 0.9")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate, after a warm-up, then a cosine, per "
                                                          "step; None means the optimizer's own (optim.DEFAULT_LR)")
    p.add_argument("--seed", type=int, default=0, help="for the weights and the batch order")
    p.add_argument("--data-dir", help="folder with the four MNIST files; None means $TINYGRAD_NP_DATA, the cache, "
                                      "or a download (offline, the bundled sample)")
    p.add_argument("--out", help="output folder; None means runs/cnn-<timestamp>")
    p.add_argument("--no-plots", action="store_true", help="write no PNGs")
    p.add_argument("--no-jit", action="store_true",
                   help="run each step eagerly, op by op, instead of replaying it with tg.jit "
                   "(the same numbers, slower)")
    p.add_argument("--quick", action="store_true", help="one epoch of at most 200 steps, for CI")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"argument --{name.replace('_', '-')}: must be a positive integer")
    if (args.lr is not None and not args.lr > 0) or args.seed < 0:
        p.error("argument --lr must be positive and --seed 0 or more")
    return args


def load_data(data_dir):
    """Normalised images (N, 1, 28, 28), int64 labels, and the MnistData they came from."""
    data = load_mnist_or_sample(data_dir)
    return normalize(data.x_train)[:, None], data.y_train, normalize(data.x_test)[:, None], data.y_test, data


def train(model, args, x_train, y_train, x_test, y_test):
    rng = np.random.default_rng(args.seed)
    loader = DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=True, rng=rng)
    steps_per_epoch = min(len(loader), 200) if args.quick else len(loader)
    epochs = 1 if args.quick else args.epochs
    opt = optim.by_name(args.optimizer, model.parameters(), args.lr)
    schedule = optim.CosineLR(opt, total=epochs * steps_per_epoch, warmup=min(100, steps_per_epoch // 2))

    # The MLP example's step: replayed by tg.jit after two traced calls, reading the schedule's lr each time.
    step = make_step(model, opt, jit=not getattr(args, "no_jit", False))
    history, step_losses = [], []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total, seen, correct = 0.0, 0, 0
        for i, (xb, yb) in enumerate(progress(loader, f"epoch {epoch}/{epochs}")):
            if i == steps_per_epoch:
                break
            loss, logits = step(tg.Tensor(xb), yb)
            schedule.step()
            value = loss.item()
            if not np.isfinite(value):
                raise FloatingPointError(f"the loss became {value} at step {i + 1} of epoch {epoch}; "
                                         "try a smaller --lr")
            step_losses.append(value)
            total, seen = total + value * len(yb), seen + len(yb)
            correct += int((logits.data.argmax(axis=1) == yb).sum())
        test_loss, test_probabilities = evaluate(model, x_test, y_test, batch_size=1000)
        record = {"epoch": epoch, "train_loss": total / seen, "train_accuracy": correct / seen, "test_loss": test_loss,
                  "test_accuracy": accuracy(y_test, test_probabilities.argmax(axis=1)),
                  "seconds": time.perf_counter() - start}
        history.append(record)
        print(f"epoch {epoch:2d}/{epochs}  loss {record['train_loss']:.4f}  "
              f"test acc {100 * record['test_accuracy']:6.2f}%  {record['seconds']:.0f} s", flush=True)
    return history, step_losses, steps_per_epoch, time.perf_counter() - start, test_probabilities


def draw_plots(out, model, results, seed):
    """The MLP example's plots (mnist_plots.py), and the first layer's filters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mnist_plots as plots  # beside this script

    plots.draw_report(out, results, seed=seed)
    filters = model[0].weight.data[:, 0]  # (6, 5, 5)
    fig, axes = plt.subplots(1, len(filters), figsize=(1.6 * len(filters), 1.9))
    lim = np.abs(filters).max()
    for ax, f in zip(axes, filters, strict=True):
        ax.imshow(f, cmap="seismic", vmin=-lim, vmax=lim)
        ax.axis("off")
    fig.suptitle("First-layer filters (5x5)")
    plots.save_png(fig, os.path.join(out, "filters.png"), dpi=100)


def save_model(model, out):
    """model.npz and model.safetensors (PyTorch's names: the layers' positions in the Sequential), each recording
    its architecture as JSON and its input normalisation, so that predict.py can rebuild and use it."""
    from tinygrad_np.data.mnist import MNIST_MEAN, MNIST_STD

    metadata = {"model": "architecture", "architecture": json.dumps(nn.architecture.describe(model)),
                "input_mean": repr(MNIST_MEAN), "input_std": repr(MNIST_STD), "input_shape": "[1, 28, 28]",
                "input": "x = (pixels / 255 - input_mean) / input_std: a 28x28 MNIST-style image (light digit on "
                         "black, 20x20 box centred by mass), as (1, 28, 28)"}
    model.save(os.path.join(out, "model.npz"), metadata)
    try:
        model.save(os.path.join(out, "model.safetensors"), metadata)
    except ModuleNotFoundError as err:  # an optional extra: the run still has model.npz
        print(f"note: model.safetensors not written: {err}", file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)
    tg.reuse_freed_memory()  # each step frees and reallocates the same arrays: keep their pages (memory.py)
    out = args.out or os.path.join("runs", "cnn-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    x_train, y_train, x_test, y_test, data = load_data(args.data_dir)
    print(f"data: {data.name}, {len(x_train)} train, {len(x_test)} test images; writing to {out}", flush=True)
    model = lenet5(np.random.default_rng(args.seed))
    history, step_losses, steps_per_epoch, seconds, test_probabilities = train(
        model, args, x_train, y_train, x_test, y_test)
    test_accuracy = history[-1]["test_accuracy"]
    save_model(model, out)
    with atomic_write(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"test_accuracy": test_accuracy, "seconds": seconds, "dataset": data.name, "history": history,
                   "step_losses": step_losses, "args": vars(args)}, f, indent=1)
    notes = (["QUICK: one epoch of at most 200 steps"] if args.quick else []) + (
        [data.SAMPLE_NOTE] if data.is_sample else [])
    if not args.no_plots:
        import mnist_plots  # beside this script

        results = mnist_plots.Results(history, step_losses, steps_per_epoch, data.x_test, y_test, test_probabilities,
                                      note="; ".join(notes))
        draw_plots(out, model, results, args.seed)
    print(f"trained in {seconds:.0f} s; results in {out}")
    for note in notes:
        print(f"NOTE: {note}: not a real result")
    print(f"test accuracy: {100 * test_accuracy:.2f}%")


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
