"""Graph semantics: reuse, accumulation, release, no_grad, deep graphs, higher order."""
import gc
import weakref

import numpy as np
import pytest

import tinygrad_np as tg


def leaf(values):
    return tg.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_reused_node():
    x = leaf([3.0])
    (x * x).backward(np.ones(1))
    np.testing.assert_allclose(x.grad.data, [6.0])


def test_diamond():
    # x -> a = 2x, b = x², y = a * b = 2x³, dy/dx = 6x²
    x = leaf([2.0])
    a, b = x * 2, x * x
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad.data, [24.0])


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3 + 2, 3 + 4])


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 8.0])


def test_second_backward_through_released_graph_says_what_to_do():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_saved_arrays_are_released_after_backward():
    x = leaf(np.ones(1000))
    loss = (x * 2).exp().sum()
    intermediate = weakref.ref(loss.op.inputs[0])  # exp's output, held only by the graph
    gc.disable()  # refcounting alone must free it: no reliance on the cycle collector
    try:
        loss.backward()
        assert intermediate() is None
    finally:
        gc.enable()


def test_saved_arrays_are_kept_with_retain_graph():
    """Kept, and still right: a second backward through the same graph gives the same gradient again (the
    saved arrays were neither freed nor overwritten by the first pass)."""
    x = leaf(np.linspace(-1, 1, 10))
    loss = (x * 2).exp().sum() + (x * x).sum()
    intermediate = weakref.ref(loss.op.inputs[0])
    loss.backward(retain_graph=True)
    assert intermediate() is not None
    first = x.grad.data.copy()
    np.testing.assert_allclose(first, 2 * np.exp(2 * x.data) + 2 * x.data)
    x.grad = None
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, first)


def test_no_grad_records_nothing():
    x = leaf([1.0])
    with tg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.op is None
    assert tg.is_grad_enabled()


def test_no_grad_as_decorator_and_nesting():
    @tg.no_grad()
    def evaluate(t):
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            assert tg.is_grad_enabled()
        return t * 2

    assert not evaluate(leaf([1.0])).requires_grad
    assert tg.is_grad_enabled()


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            raise ZeroDivisionError
    assert tg.is_grad_enabled()


def test_tensors_without_requires_grad_record_nothing():
    y = tg.Tensor([1.0]) * 2
    assert y.op is None and not y.requires_grad


@pytest.mark.slow
def test_chain_of_100k_ops_backpropagates_without_recursion_error():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0])


def test_grad_function_returns_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = tg.grad(y, [x, w])
    np.testing.assert_allclose(gx.data, [3.0, 4.0])
    np.testing.assert_allclose(gw.data, [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_unused_input():
    x, z = leaf([1.0]), leaf([1.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad((x * 2).sum(), [x, z])
    assert tg.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None


def test_grad_with_respect_to_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = tg.grad((h * h).sum(), [h])
    np.testing.assert_allclose(gh.data, 2 * h.data)


def test_second_order_derivative_of_cubic():
    x = leaf([2.0])
    (g,) = tg.grad((x ** 3).sum(), [x], create_graph=True)  # 3x²
    (h,) = tg.grad(g.sum(), [x])  # 6x
    np.testing.assert_allclose(g.data, [12.0])
    np.testing.assert_allclose(h.data, [12.0])


def test_third_order():
    x = leaf([0.5])
    y = x.tanh()
    for _ in range(3):
        (y,) = tg.grad(y.sum(), [x], create_graph=True)
    t = np.tanh(0.5)
    s2 = 1 - t * t
    # d³/dx³ tanh = -2 sech²(x) (sech²(x) - 2 tanh²(x))
    np.testing.assert_allclose(y.data, [-2 * s2 * (s2 - 2 * t * t)], rtol=1e-12)


def test_backward_with_create_graph_gives_differentiable_dot_grad():
    x = leaf([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    penalty = (x.grad * x.grad).sum()  # Σ 9x⁴, d/dx = 36x³
    (gp,) = tg.grad(penalty, [x])
    np.testing.assert_allclose(gp.data, 36 * np.array([1.0, 8.0]))


def test_hessian_vector_product_of_a_quadratic():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((4, 4))
    a = m @ m.T
    x = leaf(rng.standard_normal(4))
    v = rng.standard_normal(4)
    f = 0.5 * (x @ (tg.Tensor(a) @ x))
    (g,) = tg.grad(f, [x], create_graph=True)
    (hv,) = tg.grad(g, [x], grad_outputs=tg.Tensor(v))
    np.testing.assert_allclose(hv.data, a @ v, rtol=1e-12)


def test_backward_without_create_graph_records_nothing():
    x = leaf([1.0, 2.0])
    (x.tanh() * x).sum().backward()
    assert x.grad.op is None and not x.grad.requires_grad


def test_max_shares_the_gradient_among_ties():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    x.max(axis=1).backward(np.array([1.0, 4.0]))
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.5, 0.5], [4.0, 0.0, 0.0]])
