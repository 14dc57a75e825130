"""tinygrad_np.func: every transform against central differences on op-table functions, their compositions,
torch.func's conventions (argnums, has_aux, dicts, functional_call) and the errors that name the transform."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import OPS

import tinygrad_np as tg
from tinygrad_np import func, nn

# Rows whose outputs are smooth in every input at the drawn points (kinks are kept away by the strategies).
SMOOTH = [op for op in OPS if op.second_order]


def numeric_jacobian(f, arrays, eps=1e-6):
    """d f(arrays).ravel() / d arrays[k].ravel() for each k, by central differences in float64."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    out_size = np.asarray(f(*arrays)).size
    jacobians = []
    for a in arrays:
        jac = np.zeros((out_size, a.size))
        for j in range(a.size):
            old = a.flat[j]
            a.flat[j] = old + eps
            plus = np.array(f(*arrays), dtype=np.float64).ravel()  # a copy: f may return a view of its input
            a.flat[j] = old - eps
            minus = np.array(f(*arrays), dtype=np.float64).ravel()
            a.flat[j] = old
            jac[:, j] = (plus - minus) / (2 * eps)
        jacobians.append(jac)
    return jacobians


def draw_case(data, rows=SMOOTH):
    op = data.draw(st.sampled_from(rows), label="op")
    case = data.draw(op.inputs, label="case")
    f = lambda *ts: op.ours(*ts, **case.params)  # noqa: E731
    plain = lambda *arrays: f(*[tg.Tensor(a) for a in arrays]).data  # noqa: E731
    return op, case, f, plain


def close(actual, expected, what, atol=1e-5, rtol=1e-4):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, atol=atol, rtol=rtol, err_msg=what)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_grad_matches_central_differences(data):
    op, case, f, plain = draw_case(data)
    w = np.random.default_rng(0).standard_normal(np.shape(plain(*case.arrays)))
    scalar = lambda *ts: (f(*ts) * w).sum()  # noqa: E731
    argnums = tuple(range(len(case.arrays)))
    grads = func.grad(scalar, argnums=argnums)(*case.arrays)
    expected = numeric_jacobian(lambda *a: (plain(*a) * w).sum(), case.arrays)
    for k, (g, j) in enumerate(zip(grads, expected, strict=True)):
        assert g.shape == case.arrays[k].shape
        close(g.data.ravel(), j[0], f"grad of {op.name}, input {k}, on {case}")


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_vjp_and_jvp_match_central_differences(data):
    op, case, f, plain = draw_case(data)
    rng = np.random.default_rng(1)
    out, vjp_fn = func.vjp(f, *case.arrays)
    np.testing.assert_allclose(out.data, plain(*case.arrays), rtol=1e-12)
    u = rng.standard_normal(out.shape)
    tangents = [rng.standard_normal(a.shape) for a in case.arrays]
    jacobians = numeric_jacobian(plain, case.arrays)
    for k, (g, j) in enumerate(zip(vjp_fn(u), jacobians, strict=True)):
        close(g.data.ravel(), u.ravel() @ j, f"vjp of {op.name}, input {k}, on {case}")
    out2, jvp_out = func.jvp(f, tuple(case.arrays), tuple(tangents))
    np.testing.assert_allclose(out2.data, out.data, rtol=1e-12)
    expected = sum(j @ t.ravel() for j, t in zip(jacobians, tangents, strict=True))
    close(jvp_out.data.ravel(), expected, f"jvp of {op.name} on {case}")


@settings(max_examples=40, deadline=None)
@given(data=st.data())
@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_jacrev_and_jacfwd_build_the_same_jacobian_as_central_differences(data):
    op, case, f, plain = draw_case(data)
    argnums = tuple(range(len(case.arrays)))
    out_shape = np.shape(plain(*case.arrays))
    reverse = func.jacrev(f, argnums=argnums)(*case.arrays)
    forward = func.jacfwd(f, argnums=argnums)(*case.arrays)
    for k, (r, fw, j) in enumerate(zip(reverse, forward, numeric_jacobian(plain, case.arrays), strict=True)):
        assert r.shape == fw.shape == out_shape + case.arrays[k].shape
        close(r.data.reshape(j.shape), j, f"jacrev of {op.name}, input {k}, on {case}")
        np.testing.assert_allclose(fw.data, r.data, rtol=1e-9, atol=1e-11,
                                   err_msg=f"jacfwd against jacrev, {op.name}, input {k}, on {case}")


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_hessian_is_forward_over_reverse_and_matches_differences_of_the_gradient(data):
    op, case, f, plain = draw_case(data, [op for op in SMOOTH if len(op.ours.__code__.co_varnames) >= 1])
    w = np.random.default_rng(2).standard_normal(np.shape(plain(*case.arrays)))
    scalar = lambda *ts: (f(*ts) * w).sum()  # noqa: E731
    x, rest = case.arrays[0], [tg.Tensor(a) for a in case.arrays[1:]]
    h = func.hessian(lambda x: scalar(x, *rest))(x)
    assert h.shape == x.shape + x.shape
    gradient = lambda a: func.grad(lambda t: scalar(t, *rest))(a).data  # noqa: E731
    close(h.data.reshape(x.size, x.size), numeric_jacobian(gradient, [x])[0], f"hessian of {op.name} on {case}",
          atol=1e-4, rtol=1e-3)
    np.testing.assert_allclose(func.jacrev(func.jacrev(lambda x: scalar(x, *rest)))(x).data, h.data,
                               rtol=1e-8, atol=1e-10)


def test_grad_of_grad_is_the_second_derivative():
    cube = lambda x: x ** 3  # noqa: E731
    x = np.array(1.5)
    assert func.grad(cube)(x).item() == pytest.approx(3 * 1.5 ** 2)
    assert func.grad(func.grad(cube))(x).item() == pytest.approx(6 * 1.5)
    assert func.grad(func.grad(func.grad(cube)))(x).item() == pytest.approx(6)


def test_a_grad_inside_the_function_grad_differentiates():
    """f(x) = x · ∇g(x) with g = Σ sin: f = Σ x cos x, so ∇f = cos x - x sin x; the inner grad is with respect to
    its own argument only, even though it is the same x."""
    g = lambda y: y.sin().sum()  # noqa: E731
    f = lambda x: (x * func.grad(g)(x)).sum()  # noqa: E731
    x = np.array([0.3, -1.2, 2.0])
    close(func.grad(f)(x).data, np.cos(x) - x * np.sin(x), "grad of x · grad(g)(x)")


def test_an_inner_grad_treats_the_outer_variable_it_closes_over_as_a_constant_of_its_own():
    """d/dx [d/dy (x y)] at y = 3 is d/dx x = 1: the inner derivative is taken with x held fixed."""
    outer = lambda x: func.grad(lambda y: x * y)(np.array(3.0))  # noqa: E731
    assert func.grad(outer)(np.array(2.0)).item() == pytest.approx(1.0)


def test_argnums_tuple_and_negative():
    f = lambda a, b, c: (a * b.exp() + c).sum()  # noqa: E731
    a, b, c = np.array([1.0, 2.0]), np.array([0.5, -0.5]), np.array([3.0, 4.0])
    ga, gc = func.grad(f, argnums=(0, -1))(a, b, c)
    close(ga.data, np.exp(b), "d/da")
    close(gc.data, np.ones(2), "d/dc")
    (gb,) = func.grad(f, argnums=(1,))(a, b, c)
    close(gb.data, a * np.exp(b), "d/db as a 1-tuple")


def test_has_aux_is_returned_beside_the_result_as_in_torch_func():
    f = lambda x: ((x * x).sum(), {"norm": x})  # noqa: E731
    x = np.array([1.0, 2.0])
    g, aux = func.grad(f, has_aux=True)(x)
    close(g.data, 2 * x, "grad with aux")
    assert set(aux) == {"norm"}
    g, (value, aux) = func.grad_and_value(f, has_aux=True)(x)
    assert value.item() == 5.0 and "norm" in aux
    out, vjp_fn, aux = func.vjp(lambda x: (x * 2, "a"), x, has_aux=True)
    assert aux == "a" and vjp_fn(np.ones(2))[0].data.tolist() == [2.0, 2.0]
    out, tangent_out, aux = func.jvp(lambda x: (x * 2, "b"), (x,), (np.ones(2),), has_aux=True)
    assert aux == "b" and tangent_out.data.tolist() == [2.0, 2.0]
    jac, aux = func.jacrev(lambda x: (x * 3, 7), has_aux=True)(x)
    assert aux == 7 and np.allclose(jac.data, 3 * np.eye(2))
    jac, aux = func.jacfwd(lambda x: (x * 3, 8), has_aux=True)(x)
    assert aux == 8 and np.allclose(jac.data, 3 * np.eye(2))


def test_an_input_the_output_does_not_depend_on_gets_zeros():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    f = lambda a, b: (a * a).sum()  # noqa: E731
    assert func.grad(f, argnums=1)(tg.Tensor(x), y).data.tolist() == [0.0, 0.0, 0.0]
    _, vjp_fn = func.vjp(lambda a, b: a * 2, x, y)
    assert vjp_fn(np.ones(2))[1].data.tolist() == [0.0, 0.0, 0.0]
    _, tangent_out = func.jvp(lambda a, b: a * 2, (x, y), (np.zeros(2), np.ones(3)))
    assert tangent_out.data.tolist() == [0.0, 0.0]
    assert func.jacrev(lambda a, b: a * 2, argnums=1)(x, y).data.tolist() == [[0.0] * 3] * 2
    assert func.jacfwd(lambda a, b: a * 2, argnums=1)(x, y).data.tolist() == [[0.0] * 3] * 2
    assert func.jacrev(lambda a: tg.Tensor(np.ones(2)))(x).data.tolist() == [[0.0, 0.0]] * 2


def test_a_tuple_of_outputs_gives_a_tuple_of_jacobians():
    x = np.array([1.0, 2.0])
    for jac in (func.jacrev, func.jacfwd):
        first, second = jac(lambda x: (x * 2, x.sum()))(x)
        assert np.allclose(first.data, 2 * np.eye(2)) and np.allclose(second.data, [1.0, 1.0])


def test_results_at_the_top_level_are_plain_but_stay_differentiable_through_what_f_closes_over():
    x = np.array([1.0, 2.0])
    f = lambda t: (t.sin() * t).exp()  # noqa: E731
    scalar = lambda t: f(t).sum()  # noqa: E731
    results = [func.grad(scalar)(x), func.vjp(f, x)[0], func.vjp(f, x)[1](np.ones(2))[0], func.jvp(f, (x,), (x,))[1],
               func.jacrev(f)(x), func.jacfwd(f)(x), func.hessian(scalar)(x)]
    assert not any(r.requires_grad for r in results)
    w = tg.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    g = func.grad(lambda t: (w * t * t).sum())(x)  # 2 w x
    assert g.requires_grad
    g.sum().backward()
    assert w.grad.data.tolist() == [2.0, 4.0]


def test_under_no_grad_nothing_is_recorded():
    with tg.no_grad():
        g = func.grad(lambda t: (t * t).sum())(np.array([1.0, 2.0]))
    assert g.data.tolist() == [2.0, 4.0] and not g.requires_grad


def test_dicts_of_tensors_are_inputs_and_their_gradients_are_dicts():
    params = {"w": np.array([[1.0, 2.0]]), "b": np.array([0.5])}
    x = tg.Tensor(np.array([[3.0, 4.0]]))
    loss = lambda p: ((x @ p["w"].T + p["b"]) ** 2).sum()  # noqa: E731
    g = func.grad(loss)(params)
    z = 3 + 8 + 0.5
    assert set(g) == {"w", "b"}
    close(g["w"].data, 2 * z * np.array([[3.0, 4.0]]), "d/dw")
    close(g["b"].data, [2 * z], "d/db")


def test_functional_call_uses_the_given_tensors_and_leaves_the_module_untouched():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Tanh(), nn.Linear(4, 2, rng=rng))
    own = {name: (p, p.data.copy()) for name, p in model.named_parameters()}
    x = tg.Tensor(rng.standard_normal((5, 3)).astype(np.float32))
    new = {name: p.data * 2 for name, p in model.named_parameters()}
    twin = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    twin.load_state_dict(new)
    np.testing.assert_allclose(func.functional_call(model, new, (x,)).data, twin(x).data, rtol=1e-6)
    for name, p in model.named_parameters():  # the same Tensors, with the same values
        assert p is own[name][0] and np.array_equal(p.data, own[name][1])
    grads = func.grad(lambda p: func.functional_call(model, p, (x,)).sum())(new)
    twin_out = twin(x).sum()
    twin_out.backward()
    for name, p in twin.named_parameters():
        np.testing.assert_allclose(grads[name].data, p.grad.data, rtol=1e-5, atol=1e-7)
    assert all(p.grad is None for p in model.parameters())


def test_functional_call_puts_the_parameters_back_when_the_call_raises_and_refuses_unknown_names():
    model = nn.Linear(3, 2)
    weight = model.weight
    with pytest.raises(ValueError):
        func.functional_call(model, {"weight": np.zeros((2, 3))}, (tg.Tensor(np.ones((1, 4))),))
    assert model.weight is weight
    with pytest.raises(KeyError, match="functional_call: Linear has no parameter or buffer wieght"):
        func.functional_call(model, {"wieght": np.zeros((2, 3))}, (tg.Tensor(np.ones((1, 3))),))


class TiedLM(nn.Module):
    """A language model whose output layer is its embedding (weight tying): one tensor under two names."""

    def __init__(self, vocab=7, width=4):
        rng = np.random.default_rng(0)
        self.embed = nn.Embedding(vocab, width, rng=rng)
        self.mix = nn.Linear(width, width, rng=rng)
        self.head = nn.Linear(width, vocab, bias=False, rng=rng)
        self.head.weight = self.embed.weight

    def forward(self, tokens):
        return self.head(self.mix(self.embed(tokens)).tanh())


def test_functional_call_ties_tied_weights_as_torch_func_does():
    model = TiedLM()
    tokens, targets = np.array([1, 4, 6, 2]), np.array([4, 6, 2, 0])
    params = dict(model.named_parameters())  # names the tied tensor once, as "embed.weight"
    assert "head.weight" not in params and "head.weight" in model.state_dict()
    grads = func.grad(lambda p: func.functional_call(model, p, (tokens,)).cross_entropy(targets))(params)
    model(tokens).cross_entropy(targets).backward()  # the ordinary backward pass reaches both uses
    for name, p in model.named_parameters():
        np.testing.assert_allclose(grads[name].data, p.grad.data, rtol=1e-5, atol=1e-7, err_msg=name)
    # the value given under one name is used under the other too
    doubled = {name: p.data * 2 for name, p in params.items()}
    out = func.functional_call(model, doubled, (tokens,)).data
    twin = TiedLM()
    twin.load_state_dict({**doubled, "head.weight": doubled["embed.weight"]})
    np.testing.assert_allclose(out, twin(tokens).data, rtol=1e-6)


def test_functional_call_refuses_two_values_for_tied_names_and_unties_on_request():
    model = TiedLM()
    tokens = np.array([1, 2])
    a, b = np.ones((7, 4), np.float32), np.zeros((7, 4), np.float32)
    with pytest.raises(ValueError, match="functional_call: got different values for embed.weight, head.weight, which "
                                         "the module ties"):
        func.functional_call(model, {"embed.weight": a, "head.weight": b}, (tokens,))
    func.functional_call(model, {"embed.weight": a, "head.weight": a}, (tokens,))  # the same value twice is fine
    untied = func.functional_call(model, {"embed.weight": a}, (tokens,), tie_weights=False).data
    twin = TiedLM()
    twin.embed.weight = tg.Tensor(a, requires_grad=True)  # the head keeps the module's own weight
    twin.mix, twin.head.weight = model.mix, model.head.weight
    np.testing.assert_allclose(untied, twin(tokens).data, rtol=1e-6)
    assert model.embed.weight is model.head.weight  # put back


def test_functional_call_on_a_tied_model_against_torch_func():
    torch = pytest.importorskip("torch")
    ours = TiedLM()

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.mix = torch.nn.Embedding(7, 4), torch.nn.Linear(4, 4)
            self.head = torch.nn.Linear(4, 7, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, tokens):
            return self.head(self.mix(self.embed(tokens)).tanh())

    theirs = Theirs()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    tokens, targets = np.array([1, 4, 6, 2]), np.array([4, 6, 2, 0])
    params = {k: p.data * 1.5 for k, p in ours.named_parameters()}
    grads = func.grad(lambda p: func.functional_call(ours, p, (tokens,)).cross_entropy(targets))(params)
    expected = torch.func.grad(lambda p: torch.nn.functional.cross_entropy(
        torch.func.functional_call(theirs, p, (torch.tensor(tokens),)), torch.tensor(targets)))(
        {k: torch.tensor(v) for k, v in params.items()})
    assert set(grads) == set(expected)
    for name in grads:
        np.testing.assert_allclose(grads[name].data, expected[name].numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd"])
def test_an_argnum_out_of_range_names_the_transform(transform):
    with pytest.raises(ValueError, match=rf"{transform}: argnums 2 is out of range for a function called with 2 "
                                         r"positional arguments"):
        getattr(func, transform)(lambda a, b: (a * b).sum(), argnums=2)(np.ones(2), np.ones(2))


def test_grad_of_a_non_scalar_output_names_the_transform_and_the_alternatives():
    with pytest.raises(RuntimeError, match=r"grad: f must return a one-element Tensor \(a scalar loss\), got shape "
                                           r"\(3,\); for an output with more elements use vjp, jacrev or jacfwd"):
        func.grad(lambda x: x * 2)(np.ones(3))


@pytest.mark.parametrize("call", [
    lambda f: func.grad(f)(np.ones(2)),
    lambda f: func.vjp(f, np.ones(2)),
    lambda f: func.jvp(f, (np.ones(2),), (np.ones(2),)),
    lambda f: func.jacrev(f)(np.ones(2)),
    lambda f: func.jacfwd(f)(np.ones(2)),
], ids=["grad", "vjp", "jvp", "jacrev", "jacfwd"])
def test_a_function_that_returns_no_tensor_is_refused_naming_the_transform(call):
    with pytest.raises(TypeError, match=r"^(grad|vjp|jvp|jacrev|jacfwd): f must return a Tensor \(or a tuple of "
                                        r"Tensors\); output 0 is a float"):
        call(lambda x: 3.0)


def test_integer_inputs_cannot_be_differentiated():
    with pytest.raises(TypeError, match="grad: argument 0 has dtype int64; only floating-point inputs"):
        func.grad(lambda x: x.sum())(np.arange(3))


def test_shapes_of_cotangents_and_tangents_are_checked():
    _, vjp_fn = func.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match=r"vjp: cotangent 0 has shape \(2,\) but output 0 has shape \(3,\)"):
        vjp_fn(np.ones(2))
    with pytest.raises(ValueError, match=r"jvp: tangent 0 has shape \(2,\) but primal 0 has shape \(3,\)"):
        func.jvp(lambda x: x * 2, (np.ones(3),), (np.ones(2),))


def _functions():
    return {
        "tanh of a product": (lambda x, y: (x * y).tanh(), "tanh"),
        "softplus, summed": (lambda x, y: (x.softplus() * y).sum(), "softplus"),
        "matmul then log_softmax": (lambda x, y: (x.reshape(2, 3) @ y.reshape(3, 2)).log_softmax(axis=1), "lsm"),
    }


@pytest.mark.parametrize("name", list(_functions()))
def test_against_torch_func(name):
    torch = pytest.importorskip("torch")
    from torch import func as tfunc

    ours, kind = _functions()[name]

    def theirs(x, y):
        if kind == "tanh":
            return torch.tanh(x * y)
        if kind == "softplus":
            return (torch.nn.functional.softplus(x) * y).sum()
        return torch.log_softmax(x.reshape(2, 3) @ y.reshape(3, 2), dim=1)

    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(6), rng.standard_normal(6)
    tx, ty = torch.tensor(x), torch.tensor(y)
    for transform in ("jacrev", "jacfwd"):
        a = getattr(func, transform)(ours, argnums=(0, 1))(x, y)
        b = getattr(tfunc, transform)(theirs, argnums=(0, 1))(tx, ty)
        for p, q in zip(a, b, strict=True):
            np.testing.assert_allclose(p.data, q.numpy(), rtol=1e-10, atol=1e-12)
    t = rng.standard_normal(6)
    _, ours_jvp = func.jvp(ours, (x, y), (t, t))
    _, their_jvp = tfunc.jvp(theirs, (tx, ty), (torch.tensor(t), torch.tensor(t)))
    np.testing.assert_allclose(ours_jvp.data, their_jvp.numpy(), rtol=1e-10, atol=1e-12)
    if kind == "softplus":
        np.testing.assert_allclose(func.hessian(ours)(x, y).data, tfunc.hessian(theirs)(tx, ty).numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(func.grad(ours)(x, y).data, tfunc.grad(theirs)(tx, ty).numpy(), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_linearize_equals_jvp_and_does_not_run_f_again(data):
    op, case, f, plain = draw_case(data)
    calls = []
    counted = lambda *ts: calls.append(1) or f(*ts)  # noqa: E731
    out, jvp_fn = func.linearize(counted, *case.arrays)
    assert len(calls) == 1
    np.testing.assert_allclose(out.data, plain(*case.arrays), rtol=1e-12)
    rng = np.random.default_rng(4)
    for _ in range(3):  # the same kept linear map, three directions
        tangents = [rng.standard_normal(a.shape) for a in case.arrays]
        _, expected = func.jvp(f, tuple(case.arrays), tuple(tangents))
        np.testing.assert_allclose(jvp_fn(*tangents).data, expected.data, rtol=1e-12, atol=1e-14,
                                   err_msg=f"linearize of {op.name} on {case}")
    assert len(calls) == 1, "jvp_fn ran f again"


def test_linearize_against_torch_func_and_its_errors():
    x = np.array([0.3, -1.2, 2.0])
    f = lambda x: (x.sin() * x, x.sum().exp())  # noqa: E731
    out, jvp_fn = func.linearize(f, x)
    t = np.array([1.0, 0.5, -2.0])
    first, second = jvp_fn(t)
    np.testing.assert_allclose(first.data, (np.cos(x) * x + np.sin(x)) * t, rtol=1e-12)
    np.testing.assert_allclose(second.data, np.exp(x.sum()) * t.sum(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"linearize: tangent 0 has shape \(2,\) but primal 0 has shape \(3,\)"):
        jvp_fn(np.ones(2))
    with pytest.raises(ValueError, match="linearize: f was linearized at 1 primals but jvp_fn got 2 tangents"):
        jvp_fn(t, t)
    torch = pytest.importorskip("torch")
    theirs_out, theirs_fn = torch.func.linearize(lambda x: (torch.sin(x) * x, x.sum().exp()), torch.tensor(x))
    for ours, theirs in zip(jvp_fn(t), theirs_fn(torch.tensor(t)), strict=True):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


def test_grad_with_integer_labels_as_torch_funcs_pattern():
    """grad(loss)(params, x, y): y, an integer array, reaches the loss as integers (it used to become float32)."""
    model = nn.Linear(3, 4)
    params = {name: p.data for name, p in model.named_parameters()}
    x, y = np.ones((2, 3), np.float32), np.array([1, 3])
    seen = []

    def loss(p, x, y):
        seen.append(y.dtype)
        return func.functional_call(model, p, (x,)).cross_entropy(y)

    grads = func.grad(loss)(params, x, y)
    assert seen == [np.dtype(np.int64)] and grads["weight"].shape == (4, 3)


def test_hessian_of_logcumsumexp_is_forward_over_reverse_right():
    """Found by the randomized Hessian test above: logcumsumexp's recorded rule split dL/dz by sign, and the zeros
    of that split dropped out of its derivative with respect to dL/dz, which forward-over-reverse needs (the
    Hessian at [0.5, -1, 2] had no off-diagonal entries). Large and tiny entries keep it finite."""
    for x in ([0.0], [0.5, -1.0, 2.0], [-800.0, 3.0, 700.0]):
        x = np.array(x)
        w = np.random.default_rng(2).standard_normal(x.shape)
        f = lambda t, w=w: (t.logcumsumexp(axis=0) * tg.Tensor(w)).sum()  # noqa: E731
        np.testing.assert_allclose(func.hessian(f)(x).numpy(), func.jacrev(func.jacrev(f))(x).numpy(),
                                   rtol=1e-9, atol=1e-12)
