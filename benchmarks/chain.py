"""Per-node cost on a long chain of small ops: y = op(y) a thousand times on 4 elements, then backward.

Recurrent networks and transformers written on the engine live on such chains. Three
implementations: tinygrad_np, PyTorch (when installed) and a minimal tape (a list of closures,
the least any reverse mode written in Python can do), as the floor.
"""
import math

import numpy as np

import tinygrad_np as tg

OPS = ("mul", "add", "exp", "tanh")


def tinygrad_chain(op, length, jit=False):
    x = tg.Tensor(np.linspace(-1, 1, 4), requires_grad=True)
    k = tg.Tensor(np.full(4, 0.999))

    def run():
        y = x
        for _ in range(length):
            y = y * k if op == "mul" else y + k if op == "add" else y.exp() if op == "exp" else y.tanh()
        y.backward(np.ones(4))
        x.grad = None

    return tg.jit(run) if jit else run


def torch_chain(op, length):
    import torch

    x = torch.linspace(-1, 1, 4, dtype=torch.float64, requires_grad=True)
    k = torch.full((4,), 0.999, dtype=torch.float64)
    seed = torch.ones(4, dtype=torch.float64)

    def run():
        y = x
        for _ in range(length):
            y = y * k if op == "mul" else y + k if op == "add" else y.exp() if op == "exp" else y.tanh()
        y.backward(seed)
        x.grad = None

    return run


class _Var:
    """A value and, after backward, its gradient; ``back`` maps the output gradient to the inputs'."""

    __slots__ = ("value", "grad", "parent", "back")

    def __init__(self, value, parent=None, back=None):
        self.value, self.grad, self.parent, self.back = value, None, parent, back


def tape_chain(op, length):
    k = np.full(4, 0.999)
    x = _Var(np.linspace(-1, 1, 4))

    def step(y):
        v = y.value
        if op == "mul":
            return _Var(v * k, y, lambda g: g * k)
        if op == "add":
            return _Var(v + k, y, lambda g: g)
        out = np.exp(v) if op == "exp" else np.tanh(v)
        return _Var(out, y, (lambda g: g * out) if op == "exp" else (lambda g: g * (1 - out * out)))

    def run():
        tape, y = [], x
        for _ in range(length):
            y = step(y)
            tape.append(y)
        g = np.ones(4)
        for node in reversed(tape):  # a chain: each node's gradient is complete when its consumer ran
            g = node.back(g)
        x.grad = g

    return run


def per_node_microseconds(repeats, length, calls, take_turns, torch_available):
    """Median microseconds per node (forward and backward) for each implementation and op."""
    results = {}
    with np.errstate(over="ignore", invalid="ignore"):  # the exp chain overflows; its cost does not change
        for op in OPS:
            candidates = {"tinygrad_np": tinygrad_chain(op, length),
                          "tinygrad_np jit": tinygrad_chain(op, length, jit=True),
                          "minimal tape": tape_chain(op, length)}
            if torch_available:
                candidates["pytorch"] = torch_chain(op, length)
            samples = take_turns(candidates, repeats, calls)
            results[op] = {name: 1e6 * sorted(s)[len(s) // 2] / length for name, s in samples.items()}
            results[op]["ratios"] = {
                f"{ours} / {other}": _median_ratio(samples[ours], samples[other])
                for ours in ("tinygrad_np", "tinygrad_np jit")
                for other in samples if not other.startswith("tinygrad_np")}
    return results


def _median_ratio(a, b):
    ratios = sorted(x / y for x, y in zip(a, b, strict=True))
    return ratios[len(ratios) // 2] if ratios else math.nan
