"""Conv2d's stride-1 path by shifted products over the padded grid (ops/window.py, Conv2d's doc), held against
the window-matrix path it replaces on the shapes it takes (8 or more input channels, stride 1): the same
values, gradients that match central differences to first and second order, dtypes kept, and jit replays."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.gradcheck import gradcheck, gradgradcheck
from tinygrad_np.nn import functional as F
from tinygrad_np.ops import window


@st.composite
def shifted_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, d * (k - 1))) for k, d in zip(kernel, dilation, strict=True))
    # large enough that the outputs are most of the padded grid (the path's own condition)
    size = tuple(draw(st.integers(max(3, 2 * d * (k - 1)), 12)) for k, d in zip(kernel, dilation, strict=True))
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(8, 9)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in) + size)
    w = rng.standard_normal((c_out, c_in) + kernel)
    return x, w, {"padding": padding, "dilation": dilation}


def _both_paths(x, w, params, monkeypatch):
    results = []
    for threshold in (window.SHIFTED_FROM_CHANNELS, 10**9):  # the shifted path, then the window matrix
        monkeypatch.setattr(window, "SHIFTED_FROM_CHANNELS", threshold)
        xt, wt = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)
        z = F.conv2d(xt, wt, **params)
        weights = tg.Tensor(np.sin(np.arange(z.size, dtype=x.dtype)).reshape(z.shape))
        (z * weights).sum().backward()
        results.append((z.numpy(), xt.grad.numpy(), wt.grad.numpy()))
    return results


@settings(max_examples=40, deadline=None)
@given(shifted_cases())
def test_shifted_products_equal_the_window_matrix(case):
    x, w, params = case
    assume(window._shifted_fits(x, w, (1, 1), params["padding"], params["dilation"]))
    with pytest.MonkeyPatch.context() as monkeypatch:
        shifted, windows = _both_paths(x, w, params, monkeypatch)
    for name, a, b in zip(("z", "dL/dx", "dL/dw"), shifted, windows, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=name)


def _small_case(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((1, 8, 6, 5)), rng.standard_normal((2, 8, 3, 2)), {"padding": (1, 1)}


def test_shifted_path_first_and_second_derivatives_match_central_differences():
    x, w, params = _small_case()
    assert window._shifted_fits(x, w, (1, 1), params["padding"], (1, 1))
    inputs = (tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True))
    assert gradcheck(lambda a, b: F.conv2d(a, b, **params), inputs)
    assert gradgradcheck(lambda a, b: F.conv2d(a, b, **params), inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shifted_path_keeps_the_dtype(dtype):
    x, w, params = _small_case()
    xt, wt = tg.Tensor(x.astype(dtype), requires_grad=True), tg.Tensor(w.astype(dtype), requires_grad=True)
    z = F.conv2d(xt, wt, **params)
    z.sum().backward()
    assert z.dtype == xt.grad.dtype == wt.grad.dtype == dtype


def test_shifted_path_replays_as_eager_under_jit():
    """A replay runs the same op instance, whose padded grid is kept: each replay's x is written into it, and the
    border stays zero."""
    rng = np.random.default_rng(1)
    w = tg.Tensor(rng.standard_normal((4, 8, 3, 3)).astype(np.float32), requires_grad=True)

    def step(x):
        loss = (F.conv2d(x, w, padding=1) ** 2).mean()
        loss.backward()
        return loss

    jitted = tg.jit(step)
    for _ in range(5):
        x = rng.standard_normal((2, 8, 7, 7)).astype(np.float32)
        loss_j = jitted(x).numpy()
        grad_j, w.grad = w.grad.numpy().copy(), None
        loss_e = step(tg.Tensor(x)).numpy()
        grad_e, w.grad = w.grad.numpy().copy(), None
        assert loss_j.tobytes() == loss_e.tobytes() and grad_j.tobytes() == grad_e.tobytes()
