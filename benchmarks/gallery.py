"""The gallery's models, one training step each, in tinygrad_np and in PyTorch on the CPU, side by side.

    python benchmarks/gallery.py            # needs PyTorch; about a minute
    python benchmarks/gallery.py --quick

Each model is the example's own (imported from examples/), and the PyTorch
twin is built to the same layout and loaded from its state_dict, so both start
from the same weights; the first losses are printed as a check. The two take
turns within each round; times are medians of the rounds, the ratio the
median of the per-round ratios. BLAS runs on tinygrad_np's default threads (one,
tinygrad_np/threads.py) and PyTorch on its own default (all cores), as a user's
script would; ``--one-thread`` pins both to one. The first line printed names
NumPy's BLAS, its kernel and its threads.
"""
import argparse
import copy
import importlib.util
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn as tnn

import tinygrad_np as tg
from tinygrad_np import optim
from tinygrad_np.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def example(name):
    if str(ROOT / "examples") not in sys.path:  # as when run: an example imports the modules beside it
        sys.path.insert(0, str(ROOT / "examples"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- PyTorch twins, with the examples' parameter names ------------------------------------------------
class TorchNames(tnn.Module):
    def __init__(self, context, embedding, hidden):
        super().__init__()
        self.embed = tnn.Embedding(27, embedding)
        self.hidden, self.out = tnn.Linear(context * embedding, hidden), tnn.Linear(hidden, 27)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(self.embed(x).reshape(len(x), -1))))


class TorchAttention(tnn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.qkv, self.proj = heads, tnn.Linear(width, 3 * width), tnn.Linear(width, width)

    def forward(self, x):
        b, t, w = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(w // self.heads)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        return self.proj((torch.where(causal, scores, -1e9).softmax(-1) @ v).transpose(1, 2).reshape(b, t, w))


class TorchBlock(tnn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln1, self.ln2 = tnn.LayerNorm(width), tnn.LayerNorm(width)
        self.attention = TorchAttention(width, heads)
        self.mlp = tnn.Sequential(tnn.Linear(width, 4 * width), tnn.GELU(approximate="tanh"),
                                  tnn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TorchTransformer(tnn.Module):
    def __init__(self, length, width=64, heads=4, layers=2):
        super().__init__()
        self.tokens, self.positions = tnn.Embedding(11, width), tnn.Embedding(length, width)
        self.blocks = tnn.ModuleList([TorchBlock(width, heads) for _ in range(layers)])
        self.ln, self.head = tnn.LayerNorm(width), tnn.Linear(width, 11)

    def forward(self, lines):
        x = self.tokens(lines) + self.positions(torch.arange(lines.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


class TorchAdder(tnn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.cell, self.readout = tnn.LSTMCell(2, hidden), tnn.Linear(hidden, 1)

    def forward(self, x):
        state = None
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)
        return self.readout(state[0])


# ---- the models, their batches and their losses -----------------------------------------------------------
def models(rng):
    """name -> (our model, its PyTorch twin, a batch, our loss, PyTorch's loss)."""
    cnn, lm, tf, lstm = example("mnist_cnn"), example("char_lm"), example("tiny_transformer"), example("lstm_sequence")
    out = {}
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    out["LeNet-5 CNN (mnist_cnn.py)"] = (
        cnn.lenet5(rng), tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(),
            tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
            tnn.Linear(84, 10)),
        (x, y), lambda m, b: m(tg.Tensor(b[0])).cross_entropy(b[1]),
        lambda m, b: tnn.functional.cross_entropy(m(torch.from_numpy(b[0])), torch.from_numpy(b[1])))
    contexts = rng.integers(0, 27, (64, 3))
    out["character model (char_lm.py)"] = (
        lm.NameModel(3, 10, 200, rng), TorchNames(3, 10, 200), (contexts, rng.integers(0, 27, 64)),
        lambda m, b: m(b[0]).cross_entropy(b[1]),
        lambda m, b: tnn.functional.cross_entropy(m(torch.from_numpy(b[0])), torch.from_numpy(b[1])))
    lines, targets = tf.batch_of_strings(6, 64, rng)
    out["transformer (tiny_transformer.py)"] = (
        tf.Transformer(13, rng=rng), TorchTransformer(13), (lines, targets),
        lambda m, b: F.cross_entropy(m(b[0]).transpose(0, 2, 1), b[1]),
        lambda m, b: tnn.functional.cross_entropy(m(torch.from_numpy(b[0])).transpose(1, 2), torch.from_numpy(b[1])))
    from models import residual_cnn  # beside this file: one definition for both frameworks

    out["residual CNN (benchmarks/models.py)"] = (
        residual_cnn(tg.nn), residual_cnn(tnn), (x, y),
        lambda m, b: m(tg.Tensor(b[0])).cross_entropy(b[1]),
        lambda m, b: tnn.functional.cross_entropy(m(torch.from_numpy(b[0])), torch.from_numpy(b[1])))
    seq, total = lstm.adding_problem(64, 20, rng)
    out["LSTM, 20 steps (lstm_sequence.py)"] = (
        lstm.Adder(32, rng), TorchAdder(32), (seq, total),
        lambda m, b: ((m(tg.Tensor(b[0])) - tg.Tensor(b[1])) ** 2).mean(),
        lambda m, b: ((m(torch.from_numpy(b[0])) - torch.from_numpy(b[1])) ** 2).mean())
    return out


def measure(repeats, calls, clock=time.perf_counter):
    rows = {}
    for name, (ours, theirs, batch, our_loss, their_loss) in models(np.random.default_rng(0)).items():
        theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
        our_opt, their_opt = optim.SGD(ours.parameters(), lr=0.01), torch.optim.SGD(theirs.parameters(), lr=0.01)

        def our_step():
            loss = our_loss(ours, batch)
            loss.backward()
            our_opt.step()
            our_opt.zero_grad()
            return loss.item()

        # The jitted step trains a copy: eager calls on the same model would change attributes its forward
        # sets (the transformer keeps its attention weights), and a trace replays only while they hold.
        twin = copy.deepcopy(ours)
        twin_opt = optim.SGD(twin.parameters(), lr=0.01)

        def jit_body(*batch):
            loss = our_loss(twin, batch)
            loss.backward()
            twin_opt.step()
            twin_opt.zero_grad()
            return loss

        jitted = tg.jit(jit_body)

        def our_jit_step():  # the same step on the same weights, replayed by tg.jit
            return jitted(*batch).item()

        def their_step():
            loss = their_loss(theirs, batch)
            loss.backward()
            their_opt.step()
            their_opt.zero_grad(set_to_none=True)
            return loss.item()

        first = (our_step(), their_step())
        our_jit_step(), our_jit_step()  # the two traced calls
        steps = [("tinygrad_np", our_step), ("tinygrad_np jit", our_jit_step), ("pytorch", their_step)]
        samples = {label: [] for label, _ in steps}
        for r in range(repeats):
            for label, fn in steps[r % 3:] + steps[:r % 3]:
                fn()
                start = clock()
                for _ in range(calls):
                    fn()
                samples[label].append((clock() - start) / calls)
        ratio, jit_ratio = (statistics.median(a / b for a, b in zip(samples[k], samples["pytorch"], strict=True))
                            for k in ("tinygrad_np", "tinygrad_np jit"))
        rows[name] = {"first_losses": first, "ms": {k: 1e3 * statistics.median(v) for k, v in samples.items()},
                      "ratio": ratio, "jit_ratio": jit_ratio}
        ms = rows[name]["ms"]
        print(f"{name}: first losses {first[0]:.6f} / {first[1]:.6f}; tinygrad_np {ms['tinygrad_np']:.2f} ms, "
              f"jit {ms['tinygrad_np jit']:.2f} ms, PyTorch {ms['pytorch']:.2f} ms; ratio {ratio:.2f}, "
              f"jit ratio {jit_ratio:.2f}", flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--one-thread", action="store_true",
                   help="one BLAS and one PyTorch thread, each step timed in this thread's CPU time (steadier on a "
                        "shared machine); start it with OPENBLAS_NUM_THREADS=1 (or have threadpoolctl installed)")
    args = p.parse_args(argv)
    tg.reuse_freed_memory()  # as the examples run
    clock = time.perf_counter
    if args.one_thread:
        torch.set_num_threads(1)
        clock = time.thread_time
        try:
            tg.set_num_threads(1)
        except RuntimeError:  # no threadpoolctl
            if tg.get_num_threads() != 1:
                print("warning: NumPy's BLAS may use several threads: set OPENBLAS_NUM_THREADS=1", file=sys.stderr)
    print(f"NumPy's BLAS: {tg.blas_description()}; PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    measure(3 if args.quick else 15, 2 if args.quick else 10, clock)


if __name__ == "__main__":
    sys.exit(main())
