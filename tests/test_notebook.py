"""examples/mnist_dnn.ipynb runs top to bottom on a real Jupyter kernel and shows what it promises.

The notebook is kept in git without outputs (this test checks that too); it is
executed here, in CI, on every run.
"""
import re
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "mnist_dnn.ipynb"


def test_the_notebook_is_kept_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    return notebook


def text_of(notebook):
    return "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom_and_checks_the_hand_derived_gradients(executed):
    text = text_of(executed)
    differences = [float(d) for d in re.findall(r"max \|hand - engine\| = ([\d.e+-]+)", text)]
    assert len(differences) == 4 and max(differences) < 1e-5, differences


@pytest.mark.slow
def test_the_notebook_learns_mnist(executed):
    text = text_of(executed)
    test_accuracy = float(re.search(r"train accuracy [\d.]+%, test accuracy ([\d.]+)%", text).group(1))
    sample = "(the bundled sample, not full MNIST)" in text
    assert test_accuracy >= (85 if sample else 97.5), test_accuracy  # 3 epochs: ~98.2% on MNIST
    assert re.search(r"one epoch of the script: test accuracy [\d.]+%", text)


@pytest.mark.slow
def test_the_notebook_shows_its_pictures_inline(executed):
    shown = [set(o.get("data", {})) for c in executed.cells if c.cell_type == "code" for o in c.outputs
             if o.output_type in ("display_data", "execute_result")]
    assert sum("image/png" in kinds for kinds in shown) >= 5  # digits, cost curve, prediction, confusion, own digit
    # The loss graph: drawn by Graphviz when it is installed, a text tree as HTML when not.
    expected = "image/svg+xml" if shutil.which("dot") else "text/html"
    assert any(expected in kinds for kinds in shown), f"the loss graph was not shown inline as {expected}"


@pytest.mark.slow
def test_the_notebook_plays_backward_on_a_tiny_network(executed):
    pages = [o["data"]["text/html"] for c in executed.cells if c.cell_type == "code" for o in c.outputs
             if o.output_type in ("display_data", "execute_result") and "backwardPlayer" in o.get("data", {}).get(
                 "text/html", "")]
    assert len(pages) == 1 and pages[0].startswith("<iframe srcdoc=")
    assert "W1" in pages[0] and "cross_entropy" in pages[0]


@pytest.mark.slow
def test_the_notebook_prints_no_tqdm_warning(executed):
    streams = [o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
               if o.get("output_type") == "stream"]
    assert not any("TqdmWarning" in s or "IProgress not found" in s for s in streams)


@pytest.mark.slow
def test_the_notebook_runs_from_the_repository_root_too():
    """Started from the root (``jupyter notebook examples/mnist_dnn.ipynb``), not only from examples/."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parents[1])}})
    client.execute()
    assert "max |hand - engine|" in text_of(notebook)


@pytest.mark.slow
def test_each_cells_progress_output_stays_a_few_lines(executed):
    """A progress bar redraws in place (carriage returns, not new lines), so a training cell's output is its
    report, not hundreds of bar updates: a bar takes one line an epoch (at most 5 here), no cell passes 40."""
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        bar_lines = [line for line in text.split("\n") if "%|" in line]
        assert len(bar_lines) <= 5 and text.count("\n") <= 40, cell.source[:80]


@pytest.mark.slow
def test_the_notebook_explains_its_first_loss_and_plays_a_network_without_dead_units(executed):
    text = text_of(executed)
    first = float(re.search(r"loss before training: ([\d.]+)", text).group(1))
    even = float(re.search(r"with W2 = 0 the loss is ([\d.]+)", text).group(1))
    assert first > 2.4 and abs(even - 2.303) < 1e-3, (first, even)  # more than ln 10, and ln 10 when W2 = 0
    fires = [int(n) for n in re.search(r"each hidden unit fires for: \[([\d, ]+)\]", text).group(1).split(",")]
    assert len(fires) == 3 and all(0 < n < 5 for n in fires), fires  # every ReLU both passes and blocks
