"""How big the engine's core is, in the terms a reader pays for: code lines (no blanks, comments or docstrings).

    python scripts/core_size.py

Prints the measures tests/test_core_size.py holds: the code lines of the four files that are
the algorithm (tinygrad_np/core/: tensor, function, autograd, grad_mode; the rest of core/ is
the checks and seams around them), the longest function in autograd.py, the Tensor class,
and how many ops state their derivative twice (a ``backward_arrays`` beside ``backward``).
"""
import ast
import io
import sys
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_np"
CORE_DIR = PACKAGE / "core"
CORE = ("tensor.py", "function.py", "autograd.py", "grad_mode.py")


def code_lines(source, first=1, last=None):
    """Line numbers in [first, last] holding code: not blank, not only a comment, not part of a docstring."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first_stmt = node.body[0]
            if isinstance(first_stmt, ast.Expr) and isinstance(first_stmt.value, ast.Constant) \
                    and isinstance(first_stmt.value.value, str):
                docstrings.update(range(first_stmt.lineno, first_stmt.end_lineno + 1))
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENDMARKER):
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    last = last or len(source.splitlines())
    return {n for n in lines - docstrings if first <= n <= last}


def measures(package=PACKAGE):
    core = sum(len(code_lines((package / "core" / name).read_text())) for name in CORE)
    autograd = (package / "core" / "autograd.py").read_text()
    functions = [(len(code_lines(autograd, f.lineno, f.end_lineno)), f.name) for f in ast.walk(ast.parse(autograd))
                 if isinstance(f, ast.FunctionDef)]
    tensor = (package / "core" / "tensor.py").read_text()
    tensor_class = next(c for c in ast.parse(tensor).body if isinstance(c, ast.ClassDef) and c.name == "Tensor")
    second_rules = sorted(
        node.name for path in sorted((package / "ops").glob("*.py")) for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and any(isinstance(f, ast.FunctionDef) and f.name == "backward_arrays"
                                                  for f in node.body))
    return {"core_code_lines": core, "longest_autograd_function": max(functions),
            "tensor_class_code_lines": len(code_lines(tensor, tensor_class.lineno, tensor_class.end_lineno)),
            "ops_with_a_second_rule": second_rules}


def main():
    m = measures()
    print(f"code lines of core/{{{', '.join(CORE)}}}: {m['core_code_lines']}")
    print(f"longest function in autograd.py: {m['longest_autograd_function'][1]}, "
          f"{m['longest_autograd_function'][0]} code lines")
    print(f"Tensor class: {m['tensor_class_code_lines']} code lines")
    print(f"ops with a second rule: {len(m['ops_with_a_second_rule'])} {' '.join(m['ops_with_a_second_rule'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
