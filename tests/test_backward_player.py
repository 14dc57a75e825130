"""viz.play_backward: the page, driven in a real headless Chromium with every network request refused.

The browser is Debian's chromium (.ci/run installs it, as it does graphviz), driven by Playwright from the dev
extra. These tests skip, saying why, only where no browser can be had.
"""
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
    for fetches in ("src=", "href=", "fetch(", "XMLHttpRequest", "import(", "@import", "url("):
        assert fetches not in player.html, f"the page would load something: {fetches}"
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
