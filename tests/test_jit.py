"""tg.jit: a replay gives the numbers eager gives, and refuses, naming the line, whatever it could get wrong."""
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.nn import functional as F

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


# ---- the gallery: N jitted steps equal N eager steps, bit for bit ------------------------------------------------
def _lenet_with_batchnorm(rng):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, rng=rng), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, rng=rng), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120, rng=rng), nn.ReLU(), nn.Dropout(0.2, rng=np.random.default_rng(5)),
        nn.Linear(120, 10, rng=rng))


def _gallery():
    """name -> (build model, optimizer, batches(rng, i), step(model, opt, *batch) -> loss)."""
    import char_lm
    import lstm_sequence
    import mnist_cnn
    import mnist_dnn
    import tiny_transformer

    def classify(model, opt, x, y):
        loss = model(x).cross_entropy(y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    def transformer_step(model, opt, lines, targets):
        loss = F.cross_entropy(model(lines).transpose(0, 2, 1), targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        return loss

    def lstm_step(model, opt, x, y):
        error = model(x) - y
        loss = (error * error).mean()
        loss.backward()
        total = nn.utils.clip_grad_norm_(model.parameters(), 0.05)  # small: it clips on most steps
        opt.step()
        opt.zero_grad()
        return loss, total

    def images(rng, n, shape):
        return rng.standard_normal((n,) + shape).astype(np.float32), rng.integers(0, 10, n)

    return {
        "mlp": (lambda: mnist_dnn.MLP(32, rng=np.random.default_rng(1)), lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                lambda rng: images(rng, 16, (784,)), classify),
        "lenet": (lambda: mnist_cnn.lenet5(np.random.default_rng(1)), lambda p: optim.SGD(p, lr=0.05, momentum=0.9,
                                                                                          nesterov=True),
                  lambda rng: images(rng, 8, (1, 28, 28)), classify),
        "lenet_batchnorm": (lambda: _lenet_with_batchnorm(np.random.default_rng(1)), lambda p: optim.Adam(p, lr=1e-3),
                            lambda rng: images(rng, 8, (1, 28, 28)), classify),
        "char_lm": (lambda: char_lm.NameModel(3, 4, 8, np.random.default_rng(1)), lambda p: optim.AdamW(p, lr=0.01),
                    lambda rng: (rng.integers(0, 27, (16, 3)), rng.integers(0, 27, 16)), classify),
        "transformer": (lambda: tiny_transformer.Transformer(7, width=8, heads=2, layers=1, rng=1),
                        lambda p: optim.Adam(p, lr=3e-3),
                        lambda rng: tiny_transformer.batch_of_strings(3, 4, rng), transformer_step),
        "lstm": (lambda: lstm_sequence.Adder(6, np.random.default_rng(1)), lambda p: optim.Adam(p, lr=0.01),
                 lambda rng: lstm_sequence.adding_problem(4, 5, rng), lstm_step),
    }


def _state(model, opt):
    state = {"model." + k: v.copy() for k, v in model.state_dict().items()}
    state.update({"opt." + k: np.array(v) for k, v in opt.state_dict().items()})
    return state


def _train(name, steps, jit):
    build, make_opt, batches, body = _gallery()[name]
    model = build()
    model.train()
    opt = make_opt(model.parameters())
    schedule = optim.CosineLR(opt, total=steps)
    def step(*batch):
        return body(model, opt, *batch)

    step = tg.jit(step) if jit else step
    rng, results = np.random.default_rng(2), []
    for _ in range(steps):
        batch = batches(rng)
        out = step(*batch) if jit else step(*(tg.Tensor(b, dtype=b.dtype) for b in batch))
        results.append([float(t) for t in (out if isinstance(out, tuple) else (out,))])
        schedule.step()  # outside the step: the replay must read each step's learning rate
    return results, _state(model, opt), step


@pytest.mark.parametrize("name", ["mlp", "lenet", "lenet_batchnorm", "char_lm", "transformer", "lstm"])
def test_jitted_steps_equal_eager_steps_bit_for_bit(name):
    steps = 6
    eager_losses, eager_state, _ = _train(name, steps, jit=False)
    jit_losses, jit_state, jitted = _train(name, steps, jit=True)
    assert jitted.traces == 2, "the first two calls trace, the rest replay"
    assert jit_losses == eager_losses, f"{name}: losses differ"
    assert eager_state.keys() == jit_state.keys()
    for key in eager_state:
        assert np.array_equal(eager_state[key], jit_state[key]), f"{name}: {key} differs after {steps} steps"
    assert eager_losses[-1] != eager_losses[0]


def test_a_replay_sets_grad_exactly_as_eager_does():
    w = tg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    v = tg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)

    def f(x):
        ((x * w).sum() + (w * v).sum() * 2.0).backward()  # no zero_grad: .grad accumulates, as eager

    jitted = tg.jit(f)
    for i in range(4):
        jitted(np.full(3, float(i)))
    expected_w = sum(np.full(3, float(i)) for i in range(4)) + 4 * 2.0 * v.data
    np.testing.assert_allclose(w.grad.data, expected_w)
    np.testing.assert_allclose(v.grad.data, 4 * 2.0 * w.data)
    assert jitted.traces == 2


# ---- never silently stale -------------------------------------------------------------------------------------
def _linear_model():
    model = nn.Linear(4, 3, rng=np.random.default_rng(0))
    return model, np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32), np.array([0, 1, 2, 1, 0])


def test_a_schedulers_learning_rate_and_adams_step_count_are_read_at_replay():
    results = []
    for jit in (False, True):
        model, x, y = _linear_model()
        opt = optim.Adam(model.parameters(), lr=0.1)
        schedule = optim.StepLR(opt, step_size=2, gamma=0.1)

        def step(x, y):
            loss = model(x).cross_entropy(y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            schedule.step()  # inside the step: replayed too
            return loss

        step = tg.jit(step) if jit else step
        for i in range(7):
            step(x, y) if jit else step(tg.Tensor(x), y)
            if i == 4:
                opt.param_groups[0]["weight_decay"] = 0.5  # a group's hyperparameter, changed between calls
        results.append((model.weight.data.copy(), opt.state[0]["t"], opt.lr))
    (w_eager, t_eager, lr_eager), (w_jit, t_jit, lr_jit) = results
    assert t_jit == t_eager == 7 and lr_jit == lr_eager
    assert np.array_equal(w_eager, w_jit)


def test_train_and_eval_trace_again():
    model = nn.Sequential(nn.Linear(4, 8, rng=np.random.default_rng(0)), nn.BatchNorm1d(8), nn.Dropout(0.5),
                          nn.Linear(8, 2, rng=np.random.default_rng(1)))
    x = np.random.default_rng(2).standard_normal((6, 4)).astype(np.float32)
    forward = tg.jit(lambda x: model(x))
    with tg.no_grad():
        model.train()
        forward(x), forward(x)
        model.eval()
        outs = [forward(x).data for _ in range(3)]
        expected = model(tg.Tensor(x)).data
        model.train()
        trained = forward(x).data
    assert forward.traces == 4  # two for train, two for eval; back in train, the train program replays
    for out in outs:
        assert np.array_equal(out, expected), "eval mode must not replay the training program"
    assert not np.array_equal(trained, expected)


def test_dropout_draws_fresh_masks_on_every_replay_the_same_as_eager():
    def run(jit):
        layer = nn.Dropout(0.5, rng=np.random.default_rng(3))
        f = tg.jit(lambda x: layer(x) * 1.0) if jit else (lambda x: layer(tg.Tensor(x)) * 1.0)
        return [f(np.ones(20, np.float32)).data.copy() for _ in range(5)]

    eager, jitted = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, jitted, strict=True))
    assert len({m.tobytes() for m in jitted}) == 5, "each replay draws a new mask"


def test_tg_randn_inside_a_jitted_function_draws_again():
    f = tg.jit(lambda x: x + tg.randn(3))
    draws = [f(np.zeros(3, np.float32)).data.copy() for _ in range(4)]
    assert len({d.tobytes() for d in draws}) == 4


def test_a_new_batch_size_traces_again_and_the_cache_is_bounded():
    model, x, y = _linear_model()
    f = tg.jit(lambda x, y: model(x).cross_entropy(y), cache_size=2)
    with tg.no_grad():
        for n in (5, 5, 5, 3, 3, 3):
            out = f(x[:n], y[:n]).item()
            assert out == pytest.approx(model(tg.Tensor(x[:n])).cross_entropy(y[:n]).item(), rel=1e-6)
        assert f.traces == 4
        f(x[:2], y[:2]), f(x[:1], y[:1])  # two more signatures: the cache holds two, so 5 went
        before = f.traces
        f(x[:5], y[:5])
        assert f.traces == before + 1


def test_changes_made_between_calls_through_data_and_load_state_dict_are_seen():
    model, x, y = _linear_model()
    f = tg.jit(lambda x: model(x))
    with tg.no_grad():
        f(x), f(x), f(x)
        model.weight.data = np.zeros((3, 4), np.float32)  # a new array, not an in-place change
        assert np.array_equal(f(x).data, np.broadcast_to(model.bias.data, (5, 3)))
        state = {"weight": np.ones((3, 4), np.float32), "bias": np.full(3, 2.0, np.float32)}
        model.load_state_dict(state)
        np.testing.assert_allclose(f(x).data, x @ state["weight"].T + 2.0, rtol=1e-6)


def test_clip_grad_norm_scales_by_each_calls_own_norm():
    def run(jit):
        w = tg.Tensor(np.array([1.0, -2.0]), requires_grad=True)

        def step(x):
            (w * x).sum().backward()
            total = nn.utils.clip_grad_norm_([w], 1.0)
            grad = w.grad
            w.grad = None
            return total, grad

        step = tg.jit(step) if jit else step
        return [[t.data.copy() for t in step(np.array([3.0 * i, 4.0 * i]) if jit else tg.Tensor([3.0 * i, 4.0 * i],
                                                                                                dtype=np.float64))]
                for i in range(1, 6)]

    for (total_e, grad_e), (total_j, grad_j) in zip(run(False), run(True), strict=True):
        assert total_e == total_j and np.array_equal(grad_e, grad_j)
    assert run(True)[4][0] == 25.0


# ---- refusals, each naming the line ------------------------------------------------------------------------------
READS = {
    "item": lambda loss: loss.item(),
    "float": lambda loss: float(loss),
    "bool": lambda loss: bool(loss > 1.0),
    "if": lambda loss: 1 if loss > 1.0 else 0,
    "numpy": lambda loss: loss.numpy(),
    "asarray": lambda loss: np.asarray(loss),
    "data": lambda loss: loss.data,
}


@pytest.mark.parametrize("read", sorted(READS))
def test_reading_a_value_while_tracing_is_refused_naming_the_line(read):
    model, x, y = _linear_model()

    def step(x, y):
        loss = model(x).cross_entropy(y)
        READS[read](loss)
        return loss

    with pytest.raises(tg.JitError, match=r"test_jit\.py:\d+ \(READS\[read\]\(loss\)\)|test_jit\.py:\d+"):
        tg.jit(step)(x, y)


def test_updating_data_inside_is_refused_naming_the_line():
    w = tg.Tensor(np.ones(3), requires_grad=True)

    def manual_sgd(x):
        (w * x).sum().backward()
        w.data -= 0.1 * w.grad.data  # reads .data first: refused as a read

    def reassign(x):
        (w * x).sum().backward()
        w.data = np.zeros(3)

    with pytest.raises(tg.JitError, match=r"test_jit\.py:\d+ \(w\.data -= 0\.1 \* w\.grad\.data"):
        tg.jit(manual_sgd)(np.ones(3))
    assigned = r"\.data is assigned .* test_jit\.py:\d+ \(w\.data = np\.zeros\(3\)\).* optimizer"
    with pytest.raises(tg.JitError, match=assigned):
        tg.jit(reassign)(np.ones(3))


def test_create_graph_and_retain_grad_are_refused():
    w = tg.Tensor(np.ones(3), requires_grad=True)

    def higher(x):
        (w * x).sum().backward(create_graph=True)

    def retained(x):
        h = w * x
        h.retain_grad()
        h.sum().backward()

    with pytest.raises(tg.JitError, match="create_graph"):
        tg.jit(higher)(np.ones(3))
    with pytest.raises(tg.JitError, match="retain_grad"):
        tg.jit(retained)(np.ones(3))


def test_a_tensor_made_from_numpy_that_changes_between_calls_is_refused():
    rng = np.random.default_rng(0)

    def noisy(x):
        return x + tg.Tensor(rng.standard_normal(3))  # NumPy's draw: jit cannot see it, so it would freeze

    with pytest.raises(tg.JitError, match=r"standard_normal\(\) gives a new value on each call.*test_jit\.py:\d+"):
        tg.jit(noisy)(np.zeros(3))


def test_randomness_read_inside_the_standard_library_is_refused_naming_the_line():
    import uuid

    def counting(x):  # uuid4 reads the system's randomness (os.urandom) inside the standard library
        return x + tg.Tensor(np.full(3, float(uuid.uuid4().int % 1000003)))

    # (uuid is one of the modules whose calls are refused at the call: uuid1 reads the clock, uuid4 os.urandom)
    with pytest.raises(tg.JitError, match=r"uuid4\(\) gives a new value on each call.*test_jit\.py:\d+"):
        tg.jit(counting)(np.zeros(3))


def test_a_tensor_made_from_a_value_jit_cannot_follow_that_changes_between_calls_is_refused():
    import sys

    anchor, holders = object(), []

    def counting(x):  # a reference count: state of the interpreter's (C) that no guard holds
        return x + tg.Tensor(np.full(3, float(sys.getrefcount(anchor))))

    f = tg.jit(counting)
    f(np.zeros(3))
    holders.append(anchor)  # one more reference: the second trace reads a different count
    with pytest.raises(tg.JitError, match=r"different values on two calls"):
        f(np.zeros(3))


def test_control_flow_on_a_list_the_function_changes_traces_every_call_and_stays_right():
    calls = []

    def flaky(x):
        calls.append(1)
        return x * 2.0 if len(calls) % 2 else x.exp()

    f = tg.jit(flaky)
    outs = [f(np.zeros(3)).data.tolist() for _ in range(4)]
    assert outs == [[0.0] * 3, [1.0] * 3, [0.0] * 3, [1.0] * 3]  # what eager gives: the list is read each call
    assert f.traces == 4 and len(calls) == 4


def test_control_flow_jit_cannot_see_is_refused_when_the_two_traces_differ():
    import sys

    anchor, holders = object(), []

    def flaky(x):  # a coin jit cannot see (a reference count: C state of the interpreter's, no guard holds it)
        return x * 2.0 if sys.getrefcount(anchor) > 500 else x.exp()

    f = tg.jit(flaky)
    f(np.zeros(3))
    holders.extend([anchor] * 1000)
    with pytest.raises(tg.JitError, match="did different things on two calls"):
        f(np.zeros(3))


def test_python_side_effects_on_a_value_the_function_reads_make_every_call_trace():
    counts = {"calls": 0}

    def step(x):
        counts["calls"] += 1  # read, then changed: no replay could be right
        return x * 2.0

    f = tg.jit(step)
    for _ in range(5):
        f(np.ones(2))
    assert counts["calls"] == 5 and f.traces == 5
    with pytest.warns(UserWarning, match=r"traced again on 8 calls in a row.*the item \['calls'\]"):
        for _ in range(5):
            f(np.ones(2))


def test_a_list_the_function_only_appends_to_is_appended_to_by_each_replay():
    seen = []
    f = tg.jit(lambda x: seen.append(1) or x * 2.0)
    for _ in range(5):
        f(np.ones(2))
    assert len(seen) == 5 and f.traces == 2  # the append is made again by each replay


def test_python_side_effects_on_values_the_function_does_not_read_run_only_while_tracing():
    log = {"calls": 0}

    def step(x):
        print("tracing")  # output, not state: nothing the step reads changes
        return x * 2.0

    f = tg.jit(step)
    for _ in range(5):
        f(np.ones(2))
    assert f.traces == 2 and log["calls"] == 0


def test_results_are_fresh_tensors_on_every_call():
    f = tg.jit(lambda x: x * 2.0)
    outs = [f(np.full(2, float(i))) for i in range(4)]
    assert [o.data.tolist() for o in outs] == [[0, 0], [2, 2], [4, 4], [6, 6]]
    assert len({id(o.data) for o in outs}) == 4


def test_the_program_reads_as_forward_then_backward_then_update():
    import mnist_dnn

    model = mnist_dnn.MLP(16, rng=np.random.default_rng(0))
    opt = optim.SGD(model.parameters(), lr=0.1)

    @tg.jit
    def step(x, y):
        loss = model(x).cross_entropy(y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    x, y = np.zeros((4, 784), np.float32), np.array([1, 2, 3, 4])
    step(x, y), step(x, y)
    text = step.program(names=model)
    forward, backward = text.split("# forward")[1].split("# backward")
    ops = [line.split(" = ")[1].split("(")[0] for line in forward.strip().splitlines() if line.startswith("v")]
    assert ops == ["matmul", "add", "relu", "matmul", "add", "cross_entropy"], text
    rules = [line.split("= ")[1].split("(")[0] for line in backward.splitlines()
             if line.startswith("d") and ".backward(" in line]
    assert rules == ["cross_entropy.backward", "add.backward", "matmul.backward", "relu.backward", "add.backward",
                     "matmul.backward"], text
    assert "dW1 = matmul.backward(dv3, v3, v0, W1)   # dW1 = v0ᵀ @ dv3" in text  # x needs none: only W1's
    assert "dv5 = relu.backward(dv6, v6, v5)   # dv5 = dv6 * [v5 > 0]" in text  # each rule with its derivative
    assert text.index("W1.grad += dW1") < text.index("SGD.step()") < text.index("SGD.zero_grad()")
    assert text.splitlines()[0] == ("# step, as each replay runs it: 6 ops forward; once backward (6 rules); then "
                                    "SGD.step and SGD.zero_grad, called again")
    assert "v3 = matmul(v0, W1)   # (4, 16) float32" in text and "(4, 10) float32" in text


def test_the_program_of_an_unrolled_rnn_shows_each_reused_weights_gradient_accumulating():
    rng = np.random.default_rng(0)
    W_xh = tg.Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    W_hh = tg.Tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)

    @tg.jit
    def step(xs):
        h = tg.zeros((1, 3))
        for t in range(3):
            h = (xs[t] @ W_xh + h @ W_hh).tanh()
        loss = h.sum()
        loss.backward()
        return loss

    for _ in range(3):
        step(np.ones((3, 1, 2), np.float32))
    text = step.program(names={"W_xh": W_xh, "W_hh": W_hh})
    backward = text.split("# backward")[1].splitlines()
    for name in ("W_hh", "W_xh"):
        first = [line for line in backward if f"d{name} = " in line.split("#")[0] or f", d{name} =" in line]
        added = [line for line in backward if line.startswith(f"d{name} += ")]
        assert len(first) == 1 and len(added) == 2, text  # three uses: one gradient, then two added to it
    assert "dW_xh += matmul.backward(dv3, v3, v1, W_xh)   # dW_xh += v1ᵀ @ dv3" in text
    assert "v4 = a constant, made from Python values the guards hold" in text  # tg.zeros, not a tensor read


def test_a_jitted_function_called_inside_another_is_traced_as_part_of_it():
    inner = tg.jit(lambda x: x * 3.0)
    outer = tg.jit(lambda x: inner(x) + 1.0)
    results = [outer(np.full(2, float(i))).data.tolist() for i in range(4)]
    assert results == [[1.0, 1.0], [4.0, 4.0], [7.0, 7.0], [10.0, 10.0]]
    assert inner.traces == 0 and outer.traces == 2


def test_a_jitted_function_is_usable_as_a_decorator_with_options_and_checks_them():
    @tg.jit(cache_size=1)
    def double(x):
        return x * 2.0

    assert double(np.ones(2)).data.tolist() == [2.0, 2.0] and double.__name__ == "double"
    with pytest.raises(ValueError, match="cache_size"):
        tg.jit(lambda x: x, cache_size=0)
    with pytest.raises(tg.JitError, match="argument 1 is a set"):
        double(np.ones(2), {1, 2})


def test_how_it_works_shows_the_program_the_jit_prints_today():
    import contextlib
    import io
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "how_it_works.md").read_text()
    section = text[text.index("## Replaying a step: tg.jit"):]
    block = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "how_it_works.md", "exec"), {})
    quoted = section[section.index("```\n# step") + 4:]
    quoted = quoted[:quoted.index("```")]
    assert quoted == printed.getvalue(), "docs/how_it_works.md's program is stale: regenerate it from its block"


def test_replacing_a_layer_or_changing_its_settings_traces_again():
    model = nn.Sequential(nn.Linear(4, 3, rng=np.random.default_rng(0)), nn.Dropout(0.0))
    f = tg.jit(lambda x: model(x))
    x = np.ones((2, 4), np.float32)
    with tg.no_grad():
        f(x), f(x), f(x)
        assert f.traces == 2
        model.layers[0] = nn.Linear(4, 3, rng=np.random.default_rng(1))  # a new layer in the same list
        np.testing.assert_array_equal(f(x).data, model(tg.Tensor(x)).data)
        model.layers[1].p = 1.0  # dropout now drops everything
        assert np.array_equal(f(x).data, np.zeros((2, 3))) and f.traces == 4


def test_a_new_optimizer_or_a_changed_global_number_the_function_uses_traces_again():
    global SCALE
    SCALE = 2.0
    w = tg.Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def step(x):
        (w * x * SCALE).sum().backward()
        opt.step()
        opt.zero_grad()

    f = tg.jit(step)
    for _ in range(3):
        f(np.ones(2))
    np.testing.assert_allclose(w.data, 1 - 3 * 0.1 * 2.0)
    SCALE = 10.0
    f(np.ones(2))
    np.testing.assert_allclose(w.data, 1 - 3 * 0.1 * 2.0 - 0.1 * 10.0)
    opt = optim.SGD([w], lr=1.0)  # noqa: F841  (rebinds the name step closes over)
    f(np.ones(2))
    np.testing.assert_allclose(w.data, 1 - 3 * 0.1 * 2.0 - 0.1 * 10.0 - 1.0 * 10.0)


ROWS = [0, 2]


def test_a_list_used_as_an_index_is_read_at_each_replay():
    f = tg.jit(lambda x: x[ROWS] * 1.0)
    x = np.arange(8.0).reshape(4, 2)
    f(x), f(x), f(x)
    ROWS[:] = [1, 3]  # changed in place: the same list object, so no guard sees it; the replay must
    np.testing.assert_array_equal(f(x).data, x[[1, 3]])
    assert f.traces == 2
