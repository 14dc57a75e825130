"""Every flag of every example says what it does in --help, and mnist_dnn offers the optimizers the other
examples do."""
import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if "argparse" in p.read_text())


def load(name):
    sys.path.insert(0, str(EXAMPLES))  # the examples import command_line (and sweep imports mnist_dnn) beside them
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name[:-3]}", EXAMPLES / name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def help_of(name, monkeypatch, capsys):
    """The parser an example builds and the text its --help prints, from ``main(["--help"])``."""
    parsers = []
    original = argparse.ArgumentParser.parse_args

    def recording(self, *args, **kwargs):
        parsers.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", recording)
    with pytest.raises(SystemExit) as exit_:
        load(name).main(["--help"])
    assert exit_.value.code == 0
    return parsers[0], capsys.readouterr().out


def test_every_example_with_flags_is_checked():
    assert {"mnist_dnn.py", "mnist_cnn.py", "char_lm.py", "backprop_walkthrough.py", "higher_order.py",
            "tiny_transformer.py", "lstm_sequence.py", "sweep.py", "predict.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_flag_is_without_help_text(name, monkeypatch, capsys):
    parser, text = help_of(name, monkeypatch, capsys)
    flags = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    assert flags
    silent = [a.option_strings or a.dest for a in flags if not (a.help or "").strip()]
    assert silent == [], f"{name}: flags without help text"
    for action in flags:
        if action.help == argparse.SUPPRESS:  # a flag kept out of --help on purpose (jacobians' --data-dir)
            continue
        shown = action.option_strings[0] if action.option_strings else action.metavar or action.dest
        assert shown in text, (name, shown)
        first_words = " ".join(action.help.split()[:3]).split("%")[0].strip()
        assert first_words in " ".join(text.split()), (name, shown, first_words)
