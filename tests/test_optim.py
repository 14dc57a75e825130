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
}


@pytest.mark.parametrize("name", CASES)
def test_matches_published_rule(name):
    make, rule = CASES[name]
    for step, (ours, expected) in enumerate(zip(run(make), reference(rule)), start=1):
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
    cosine = optim.CosineLR(opt, total_epochs=4, min_lr=0.1)
    lrs = []
    for _ in range(4):
        cosine.step()
        lrs.append(opt.lr)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(1, 5)]
    np.testing.assert_allclose(lrs, expected)
