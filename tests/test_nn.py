import math

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn


class Net(nn.Module):
    def __init__(self):
        self.body = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Dropout(0.5, rng=0), nn.Linear(8, 3, rng=1))
        self.scale = tg.Tensor([1.0], requires_grad=True)
        self.constant = tg.Tensor([2.0])  # no grad: not a parameter

    def forward(self, x):
        return self.body(x) * self.scale


def test_parameters_are_found_and_named():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.3.weight", "body.3.bias"]
    assert len(Net().parameters()) == 5


def test_linear_matches_pytorch_layout_and_init():
    layer = nn.Linear(400, 30, rng=0)
    assert layer.weight.shape == (30, 400) and layer.bias.shape == (30,)
    bound = 1 / math.sqrt(400)  # PyTorch's default: Kaiming-uniform with a = sqrt(5)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.weight.data).max() > 0.9 * bound
    he = nn.Linear(400, 30, init="he", rng=0)
    assert np.abs(he.weight.data).max() > 0.9 * math.sqrt(6 / 400)
    custom = nn.Linear(3, 2, init=lambda shape, rng: np.full(shape, 0.5))
    assert np.all(custom.weight.data == 0.5)
    with pytest.raises(ValueError, match="init must be"):
        nn.Linear(3, 2, init="xavier")
    x = np.ones((5, 400), np.float32)
    np.testing.assert_allclose(layer(tg.Tensor(x)).data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-5)


def test_train_eval_toggles_dropout():
    net = Net()
    x = tg.Tensor(np.ones((64, 4), np.float32))
    net.eval()
    assert not net.body[2].training
    np.testing.assert_array_equal(net(x).data, net(x).data)
    net.train()
    dropped = net.body[2](tg.Tensor(np.ones((1000,), np.float32))).data
    assert set(np.unique(dropped)) == {0.0, 2.0}  # kept elements scaled by 1/(1-p)
    assert 0.4 < (dropped == 0).mean() < 0.6


def test_state_dict_round_trip_through_a_file(tmp_path):
    a, b = Net(), Net()
    for p in b.parameters():
        p.data[...] = 0
    a.save(tmp_path / "m.npz")
    b.load(tmp_path / "m.npz")
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data, err_msg=name)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary left behind


def test_load_state_dict_names_every_problem():
    net = Net()
    state = net.state_dict()
    del state["scale"]
    state["extra"] = np.zeros(1)
    state["body.0.bias"] = np.zeros(9)
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "missing scale" in message and "unexpected extra" in message
    assert "body.0.bias: expected (8,), got (9,)" in message


def test_load_refuses_pickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="evil.npz: not a tinygrad_np model file"):
        nn.load(path)


def test_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "m.npz"
    nn.save({"w": np.ones(2)}, path)
    with pytest.raises(TypeError, match="'bad' is not a numeric array"):
        nn.save({"w": np.ones(2), "bad": np.array([None])}, path)
    np.testing.assert_array_equal(nn.load(path)["w"], np.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_linear_gradients_against_central_differences():
    layer = nn.Linear(4, 3, rng=0)
    x = np.random.default_rng(0).standard_normal((5, 4))

    def forward(weight, bias):
        layer.weight, layer.bias = weight, bias
        return layer(tg.Tensor(x)).tanh()

    tg.gradcheck(forward, [layer.weight.data, layer.bias.data])
    tg.gradgradcheck(forward, [layer.weight.data, layer.bias.data])
