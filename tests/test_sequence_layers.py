"""nn.RNN, nn.LSTM and nn.GRU over whole sequences: against the cells they are built from (no torch needed), and,
where torch is installed, against PyTorch's outputs and gradients (input, parameters, initial states) on the
same weights, option by option."""
import itertools
import warnings

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim

CELLS = {"RNN": nn.RNNCell, "GRU": nn.GRUCell, "LSTM": nn.LSTMCell}


def t64(a, requires_grad=False):
    return tg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def cell_like(module, layer=0, suffix="", **kwargs):
    """The cell with the module's weights for one layer and direction."""
    kind = type(module).__name__
    w_ih = getattr(module, f"weight_ih_l{layer}{suffix}")
    cell = CELLS[kind](w_ih.shape[1], module.hidden_size, bias=module.bias, **kwargs).double()
    cell.load_state_dict({name: getattr(module, f"{name}_l{layer}{suffix}").data for name, _ in cell._named_state()})
    return cell


def run_cell(cell, xs, state=None):
    """The cell over the steps of xs (T, N, I) in order: every step's h, and the last state."""
    outputs = []
    for x in xs:
        state = cell(x, state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    return tg.stack(outputs), state


# ---- the modules' parameters, as PyTorch's -------------------------------------------------------------------
def test_parameter_names_shapes_and_order_are_pytorchs():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, bias=False)
    assert [(n, p.shape) for n, p in lstm.named_parameters()] == [
        ("weight_ih_l0", (16, 3)), ("weight_hh_l0", (16, 2)), ("weight_hr_l0", (2, 4)),
        ("weight_ih_l0_reverse", (16, 3)), ("weight_hh_l0_reverse", (16, 2)), ("weight_hr_l0_reverse", (2, 4)),
        ("weight_ih_l1", (16, 4)), ("weight_hh_l1", (16, 2)), ("weight_hr_l1", (2, 4)),
        ("weight_ih_l1_reverse", (16, 4)), ("weight_hh_l1_reverse", (16, 2)), ("weight_hr_l1_reverse", (2, 4))]
    gru = nn.GRU(3, 4, num_layers=2)
    assert [(n, p.shape) for n, p in gru.named_parameters()] == [
        ("weight_ih_l0", (12, 3)), ("weight_hh_l0", (12, 4)), ("bias_ih_l0", (12,)), ("bias_hh_l0", (12,)),
        ("weight_ih_l1", (12, 4)), ("weight_hh_l1", (12, 4)), ("bias_ih_l1", (12,)), ("bias_hh_l1", (12,))]
    assert [n for n, _ in nn.RNN(3, 4).named_parameters()] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                                               "bias_hh_l0"]


def test_every_weight_is_uniform_within_one_over_root_hidden_and_a_seed_repeats_them():
    a, b = nn.LSTM(3, 16, num_layers=2, rng=7), nn.LSTM(3, 16, num_layers=2, rng=7)
    values = np.concatenate([p.data.ravel() for p in a.parameters()])
    assert np.abs(values).max() <= 0.25 and values.std() > 0.25 / 2  # U(±1/4) spreads out to about 0.144
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not np.array_equal(a.weight_ih_l0.data[:16], a.weight_ih_l0.data[16:32])  # one generator, drawn on


@pytest.mark.parametrize("layer, expected", [
    (nn.LSTM(3, 4), "LSTM(3, 4)"),
    (nn.LSTM(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True, proj_size=2),
     "LSTM(3, 4, proj_size=2, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"),
    (nn.GRU(3, 4, 2), "GRU(3, 4, num_layers=2)"),
    (nn.RNN(3, 4, nonlinearity="relu"), "RNN(3, 4)"),  # PyTorch's printout leaves the nonlinearity out
])
def test_printouts_are_pytorchs(layer, expected):
    assert repr(layer) == expected


# ---- against the cells ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_one_layer_equals_its_cell_run_over_the_steps(kind):
    rng = np.random.default_rng(0)
    module = getattr(nn, kind)(3, 5, rng=1).double()
    x, h0, c0 = rng.standard_normal((6, 2, 3)), rng.standard_normal((1, 2, 5)), rng.standard_normal((1, 2, 5))
    state = (t64(h0), t64(c0)) if kind == "LSTM" else t64(h0)
    out, final = module(t64(x), state)
    cell = cell_like(module)
    expected, last = run_cell(cell, t64(x), (t64(h0[0]), t64(c0[0])) if kind == "LSTM" else t64(h0[0]))
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12, atol=1e-14)
    for got, want in zip(final if kind == "LSTM" else (final,), last if kind == "LSTM" else (last,), strict=True):
        np.testing.assert_allclose(got.data, want.data[None], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_two_bidirectional_layers_equal_the_cells_both_ways(kind):
    rng = np.random.default_rng(1)
    module = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, rng=2).double()
    x = rng.standard_normal((5, 2, 3))
    out, final = module(t64(x))
    h_n = final[0] if kind == "LSTM" else final
    layer_input, finals = t64(x), []
    for layer in range(2):
        forward, last_f = run_cell(cell_like(module, layer), layer_input)
        backward, last_b = run_cell(cell_like(module, layer, "_reverse"), layer_input[::-1])
        layer_input = tg.concatenate([forward, backward[::-1]], axis=-1)
        finals += [last_f, last_b]
    np.testing.assert_allclose(out.data, layer_input.data, rtol=1e-12, atol=1e-14)
    hs = [f[0] if kind == "LSTM" else f for f in finals]
    np.testing.assert_allclose(h_n.data, np.stack([h.data for h in hs]), rtol=1e-12, atol=1e-14)
    assert out.shape == (5, 2, 8) and h_n.shape == (4, 2, 4)


def test_lstm_projections_shrink_h_and_keep_c():
    module = nn.LSTM(3, 6, num_layers=2, proj_size=2, rng=0)
    out, (h, c) = module(tg.Tensor(np.ones((4, 3, 3), np.float32)))
    assert out.shape == (4, 3, 2) and h.shape == (2, 3, 2) and c.shape == (2, 3, 6)
    np.testing.assert_array_equal(out.data[-1], h.data[-1])


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_batch_first_and_unbatched_input_are_the_same_computation(kind):
    rng = np.random.default_rng(2)
    module = getattr(nn, kind)(3, 4, num_layers=2, rng=3).double()
    first = getattr(nn, kind)(3, 4, num_layers=2, batch_first=True).double()
    first.load_state_dict(module.state_dict())
    x = rng.standard_normal((5, 2, 3))
    out, final = module(t64(x))
    out_first, final_first = first(t64(x.transpose(1, 0, 2)))
    np.testing.assert_allclose(out_first.data, out.data.transpose(1, 0, 2), rtol=1e-12)
    h, h_first = (final[0], final_first[0]) if kind == "LSTM" else (final, final_first)
    np.testing.assert_allclose(h_first.data, h.data, rtol=1e-12)  # h_n stays (layers, N, H) with batch_first
    single, single_final = module(t64(x[:, 0]))
    np.testing.assert_allclose(single.data, out.data[:, 0], rtol=1e-12, atol=1e-14)
    assert single.shape == (5, 4) and (single_final[0] if kind == "LSTM" else single_final).shape == (2, 4)


def test_dropout_between_layers_only_in_training():
    module = nn.LSTM(3, 4, num_layers=2, dropout=1.0, rng=0)  # p = 1 drops every input of layer 2
    first, second = nn.LSTM(3, 4), nn.LSTM(4, 4)
    first.load_state_dict({k: v for k, v in module.state_dict().items() if k.endswith("_l0")})
    second.load_state_dict({k.replace("_l1", "_l0"): v for k, v in module.state_dict().items() if k.endswith("_l1")})
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32))
    np.testing.assert_allclose(module(x)[0].data, second(tg.zeros((5, 2, 4)))[0].data, rtol=1e-6)
    module.eval()
    np.testing.assert_allclose(module(x)[0].data, second(first(x)[0])[0].data, rtol=1e-6)


def test_dropout_masks_differ_from_call_to_call_and_one_layer_warns():
    module = nn.GRU(3, 4, num_layers=2, dropout=0.5, rng=0)
    x = tg.Tensor(np.ones((3, 2, 3), np.float32))
    assert not np.array_equal(module(x)[0].data, module(x)[0].data)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


def test_initial_states_are_used_and_get_gradients():
    module = nn.LSTM(2, 3, num_layers=2, bidirectional=True, rng=0).double()
    x = t64(np.ones((4, 2, 2)))
    h0, c0 = t64(np.full((4, 2, 3), 0.5), True), t64(np.full((4, 2, 3), -0.5), True)
    out, (h, c) = module(x, (h0, c0))
    assert not np.allclose(out.data, module(x)[0].data)
    (out.sum() + h.sum() + c.sum()).backward()
    assert h0.grad.shape == (4, 2, 3) and np.abs(c0.grad.data).min() > 0


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_gradients_of_the_whole_module_pass_gradcheck():
    rng = np.random.default_rng(4)
    for kind, extra in (("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {}), ("RNN", {"nonlinearity": "relu"})):
        module = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True, rng=5, **extra).double()
        names = [n for n, _ in module.named_parameters()]

        def f(x, *weights, module=module, names=names):
            for name, w in zip(names, weights, strict=True):
                setattr(module, name, w)
            out, _ = module(x)
            return out

        weights = [p.data.copy() for p in module.parameters()]
        tg.gradcheck(f, [rng.standard_normal((3, 2, 2))] + weights)


# ---- what PyTorch refuses ---------------------------------------------------------------------------------------
def test_bad_arguments_and_inputs_are_refused_as_pytorch_refuses_them():
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1"):
        nn.LSTM(3, 0)
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = tg.Tensor(np.zeros((5, 2, 3), np.float32))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        lstm(tg.zeros((1, 5, 2, 3)))
    with pytest.raises(ValueError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 2"):
        lstm(tg.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match=r"Expected h_0 of size \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(x, (tg.zeros((1, 2, 4)), tg.zeros((2, 2, 4))))
    with pytest.raises(ValueError, match=r"Expected c_0 of size \(2, 2, 4\), got \(2, 3, 4\)"):
        lstm(x, (tg.zeros((2, 2, 4)), tg.zeros((2, 3, 4))))
    with pytest.raises(ValueError, match="For unbatched 2-D input, h_0 should also be 2-D but got 3-D"):
        lstm(x[:, 0], (tg.zeros((2, 1, 4)), tg.zeros((2, 1, 4))))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        lstm(x, tg.zeros((2, 2, 4)))
    with pytest.raises(TypeError, match="hx must be a Tensor, got tuple"):
        nn.GRU(3, 4)(x, (tg.zeros((1, 2, 4)),))
    with pytest.raises(ValueError, match=r"input dtype \(float64\) does not match weight dtype \(float32\)"):
        lstm(x.astype(np.float64))
    with pytest.raises(ValueError, match="Expected sequence length to be larger than 0"):
        lstm(tg.zeros((0, 2, 3)))


# ---- under tg.jit -------------------------------------------------------------------------------------------------
def _train(kind, jit, **kwargs):
    rng = np.random.default_rng(0)
    model = getattr(nn, kind)(3, 5, rng=1, **kwargs)
    head = nn.Linear(5 * (2 if kwargs.get("bidirectional") else 1), 2, rng=2)
    opt = optim.Adam(model.parameters() + head.parameters(), lr=0.01)

    def step(x, y):
        out, _ = model(x)
        loss = head(out[-1]).cross_entropy(y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    run = tg.jit(step) if jit else (lambda x, y: step(tg.Tensor(x), y))
    losses = []
    for _ in range(6):
        x, y = rng.standard_normal((7, 4, 3)).astype(np.float32), rng.integers(0, 2, 4)
        losses.append(float(run(x, y)))
    if jit:
        assert run.traces == 2
    return losses, model.state_dict()


@pytest.mark.parametrize("kind, kwargs", [("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
                                          ("GRU", {"num_layers": 2}), ("RNN", {"nonlinearity": "relu"})])
def test_a_training_step_replays_under_jit_bit_for_bit(kind, kwargs):
    (eager_losses, eager_state), (jit_losses, jit_state) = _train(kind, False, **kwargs), _train(kind, True, **kwargs)
    assert eager_losses == jit_losses
    assert all(np.array_equal(eager_state[k], jit_state[k]) for k in eager_state)


def test_under_jit_dropout_between_layers_draws_a_new_mask_each_replay():
    model = nn.LSTM(3, 4, num_layers=2, dropout=0.5, rng=0)
    run = tg.jit(lambda x: model(x)[0])
    x = np.ones((3, 2, 3), np.float32)
    outputs = [run(x).data for _ in range(5)]
    assert run.traces == 2 and not np.array_equal(outputs[3], outputs[4])


# ---- against PyTorch ------------------------------------------------------------------------------------------------
def _configurations():
    for kind in ("RNN", "GRU", "LSTM"):
        extras = {"RNN": [{}, {"nonlinearity": "relu"}], "GRU": [{}], "LSTM": [{}, {"proj_size": 3}]}[kind]
        for layers, bidirectional, bias, extra in itertools.product((1, 2), (False, True), (True, False), extras):
            yield kind, dict(num_layers=layers, bidirectional=bidirectional, bias=bias, **extra)


CONFIGURATIONS = list(_configurations())


@pytest.mark.parametrize("kind, kwargs", CONFIGURATIONS, ids=[f"{k}-{'-'.join(f'{a}={b}' for a, b in kw.items())}"
                                                              for k, kw in CONFIGURATIONS])
def test_outputs_and_gradients_equal_pytorchs_on_the_same_weights(kind, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for batched, with_state, batch_first in ((True, False, False), (True, True, True), (False, True, False)):
        theirs = getattr(torch.nn, kind)(3, 5, batch_first=batch_first, **kwargs).double()
        ours = getattr(nn, kind)(3, 5, batch_first=batch_first, **kwargs).double()
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        x = rng.standard_normal(((2, 4, 3) if batch_first else (4, 2, 3)) if batched else (4, 3))
        rows = ours.num_layers * (2 if ours.bidirectional else 1)
        lead = (rows, 2) if batched else (rows,)
        states = [rng.standard_normal(lead + (kwargs.get("proj_size") or 5,)), rng.standard_normal(lead + (5,))]
        states = states if kind == "LSTM" else states[:1]
        t_in = [torch.tensor(a, requires_grad=True) for a in [x] + (states if with_state else [])]
        o_in = [t64(a, True) for a in [x] + (states if with_state else [])]
        pack = (lambda s: tuple(s)) if kind == "LSTM" else (lambda s: s[0])
        t_out, t_final = theirs(t_in[0], pack(t_in[1:])) if with_state else theirs(t_in[0])
        o_out, o_final = ours(o_in[0], pack(o_in[1:])) if with_state else ours(o_in[0])
        t_all = [t_out] + (list(t_final) if kind == "LSTM" else [t_final])
        o_all = [o_out] + (list(o_final) if kind == "LSTM" else [o_final])
        weights = [rng.standard_normal(tuple(t.shape)) for t in t_all]
        for t, o in zip(t_all, o_all, strict=True):
            assert o.shape == tuple(t.shape)
            np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
        sum((t * torch.from_numpy(w)).sum() for t, w in zip(t_all, weights, strict=True)).backward()
        sum((o * tg.Tensor(w)).sum() for o, w in zip(o_all, weights, strict=True)).backward()
        for t, o in zip(t_in, o_in, strict=True):
            np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)
        ours_params = dict(ours.named_parameters())
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(ours_params[name].grad.data, p.grad.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=name)


def test_pytorchs_state_dict_loads_name_for_name_and_ours_into_pytorch():
    torch = pytest.importorskip("torch")
    for kind, kwargs in (("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)), ("GRU", {}),
                         ("RNN", dict(nonlinearity="relu", bias=False))):
        theirs, ours = getattr(torch.nn, kind)(3, 4, **kwargs), getattr(nn, kind)(3, 4, rng=0, **kwargs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        assert all(np.array_equal(ours.state_dict()[k], v.numpy()) for k, v in theirs.state_dict().items())
        mine = getattr(nn, kind)(3, 4, rng=1, **kwargs)
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in mine.state_dict().items()})
        assert all(np.array_equal(mine.state_dict()[k], v.numpy()) for k, v in theirs.state_dict().items())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert repr(ours) == repr(theirs)
