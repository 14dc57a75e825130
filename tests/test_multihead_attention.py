"""nn.MultiheadAttention: against multi-head attention written out in NumPy (no torch needed) and, where torch is
installed, against PyTorch's outputs, attention weights and gradients (query, key, value, parameters, float
masks) on the same weights, option by option."""
import itertools
import warnings

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim

E, HEADS = 8, 2


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_attention(layer, q, k, v, key_padding_mask=None, attn_mask=None):
    """Multi-head attention written out, sequence-first (L, N, E), masks in PyTorch's layer convention."""
    w, b = layer.in_proj_weight.data, layer.in_proj_bias.data
    qp, kp, vp = q @ w[:E].T + b[:E], k @ w[E:2 * E].T + b[E:2 * E], v @ w[2 * E:].T + b[2 * E:]
    (steps, n, _), keys, d = q.shape, k.shape[0], E // HEADS
    heads = [t.reshape(t.shape[0], n, HEADS, d).transpose(1, 2, 0, 3) for t in (qp, kp, vp)]  # (N, H, ·, d)
    scores = heads[0] @ heads[1].swapaxes(-1, -2) / np.sqrt(d)
    additive = np.zeros((n, HEADS, steps, keys))
    for mask, shape in ((key_padding_mask, (n, 1, 1, keys)), (attn_mask, None)):
        if mask is None:
            continue
        mask = np.where(mask, -np.inf, 0.0) if mask.dtype == bool else mask
        additive = additive + (mask.reshape(shape) if shape else mask.reshape((-1, HEADS, steps, keys))
                               if mask.ndim == 3 else mask)
    weights = softmax(scores + additive)
    out = (weights @ heads[2]).transpose(2, 0, 1, 3).reshape(steps, n, E)
    return out @ layer.out_proj.weight.data.T + layer.out_proj.bias.data, weights


def layer64(**kwargs):
    layer = nn.MultiheadAttention(E, HEADS, rng=0, **kwargs).double()
    layer.in_proj_bias.data[...] = np.random.default_rng(9).standard_normal(3 * E)  # not the zeros it starts with
    layer.out_proj.bias.data[...] = np.random.default_rng(10).standard_normal(E)
    return layer


# ---- parameters and printout, as PyTorch's ------------------------------------------------------------------------
def test_parameter_names_shapes_and_initial_values_are_pytorchs():
    layer = nn.MultiheadAttention(E, HEADS, rng=0)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
    assert not layer.in_proj_bias.data.any() and not layer.out_proj.bias.data.any()
    bound = np.sqrt(6 / (8 + 24))  # Xavier-uniform over the packed (3E, E) weight, as PyTorch's
    assert np.abs(layer.in_proj_weight.data).max() <= bound and layer.in_proj_weight.data.std() > bound / 3
    separate = nn.MultiheadAttention(E, HEADS, kdim=3, vdim=5, bias=False, add_bias_kv=True)
    assert [(n, p.shape) for n, p in separate.named_parameters()] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 3)), ("v_proj_weight", (8, 5)), ("bias_k", (1, 1, 8)),
        ("bias_v", (1, 1, 8)), ("out_proj.weight", (8, 8))]
    assert repr(layer) == ("MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, "
                           "out_features=8, bias=True)\n)")


# ---- against the formula ------------------------------------------------------------------------------------------
def test_equals_attention_written_out_with_both_kinds_of_mask():
    rng = np.random.default_rng(0)
    layer = layer64()
    q, k, v = rng.standard_normal((3, 2, E)), rng.standard_normal((4, 2, E)), rng.standard_normal((4, 2, E))
    padding = np.array([[False, False, True, False], [False, True, True, False]])
    attn = rng.standard_normal((2 * HEADS, 3, 4))
    out, weights = layer(tg.Tensor(q), tg.Tensor(k), tg.Tensor(v), key_padding_mask=padding, attn_mask=attn,
                         average_attn_weights=False)
    expected, expected_weights = np_attention(layer, q, k, v, padding, attn)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-12, atol=1e-14)
    assert (weights.data[1, :, :, 1:3] == 0).all(), "masked keys get no weight"
    _, averaged = layer(tg.Tensor(q), tg.Tensor(k), tg.Tensor(v), key_padding_mask=padding, attn_mask=attn)
    np.testing.assert_allclose(averaged.data, expected_weights.mean(axis=1), rtol=1e-12)


def test_batch_first_unbatched_and_need_weights_false_are_the_same_computation():
    rng = np.random.default_rng(1)
    layer, first = layer64(), layer64(batch_first=True)
    q = rng.standard_normal((5, 3, E))
    out, weights = layer(tg.Tensor(q), tg.Tensor(q), tg.Tensor(q))
    out_first, weights_first = first(*[tg.Tensor(q.transpose(1, 0, 2))] * 3)
    np.testing.assert_allclose(out_first.data, out.data.transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_allclose(weights_first.data, weights.data, rtol=1e-12)
    single, single_weights = layer(*[tg.Tensor(q[:, 1])] * 3)
    np.testing.assert_allclose(single.data, out.data[:, 1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(single_weights.data, weights.data[1], rtol=1e-12)
    fused, none = layer(tg.Tensor(q), tg.Tensor(q), tg.Tensor(q), need_weights=False)  # F.scaled_dot_product_attention
    assert none is None
    np.testing.assert_allclose(fused.data, out.data, rtol=1e-12, atol=1e-14)


def test_a_query_row_with_every_key_masked_gets_zero_weights_and_no_nan_anywhere():
    rng = np.random.default_rng(2)
    layer = layer64()
    q = tg.Tensor(rng.standard_normal((3, 2, E)), requires_grad=True)
    padding = np.array([[False, True, False], [True, True, True]])  # example 1: every key is padding
    for need_weights in (True, False):
        out, weights = layer(q, q, q, key_padding_mask=padding, need_weights=need_weights)
        np.testing.assert_allclose(out.data[:, 1], np.broadcast_to(layer.out_proj.bias.data, (3, E)))
        if need_weights:
            assert (weights.data[1] == 0).all() and np.allclose(weights.data[0].sum(axis=-1), 1)
        out[:, 0].sum().backward()  # a loss that leaves the padded example out
        grads = [q.grad.data] + [p.grad.data for p in layer.parameters()]
        assert all(np.isfinite(g).all() for g in grads)
        assert (q.grad.data[:, 1] == 0).all()
        q.grad = None
        for p in layer.parameters():
            p.grad = None


def test_dropout_drops_attention_weights_in_training_only():
    layer = nn.MultiheadAttention(E, HEADS, dropout=0.5, rng=0).double()
    x = tg.Tensor(np.random.default_rng(3).standard_normal((6, 2, E)))
    _, dropped = layer(x, x, x, average_attn_weights=False)
    layer.eval()
    _, kept = layer(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(kept.data.sum(axis=-1), 1, rtol=1e-12)
    zero = dropped.data == 0
    assert 0.3 < zero.mean() < 0.7  # each weight dropped with probability 1/2
    np.testing.assert_allclose(dropped.data[~zero], 2 * kept.data[~zero], rtol=1e-12)  # the rest scaled by 1/(1-p)


def test_is_causal_is_a_checked_hint_about_attn_mask():
    layer = layer64()
    x = tg.Tensor(np.random.default_rng(4).standard_normal((4, 1, E)))
    causal = np.triu(np.ones((4, 4), bool), k=1)
    out, _ = layer(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
    np.testing.assert_allclose(out.data, layer(x, x, x, attn_mask=causal)[0].data, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="Need attn_mask if specifying the is_causal hint"):
        layer(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="is_causal=True, but attn_mask is not the causal mask"):
        layer(x, x, x, attn_mask=causal.T, is_causal=True)
    with pytest.raises(ValueError, match="is_causal=True with add_bias_kv or add_zero_attn is ambiguous"):
        layer64(add_zero_attn=True)(x, x, x, attn_mask=causal, is_causal=True)


def test_bad_masks_and_shapes_are_refused():
    layer = layer64()
    x = tg.Tensor(np.zeros((3, 2, E)))
    with pytest.raises(TypeError, match="only bool and floating types of key_padding_mask are supported, got int64"):
        layer(x, x, x, key_padding_mask=np.array([[0, 0, 1], [0, 1, 1]]))
    with pytest.raises(ValueError, match=r"The shape of the 2D attn_mask is \(3, 2\), but should be \(3, 3\)"):
        layer(x, x, x, attn_mask=np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match=r"The shape of the 3D attn_mask is \(2, 3, 3\), but should be \(4, 3, 3\)"):
        layer(x, x, x, attn_mask=np.zeros((2, 3, 3), bool))
    with pytest.raises(ValueError, match="expected `key` and `value` to be 3-D but found 2-D"):
        layer(x, x[0], x[0])
    with pytest.raises(ValueError, match="was expecting embedding dimension of 8, but got 4"):
        layer(x[..., :4], x, x)
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(8, 3)


# ---- under tg.jit -------------------------------------------------------------------------------------------------
def _train(jit):
    rng = np.random.default_rng(5)
    layer = nn.MultiheadAttention(E, HEADS, rng=1, batch_first=True)
    opt = optim.SGD(layer.parameters(), lr=0.1)

    def step(x, padding):
        out, _ = layer(x, x, x, key_padding_mask=padding)
        loss = (out * out).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    run = tg.jit(step) if jit else (lambda x, padding: step(tg.Tensor(x), padding))
    losses = []
    for _ in range(5):
        padding = rng.random((2, 4)) < 0.4
        padding[1] = True  # a fully padded example each call
        losses.append(float(run(rng.standard_normal((2, 4, E)).astype(np.float32), padding)))
    if jit:
        assert run.traces == 2
    return losses, layer.state_dict()


def test_a_training_step_with_padding_masks_replays_under_jit_bit_for_bit():
    (eager, eager_state), (jitted, jit_state) = _train(False), _train(True)
    assert eager == jitted and all(np.isfinite(eager))
    assert all(np.array_equal(eager_state[k], jit_state[k]) for k in eager_state)


# ---- against PyTorch ------------------------------------------------------------------------------------------------
LAYERS: list[dict] = [{}, {"batch_first": True}, {"bias": False}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True},
          {"add_zero_attn": True}, {"add_bias_kv": True, "add_zero_attn": True, "batch_first": True}]
CALLS: list[dict] = [{}, {"self": True}, {"batched": False}, {"need_weights": False}, {"average_attn_weights": False},
         {"kpm": "bool"}, {"kpm": "float"}, {"attn": ("bool", 2)}, {"attn": ("float", 3)},
         {"attn": ("bool", 3), "kpm": "bool", "need_weights": False},
         {"attn": ("float", 2), "causal": True, "is_causal": True, "need_weights": False},
         {"attn": ("bool", 2), "causal": True, "is_causal": True},
         {"batched": False, "kpm": "bool", "attn": ("bool", 3)}, {"attn": ("float", 2), "kpm": "float"}]
CASES = [(layer, call) for layer, call in itertools.product(LAYERS, CALLS)
         if not (call.get("self") and "kdim" in layer)
         and not (call.get("is_causal") and (layer.get("add_bias_kv") or layer.get("add_zero_attn")))]


def _inputs(rng, layer_kwargs, call):
    """The same query, key, value and masks for both libraries (steps 3, keys 4, batch 2); no row fully masked."""
    steps, keys, n = 3, 3 if call.get("self") else 4, 2
    kdim, vdim = layer_kwargs.get("kdim", E), layer_kwargs.get("vdim", E)
    batched, first = call.get("batched", True), layer_kwargs.get("batch_first", False)

    def shape(t, d):
        return ((n, t, d) if first else (t, n, d)) if batched else (t, d)

    arrays = [rng.standard_normal(shape(steps, E))]
    if not call.get("self"):
        arrays += [rng.standard_normal(shape(keys, kdim)), rng.standard_normal(shape(keys, vdim))]
    masks = {}
    if call.get("kpm"):
        padding = rng.random((n, keys) if batched else (keys,)) < 0.3
        padding[..., 0] = False
        values = rng.standard_normal(padding.shape)
        masks["key_padding_mask"] = padding if call["kpm"] == "bool" else np.where(padding, -np.inf, values)
    if call.get("attn"):
        kind, dims = call["attn"]
        shape_ = (steps, keys) if dims == 2 else ((n if batched else 1) * HEADS, steps, keys)
        mask = rng.random(shape_) < 0.3
        mask[..., 0] = False
        if call.get("causal"):
            mask = np.broadcast_to(np.triu(np.ones((steps, keys), bool), 1), shape_).copy()
        masks["attn_mask"] = mask if kind == "bool" else np.where(mask, -np.inf, 0.0 if call.get("causal") else
                                                                  rng.standard_normal(shape_))
    return arrays, masks


@pytest.mark.parametrize("layer_kwargs, call", CASES, ids=[f"{i}" for i in range(len(CASES))])
def test_outputs_weights_and_gradients_equal_pytorchs(layer_kwargs, call):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    theirs = torch.nn.MultiheadAttention(E, HEADS, **layer_kwargs).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(0, 0.5)  # biases too, which start at zero
    ours = nn.MultiheadAttention(E, HEADS, **layer_kwargs).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    arrays, masks = _inputs(rng, layer_kwargs, call)
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    o_in = [tg.Tensor(a.copy(), requires_grad=True) for a in arrays]
    t_masks = {k: torch.tensor(m, requires_grad=m.dtype != bool) for k, m in masks.items()}
    o_masks = {k: tg.Tensor(m.copy(), dtype=m.dtype, requires_grad=m.dtype != bool) for k, m in masks.items()}
    options = {k: call[k] for k in ("need_weights", "average_attn_weights", "is_causal") if k in call}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "mismatched key_padding_mask and attn_mask" deprecation
        t_out, t_weights = theirs(*(t_in * 3 if len(t_in) == 1 else t_in), **t_masks, **options)
    o_out, o_weights = ours(*(o_in * 3 if len(o_in) == 1 else o_in), **o_masks, **options)
    assert o_out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(o_out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert (o_weights is None) == (t_weights is None)
    g = rng.standard_normal(o_out.shape)
    t_loss, o_loss = (t_out * torch.from_numpy(g)).sum(), (o_out * tg.Tensor(g)).sum()
    if t_weights is not None:
        assert o_weights.shape == tuple(t_weights.shape)
        np.testing.assert_allclose(o_weights.data, t_weights.detach().numpy(), rtol=1e-10, atol=1e-12)
        gw = rng.standard_normal(o_weights.shape)
        t_loss, o_loss = t_loss + (t_weights * torch.from_numpy(gw)).sum(), o_loss + (o_weights * tg.Tensor(gw)).sum()
    t_loss.backward()
    o_loss.backward()
    for t, o in zip(t_in, o_in, strict=True):
        np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-11)
    for name, t in t_masks.items():
        if t.requires_grad and t.grad is None:  # the is_causal hint: PyTorch drops the mask, and so do we
            assert o_masks[name].grad is None
        elif t.requires_grad:
            np.testing.assert_allclose(o_masks[name].grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-11)
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_params[name].grad.data, p.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_a_fully_masked_row_matches_pytorchs_need_weights_false_path_where_its_default_path_gives_nan():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    theirs = torch.nn.MultiheadAttention(E, HEADS).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(0, 0.5)
    ours = nn.MultiheadAttention(E, HEADS).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((3, 2, E))
    padding = np.array([[False, True, False], [True, True, True]])
    tx, ox = torch.tensor(x, requires_grad=True), tg.Tensor(x.copy(), requires_grad=True)
    t_out, _ = theirs(tx, tx, tx, key_padding_mask=torch.from_numpy(padding), need_weights=False)
    o_out, _ = ours(ox, ox, ox, key_padding_mask=padding, need_weights=False)
    np.testing.assert_allclose(o_out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(o_out.shape)
    (t_out * torch.from_numpy(g)).sum().backward()
    (o_out * tg.Tensor(g)).sum().backward()
    np.testing.assert_allclose(ox.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    with torch.no_grad():
        nan_out, nan_weights = theirs(tx, tx, tx, key_padding_mask=torch.from_numpy(padding))
    assert torch.isnan(nan_out[:, 1]).all() and torch.isnan(nan_weights[1]).all()  # PyTorch's default path
    ours_out, ours_weights = ours(ox, ox, ox, key_padding_mask=padding)
    np.testing.assert_allclose(ours_out.data, o_out.data, rtol=1e-12)  # ours: the same as need_weights=False
    assert (ours_weights.data[1] == 0).all()
