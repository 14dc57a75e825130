"""The lessons in docs/lessons run as written: each page's code blocks, top to bottom, as one program (the
blocks assert what the prose says), in a fresh directory for the files they write."""
import re
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parents[1] / "docs" / "lessons"
PAGES = ["backprop_through_time.md", "per_example_gradients.md", "memory_and_recompute.md",
         "linearize_and_transpose.md", "custom_rules.md"]
SLOW = {"memory_and_recompute.md"}  # the 200-layer chain of the issue, run several times


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.slow) if p in SLOW else p for p in PAGES])
def test_a_lessons_code_runs_as_written(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(LESSONS / page)
    assert blocks, f"{page} has no code"
    namespace = {"__name__": "lesson"}
    for block in blocks:
        exec(compile(block, str(LESSONS / page), "exec"), namespace)


def test_the_index_names_every_lesson_and_each_page_is_linked_from_it():
    index = (LESSONS / "README.md").read_text()
    for page in PAGES:
        assert f"({page})" in index, page
    assert sorted(p.name for p in LESSONS.glob("*.md")) == sorted(PAGES + ["README.md"])
