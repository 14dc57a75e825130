"""Photos of handwriting as strangers hand them over (issue 28): any page, blank ones and several digits included.

The photo sets are made in tests/photo_sets.py; held_out_2 and held_out_3 were never tuned against (held_out was
looked at while the first pipeline was debugged, and the second round of tuning used phone, dev and sklearn).
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_np.data import digits_in_mnist_layout, load_mnist, to_mnist_layout

sys.path.insert(0, str(Path(__file__).resolve().parent))
import photo_sets  # noqa: E402  (beside this file)

ROOT = Path(__file__).resolve().parents[1]
REAL = os.environ.get("TINYGRAD_NP_DATA")
needs_real_data = pytest.mark.skipif(not REAL, reason="TINYGRAD_NP_DATA is not set")


def mnist_test():
    """MNIST's test digits and labels: the real ones when TINYGRAD_NP_DATA is set, else the bundled sample."""
    if REAL:
        return load_mnist(REAL)[2:]
    sample = np.load(ROOT / "tinygrad_np/data/mnist_sample.npz")
    return sample["x_test"], sample["y_test"]


def predict_module():
    import importlib.util

    sys.path.insert(0, str(ROOT / "examples"))
    spec = importlib.util.spec_from_file_location("predict", ROOT / "examples" / "predict.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- what the page holds: none, one, several ----------------------------------------------------------------------
@pytest.mark.parametrize("make", [photo_sets.held_out_photo, photo_sets.dev_photo, photo_sets.phone_photo])
@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_a_blank_page_has_no_digit_and_to_mnist_layout_says_so(make):
    """Grain, gradients, shadow bands, a desk in the corners: no ink, no digit. Before: "8 (89%)"."""
    rng = np.random.default_rng(3)
    for _ in range(4):
        page = np.asarray(make([], rng))
        assert digits_in_mnist_layout(page) == []
        with pytest.raises(ValueError, match="no digit found"):
            to_mnist_layout(page)


def test_a_near_blank_page_with_a_speck_has_no_digit():
    page = np.full((300, 400), 230, np.uint8)
    page[150:153, 200:203] = 40  # a speck of dust, a full stop
    assert digits_in_mnist_layout(page) == []


@pytest.mark.parametrize("make", [photo_sets.held_out_photo, photo_sets.dev_photo])
@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_two_digits_are_found_left_to_right_and_to_mnist_layout_refuses_them_saying_how_many(make):
    x, y = mnist_test()
    seven, zero = x[np.nonzero(y == 7)[0][0]], x[np.nonzero(y == 0)[0][0]]
    page = np.asarray(make([seven, zero], np.random.default_rng(4)))
    layouts = digits_in_mnist_layout(page)
    assert len(layouts) == 2 and all(layout.shape == (28, 28) for layout in layouts)
    # left to right: the 7 (ink in its upper half) before the 0 (a ring, ink on both sides of its middle row)
    assert np.corrcoef(layouts[0].ravel(), to_mnist_layout(seven).ravel())[0, 1] > 0.5
    assert np.corrcoef(layouts[1].ravel(), to_mnist_layout(zero).ravel())[0, 1] > 0.5
    with pytest.raises(ValueError, match="found 2 digits side by side, and to_mnist_layout lays out one; "
                                         "digits_in_mnist_layout gives each, left to right"):
        to_mnist_layout(page)


def test_a_thin_pen_reaches_mnists_stroke_width():
    """A 1 px line on pages of three sizes: MNIST's strokes are 2 to 3.5 px wide (25th to 75th percentile),
    and so is the layout's. Before: the 28x28 image showed a faint hairline."""
    from skimage.draw import line
    from test_predict import stroke_width_of

    for size in (100, 300, 600):
        page = np.zeros((size, size))
        for r0, c0, r1, c1 in [(0.15, 0.5, 0.85, 0.5), (0.15, 0.5, 0.3, 0.4)]:  # a "1" with its flag
            rows, cols = line(*[int(v * (size - 1)) for v in (r0, c0, r1, c1)])
            page[rows, cols] = 1.0
        out = to_mnist_layout(1.0 - page)
        assert 2.0 <= stroke_width_of(out) <= 4.0, (size, stroke_width_of(out))


def test_polarity_comes_from_the_ink_not_the_border():
    """An MNIST digit laid dark on paper whose border is a dark desk (before: read as light ink, and wrong) and
    a light digit on a black drawing whose digit runs off its canvas: each laid out light on black."""
    x, _ = mnist_test()
    digit = x[0].astype(np.float64) / 255
    page = np.full((200, 200), 0.85)
    page[60:144, 58:142] = 0.85 * (1 - np.kron(digit, np.ones((3, 3))))
    page[:12], page[-12:], page[:, :12], page[:, -12:] = 0.15, 0.15, 0.15, 0.15  # a dark frame: the desk
    rng = np.random.default_rng(0)
    page = np.clip(page + rng.normal(0, 0.01, page.shape), 0, 1)
    out = to_mnist_layout(page)
    assert np.corrcoef(out.ravel(), to_mnist_layout(x[0]).ravel())[0, 1] > 0.8
    cut = np.zeros((28, 28))
    cut[:, 10:18] = 1.0  # a bar from edge to edge of a black canvas
    assert to_mnist_layout(cut)[14, 14] > 0.5


def test_a_tilted_page_on_a_desk_is_deskewed_and_its_box_found():
    from skimage.transform import rotate

    from tinygrad_np.data import page as page_module

    x, _ = mnist_test()
    page = np.full((300, 400), 0.9)
    page[100:184, 150:234] = 0.9 * (1 - np.kron(x[0] / 255, np.ones((3, 3))))
    inside = rotate(np.ones_like(page), 6.0, order=1)
    photo = inside * rotate(page, 6.0, order=1, mode="edge") + (1 - inside) * 0.15
    assert abs(page_module.page_tilt(page_module.Page(photo)) - 6.0) < 1.0
    (digit,) = page_module.find_digits(photo)
    top, left, bottom, right = digit.box
    assert 80 <= top and bottom <= 210 and 120 <= left and right <= 260, digit.box
    straight = to_mnist_layout(page)
    assert np.corrcoef(to_mnist_layout(photo).ravel(), straight.ravel())[0, 1] > 0.9


def test_the_package_imports_with_numpy_alone_and_a_layout_names_the_extra_to_install():
    code = ("import sys; sys.modules['skimage'] = None; sys.modules['scipy'] = None\n"
            "import numpy as np, tinygrad_np, tinygrad_np.data, tinygrad_np.nn\n"
            "assert not any(m.split('.')[0] in ('skimage', 'scipy', 'matplotlib') for m in sys.modules "
            "if sys.modules[m] is not None)\n"
            "from tinygrad_np.data import to_mnist_layout\n"
            "try:\n    to_mnist_layout(np.zeros((8, 8)))\nexcept ModuleNotFoundError as err:\n    print(err)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "needs scikit-image: pip install scikit-image (or pip install -e \".[examples]\")" in result.stdout


def test_held_out_2_is_frozen():
    """held_out_2 was written before the second round of tuning and its images never looked at while tuning:
    its code and seed are fixed, and this digest says so. Changing them makes a new held-out set, to be
    measured once and reported as such, never an edit of this one."""
    import hashlib
    import inspect

    code = "".join(inspect.getsource(f) for f in (photo_sets._smooth_noise, photo_sets._another_hand,
                                                   photo_sets._ballpoint, photo_sets.held_out_2_photo))
    code += repr((photo_sets.SEEDS["held_out_2"], photo_sets.SET_SIZE))
    assert hashlib.sha256(code.encode()).hexdigest()[:16] == HELD_OUT_2_DIGEST


HELD_OUT_2_DIGEST = "7830769ad01dba3f"


def test_held_out_3_is_frozen():
    """held_out_3 was written and frozen before the CNN these tests train was changed (2026-12-08), and measured
    once after: its code (and the drawing helpers it calls), its seed and size are fixed by this digest."""
    import hashlib
    import inspect

    code = "".join(inspect.getsource(f) for f in (photo_sets._digit_box, photo_sets._resize, photo_sets._to_image,
                                                   photo_sets.held_out_3_photo))
    code += repr((photo_sets.SEEDS["held_out_3"], photo_sets.SET_SIZE))
    assert hashlib.sha256(code.encode()).hexdigest()[:16] == HELD_OUT_3_DIGEST


HELD_OUT_3_DIGEST = "6e1a56b565554add"


# ---- predict.py on pages ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def untrained_lenet(tmp_path_factory):
    """An untrained LeNet saved as mnist_cnn.py saves one: predict.py reads it, unsure of everything."""
    sys.path.insert(0, str(ROOT / "examples"))
    import mnist_cnn

    out = tmp_path_factory.mktemp("lenet")
    mnist_cnn.save_model(mnist_cnn.lenet5(np.random.default_rng(0)), str(out))
    return out / "model.npz"


def run_predict(*args):
    return subprocess.run([sys.executable, str(ROOT / "examples" / "predict.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, MPLBACKEND="Agg"))


def seventy_and_blank(folder):
    x, y = mnist_test()
    rng = np.random.default_rng(4)
    seven, zero = x[np.nonzero(y == 7)[0][0]], x[np.nonzero(y == 0)[0][0]]
    photo_sets.held_out_photo([seven, zero], rng).save(folder / "seventy.png")
    photo_sets.held_out_photo([], rng).save(folder / "blank.png")
    return folder / "seventy.png", folder / "blank.png"


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_predict_prints_each_digit_of_a_page_and_names_a_blank_page_with_exit_status_1(untrained_lenet, tmp_path):
    """Two digits: a line for the number, then one per digit with its three most probable (an untrained network
    is unsure of each, and says so). A blank page: named on stderr, no guess, exit status 1, the others read."""
    seventy, blank = seventy_and_blank(tmp_path)
    result = run_predict(untrained_lenet, seventy)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"{seventy}: ") and lines[0].endswith("(2 digits, left to right)")
    for k, line in enumerate(lines[1:], 1):
        assert line.startswith(f"{seventy} [{k} of 2]: ") and line.count("%") == 3, line
        assert line.endswith("unsure: no digit has half the probability"), line
    result = run_predict(untrained_lenet, blank, seventy)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"{blank}: no digit found (the image is blank, or its ink does not stand out "
                                     "of its paper)")
    assert str(blank) not in result.stdout and f"{seventy} [2 of 2]: " in result.stdout


@pytest.mark.slow
def test_predict_reads_seventy_as_7_then_0(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "mnist_dnn.py"), "--epochs", "1", "--hidden",
                             "64", "--no-plots", "--out", str(out)], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 0, result.stderr
    seventy, _ = seventy_and_blank(tmp_path)
    result = run_predict(out / "model.npz", seventy)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"{seventy}: 70  (2 digits, left to right)", lines
    assert lines[1].startswith(f"{seventy} [1 of 2]: 7  (7: ") and lines[2].startswith(f"{seventy} [2 of 2]: 0  (0: ")


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_show_draws_every_digit_as_the_network_saw_it_and_marks_the_unsure(tmp_path, monkeypatch):
    """An untrained LeNet (unsure of everything) reads a "70" and a single digit: three crops drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sys.path.insert(0, str(ROOT / "examples"))
    import mnist_cnn

    mnist_cnn.save_model(mnist_cnn.lenet5(np.random.default_rng(0)), str(tmp_path))
    x, y = mnist_test()
    rng = np.random.default_rng(4)
    photo_sets.dev_photo([x[np.nonzero(y == 7)[0][0]], x[np.nonzero(y == 0)[0][0]]], rng).save(tmp_path / "70.png")
    photo_sets.dev_photo([x[1]], rng).save(tmp_path / "one.png")
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    probabilities = predict_module().main([str(tmp_path / "model.npz"), str(tmp_path / "70.png"),
                                           str(tmp_path / "one.png"), "--show"])
    (figure,) = shown
    images = [ax.images[0].get_array() for ax in figure.axes if ax.images]
    assert len(images) == 3 and all(image.shape == (28, 28) for image in images)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0].startswith("70.png [1 of 2]\n") and titles[1].startswith("70.png [2 of 2]\n")
    assert all(title.endswith("unsure)") for title in titles) and probabilities.max() < 0.5
    plt.close("all")


# ---- the photo sets, read by the default MLP and the CNN ------------------------------------------------------------
@pytest.fixture(scope="module")
def photo_layouts(tmp_path_factory):
    """Each set's photos, written as files and read back as predict.py reads them, laid out: {set: (layouts,
    labels)}; a photo holding other than one digit gets a blank layout, which no model reads as its digit."""
    predict = predict_module()
    folder = tmp_path_factory.mktemp("photos")
    x, y = load_mnist(REAL)[2:]
    makers = {"phone": photo_sets.phone_photo, "held_out": photo_sets.held_out_photo, "dev": photo_sets.dev_photo,
              "held_out_2": photo_sets.held_out_2_photo, "held_out_3": photo_sets.held_out_3_photo}
    sets = {name: photo_sets.mnist_set(name, make, x, y) for name, make in makers.items()}
    try:
        sets["sklearn"] = photo_sets.sklearn_set()
    except ImportError:  # scikit-learn is in the dev extra; without it that one set's tests skip
        pass
    laid_out = {}
    for name, (images, labels) in sets.items():
        layouts = []
        for k, image in enumerate(images):
            path = folder / f"{name}{k}.{'jpg' if name == 'phone' else 'png'}"
            image.save(path, **({"quality": 75} if name == "phone" else {}))
            digits = predict.digits_in_mnist_layout(predict.read_image(path))
            layouts.append(digits[0] if len(digits) == 1 else np.zeros((28, 28), np.float32))
        laid_out[name] = (layouts, labels)
    return laid_out


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The default MLP (mnist_dnn.py with no flags) and the CNN trained for two epochs (99.1% on MNIST's test set,
    20 s; the example's default is eight epochs, 99.3%, and reads the same or better on every set). The CNN of
    the other tests' --quick (200 steps, 96%, "not a real result") reads 17 of sklearn's 20."""
    out = tmp_path_factory.mktemp("models")
    env = dict(os.environ, MPLBACKEND="Agg")
    for script, flags in (("mnist_dnn.py", []), ("mnist_cnn.py", ["--epochs", "2"])):
        result = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--no-plots", "--data-dir", REAL,
                                 "--out", str(out / script), *flags], capture_output=True, text=True, timeout=900,
                                env=env)
        assert result.returncode == 0, result.stderr
    predict = predict_module()
    return {"mlp": predict.load_any_model(out / "mnist_dnn.py" / "model.npz"),
            "cnn": predict.load_any_model(out / "mnist_cnn.py" / "model.npz")}


# What each set reads, of 20, with the models this test trains. Tuned on phone, dev and sklearn; held_out was
# looked at in the first round; held_out_2 was measured once after the second round, held_out_3 once after the
# CNN trained here went from --quick to two epochs (2026-12-08: it read 19 with every model tried). Measured then,
# each with the default MLP / the two-epoch CNN / (for reference, not tested) the --quick CNN / the default
# eight-epoch CNN: phone 19/19/19/19, held_out 19/20/18/19, dev 19/20/19/20, held_out_2 20/20/20/20,
# held_out_3 19/19/19/19, sklearn 20/19/17/19. Models trained another way read one photo more or less on some sets.
MEASURED = {("phone", "mlp"): 19, ("phone", "cnn"): 19, ("dev", "mlp"): 19, ("dev", "cnn"): 20,
            ("held_out", "mlp"): 19, ("held_out", "cnn"): 20, ("sklearn", "mlp"): 20, ("sklearn", "cnn"): 19,
            ("held_out_2", "mlp"): 20, ("held_out_2", "cnn"): 20, ("held_out_3", "mlp"): 19,
            ("held_out_3", "cnn"): 19}
ISSUE_FLOOR = 19


def read_right(models, photo_layouts, set_name, model_name):
    if set_name not in photo_layouts:
        pytest.skip("scikit-learn is not installed (pip install -e \".[dev]\")")
    predict = predict_module()
    model, mean, std, shape = models[model_name]
    layouts, labels = photo_layouts[set_name]
    predicted = predict.classify(model, mean, std, layouts, shape).argmax(axis=1)
    correct = int((predicted == labels).sum())
    print(f"{set_name}, {model_name}: {correct} of {len(labels)}")  # shown with pytest -s
    return correct


@pytest.mark.slow
@needs_real_data
@pytest.mark.parametrize("set_name, model_name", list(MEASURED))
def test_each_photo_set_holds_its_measured_level(models, photo_layouts, set_name, model_name):
    assert read_right(models, photo_layouts, set_name, model_name) >= MEASURED[set_name, model_name]


@pytest.mark.slow
@needs_real_data
@pytest.mark.parametrize("set_name, model_name", [
    pytest.param(s, m, marks=pytest.mark.xfail(strict=True, reason=f"measured {n} of 20"))
    if n < ISSUE_FLOOR else (s, m) for (s, m), n in MEASURED.items()])
def test_each_photo_set_reads_19_of_20(models, photo_layouts, set_name, model_name):
    assert read_right(models, photo_layouts, set_name, model_name) >= ISSUE_FLOOR
