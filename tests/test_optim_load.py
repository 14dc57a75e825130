"""An optimizer state from a file (breaks 14 and 15 of the attack on issue 28): load_state_dict refuses, with a
ValueError naming the entry and changing nothing, every hyperparameter and state entry that step() could not use
or would turn into NaN; and a step is applied to every parameter or to none."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim


def trained(kind):
    """A two-layer model and its optimizer after one step (so that the state holds every entry)."""
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Linear(2, 1, rng=1))
    make = {"adam": lambda p: optim.Adam(p), "adamw": lambda p: optim.AdamW(p),
            "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9), "nesterov": lambda p: optim.SGD(
                p, lr=0.1, momentum=0.9, nesterov=True),
            "rmsprop": lambda p: optim.RMSprop(p, momentum=0.5)}[kind]
    opt = make(model.parameters())
    gradients(model, opt)
    opt.step()
    return model, opt


def gradients(model, opt):
    opt.zero_grad()
    model(tg.Tensor(np.ones((4, 3), np.float32))).sum().backward()


def snapshot(model, opt):
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    state = [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()} for s in opt.state]
    return [p.data.copy() for p in model.parameters()], groups, state


def same(a, b):
    params_a, groups_a, state_a = a
    params_b, groups_b, state_b = b
    return (all(np.array_equal(x, y) for x, y in zip(params_a, params_b, strict=True)) and groups_a == groups_b
            and len(state_a) == len(state_b)
            and all(sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)
                    for sa, sb in zip(state_a, state_b, strict=True)))


CASES = [
    ("adam", "group.0.betas", np.array([0.9, 0.9, 0.9]), "'group.0.betas': must be 2 finite numbers, got [0.9, 0.9, "
                                                         "0.9] (float64)"),
    ("adam", "group.0.betas", np.array([0.9, 1.0]), "'group.0.betas': must be from 0 to below 1, got [0.9, 1.0]"),
    ("adam", "group.0.betas", np.array([-0.1, 0.9]), "must be from 0 to below 1"),
    ("adam", "state.0.t", np.array(-1), "'state.0.t': a step count must be one whole number from 0, got -1 (int64)"),
    ("adam", "state.0.t", np.array(1.5), "'state.0.t': a step count must be one whole number from 0, got 1.5"),
    ("adam", "state.0.t", np.array([1, 2]), "a step count must be one whole number from 0"),
    ("adam", "group.0.lr", np.array("0.001"), "'group.0.lr': must be one finite number, got '0.001' (<U5)"),
    ("adam", "group.0.eps", np.array(-1e-8), "'group.0.eps': must be from 0 to 10000, got -1e-08"),
    ("adam", "group.0.weight_decay", np.array(np.inf), "'group.0.weight_decay': must be one finite number, got inf"),
    ("adam", "state.1.v", -np.ones((2,), np.float32), "'state.1.v': is a mean of squares, and holds a value below 0"),
    ("adam", "state.1.m", np.full((2,), np.nan, np.float32), "'state.1.m': holds values that are not finite"),
    ("adam", "state.1.m", np.array(["a", "b"]), "'state.1.m': must hold real numbers, got dtype <U1"),
    ("adam", "state.1.m", np.zeros(3), "state.1.m has shape (3,), the parameter (2,)"),
    ("sgd", "group.0.lr", np.array(np.nan), "'group.0.lr': must be one finite number, got nan"),
    ("sgd", "group.0.lr", np.array(np.inf), "must be one finite number, got inf"),
    ("sgd", "group.0.lr", np.array(-0.1), "'group.0.lr': must be from 0 to 10000, got -0.1"),
    ("sgd", "group.0.lr", np.array([0.1, 0.2]), "'group.0.lr': must be one finite number, got [0.1, 0.2]"),
    ("sgd", "group.0.momentum", np.array(1.5), "'group.0.momentum': must be from 0 to 1, got 1.5"),
    ("sgd", "group.0.nesterov", np.array(1), "'group.0.nesterov': must be true or false, got 1 (int64)"),
    ("nesterov", "group.0.momentum", np.array(0.0), "group 0 has nesterov true, which needs momentum > 0"),
    ("sgd", "state.3.momentum", np.array([1e300]), "'state.3.momentum': holds values that are not finite in the "
                                                   "parameter's dtype float32"),
    ("sgd", "state.-1.momentum", np.array([5.0], np.float32), "'state.-1.momentum': its index '-1' is not a whole "
                                                              "number from 0 (a negative index names no parameter)"),
    ("sgd", "state.03.momentum", np.array([5.0], np.float32), "its index '03' is not a whole number from 0"),
    ("sgd", "state.4.momentum", np.array([5.0], np.float32), "'state.4.momentum': its index 4 is past the 4 "
                                                             "parameters"),
    ("sgd", "group.1.lr", np.array(0.1), "'group.1.lr': its index 1 is past the 1 groups"),
    ("sgd", "group.0.params", np.array(-4), "'group.0.params': the count of the group's parameters must be one whole "
                                            "number from 0, got -4"),
    ("sgd", "group.0.params", np.array(4.0), "must be one whole number from 0, got 4.0"),
    ("rmsprop", "group.0.alpha", np.array(1.01), "'group.0.alpha': must be from 0 to below 1, got 1.01"),
    ("rmsprop", "state.2.v", np.full((1, 2), -1.0, np.float32), "'state.2.v': is a mean of squares"),
]


@pytest.mark.parametrize("kind, key, value, message", CASES, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_a_loaded_state_step_could_not_use_is_refused_naming_the_entry_and_changing_nothing(tmp_path, kind, key,
                                                                                          value, message):
    """Before: betas of 3 values, t = -1, t = 1.5 (silently cut to 1), an lr of NaN, inf, -0.1 or "0.001", a
    momentum buffer of 1e300 (inf, with only a RuntimeWarning) and state.-1.* (the last parameter) were all
    accepted; an lr of shape (2,) raised TypeError. Each goes through a file, as a stranger's would."""
    model, opt = trained(kind)
    state = opt.state_dict()
    state[key] = value
    if value.dtype.kind in "biuf":  # what nn.save can write (a string array too, but not every case is a file)
        nn.save(state, tmp_path / "opt.npz")
        state = nn.load(tmp_path / "opt.npz")
    before = snapshot(model, opt)
    with pytest.raises(ValueError) as caught:
        opt.load_state_dict(state)
    assert type(caught.value) is ValueError and str(caught.value).startswith(f"{type(opt).__name__}.load_state_dict: ")
    assert message in str(caught.value), str(caught.value)
    assert same(before, snapshot(model, opt))


@pytest.mark.parametrize("kind", ["adam", "adamw", "sgd", "nesterov", "rmsprop"])
def test_a_saved_state_still_loads_and_resumes_exactly(tmp_path, kind):
    model, opt = trained(kind)
    nn.save(opt.state_dict(), tmp_path / "opt.npz")
    model.save(tmp_path / "model.npz")
    twin, fresh = trained(kind)
    twin.load(tmp_path / "model.npz")
    fresh.load_state_dict(nn.load(tmp_path / "opt.npz"))
    for m, o in ((model, opt), (twin, fresh)):
        gradients(m, o)
        o.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_an_lr_a_schedule_brought_to_zero_still_loads():
    """A cosine schedule ends at lr 0 by default: its state must load back (0 is in lr's range, as PyTorch's)."""
    model, opt = trained("sgd")
    schedule = optim.CosineLR(opt, total=2)
    schedule.step()
    schedule.step()
    assert opt.lr == 0.0
    _, fresh = trained("sgd")
    fresh.load_state_dict(opt.state_dict())
    assert fresh.lr == 0.0


def test_adams_state_is_all_or_none_for_each_parameter():
    _, opt = trained("adam")
    state = {k: v for k, v in opt.state_dict().items() if not (k.endswith(".m") or k.endswith(".v"))}
    _, fresh = trained("adam")
    with pytest.raises(ValueError, match=r"parameter 0's state has \['t'\]; Adam needs all of \['m', 't', 'v'\] or "
                                         r"none"):
        fresh.load_state_dict(state)


def test_a_state_that_steps_to_a_division_by_zero_is_refused_when_loaded(tmp_path):
    """Break 15's file: state.3.t = -1. Before: accepted; the next step() raised ZeroDivisionError after it had
    updated parameters 0 to 2, a half-applied step."""
    model, opt = trained("adam")
    state = opt.state_dict()
    state["state.3.t"] = np.array(-1)
    nn.save(state, tmp_path / "adam_t_neg.npz")
    before = snapshot(model, opt)
    with pytest.raises(ValueError, match=r"'state.3.t': a step count must be one whole number from 0, got -1"):
        opt.load_state_dict(nn.load(tmp_path / "adam_t_neg.npz"))
    assert same(before, snapshot(model, opt))


@pytest.mark.parametrize("spoil, message", [
    (lambda opt: opt.state[3].__setitem__("t", -1), r"Adam.step: parameter 3's t is -1, not a whole number from 0"),
    (lambda opt: opt.state[3].__setitem__("m", np.zeros(5, np.float32)),
     r"Adam.step: parameter 3's m has shape \(5,\), the parameter \(1,\)"),
    (lambda opt: opt.param_groups[1].__setitem__("betas", (0.9, 0.9, 0.9)),
     r"Adam.step: group 1's betas is \(0.9, 0.9, 0.9\), not 2 numbers"),
])
def test_a_step_is_applied_to_every_parameter_or_to_none(spoil, message):
    """The same state set by hand, after load_state_dict checked it: step() refuses before the first update,
    where before it raised after updating parameters 0 to 2. Two groups, so that the second's fault is found
    before the first is stepped."""
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Linear(2, 1, rng=1))
    layers = list(model.parameters())
    opt = optim.Adam([{"params": layers[:2]}, {"params": layers[2:], "lr": 0.01}])
    gradients(model, opt)
    opt.step()
    spoil(opt)
    gradients(model, opt)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=message):
        opt.step()
    assert all(np.array_equal(b, p.data) for b, p in zip(before, model.parameters(), strict=True))
