"""optim.lr_scheduler: PyTorch's StepLR, CosineAnnealingLR, OneCycleLR and ReduceLROnPlateau, against their
formulas (no torch needed) and, where torch is installed, against PyTorch's own sequences of rates."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.optim import lr_scheduler
from tinygrad_np.optim.lr_scheduler import CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau, StepLR


def sgd(lr=1.0, groups=1, momentum=0.9):
    return optim.SGD([{"params": [tg.zeros(1, requires_grad=True)], "lr": lr * (i + 1)} for i in range(groups)],
                     momentum=momentum)


def rates(schedule, steps, metrics=None):
    """The first group's rate at construction and after each of ``steps`` steps."""
    out = [schedule.get_last_lr()[0]]
    for i in range(steps):
        schedule.step(metrics[i]) if metrics is not None else schedule.step()
        out.append(schedule.get_last_lr()[0])
        assert out[-1] == schedule.optimizer.param_groups[0]["lr"]
    return out


def test_the_old_names_and_the_new_module_name_the_same_schedules():
    assert optim.StepLR is StepLR and optim.lr_scheduler is lr_scheduler
    assert lr_scheduler.LambdaLR is optim.LambdaLR and lr_scheduler.CosineLR is optim.CosineLR
    from tinygrad_np.optim.lr_scheduler import LambdaLR  # noqa: F401  (as `from torch.optim.lr_scheduler import`)
    opt = sgd()
    assert optim.CosineLR(opt, total=4).get_last_lr() == [1.0]


def test_step_lr_multiplies_every_step_size_steps_and_carries_a_rate_set_by_hand():
    opt = sgd(lr=1.0, groups=2)
    schedule = StepLR(opt, step_size=3, gamma=0.5)
    assert rates(schedule, 7) == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert schedule.get_last_lr() == [0.25, 0.5] and schedule.last_epoch == 7
    opt.param_groups[0]["lr"] = 0.1  # changed by hand: the next decay starts from it, as PyTorch's
    assert rates(schedule, 2)[1:] == [0.1, 0.1 * 0.5]


def test_cosine_annealing_follows_the_closed_form_and_climbs_back_after_t_max():
    opt = sgd(lr=0.5)
    got = rates(CosineAnnealingLR(opt, T_max=10, eta_min=0.01), 40)
    expected = [0.01 + (0.5 - 0.01) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(41)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[10] == pytest.approx(0.01) and got[20] == pytest.approx(0.5)  # at T_max the floor; at 2 T_max back


def test_one_cycle_climbs_to_max_lr_then_anneals_to_its_floor_moving_momentum_the_other_way():
    opt = sgd()
    schedule = OneCycleLR(opt, max_lr=2.0, total_steps=20, pct_start=0.25)
    lrs, momenta = [opt.lr], [opt.param_groups[0]["momentum"]]
    for _ in range(19):
        schedule.step()
        lrs.append(opt.lr)
        momenta.append(opt.param_groups[0]["momentum"])
    assert lrs[0] == pytest.approx(2.0 / 25) and momenta[0] == pytest.approx(0.95)
    assert lrs[4] == pytest.approx(2.0) and momenta[4] == pytest.approx(0.85)  # the top, at pct_start·20 - 1
    assert lrs[19] == pytest.approx(2.0 / 25 / 1e4) and momenta[19] == pytest.approx(0.95)
    assert np.all(np.diff(lrs[:5]) > 0) and np.all(np.diff(lrs[4:]) < 0)
    top, floor = 2.0, 2.0 / 25 / 1e4  # the second phase: a half cosine from the top to the floor over 15 steps
    assert lrs[4 + 7] == pytest.approx(floor + (top - floor) * (1 + math.cos(math.pi * 7 / 15)) / 2)
    schedule.step()  # step 20: allowed, as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 21 times. The specified number of total steps is 20"):
        schedule.step()


def test_one_cycle_cycles_adams_beta1_and_refuses_an_optimizer_without_momentum():
    w = tg.zeros(1, requires_grad=True)
    adam = optim.Adam([w], betas=(0.9, 0.99))
    OneCycleLR(adam, max_lr=0.1, epochs=2, steps_per_epoch=5, three_phase=True)
    assert adam.param_groups[0]["betas"] == (0.95, 0.99)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1.*cycle_momentum=False"):
        OneCycleLR(optim.Adadelta([w]), max_lr=0.1, total_steps=10)
    OneCycleLR(optim.Adadelta([w]), max_lr=0.1, total_steps=10, cycle_momentum=False)
    with pytest.raises(ValueError, match=r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"):
        OneCycleLR(adam, max_lr=0.1, epochs=3)


def test_reduce_on_plateau_waits_patience_steps_then_cools_down():
    opt = sgd(lr=1.0)
    schedule = ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    losses = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0]
    got = rates(schedule, len(losses), losses)
    # 4.0 is the best from step 2; three bad steps (> patience 2) halve the rate at step 5; a cooldown step, then
    # three more bad ones halve it at step 9; the next halving would pass min_lr, so it stops at 0.25 -> 0.2.
    assert got == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
    assert schedule.best == 3.0 and schedule.num_bad_epochs == 0
    assert schedule.last_epoch == 12


def test_reduce_on_plateau_in_max_mode_with_an_absolute_threshold():
    opt = sgd(lr=1.0)
    schedule = ReduceLROnPlateau(opt, mode="max", threshold=0.1, threshold_mode="abs", patience=0)
    got = rates(schedule, 4, [0.5, 0.55, 0.7, 0.75])  # +0.05 is within the threshold: not an improvement
    assert got == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ReduceLROnPlateau(opt, factor=1.0)


MAKERS = {
    "step": lambda opt: StepLR(opt, step_size=3, gamma=0.3),
    "cosine": lambda opt: CosineAnnealingLR(opt, T_max=7, eta_min=0.05),
    "one cycle": lambda opt: OneCycleLR(opt, max_lr=[1.0, 3.0], total_steps=12),
    "plateau": lambda opt: ReduceLROnPlateau(opt, patience=1, factor=0.5),
}
METRICS = [3.0, 2.0, 2.5, 2.5, 2.5, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5]


def _run(schedule, steps, start=0):
    for i in range(start, start + steps):
        schedule.step(METRICS[i]) if isinstance(schedule, ReduceLROnPlateau) else schedule.step()
    return [g["lr"] for g in schedule.optimizer.param_groups], [g["momentum"] for g in schedule.optimizer.param_groups]


@pytest.mark.parametrize("name", MAKERS)
def test_a_schedule_resumes_exactly_from_its_saved_state(name, tmp_path):
    straight = _run(MAKERS[name](sgd(groups=2)), 10)
    opt = sgd(groups=2)
    schedule = MAKERS[name](opt)
    _run(schedule, 6)
    nn.save(schedule.state_dict(), tmp_path / "schedule.npz")
    nn.save(opt.state_dict(), tmp_path / "opt.npz")
    opt2 = sgd(groups=2)
    schedule2 = MAKERS[name](opt2)  # made first, then both loaded: the order PyTorch recommends
    opt2.load_state_dict(nn.load(tmp_path / "opt.npz"))
    schedule2.load_state_dict(nn.load(tmp_path / "schedule.npz"))
    assert _run(schedule2, 4, start=6) == straight


def test_step_lr_loads_a_state_saved_by_the_earlier_step_lr():
    straight = StepLR(sgd(groups=2), step_size=2, gamma=0.5)
    for _ in range(7):
        straight.step()
    resumed = StepLR(sgd(groups=2), step_size=2, gamma=0.5)
    resumed.load_state_dict({"t": np.asarray(5), "base_lrs": np.asarray([1.0, 2.0])})  # the old format, at step 5
    assert resumed.get_last_lr() == [0.25, 0.5] and resumed.last_epoch == 5
    resumed.step()
    resumed.step()
    assert resumed.get_last_lr() == straight.get_last_lr() == [0.125, 0.25]


def test_a_bad_schedule_state_is_refused_and_changes_nothing():
    schedule = StepLR(sgd(groups=2), step_size=2)
    schedule.step()
    state = schedule.state_dict()
    with pytest.raises(ValueError, match=r"expected the keys \['_last_lr', '_step_count', 'base_lrs', 'last_epoch'\]"):
        schedule.load_state_dict({k: v for k, v in state.items() if k != "base_lrs"})
    with pytest.raises(ValueError, match=r"base_lrs has shape \(3,\), expected one value for each of the 2"):
        schedule.load_state_dict({**state, "base_lrs": np.ones(3)})
    assert schedule.last_epoch == 1 and schedule.base_lrs == [1.0, 2.0]


def _scheduled_training(jit):
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 1, 0, 2, 1, 0])
    model = nn.Linear(3, 3, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    one_cycle = OneCycleLR(opt, max_lr=0.5, total_steps=10)
    plateau = ReduceLROnPlateau(opt, patience=0, factor=0.9)

    def step(x, y):
        loss = model(x).cross_entropy(y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        one_cycle.step()  # replayed: each replay sets the next rate and momentum
        plateau.step(loss)  # replayed with that replay's loss
        return loss

    run = tg.jit(step) if jit else (lambda x, y: step(tg.Tensor(x), y))
    losses = [float(run(x, y)) for _ in range(8)]
    if jit:
        assert run.traces == 2
    return (losses, opt.lr, opt.param_groups[0]["momentum"], plateau.best), model.weight.data.copy()


def test_schedules_step_inside_a_jitted_training_step_as_eagerly():
    (eager, eager_w), (jitted, jit_w) = _scheduled_training(jit=False), _scheduled_training(jit=True)
    assert eager == jitted and eager[3] < eager[0][0]
    np.testing.assert_array_equal(eager_w, jit_w)


# ---- against PyTorch ---------------------------------------------------------------------------------------
def _torch_pair(torch, opt_name):
    """The same two-group optimizer in both libraries."""
    ours_w, theirs_w = [tg.zeros(1, requires_grad=True) for _ in range(2)], [torch.zeros(1, requires_grad=True)
                                                                               for _ in range(2)]
    kind = {"sgd": (optim.SGD, torch.optim.SGD, {"momentum": 0.9}), "adam": (optim.Adam, torch.optim.Adam, {})}
    ours_cls, theirs_cls, kwargs = kind[opt_name]
    ours = ours_cls([{"params": [ours_w[0]], "lr": 0.4}, {"params": [ours_w[1]], "lr": 0.1}], **kwargs)
    theirs = theirs_cls([{"params": [theirs_w[0]], "lr": 0.4}, {"params": [theirs_w[1]], "lr": 0.1}], **kwargs)
    return ours, theirs


def _momentum(group):
    return group["momentum"] if "momentum" in group else group["betas"][0]


TORCH_CASES = {
    "StepLR": ("sgd", dict(step_size=7, gamma=0.3), 100),
    "CosineAnnealingLR": ("sgd", dict(T_max=13, eta_min=0.01), 200),
    "OneCycleLR": ("sgd", dict(max_lr=[1.0, 0.5], total_steps=150), 150),
    "OneCycleLR three phase linear": ("adam", dict(max_lr=1.0, epochs=10, steps_per_epoch=7, three_phase=True,
                                                   anneal_strategy="linear", pct_start=0.4), 70),
    "ReduceLROnPlateau": ("sgd", dict(patience=3, cooldown=2, factor=0.5, min_lr=[0.01, 0.02]), 200),
    "ReduceLROnPlateau max abs": ("sgd", dict(mode="max", threshold_mode="abs", threshold=0.1, patience=2), 200),
}


@pytest.mark.parametrize("case", TORCH_CASES)
def test_rates_and_momenta_equal_pytorchs_over_many_steps(case):
    torch = pytest.importorskip("torch")
    opt_name, kwargs, steps = TORCH_CASES[case]
    name = case.split()[0]
    ours_opt, theirs_opt = _torch_pair(torch, opt_name)
    ours, theirs = getattr(lr_scheduler, name)(ours_opt, **kwargs), getattr(torch.optim.lr_scheduler, name)(
        theirs_opt, **kwargs)
    metrics = np.cumsum(np.random.default_rng(0).standard_normal(steps))  # a wandering validation loss
    seen = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "lr_scheduler.step() before optimizer.step()"
        for i in range(steps):
            assert ours.get_last_lr() == theirs.get_last_lr(), f"{case}, step {i}"
            seen.add(ours.get_last_lr()[0])
            assert [_momentum(g) for g in ours_opt.param_groups] == [_momentum(g) for g in theirs_opt.param_groups]
            if name == "ReduceLROnPlateau":
                ours.step(metrics[i])
                theirs.step(metrics[i])
            else:
                ours.step()
                theirs.step()
    assert ours.get_last_lr() == theirs.get_last_lr() and ours.last_epoch == theirs.last_epoch
    assert len(seen) >= 4, f"{case}: the rate hardly moved, so the comparison says little"
