"""A jitted training step against its eager twin, call after call, while the world around it changes at random
(issue 27): whatever changes, a replay gives eager's bits, or the call traces again."""
import jit_helpers
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim


def _model():
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(4, 8, rng=rng), nn.ReLU(), nn.Dropout(0.25, rng=np.random.default_rng(1)),
                         nn.Linear(8, 3, rng=rng))


def _step(model, opt, weights):
    def step(x, y):
        logits = jit_helpers.scaled(model(x)) * weights  # a helper module's global; an array edited in place
        loss = logits.cross_entropy(y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    return step


def _state(model):
    return [t._data for _, t in model._named_state()] + [np.array(t.requires_grad) for _, t in model._named_state()]


CHANGES = ["data", "in place", "global", "requires_grad", "layer", "dropout p", "train/eval", "lr", "batch size"]


def _run(calls, seed):
    rng = np.random.default_rng(seed)
    weights = np.ones(3, np.float32)  # shared by both twins: one array, edited in place
    twins = []
    for _ in range(2):
        model = _model()
        opt = optim.SGD(list(model.parameters()), lr=0.05, momentum=0.9)
        twins.append((model, opt))
    eager, jitted = _step(*twins[0], weights), tg.jit(_step(*twins[1], weights))
    batch, made = 6, []
    try:
        for call in range(calls):
            if rng.random() < 0.3:
                change = CHANGES[rng.integers(len(CHANGES))]
                made.append(change)
                value, k = rng.standard_normal(), int(rng.integers(4))
                for model, opt in twins:
                    params = [model.layers[0].weight, model.layers[0].bias, model.layers[3].weight,
                              model.layers[3].bias]
                    if change == "data":
                        params[k].data = np.full(params[k].shape, value, np.float32)
                    elif change == "requires_grad" and k != 1:  # layer 0's bias always trains
                        params[k].requires_grad = not params[k].requires_grad
                    elif change == "layer":
                        model.layers[3] = nn.Linear(8, 3, rng=np.random.default_rng(call))
                    elif change == "dropout p":
                        model.layers[2].p = [0.0, 0.25, 0.5][k % 3]
                    elif change == "train/eval":
                        model.train(not model.training)
                    elif change == "lr":
                        opt.lr = [0.01, 0.05, 0.1, 0.2][k]
                if change == "in place":
                    weights[:] = rng.uniform(0.5, 1.5, 3)
                elif change == "global":
                    jit_helpers.SCALE = [0.5, 1.0, 2.0, 3.0][k]
                elif change == "batch size":
                    batch = 6 if batch == 4 else 4
            x = rng.standard_normal((batch, 4)).astype(np.float32)
            y = rng.integers(0, 3, batch)
            expected = eager(tg.Tensor(x), y)
            got = jitted(x, y)
            assert got.data.tobytes() == expected.data.tobytes(), f"call {call}: loss differs after {made[-3:]}"
            for a, b in zip(_state(twins[0][0]), _state(twins[1][0]), strict=True):
                assert np.array_equal(a, b), f"call {call}: the models differ after {made[-3:]}"
    finally:
        jit_helpers.SCALE = 2.0
    assert set(made) == set(CHANGES), "every kind of change was made"
    return jitted


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_random_changes_between_calls_never_give_a_stale_replay():
    jitted = _run(300, seed=0)
    assert jitted.traces < 150, "most calls still replay (a change costs one or two traces)"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_changes_between_calls_never_give_a_stale_replay_long(seed):
    _run(1000, seed)


# ---- a second, independent source of changes: a model of the user's own, with Python state of every kind ---------
class Tower(nn.Module):
    """A user's module whose forward reads a config dict, a chosen activation, a list of layers by index, and a
    number through a property."""

    def __init__(self):
        rng = np.random.default_rng(3)
        self.blocks = [nn.Linear(4, 4, rng=rng) for _ in range(3)]
        self.cfg = {"depth": 2, "shift": 0.0}
        self.act = "relu"
        self._gain = 1.0

    @property
    def gain(self):
        return self._gain

    def forward(self, x, rows):
        for i in range(self.cfg["depth"]):
            x = self.blocks[i].forward(x)
            x = x.relu() if self.act == "relu" else x.tanh()
        return (x[rows] + self.cfg["shift"]) * self.gain


def _run_tower(calls, seed):
    rng = np.random.default_rng(seed)
    rows = np.array([0, 1, 2])  # an index array, edited in place
    twins = [Tower(), Tower()]  # the same weights: each draws its own from the same seed
    offset = [0.0]

    def make(model):
        def step(x):
            return model(x, rows) + offset[0] * jit_helpers.SCALE
        return step

    eager, jitted = make(twins[0]), tg.jit(make(twins[1]))
    try:
        with tg.no_grad():
            for call in range(calls):
                if rng.random() < 0.3:
                    k, value, depth = int(rng.integers(6)), float(rng.integers(-3, 4)), int(rng.integers(1, 4))
                    for model in twins:
                        if k == 0:
                            model.cfg["depth"] = depth
                        elif k == 1:
                            model.cfg["shift"] = value
                        elif k == 2:
                            model.act = "tanh" if model.act == "relu" else "relu"
                        elif k == 3:
                            model._gain = value
                    if k == 4:
                        rows[:] = rng.integers(0, 5, 3)
                    elif k == 5:
                        offset[0], jit_helpers.SCALE = value, float(rng.integers(1, 4))
                x = rng.standard_normal((5, 4)).astype(np.float32)
                expected, got = eager(tg.Tensor(x)), jitted(x)
                assert got.data.tobytes() == expected.data.tobytes(), f"call {call} differs"
    finally:
        jit_helpers.SCALE = 2.0
    return jitted


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_random_changes_to_a_users_own_module_never_give_a_stale_replay():
    jitted = _run_tower(200, seed=0)
    assert jitted.traces < 120
