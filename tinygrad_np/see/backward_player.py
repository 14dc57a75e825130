"""``viz.play_backward(root)``: step through the backward pass one op at a time, in a browser or in Jupyter.

Python does the work: it walks the graph as ``viz.draw`` does, lays it out so that it follows the model
(player_layout.py: leaves in the order they were used, a group per module, a column per time step, a conv
as one conv), and runs the engine's own backward pass with a hook on every rule (the order ``tg.trace``
prints), keeping what arrives at each op and what it passes to each input. The page, one self-contained HTML
file with its script inline and no request to any network, only replays that record.

At each step the page outlines the op and the inputs it passes gradients to, keeps them in view (it pans, and
zooms out if it must; the wheel zooms, a drag pans, Fit shows everything), and shows the op's rule from its
docstring (op_rules.py), with this step's own numbers put in when the tensors are small. Every node shows its
value and its gradient so far, with its sign: numbers when small; shape, norm and a heat map coloured by sign
(red positive, blue negative) when large, a weight's kernels drawn as kernels and an image's channels as
images. A tensor used several times shows its sum building up ("2 of 3").

Every label is text, never markup: the page writes them with textContent or escapes them, and the data is
embedded as JSON with <, > and & escaped, so no name or op can end the script or add to the page.

For scripts and tests the page exposes ``window.backwardPlayer``: ``steps``, ``position`` (0 before the
first step, ``steps`` at the end), ``next()``, ``previous()``, ``reset()``, ``fit()``, ``grads()`` (each named
tensor's gradient as accumulated at the current position, as nested lists), and ``current()`` (the node being
differentiated, or null).
"""
import html
import json
from pathlib import Path

import numpy as np

from ..core import autograd
from ..core.engine_hooks import add, remove
from ..fileio import atomic_write
from . import player_layout
from .graph import kind, labels, walk
from .op_rules import input_names, rule_of, with_numbers

MAX_TENSORS = 600  # more than this and the page is no longer a picture a learner can follow
SMALL = 16  # tensors with at most this many elements show their numbers
HEAT = 24  # a heat map tile is at most HEAT x HEAT cells (block means)
TILES = 8  # at most TILES x TILES tiles: kernels, or an image's channels
TEMPLATE = Path(__file__).with_name("backward_player.html")


def play_backward(root, names=None, grad=None):
    """A player for the backward pass from ``root`` (a scalar, or give ``grad``). ``names`` maps tensors to
    labels, or is a Module (its parameters' names). ``root`` may also be a function of no arguments that
    computes the loss: the player then runs it itself and records which module made each op, for the groups
    (and, for a module called once per time step, the steps). Shows inline in Jupyter; ``.save(path)`` writes
    the page."""
    calls = None
    if callable(root) and not hasattr(root, "requires_grad"):
        root, calls = _run_recording_modules(root, names)
    names = labels(names)
    if not getattr(root, "requires_grad", False):
        raise RuntimeError("play_backward: the root does not require grad, so backward has nothing to show")
    nodes, _ = walk(root)
    if len(nodes) > MAX_TENSORS:
        raise ValueError(f"play_backward: the graph has {len(nodes)} tensors and the player lays out at most "
                         f"{MAX_TENSORS}, beyond which it is no longer a picture to follow; play a smaller model "
                         "(fewer layers or time steps; the batch size does not change the graph)")
    units, unit_of = player_layout.units_of(nodes)
    placed = player_layout.layout(units, unit_of, names, calls)
    steps, seed = _record(root, grad, units, unit_of)
    windows = {id(u.conv_inputs[0]) for u in units if u.conv_inputs is not None and u.conv_inputs[0].op is None
               and u.conv_inputs[0].ndim == 2}
    data = {
        "nodes": [_node(u, names, windows) for u in units],
        "edges": sorted({(unit_of[id(x)], i) for i, u in enumerate(units) for x in u.inputs if id(x) in unit_of}),
        "position": placed["position"],
        "groups": placed["groups"],
        "timeSteps": placed["steps"],
        "root": unit_of[id(root)],
        "seed": _summary(seed),
        "steps": steps,
    }
    data["named"] = _named(data, units, unit_of, names)
    return BackwardPlayer(data)


class BackwardPlayer:
    """The page for one backward pass: ``html`` (the whole page), ``save(path)``, and inline in Jupyter."""

    def __init__(self, data):
        self.data = data
        self.steps = len(data["steps"])
        self.html = TEMPLATE.read_text().replace("/*PLAYER_DATA*/null", embedded_json(data))

    def save(self, path):
        """Write the page (one file, works offline in any browser); returns the path."""
        with atomic_write(path, "w") as f:
            f.write(self.html)
        return path

    def _repr_html_(self):
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width: 100%; height: 720px; '
                'border: 1px solid #ddd" sandbox="allow-scripts"></iframe>')


def embedded_json(data):
    """``data`` as JSON that is safe inside a <script> element: no <, > or & reaches the page as itself (so no
    "</script>", "<!--" or "<script" in a label can end or change the script), nor the two line separators
    JavaScript once refused in strings."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=True, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _run_recording_modules(function, names):
    """Run ``function`` (which computes the loss), noting for every op the innermost module call that made it:
    {id(op): (module path, type name, call number)}."""
    from ..nn.module import Module

    if not isinstance(names, Module):
        raise TypeError("play_backward: with a function to run, names must be the Module it calls, so that the "
                        "player can tell which module made each op")
    stack, calls, counts, wrapped = [], {}, {}, []
    modules = [("", names)] + [(path, m) for path, m in _submodules(names)]

    def wrap(path, module):
        forward = module.forward

        def recorded(*args, **kwargs):
            call = counts.get(path, 0)
            counts[path] = call + 1
            stack.append((path or type(module).__name__, type(module).__name__, call))
            try:
                return forward(*args, **kwargs)
            finally:
                stack.pop()
        return recorded

    def tag(fn, inputs, params):
        if stack:
            calls[id(fn)] = stack[-1]
        yield

    for path, module in modules:
        if type(module).__name__ not in ("Sequential", "ModuleList"):  # containers only call their children
            wrapped.append((module, "forward" in vars(module), vars(module).get("forward")))
            module.forward = wrap(path, module)
    add("forward", tag)
    try:
        root = function()
    finally:
        remove("forward", tag)
        for module, had, own in wrapped:
            if had:
                module.forward = own
            else:
                del module.forward
    return root, calls


def _submodules(module, prefix=""):
    for name, child in module._children():
        yield prefix + name, child
        yield from _submodules(child, prefix + name + ".")


def _record(root, seed, units, unit_of):
    """Run backward with a hook on every rule. A conv's ops, which the engine visits one after another, make one
    step. Returns the steps and the seed."""
    steps = []
    uses = {}  # how many contributions each unit will receive: one per use by another unit
    for u in units:
        for x in u.inputs:
            if id(x) in unit_of:
                uses[unit_of[id(x)]] = uses.get(unit_of[id(x)], 0) + 1
    seed_array = np.ones(root.shape, dtype=root.dtype) if seed is None else np.asarray(
        seed.data if hasattr(seed, "data") else seed, dtype=root.dtype)
    totals, counts = {unit_of[id(root)]: seed_array.astype(np.float64)}, {unit_of[id(root)]: 1}
    leaves = [m for u in units for m in u.members if m.op is None and m.requires_grad]

    def hook(fn, grad):
        input_grads = yield
        out = by_op[fn]
        i = unit_of[id(out)]
        unit = units[i]
        external = [(x, g) for x, g in zip(fn.inputs, input_grads, strict=True) if unit_of.get(id(x)) != i]
        if steps and steps[-1]["node"] == i and unit.conv_inputs is not None:
            step = steps[-1]  # one more op of the same conv
        else:
            step = {"node": i, "op": "conv2d" if unit.conv_inputs is not None else fn.name,
                    "grad": _summary(_array(grad)), "passes": [], "numbers": []}
            steps.append(step)
            if unit.conv_inputs is None:
                step["numbers"] = _numbers(fn, grad, out, input_grads)
        for k, (x, g) in enumerate(external):
            if g is None or not x.requires_grad:
                step["passes"].append({"node": unit_of[id(x)], "input": _input_name(fn, unit, x, k),
                                       "grad": None})
                continue
            j, values = unit_of[id(x)], _array(g)
            totals[j] = totals[j] + values if j in totals else values.copy()
            counts[j] = counts.get(j, 0) + 1
            kernels = x.op is None  # a weight's gradient drawn as its kernels
            step["passes"].append({"node": j, "input": _input_name(fn, unit, x, k),
                                   "grad": _summary(values, kernels), "total": _summary(totals[j], kernels),
                                   "count": counts[j], "of": uses.get(j, 1),
                                   "flat": _flat(values) if x in named_leaves else None})

    by_op = {m.op: m for u in units for m in u.members if m.op is not None}
    named_leaves = set(leaves)
    add("backward", hook)
    try:
        autograd.grad(root, leaves, None if seed is None else seed, retain_graph=True, allow_unused=True)
    finally:
        remove("backward", hook)
    return steps, seed_array


def _input_name(fn, unit, x, k):
    if unit.conv_inputs is not None:
        return ("x", "w", "b")[[id(c) for c in unit.conv_inputs].index(id(x))] if any(
            c is x for c in unit.conv_inputs) else f"input {k}"
    names = input_names(type(fn), len(fn.inputs))
    return names[[id(i) for i in fn.inputs].index(id(x))]


def _array(value):
    return np.asarray(value.data if hasattr(value, "data") else value, dtype=np.float64)


def _numbers(fn, grad, out, input_grads):
    """The rule's statements with this step's numbers put in, where every value in them is small."""
    rule = rule_of(type(fn))
    names = input_names(type(fn), len(fn.inputs))
    values = {"dL/dz": _array(grad), "z": _array(out._data)}
    for name, x in zip(names, fn.inputs, strict=True):
        values[name] = _array(x._data)
    if fn.name == "linear":  # its rule names the rows: X, and G = dL/dz
        values["X"] = values["x"].reshape(-1, values["x"].shape[-1]) if values["x"].ndim else values["x"]
        values["G"] = values["dL/dz"].reshape(-1, values["dL/dz"].shape[-1]) if values["dL/dz"].ndim else values[
            "dL/dz"]
    passed = {name: g for name, g in zip(names, input_grads, strict=True) if g is not None}
    lines = []
    for statement in rule["statements"]:
        target = statement.split("=", 1)[0].strip()[len("dL/d"):]
        if target in passed:
            line = with_numbers(statement, values, _array(passed[target]))
            if line:
                lines.append(line)
    return lines


def _node(unit, names, windows=None):
    t = unit.tensor
    k = kind(t)
    if unit.conv_inputs is not None:
        op, rule = "conv2d", player_layout.CONV_RULE
    elif t.op is not None:
        op, rule = t.op.name, rule_of(type(t.op))
    else:
        op, rule = None, None
    name = names.get(t)
    label = name if name is not None else (op if k == "op" else (f"{t.data.item():.4g}" if k == "constant" else k))
    if name is None and windows is not None and id(t) in windows:
        label = "x, as its windows"  # a conv's image that needs no gradient: the graph holds only its windows
    return {"label": str(label), "kind": k, "op": op, "shape": list(t.shape), "dtype": str(t.dtype),
            "name": None if name is None else str(name), "value": _summary(_array(t._data), kernels=k == "parameter"),
            "rule": rule, "inputs": None if t.op is None else (
                ["x", "w", "b"][:len(unit.conv_inputs)] if unit.conv_inputs is not None else
                input_names(type(t.op), len(t.op.inputs)))}


def _named(data, units, unit_of, names):
    """For grads(): each named leaf's contributions, by step."""
    named = {}
    for t, name in names.items():
        if id(t) not in unit_of or t.op is not None or not t.requires_grad:
            continue
        i = unit_of[id(t)]
        contributions = [[k, p["flat"]] for k, step in enumerate(data["steps"]) for p in step["passes"]
                         if p["node"] == i and p.get("flat") is not None]
        named[str(name)] = {"node": i, "shape": list(t.shape), "contributions": contributions}
    for step in data["steps"]:
        for p in step["passes"]:
            p.pop("flat", None)
    return named


def _flat(values):
    """A gradient's values as JSON-friendly floats, 7 significant digits (float32's precision)."""
    return [float(f"{v:.7g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def _summary(values, kernels=False):
    """What the page shows of an array: its numbers when small; else shape, norm, and a heat map in tiles (the
    value divided by the largest magnitude, so the sign and the proportions show)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    summary = {"shape": list(values.shape), "norm": float(np.linalg.norm(finite)) if finite.size else 0.0,
               "min": float(finite.min()) if finite.size else 0.0, "max": float(finite.max()) if finite.size else 0.0}
    if values.size <= SMALL:
        summary["values"] = _flat(values)
        return summary
    tiles, note = _tiles(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0), kernels)
    scale = max((np.abs(np.asarray(tile)).max() for row in tiles for tile in row), default=0.0) or 1.0
    summary["tiles"] = [[np.round(np.asarray(tile) / scale, 3).tolist() for tile in row] for row in tiles]
    summary["note"] = note
    return summary


def _tiles(values, kernels):
    """A grid of 2-D tiles to draw: a matrix as itself; (C, H, W) channels side by side; a (out, in, kh, kw)
    weight as a grid of kernels; an (N, C, H, W) batch of images as the first image's channels."""
    note = ""
    if values.ndim == 4 and not kernels:
        values, note = values[0], f"example 1 of {values.shape[0]}"
    if values.ndim == 4:
        rows, cols = min(values.shape[0], TILES), min(values.shape[1], TILES)
        if rows < values.shape[0] or cols < values.shape[1]:
            note = f"kernels 1 to {rows} of {values.shape[0]} (out) by 1 to {cols} of {values.shape[1]} (in)"
        return [[_downsampled(values[r, c]) for c in range(cols)] for r in range(rows)], note
    if values.ndim == 3 and values.shape[1] * values.shape[2] >= 4:
        count = min(values.shape[0], TILES)
        if count < values.shape[0]:
            note = (note + "; " if note else "") + f"channels 1 to {count} of {values.shape[0]}"
        return [[_downsampled(values[c]) for c in range(count)]], note
    matrix = values.reshape(1, -1) if values.ndim <= 1 else values.reshape(values.shape[0], -1)
    return [[_downsampled(matrix)]], note


def _downsampled(matrix):
    """At most HEAT x HEAT cells, each the mean of its block."""
    rows = np.array_split(np.arange(matrix.shape[0]), min(HEAT, matrix.shape[0]))
    cols = np.array_split(np.arange(matrix.shape[1]), min(HEAT, matrix.shape[1]))
    if len(rows) == matrix.shape[0] and len(cols) == matrix.shape[1]:
        return matrix
    return np.array([[matrix[np.ix_(r, c)].mean() for c in cols] for r in rows])
