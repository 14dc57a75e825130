"""A character-level language model of names (Bengio et al. 2003, as in the makemore series).

    python examples/char_lm.py            # about a minute on 2 cores
    python examples/char_lm.py --quick    # seconds, for CI

Each name is read one character at a time; from the previous ``--context``
characters the model predicts the next, or the end of the name. The model is
an embedding table (each character a learned vector), the context's vectors
joined, one tanh hidden layer and a softmax over the 27 symbols (a-z and the
end mark '.'). Trained on 5,163 first names of the 1990 US Census that ship
with tinygrad_np (90% train, 10% validation), it reports both losses every
epoch, draws them, and samples new names at the end.
"""
import argparse
import json
import os
import time

import numpy as np

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.data import DataLoader, load_names
from tinygrad_np.fileio import atomic_write

SYMBOLS = "." + "abcdefghijklmnopqrstuvwxyz"  # "." starts the context and ends a name
INDEX = {c: i for i, c in enumerate(SYMBOLS)}


def examples_of(names, context):
    """(contexts, next symbols): every position of every name, the context padded with '.'."""
    xs, ys = [], []
    for name in names:
        window = [0] * context
        for symbol in [INDEX[c] for c in name] + [0]:
            xs.append(window)
            ys.append(symbol)
            window = window[1:] + [symbol]
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


class NameModel(nn.Module):
    def __init__(self, context, embedding, hidden, rng):
        self.embed = nn.Embedding(len(SYMBOLS), embedding, rng=rng)
        self.hidden = nn.Linear(context * embedding, hidden, rng=rng)
        self.out = nn.Linear(hidden, len(SYMBOLS), rng=rng)

    def forward(self, contexts):  # (N, context) symbol indices -> (N, 27) logits
        vectors = self.embed(contexts)  # (N, context, embedding)
        return self.out(self.hidden(vectors.reshape(len(contexts), -1)).tanh())


@tg.no_grad()
def mean_loss(model, x, y):
    return model(x).cross_entropy(y).item()


@tg.no_grad()
def sample(model, context, count, rng, longest=20):
    names = []
    for _ in range(count):
        window, name = [0] * context, ""
        while len(name) < longest:
            probs = model(np.array([window])).softmax().data[0].astype(np.float64)
            symbol = int(rng.choice(len(SYMBOLS), p=probs / probs.sum()))
            if symbol == 0:
                break
            name += SYMBOLS[symbol]
            window = window[1:] + [symbol]
        names.append(name)
    return names


def main(argv=None):
    p = argparse.ArgumentParser(description="A character-level language model of names, with tinygrad_np.")
    p.add_argument("--context", type=int, default=3,
                   help="how many previous characters the model sees to predict the next (default: %(default)s)")
    p.add_argument("--embedding", type=int, default=10,
                   help="the length of each character's learned vector (default: %(default)s)")
    p.add_argument("--hidden", type=int, default=200, help="units of the tanh hidden layer (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=20, help="passes over the training names (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="examples a step (default: %(default)s)")
    p.add_argument("--optimizer", choices=list(optim.DEFAULT_LR), default="adam",
                   help="the optimizer, from tinygrad_np.optim.by_name (default: %(default)s)")
    p.add_argument("--lr", type=float, default=3e-3, help="with a cosine decay (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0,
                   help="for the weights, the train/validation split and the batch order (default: %(default)s)")
    p.add_argument("--out", help="folder for metrics.json, model.npz and loss.png (default: runs/charlm-<timestamp>)")
    p.add_argument("--no-plots", action="store_true", help="write no loss.png (and need no matplotlib)")
    p.add_argument("--no-jit", action="store_true",
                   help="run each step eagerly, op by op, instead of replaying it with tg.jit "
                   "(the same numbers, slower)")
    p.add_argument("--quick", action="store_true", help="2 epochs, for CI")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = 2
    if min(args.context, args.embedding, args.hidden, args.epochs, args.batch_size) < 1 or not args.lr > 0:
        p.error("--context, --embedding, --hidden, --epochs and --batch-size must be positive, --lr too")
    tg.reuse_freed_memory()  # each step frees and reallocates the same arrays: keep their pages (memory.py)
    rng = np.random.default_rng(args.seed)
    names = load_names()
    order = rng.permutation(len(names))
    split = int(0.9 * len(names))
    x_train, y_train = examples_of([names[i] for i in order[:split]], args.context)
    x_val, y_val = examples_of([names[i] for i in order[split:]], args.context)
    print(f"{len(names)} names: {len(x_train)} training and {len(x_val)} validation characters", flush=True)
    model = NameModel(args.context, args.embedding, args.hidden, rng)
    loader = DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=True, rng=rng)
    opt = optim.by_name(args.optimizer, model.parameters(), args.lr)
    schedule = optim.CosineLR(opt, total=args.epochs * len(loader), min_lr=args.lr / 20)

    def step(contexts, targets):
        loss = model(contexts).cross_entropy(targets)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    step = step if args.no_jit else tg.jit(step)
    history = [{"epoch": 0, "train_loss": mean_loss(model, x_train, y_train),
                "val_loss": mean_loss(model, x_val, y_val)}]
    print(f"epoch  0  train {history[0]['train_loss']:.4f}  validation {history[0]['val_loss']:.4f}  "
          f"(uniform guessing: {np.log(len(SYMBOLS)):.4f})")
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        for xb, yb in loader:
            step(xb, yb)
            schedule.step()
        history.append({"epoch": epoch, "train_loss": mean_loss(model, x_train, y_train),
                        "val_loss": mean_loss(model, x_val, y_val), "seconds": time.perf_counter() - start})
        print(f"epoch {epoch:2d}  train {history[-1]['train_loss']:.4f}  validation {history[-1]['val_loss']:.4f}  "
              f"({history[-1]['seconds']:.0f} s)", flush=True)
    samples = sample(model, args.context, 12, np.random.default_rng(args.seed + 1))
    print("sampled names:", ", ".join(samples))
    args.out = args.out or os.path.join("runs", f"charlm-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.npz"))
    with atomic_write(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"history": history, "samples": samples, "args": vars(args)}, f, indent=1)
    if not args.no_plots:
        draw_losses(history, os.path.join(args.out, "loss.png"))


def draw_losses(history, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mnist_plots as plots  # beside this script: save_png

    fig, ax = plt.subplots(figsize=(6, 3.6))
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    ax.plot(epochs, [h["val_loss"] for h in history], "s-", label="validation")
    ax.set(xlabel="epoch", ylabel="cross-entropy (nats per character)", title="Character-level model of names")
    ax.legend()
    plots.save_png(fig, path, dpi=100)


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
