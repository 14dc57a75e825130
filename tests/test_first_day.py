"""A PyTorch user's first day (issue 22): the containers, layers, losses and small behaviours they reach for."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import functional as F


class Net(nn.Module):
    def __init__(self):
        self.blocks = nn.ModuleList([nn.Linear(4, 4, rng=0), nn.Linear(4, 4, rng=1)])
        self.heads = nn.ModuleDict({"digit": nn.Linear(4, 10, rng=2), "parity": nn.Linear(4, 2, rng=3)})
        self.skip = nn.Identity()
        self.scale = nn.Parameter(np.ones(1, np.float32))

    def forward(self, x):
        for block in self.blocks:
            x = block(x).relu() + self.skip(x)
        return {k: head(x) * self.scale for k, head in self.heads.items()}


def test_containers_name_their_state_as_pytorch_does():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
                     "heads.digit.weight", "heads.digit.bias", "heads.parity.weight", "heads.parity.bias"]
    net = Net()
    out = net(tg.Tensor(np.ones((3, 4), np.float32)))
    assert out["digit"].shape == (3, 10) and out["parity"].shape == (3, 2)
    (out["digit"].sum() + out["parity"].sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    assert isinstance(net.scale, tg.Tensor) and net.scale.requires_grad
    with pytest.raises(TypeError, match="ModuleList: can only hold Modules, got int"):
        nn.ModuleList([1])


@pytest.mark.parametrize("module, function, target", [
    (nn.CrossEntropyLoss(), F.cross_entropy, np.array([1, 0, 2])),
    (nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"),
     lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1, reduction="sum"), np.array([1, 0, 2])),
    (nn.NLLLoss(), lambda x, t: F.nll_loss(x.log_softmax(axis=1), t), np.array([1, 0, 2])),
    (nn.MSELoss(), F.mse_loss, np.full((3, 3), 0.5, np.float32)),
    (nn.L1Loss(reduction="none"), lambda x, t: F.l1_loss(x, t, reduction="none"), np.full((3, 3), 0.5, np.float32)),
    (nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits, np.eye(3, dtype=np.float32)),
])
def test_the_loss_modules_are_the_functions(module, function, target):
    x = tg.Tensor(np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32))
    if isinstance(module, nn.NLLLoss):
        x = x.log_softmax(axis=1)
        function = F.nll_loss
    np.testing.assert_array_equal(module(x, target).data, function(x, target).data)


def test_softmax_takes_pytorchs_dim_and_f_softmax_names_axis():
    x = tg.Tensor(np.random.default_rng(0).standard_normal((2, 3)))
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).data.sum(axis=0), 1.0)
    with pytest.raises(TypeError, match="F.softmax: got dim=, PyTorch's spelling; .* use axis="):
        F.softmax(x, dim=1)
    with pytest.raises(TypeError, match="F.log_softmax: got dim="):
        F.log_softmax(x, dim=1)


def test_module_to_double_and_float_cast_in_place():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.BatchNorm1d(2))
    weight = model.layers[0].weight
    assert model.double() is model and weight.dtype == np.float64 and model.layers[1].running_mean.dtype == np.float64
    assert model.layers[1].num_batches_tracked.dtype == np.int64  # not floating point: left alone, as PyTorch
    assert model.to(np.float32).layers[0].weight is weight and weight.dtype == np.float32
    assert model.to("cpu") is model
    with pytest.raises(TypeError, match="Module.to: expected a NumPy float dtype or 'cpu', got 'cuda'"):
        model.to("cuda")


def test_a_state_dict_mismatch_lists_a_few_keys_and_counts_the_rest():
    model = nn.Sequential(*[nn.Linear(2, 2, rng=i) for i in range(6)])
    with pytest.raises(ValueError) as err:
        model.load_state_dict({})
    message = str(err.value)
    assert message.count("missing") == 5 and "and 7 more" in message


def test_a_conv_on_channels_last_input_says_which_axis_it_expected():
    conv = nn.Conv2d(3, 4, 3, rng=0)
    with pytest.raises(ValueError, match=r"channels on axis 1 .* its last axis has 3: channels last \(N, H, W, C\)"):
        conv(tg.Tensor(np.zeros((1, 8, 8, 3), np.float32)))


def test_viz_names_may_be_a_module():
    model = nn.Linear(3, 2, rng=0)
    loss = model(tg.Tensor(np.ones((1, 3), np.float32))).sum()
    text = tg.viz.to_dot(loss, names=model)
    assert "weight" in text and "bias" in text


def test_mnist_cnn_help_shows_the_defaults(capsys):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import mnist_cnn

    with pytest.raises(SystemExit):
        mnist_cnn.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 8)" in text and "(default: 64)" in text and "(default: momentum)" in text


def test_argmin_argmax_keepdims_and_where_with_two_numbers():
    x = tg.Tensor(np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]))
    assert x.argmax(axis=1, keepdims=True).data.tolist() == [[0], [1]]
    assert x.argmin(axis=0).data.tolist() == [1, 0, 0] and x.argmin().item() == 3
    chosen = tg.where(x > 2.0, 1.0, 0.0)
    assert chosen.dtype == np.float32 and chosen.data.tolist() == [[1, 0, 0], [0, 1, 1]]


def test_pytorchs_repeat_and_gather_name_ours():
    x = tg.Tensor(np.ones((2, 2)))
    with pytest.raises(AttributeError, match=r"use tile\(reps\)"):
        x.repeat(2, 2)
    with pytest.raises(AttributeError, match="take_along_axis"):
        x.gather(1, np.zeros((2, 1), np.int64))


# ---- PyTorch modules, loaded by state_dict, name for name: outputs and gradients agree -------------------------
def _gallery(framework):
    """A residual CNN and a small U-Net, written once against either framework's nn (tinygrad_np's or torch's)."""
    nn_, cat = framework

    class Block(nn_.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1, self.bn1 = nn_.Conv2d(c, c, 3, padding=1), nn_.BatchNorm2d(c)
            self.conv2, self.bn2 = nn_.Conv2d(c, c, 3, padding=1), nn_.BatchNorm2d(c)
            self.shortcut = nn_.Identity()

        def forward(self, x):
            h = self.bn1(self.conv1(x)).relu()
            return (self.bn2(self.conv2(h)) + self.shortcut(x)).relu()

    class ResidualCNN(nn_.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn_.Sequential(nn_.Conv2d(1, 4, 3, padding=1), nn_.BatchNorm2d(4), nn_.ReLU())
            self.blocks = nn_.ModuleList([Block(4), Block(4)])
            self.pool, self.head = nn_.AdaptiveAvgPool2d((1, 1)), nn_.Linear(4, 10)

        def forward(self, x):
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return self.head(self.pool(x).reshape(x.shape[0], -1))

    class UNet(nn_.Module):
        def __init__(self):
            super().__init__()
            self.down = nn_.Sequential(nn_.Conv2d(1, 4, 3, stride=2, padding=1), nn_.ReLU())
            self.bottom = nn_.Sequential(nn_.Conv2d(4, 8, 3, stride=2, padding=1), nn_.ReLU())
            self.up = nn_.ConvTranspose2d(8, 4, 2, stride=2)
            self.upsample = nn_.Upsample(scale_factor=2)
            self.out = nn_.ModuleDict({"mask": nn_.Conv2d(5, 1, 1), "edges": nn_.Conv2d(5, 2, 3, padding=1)})

        def forward(self, x):
            skip = self.down(x)
            joined = cat([self.upsample(self.up(self.bottom(skip)) + skip), x], 1)
            return {k: head(joined) for k, head in self.out.items()}

    return {"residual": ResidualCNN, "unet": UNet}


@pytest.mark.parametrize("name", ["residual", "unet"])
def test_pytorch_modules_load_by_state_dict_and_agree_in_outputs_and_gradients(name):
    torch = pytest.importorskip("torch")
    theirs = _gallery((torch.nn, torch.cat))[name]().double().train()
    ours = _gallery((nn, lambda ts, axis: tg.concatenate(ts, axis=axis)))[name]().double().train()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert [k for k, _ in ours.state_dict().items()] == list(state), "the names match, in PyTorch's order"
    ours.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8))
    their_x, our_x = torch.tensor(x, requires_grad=True), tg.Tensor(x, requires_grad=True)
    their_out, our_out = theirs(their_x), ours(our_x)
    pairs = ([(their_out, our_out)] if name == "residual" else
             [(their_out[k], our_out[k]) for k in ("mask", "edges")])
    for t, o in pairs:
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    sum((t * t).sum() for t, _ in pairs).backward()
    sum((o * o).sum() for _, o in pairs).backward()
    np.testing.assert_allclose(our_x.grad.data, their_x.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=n)
    for (n, b), (_, c) in zip(ours.named_buffers(), theirs.named_buffers(), strict=True):
        np.testing.assert_allclose(b.data, c.numpy(), rtol=1e-10, err_msg=n)  # running statistics moved alike



def test_register_hook_sees_and_may_replace_a_gradient_on_either_kind_of_pass():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3.0
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.data.copy()) or g * 10.0)  # dL/dh, then replaced
    x.register_hook(lambda g: g + 1.0)  # a leaf's hook runs before .grad is written
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * 3.0 * x.data)
    np.testing.assert_allclose(x.grad.data, 10 * 2 * 3.0 * x.data * 3.0 + 1.0)
    handle.remove()
    h = x * 3.0  # a new tensor: no hook; x's hook stays
    (gx,) = tg.grad((h * h).sum(), x, create_graph=True)  # a recorded pass: hooks get Tensors in the graph
    np.testing.assert_allclose(gx.data, 2 * 3.0 * x.data * 3.0 + 1.0)
    gx.sum().backward()  # the hook's + 1 has derivative 0: d/dx of 18 x is 18 each, then x's hook adds 1
    np.testing.assert_allclose(x.grad.data, 10 * 18.0 * x.data + 1.0 + 18.0 + 1.0)


def test_a_hook_returning_the_wrong_shape_is_refused_and_jit_refuses_hooks():
    x = tg.Tensor(np.ones(3), requires_grad=True)
    handle = x.register_hook(lambda g: np.ones(2))
    with pytest.raises(RuntimeError, match=r"returned a gradient of shape \(2,\) for a tensor of shape \(3,\)"):
        (x * 2.0).sum().backward()
    handle.remove()
    x.register_hook(lambda g: g)
    with pytest.raises(tg.JitError, match="register_hook"):
        tg.jit(lambda v: (x * v).sum().backward())(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.Tensor(np.ones(2)).register_hook(lambda g: g)


def test_einsum_refuses_what_it_cannot_do_naming_it():
    a = tg.Tensor(np.ones((2, 2)))
    assert tg.einsum("...ij->...ji", a).shape == (2, 2) and tg.einsum("ii->", a).item() == 2  # issue 29: they work
    with pytest.raises(RuntimeError, match="at most one '...'"):
        tg.einsum("...i...->i", a)
    with pytest.raises(RuntimeError, match="letter 'j' of 'ij,jk' has length 3 in operand 1 and 2 before"):
        tg.einsum("ij,jk", a, tg.Tensor(np.ones((3, 2))))
    with pytest.raises(ValueError, match="names 2 operands, got 1"):
        tg.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="'ijk' has 3 letters for an operand of shape \\(2, 2\\)"):
        tg.einsum("ijk->i", a)
    assert tg.einsum("ij,jk", [a, a]).data.tolist() == [[2, 2], [2, 2]]  # torch's list form


def test_an_architecture_round_trips_through_json_for_every_layer_it_knows():
    import json

    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1, dilation=1, groups=1, bias=False), nn.BatchNorm2d(4, momentum=0.2),
        nn.ReLU(), nn.MaxPool2d(2, stride=1, dilation=1), nn.AvgPool2d(1), nn.AdaptiveAvgPool2d((2, 2)),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(16, 8), nn.LayerNorm(8, eps=1e-4), nn.Tanh(), nn.GELU(),
        nn.Sequential(nn.Linear(8, 8, bias=False), nn.SiLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Identity()),
        nn.BatchNorm1d(8, affine=False), nn.Linear(8, 3), nn.Softmax(dim=1))
    text = json.dumps(nn.architecture.describe(model))
    rebuilt = nn.architecture.build(text)
    assert [k for k in rebuilt.state_dict()] == [k for k in model.state_dict()]
    rebuilt.load_state_dict(model.state_dict())
    x = tg.Tensor(np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32))
    model.eval(), rebuilt.eval()
    np.testing.assert_array_equal(rebuilt(x).data, model(x).data)
    assert json.dumps(nn.architecture.describe(rebuilt)) == text


def test_an_architecture_names_what_it_cannot_record_or_build():
    with pytest.raises(ValueError, match="describe: LSTMCell is not a layer an architecture can record"):
        nn.architecture.describe(nn.Sequential(nn.LSTMCell(2, 2)))
    with pytest.raises(ValueError, match="unknown layer type 'Transformer'"):
        nn.architecture.build({"type": "Transformer"})
    with pytest.raises(ValueError, match="Linear takes no color"):
        nn.architecture.build({"type": "Linear", "in_features": 2, "out_features": 2, "color": "red"})
    with pytest.raises(ValueError, match="not valid JSON"):
        nn.architecture.build("{")
