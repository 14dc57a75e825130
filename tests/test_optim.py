"""Each optimizer, step by step, against its published update rule written out here."""
import math

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import optim

W0 = np.array([[0.5, -1.0], [2.0, 0.25]])


def gradient(w):
    """The gradient of the test loss Σ w³/3 + w: w² + 1."""
    return w * w + 1


def run(make_optimizer, steps=4):
    w = tg.Tensor(W0.copy(), requires_grad=True)
    opt = make_optimizer([w])
    trajectory = []
    for _ in range(steps):
        ((w ** 3) / 3 + w).sum().backward()
        opt.step()
        opt.zero_grad()
        assert w.grad is None
        trajectory.append(w.data.copy())
    return trajectory


def reference(update, steps=4):
    w, state, trajectory = W0.copy(), {}, []
    for t in range(1, steps + 1):
        w = update(w, gradient(w), state, t)
        trajectory.append(w.copy())
    return trajectory


def sgd_rule(lr, momentum=0.0, nesterov=False, wd=0.0):
    def update(w, g, s, t):
        g = g + wd * w
        if momentum:
            s["b"] = g if t == 1 else momentum * s["b"] + g
            g = g + momentum * s["b"] if nesterov else s["b"]
        return w - lr * g
    return update


def adam_rule(lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False):
    def update(w, g, s, t):
        if decoupled:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        m_hat, v_hat = s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return update


def rmsprop_rule(lr, alpha=0.99, eps=1e-8, momentum=0.0, wd=0.0):
    def update(w, g, s, t):
        g = g + wd * w
        s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
        u = g / (np.sqrt(s["v"]) + eps)
        if momentum:
            s["b"] = momentum * s.get("b", 0) + u
            u = s["b"]
        return w - lr * u
    return update


def adadelta_rule(lr=1.0, rho=0.9, eps=1e-6, wd=0.0):
    def update(w, g, s, t):
        g = g + wd * w
        s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
        delta = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
        s["u"] = rho * s.get("u", 0) + (1 - rho) * delta * delta
        return w - lr * delta
    return update


CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.1), sgd_rule(0.1)),
    "sgd momentum": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), sgd_rule(0.1, 0.9)),
    "sgd nesterov": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), sgd_rule(0.1, 0.9, True)),
    "sgd weight decay": (lambda p: optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.01),
                         sgd_rule(0.1, 0.5, wd=0.01)),
    "adam": (lambda p: optim.Adam(p, lr=0.01), adam_rule(0.01)),
    "adam l2": (lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1), adam_rule(0.01, wd=0.1)),
    "adamw": (lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1), adam_rule(0.01, wd=0.1, decoupled=True)),
    "rmsprop": (lambda p: optim.RMSprop(p, lr=0.01), rmsprop_rule(0.01)),
    "rmsprop momentum": (lambda p: optim.RMSprop(p, lr=0.01, momentum=0.9, weight_decay=0.1),
                         rmsprop_rule(0.01, momentum=0.9, wd=0.1)),
    "adadelta": (lambda p: optim.Adadelta(p), adadelta_rule()),
    "adadelta weight decay": (lambda p: optim.Adadelta(p, lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1),
                              adadelta_rule(0.5, 0.8, 1e-4, 0.1)),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_published_rule(name):
    make, rule = CASES[name]
    for step, (ours, expected) in enumerate(zip(run(make), reference(rule), strict=True), start=1):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, err_msg=f"{name}, step {step}")


def test_step_leaves_grad_untouched_and_keeps_dtype():
    w = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    (w * w).sum().backward()
    before = w.grad.data.copy()
    optim.Adam([w], weight_decay=0.1).step()
    np.testing.assert_array_equal(w.grad.data, before)
    assert w.dtype == np.float32


def test_bad_arguments():
    with pytest.raises(ValueError, match="lr must be positive"):
        optim.SGD([tg.zeros(1, requires_grad=True)], lr=0)
    with pytest.raises(ValueError, match="no parameters"):
        optim.Adam([])


def test_schedules():
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    step = optim.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        step.step()
        lrs.append(opt.lr)
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
    opt.lr = 1.0
    cosine = optim.CosineLR(opt, total=4, min_lr=0.1)
    lrs = []
    for _ in range(4):
        cosine.step()
        lrs.append(opt.lr)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(1, 5)]
    np.testing.assert_allclose(lrs, expected)


def test_parameter_groups_take_their_own_hyperparameters():
    a, b = (tg.Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = optim.SGD([{"params": [a], "lr": 0.5}, {"params": [b]}], lr=0.1, momentum=0.0)
    a.grad = b.grad = tg.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(a.data, [0.5, 0.5])
    np.testing.assert_allclose(b.data, [0.9, 0.9])
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1] and opt.params == [a, b]


@pytest.mark.parametrize("groups, message", [
    ([{"params": []}, {"lr": 0.1}], "parameter group 1 has no 'params'"),
    ([{"params": [], "betas": (0.9, 0.99)}], r"parameter group 0 sets \['betas'\], which SGD does not take"),
    ([{"params": [tg.zeros(1, requires_grad=True) * 2]}], "parameter group 0 holds a non-leaf Tensor"),
    ([{"params": ["w"]}], "parameter group 0 holds str"),
    ([{"params": [], "lr": -1.0}, ], "lr must be positive, got -1.0"),
    ([{"params": [tg.zeros(1, requires_grad=True)]}, {"params": [], "lr": 0}], "group 1: lr must be positive"),
])
def test_a_malformed_group_is_refused_when_the_optimizer_is_built(groups, message):
    with pytest.raises((ValueError, TypeError), match=message):
        optim.SGD(groups, lr=0.1)


def test_the_same_parameter_twice_is_refused():
    w = tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"a parameter of shape \(2,\) appears in more than one place"):
        optim.Adam([{"params": [w]}, {"params": [w]}])


@pytest.mark.parametrize("name", ["sgd momentum", "adam", "rmsprop momentum", "adadelta"])
def test_training_resumes_exactly_from_a_saved_state(name, tmp_path):
    from tinygrad_np import nn

    make, _ = CASES[name]
    straight = run(make, steps=6)
    w = tg.Tensor(W0.copy(), requires_grad=True)
    opt = make([w])
    for _ in range(3):
        ((w ** 3) / 3 + w).sum().backward()
        opt.step()
        opt.zero_grad()
    nn.save(opt.state_dict(), tmp_path / "opt.npz")
    nn.save({"w": w.data}, tmp_path / "w.npz")
    w2 = tg.Tensor(nn.load(tmp_path / "w.npz")["w"], requires_grad=True)
    resumed = make([w2])
    resumed.load_state_dict(nn.load(tmp_path / "opt.npz"))
    for step in range(3):
        ((w2 ** 3) / 3 + w2).sum().backward()
        resumed.step()
        resumed.zero_grad()
        np.testing.assert_allclose(w2.data, straight[3 + step], rtol=1e-12, err_msg=f"{name}, step {4 + step}")


def test_a_bad_optimizer_state_is_refused_and_changes_nothing():
    w = tg.Tensor(W0.copy(), requires_grad=True)
    opt = optim.Adam([w], lr=0.01)
    state = opt.state_dict()
    with pytest.raises(ValueError, match="'group.0.lr' lacks|group 0 lacks"):
        opt.load_state_dict({k: v for k, v in state.items() if k != "group.0.lr"})
    with pytest.raises(ValueError, match="'nonsense.0.x': nonsense.0.x is not a key of Adam's state"):
        opt.load_state_dict({**state, "nonsense.0.x": np.zeros(1)})
    with pytest.raises(ValueError, match=r"state.0.m has shape \(3,\), the parameter \(2, 2\)"):
        opt.load_state_dict({**state, "state.0.t": np.array(1), "state.0.m": np.zeros(3),
                             "state.0.v": np.zeros((2, 2))})
    assert opt.lr == 0.01 and opt.state == [{}]


def test_lambda_and_warm_up_cosine_schedules_step_per_batch():
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    schedule = optim.LambdaLR(opt, lambda t: 0.5 ** t)
    assert opt.lr == 1.0
    schedule.step()
    schedule.step()
    assert opt.lr == 0.25
    opt.lr = 2.0
    warm = optim.CosineLR(opt, total=10, warmup=4, min_lr=0.0)
    lrs = [opt.lr]
    for _ in range(11):
        warm.step()
        lrs.append(opt.lr)
    np.testing.assert_allclose(lrs[:4], [0.5, 1.0, 1.5, 2.0])  # linear warm-up over 4 steps
    expected = [2.0 * (1 + math.cos(math.pi * (t - 4) / 6)) / 2 for t in range(4, 11)]
    np.testing.assert_allclose(lrs[4:11], expected)
    assert lrs[11] == pytest.approx(0.0)  # stays at min_lr after total
    with pytest.raises(ValueError, match=r"warmup must be in \[0, total\)"):
        optim.CosineLR(opt, total=3, warmup=3)


def test_schedules_set_each_groups_own_base_lr():
    a, b = tg.zeros(1, requires_grad=True), tg.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b], "lr": 0.1}])
    schedule = optim.StepLR(opt, step_size=1, gamma=0.5)
    schedule.step()
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.05]


def test_optimizers_by_name_with_their_own_default_learning_rates():
    w = tg.zeros(2, requires_grad=True)
    assert isinstance(optim.by_name("adam", [w]), optim.Adam) and optim.by_name("adam", [w]).lr == 1e-3
    momentum = optim.by_name("momentum", [w])
    assert momentum.param_groups[0]["momentum"] == 0.9 and momentum.param_groups[0]["nesterov"]
    assert optim.by_name("sgd", [w], lr=0.3).lr == 0.3
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'; choose from sgd, momentum, adam"):
        optim.by_name("lbfgs", [w])


def test_a_frozen_parameter_stays_a_parameter_as_in_pytorch():
    """requires_grad_(False) freezes a parameter: it stays in parameters(), named_parameters() and state_dict()
    (saving a fine-tuned model kept only its trained layers), an optimizer takes it and leaves it alone, and
    requires_grad_(True) on it unfreezes it (the GAN idiom over D.parameters())."""
    from tinygrad_np import nn

    model = nn.Linear(2, 3, rng=np.random.default_rng(0))
    model.weight.requires_grad_(False)
    assert [n for n, _ in model.named_parameters()] == ["weight", "bias"]
    assert list(model.state_dict()) == ["weight", "bias"] and model.named_buffers() == []
    before = model.weight.numpy().copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(tg.Tensor(np.ones((1, 2), np.float32))).sum().backward()
    opt.step()
    assert (model.weight.numpy() == before).all() and model.weight.grad is None
    for p in model.parameters():
        p.requires_grad_(True)
    assert model.weight.requires_grad
