"""An op's derivative rule as the backward player shows it: read from the op's docstring, without markup, and
filled in with one step's own numbers.

Every op states its rule in its docstring (docs/adding_an_op.md): its definition ("z = x * y."), then one
statement per input ("dL/dx = dL/dz * y,  dL/dy = dL/dz * x."), in the first paragraph or a later one (matmul,
linear and unfold say what their symbols are first). ``rule_of`` splits that into the definition, the words
that introduce the statements, the statements, and what the docstring adds after them. ``with_numbers``
writes a statement again with the values of its symbols put in, as micrograd's lectures do by hand
("dL/dx = dL/dz * y = 0.5 * (-3) = -1.5"), when every value in it is small enough to read.
"""
import inspect
import re

import numpy as np

# One statement's start: "dL/dx =", "dL/dxᵢ =", "dL/d(operand i) =".
_STATEMENT = re.compile(r"dL/d(?:\([^)]*\)|[^\s=,:;]+)\s*=")
_SPLIT = re.compile(r"[,;]\s+(?=dL/d(?:\([^)]*\)|[^\s=,:;]+)\s*=)")
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z(])")
SMALL_NUMBERS = 6  # a value with more elements than this is not written into a statement


def plain_text(text):
    """reStructuredText's literal markup taken out: ``x`` and `x` become x."""
    text = re.sub(r"``([^`]*)``", r"\1", text)
    return re.sub(r"`([^`]*)`", r"\1", text)


def rule_of(cls):
    """{"definition", "context", "statements", "note"} from the op class's docstring; the statements are [] when it
    states none (a Function without a docstring says so in its definition)."""
    doc = inspect.getdoc(cls) if cls.__doc__ else None
    if not doc:
        return {"definition": f"{cls.name}: its class states no rule (no docstring)", "context": "",
                "statements": [], "note": ""}
    paragraphs = [" ".join(p.split()) for p in plain_text(doc).split("\n\n") if p.strip()]
    definition, context, found = paragraphs[0], "", None
    match = _STATEMENT.search(paragraphs[0])
    if match:
        definition, found = paragraphs[0][:match.start()].strip(), paragraphs[0][match.start():]
    else:
        for paragraph in paragraphs[1:]:
            match = _STATEMENT.search(paragraph)
            if match:
                context, found = paragraph[:match.start()].strip(), paragraph[match.start():]
                break
    if found is None:
        return {"definition": definition, "context": "", "statements": [], "note": ""}
    statements, note = [], ""
    for part in _SPLIT.split(found):
        sentence_end = _SENTENCE_END.search(part)
        if sentence_end:  # "dL/dy = xᵀ @ dL/dz. A 1-D x is treated as a row ..." : the rest is a note
            note = (note + " " + part[sentence_end.end():]).strip()
            part = part[:sentence_end.start()]
        statements.append(part.strip().rstrip("."))
    return {"definition": definition.rstrip("."), "context": context, "statements": statements, "note": note}


def input_names(cls, count):
    """The names the op's rule gives its inputs, from its backward's signature (x, y; x, w, b), or x0, x1, ...
    for a rule that takes them as *inputs."""
    parameters = list(inspect.signature(cls.backward).parameters.values())[3:]  # self, dz, z
    names = [p.name for p in parameters if p.kind is not p.VAR_POSITIONAL]
    if len(names) >= count and not any(p.kind is p.VAR_POSITIONAL for p in parameters[:count]):
        return names[:count]
    return [f"x{i}" for i in range(count)]


def _number(v):
    text = f"{v:.4g}"
    return f"({text})" if v < 0 else text


def _written(array):
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0:
        return _number(float(array))
    if array.ndim == 1:
        return "[" + ", ".join(f"{v:.4g}" for v in array) + "]"
    return "[" + ", ".join(_written(row) for row in array) + "]"


def with_numbers(statement, values, result):
    """``statement`` ("dL/dx = dL/dz * y") with the symbols on its right filled in from ``values`` ({"dL/dz":
    array, "x": array, ...}; a transpose "yᵀ" is read as y transposed), then "= result"; None when a symbol in it
    has no value or too many elements to read."""
    if "=" not in statement:
        return None
    left, right = statement.split("=", 1)
    symbols = sorted(values, key=len, reverse=True)  # dL/dz before z
    pattern = re.compile("|".join(rf"(?<![A-Za-z0-9_/]){re.escape(s)}(ᵀ)?(?![A-Za-z0-9_(])" for s in symbols))
    used, missing = [], False

    def fill(match):
        nonlocal missing
        name = match.group(0).rstrip("ᵀ")
        value = np.asarray(values[name])
        if value.size > SMALL_NUMBERS:
            missing = True
            return name
        used.append(name)
        return _written(value.T if match.group(0).endswith("ᵀ") else value)

    right = re.sub(r"\s*\([a-z][^()]*\)$", "", right.strip())  # a closing remark in words: "(each summed back ...)"
    filled = pattern.sub(fill, right) if symbols else right
    if missing or not used or np.asarray(result).size > SMALL_NUMBERS:
        return None
    written = _written(result)
    if filled == written:  # dL/dx = dL/dz: the numbers add nothing to the statement
        return f"{left.strip()} = {written}"
    return f"{left.strip()} = {filled} = {written}"
