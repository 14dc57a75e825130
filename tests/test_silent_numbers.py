"""Issue 29's silent wrong numbers in shape, resizing, einsum, losses and attention: each case gave a wrong answer
(or an error in backward only) without a word, and each now gives PyTorch's answer or a loud refusal. The
expected numbers are written out, so these run without torch; where torch is installed, each is checked
against it too."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np.nn import functional as F


def torch_or_skip():
    return pytest.importorskip("torch")


# ---- attention --------------------------------------------------------------------------------------------
def attention_inputs(seed=0):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal(shape).astype(np.float32) for shape in ((1, 3, 4), (1, 5, 4), (1, 5, 4)))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False  # query 1 may attend to nothing
    return q, k, v, mask


def test_a_query_with_nothing_to_attend_to_gets_zeros_and_no_nan_reaches_any_gradient():
    q, k, v, mask = attention_inputs()
    tensors = [tg.Tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*tensors, attn_mask=mask)
    np.testing.assert_array_equal(out.data[0, 1], np.zeros(4, dtype=np.float32))  # PyTorch's zeros, not NaN
    assert np.isfinite(out.data).all()
    out[:, [0, 2]].sum().backward()  # the loss leaves the empty row out: NaN used to reach k's and v's gradients
    for t in tensors:
        assert np.isfinite(t.grad.data).all()
    np.testing.assert_array_equal(tensors[0].grad.data[0, 1], np.zeros(4, dtype=np.float32))
    # the rows that may attend are what they were: softmax over the allowed scores
    scores = q[0] @ k[0].T / 2.0
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out.data[0, [0, 2]], (weights @ v[0])[[0, 2]], rtol=1e-5)


def test_a_float_mask_with_a_row_of_minus_inf_gets_zeros_too():
    q, k, v, mask = attention_inputs(1)
    additive = np.where(mask, 0.0, -np.inf).astype(np.float32)
    out = F.scaled_dot_product_attention(tg.Tensor(q), tg.Tensor(k), tg.Tensor(v), attn_mask=additive)
    np.testing.assert_array_equal(out.data[0, 1], np.zeros(4, dtype=np.float32))


def test_an_integer_mask_is_refused_naming_its_dtype():
    """A tokenizer's int64 0/1 mask was added to the scores, so nothing was masked."""
    q, k, v, mask = attention_inputs()
    with pytest.raises(TypeError, match="attn_mask must be boolean .* got dtype int64.*astype\\(bool\\)"):
        F.scaled_dot_product_attention(tg.Tensor(q), tg.Tensor(k), tg.Tensor(v), attn_mask=mask.astype(np.int64))


def test_attention_edges_as_torch():
    torch = torch_or_skip()
    q, k, v, mask = attention_inputs(2)
    ours = [tg.Tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, attn_mask=mask)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError):
        torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=torch.tensor(mask.astype(np.int64)))


# ---- binary cross-entropy -----------------------------------------------------------------------------------
def test_binary_cross_entropy_at_a_probability_of_exactly_0_or_1_has_pytorchs_finite_gradient():
    p = tg.Tensor(np.array([0.0, 1.0, 1.0, 0.0, 0.25], dtype=np.float32), requires_grad=True)
    t = np.array([0.0, 1.0, 0.3, 0.7, 1.0], dtype=np.float32)
    loss = F.binary_cross_entropy(p, t, reduction="sum")
    # -(t max(log p, -100) + (1 - t) max(log(1 - p), -100)) for each element
    np.testing.assert_allclose(loss.item(), 0 + 0 + 0.7 * 100 + 0.7 * 100 - np.log(0.25), rtol=1e-6)
    loss.backward()
    # (p - t) / max(p (1 - p), 1e-12): finite, where the clamped logs' rule gave 0 * inf = NaN
    expected = np.array([0.0, 0.0, 0.7e12, -0.7e12, -0.75 / 0.1875], dtype=np.float32)
    np.testing.assert_allclose(p.grad.data, expected, rtol=1e-6)


def test_binary_cross_entropy_of_a_saturated_float32_sigmoid_trains_without_nan():
    """A float32 sigmoid is exactly 1.0 from about x = 17: the gradient reaching x must be finite."""
    x = tg.Tensor(np.array([17.0, 20.0, -120.0, 0.5], dtype=np.float32), requires_grad=True)
    p = x.sigmoid()
    assert p.data[1] == 1.0 and p.data[2] == 0.0
    F.binary_cross_entropy(p, np.array([1.0, 0.0, 1.0, 1.0], dtype=np.float32)).backward()
    assert np.isfinite(x.grad.data).all()


def test_binary_cross_entropy_refuses_targets_outside_0_and_1():
    p = tg.Tensor(np.array([0.5, 0.5], dtype=np.float32))
    with pytest.raises(ValueError, match="every target must be in \\[0, 1\\], got 1.5"):
        F.binary_cross_entropy(p, np.array([1.5, 0.0], dtype=np.float32))
    with pytest.raises(ValueError, match="every target must be in \\[0, 1\\], got -0.5"):
        F.binary_cross_entropy(p, tg.Tensor(np.array([0.0, -0.5], dtype=np.float32)))


def test_binary_cross_entropy_edges_as_torch():
    torch = torch_or_skip()
    p_values = np.array([0.0, 1.0, 1.0, 0.0, 0.25, 1e-30], dtype=np.float32)
    t = np.array([0.0, 1.0, 0.3, 0.7, 1.0, 0.5], dtype=np.float32)
    ours, theirs = tg.Tensor(p_values, requires_grad=True), torch.tensor(p_values, requires_grad=True)
    loss = F.binary_cross_entropy(ours, t)
    expected = torch.nn.functional.binary_cross_entropy(theirs, torch.tensor(t))
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError):
        torch.nn.functional.binary_cross_entropy(theirs, torch.tensor([1.5] * 6))


# ---- resizing ----------------------------------------------------------------------------------------------
def test_nearest_resizing_by_1_3_picks_pytorchs_rows():
    """PyTorch computes the source row floor(i * float32(1 / 1.3)) in float32; float64 picked the row before at
    39, 65, 78 and 117 of the 169 rows made from 130 (and at 130, 143 and 156)."""
    x = tg.Tensor(np.arange(130, dtype=np.float32).reshape(1, 1, 130, 1))
    rows = F.interpolate(x, scale_factor=1.3).data.reshape(-1).astype(np.int64)
    assert rows.shape == (169,)
    np.testing.assert_array_equal(rows[[39, 65, 78, 117, 130, 143, 156]], [30, 50, 60, 90, 100, 110, 120])
    step = np.float32(1.0 / 1.3)
    np.testing.assert_array_equal(rows, np.minimum(np.floor(np.arange(169, dtype=np.float32) * step), 129))


def test_nearest_resizing_as_torch():
    torch = torch_or_skip()
    x = np.arange(130 * 7, dtype=np.float32).reshape(1, 1, 130, 7)
    for factor in (1.3, (1.3, 2.5), 0.7, 1.7):
        expected = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=factor).numpy()
        np.testing.assert_array_equal(F.interpolate(tg.Tensor(x), scale_factor=factor).data, expected)


# ---- einsum ----------------------------------------------------------------------------------------------
def test_einsum_broadcasts_an_axis_of_length_1_both_ways():
    """It broadcast going forward, then raised in backward (a gradient of shape (2, 3) for an input of (2, 1))."""
    a = tg.Tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    b = tg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    out = tg.einsum("ij,jk->ik", a, b)
    np.testing.assert_array_equal(out.data, a.data @ b.data.sum(axis=0, keepdims=True))
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.full((2, 1), b.data.sum()))  # summed over the 3 copies
    np.testing.assert_array_equal(b.grad.data, np.full((3, 4), 3.0))


def test_einsum_broadcast_as_torch():
    torch = torch_or_skip()
    a, b = np.random.default_rng(0).standard_normal((2, 1)), np.random.default_rng(1).standard_normal((3, 4))
    ours = [tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    tg.einsum("ij,jk->ik", *ours).sum().backward()
    torch.einsum("ij,jk->ik", *theirs).sum().backward()
    for x, y in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(x.grad.data, y.grad.numpy(), rtol=1e-12)
