"""A decoder-only transformer that learns to reverse strings of digits.

    python examples/tiny_transformer.py           # under a minute on 2 cores; 100% on held-out strings
    python examples/tiny_transformer.py --quick   # seconds, for CI

Each example is ``a1 ... an | an ... a1``: n random digits, a separator, and
the same digits reversed. The model sees the whole line and learns to predict
each next token; only the tokens after the separator count in the loss
(``ignore_index``). At test time it writes the reversal itself, one token at a
time (greedy decoding), on strings held out of training: those whose digit sum
is a multiple of 7. A string counts as right only if every digit is.

The model is written on tinygrad_np's ops and layers: token and position
embeddings, causal multi-head self-attention (the mask is a comparison of
positions fed to ``where``), layer norm, a GELU MLP and residual connections,
trained with ``F.cross_entropy`` and AdamW. Its attention weights for one
example are drawn to ``attention.png``.
"""
import argparse
import json
import math
import os
import time

import numpy as np

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.fileio import atomic_write
from tinygrad_np.nn import functional as F

SEP = 10  # the separator token; digits are 0-9
VOCAB = 11


def held_out(digits):
    """Strings kept for testing only: digit sum a multiple of 7."""
    return digits.sum(axis=-1) % 7 == 0


def batch_of_strings(n, size, rng, test=False):
    """(size, 2n + 1) token lines and (size, 2n + 1) next-token targets (-100 where nothing is asked)."""
    digits = np.empty((0, n), dtype=np.int64)
    while len(digits) < size:
        draw = rng.integers(0, 10, (2 * size, n))
        digits = np.concatenate([digits, draw[held_out(draw) == test]])
    digits = digits[:size]
    lines = np.concatenate([digits, np.full((size, 1), SEP), digits[:, ::-1]], axis=1)
    targets = np.full(lines.shape, -100)
    targets[:, n:-1] = lines[:, n + 1:]  # after the separator, each position predicts the next digit
    return lines, targets


class SelfAttention(nn.Module):
    def __init__(self, width, heads, rng):
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width, rng=rng)
        self.proj = nn.Linear(width, width, rng=rng)
        self.last_weights = None  # kept for the picture (a Tensor; under jit, the traced call's)

    def forward(self, x):
        b, t, width = x.shape
        per_head = width // self.heads
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, per_head).permute(2, 0, 3, 1, 4).split(1, axis=0)
        q, k, v = (z.squeeze(0) for z in (q, k, v))  # each (b, heads, t, per_head)
        scores = q @ k.swapaxes(-1, -2) * (1.0 / math.sqrt(per_head))
        positions = tg.Tensor(np.arange(t), dtype=np.int64)
        causal = positions.reshape(t, 1) >= positions.reshape(1, t)  # a comparison: may position i see j?
        weights = tg.where(causal, scores, -1e9).softmax(axis=-1)
        self.last_weights = weights.detach()  # not .data: under jit, reading a value while tracing is refused
        out = (weights @ v).transpose(0, 2, 1, 3).reshape(b, t, width)
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, width, heads, rng):
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attention = SelfAttention(width, heads, rng)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width, rng=rng), nn.GELU(), nn.Linear(4 * width, width, rng=rng))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    def __init__(self, length, width=64, heads=4, layers=2, rng=None):
        rng = np.random.default_rng(rng)
        self.tokens = nn.Embedding(VOCAB, width, rng=rng)
        self.positions = nn.Embedding(length, width, rng=rng)
        for table in (self.tokens.weight, self.positions.weight):
            table.data *= 0.1
        self.blocks = [Block(width, heads, rng) for _ in range(layers)]
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, VOCAB, rng=rng)

    def forward(self, lines):
        t = lines.shape[1]
        x = self.tokens(lines) + self.positions(np.arange(t))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))  # (b, t, vocab)


@tg.no_grad()
def reverse(model, digits):
    """Greedy decoding: append the separator, then one predicted token at a time."""
    lines = np.concatenate([digits, np.full((len(digits), 1), SEP)], axis=1)
    for _ in range(digits.shape[1]):
        logits = model(lines).data[:, -1]
        lines = np.concatenate([lines, logits.argmax(axis=1)[:, None]], axis=1)
    return lines[:, digits.shape[1] + 1:]


def draw_attention(model, digits, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mnist_plots as plots  # beside this script: save_png

    lines = np.concatenate([digits, [SEP], digits[::-1]])[None]
    with tg.no_grad():
        model(lines)
    labels = [str(d) for d in digits] + ["|"] + [str(d) for d in digits[::-1]]
    layers = len(model.blocks)
    fig, axes = plt.subplots(1, layers, figsize=(4.2 * layers, 4))
    for i, (ax, block) in enumerate(zip(np.atleast_1d(axes), model.blocks, strict=True)):
        ax.imshow(block.attention.last_weights.data[0].mean(axis=0), cmap="viridis", vmin=0, vmax=1)
        ax.set(xticks=range(len(labels)), yticks=range(len(labels)), xticklabels=labels, yticklabels=labels,
               title=f"layer {i + 1}, mean over heads", xlabel="attends to", ylabel="position")
    fig.suptitle("Attention weights while reversing " + "".join(map(str, digits)))
    plots.save_png(fig, path, dpi=100)


def main(argv=None):
    p = argparse.ArgumentParser(description="A tiny transformer that reverses digit strings, with tinygrad_np.")
    p.add_argument("--digits", type=int, default=6, help="string length (default: %(default)s)")
    p.add_argument("--steps", type=int, default=1500, help="training steps, one batch each (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="strings a step (default: %(default)s)")
    p.add_argument("--optimizer", choices=list(optim.DEFAULT_LR), default="adamw",
                   help="the optimizer, from tinygrad_np.optim.by_name (default: %(default)s)")
    p.add_argument("--lr", type=float, default=3e-3, help="with a cosine decay (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="for the weights and the strings (default: %(default)s)")
    p.add_argument("--out", help="folder for metrics.json, model.npz and attention.png "
                                 "(default: runs/transformer-<timestamp>)")
    p.add_argument("--no-plots", action="store_true", help="write no attention.png (and need no matplotlib)")
    p.add_argument("--no-jit", action="store_true",
                   help="run each step eagerly, op by op, instead of replaying it with tg.jit "
                   "(the same numbers, slower)")
    p.add_argument("--quick", action="store_true", help="4 digits, 300 steps, for CI")
    args = p.parse_args(argv)
    if args.quick:
        args.digits, args.steps = 4, 300
    if min(args.digits, args.steps, args.batch_size) < 2 or not args.lr > 0:
        p.error("--digits, --steps and --batch-size must be at least 2, --lr positive")
    tg.reuse_freed_memory()  # each step frees and reallocates the same arrays: keep their pages (memory.py)
    rng = np.random.default_rng(args.seed)
    model = Transformer(2 * args.digits + 1, rng=rng)
    opt = optim.by_name(args.optimizer, model.parameters(), args.lr)
    schedule = optim.CosineLR(opt, total=args.steps, warmup=min(100, args.steps // 10))
    def step(lines, targets):
        logits = model(lines)  # (b, t, vocab); cross_entropy wants the classes on axis 1
        loss = F.cross_entropy(logits.transpose(0, 2, 1), targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # replayed: each step's own norm
        opt.step()
        opt.zero_grad()
        return loss

    step = step if args.no_jit else tg.jit(step)
    losses, start = [], time.perf_counter()
    for i in range(1, args.steps + 1):
        lines, targets = batch_of_strings(args.digits, args.batch_size, rng)
        loss = step(lines, targets)
        schedule.step()
        losses.append(loss.item())
        if i % max(1, args.steps // 10) == 0:
            print(f"step {i:5d}  loss {np.mean(losses[-50:]):.4f}  ({time.perf_counter() - start:.0f} s)", flush=True)
    seconds = time.perf_counter() - start
    test_lines, _ = batch_of_strings(args.digits, 1000, np.random.default_rng(12345), test=True)
    digits = test_lines[:, :args.digits]
    predicted = reverse(model, digits)
    exact = float((predicted == digits[:, ::-1]).all(axis=1).mean())
    per_digit = float((predicted == digits[:, ::-1]).mean())
    print(f"held-out strings reversed exactly: {100 * exact:.1f}% ({100 * per_digit:.2f}% of digits)")
    args.out = args.out or os.path.join("runs", f"transformer-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.npz"))
    with atomic_write(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"exact": exact, "per_digit": per_digit, "losses": losses, "seconds": seconds,
                   "args": vars(args)}, f)
    if not args.no_plots:
        draw_attention(model, digits[0], os.path.join(args.out, "attention.png"))
    print(f"trained in {seconds:.0f} s")


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
