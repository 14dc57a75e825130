"""The package's layout keeps its promises: no import circle, library frames told from the user's in every folder,
and the public names where they were before the files moved into core/, jit/ and see/."""
import ast
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.core.user_frames import in_library, user_line

PACKAGE = Path(tg.__file__).resolve().parent


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted):
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _module_level_imports(path):
    """The package modules ``path`` imports at module level (imports inside functions run later, and are not
    part of the import order)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _is_module(candidate) else target)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_np"):
            found.add(node.module)
    return found


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_no_two_modules_import_each_other_even_through_others():
    graph = {_module_name(p): _module_level_imports(p) for p in PACKAGE.rglob("*.py")}
    state, path = {}, []

    def visit(module):
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in graph or target == module:
                continue
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target]
                pytest.fail("an import circle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_every_file_of_every_folder_counts_as_library_code():
    files = list(PACKAGE.rglob("*.py"))
    assert {p.parent.name for p in files} >= {"core", "jit", "see", "nn", "ops", "data"}
    assert all(in_library(str(p)) for p in files)
    assert not in_library(__file__)
    assert not in_library(str(PACKAGE.parent / "tinygrad_np_other" / "x.py"))  # a sibling folder is not the package


def test_a_jit_refusal_in_a_layer_names_the_users_line_not_the_librarys():
    layer = nn.Linear(3, 2)

    def step(x):
        return float(layer(x).sum())  # the read happens in Tensor.__float__, two folders down

    with pytest.raises(tg.JitError, match=r"test_layout\.py:\d+ \(return float\(layer"):
        tg.jit(step)(np.ones((1, 3), np.float32))


def test_anomaly_inside_a_layer_names_the_users_line():
    layer = nn.Linear(2, 1)
    layer.weight.data[...] = np.inf
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match=r"test_layout\.py:\d+"):
        layer(tg.Tensor(np.array([[1.0, -1.0]], np.float32)))


def test_user_line_outside_any_library_call_is_the_callers():
    assert "test_layout.py" in user_line()


def test_the_public_names_stay_where_they_were():
    # ``import tinygrad_np.viz`` and ``from tinygrad_np.viz import draw``, as Python runs them:
    viz = importlib.import_module("tinygrad_np.viz")
    from_import = {}
    exec("from tinygrad_np.viz import draw", from_import)
    draw = from_import["draw"]
    assert viz is tg.viz and draw is tg.viz.draw
    assert sys.modules["tinygrad_np.viz"] is tg.see.viz
    for name in tg.__all__:
        assert getattr(tg, name) is not None, name
    assert callable(tg.jit) and callable(tg.trace) and callable(tg.profile) and callable(tg.detect_anomaly)
