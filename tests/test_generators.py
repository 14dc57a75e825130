"""tg.manual_seed and the global generator (issue 29): every draw with rng=None comes from one generator, which
manual_seed seeds and get_rng_state / set_rng_state save and restore; rng= still wins; a jit replay draws what
eager would; a resumed run equals an uninterrupted one."""
import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_np as tg
import tinygrad_np.nn.functional as F
from tinygrad_np import nn, optim
from tinygrad_np.data import DataLoader, TensorDataset, transforms

PACKAGE = Path(tg.__file__).parent


def _draws():
    """One of each random thing the library does with rng=None, as arrays."""
    x = tg.ones(4, 6)
    return [tg.randn(3).data, tg.uniform(2, low=-1, high=1).data, tg.randn_like(x).data,
            nn.Linear(6, 3).weight.data, nn.Linear(6, 3).bias.data, nn.Conv2d(1, 2, 3).weight.data,
            nn.Conv1d(2, 2, 3).bias.data, nn.ConvTranspose2d(2, 1, 2).weight.data, nn.Embedding(5, 2).weight.data,
            nn.LSTMCell(3, 2).weight_hh.data, nn.GRUCell(3, 2).weight_ih.data, nn.RNNCell(3, 2).bias_ih.data,
            nn.init.normal_(tg.zeros(3)).data, nn.init.xavier_uniform_(tg.zeros(2, 2)).data,
            nn.Dropout(0.5)(x).data, F.dropout(x, 0.3).data,
            F.scaled_dot_product_attention(x[None], x[None], x[None], dropout_p=0.5).data,
            np.concatenate([b for (b,) in DataLoader(np.arange(10), batch_size=3, shuffle=True)]),
            transforms.RandomCrop(2, padding=1)(np.ones((3, 3))),
            transforms.RandomRotation(30)(np.arange(9.0).reshape(3, 3)),
            transforms.RandomAffine(0, translate=(0.5, 0.5))(np.arange(16.0).reshape(4, 4)),
            np.array([transforms.RandomHorizontalFlip()(np.arange(3.0)[None])[0, 0] for _ in range(8)])]


def test_manual_seed_makes_every_draw_with_rng_none_repeatable():
    tg.manual_seed(123)
    first = _draws()
    tg.manual_seed(123)
    second = _draws()
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        assert np.array_equal(a, b), f"draw {i} differs after the same seed"
    tg.manual_seed(124)
    third = _draws()
    assert sum(not np.array_equal(a, b) for a, b in zip(first, third, strict=True)) >= len(first) - 2


def test_manual_seed_n_draws_what_default_rng_n_draws():
    tg.manual_seed(7)
    np.testing.assert_array_equal(tg.randn(5, dtype=np.float64).data,
                                  np.random.default_rng(7).standard_normal(5, dtype=np.float64))
    assert isinstance(tg.manual_seed(7), np.random.Generator)
    with pytest.raises(TypeError, match="manual_seed: seed must be an integer, got float 1.5"):
        tg.manual_seed(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="manual_seed: seed must be non-negative"):
        tg.manual_seed(-1)


def test_an_rng_given_wins_and_leaves_the_global_generator_alone():
    tg.manual_seed(5)
    state = tg.get_rng_state()
    a = nn.Linear(4, 3, rng=1).weight.data
    b = tg.randn(3, rng=np.random.default_rng(2)).data
    mask = nn.Dropout(0.5, rng=3)(tg.ones(10)).data
    order = next(iter(DataLoader(np.arange(10), batch_size=10, shuffle=True, rng=4)))[0]
    assert np.array_equal(tg.get_rng_state(), state), "a draw given its own rng advanced the global generator"
    np.testing.assert_array_equal(a, nn.Linear(4, 3, rng=1).weight.data)
    np.testing.assert_array_equal(b, tg.randn(3, rng=np.random.default_rng(2)).data)
    np.testing.assert_array_equal(mask, nn.Dropout(0.5, rng=3)(tg.ones(10)).data)
    np.testing.assert_array_equal(order, np.random.default_rng(4).permutation(10))


def test_a_seeded_dropout_layer_advances_its_own_generator():
    layer = nn.Dropout(0.5, rng=9)
    masks = {layer(tg.ones(30)).data.tobytes() for _ in range(4)}
    assert len(masks) == 4


def test_rng_state_round_trips_and_bad_states_are_refused(tmp_path):
    tg.manual_seed(0)
    tg.randn(3)
    state = tg.get_rng_state()
    assert state.dtype == np.uint64 and state.shape == (6,)
    expected = tg.randn(4).data
    nn.save({"rng": state}, tmp_path / "state.npz")  # a checkpoint can carry it
    tg.manual_seed(99)
    tg.set_rng_state(nn.load(tmp_path / "state.npz")["rng"])
    np.testing.assert_array_equal(tg.randn(4).data, expected)
    tg.set_rng_state(state.tolist())
    np.testing.assert_array_equal(tg.randn(4).data, expected)
    with pytest.raises(ValueError, match=r"set_rng_state: expected the 6 integers get_rng_state\(\) returns, got an "
                                         r"array of shape \(5,\)"):
        tg.set_rng_state(state[:5])
    even = state.copy()
    even[3] = even[3] - np.uint64(1)  # PCG64's increment is odd
    with pytest.raises(ValueError, match="not a state get_rng_state"):
        tg.set_rng_state(even)
    with pytest.raises(ValueError, match="dtype float64"):
        tg.set_rng_state(state.astype(np.float64))


def test_np_random_seed_does_not_reach_the_global_generator():
    # the documented difference: NumPy's legacy global state is another generator, never drawn from here
    tg.manual_seed(3)
    state = tg.get_rng_state()
    np.random.seed(0)
    np.random.rand(5)
    assert np.array_equal(tg.get_rng_state(), state)


class Net(nn.Module):
    def __init__(self):
        self.fc1, self.drop, self.fc2 = nn.Linear(4, 8), nn.Dropout(0.3), nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(self.drop(self.fc1(x).relu()) + tg.randn(8) * 0.01)


def test_a_jitted_step_draws_on_every_replay_what_eager_draws_reseeded_or_not():
    x = np.ones((5, 4), np.float32)
    y = np.array([0, 1, 2, 0, 1])

    def run(jit):
        tg.manual_seed(11)
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        f = tg.jit(step) if jit else step
        losses = []
        for call in range(9):
            if call in (4, 7):
                tg.manual_seed(call)  # between calls: the replays must read the generator as it is now
            losses.append(f(x, y).item())
        return losses, model.fc1.weight.data.copy(), tg.get_rng_state()

    eager, jitted = run(False), run(True)
    assert eager[0] == jitted[0]
    np.testing.assert_array_equal(eager[1], jitted[1])
    np.testing.assert_array_equal(eager[2], jitted[2])
    assert len(set(eager[0])) == 9


def _train(epochs, checkpoint=None, resume=None):
    """A small model with dropout, trained on shuffled batches with an augmenting transform, all drawing from the
    global generator. ``checkpoint``: a path to save everything to after the first epoch; ``resume``: one to
    load from and continue with the second epoch."""
    x = np.linspace(-1, 1, 40 * 4, dtype=np.float32).reshape(40, 4)
    y = (np.arange(40) % 3).astype(np.int64)
    jitter = transforms.Lambda(lambda row: row + tg.randn(4).data * 0.01)

    class Rows(TensorDataset):
        def __getitem__(self, i):
            return jitter(x[i]), y[i]

    loader = DataLoader(Rows(x, y), batch_size=8, shuffle=True)
    tg.manual_seed(2026)
    model = Net()
    opt = optim.Adam(model.parameters(), lr=0.01)
    first = 0
    if resume is not None:
        state = nn.load(resume)
        model.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("model.")})
        opt.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("opt.")})
        tg.set_rng_state(state["rng"])
        first = 1
    for epoch in range(first, epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch == 0 and checkpoint is not None:
            nn.save({**{"model." + k: v for k, v in model.state_dict().items()},
                     **{"opt." + k: v for k, v in opt.state_dict().items()}, "rng": tg.get_rng_state()}, checkpoint)
    return model.state_dict()


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path):
    whole = _train(3)
    _train(1, checkpoint=tmp_path / "epoch1.npz")
    tg.manual_seed(0)  # whatever happened in between
    tg.randn(100)
    resumed = _train(3, resume=tmp_path / "epoch1.npz")
    for name in whole:
        np.testing.assert_array_equal(whole[name], resumed[name], err_msg=name)
    tg.manual_seed(1)  # without the generator's state, the same resume differs: the test can fail
    state = nn.load(tmp_path / "epoch1.npz")
    state["rng"] = tg.get_rng_state()
    nn.save(state, tmp_path / "no_rng.npz")
    other = _train(3, resume=tmp_path / "no_rng.npz")
    assert not all(np.array_equal(whole[n], other[n]) for n in whole)


def test_every_draw_in_the_library_resolves_its_rng_through_generators():
    # A new random function or layer that makes its own Generator from rng (np.random.default_rng(rng)) would
    # ignore tg.manual_seed with rng=None: the one place a Generator is made from a user's rng is generators.py.
    allowed = {"generators.py", "gradcheck.py"}  # gradcheck draws its probe vectors from its own fixed seed
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name in allowed:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"np\.random\.(default_rng|Generator|RandomState|seed|rand|randn|random|normal|uniform|"
                         r"integers|permutation|shuffle|choice)\(", line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}")
    assert offenders == [], "draw through tinygrad_np.generators.generator(rng) instead:\n" + "\n".join(offenders)
