import math
import sys

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
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
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


def test_a_bad_entry_loads_nothing():
    net = Net()
    before = {name: p.data.copy() for name, p in net.named_parameters()}
    state = Net().state_dict()
    for name in state:
        state[name] = state[name] + 1  # every entry valid and different, but...
    state["scale"] = np.array(["a string"])  # ...the last one is not numbers
    with pytest.raises(ValueError, match=r"scale: expected real numbers, got dtype <U8"):
        net.load_state_dict(state)
    for name, p in net.named_parameters():
        np.testing.assert_array_equal(p.data, before[name], err_msg=f"{name} was changed by a failed load")


@pytest.mark.parametrize("value, message", [
    (np.array([1 + 2j]), "expected real numbers, got dtype complex128"),
    (np.array([1e300]), "values that float32 cannot hold"),
])
def test_load_state_dict_refuses_lossy_values(value, message):
    layer = nn.Linear(1, 1, rng=0)
    state = layer.state_dict()
    state["bias"] = value
    with pytest.raises(ValueError, match=message):
        layer.load_state_dict(state)


def test_float64_state_loads_into_float32_parameters_as_in_pytorch():
    layer = nn.Linear(2, 1, rng=0)
    layer.load_state_dict({"weight": np.array([[0.5, 0.25]]), "bias": np.array([2.0])})
    assert layer.weight.dtype == np.float32 and layer.weight.data.tolist() == [[0.5, 0.25]]


def test_load_errors_name_the_file_and_what_is_wrong(tmp_path):
    model = nn.Linear(3, 2, rng=0)
    good = tmp_path / "good.npz"
    model.save(good)
    data = good.read_bytes()
    cases = {
        "empty.npz": (b"", "the file is empty"),
        "truncated.npz": (data[: len(data) // 2], "not a complete .npz archive"),
        "text.npz": (b"hello, not a model\n", "neither a .npz archive nor a NumPy array file"),
    }
    for name, (content, reason) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=f"{name}: not a tinygrad_np model file.*{reason}"):
            nn.Linear(3, 2).load(tmp_path / name)
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"single.npy: holds a single array \(a .npy file\)"):
        nn.Linear(3, 2).load(tmp_path / "single.npy")
    np.savez(tmp_path / "strings.npz", weight=np.array([["a"] * 3] * 2), bias=np.ones(2))
    with pytest.raises(ValueError, match=r"strings.npz: load_state_dict \(Linear\): weight: expected real numbers"):
        nn.Linear(3, 2).load(tmp_path / "strings.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz: no such file"):
        nn.Linear(3, 2).load(tmp_path / "missing.npz")


def test_any_key_survives_a_round_trip(tmp_path):
    state = {"allow_pickle": np.ones(2), "file": np.zeros(1), "a.npy": np.arange(3.0), "x/y": np.eye(2)}
    nn.save(state, tmp_path / "k.npz")
    loaded = nn.load(tmp_path / "k.npz")
    assert list(loaded) == list(state)
    for name in state:
        np.testing.assert_array_equal(loaded[name], state[name])


def test_a_later_save_removes_the_leftovers_of_a_killed_one(tmp_path):
    path = tmp_path / "m.npz"
    killed = (
        "import os, signal, numpy as np\n"
        "from tinygrad_np.fileio import atomic_write\n"
        f"with atomic_write({str(path)!r}) as f:\n"
        "    f.write(b'half a model')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", killed], check=False)
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].endswith(".part") and not path.exists()
    nn.save({"w": np.ones(2)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_a_save_in_progress_elsewhere_is_left_alone(tmp_path):
    path = tmp_path / "m.npz"
    from tinygrad_np.fileio import atomic_write

    with atomic_write(path) as f:  # this process is alive: its temporary file is not stale
        f.write(b"x")
        nn.save({"w": np.ones(2)}, path)
        assert len([p for p in tmp_path.iterdir() if p.name.endswith(".part")]) == 1


def test_safetensors_round_trip_with_metadata(tmp_path):
    pytest.importorskip("safetensors")
    model = nn.Linear(3, 2)
    model.save(tmp_path / "m.safetensors", metadata={"hidden": "3"})
    assert (tmp_path / "m.safetensors").read_bytes()[8:9] == b"{"  # a safetensors header, not a zip
    fresh = nn.Linear(3, 2).load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(fresh.weight.data, model.weight.data)
    assert nn.load_metadata(tmp_path / "m.safetensors") == {"hidden": "3"}
    model.save(tmp_path / "m.npz", metadata={"hidden": "3"})
    assert nn.load_metadata(tmp_path / "m.npz") == {"hidden": "3"} and list(nn.load(tmp_path / "m.npz")) == [
        "weight", "bias"]
    model.save(tmp_path / "plain.npz")
    assert nn.load_metadata(tmp_path / "plain.npz") == {}
    with pytest.raises(TypeError, match="metadata must map strings to strings"):
        model.save(tmp_path / "bad.npz", metadata={"hidden": 3})


def test_a_broken_safetensors_file_is_named(tmp_path):
    pytest.importorskip("safetensors")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.safetensors: not a complete .safetensors file \(the file is empty"):
        nn.Linear(3, 2).load(tmp_path / "empty.safetensors")
    nn.Linear(3, 2).save(tmp_path / "cut.safetensors")
    data = (tmp_path / "cut.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-5])
    with pytest.raises(ValueError, match=r"cut.safetensors: not a complete .safetensors file"):
        nn.load(tmp_path / "cut.safetensors")


def test_without_the_safetensors_package_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install safetensors"):
        nn.Linear(3, 2).save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    nn.Linear(3, 2).save(tmp_path / "m.npz")  # .npz needs nothing extra
