"""``viz.play_backward(root)``: step through the backward pass one op at a time, in a browser or in Jupyter.

Python does the work: it walks the graph as ``viz.draw`` does, lays it out in layers (leaves at the bottom,
the root at the top), and runs the engine's own backward pass with a hook on every rule (the order
``tg.trace`` prints), keeping what arrives at each op and what it passes to each input. The page, one
self-contained HTML file with its script inline and no request to any network, only replays that record.

At each step the page highlights the op, shows its rule (the derivative from its docstring), the gradient
arriving at its output, and what it passes to each input; a tensor used twice shows its sum building up.
Small tensors show their numbers; larger ones their shape, norm and a small heat map.

For scripts and tests the page exposes ``window.backwardPlayer``: ``steps``, ``position`` (0 before the
first step, ``steps`` at the end), ``next()``, ``previous()``, ``reset()``, and ``grads()``: each named
tensor's gradient as accumulated at the current position, as nested lists.
"""
import html
import json
from pathlib import Path

import numpy as np

from ..core import autograd
from ..core.engine_hooks import add, remove
from ..fileio import atomic_write
from .graph import kind, labels, walk

MAX_TENSORS = 600  # more than this and the page is no longer a picture a learner can follow
SMALL = 16  # tensors with at most this many elements show their numbers
HEAT = 12  # heat maps are at most HEAT x HEAT cells
TEMPLATE = Path(__file__).with_name("backward_player.html")


def play_backward(root, names=None, grad=None):
    """A player for the backward pass from ``root`` (a scalar, or give ``grad``). ``names`` maps tensors to
    labels, or is a Module (its parameters' names). Shows inline in Jupyter; ``.save(path)`` writes the page."""
    names = labels(names)
    if not root.requires_grad:
        raise RuntimeError("play_backward: the root does not require grad, so backward has nothing to show")
    nodes, edges = walk(root)
    if len(nodes) > MAX_TENSORS:
        raise ValueError(f"play_backward: the graph has {len(nodes)} tensors and the player lays out at most "
                         f"{MAX_TENSORS}, beyond which it is no longer a picture to follow; play a smaller model "
                         "(fewer layers or time steps; the batch size does not change the graph)")
    index = {id(t): i for i, t in enumerate(nodes)}
    by_op = {id(t.op): t for t in nodes if t.op is not None}
    layers = _layers(nodes, index)
    steps, contributions = _record(root, grad, nodes, index, by_op)
    named = {index[id(t)]: name for t, name in names.items() if id(t) in index}
    data = {
        "nodes": [{"label": _label(t, kind(t), names), "kind": kind(t), "shape": list(t.shape),
                   "value": _summary(t.data), "rule": _rule(t), "name": names.get(t)} for t in nodes],
        "edges": [[index[id(a)], index[id(b)]] for a, b in edges],
        "position": layers,
        "root": index[id(root)],
        "seed": _summary(contributions["seed"]),
        "steps": steps,
        "named": {name: {"node": i, "shape": list(nodes[i].shape),
                         "contributions": contributions["named"].get(i, [])} for i, name in named.items()},
    }
    return BackwardPlayer(data)


class BackwardPlayer:
    """The page for one backward pass: ``html`` (the whole page), ``save(path)``, and inline in Jupyter."""

    def __init__(self, data):
        self.data = data
        self.steps = len(data["steps"])
        payload = json.dumps(data, separators=(",", ":"), allow_nan=True).replace("</", "<\\/")
        self.html = TEMPLATE.read_text().replace("/*PLAYER_DATA*/null", payload)

    def save(self, path):
        """Write the page (one file, works offline in any browser); returns the path."""
        with atomic_write(path, "w") as f:
            f.write(self.html)
        return path

    def _repr_html_(self):
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width: 100%; height: 640px; '
                'border: 1px solid #ddd" sandbox="allow-scripts"></iframe>')


def _record(root, seed, nodes, index, by_op):
    """Run backward with a hook on every rule; return the steps and the named tensors' contributions."""
    steps, named = [], {}
    leaves = [t for t in nodes if t.op is None and t.requires_grad]
    uses = {}  # how many contributions each tensor will receive: one per use as an op's input
    for t in nodes:
        for x in t.op.inputs if t.op is not None else ():
            uses[id(x)] = uses.get(id(x), 0) + 1
    seed_array = np.ones(root.shape, dtype=root.dtype) if seed is None else np.asarray(
        seed.data if hasattr(seed, "data") else seed, dtype=root.dtype)
    totals = {index[id(root)]: seed_array.astype(np.float64)}
    counts = {index[id(root)]: 1}

    def hook(fn, grad):
        input_grads = yield
        out = index[id(by_op[id(fn)])]
        passes = []
        for x, g in zip(fn.inputs, input_grads, strict=True):
            if g is None or not x.requires_grad:
                passes.append({"node": index[id(x)], "grad": None})
                continue
            i, values = index[id(x)], np.asarray(g.data, dtype=np.float64)
            totals[i] = totals[i] + values if i in totals else values.copy()
            counts[i] = counts.get(i, 0) + 1
            passes.append({"node": i, "grad": _summary(values), "total": _summary(totals[i]), "count": counts[i],
                           "of": uses[id(x)]})
            named.setdefault(i, []).append([len(steps), _flat(values)])
        steps.append({"node": out, "op": fn.name, "grad": _summary(np.asarray(grad.data, dtype=np.float64)),
                      "passes": passes})

    add("backward", hook)
    try:
        autograd.grad(root, leaves, None if seed is None else seed, retain_graph=True, allow_unused=True)
    finally:
        remove("backward", hook)
    named.setdefault(index[id(root)], []).insert(0, [-1, _flat(seed_array)])
    return steps, {"named": named, "seed": seed_array}


def _layers(nodes, index):
    """(x, y) for each node: leaves in the bottom row, each op one row above its highest input; within a row,
    ordered by the mean position of its inputs (a barycentre sweep), so edges cross less."""
    depth = {}
    for t in reversed(nodes):  # inputs come after their consumers in walk's order, so reversed is bottom-up
        _depth(t, depth)
    rows = {}
    for t in nodes:
        rows.setdefault(depth[id(t)], []).append(t)
    order = {}
    for level in sorted(rows):
        row = rows[level]
        if level:
            row.sort(key=lambda t: np.mean([order.get(id(x), 0) for x in t.op.inputs]) if t.op else 0)
        for i, t in enumerate(row):
            order[id(t)] = i - (len(row) - 1) / 2
    top = max(rows)
    return [[order[id(t)], top - depth[id(t)]] for t in nodes]


def _depth(t, depth):
    stack = [t]
    while stack:
        u = stack[-1]
        if id(u) in depth:
            stack.pop()
            continue
        pending = [x for x in (u.op.inputs if u.op is not None else ()) if id(x) not in depth]
        if pending:
            stack.extend(pending)
            continue
        depth[id(u)] = 0 if u.op is None else 1 + max(depth[id(x)] for x in u.op.inputs)
        stack.pop()


def _label(t, k, names):
    if t in names:
        return names[t]
    if k == "op":
        return t.op.name
    return f"{t.data.item():.4g}" if k == "constant" else k


def _rule(t):
    """The op's derivative from its docstring: the first paragraph, and the first line stating dL/d... if that
    paragraph does not (CrossEntropy's definition and its derivative are two paragraphs)."""
    if t.op is None:
        return None
    paragraphs = [" ".join(p.split()) for p in (type(t.op).__doc__ or t.op.name).strip().split("\n\n")]
    rule = paragraphs[0]
    derivative = next((p for p in paragraphs[1:] if p.startswith("dL/d")), None)
    return rule + "\n" + derivative if derivative and "dL/d" not in rule else rule


def _flat(values):
    """A gradient's values as JSON-friendly floats, 7 significant digits (float32's precision)."""
    return [float(f"{v:.7g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def _summary(values):
    """What the page shows of an array: its numbers when small, else shape, norm and a small heat map."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    summary = {"shape": list(values.shape), "norm": float(np.linalg.norm(finite)) if finite.size else 0.0,
               "min": float(finite.min()) if finite.size else 0.0, "max": float(finite.max()) if finite.size else 0.0}
    if values.size <= SMALL:
        summary["values"] = _flat(values)
    else:
        grid = values.reshape(values.shape[0], -1) if values.ndim >= 2 else values.reshape(1, -1)
        rows = np.array_split(np.arange(grid.shape[0]), min(HEAT, grid.shape[0]))
        cols = np.array_split(np.arange(grid.shape[1]), min(HEAT, grid.shape[1]))
        cells = np.array([[np.nan_to_num(grid[np.ix_(r, c)]).mean() for c in cols] for r in rows])
        scale = np.abs(cells).max() or 1.0
        summary["heat"] = np.round(cells / scale, 3).tolist()
    return summary
