"""Model files against what the fourth independent attack (/work/tools/files_attack_report4.md) left open on the
main of 2026-12-08 (69cf9c0): each test failed there (a state accepted that made the next step wrong, or an
unusable array loaded) and passes after its fix. Honest states of real runs are loaded beside each refusal, so a
check cannot pass by refusing everything."""
import zipfile

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.nn import architecture
from tinygrad_np.optim import lr_scheduler


# ---- LBFGS: a finite state that no run made ---------------------------------------------------------------------
def _lbfgs_run(seed, line_search_fn, steps=4, history_size=3, n=5, dtype=np.float32):
    rng = np.random.default_rng(seed)
    w = nn.Parameter(tg.Tensor(rng.normal(size=n).astype(dtype)))
    scale = tg.Tensor(rng.uniform(0.5, 20, size=n).astype(dtype))
    target = tg.Tensor(rng.normal(size=n).astype(dtype))
    opt = optim.LBFGS([w], lr=0.8, max_iter=3, history_size=history_size, line_search_fn=line_search_fn)

    def closure():
        opt.zero_grad()
        loss = (((w - target) ** 2) * scale).sum() + (w ** 4).sum() * 0.01
        loss.backward()
        return loss

    states = []
    for _ in range(steps):
        opt.step(closure)
        states.append({k: np.asarray(v).copy() for k, v in opt.state_dict().items()})
    return w, states, line_search_fn, history_size


def _fresh_lbfgs(w, line_search_fn, history_size):
    w2 = nn.Parameter(tg.Tensor(w.data.copy()))
    return w2, optim.LBFGS([w2], lr=0.8, max_iter=3, history_size=history_size, line_search_fn=line_search_fn)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_every_honest_checkpoint_loads(line_search_fn):
    loaded = 0
    for seed in range(12):
        for dtype in (np.float32, np.float64):
            w, states, ls, history = _lbfgs_run(seed, line_search_fn, dtype=dtype)
            for state in states:
                if "state.0.d" not in state:
                    continue  # (converged before a direction was kept)
                _, opt = _fresh_lbfgs(w, ls, history)
                opt.load_state_dict(state)
                loaded += 1
    assert loaded >= 40


@pytest.mark.parametrize("key, value", [("state.0.H_diag", 3e38), ("state.0.d", 3e38), ("state.0.ro", 1e20),
                                        ("state.0.ro", -1.0), ("state.0.prev_flat_grad", 1e30), ("state.0.t", -1.0)])
def test_lbfgs_a_state_no_run_made_is_refused_and_nothing_changes(key, value):
    w, states, ls, history = _lbfgs_run(0, None)
    state = dict(states[-1])
    state[key] = np.full_like(state[key], value)
    w2, opt = _fresh_lbfgs(w, ls, history)
    before = {k: np.asarray(v).copy() for k, v in opt.state_dict().items()}
    with pytest.raises(ValueError, match=key.split(".")[-1]):
        opt.load_state_dict(state)
    after = opt.state_dict()
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)


def test_lbfgs_a_loaded_step_that_would_make_the_parameters_inf_is_refused_all_or_nothing():
    """A consistent state can still hold a huge step length t (a line search may extend it; a scheduler may have
    lowered lr since): the step it makes inf is refused, and the parameters and the state are put back."""
    w, states, ls, history = _lbfgs_run(1, None)
    state = dict(states[-1])
    state["state.0.t"] = np.asarray(3e37, np.float32)
    w2, opt = _fresh_lbfgs(w, ls, history)
    opt.load_state_dict(state)
    params, saved = w2.data.copy(), {k: np.asarray(v).copy() for k, v in opt.state_dict().items()}

    def closure():
        opt.zero_grad()
        loss = (w2 ** 2).sum()
        loss.backward()
        return loss

    with np.errstate(all="ignore"), pytest.raises(ValueError, match="inf or NaN. Nothing was changed"):
        opt.step(closure)
    assert np.array_equal(w2.data, params)
    after = opt.state_dict()
    assert all(np.array_equal(saved[k], after[k]) for k in saved)


# ---- Adam: the bound on m at any step count -------------------------------------------------------------------
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_adam_m_far_past_v_is_refused_at_a_million_steps(cls):
    w = nn.Parameter(tg.Tensor(np.ones(3, np.float32)))
    opt = cls([w])
    state = {k: np.asarray(v) for k, v in opt.state_dict().items()}
    state.update({"state.0.t": np.asarray(10**6), "state.0.m": np.full(3, -3e38, np.float32),
                  "state.0.v": np.ones(3, np.float32)})
    with pytest.raises(ValueError, match="no run made this state"):
        opt.load_state_dict(state)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.9, 0.99), (0.5, 0.9), (0.99, 0.999)])
def test_adam_checkpoints_of_long_runs_with_wild_gradients_load(betas):
    """Gradients that spike, vanish and flip sign over 3,000 steps, so that m and v see their extremes at every
    distance: each 50th checkpoint loads (the bound is a theorem, not a tolerance: this checks the slack)."""
    rng = np.random.default_rng(7)
    w = nn.Parameter(tg.Tensor(np.zeros(4, np.float32)))
    opt = optim.Adam([w], lr=1e-4, betas=betas)
    refused = []
    for step in range(3000):
        size = 10.0 ** rng.uniform(-8, 3) if rng.random() < 0.3 else 1.0
        w.grad = tg.Tensor((rng.normal(size=4) * size).astype(np.float32))
        opt.step()
        if step % 50 == 49:
            try:
                optim.Adam([nn.Parameter(tg.Tensor(np.zeros(4, np.float32)))], betas=betas).load_state_dict(
                    opt.state_dict())
            except ValueError as err:
                refused.append((step, str(err)))
    assert refused == []


# ---- eps: not below what keeps a vanishing gradient's step bounded ----------------------------------------------
@pytest.mark.parametrize("cls", [optim.Adam, optim.RMSprop])
def test_an_eps_so_small_that_a_vanishing_gradient_jumps_is_refused(cls):
    w = nn.Parameter(tg.Tensor(np.ones(2, np.float32)))
    opt = cls([w])
    state = {k: np.asarray(v) for k, v in opt.state_dict().items()}
    opt.load_state_dict({**state, "group.0.eps": np.asarray(1e-8)})  # a run's eps loads
    with pytest.raises(ValueError, match="eps"):
        opt.load_state_dict({**state, "group.0.eps": np.asarray(1e-45)})


# ---- arrays, schedulers, layers ---------------------------------------------------------------------------------
def _npy(descr, shape, payload):
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + payload


@pytest.mark.parametrize("code_point", [0x110000, 0xD800, 0xFFFFFFFF])
def test_text_that_is_not_unicode_is_refused_by_load_and_by_save(tmp_path, code_point):
    path = tmp_path / "t.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("t.npy", _npy("<U1", (2,), np.array([0x41, code_point], "<u4").tobytes()))
    with pytest.raises(nn.ModelFileError, match="not a Unicode character"):
        nn.load(path)
    text = np.array([0x41, code_point], "<u4").view("<U1")
    good = tmp_path / "good.npz"
    nn.save({"t": np.array(["A", "é"])}, good)
    with pytest.raises(ValueError, match="load would refuse"):
        nn.save({"t": text}, good)
    assert nn.load(good)["t"].tolist() == ["A", "é"]


@pytest.mark.parametrize("make", [lambda o: optim.CosineLR(o, 10), lambda o: optim.LambdaLR(o, lambda e: 1.0),
                                  lambda o: lr_scheduler.StepLR(o, 3)])
def test_schedulers_refuse_counts_past_2_53_and_rates_of_another_shape(make):
    opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    schedule = make(opt)
    saved = {k: np.asarray(v) for k, v in schedule.state_dict().items()}
    if "t" not in saved:  # StepLR's own keys: its earlier layout (t, base_lrs) is the one that had no bound
        saved = {"t": np.asarray(5), "base_lrs": np.asarray([0.1])}
    schedule.load_state_dict(saved)
    with pytest.raises(ValueError, match="2\\*\\*53"):
        schedule.load_state_dict({**saved, "t": np.asarray(2**60)})
    with pytest.raises(ValueError, match="shape"):
        schedule.load_state_dict({**saved, "base_lrs": np.asarray([[0.1]])})


@pytest.mark.parametrize("mode, wrong", [("min", -np.inf), ("max", np.inf)])
def test_reduce_lr_on_plateau_refuses_the_infinity_no_run_reaches(mode, wrong):
    opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    schedule = lr_scheduler.ReduceLROnPlateau(opt, mode=mode, patience=2)
    schedule.step(1.0)
    saved = {k: np.asarray(v) for k, v in schedule.state_dict().items()}
    schedule.load_state_dict(saved)
    with pytest.raises(ValueError, match="best"):
        schedule.load_state_dict({**saved, "best": np.asarray(wrong)})


def test_architecture_refuses_a_leaky_slope_that_overflows():
    spec = {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 2, "out_features": 2},
                                             {"type": "LeakyReLU", "negative_slope": 1e308}]}
    with pytest.raises(ValueError, match="negative_slope"):
        architecture.build(spec)
    spec["layers"][1]["negative_slope"] = 0.2
    architecture.build(spec)


def test_tied_weights_given_plus_and_minus_zero_are_two_values():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

    model = Tied()
    zero, minus = np.zeros((2, 2), np.float32), np.full((2, 2), -0.0, np.float32)
    model.load_state_dict({"a.weight": zero, "b.weight": zero.copy()})
    with pytest.raises(ValueError, match="tied"):
        model.load_state_dict({"a.weight": zero, "b.weight": minus})
