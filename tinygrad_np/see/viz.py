"""Seeing the graph: Graphviz DOT text, a rendered picture, or an indented tree in the terminal.

The graph is read from the links every recorded tensor keeps to the op that
made it (``tensor.op``) and that op's inputs (``op.inputs``), so draw it
before backward releases them, or call ``backward(retain_graph=True)``.
Gradient norms appear for every tensor with a ``.grad``: leaves after
backward, and intermediate tensors marked with ``retain_grad()`` (for all of
them at once: ``retain_grads(output)``).

Nodes are of four kinds, drawn differently: ops (tensors an op made),
parameters (leaves that require grad), inputs (other leaves) and constants
(0-d leaves, such as the 2 in ``2 * x``).

In Jupyter, ``draw(loss)`` as the last line of a cell shows the graph inline:
as SVG when Graphviz is installed, as the indented tree when it is not.
"""
import html
import io
import os
import shutil
import subprocess
import sys

import numpy as np

from .backward_player import BackwardPlayer, play_backward  # stepping through backward
from .graph import inputs_of, kind, labels, walk

__all__ = ["draw", "to_dot", "print_graph", "describe", "retain_grads", "Drawing", "play_backward", "BackwardPlayer"]

STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#dbe8f7"',
    "parameter": 'shape=box, style=filled, fillcolor="#f9d9a8"',
    "input": 'shape=box, style=filled, fillcolor="#e6e6e6"',
    "constant": 'shape=plaintext',
}


def retain_grads(root):
    """Mark every intermediate tensor in the graph to keep its ``.grad``, so drawings show all gradient norms."""
    for t in walk(root)[0]:
        if not t.is_leaf:
            t.retain_grad()
    return root


def describe(t, names=None, sep=" "):
    """What the tensor is, its shape and dtype, and its gradient's norm if it has one, joined by ``sep``.
    ``names``: {Tensor: label}, or a Module (its parameters' and buffers' names)."""
    names = labels(names) if hasattr(names, "named_parameters") else names
    k = kind(t)
    if k == "constant":
        return f"{t.data.item():.4g}"
    parts = [t.op.name if k == "op" else (names or {}).get(t, k), f"{tuple(t.shape)} {t.dtype}"]
    if t.grad is not None:
        parts.append(f"|grad| {np.linalg.norm(t.grad.data):.3g}")
    return sep.join(parts)


def to_dot(root, names=None):
    """Graphviz DOT text for the graph that produced ``root``.

    ``names`` optionally maps tensors to labels (e.g. ``{W1: "W1"}``), or is a
    Module (its parameters' names); by default leaves are labelled by their kind.
    """
    names = labels(names)
    nodes, edges = walk(root)
    ids = {t: f"t{i}" for i, t in enumerate(nodes)}
    lines = ["digraph tinygrad_np {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=10];']
    for t in nodes:
        label = describe(t, names, sep="\\n").replace('"', "'")
        lines.append(f'  {ids[t]} [label="{label}", {STYLE[kind(t)]}];')
    for parent, child in edges:
        lines.append(f"  {ids[parent]} -> {ids[child]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


class Drawing:
    """What ``draw`` returns: the graph as it was when drawn, which Jupyter shows inline.

    ``path`` is the file written (None if none was asked for); a Drawing can
    be passed wherever a path can (``open(drawing)``). ``dot`` is the DOT
    text and ``tree`` the indented tree of ``print_graph``.
    """

    def __init__(self, dot, tree, path=None):
        self.dot, self.tree, self.path = dot, tree, path
        self._svg = None

    def _repr_svg_(self):  # Jupyter's rich display; None makes it fall back to _repr_html_
        if self._svg is None and shutil.which("dot"):
            self._svg = _render(self.dot, "svg").decode()
        return self._svg

    def _repr_html_(self):
        if shutil.which("dot"):
            return None  # the SVG is shown
        return ("<pre style=\"line-height: 1.25\">" + html.escape(self.tree) + "</pre>"
                "<p><i>Install Graphviz (e.g. apt-get install graphviz) to see this graph drawn.</i></p>")

    def __fspath__(self):
        if self.path is None:
            raise TypeError("this drawing was not written to a file; pass draw(root, path) to write one")
        return self.path

    def __str__(self):
        return self.path if self.path is not None else self.tree

    def __repr__(self):
        where = f", written to {self.path}" if self.path else ""
        return f"<Drawing of {self.dot.count(' [label=')} nodes{where}>"


def _render(dot_text, fmt):
    return subprocess.run([shutil.which("dot"), f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                          check=True).stdout


def draw(root, path=None, names=None):
    """The graph of ``root`` as a ``Drawing``: shown inline in Jupyter, and written to ``path`` if given.

    ``path`` (.svg, .png or .pdf) is rendered with Graphviz's ``dot`` if it
    is installed. Without Graphviz, the DOT text goes beside it (``path``
    with suffix .dot), a message says how to render it, and the drawing's
    ``path`` is that file.
    """
    from ..fileio import atomic_write

    text = to_dot(root, names)
    buffer = io.StringIO()
    print_graph(root, names, file=buffer)
    if path is None:
        return Drawing(text, buffer.getvalue())
    path = os.fspath(path)
    stem, suffix = os.path.splitext(path)
    fmt = suffix.lstrip(".").lower()
    if shutil.which("dot") and fmt in ("svg", "png", "pdf"):
        rendered = _render(text, fmt)
        with atomic_write(path) as f:
            f.write(rendered)
        return Drawing(text, buffer.getvalue(), path)
    dot_path = stem + ".dot"
    with atomic_write(dot_path, "w") as f:
        f.write(text)
    if fmt != "dot":
        print(f"Graphviz's 'dot' program is not installed, so wrote {dot_path}; render it with "
              f"`dot -T{fmt or 'svg'} {dot_path} -o {stem}.{fmt or 'svg'}` once Graphviz is installed "
              "(e.g. apt-get install graphviz)", file=sys.stderr)
    return Drawing(text, buffer.getvalue(), dot_path)


def print_graph(root, names=None, file=None):
    """Print the graph as an indented tree: each op above its inputs. Needs nothing installed.

    A tensor used more than once is printed in full the first time and
    referred to by number after that. ``names`` as in ``to_dot``.
    """
    file, names = file or sys.stdout, labels(names)
    numbers = {}
    stack = [(root, "", "", True)]  # tensor, prefix for its line, prefix for its children, is last child
    while stack:
        t, line_prefix, child_prefix, _ = stack.pop()
        if t in numbers:
            print(f"{line_prefix}[#{numbers[t]}, shown above]", file=file)
            continue
        numbers[t] = len(numbers) + 1
        print(f"{line_prefix}#{numbers[t]} {describe(t, names)}", file=file)
        fn = t.op
        if fn is None:
            continue
        children = inputs_of(fn)
        for i in reversed(range(len(children))):  # pushed in reverse so they print in order
            last = i == len(children) - 1
            stack.append((children[i], child_prefix + ("└─ " if last else "├─ "),
                          child_prefix + ("   " if last else "│  "), last))


