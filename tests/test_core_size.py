"""The core stays small enough to read as the algorithm: scripts/core_size.py's measures, held to their limits."""
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from core_size import CORE_DIR, code_lines, measures  # noqa: E402


def test_the_core_files_total_at_most_600_code_lines():
    assert measures()["core_code_lines"] <= 600


def test_no_function_in_autograd_is_longer_than_30_code_lines_and_the_loop_at_most_25():
    m = measures()
    assert m["longest_autograd_function"][0] <= 30, m["longest_autograd_function"]
    source = (CORE_DIR / "autograd.py").read_text()
    loop = next(f for f in ast.parse(source).body if isinstance(f, ast.FunctionDef) and f.name == "_backpropagate")
    assert len(code_lines(source, loop.lineno, loop.end_lineno)) <= 25


def test_the_tensor_class_is_at_most_250_code_lines():
    assert measures()["tensor_class_code_lines"] <= 250


def test_every_op_states_its_derivative_once():
    assert measures()["ops_with_a_second_rule"] == []


def test_the_counter_counts_code_not_blanks_comments_or_docstrings():
    source = ('def f(x):\n    """Doc,\n    two lines."""\n\n    # a comment\n'
              '    y = (x +\n         1)  # trailing\n    return y\n')
    assert sorted(code_lines(source)) == [1, 6, 7, 8]


def test_how_it_works_quotes_the_loop_as_it_is():
    source = (CORE_DIR / "autograd.py").read_text()
    loop = next(f for f in ast.parse(source).body if isinstance(f, ast.FunctionDef) and f.name == "_backpropagate")
    body = "\n".join(source.splitlines()[loop.lineno - 1:loop.end_lineno])
    assert body in (ROOT / "docs" / "how_it_works.md").read_text(), "docs/how_it_works.md's copy of the loop is stale"
