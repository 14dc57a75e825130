"""nn.GroupNorm (F.group_norm) and nn.Dropout2d (F.dropout2d): by formula and, where torch is installed, against
PyTorch's outputs and gradients."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import functional as F


# ---- GroupNorm -------------------------------------------------------------------------------------------------
def test_group_norm_normalises_each_examples_groups_then_scales_each_channel():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 3, 4)) * 3 + 1
    layer = nn.GroupNorm(3, 6).double()
    layer.weight.data[...] = np.arange(1.0, 7.0)
    layer.bias.data[...] = -np.arange(6.0)
    out = layer(tg.Tensor(x)).data
    grouped = x.reshape(2, 3, -1)
    z = ((grouped - grouped.mean(axis=2, keepdims=True)) / np.sqrt(grouped.var(axis=2, keepdims=True) + 1e-5))
    expected = z.reshape(x.shape) * np.arange(1.0, 7.0)[:, None, None] - np.arange(6.0)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    # each group of two channels of each example has mean 0 and variance ≈ 1 before the affine map
    plain = nn.GroupNorm(3, 6, affine=False).double()(tg.Tensor(x)).data.reshape(2, 3, -1)
    np.testing.assert_allclose(plain.mean(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(plain.var(axis=2), 1, rtol=1e-4)


def test_group_norm_parameters_printout_and_gradients():
    assert [(n, p.shape) for n, p in nn.GroupNorm(2, 4).named_parameters()] == [("weight", (4,)), ("bias", (4,))]
    assert list(nn.GroupNorm(2, 4, affine=False).state_dict()) == []
    assert [n for n, _ in nn.GroupNorm(2, 4, bias=False).named_parameters()] == ["weight"]
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert repr(nn.GroupNorm(1, 3, eps=1e-3, affine=False)) == "GroupNorm(1, 3, eps=0.001, affine=False, bias=False)"
    rng = np.random.default_rng(1)
    tg.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), [rng.standard_normal((2, 4, 3)), rng.standard_normal(4),
                                                            rng.standard_normal(4)])
    tg.gradgradcheck(lambda x: F.group_norm(x, 2), [rng.standard_normal((1, 4, 3))])


def test_group_norm_refuses_what_pytorch_refuses():
    with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups \(3\)"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"expected input \(N, 4, \*\), got shape \(4, 3, 3\)"):
        nn.GroupNorm(2, 4)(tg.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match="divisible by num_groups=3"):
        F.group_norm(tg.zeros((2, 4)), 3)


def test_group_norm_keeps_float32_and_float16():
    x = np.random.default_rng(2).standard_normal((2, 4, 5)).astype(np.float32) * 100
    assert nn.GroupNorm(2, 4)(tg.Tensor(x)).dtype == np.float32
    half = F.group_norm(tg.Tensor(x.astype(np.float16)), 2)
    assert half.dtype == np.float16 and np.isfinite(half.data).all()


def test_group_norm_equals_pytorchs_with_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for groups, channels, shape, affine in ((2, 6, (3, 6, 4, 5), True), (1, 3, (2, 3), False), (3, 3, (2, 3, 7), True)):
        theirs, ours = torch.nn.GroupNorm(groups, channels, affine=affine).double(), nn.GroupNorm(
            groups, channels, affine=affine).double()
        if affine:
            with torch.no_grad():
                theirs.weight.normal_()
                theirs.bias.normal_()
            ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        x = rng.standard_normal(shape)
        tx, ox = torch.tensor(x, requires_grad=True), tg.Tensor(x.copy(), requires_grad=True)
        w = rng.standard_normal(shape)
        t_out, o_out = theirs(tx), ours(ox)
        np.testing.assert_allclose(o_out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        (t_out * torch.from_numpy(w)).sum().backward()
        (o_out * tg.Tensor(w)).sum().backward()
        np.testing.assert_allclose(ox.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
        if affine:
            np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---- Dropout2d --------------------------------------------------------------------------------------------------
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    layer = nn.Dropout2d(0.25, rng=0)
    x = tg.Tensor(np.ones((8, 16, 3, 4), np.float32), requires_grad=True)
    out = layer(x)
    per_channel = out.data.reshape(8, 16, -1)
    assert set(np.unique(per_channel)) <= {0.0, np.float32(1 / 0.75)}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all(), "a channel is kept or dropped whole"
    dropped = (per_channel[:, :, 0] == 0).mean()
    assert 0.15 < dropped < 0.35  # 128 channels, each dropped with probability 1/4
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # d/dx is the same mask
    layer.eval()
    assert layer(x) is x


def test_dropout2d_seeds_repeat_and_p_at_its_ends():
    x = tg.Tensor(np.ones((2, 8, 2, 2), np.float32))
    assert np.array_equal(nn.Dropout2d(0.5, rng=3)(x).data, nn.Dropout2d(0.5, rng=3)(x).data)
    layer = nn.Dropout2d(0.5, rng=3)
    assert not np.array_equal(layer(x).data, layer(x).data), "one generator, drawn on from call to call"
    assert (nn.Dropout2d(1.0)(x).data == 0).all() and nn.Dropout2d(0.0)(x) is x
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3, inplace=False)"


def test_dropout2d_refuses_what_it_cannot_read_unambiguously():
    with pytest.raises(ValueError, match=r"input must be \(N, C, H, W\), got shape \(3, 4, 4\); for one image"):
        nn.Dropout2d()(tg.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="for elementwise dropout use F.dropout"):
        F.dropout2d(tg.zeros((3, 4)))
    with pytest.raises(ValueError, match="inplace=True is not here"):
        nn.Dropout2d(inplace=True)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        nn.Dropout2d(1.5)


def test_dropout2d_draws_a_new_mask_on_every_jit_replay():
    layer = nn.Dropout2d(0.5, rng=0)
    run = tg.jit(lambda x: layer(x) * 2.0)
    x = np.ones((2, 16, 2, 2), np.float32)
    masks = [run(x).data for _ in range(5)]
    assert run.traces == 2
    assert all(set(np.unique(m)) <= {0.0, 4.0} for m in masks)
    assert len({m.tobytes() for m in masks}) == 5
