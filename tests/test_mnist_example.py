"""examples/mnist_dnn.py end to end, run as a user runs it: a subprocess."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from idx_files import write_idx, write_mnist_folder

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.data import load_mnist, load_mnist_sample
from tinygrad_np.metrics import confusion_matrix

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "mnist_dnn.py"
REAL = os.environ.get("TINYGRAD_NP_DATA")
needs_real_data = pytest.mark.skipif(not REAL, reason="TINYGRAD_NP_DATA is not set")
PLOTS = ["loss.png", "accuracy.png", "prediction.png", "predictions.png", "mistakes.png", "confusion_matrix.png",
         "weights.png"]


def run_example(*args, env=None, check=True):
    environment = dict(os.environ, MPLBACKEND="Agg", **(env or {}))
    for key in [k for k, v in environment.items() if v is None]:
        del environment[key]
    result = subprocess.run([sys.executable, str(EXAMPLE), *map(str, args)], capture_output=True, text=True,
                            env=environment, timeout=600)
    if check and result.returncode != 0:
        pytest.fail(f"example failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def load_example_module():
    spec = importlib.util.spec_from_file_location("mnist_dnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_valid_outputs(out, plots=True):
    metrics = json.loads((out / "metrics.json").read_text())
    with np.load(out / "model.npz", allow_pickle=False) as model:
        assert set(model.files) == {"W1", "b1", "W2", "b2", "__metadata__"}
    if plots:
        import matplotlib.image

        for name in PLOTS:
            data = (out / name).read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG"
            assert matplotlib.image.imread(out / name).ndim == 3, f"{name} does not decode"
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == [], f"temporary files left behind: {leftovers}"
    return metrics


@pytest.mark.slow
@needs_real_data
def test_one_epoch_on_real_mnist(tmp_path):
    out = tmp_path / "run"
    result = run_example("--epochs", 1, "--data-dir", REAL, "--out", out)
    metrics = assert_valid_outputs(out)
    assert metrics["test_accuracy"] >= 0.95, metrics["test_accuracy"]
    assert result.stdout.strip().splitlines()[-1] == f"test accuracy: {100 * metrics['test_accuracy']:.2f}%"
    assert "epoch   1/1" in result.stdout and "precision" in result.stdout and "confusion matrix" in result.stdout
    for key in ("train_accuracy", "epochs", "seconds", "dataset", "history", "per_class", "confusion_matrix", "args"):
        assert key in metrics, key
    assert metrics["dataset"] == {"name": "MNIST", "source": REAL, "sample": False,
                                  "train_size": 60000, "test_size": 10000}
    assert len(metrics["per_class"]["f1"]) == 10 and metrics["history"][0]["epoch"] == 1

    # The saved model, reloaded from what the file alone records, makes exactly the predictions the run reported.
    example = load_example_module()
    model, mean, std = example.load_model(out / "model.npz")
    assert (model.W1.shape, mean, std) == ((784, 800), 0.1307, 0.3081)
    _, _, x_test, y_test = load_mnist(REAL)
    x = ((x_test.reshape(-1, 784) / 255.0 - mean) / std).astype(np.float32)
    predictions = example.evaluate(model, x, y_test.astype(np.int64))[1].argmax(axis=1)
    assert confusion_matrix(y_test, predictions, 10).tolist() == metrics["confusion_matrix"]


def test_saved_model_reloads_with_identical_predictions(tmp_path):
    example = load_example_module()
    rng = np.random.default_rng(0)
    model = example.MLP(32, rng)
    x = rng.standard_normal((50, 784)).astype(np.float32)
    for _ in range(3):  # move away from the initialisation
        model(tg.Tensor(x)).cross_entropy(rng.integers(0, 10, 50)).backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad.data
            p.grad = None
    model.save(tmp_path / "model.npz")
    fresh = example.MLP(32, np.random.default_rng(99)).load(tmp_path / "model.npz")
    with tg.no_grad():
        np.testing.assert_array_equal(fresh(tg.Tensor(x)).data, model(tg.Tensor(x)).data)


@pytest.mark.slow
def test_offline_fallback_uses_the_bundled_sample_and_says_so(tmp_path):
    out = tmp_path / "run"
    env = {"TINYGRAD_NP_DATA": None, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "TINYGRAD_NP_MNIST_MIRRORS": "http://127.0.0.1:9/"}  # a closed port: fails at once
    result = run_example("--dry-run", "--out", out, env=env)
    assert "offline SAMPLE" in "\n".join(result.stderr.splitlines()[:4])  # loud, at the start
    metrics = assert_valid_outputs(out)
    assert metrics["dataset"]["sample"] is True and metrics["dataset"]["train_size"] == 2000
    assert "NOTE: the bundled offline sample, not full MNIST" in result.stdout
    assert metrics["notes"] == ["DRY RUN: 1 epoch of 5 batches", "the bundled offline sample, not full MNIST"]


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_preset_seed_is_the_notebooks_setup(tmp_path):
    out = tmp_path / "run"
    args = ["--preset", "seed", "--epochs", 5, "--out", out, "--no-plots"]
    if REAL:
        args += ["--data-dir", REAL]
    run_example(*args)
    metrics = assert_valid_outputs(out, plots=False)
    a = metrics["args"]
    assert (a["hidden"], a["lr"], a["optimizer"], a["normalize"], a["init_scale"]) == (1000, 0.002, "sgd", False, 0.001)
    assert (a["batch_size"], a["train_size"], a["test_size"], a["epochs"]) == (0, 1000, 350, 5)
    assert metrics["dataset"]["train_size"] == 1000 and metrics["dataset"]["test_size"] == 350
    assert len(metrics["step_losses"]) == 5  # full batch: one step per epoch


@pytest.mark.slow
def test_any_folder_in_mnist_format_works(tmp_path):
    write_mnist_folder(tmp_path / "data", n_train=300, n_test=50)
    run_example("--dry-run", "--data-dir", tmp_path / "data", "--out", tmp_path / "run", "--hidden", 16)
    assert_valid_outputs(tmp_path / "run")


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("args, fragment", [
    (["--lr", "-1"], "--lr"),
    (["--epochs", "abc"], "--epochs"),
    (["--batch-size", "-5"], "--batch-size"),
    (["--optimizer", "lbfgs"], "--optimizer"),
])
@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_bad_flags_end_in_one_line(args, fragment):
    assert_one_line_error(run_example(*args, "--no-plots", check=False), fragment)


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_missing_data_folder_ends_in_one_line(tmp_path):
    result = run_example("--data-dir", tmp_path / "nowhere", "--no-plots", check=False)
    assert_one_line_error(result, str(tmp_path / "nowhere"), "no such folder")


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_broken_data_file_ends_in_one_line_naming_it(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x00\x00\x08")
    result = run_example("--data-dir", tmp_path, "--no-plots", "--out", tmp_path / "run", check=False)
    assert_one_line_error(result, "t10k-images-idx3-ubyte.gz")
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((10, 28, 28), np.uint8))
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    result = run_example("--data-dir", tmp_path, "--no-plots", "--out", tmp_path / "run", check=False)
    assert_one_line_error(result, "train-labels-idx1-ubyte.gz")


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_missing_matplotlib_ends_in_one_line(tmp_path):
    # A sitecustomize that hides matplotlib, as on an install without the examples extra.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nclass _Hide:\n"
        "    def find_spec(self, name, *args):\n"
        "        if name.split('.')[0] == 'matplotlib':\n"
        "            raise ImportError('hidden for the test')\n"
        "sys.meta_path.insert(0, _Hide())\n")
    env = {"PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = run_example("--data-dir", tmp_path / "nowhere", env=env, check=False)
    assert_one_line_error(result, "matplotlib", "--no-plots")


@pytest.mark.parametrize("args, fragment", [
    (["--seed", "-1"], "argument --seed: must be 0 or more, got '-1'"),
    (["--out", ""], "argument --out: must be a folder name, not empty"),
    (["--data-dir", ""], "argument --data-dir: must be a folder name, not empty"),
])
def test_more_bad_flags_end_in_one_line_naming_the_flag(args, fragment):
    assert_one_line_error(run_example(*args, "--no-plots", check=False), fragment)


def test_a_network_too_large_for_memory_ends_in_one_line(tmp_path):
    write_mnist_folder(tmp_path / "data", n_train=30, n_test=10)
    result = run_example("--hidden", 2_000_000_000, "--no-plots", "--data-dir", tmp_path / "data",
                         "--out", tmp_path / "run", check=False)
    assert_one_line_error(result, "not enough memory", "--hidden")
    assert not (tmp_path / "run").exists(), "a failed run left its empty folder behind"


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_a_diverging_run_ends_in_one_line_without_numpy_warnings(tmp_path):
    env = {"TINYGRAD_NP_DATA": None, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "TINYGRAD_NP_MNIST_MIRRORS": "http://127.0.0.1:9/"}  # the bundled sample: real digits, offline
    result = run_example("--lr", 1e6, "--dry-run", "--no-plots", "--out", tmp_path / "run", env=env, check=False)
    assert result.returncode == 1
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "the loss became nan" in last and "try a smaller --lr" in last
    assert not (tmp_path / "run").exists()


def test_an_unwritable_out_fails_before_training_naming_the_folder(tmp_path):
    (tmp_path / "a-file").write_text("in the way")
    result = run_example("--out", tmp_path / "a-file" / "run", "--no-plots", check=False)
    assert_one_line_error(result, f"cannot write results to the folder {tmp_path / 'a-file' / 'run'}")
    assert "data:" not in result.stdout, "it loaded data before finding out it could not write the results"


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_an_interrupted_run_leaves_no_empty_folder(tmp_path):
    import signal
    import time

    write_mnist_folder(tmp_path / "data", n_train=300, n_test=50)
    out = tmp_path / "runs" / "run"
    process = subprocess.Popen([sys.executable, str(EXAMPLE), "--data-dir", str(tmp_path / "data"), "--no-plots",
                                "--epochs", "100000", "--out", str(out)], stdout=subprocess.PIPE, text=True,
                               stderr=subprocess.PIPE, env=dict(os.environ, MPLBACKEND="Agg"))
    try:
        assert process.stdout.readline().startswith("data:")  # training has started
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    finally:
        process.kill()
    assert not (tmp_path / "runs").exists(), "Ctrl-C left an empty run folder behind"


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_an_unwritable_cache_falls_back_to_the_sample_and_says_why(tmp_path):
    (tmp_path / "a-file").write_text("in the way of the cache")
    env = {"TINYGRAD_NP_DATA": None, "XDG_CACHE_HOME": str(tmp_path / "a-file")}
    result = run_example("--dry-run", "--no-plots", "--out", tmp_path / "run", env=env)
    assert "offline SAMPLE" in result.stderr and "cannot be created or written" in result.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["dataset"]["sample"] is True


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_dry_run_is_one_epoch_of_a_few_batches_and_says_so(tmp_path):
    write_mnist_folder(tmp_path / "data", n_train=1000, n_test=50)  # 8 batches of 128: the dry run takes 5
    result = run_example("--dry-run", "--epochs", 7, "--data-dir", tmp_path / "data", "--out", tmp_path / "run",
                         "--no-plots")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and len(metrics["step_losses"]) == 5
    assert "DRY RUN" in result.stdout and f"results in {tmp_path / 'run'}" in result.stdout


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_the_offline_banner_says_how_to_get_full_mnist_without_raw_network_errors(tmp_path):
    env = {"TINYGRAD_NP_DATA": None, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "TINYGRAD_NP_MNIST_MIRRORS": "http://127.0.0.1:9/"}
    result = run_example("--dry-run", "--no-plots", "--out", tmp_path / "run", env=env)
    banner = result.stderr
    assert "--data-dir" in banner and "TINYGRAD_NP_DATA" in banner and str(tmp_path / "cache") in banner
    assert "Errno" not in banner and "127.0.0.1" not in banner and "the download failed" in banner


def test_main_called_from_a_notebook_does_not_read_the_kernels_argv(monkeypatch):
    example = load_example_module()
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "/tmp/kernel-1234.json"])
    args = example.parse_args()
    assert args.epochs == 10 and args.hidden == 800


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_autoencoder_refuses_no_epochs(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "mnist_autoencoder.py"), "--epochs", "0"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "argument --epochs: must be at least 1, got 0" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_adamw_is_offered_as_in_the_other_examples_and_learns(tmp_path):
    """--optimizer adamw is AdamW with PyTorch's weight decay, at its own learning rate, and it trains: one epoch
    on the bundled sample takes the test accuracy from chance (7%) to 81% (held to 75%)."""
    example = load_example_module()
    args = example.parse_args(["--optimizer", "adamw", "--epochs", "1", "--hidden", "64", "--no-plots"])
    model = example.MLP(args.hidden, np.random.default_rng(0))
    opt = example.make_optimizer(args, model.parameters())
    assert type(opt) is optim.AdamW and opt.param_groups[0]["weight_decay"] == 0.01 and opt.lr == 3e-3
    data = load_mnist_sample()
    x_train, x_test = (example.normalize(x.reshape(len(x), -1)) for x in (data[0], data[2]))
    y_train, y_test = data[1].astype(np.int64), data[3].astype(np.int64)
    before = example.evaluate(model, x_test, y_test)[1].argmax(axis=1)
    history, *_ = example.train(args, model, x_train, y_train, x_test, y_test, verbose=False)
    assert np.mean(before == y_test) < 0.3 and history[-1]["test_accuracy"] > 0.75, history[-1]


def test_each_optimizer_gets_its_own_default_learning_rate():
    example = load_example_module()
    assert [example.parse_args(["--optimizer", o]).lr for o in ("momentum", "sgd", "adam", "adamw", "rmsprop")] == [
        0.1, 0.3, 1e-3, 3e-3, 1e-3]
    assert example.parse_args(["--optimizer", "adam", "--lr", "0.01"]).lr == 0.01
    assert example.parse_args(["--preset", "seed"]).lr == 0.002


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_the_model_files_record_the_network_and_safetensors_has_pytorchs_names_and_layout(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    write_mnist_folder(tmp_path / "data", n_train=300, n_test=50)
    run_example("--dry-run", "--hidden", 16, "--data-dir", tmp_path / "data", "--out", tmp_path / "run", "--no-plots")
    ours = nn.load(tmp_path / "run" / "model.npz")
    metadata = nn.load_metadata(tmp_path / "run" / "model.npz")
    assert (metadata["model"], metadata["hidden"], metadata["input_mean"], metadata["input_std"]) == (
        "mnist_dnn.MLP", "16", "0.1307", "0.3081")

    path = tmp_path / "run" / "model.safetensors"
    theirs = load_file(path)
    assert {k: v.shape for k, v in theirs.items()} == {
        "0.weight": (16, 784), "0.bias": (16,), "2.weight": (10, 16), "2.bias": (10,)}
    assert all(v.dtype == np.float32 for v in theirs.values())
    np.testing.assert_array_equal(theirs["0.weight"], ours["W1"].T)
    np.testing.assert_array_equal(theirs["2.weight"], ours["W2"].T)
    np.testing.assert_array_equal(theirs["0.bias"], ours["b1"])
    np.testing.assert_array_equal(theirs["2.bias"], ours["b2"])
    with safe_open(path, framework="np") as f:  # (beside it, the tensors' checksums nn.save records: other
        theirs_metadata = dict(f.metadata())  # readers see them, nn.load_metadata does not)
    assert json.loads(theirs_metadata.pop(nn.serialization.CHECKSUMS)).keys() == theirs.keys()
    assert theirs_metadata == metadata

    # What nn.Linear computes, x @ weight.T + bias, from the file alone gives our network's predictions.
    x = np.random.default_rng(0).standard_normal((64, 784)).astype(np.float32)
    hidden = np.maximum(x @ theirs["0.weight"].T + theirs["0.bias"], 0)
    example = load_example_module()
    model, _, _ = example.load_model(path)
    with tg.no_grad():
        expected = model(tg.Tensor(x)).data
    np.testing.assert_allclose(hidden @ theirs["2.weight"].T + theirs["2.bias"], expected, rtol=1e-5, atol=1e-5)


def test_the_readmes_pytorch_lines_reproduce_our_predictions(tmp_path):
    torch = pytest.importorskip("torch")
    write_mnist_folder(tmp_path / "data", n_train=300, n_test=50)
    run_example("--dry-run", "--hidden", 16, "--data-dir", tmp_path / "data", "--out", tmp_path / "run", "--no-plots")
    readme = (ROOT / "README.md").read_text()
    start = readme.index("import safetensors.torch")
    lines = readme[start:readme.index("```", start)].replace("runs/mnist-<timestamp>", str(tmp_path / "run"))
    lines = lines.replace("H = 800", "H = 16")
    namespace = {}
    exec("import torch\n" + lines, namespace)  # noqa: S102 - the README's own lines
    x = np.random.default_rng(1).standard_normal((64, 784)).astype(np.float32)
    with torch.no_grad():
        theirs = namespace["net"](torch.from_numpy(x)).numpy()
    model, _, _ = load_example_module().load_model(tmp_path / "run" / "model.npz")
    with tg.no_grad():
        ours = model(tg.Tensor(x)).data
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-4)
    assert (theirs.argmax(1) == ours.argmax(1)).all()


def test_a_file_that_is_not_an_mnist_dnn_model_is_refused_by_name(tmp_path):
    nn.Linear(3, 2).save(tmp_path / "linear.npz")
    with pytest.raises(ValueError, match=r"linear.npz: not a model saved by mnist_dnn.py"):
        load_example_module().load_model(tmp_path / "linear.npz")


@pytest.mark.parametrize("metadata, message", [
    ({"model": "mnist_dnn.MLP", "hidden": "16", "input_mean": "0.13"}, r"its metadata lacks 'input_std'"),
    ({"model": "mnist_dnn.MLP", "hidden": "16", "input_mean": "0.13", "input_std": "0"},
     r"its metadata's input_std is 0 .*must be a positive number"),
    ({"model": "mnist_dnn.MLP", "hidden": "many", "input_mean": "0.13", "input_std": "0.3"},
     r"its metadata's hidden is 'many', not a number"),
], ids=["missing entry", "std 0", "not a number"])
def test_model_metadata_missing_or_unusable_is_refused_naming_the_file(tmp_path, metadata, message):
    """A missing entry was a KeyError; an input_std of 0 made predict.py name a digit from NaN probabilities."""
    example = load_example_module()
    path = tmp_path / "model.npz"
    example.MLP(16).save(path, metadata=metadata)
    with pytest.raises(ValueError, match=rf"model.npz: {message}"):
        example.load_model(path)


@pytest.mark.slow
def test_every_plot_says_dry_run_or_sample_and_reads_well(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import matplotlib

    matplotlib.use("Agg")
    import mnist_plots

    rng = np.random.default_rng(0)
    epochs = 40
    history = [{"epoch": e, "train_loss": 1 / e, "test_loss": 1.2 / e, "train_accuracy": 0.9, "test_accuracy": 0.8}
               for e in range(1, epochs + 1)]
    labels = rng.integers(0, 10, 200)
    probabilities = rng.dirichlet(np.ones(10), 200)
    results = mnist_plots.Results(history, list(rng.random(80)), 2, rng.random((200, 28, 28)), labels, probabilities,
                                  note="DRY RUN: 1 epoch of 5 batches")
    figures = {"loss": mnist_plots.loss_figure(results), "accuracy": mnist_plots.accuracy_figure(results),
               "prediction": mnist_plots.one_prediction_figure(results, 3),
               "predictions": mnist_plots.random_predictions_figure(results, rng),
               "mistakes": mnist_plots.confident_mistakes_figure(results),
               "confusion": mnist_plots.confusion_figure(results),
               "weights": mnist_plots.first_layer_figure(rng.standard_normal((784, 16)), results.note)}
    for name, fig in figures.items():
        titles = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes]
        assert any("DRY RUN" in t for t in titles), (name, titles)

    # 40 epochs: lines without markers; the test loss is drawn beside the training loss.
    loss_lines = figures["loss"].axes[0].get_lines()
    assert [line.get_label() for line in loss_lines] == ["train, each step", "train, epoch mean", "test, end of epoch"]
    assert all(line.get_marker() in ("None", "", None) for line in loss_lines)
    # The one prediction shows a probability for each of the ten digits.
    bars = figures["prediction"].axes[1].patches
    np.testing.assert_allclose([b.get_width() for b in bars], probabilities[3])
    # The weights share one colour scale, shown by a colour bar.
    assert any(ax.get_label() == "<colorbar>" for ax in figures["weights"].axes)
    # The random sample says it is random and how many mistakes it holds.
    assert "at random" in figures["predictions"]._suptitle.get_text()
    # The confusion matrix colours are row shares on a linear 0-100 scale.
    image = figures["confusion"].axes[0].get_images()[0]
    assert image.get_clim() == (0, 100)
    np.testing.assert_allclose(image.get_array().sum(axis=1), 100)
    assert "most confident" in figures["mistakes"]._suptitle.get_text()
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_help_shows_every_default_and_what_the_seed_preset_sets():
    result = subprocess.run([sys.executable, str(EXAMPLE), "--help"], capture_output=True, text=True)
    text = " ".join(result.stdout.split())
    for default in ("(default: 10)", "(default: 128)", "(default: 800)", "(default: momentum)", "(default: cosine)",
                    "momentum 0.1, sgd 0.3, adam 0.001, adamw 0.003, rmsprop 0.001"):
        assert default in text, default
    assert "--hidden 1000 --optimizer sgd --lr 0.002 --epochs 500 --batch-size 0 --schedule none" in text
    example = load_example_module()  # and the help says what the preset really sets
    preset = example.parse_args(["--preset", "seed"])
    assert (preset.hidden, preset.optimizer, preset.lr, preset.epochs, preset.batch_size, preset.schedule) == (
        1000, "sgd", 0.002, 500, 0, "none")


@pytest.mark.slow
def test_show_shows_the_figures_it_made(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append([plt.figure(n).get_suptitle() or
                                                                    plt.figure(n).axes[0].get_title()
                                                                    for n in plt.get_fignums()]))
    write_mnist_folder(tmp_path / "data", n_train=300, n_test=50)
    example = load_example_module()
    example.main(["--dry-run", "--show", "--hidden", "8", "--data-dir", str(tmp_path / "data"),
                  "--out", str(tmp_path / "run")])
    assert len(shown) == 1 and len(shown[0]) == len(PLOTS)  # every figure it drew, still open, none re-read
    assert all("DRY RUN" in title for title in shown[0]), shown
    plt.close("all")


@pytest.mark.slow  # over half a second: the fast loop leaves it to CI
def test_jit_and_no_jit_train_to_the_same_numbers(tmp_path):
    """The example replays its step with tg.jit by default; --no-jit runs it eagerly. The results must not move.
    The dry run's five batches of 128 from 1,000 images: two traced calls, then three replays."""
    write_mnist_folder(tmp_path / "data", n_train=1000, n_test=50)
    runs = {}
    for flag in ([], ["--no-jit"]):
        out = tmp_path / ("eager" if flag else "jit")
        run_example("--dry-run", "--hidden", 16, "--data-dir", tmp_path / "data", "--out", out, "--no-plots", *flag)
        metrics = json.loads((out / "metrics.json").read_text())
        runs[bool(flag)] = [{k: v for k, v in epoch.items() if k != "seconds"} for epoch in metrics["history"]]
    assert runs[True] == runs[False] and runs[True][0]["train_loss"] > 0
