"""optim.Adadelta and optim.LBFGS: by hand and on the Rosenbrock function (no torch needed), and against
PyTorch's parameter trajectories where torch is installed."""
import math

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim


# ---- Adadelta --------------------------------------------------------------------------------------------
def test_adadelta_first_two_steps_by_hand():
    w = tg.Tensor(np.array([1.0]), requires_grad=True)
    opt = optim.Adadelta([w])  # lr 1, rho 0.9, eps 1e-6: PyTorch's defaults
    trajectory = []
    for _ in range(2):
        (w * w).sum().backward()  # g = 2w
        opt.step()
        opt.zero_grad()
        trajectory.append(float(w.data[0]))
    # Step 1: g = 2, v = 0.1·4 = 0.4, Δ = √(0 + 1e-6)/√(0.4 + 1e-6)·2, u = 0.1·Δ².
    delta1 = math.sqrt(1e-6) / math.sqrt(0.4 + 1e-6) * 2
    w1 = 1 - delta1
    assert trajectory[0] == pytest.approx(w1, rel=1e-14) and trajectory[0] == pytest.approx(0.99683772, abs=1e-8)
    # Step 2: g = 2·w1, v = 0.9·0.4 + 0.1·g², Δ = √(0.1·Δ1² + 1e-6)/√(v + 1e-6)·g.
    g2 = 2 * w1
    v2 = 0.9 * 0.4 + 0.1 * g2 * g2
    delta2 = math.sqrt(0.1 * delta1 ** 2 + 1e-6) / math.sqrt(v2 + 1e-6) * g2
    assert trajectory[1] == pytest.approx(w1 - delta2, rel=1e-14)
    np.testing.assert_allclose(opt.state[0]["square_avg"], [v2], rtol=1e-14)
    np.testing.assert_allclose(opt.state[0]["acc_delta"], [0.9 * 0.1 * delta1 ** 2 + 0.1 * delta2 ** 2], rtol=1e-14)


@pytest.mark.parametrize("kwargs, message", [({"rho": 1.5}, r"rho must be in \[0, 1\]"),
                                             ({"eps": -1.0}, "eps must be > 0"), ({"eps": 0.0}, "eps must be > 0"),
                                             ({"weight_decay": -0.1}, "weight_decay must be >= 0"),
                                             ({"lr": 0.0}, "lr must be positive")])
def test_adadelta_refuses_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.Adadelta([tg.zeros(2, requires_grad=True)], **kwargs)


def _regression(dtype=np.float64):
    rng = np.random.default_rng(3)
    x, w_true = rng.standard_normal((16, 3)), np.array([[1.0, -2.0, 0.5], [0.3, 0.0, -1.0]])
    y = np.tanh(x @ w_true.T) + 0.1 * rng.standard_normal((16, 2))
    return x.astype(dtype), y.astype(dtype), (rng.standard_normal((2, 3)) * 0.5).astype(dtype), np.zeros(2, dtype)


def _torch_trajectory(torch, make, w0, b0, x, y, steps, closure_based=False, squash=True):
    w, b = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = make([w, b])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def closure():
        opt.zero_grad()
        z = xt @ w.T + b
        loss = (((torch.tanh(z) if squash else z) - yt) ** 2).mean()
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        if closure_based:
            opt.step(closure)
        else:
            closure()
            opt.step()
        out.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    return out, opt


def _our_trajectory(make, w0, b0, x, y, steps, closure_based=False, squash=True):
    w, b = tg.Tensor(w0.copy(), requires_grad=True), tg.Tensor(b0.copy(), requires_grad=True)
    opt = make([w, b])

    def closure():
        opt.zero_grad()
        z = tg.Tensor(x) @ w.T + b
        loss = (((z.tanh() if squash else z) - tg.Tensor(y)) ** 2).mean()
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        if closure_based:
            opt.step(closure)
        else:
            closure()
            opt.step()
        out.append((w.data.copy(), b.data.copy()))
    return out, opt


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.5, "rho": 0.7, "eps": 1e-3, "weight_decay": 0.05}])
def test_adadelta_follows_pytorchs_trajectory(kwargs):
    torch = pytest.importorskip("torch")
    x, y, w0, b0 = _regression()
    ours, _ = _our_trajectory(lambda p: optim.Adadelta(p, **kwargs), w0, b0, x, y, 25)
    theirs, _ = _torch_trajectory(torch, lambda p: torch.optim.Adadelta(p, **kwargs), w0, b0, x, y, 25)
    for step, ((w, b), (tw, tb)) in enumerate(zip(ours, theirs, strict=True), start=1):
        np.testing.assert_allclose(w, tw, rtol=1e-11, atol=1e-13, err_msg=f"step {step}")
        np.testing.assert_allclose(b, tb, rtol=1e-11, atol=1e-13, err_msg=f"step {step}")


def _adadelta_training(jit):
    x, y, w0, b0 = _regression(np.float32)
    w, b = tg.Tensor(w0.copy(), requires_grad=True), tg.Tensor(b0.copy(), requires_grad=True)
    opt = optim.Adadelta([w, b], lr=0.5, weight_decay=0.01)

    def step(x, y):
        loss = (((x @ w.T + b).tanh() - y) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    run = tg.jit(step) if jit else (lambda x, y: step(tg.Tensor(x), tg.Tensor(y)))
    losses = [float(run(x, y)) for _ in range(6)]
    return losses, w.data.copy(), opt.state[0]["acc_delta"].copy()


def test_adadelta_steps_replay_under_jit_as_eager():
    eager, jitted = _adadelta_training(jit=False), _adadelta_training(jit=True)
    assert eager[0] == jitted[0] and eager[0][-1] < eager[0][0]
    np.testing.assert_array_equal(eager[1], jitted[1])
    np.testing.assert_array_equal(eager[2], jitted[2])


# ---- LBFGS -----------------------------------------------------------------------------------------------
def rosenbrock(x):
    """Σ 100 (x[i+1] − x[i]²)² + (1 − x[i])², its minimum 0 at x = (1, …, 1): a curved valley that defeats
    plain gradient descent (written with indexing, so the same code runs on torch tensors)."""
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def _minimise(start, steps=1, **kwargs):
    x = tg.Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = optim.LBFGS([x], **kwargs)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    losses = [float(opt.step(closure)) for _ in range(steps)]
    return x, opt, losses


def test_lbfgs_with_strong_wolfe_minimises_the_rosenbrock_function():
    x, opt, losses = _minimise([-1.2, 1.0], steps=3, line_search_fn="strong_wolfe", max_iter=50,
                               tolerance_change=1e-15)
    np.testing.assert_allclose(x.data, [1.0, 1.0], atol=1e-7)
    assert float(rosenbrock(x)) < 1e-14
    assert losses[0] == pytest.approx(24.2)  # step() returns the loss at the start: (1 - -1.2)² + 100 (1 - 1.44)²
    assert opt.state[0]["func_evals"] <= 3 * 50 * 5 // 4


def test_lbfgs_without_line_search_takes_fixed_steps_downhill():
    _, opt, losses = _minimise([-1.2, 1.0], steps=6, lr=0.1, max_iter=10)
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert opt.state[0]["n_iter"] == 60 and opt.state[0]["func_evals"] == 60  # max_iter each step, no last eval


def test_lbfgs_stops_at_once_where_the_gradient_vanishes():
    x, opt, losses = _minimise([1.0, 1.0, 1.0], steps=2)
    assert losses == [0.0, 0.0] and opt.state[0] == {"func_evals": 2, "n_iter": 0}
    np.testing.assert_array_equal(x.data, [1.0, 1.0, 1.0])


def test_lbfgs_a_short_history_still_converges():
    x, opt, _ = _minimise([-1.0, 0.5, 2.0, -0.5], steps=10, line_search_fn="strong_wolfe", history_size=2)
    assert len(opt.state[0]["old_dirs"]) == 2
    assert float(rosenbrock(x)) < float(rosenbrock(tg.Tensor(np.array([-1.0, 0.5, 2.0, -0.5])))) / 100


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [100, 3])
def test_lbfgs_follows_pytorchs_trajectory_on_rosenbrock(line_search_fn, history_size):
    torch = pytest.importorskip("torch")
    start = [-1.5, 2.0, 0.5, -0.3]
    lr = 1.0 if line_search_fn else 0.1
    kwargs = dict(lr=lr, max_iter=10, history_size=history_size, line_search_fn=line_search_fn)
    x = tg.Tensor(np.array(start), requires_grad=True)
    tx = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    ours, theirs = optim.LBFGS([x], **kwargs), torch.optim.LBFGS([tx], **kwargs)

    def our_closure():
        ours.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    def their_closure():
        theirs.zero_grad()
        loss = rosenbrock(tx)
        loss.backward()
        return loss

    for step in range(8):
        assert float(ours.step(our_closure)) == pytest.approx(theirs.step(their_closure).item(), rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(x.data, tx.detach().numpy(), rtol=1e-11, atol=1e-13, err_msg=f"step {step}")
    their_state = theirs.state[tx]
    assert ours.state[0]["func_evals"] == their_state["func_evals"]
    assert ours.state[0]["n_iter"] == their_state["n_iter"]
    assert len(ours.state[0]["old_dirs"]) == len(their_state["old_dirs"])


@pytest.mark.parametrize("line_search_fn, lr", [(None, 0.1), (None, 0.5), ("strong_wolfe", 1.0)])
def test_lbfgs_follows_pytorchs_trajectory_on_a_model_of_two_parameters(line_search_fn, lr):
    """Least squares, a convex problem. (On a non-convex one, fixed steps amplify the last-bit differences
    between NumPy's and torch's sums from step to step, on either side alike.)"""
    torch = pytest.importorskip("torch")
    x, y, w0, b0 = _regression()
    kwargs = dict(lr=lr, max_iter=7, history_size=3, line_search_fn=line_search_fn)
    ours, opt = _our_trajectory(lambda p: optim.LBFGS(p, **kwargs), w0, b0, x, y, 5, closure_based=True,
                                squash=False)
    theirs, topt = _torch_trajectory(torch, lambda p: torch.optim.LBFGS(p, **kwargs), w0, b0, x, y, 5,
                                     closure_based=True, squash=False)
    for step, ((w, b), (tw, tb)) in enumerate(zip(ours, theirs, strict=True), start=1):
        np.testing.assert_allclose(w, tw, rtol=1e-11, atol=1e-13, err_msg=f"step {step}")
        np.testing.assert_allclose(b, tb, rtol=1e-11, atol=1e-13, err_msg=f"step {step}")
    assert opt.state[0]["func_evals"] == next(iter(topt.state.values()))["func_evals"]


def test_lbfgs_resumes_exactly_from_a_saved_state(tmp_path):
    straight, _, _ = _minimise([-1.2, 1.0, 0.3], steps=4, line_search_fn="strong_wolfe", max_iter=4,
                               history_size=3)
    x, opt, _ = _minimise([-1.2, 1.0, 0.3], steps=2, line_search_fn="strong_wolfe", max_iter=4, history_size=3)
    nn.save(opt.state_dict(), tmp_path / "lbfgs.npz")
    resumed = tg.Tensor(x.data.copy(), requires_grad=True)
    opt2 = optim.LBFGS([resumed])  # other hyperparameters: the saved ones replace them
    opt2.load_state_dict(nn.load(tmp_path / "lbfgs.npz"))
    assert opt2.param_groups[0]["line_search_fn"] == "strong_wolfe" and opt2.param_groups[0]["history_size"] == 3

    def closure():
        opt2.zero_grad()
        loss = rosenbrock(resumed)
        loss.backward()
        return loss

    for _ in range(2):
        opt2.step(closure)
    np.testing.assert_array_equal(resumed.data, straight.data)


def test_lbfgs_refuses_a_bad_state_and_changes_nothing():
    _, opt, _ = _minimise([-1.2, 1.0], steps=1, max_iter=3)
    state = opt.state_dict()
    before = {k: np.array(v) for k, v in opt.state_dict().items()}
    with pytest.raises(ValueError, match=r"state.0.d has shape \(3,\), the parameters 2 values"):
        opt.load_state_dict({**state, "state.0.d": np.zeros(3)})
    with pytest.raises(ValueError, match="'state.0.al' is not a key"):
        opt.load_state_dict({**state, "state.0.al": np.zeros(2)})
    with pytest.raises(ValueError, match=r"lacks \['max_iter'\]"):
        opt.load_state_dict({k: v for k, v in state.items() if k != "group.0.max_iter"})
    after = opt.state_dict()
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)


def test_lbfgs_refuses_what_pytorchs_refuses():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        optim.LBFGS([a], line_search_fn="armijo")
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        optim.LBFGS([a]).step()


def _classification():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3))
    return x, (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(np.int64)


def _lbfgs_with_a_closure(jit):
    x, y = _classification()
    model = nn.Linear(3, 2, rng=0).double()
    opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe", max_iter=5)

    def closure(x, y):
        opt.zero_grad()
        loss = model(x).cross_entropy(y)
        loss.backward()
        return loss

    run = tg.jit(closure) if jit else (lambda x, y: closure(tg.Tensor(x), y))
    losses = [float(opt.step(lambda: run(x, y))) for _ in range(4)]
    return losses, model.weight.data.copy()


def test_lbfgs_step_inside_jit_is_refused_naming_the_fix():
    x, y = _classification()
    model = nn.Linear(3, 2, rng=0).double()
    opt = optim.LBFGS(model.parameters())

    def closure(x, y):
        opt.zero_grad()
        loss = model(x).cross_entropy(y)
        loss.backward()
        return loss

    with pytest.raises(tg.JitError, match=r"LBFGS.step\(closure\) inside a jitted function.*opt.step\(tg.jit\("):
        tg.jit(lambda x, y: opt.step(lambda: closure(x, y)))(x, y)


def test_lbfgs_with_a_jitted_closure_equals_eager():
    (eager_losses, eager_w), (jit_losses, jit_w) = _lbfgs_with_a_closure(False), _lbfgs_with_a_closure(True)
    assert eager_losses == jit_losses and eager_losses[-1] < eager_losses[0] / 10
    np.testing.assert_array_equal(eager_w, jit_w)
