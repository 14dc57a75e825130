"""Each layer against PyTorch's formula written out in NumPy (float64, random inputs), with PyTorch's
parameter names and shapes; gradients through gradcheck. Where PyTorch is installed, the same
weights are also run through PyTorch itself."""
import numpy as np
import pytest
from op_table import np_batch_norm, np_conv2d

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.nn import functional as F

rng = np.random.default_rng(0)


def t64(a, requires_grad=False):
    return tg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def to64(module):
    """The module's parameters and buffers in float64, for exact comparisons."""
    for _, t in module._named_state():
        if t.dtype == np.float32:
            t.data = t.data.astype(np.float64)
    return module


def names_and_shapes(module):
    return [(name, value.shape) for name, value in module.state_dict().items()]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ---- convolution and pooling ------------------------------------------------------------------------
def test_conv2d_layer_has_pytorchs_layout_and_computes_cross_correlation():
    conv = to64(nn.Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2, rng=0))
    assert names_and_shapes(conv) == [("weight", (6, 2, 3, 2)), ("bias", (6,))]
    bound = 1 / np.sqrt(2 * 3 * 2)  # PyTorch's default: U(±1/√fan_in)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    x = rng.standard_normal((2, 4, 7, 6))
    expected = np_conv2d(x, conv.weight.data, conv.bias.data, (2, 1), (1, 1), (1, 2), 2)
    np.testing.assert_allclose(conv(t64(x)).data, expected, rtol=1e-12, atol=1e-12)


def test_conv1d_layer():
    conv = to64(nn.Conv1d(3, 5, kernel_size=3, padding=2, rng=0))
    assert names_and_shapes(conv) == [("weight", (5, 3, 3)), ("bias", (5,))]
    x = rng.standard_normal((2, 3, 8))
    expected = np_conv2d(x[:, :, None], conv.weight.data[:, :, None], conv.bias.data, (1, 1), (0, 2), (1, 1), 1)
    np.testing.assert_allclose(conv(t64(x)).data, expected[:, :, 0], rtol=1e-12, atol=1e-12)


def test_conv2d_gradients_on_a_lenet_sized_layer():
    x = rng.standard_normal((2, 1, 8, 8))
    w = rng.standard_normal((3, 1, 5, 5)) * 0.2
    tg.gradcheck(lambda x, w: F.conv2d(x, w, padding=2).tanh(), [x, w])
    tg.gradgradcheck(lambda x, w: F.conv2d(x, w, stride=2), [x[:1, :, :6, :6], w[:2, :, :3, :3]])


def test_pooling_layers_and_a_lenet_stack():
    x = rng.standard_normal((2, 1, 12, 12))
    model = nn.Sequential(nn.Conv2d(1, 2, 5, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 3, 3, rng=1),
                          nn.ReLU(), nn.AvgPool2d(2, stride=1), nn.Flatten(), nn.Linear(3, 4, rng=2))
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"]
    out = model(tg.Tensor(x.astype(np.float32)))
    assert out.shape == (2, 4) and out.dtype == np.float32
    pooled = F.max_pool2d(t64(x), 3, stride=2, padding=1)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    assert pooled.shape == (2, 1, 6, 6) and pooled.data[0, 0, 0, 0] == padded[0, 0, 0:3, 0:3].max()


def test_bad_convolution_arguments_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"conv2d: input \(1, 3, 5, 5\) and weight \(4, 2, 3, 3\) with groups=1"):
        F.conv2d(tg.zeros(1, 3, 5, 5), tg.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match="conv2d: the padded input's height 2 is smaller than the kernel's reach 3"):
        F.conv2d(tg.zeros(1, 1, 2, 5), tg.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"max_pool2d: input must be \(N, C, H, W\), got shape \(3, 4\)"):
        F.max_pool2d(tg.zeros(3, 4), 2)


# ---- normalisation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm2d, (4, 3, 5, 2)), (nn.BatchNorm1d, (6, 3)),
                                          (nn.BatchNorm1d, (4, 3, 5))])
def test_batch_norm_training_then_eval(layer, shape):
    bn = to64(layer(3, momentum=0.2))
    assert names_and_shapes(bn) == [("weight", (3,)), ("bias", (3,)), ("running_mean", (3,)),
                                    ("running_var", (3,)), ("num_batches_tracked", ())]
    bn.weight.data[:] = [0.5, 1.0, 2.0]
    bn.bias.data[:] = [0.0, -1.0, 1.0]
    x = rng.standard_normal(shape) * 3 + 1
    out = bn(t64(x))
    np.testing.assert_allclose(out.data, np_batch_norm(x, bn.weight.data, bn.bias.data), rtol=1e-10, atol=1e-12)
    axes = (0,) + tuple(range(2, len(shape)))
    n = x.size // 3
    np.testing.assert_allclose(bn.running_mean.data, 0.2 * x.mean(axis=axes))
    np.testing.assert_allclose(bn.running_var.data, 0.8 + 0.2 * x.var(axis=axes) * n / (n - 1))  # unbiased, as PyTorch
    assert bn.num_batches_tracked.data == 1 and bn.parameters() == [bn.weight, bn.bias]
    bn.eval()
    view = (1, 3) + (1,) * (len(shape) - 2)
    expected = ((x - bn.running_mean.data.reshape(view)) / np.sqrt(bn.running_var.data.reshape(view) + 1e-5)
                * bn.weight.data.reshape(view) + bn.bias.data.reshape(view))
    np.testing.assert_allclose(bn(t64(x)).data, expected, rtol=1e-10)
    assert bn.num_batches_tracked.data == 1  # eval changes no statistics


def test_batch_norm_gradients_through_the_batch_statistics():
    x = rng.standard_normal((4, 2, 3))
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    tg.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])


def test_batch_norm_buffers_round_trip_through_a_file(tmp_path):
    bn = nn.BatchNorm2d(3)
    bn(tg.Tensor(rng.standard_normal((4, 3, 2, 2)).astype(np.float32)))
    bn.save(tmp_path / "bn.npz")
    fresh = nn.BatchNorm2d(3).load(tmp_path / "bn.npz")
    for (name, a), (_, b) in zip(bn.state_dict().items(), fresh.state_dict().items(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert fresh.num_batches_tracked.dtype == np.int64


def test_layer_norm_layer():
    ln = to64(nn.LayerNorm((3, 4)))
    assert names_and_shapes(ln) == [("weight", (3, 4)), ("bias", (3, 4))]
    ln.weight.data[:] = rng.standard_normal((3, 4))
    x = rng.standard_normal((2, 3, 4))
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(ln(t64(x)).data, (x - mean) / np.sqrt(var + 1e-5) * ln.weight.data, rtol=1e-10)


# ---- lookup --------------------------------------------------------------------------------------------
def test_embedding_looks_up_rows_and_accumulates_repeats():
    emb = to64(nn.Embedding(5, 3, rng=0))
    assert names_and_shapes(emb) == [("weight", (5, 3))]
    idx = np.array([[1, 1], [4, 0]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.data[:, 0], [1, 2, 0, 0, 1])
    with pytest.raises(IndexError, match="embedding: index 5 is out of range for 5 rows"):
        emb(np.array([5]))


def test_one_hot():
    assert F.one_hot(np.array([2, 0]), 3).data.tolist() == [[0, 0, 1], [1, 0, 0]]
    assert F.one_hot(np.array([2, 0]), 3).dtype == np.int64


# ---- recurrent cells -------------------------------------------------------------------------------------
def cell_inputs(cell, batch=3):
    x = rng.standard_normal((batch, cell.input_size))
    h = rng.standard_normal((batch, cell.hidden_size))
    w = {name: value for name, value in cell.state_dict().items()}
    return x, h, w


def test_lstm_cell_gates_in_pytorch_order():
    cell = to64(nn.LSTMCell(4, 5, rng=0))
    assert names_and_shapes(cell) == [("weight_ih", (20, 4)), ("weight_hh", (20, 5)), ("bias_ih", (20,)),
                                      ("bias_hh", (20,))]
    assert np.abs(cell.weight_ih.data).max() <= 1 / np.sqrt(5)
    x, h, w = cell_inputs(cell)
    c = rng.standard_normal(h.shape)
    gates = x @ w["weight_ih"].T + w["bias_ih"] + h @ w["weight_hh"].T + w["bias_hh"]
    i, f, g, o = np.split(gates, 4, axis=1)
    c_next = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
    h_out, c_out = cell(t64(x), (t64(h), t64(c)))
    np.testing.assert_allclose(c_out.data, c_next, rtol=1e-12)
    np.testing.assert_allclose(h_out.data, h_next, rtol=1e-12)


def test_gru_cell_gates_in_pytorch_order():
    cell = to64(nn.GRUCell(4, 5, rng=0))
    assert names_and_shapes(cell) == [("weight_ih", (15, 4)), ("weight_hh", (15, 5)), ("bias_ih", (15,)),
                                      ("bias_hh", (15,))]
    x, h, w = cell_inputs(cell)
    xr, xz, xn = np.split(x @ w["weight_ih"].T + w["bias_ih"], 3, axis=1)
    hr, hz, hn = np.split(h @ w["weight_hh"].T + w["bias_hh"], 3, axis=1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    np.testing.assert_allclose(cell(t64(x), t64(h)).data, (1 - z) * n + z * h, rtol=1e-12)


def test_rnn_cell_and_zero_initial_state():
    cell = to64(nn.RNNCell(4, 5, rng=0))
    x, h, w = cell_inputs(cell)
    np.testing.assert_allclose(cell(t64(x), t64(h)).data,
                               np.tanh(x @ w["weight_ih"].T + w["bias_ih"] + h @ w["weight_hh"].T + w["bias_hh"]))
    np.testing.assert_allclose(cell(t64(x)).data, np.tanh(x @ w["weight_ih"].T + w["bias_ih"] + w["bias_hh"]))


def test_recurrent_cells_gradients_through_time():
    for cell in (to64(nn.LSTMCell(2, 3, rng=0)), to64(nn.GRUCell(2, 3, rng=1)), to64(nn.RNNCell(2, 3, rng=2))):
        xs = rng.standard_normal((3, 2, 2))  # three steps, batch 2

        def unrolled(w_ih, w_hh, cell=cell):
            cell.weight_ih, cell.weight_hh = w_ih, w_hh
            state = None
            for step in xs:  # noqa: B023  (xs is the same array in every iteration)
                state = cell(tg.Tensor(step), state)
            return state[0] if isinstance(state, tuple) else state

        tg.gradcheck(unrolled, [cell.weight_ih.data, cell.weight_hh.data])


# ---- Module mechanics ------------------------------------------------------------------------------------
def test_a_tied_parameter_is_listed_and_updated_once():
    class Tied(nn.Module):
        def __init__(self):
            self.embed = nn.Embedding(4, 3, rng=0)
            self.out = nn.Linear(3, 4, bias=False, rng=0)
            self.out.weight = self.embed.weight  # weight tying, as in language models

    model = Tied()
    assert len(model.parameters()) == 1
    assert list(model.state_dict()) == ["embed.weight", "out.weight"]  # both names, as PyTorch's state_dict
    before = model.embed.weight.data.copy()
    model.embed.weight.grad = tg.Tensor(np.ones((4, 3), np.float32))
    optim.SGD(model.parameters(), lr=0.5).step()
    np.testing.assert_allclose(model.embed.weight.data, before - 0.5)  # once, not twice


def test_init_functions_follow_pytorchs_formulas():
    w = tg.Tensor(np.zeros((300, 200), np.float32), requires_grad=True)
    nn.init.kaiming_uniform_(w, a=0, rng=0)
    assert abs(np.abs(w.data).max() - np.sqrt(6 / 200)) < 0.01
    nn.init.kaiming_normal_(w, rng=0, nonlinearity="relu")
    assert abs(w.data.std() - np.sqrt(2 / 200)) < 0.005
    nn.init.xavier_uniform_(w, rng=0)
    assert abs(np.abs(w.data).max() - np.sqrt(6 / 500)) < 0.005
    nn.init.xavier_normal_(w, gain=2.0, rng=0)
    assert abs(w.data.std() - 2 * np.sqrt(2 / 500)) < 0.005
    nn.init.normal_(w, mean=1.0, std=0.5, rng=0)
    assert abs(w.data.mean() - 1.0) < 0.01 and abs(w.data.std() - 0.5) < 0.01
    assert nn.init.zeros_(w).data.max() == 0 and nn.init.ones_(w).data.min() == 1
    np.testing.assert_array_equal(nn.init.normal_(w, rng=3).data, nn.init.normal_(w, rng=3).data)
    with pytest.raises(ValueError, match="kaiming_uniform_: needs a weight of at least 2 dimensions"):
        nn.init.kaiming_uniform_(tg.zeros(3))


def test_clip_grad_norm_and_value():
    a = tg.Tensor(np.zeros(2), requires_grad=True)
    b = tg.Tensor(np.zeros(1), requires_grad=True)
    a.grad, b.grad = tg.Tensor(np.array([3.0, 0.0])), tg.Tensor(np.array([4.0]))
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, tg.Tensor) and total.shape == () and float(total) == pytest.approx(5.0)  # as PyTorch
    np.testing.assert_allclose(np.concatenate([a.grad.data, b.grad.data]), np.array([3, 0, 4]) / (5 + 1e-6))
    assert float(nn.utils.clip_grad_norm_([a, b], max_norm=10.0)) == pytest.approx(1.0, rel=1e-5)  # below: unchanged
    nn.utils.clip_grad_value_([a, b], 0.5)
    assert a.grad.data.max() <= 0.5 and b.grad.data.tolist() == [0.5]


def test_pytorch_spellings_name_ours():
    x = tg.zeros(2, 3)
    with pytest.raises(TypeError, match="sum: got dim=, PyTorch's spelling; .* use axis="):
        x.sum(dim=1)
    with pytest.raises(TypeError, match="mean: got keepdim=, .* use keepdims="):
        x.mean(axis=1, keepdim=True)
    with pytest.raises(TypeError, match="var: got unbiased=, .* use ddof="):
        x.var(unbiased=True)
    with pytest.raises(AttributeError, match="tinygrad_np has no cat \\(PyTorch's name\\); use concatenate"):
        tg.cat([x, x])


def test_comparisons_are_boolean_tensors_outside_the_graph():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [(x > 2, [False, False, True]), (x <= 2, [True, True, False]),
                             (x == tg.Tensor([1.0, 0.0, 3.0]), [True, False, True]), (x != 2, [True, False, True]),
                             (x < 1.5, [True, False, False]), (x >= 3, [False, False, True])]:
        assert result.dtype == bool and not result.requires_grad and result.data.tolist() == expected
    assert len({x: 1, x * 1: 2}) == 2  # still hashable by identity, usable as dict keys


# ---- against PyTorch itself, where it is installed -----------------------------------------------------------
def test_state_dicts_map_name_for_name_onto_pytorch():
    torch = pytest.importorskip("torch")
    pairs = [(nn.Conv2d(2, 4, 3, groups=2), torch.nn.Conv2d(2, 4, 3, groups=2)),
             (nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)), (nn.LayerNorm(5), torch.nn.LayerNorm(5)),
             (nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4)), (nn.GRUCell(3, 4), torch.nn.GRUCell(3, 4)),
             (nn.Embedding(6, 2), torch.nn.Embedding(6, 2)), (nn.Linear(3, 2), torch.nn.Linear(3, 2))]
    for ours, theirs in pairs:
        theirs_state = {k: v.numpy() for k, v in theirs.state_dict().items()}
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in theirs_state.items()]
        ours.load_state_dict(theirs_state)


def test_layers_match_pytorch_on_the_same_weights():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    for ours, theirs, inputs in [
        (nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2), torch.nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2), x),
        (nn.BatchNorm2d(2), torch.nn.BatchNorm2d(2), x),
        (nn.GRUCell(6, 3), torch.nn.GRUCell(6, 3), x[:, 0, 0]),
    ]:
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        t_in = torch.from_numpy(inputs).requires_grad_()
        theirs(t_in).sum().backward()
        o_in = tg.Tensor(inputs, requires_grad=True)
        ours(o_in).sum().backward()
        np.testing.assert_allclose(ours(tg.Tensor(inputs)).data, theirs(torch.from_numpy(inputs)).detach().numpy(),
                                   rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(o_in.grad.data, t_in.grad.numpy(), rtol=1e-4, atol=1e-5)
