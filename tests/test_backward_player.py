"""viz.play_backward: the page, driven in a real headless Chromium with every network request refused.

The browser is Debian's chromium (.ci/run installs it, as it does graphviz), driven by Playwright from the dev
extra. These tests skip, saying why, only where no browser can be had.
"""
import re
import shutil

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip install -e '.[dev]')")
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine: apt-get install chromium (as .ci/run does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """Save a player and open it; every request but the page's own file is refused and counted."""
    opened = []

    def open_player(player):
        path = player.save(tmp_path / "backward.html")
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        refused, errors = [], []
        url = path.as_uri()

        def route(r):
            if r.request.url == url:
                r.continue_()
            else:
                refused.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        opened.append((page, refused, errors))
        return page

    yield open_player
    for page, refused, errors in opened:
        assert refused == [], f"the page asked the network for {refused}"
        assert errors == [], f"the page's script failed: {errors}"
        page.close()


def small_mlp():
    """A two-layer net whose hidden activation is used three times, so its gradient is a sum of three."""
    rng = np.random.default_rng(0)
    W1 = tg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b1 = tg.Tensor(np.zeros(3), requires_grad=True)
    W2 = tg.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    x = tg.Tensor(rng.standard_normal((5, 4)))
    h = (x @ W1 + b1).relu()
    loss = (h @ W2).cross_entropy(np.array([0, 1, 1, 0, 1])) + (h * h).mean()
    return loss, {W1: "W1", b1: "b1", W2: "W2", x: "x"}


def engine_gradients(loss, names):
    params = [t for t in names if t.requires_grad]
    return {names[t]: g.data for t, g in zip(params, tg.grad(loss, params, retain_graph=True), strict=True)}


def order_of_ops(loss):
    with tg.trace(quiet=True) as t:
        tg.grad(loss, [p for p in tg.viz.walk(loss)[0] if p.is_leaf and p.requires_grad], retain_graph=True)
    return [s["op"] for s in t.steps]


@pytest.mark.slow
def test_stepping_with_the_keyboard_follows_the_engines_order_and_ends_at_its_gradients(open_page):
    loss, names = small_mlp()
    expected_order = order_of_ops(loss)
    expected = engine_gradients(loss, names)
    page = open_page(tg.viz.play_backward(loss, names=names))
    player = "window.backwardPlayer"
    assert page.evaluate(f"{player}.steps") == len(expected_order) == 9
    assert page.evaluate(f"{player}.position") == 0 and page.evaluate(f"{player}.grads()") == {}
    seen, sums = [], []
    for k in range(1, len(expected_order) + 1):
        page.keyboard.press("ArrowRight")
        assert page.evaluate(f"{player}.position") == k
        status = page.inner_text("#status")
        seen.append(status.split(": ", 1)[1])
        sums += [text for text in page.locator(".node .grad").all_text_contents() if " of " in text]
    assert seen == expected_order
    assert any("(2 of 3)" in s for s in sums) and any("(3 of 3)" in s for s in sums)  # h's sum building up
    grads = page.evaluate(f"{player}.grads()")
    assert set(grads) == {"W1", "b1", "W2"}  # x needs no gradient, so it never receives one
    for name, g in expected.items():
        np.testing.assert_allclose(np.array(grads[name]), g, rtol=1e-6, atol=1e-9, err_msg=name)
    page.keyboard.press("ArrowRight")  # past the end: stays at the end
    assert page.evaluate(f"{player}.position") == len(expected_order)


@pytest.mark.slow
def test_the_buttons_and_the_slider_step_back_and_forth_and_reset(open_page):
    loss, names = small_mlp()
    page = open_page(tg.viz.play_backward(loss, names=names))
    player = "window.backwardPlayer"
    for _ in range(6):  # the sixth step is the matmul by W2
        page.get_by_role("button", name="Next").click()
    at_six = page.evaluate(f"{player}.grads()")
    assert page.evaluate(f"{player}.position") == 6 and set(at_six) == {"W2"}
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Previous").click()
    assert page.evaluate(f"{player}.position") == 6 and page.evaluate(f"{player}.grads()") == at_six
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(f"{player}.position") == 5 and page.evaluate(f"{player}.grads()") == {}
    page.locator("#slider").fill("7")
    assert page.evaluate(f"{player}.position") == 7
    page.get_by_role("button", name="Reset").click()
    assert page.evaluate(f"{player}.position") == 0 and page.evaluate(f"{player}.grads()") == {}
    page.evaluate(f"{player}.next()")
    assert page.evaluate(f"{player}.position") == 1
    assert "dL/d" in page.inner_text("#panel")  # the op's rule, from its docstring


@pytest.mark.slow
def test_large_gradients_show_shape_norm_and_a_heat_map_and_the_mnist_mlp_plays(open_page):
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Linear(784, 128, rng=rng), nn.ReLU(), nn.Linear(128, 10, rng=rng))
    x = tg.Tensor(rng.standard_normal((32, 784)).astype(np.float32))
    loss = model(x).cross_entropy(rng.integers(0, 10, 32))
    expected = {name: p for name, p in model.named_parameters()}
    page = open_page(tg.viz.play_backward(loss, names=model))
    steps = page.evaluate("window.backwardPlayer.steps")
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    assert page.locator("#panel svg rect").count() > 0  # the heat map of a large gradient
    grads = page.evaluate("window.backwardPlayer.grads()")
    reference = dict(zip(expected, tg.grad(loss, list(expected.values())), strict=True))
    for name, g in reference.items():
        np.testing.assert_allclose(np.array(grads[name]), g.data, rtol=2e-5, atol=1e-7, err_msg=name)


def test_a_graph_of_thousands_of_ops_says_why_it_will_not_play():
    x = tg.Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(1000):
        y = y * 1.001
    with pytest.raises(ValueError, match=r"play_backward: the graph has 2002 tensors and the player lays out at most "
                                         r"600"):
        tg.viz.play_backward(y.sum())


def test_in_jupyter_the_page_shows_inline_in_a_sandboxed_frame_and_names_can_be_a_module():
    model = nn.Linear(3, 2)
    loss = model(tg.Tensor(np.ones((1, 3), np.float32))).sum()
    player = tg.viz.play_backward(loss, names=model)
    frame = player._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    assert "window.backwardPlayer" in player.html
    for fetches in ("src=", "href=", "fetch(", "XMLHttpRequest", "import(", "@import"):
        assert fetches not in player.html, f"the page would load something: {fetches}"
    assert not re.search(r"url\((?!#)", player.html), "the page would load something: url(...) of a file"
    assert set(player.data["named"]) == {"weight", "bias"}
    assert model.weight.grad is None  # the player's backward pass leaves .grad alone


@pytest.mark.slow
def test_lenet_plays_smoothly_and_ends_at_the_engines_gradients(open_page):
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from mnist_cnn import lenet5

    rng = np.random.default_rng(2)
    model = lenet5(rng)
    x = tg.Tensor(rng.standard_normal((8, 1, 28, 28)).astype(np.float32))
    loss = model(x).cross_entropy(rng.integers(0, 10, 8))
    page = open_page(tg.viz.play_backward(loss, names=model))
    steps = page.evaluate("window.backwardPlayer.steps")
    start = time.perf_counter()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    per_step = (time.perf_counter() - start) / steps
    assert per_step < 0.25, f"{per_step:.3f} s a step"  # each step redraws in a few milliseconds here
    grads = page.evaluate("window.backwardPlayer.grads()")
    params = dict(model.named_parameters())
    for name, g in zip(params, tg.grad(loss, list(params.values())), strict=True):
        np.testing.assert_allclose(np.array(grads[name]), g.data, rtol=2e-5, atol=1e-6, err_msg=name)


# ---- what a student sees ------------------------------------------------------------------------------
def micrograd_neuron():
    """The neuron of micrograd's lecture: o = tanh(x1 w1 + x2 w2 + b), where do/dx1 = w1 (1 - o²) = -1.5."""
    t = lambda v: tg.Tensor(v, requires_grad=True, dtype=np.float64)  # noqa: E731
    x1, x2, w1, w2, b = t(2.0), t(0.0), t(-3.0), t(1.0), t(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    return o, {x1: "x1", x2: "x2", w1: "w1", w2: "w2", b: "b"}


def micrograd_expression():
    """micrograd's README expression, on tensors."""
    a, b = tg.Tensor(-4.0, requires_grad=True, dtype=np.float64), tg.Tensor(2.0, requires_grad=True, dtype=np.float64)
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    return g, {a: "a", b: "b"}


def node_text(page, label):
    """The texts of the node whose title is ``label``, as the page draws them."""
    return page.evaluate("""label => {
        const g = [...document.querySelectorAll('.node')]
            .find(n => n.querySelector('text.title').textContent === label);
        return [...g.querySelectorAll('text')].map(t => [t.textContent, t.getAttribute('class')]);
    }""", label)


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_nodes_show_their_value_and_their_signed_gradient_and_rules_show_the_steps_numbers(open_page):
    o, names = micrograd_neuron()
    page = open_page(tg.viz.play_backward(o, names=names))
    numbers = []
    for _ in range(page.evaluate("window.backwardPlayer.steps")):
        page.keyboard.press("ArrowRight")
        if page.locator("#numbers").count():
            numbers.append(page.inner_text("#numbers"))
    texts = dict((text.split(" ")[0], (text, cls)) for text, cls in node_text(page, "x1"))
    assert texts["data"][0] == "data 2" and texts["grad"][0] == "grad -1.5" and "neg" in texts["grad"][1]
    assert dict((t.split(" ")[0], t) for t, _ in node_text(page, "w1"))["grad"] == "grad 1"
    assert dict((t.split(" ")[0], t) for t, _ in node_text(page, "x2"))["grad"] == "grad 0.5"
    step_panel = page.inner_text("#step")
    page.locator(".node", has_text="x1").first.click()  # its numbers below, the step's panel left as it was
    assert "Selected: x1" in page.inner_text("#selected") and page.inner_text("#step") == step_panel
    # micrograd's own worked numbers: tanh passes 1 · (1 - o²) = 0.5, and x1 gets 0.5 · w1 = -1.5
    assert any("dL/dx = 1 * (1 - 0.7071²) = 0.5" in n for n in numbers), numbers
    assert any("dL/dx = 0.5 * (-3) = (-1.5)" in n for n in numbers), numbers


def test_every_step_of_an_nn_linear_mlp_shows_a_rule_without_markup(open_page):
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(4, 5, rng=rng), nn.ReLU(), nn.Linear(5, 3, rng=rng))
    loss = model(tg.Tensor(rng.standard_normal((6, 4)).astype(np.float32))).cross_entropy(rng.integers(0, 3, 6))
    page = open_page(tg.viz.play_backward(loss, names=model))
    rules = []
    for _ in range(page.evaluate("window.backwardPlayer.steps")):
        page.keyboard.press("ArrowRight")
        rules.append((page.inner_text("#status").split(": ", 1)[1], page.inner_text("#rule")))
        assert "dL/d" in rules[-1][1] and "`" not in rules[-1][1], rules[-1]
    linear = [rule for op, rule in rules if op == "linear"]
    assert len(linear) == 2 and all("dL/dw = Gᵀ @ X" in rule and "G (n, out)" in rule for rule in linear)


def current_box_in_view(page):
    return page.evaluate("""() => {
        const i = window.backwardPlayer.current();
        const g = document.querySelectorAll('.node')[i].querySelector('rect.box').getBoundingClientRect();
        const panel = document.getElementById('graph').getBoundingClientRect();
        return g.left >= panel.left && g.right <= panel.right && g.top >= panel.top && g.bottom <= panel.bottom
            && g.right <= window.innerWidth && g.bottom <= window.innerHeight && g.width > 20;
    }""")


def rnn_unrolled(steps=6):
    rng = np.random.default_rng(5)
    cell = nn.RNNCell(3, 4, rng=rng)
    xs = tg.Tensor(rng.standard_normal((steps, 2, 3)).astype(np.float32))

    def loss():
        h = None
        for t in range(steps):
            h = cell(xs[t], h)
        return (h * h).mean()

    return loss, cell


@pytest.mark.parametrize("graph", ["micrograd", "lenet", "rnn"])
@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_the_current_op_stays_in_view_at_every_step(browser, tmp_path, graph):
    import sys
    from pathlib import Path

    if graph == "micrograd":
        player = tg.viz.play_backward(*micrograd_expression())
    elif graph == "lenet":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
        from mnist_cnn import lenet5

        rng = np.random.default_rng(2)
        model = lenet5(rng)
        x = tg.Tensor(rng.standard_normal((4, 1, 28, 28)).astype(np.float32))
        player = tg.viz.play_backward(model(x).cross_entropy(rng.integers(0, 10, 4)), names=model)
    else:
        loss, cell = rnn_unrolled()
        player = tg.viz.play_backward(loss, names=cell)
    page = browser.new_page(viewport={"width": 1400, "height": 850})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(player.save(tmp_path / "page.html").as_uri())
    out_of_view = []
    for k in range(1, page.evaluate("window.backwardPlayer.steps") + 1):
        page.keyboard.press("ArrowRight")
        if not current_box_in_view(page):
            out_of_view.append(k)
    page.close()
    assert out_of_view == [], f"{graph}: the current op was out of view at steps {out_of_view}"


def test_a_conv_is_one_node_and_an_rnn_is_laid_out_by_time_step_grouped_by_module():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from mnist_cnn import lenet5

    rng = np.random.default_rng(2)
    model = lenet5(rng)
    x = tg.Tensor(rng.standard_normal((4, 1, 28, 28)).astype(np.float32))
    data = tg.viz.play_backward(model(x).cross_entropy(rng.integers(0, 10, 4)), names=model).data
    convs = [n for n in data["nodes"] if n["op"] == "conv2d"]
    assert len(convs) == 2 and not any(n["op"] in ("unfold", "matmul") for n in data["nodes"])
    assert [s["op"] for s in data["steps"]].count("conv2d") == 2
    kernels = next(n for n in data["nodes"] if n["name"] == "0.weight")["value"]
    assert (len(kernels["tiles"]), len(kernels["tiles"][0]), len(kernels["tiles"][0][0])) == (6, 1, 5)  # 6x1 5x5

    loss, cell = rnn_unrolled(steps=3)
    data = tg.viz.play_backward(loss, names=cell).data
    assert data["timeSteps"]["count"] == 3
    for group in data["groups"]:  # each call's ops, in its own time step's column
        steps = {data["timeSteps"]["of"][i] for i in group["units"] if data["nodes"][i]["op"]}
        assert len(steps) == 1, group
    assert len({len(g["units"]) for g in data["groups"][1:]}) == 1  # every call after the first alike
    assert [g["label"] for g in data["groups"]] == ["RNNCell, call 1", "RNNCell, call 2", "RNNCell, call 3"]
    hh = [p for s in data["steps"] for p in s["passes"] if data["nodes"][p["node"]]["name"] == "weight_hh"]
    assert [p["count"] for p in hh] == [1, 2, 3] and {p["of"] for p in hh} == {3}  # "3 of 3": summed over time


def test_hostile_labels_stay_text_and_run_no_script(open_page):
    class Shout(tg.Function):
        """z = 2x.   dL/dx = 2 dL/dz."""

        name = '<img src=x onerror="window.pwned = 1">'

        def forward(self, x):
            return 2 * x

        def backward(self, dz, z, x):
            return 2 * dz

    x = tg.Tensor(np.ones(3), requires_grad=True)
    loss = Shout.apply(x * 3).sum()
    names = {x: "<!--<script>"}
    player = tg.viz.play_backward(loss, names=names)
    assert "<!--<script>" not in player.html.split("const DATA = ", 1)[1].split("</script>", 1)[0]
    page = open_page(player)
    shown = []
    for _ in range(page.evaluate("window.backwardPlayer.steps")):
        page.keyboard.press("ArrowRight")
        page.mouse.move(400, 300)  # over the graph: tooltips too
        shown.append(page.inner_text("#status"))
    assert page.evaluate("window.pwned") is None
    assert f"step 2 of 3: {Shout.name}" in shown  # the name, as text
    assert "<!--<script>" in page.evaluate("[...document.querySelectorAll('.node text.title')].map(t => "
                                           "t.textContent).join(' ')")


def test_every_ops_rule_is_read_from_its_docstring_without_markup():
    from tinygrad_np import ops
    from tinygrad_np.see.op_rules import rule_of, with_numbers

    for name in ops.__all__:
        rule = rule_of(getattr(ops, name))
        assert rule["statements"], name
        assert all(s.startswith("dL/d") for s in rule["statements"]), (name, rule)
        assert "`" not in str(rule), (name, rule)
    matmul = rule_of(ops.MatMul)
    assert matmul["context"] == "For matrices:" and matmul["statements"] == ["dL/dx = dL/dz @ yᵀ", "dL/dy = xᵀ @ dL/dz"]
    assert rule_of(ops.Linear)["statements"] == ["dL/dx = G @ w", "dL/dw = Gᵀ @ X", "dL/db = G summed over the rows"]
    assert "fold(dL/dz)" in rule_of(ops.Unfold)["statements"][0]
    assert with_numbers("dL/dx = dL/dz @ yᵀ", {"dL/dz": np.array([[1.0, 2.0]]), "y": np.array([[3.0, 4.0]])},
                        np.array([[11.0]])) == "dL/dx = [[1, 2]] @ [[3], [4]] = [[11]]"
    assert with_numbers("dL/dx = dL/dz * y", {"dL/dz": np.ones(40), "y": np.ones(40)}, np.ones(40)) is None
