"""tg.jit against the sixth independent attack (/work/tools/jit_attack_report6.md), from the attacker's scripts in
/work/scratch/attack_jit6/; each test failed on the main the attacker worked on (412d205)."""
import collections
import functools
import io
import logging
import operator
import types
import warnings

import numpy as np
import pytest

import tinygrad_np as tg

X = np.ones(2, np.float32)


def _calls(j, n=5):
    return [j(X) for _ in range(n)]


def test_b_print_made_a_partial_prints_on_every_replay(capsys):
    loud = functools.partial(print, flush=True)
    _calls(tg.jit(lambda x: loud("step") or x * 2))
    assert capsys.readouterr().out == "step\n" * 5


@pytest.mark.parametrize("kind", ["print(*names)", "log with *args", "setattr(*spec)", "append(*[x])",
                                  "partial append", "partial setitem", "operator.call(print)"])
def test_b_calls_through_star_args_and_partials_are_made_on_every_replay(kind, capsys):
    names, history, metrics, record = ["fc1", "fc2"], [], {}, types.SimpleNamespace(last=None)
    buf = io.StringIO()
    log = logging.getLogger(f"tinygrad_np.test.attack6{id(buf)}")
    log.addHandler(logging.StreamHandler(buf))
    log.setLevel(logging.INFO)
    log.propagate = False
    add, put = functools.partial(history.append), functools.partial(metrics.__setitem__, "loss")

    def step(x):
        loss = (x * 2).sum()
        if kind == "print(*names)":
            print(*names)
        elif kind == "log with *args":
            log.info("%s %s", *names)
        elif kind == "setattr(*spec)":
            setattr(*(record, "last", loss))
        elif kind == "append(*[x])":
            history.append(*[loss])
        elif kind == "partial append":
            add(loss)
        elif kind == "partial setitem":
            put(loss)
        else:
            operator.call(print, "op")
        return loss

    j, losses = tg.jit(step), []
    for _ in range(5):
        losses.append(j(X))
    out = capsys.readouterr().out
    expected = {"print(*names)": lambda: out == "fc1 fc2\n" * 5,
                "log with *args": lambda: buf.getvalue() == "fc1 fc2\n" * 5,
                "setattr(*spec)": lambda: record.last is losses[-1], "append(*[x])": lambda: history == losses,
                "partial append": lambda: history == losses,
                "partial setitem": lambda: metrics["loss"] is losses[-1],
                "operator.call(print)": lambda: out == "op\n" * 5}
    assert expected[kind]()


def test_b_output_handed_to_map_is_refused_not_dropped():
    with pytest.raises(tg.JitError, match="handed to map"):
        tg.jit(lambda x: list(map(print, ["a", "b"])) and x * 2)(X)


def test_b_warn_explicit_replays():
    def step(x):
        warnings.warn_explicit("explicit", UserWarning, "cfg.py", 3)
        return x * 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _calls(tg.jit(step), 3)
    assert [str(w.message) for w in caught] == ["explicit"] * 3


def test_b_reads_through_star_args_are_guarded():
    cfg = types.SimpleNamespace(scale=1.0)
    spec = (cfg, "scale")
    j = tg.jit(lambda x: x * getattr(*spec))
    _calls(j, 3)
    cfg.scale = 4.0
    assert j(X).numpy()[0] == 4.0


def test_b_c_objects_made_outside_that_reach_a_container_are_guarded():
    weights, counts = {"a": 1.0}, np.array([1.0, 2.0])
    weight_of, total, values = weights.get, counts.sum, weights.values()
    proxy, flat = types.MappingProxyType(weights), counts.flat
    j = tg.jit(lambda x: x * weight_of("a") * total() * max(values) * proxy["a"] * flat[0])
    _calls(j, 3)
    weights["a"] = 2.0
    counts[0] = 3.0
    assert j(X).numpy()[0] == 2.0 * 5.0 * 2.0 * 2.0 * 3.0


def test_b_a_plugin_subclass_defined_later_is_seen():
    class Plugin:
        pass

    class First(Plugin):
        pass

    j = tg.jit(lambda x: x * len(Plugin.__subclasses__()))
    _calls(j, 3)

    class Second(Plugin):
        pass

    assert j(X).numpy()[0] == 2.0


def test_b_an_outside_buffers_text_read_in_the_step_is_refused():
    buf = io.StringIO("ok")
    with pytest.raises(tg.JitError, match="getvalue"):
        tg.jit(lambda x: x * ("corrupt" in buf.getvalue()))(X)


def test_c_printing_set_differences_and_counters_replays(capsys):
    counts = collections.Counter(a=1)
    _calls(tg.jit(lambda x: print(sorted({"a", "b"} - {"b"}), dict(counts)) or x * 2), 3)
    assert capsys.readouterr().out == "['a'] {'a': 1}\n" * 3


class _Noisy(UserWarning):
    pass


def test_c_ordinary_code_the_sixth_round_saw_refused_replays(capsys):
    """warn(MyWarning("...")), str.format_map of a config, and a counter in an outside array (counts[0] += 1:
    its contents are guarded, so each call traces again, as a Python counter does)."""
    cfg, counts = {"lr": 0.1}, np.zeros(1)

    def step(x):
        warnings.warn(_Noisy("noisy"), stacklevel=1)  # (a new instance each call: alike by its arguments)
        print("lr={lr}".format_map(cfg))
        counts[0] += 1
        return x * 2

    j = tg.jit(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _calls(j, 4)
    assert [str(w.message) for w in caught] == ["noisy"] * 4 and counts[0] == 4
    assert capsys.readouterr().out == "lr=0.1\n" * 4
