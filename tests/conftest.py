import os

from hypothesis import settings

# Under CI=true hypothesis loads its built-in "ci" profile by itself
# (derandomized, no deadline, no example database). Locally we only lift the
# deadline: numerical gradients make single examples slow.
settings.register_profile("dev", deadline=None)
if not os.environ.get("CI"):
    settings.load_profile("dev")


def pytest_configure(config):
    # The fast loop (pytest -m "not slow", CONTRIBUTING.md) draws a quarter of the op table's hypothesis examples
    # (tests/test_ops.py's examples()); CI and a full run draw them all.
    if config.getoption("markexpr", "") == "not slow":
        os.environ["TINYGRAD_NP_FAST_LOOP"] = "1"
