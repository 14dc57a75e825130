"""Regenerate every image in docs/images, the README's MNIST result tables and its gallery table from one set of runs.

    python scripts/make_docs_images.py            # 3 seeds, 4 more optimizers, the preset, the sweep and
                                                  # two gallery examples: about 8 minutes on 2 cores
    python scripts/make_docs_images.py --quick    # dry runs, into --images and --readme, to test the script
    python scripts/make_docs_images.py --only predict [--model runs/mine/model.npz]
                                                  # just the README's photo and what the network saw: trains the
                                                  # default MLP first (about 20 s) unless --model names one
    python scripts/make_docs_images.py --only player   # just the backward player's picture (needs Chromium)

Each example runs as a user runs it, in its own process, so the numbers and
the pictures in the README always come from the same runs. The README's
tables live between the markers ``<!-- mnist-results:begin -->`` and
``<!-- mnist-results:end -->``, and ``<!-- gallery:begin -->`` and
``<!-- gallery:end -->`` (each example's result and training time, and, with
PyTorch installed, its step against PyTorch's from ``benchmarks/gallery.py
--one-thread``); the rest of the file is left alone. Run it alone on the
machine: the training times it reports are wall-clock.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tinygrad_np as tg
from tinygrad_np import viz
from tinygrad_np.data import load_mnist_or_sample, normalize
from tinygrad_np.fileio import atomic_write

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BEGIN, END = "<!-- mnist-results:begin -->", "<!-- mnist-results:end -->"
GALLERY_BEGIN, GALLERY_END = "<!-- gallery:begin -->", "<!-- gallery:end -->"
MLP_IMAGES = ["loss.png", "accuracy.png", "prediction.png", "predictions.png", "mistakes.png", "confusion_matrix.png"]


def run(script, *args):
    """Run an example in a fresh process; returns its wall time. Its output goes to our stderr as it comes."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)], check=True, stdout=sys.stderr,
                   env=dict(os.environ, MPLBACKEND="Agg"))
    return time.perf_counter() - start


def mnist_run(work, name, *flags, quick=False):
    out = work / name
    wall = run("mnist_dnn.py", "--out", out, *flags, *(["--dry-run"] if quick else []))
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["wall"] = wall
    return metrics, out


def percent(x):
    return f"{100 * x:.2f}%"


def seconds(m):
    return f"{m['seconds']:.1f} s ({m['wall']:.1f} s wall)"


def results_block(seeds, preset, optimizers, notes):
    """The README's tables, from the runs' metrics.json."""
    first = seeds[0]
    a = first["args"]
    lines = []
    if notes:
        lines += [f"**{'; '.join(notes)}: these numbers are not real results.**", ""]
    lines += [
        "Measured on a 2-core machine of the kind CI runs on, full MNIST (60,000 train /",
        "10,000 test), float32, one BLAS thread (tinygrad_np's default; `tg.set_num_threads`),",
        "by `python scripts/make_docs_images.py` (which also drew every picture below, from",
        "the seed-0 run):",
        "",
        "| run | network | training | test accuracy | train accuracy | training time |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, m in enumerate(seeds):
        network = f"784-{a['hidden']}-10, ReLU" if i == 0 else "same"
        training = (f"SGD + momentum 0.9, lr {a['lr']:g}, cosine, batch {a['batch_size']}, {a['epochs']} epochs"
                    if i == 0 else "same")
        lines.append(f"| default, seed {m['args']['seed']} | {network} | {training} | {percent(m['test_accuracy'])} "
                     f"| {percent(m['train_accuracy'])} | {seconds(m)} |")
    p = preset["args"]
    lines += [
        f"| `--preset seed` (the original notebook) | 784-{p['hidden']}-10, weights N(0,1)·{p['init_scale']:g} "
        f"| full-batch GD on raw 0-255 pixels, lr {p['lr']:g}, {p['epochs']} iterations, "
        f"{p['train_size']:,} / {p['test_size']:,} images | {percent(preset['test_accuracy'])} "
        f"| {percent(preset['train_accuracy'])} | {seconds(preset)} |",
        "",
        "Each optimizer has its own default learning rate (`--lr` overrides it),",
        "measured with the default run (seed 0, 10 epochs, cosine schedule):",
        "",
        "| `--optimizer` | default lr | test accuracy | training time |",
        "| --- | --- | --- | --- |",
    ]
    for m in [first] + optimizers:
        name = m["args"]["optimizer"]
        label = f"`{name}`" + (" (the default: SGD, momentum 0.9)" if name == "momentum" else "")
        lines.append(f"| {label} | {m['args']['lr']:g} | {percent(m['test_accuracy'])} | {m['seconds']:.1f} s |")
    accuracies = [m["test_accuracy"] for m in seeds]
    lines += [
        "",
        "Wall time includes loading the data, evaluating every epoch and drawing the",
        "plots. The notebook reported 100% train / 88.29% test for its setup; the preset",
        f"gives {percent(preset['test_accuracy'])}. Normalised inputs, He initialisation, mini-batches",
        f"and momentum are what take the same two-layer network to {percent(min(accuracies))[:-1]}-"
        f"{percent(max(accuracies))}.",
    ]
    return "\n".join(lines)


def replace_block(readme, block, begin=BEGIN, end=END):
    text = readme.read_text()
    if begin not in text or end not in text:
        raise ValueError(f"{readme}: the markers {begin} and {end} are missing")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with atomic_write(readme, "w") as f:
        f.write(f"{head}{begin}\n{block}\n{end}{tail}")


def step_ratios(quick):
    """{example: "eager / jit"} from benchmarks/gallery.py --one-thread, or {} without PyTorch or with --quick."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return {}
    if quick:
        return {}
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gallery.py"), "--one-thread"], check=True,
                         capture_output=True, text=True, env=env).stdout
    ratios = {}
    for line in out.splitlines():
        match = re.search(r"\((\w+)\.py\).*; ratio ([\d.]+), jit ratio ([\d.]+)", line)
        if match:
            ratios[match.group(1)] = f"{match.group(2)} / {match.group(3)}"
    return ratios


def gallery_block(seeds, cnn, char_lm, transformer, lstm, ratios, quick):
    """The README's gallery table, from the runs' metrics.json."""
    accuracies = [m["test_accuracy"] for m in seeds]
    times = [m["seconds"] for m in seeds]
    mlp_times = f"{min(times):.0f}-{max(times):.0f} s" if len(times) > 1 else f"{times[0]:.0f} s"
    accuracy = (f"{percent(min(accuracies))[:-1]}-{percent(max(accuracies))} test accuracy ({len(seeds)} seeds)"
                if len(seeds) > 1 else f"{percent(accuracies[0])} test accuracy")
    lstm_mse = ", ".join(f"{lstm['results'][n]['mse']:.2g} at {n}" for n in lstm["results"])
    na = "n/a (--quick)" if quick else "n/a (no PyTorch)"
    lines = [f"**{'--quick: dry runs, these numbers are not real results'}**", ""] if quick else []
    lines += [
        "| example | model | data | result | training time, one BLAS thread | step time / PyTorch, eager / jit |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| `mnist_dnn.py` | 784-800-10 MLP | MNIST | {accuracy} | {mlp_times} | in the speed table |",
        f"| `mnist_cnn.py` | LeNet-5 (2 conv + max pool, 3 linear) | MNIST | {percent(cnn['test_accuracy'])} test "
        f"accuracy | {cnn['seconds']:.0f} s | {ratios.get('mnist_cnn', na)} |",
        f"| `char_lm.py` | embedding, context 3, tanh hidden 200 | 5,163 census first names | validation loss "
        f"{char_lm['history'][-1]['val_loss']:.3f} nats/char (uniform: 3.296) | "
        f"{char_lm['history'][-1]['seconds']:.0f} s | {ratios.get('char_lm', na)} |",
        f"| `tiny_transformer.py` | 2-layer decoder-only transformer, width 64, 4 heads | reversing "
        f"{transformer['args']['digits']}-digit strings | {100 * transformer['exact']:.0f}% exact on held-out "
        f"strings | {transformer['seconds']:.0f} s | {ratios.get('tiny_transformer', na)} |",
        f"| `lstm_sequence.py` | LSTMCell, hidden 32, unrolled over the sequence | the adding problem | MSE "
        f"{lstm_mse} (lengths past the trained ones never seen) | {lstm['seconds']:.0f} s | "
        f"{ratios.get('lstm_sequence', na)} (length 20) |",
    ]
    return "\n".join(lines)


def example_metrics(work, script, *flags):
    out = work / script
    run(f"{script}.py", "--out", out, *flags)
    return json.loads((out / "metrics.json").read_text())


def draw_loss_graph(path):
    """The MNIST MLP's loss on a batch of 8, with every gradient norm: the README's graph picture."""
    rng = np.random.default_rng(0)
    data = load_mnist_or_sample(announce=False)
    x = tg.Tensor(normalize(data.x_train[:8].reshape(8, 784)))
    W1, b1 = tg.Tensor(rng.standard_normal((784, 32)).astype(np.float32) * 0.05, requires_grad=True), tg.zeros(
        32, requires_grad=True)
    W2, b2 = tg.Tensor(rng.standard_normal((32, 10)).astype(np.float32) * 0.2, requires_grad=True), tg.zeros(
        10, requires_grad=True)
    loss = ((x @ W1 + b1).relu() @ W2 + b2).cross_entropy(data.y_train[:8])
    viz.retain_grads(loss)
    loss.backward(retain_graph=True)
    drawn = viz.draw(loss, path, names={W1: "W1", b1: "b1", W2: "W2", b2: "b2", x: "x"})
    if drawn.path != str(path):
        raise RuntimeError("Graphviz's dot is needed to draw the loss graph (apt-get install graphviz)")


def screenshot_backward_player(path):
    """The backward player on a tiny MLP, at its ReLU step, as headless Chromium draws it at 1200 x 660: the
    README's picture. Needs Debian's chromium and Playwright (the dev extra)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("Chromium is needed to photograph the backward player (apt-get install chromium)")
    rng = np.random.default_rng(0)
    W1, b1 = tg.Tensor(rng.standard_normal((4, 3)) * 0.8, requires_grad=True), tg.zeros(3, requires_grad=True)
    W2 = tg.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    x = tg.Tensor(rng.standard_normal((5, 4)))
    h = (x @ W1 + b1).relu()
    loss = (h @ W2).cross_entropy(np.array([0, 1, 1, 0, 1])) + (h * h).mean()
    player = viz.play_backward(loss, names={W1: "W1", b1: "b1", W2: "W2", x: "x"})
    relu_step = 1 + [step["op"] for step in player.data["steps"]].index("relu")
    with tempfile.TemporaryDirectory() as tmp:
        page_path = player.save(Path(tmp) / "p.html")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1200, "height": 660})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(Path(page_path).as_uri())
            for _ in range(relu_step):
                page.keyboard.press("ArrowRight")
            page.screenshot(path=str(path))
            browser.close()


def draw_predict_picture(path, model_path):
    """A photographed page with "70" on it, as the held-out photo generator of tests/photo_sets.py makes one (thin
    pen, grain, a shadow band, tilted on a desk, JPEG), the digits predict.py found boxed, and each digit as the
    network saw it, with what it read: the README's predict picture."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from PIL import Image

    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(EXAMPLES))
    import photo_sets
    import predict

    from tinygrad_np.data import page as page_module

    data = load_mnist_or_sample(announce=False)
    x, y = data.x_test, data.y_test
    digits = [x[np.nonzero(y == 7)[0][3]], x[np.nonzero(y == 0)[0][5]]]
    photo = photo_sets.held_out_photo(digits, np.random.default_rng(14))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=85)
    image = np.asarray(Image.open(buffer).convert("RGB"))
    model, mean, std, shape = predict.load_any_model(model_path)
    grey = np.asarray(image, np.float64) @ np.array([0.299, 0.587, 0.114]) / 255
    found = page_module.find_digits(grey)
    layouts = predict.digits_in_mnist_layout(image)
    probabilities = predict.classify(model, mean, std, layouts, shape)
    fig = plt.figure(figsize=(7.6, 2.9))
    grid = fig.add_gridspec(1, 2 + len(layouts), width_ratios=[4, 0.1] + [1.6] * len(layouts))
    ax = fig.add_subplot(grid[0])
    ax.imshow(image)
    for digit in found:
        top, left, bottom, right = digit.box
        ax.add_patch(Rectangle((left - 3, top - 3), right - left + 6, bottom - top + 6, fill=False, lw=1.2,
                               edgecolor="tab:red"))
    ax.set_title("the photo (400x300 JPEG)", fontsize=9)
    ax.axis("off")
    for k, (layout, p) in enumerate(zip(layouts, probabilities, strict=True)):
        ax = fig.add_subplot(grid[2 + k])
        ax.imshow(layout, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"as the network saw it:\n{p.argmax()} ({100 * p.max():.1f}%)", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)


def predict_picture_only(images, model):
    """--only predict: the predict picture alone, with ``model`` or a default MLP trained for it."""
    if model is not None:
        draw_predict_picture(images / "predict_photo.png", model)
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = ["--data-dir", os.environ["TINYGRAD_NP_DATA"]] if os.environ.get("TINYGRAD_NP_DATA") else []
        run("mnist_dnn.py", "--out", Path(tmp) / "mlp", "--no-plots", *data)
        draw_predict_picture(images / "predict_photo.png", Path(tmp) / "mlp" / "model.npz")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=Path, default=ROOT / "docs" / "images", help="the folder of images to rewrite")
    p.add_argument("--readme", type=Path, default=ROOT / "README.md", help="the README whose tables to rewrite")
    p.add_argument("--quick", action="store_true", help="dry runs and quick modes: tests the script, not the numbers")
    p.add_argument("--only", choices=["predict", "player"],
                   help="draw just this picture, leaving the rest alone: predict (the README's photo and what the "
                        "network saw) or player (the backward player at its ReLU step; seconds; needs Chromium)")
    p.add_argument("--model", type=Path, help="with --only predict: the model to read the photo with")
    args = p.parse_args(argv)
    args.images.mkdir(parents=True, exist_ok=True)
    if args.only == "predict":
        predict_picture_only(args.images, args.model)
        print(f"wrote {args.images / 'predict_photo.png'}")
        return
    if args.only == "player":
        screenshot_backward_player(args.images / "backward_player.png")
        print(f"wrote {args.images / 'backward_player.png'}")
        return
    quick = args.quick
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seeds = [mnist_run(work, f"seed{s}", "--seed", s, quick=quick)[0] for s in ((0,) if quick else (0, 1, 2))]
        optimizers = [mnist_run(work, o, "--optimizer", o, "--no-plots", quick=quick)[0]
                      for o in (() if quick else ("sgd", "adam", "adamw", "rmsprop"))]
        preset, _ = mnist_run(work, "preset", "--preset", "seed", "--no-plots", *(["--epochs", 5] if quick else []))
        for name in MLP_IMAGES:
            shutil.copyfile(work / "seed0" / name, args.images / name)
        draw_predict_picture(args.images / "predict_photo.png", work / "seed0" / "model.npz")
        run("mnist_autoencoder.py", "--out", work / "autoencoder", *(["--quick"] if quick else []))
        shutil.copyfile(work / "autoencoder" / "reconstructions.png", args.images / "autoencoder_reconstructions.png")
        transformer = example_metrics(work, "tiny_transformer", *(["--quick"] if quick else []))
        shutil.copyfile(work / "tiny_transformer" / "attention.png", args.images / "transformer_attention.png")
        data = ["--data-dir", os.environ["TINYGRAD_NP_DATA"]] if os.environ.get("TINYGRAD_NP_DATA") else []
        cnn = example_metrics(work, "mnist_cnn", "--no-plots", *data, *(["--quick"] if quick else []))
        char_lm = example_metrics(work, "char_lm", "--no-plots", *(["--quick"] if quick else []))
        lstm = example_metrics(work, "lstm_sequence", "--no-plots", *(["--quick"] if quick else []))
        run("sweep.py", "--out", work / "sweep", *(["--quick"] if quick else []))
        shutil.copyfile(work / "sweep" / "heatmap.png", args.images / "sweep_heatmap.png")
    draw_loss_graph(args.images / "mnist_loss_graph.png")
    screenshot_backward_player(args.images / "backward_player.png")
    notes = seeds[0]["notes"] + (["--quick"] if quick else [])
    replace_block(args.readme, results_block(seeds, preset, optimizers, notes))
    replace_block(args.readme, gallery_block(seeds, cnn, char_lm, transformer, lstm, step_ratios(quick), quick),
                  GALLERY_BEGIN, GALLERY_END)
    print(f"wrote {len(MLP_IMAGES) + 6} images to {args.images} and the tables in {args.readme}")


if __name__ == "__main__":
    main()
