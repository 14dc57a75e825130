"""The learning examples run in their quick modes, and the docs' code blocks run as written."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = os.environ.get("TINYGRAD_NP_DATA")


def run(script, *args, cwd):
    data = ["--data-dir", DATA] if DATA else []
    result = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--quick", *data, *map(str, args)],
                            capture_output=True, text=True, timeout=600, cwd=cwd,
                            env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_backprop_walkthrough(tmp_path):
    out = run("backprop_walkthrough.py", "--out", tmp_path, cwd=tmp_path)
    table = out[out.index("max |hand - engine|"):out.index("2. Three layers")]
    differences = [float(line.split()[-2]) for line in table.splitlines()[1:5]]
    assert max(differences) < 1e-12, table  # the notebook's formulas and the engine agree
    assert "gradcheck of the engine on the three-layer net" in out and "passed" in out
    assert "1 - tan² as its derivative: caught" in out
    assert "#1 cross_entropy ()" in out
    assert any(p.suffix in (".svg", ".dot") for p in tmp_path.iterdir())


def test_higher_order(tmp_path):
    out = run("higher_order.py", cwd=tmp_path)
    assert out.strip().splitlines()[-1] == "all checks passed"


def test_autoencoder(tmp_path):
    out = run("mnist_autoencoder.py", "--out", tmp_path, cwd=tmp_path)
    errors = [float(m) for m in re.findall(r"test reconstruction error (?:before training: )?([\d.]+)", out)]
    assert errors[-1] < errors[0]  # it learned something in 20 batches
    assert (tmp_path / "reconstructions.png").read_bytes()[:4] == b"\x89PNG"


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize("doc", ["README.md", "docs/adding_an_op.md", "docs/how_it_works.md"])
def test_doc_code_blocks_run(doc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks may write files (a drawn graph)
    namespace = {}
    blocks = python_blocks(ROOT / doc)
    assert blocks or doc == "docs/how_it_works.md"
    for block in blocks:
        if "class Mul(Function)" in block:  # an excerpt of the library itself, shown for reading
            continue
        exec(compile(block, doc, "exec"), namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            value()  # a hypothesis test defined in the doc: run it
