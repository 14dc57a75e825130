"""Graph drawing: DOT text with the right nodes and edges, the text tree, and rendering."""
import io
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import viz

NODE = re.compile(r'^  (t\d+) \[label="([^"]*)", (.*)\];$')
EDGE = re.compile(r"^  (t\d+) -> (t\d+);$")


def parse_dot(text):
    """Parse the DOT subset to_dot writes; every line must be one of its forms."""
    lines = text.strip().splitlines()
    assert lines[0] == "digraph tinygrad_np {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if m := NODE.match(line):
            nodes[m.group(1)] = (m.group(2), m.group(3))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        else:
            assert line.startswith("  rankdir=") or line.startswith("  node ["), f"unexpected DOT line: {line!r}"
    for a, b in edges:
        assert a in nodes and b in nodes
    return nodes, edges


def small_graph():
    x = tg.Tensor(np.ones((4, 3), np.float32))
    w = tg.Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    loss = ((x @ w).relu() * 2).sum()
    return x, w, loss


def test_dot_has_the_right_nodes_and_edges():
    x, w, loss = small_graph()
    nodes, edges = parse_dot(viz.to_dot(loss, names={w: "W", x: "x"}))
    label = {k: v[0].split("\\n")[0] for k, v in nodes.items()}
    by_label = {v: k for k, v in label.items()}
    assert sorted(label.values()) == sorted(["sum", "mul", "relu", "matmul", "W", "x", "2"])
    expected = {("matmul", "relu"), ("relu", "mul"), ("2", "mul"), ("mul", "sum"), ("x", "matmul"), ("W", "matmul")}
    assert {(label[a], label[b]) for a, b in edges} == expected
    assert "(4, 2)" in nodes[by_label["matmul"]][0] and "float32" in nodes[by_label["matmul"]][0]
    # parameters, inputs and constants are drawn differently
    styles = {nodes[by_label[n]][1] for n in ("W", "x", "2", "matmul")}
    assert len(styles) == 4


def test_gradient_norms_appear_after_backward():
    x, w, loss = small_graph()
    viz.retain_grads(loss)
    loss.backward(retain_graph=True)
    text = viz.to_dot(loss)
    assert f"|grad| {np.linalg.norm(w.grad.data):.3g}" in text
    assert text.count("|grad|") == 5  # W and the four op outputs; x and the constant need no gradient


def test_a_reused_node_is_drawn_once():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    nodes, edges = parse_dot(viz.to_dot(y))
    assert len(nodes) == 2 and len(edges) == 2  # x -> mul twice


def test_released_graph_says_what_to_do():
    _, _, loss = small_graph()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.to_dot(loss)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.print_graph(loss, file=io.StringIO())


def test_print_graph_tree():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h + h).sum()
    buffer = io.StringIO()
    viz.print_graph(out, names={x: "x"}, file=buffer)
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("#1 sum ()")
    assert lines[1].startswith("└─ #2 add (2,)")
    assert "#3 mul (2,)" in lines[2] and "[#3, shown above]" in "\n".join(lines)
    assert any("x (2,) float32" in line for line in lines)


def test_draw_without_graphviz_writes_dot_and_says_how(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    _, _, loss = small_graph()
    written = viz.draw(loss, tmp_path / "graph.png")
    assert written.path.endswith("graph.dot") and os.fspath(written) == written.path
    parse_dot((tmp_path / "graph.dot").read_text())
    assert "dot -Tpng" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_accepts_the_dot_and_draw_renders(tmp_path):
    _, _, loss = small_graph()
    subprocess.run(["dot", "-Tsvg"], input=viz.to_dot(loss).encode(), check=True, capture_output=True)
    path = viz.draw(loss, tmp_path / "graph.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_drawing_shows_inline_in_jupyter_as_svg_with_graphviz(monkeypatch):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    _, _, loss = small_graph()
    drawing = viz.draw(loss)
    assert drawing.path is None and drawing._repr_html_() is None
    svg = drawing._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "relu" in svg
    with pytest.raises(TypeError, match="not written to a file"):
        os.fspath(drawing)


def test_a_drawing_shows_inline_as_a_text_tree_without_graphviz(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    _, _, loss = small_graph()
    drawing = viz.draw(loss)
    loss.backward()  # releases the graph: the drawing, made before, keeps it as it was
    assert drawing._repr_svg_() is None
    page = drawing._repr_html_()
    assert page.startswith("<pre") and "#1 sum ()" in page and "Install Graphviz" in page
    assert str(drawing) == drawing.tree and "Drawing of" in repr(drawing)


def test_ipython_displays_a_drawing_with_its_richest_format():
    IPython = pytest.importorskip("IPython")
    _, _, loss = small_graph()
    formats, _ = IPython.core.formatters.DisplayFormatter().format(viz.draw(loss))
    assert ("image/svg+xml" in formats) == (shutil.which("dot") is not None)
    assert "image/svg+xml" in formats or "text/html" in formats
