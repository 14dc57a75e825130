"""Train a two-layer network on MNIST with tinygrad_np.

    python examples/mnist_dnn.py                 # 784-800-10, ~98.4% test accuracy
    python examples/mnist_dnn.py --preset seed   # the original notebook's setup
    python examples/mnist_dnn.py --help

The network is two tensor expressions (``MLP.forward``), trained by the
generic loop ``loss.backward(); opt.step(); opt.zero_grad()``. Results go to
``--out``: metrics.json, model.npz and PNG plots.
"""
import argparse
import datetime
import json
import os
import sys
import tempfile
import time

import numpy as np

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.data import DataLoader, MnistNotFound, load_mnist, load_mnist_sample
from tinygrad_np.data.mnist import cache_dir
from tinygrad_np.fileio import atomic_write
from tinygrad_np.metrics import accuracy, confusion_matrix, precision_recall_f1

MEAN, STD = 0.1307, 0.3081  # MNIST's training-set pixel statistics, after /255

# Each optimizer's learning rate unless --lr is given, measured on this network (README): the SGD family
# wants about a hundred times Adam's and RMSprop's.
DEFAULT_LR = {"momentum": 0.1, "sgd": 0.3, "adam": 1e-3, "rmsprop": 1e-3}

# The original notebook: 784-1000-10, weights N(0,1) x 0.001, full-batch gradient
# descent on raw 0-255 pixels, lr 0.002, 500 iterations, 1,000 / 350 images.
SEED_PRESET = dict(hidden=1000, optimizer="sgd", lr=0.002, epochs=500, batch_size=0, schedule="none",
                   normalize=False, init_scale=0.001, train_size=1000, test_size=350)


class MLP(nn.Module):
    """784 -> hidden -> 10 with a ReLU: logits = relu(x @ W1 + b1) @ W2 + b2."""

    def __init__(self, hidden, rng, init_scale=None):
        def weight(n_in, n_out):
            if init_scale is not None:  # the notebook's plain scaled normal
                w = rng.standard_normal((n_in, n_out)) * init_scale
            else:  # He-uniform, suited to ReLU
                bound = np.sqrt(6.0 / n_in)
                w = rng.uniform(-bound, bound, (n_in, n_out))
            return tg.Tensor(w.astype(np.float32), requires_grad=True)

        self.W1, self.b1 = weight(784, hidden), tg.zeros(hidden, requires_grad=True)
        self.W2, self.b2 = weight(hidden, 10), tg.zeros(10, requires_grad=True)

    def forward(self, x):
        return (x @ self.W1 + self.b1).relu() @ self.W2 + self.b2


# ---- command line -------------------------------------------------------------------------
class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def checked(convert, ok, requirement):
    """An argparse type: ``convert`` the text, then insist on ``ok(value)``; the error names the flag."""
    def check(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
        return value

    return check


positive_int = checked(int, lambda v: v >= 1, "a positive integer")
non_negative_int = checked(int, lambda v: v >= 0, "0 or more")
positive_float = checked(float, lambda v: v > 0 and np.isfinite(v), "a positive number")
folder = checked(str, lambda v: v.strip() != "", "a folder name, not empty")


def parse_args(argv=()):
    """The flags in ``argv`` (a list; the command line passes sys.argv[1:]). The default is no flags, never
    this process's own sys.argv: called from a notebook, that would be the kernel's arguments."""
    p = OneLineParser(description="Train a 784-hidden-10 MLP on MNIST with tinygrad_np.")
    p.add_argument("--epochs", type=positive_int, default=10)
    p.add_argument("--batch-size", type=non_negative_int, default=128, help="0 means full batch")
    p.add_argument("--lr", type=positive_float, default=None,
                   help="default: the optimizer's own, " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()))
    p.add_argument("--hidden", type=positive_int, default=800)
    p.add_argument("--optimizer", choices=list(DEFAULT_LR), default="momentum",
                   help="momentum: SGD with momentum 0.9 (default: %(default)s)")
    p.add_argument("--schedule", choices=["none", "cosine", "step"], default="cosine")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--data-dir", type=folder, help="folder with the four MNIST-format files (default: $TINYGRAD_NP_DATA, "
                                      "the cache, or a download)")
    p.add_argument("--out", type=folder, help="output folder (default: runs/mnist-<timestamp>)")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--show", action="store_true", help="show the plots in a window at the end")
    p.add_argument("--dry-run", action="store_true", help="one epoch of 5 batches, to check that everything runs")
    p.add_argument("--preset", choices=["seed"], help="seed: the original notebook's setup")
    p.set_defaults(normalize=True, init_scale=None, train_size=None, test_size=None)
    args = p.parse_args(argv)
    if args.preset == "seed":
        # The preset supplies defaults; flags given explicitly still win.
        p.set_defaults(**SEED_PRESET)
        args = p.parse_args(argv)
    if args.dry_run:
        args.epochs = 1
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    return args


# ---- data ------------------------------------------------------------------------------------
def load_data(args):
    """Images as float32 rows of 784, labels as int64, and a description of where they came from."""
    try:
        x_train, y_train, x_test, y_test = load_mnist(args.data_dir)
        source = args.data_dir or os.environ.get("TINYGRAD_NP_DATA") or "download cache"
        dataset = {"name": "MNIST", "source": str(source), "sample": False}
    except MnistNotFound as err:
        print(offline_banner(err), file=sys.stderr)
        x_train, y_train, x_test, y_test = load_mnist_sample()
        dataset = {"name": "MNIST sample (bundled offline subset)", "source": "tinygrad_np/data", "sample": True}
    if args.train_size:
        x_train, y_train = x_train[: args.train_size], y_train[: args.train_size]
    if args.test_size:
        x_test, y_test = x_test[: args.test_size], y_test[: args.test_size]

    def prepare(images):
        x = images.reshape(len(images), -1).astype(np.float32)
        return (x / 255.0 - MEAN) / STD if args.normalize else x

    dataset.update(train_size=len(x_train), test_size=len(x_test))
    return prepare(x_train), y_train.astype(np.int64), prepare(x_test), y_test.astype(np.int64), x_test, dataset


def offline_banner(err):
    """Loud, short, and saying how to get full MNIST; a failed download is one phrase, not a page of DNS errors."""
    why = "the download failed (no network?)" if str(err).startswith("could not download") else str(err)
    line = "!" * 78
    return (f"{line}\n! Training on the small offline SAMPLE shipped with tinygrad_np: 2,000 training and 1,000\n"
            f"! test images, so accuracy will be lower than on full MNIST. MNIST was not found: {why}.\n"
            "! To train on full MNIST, pass --data-dir FOLDER or set TINYGRAD_NP_DATA=FOLDER, FOLDER holding the\n"
            f"! four MNIST files (train-images-idx3-ubyte.gz, ...), or put them in {cache_dir()}.\n{line}")


# ---- training ----------------------------------------------------------------------------------
def make_optimizer(args, params):
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr)
    if args.optimizer == "momentum":
        return optim.SGD(params, lr=args.lr, momentum=0.9)
    if args.optimizer == "adam":
        return optim.Adam(params, lr=args.lr)
    return optim.RMSprop(params, lr=args.lr)


def make_schedule(args, opt):
    if args.schedule == "cosine":
        return optim.CosineLR(opt, args.epochs)
    if args.schedule == "step":
        return optim.StepLR(opt, step_size=max(1, args.epochs // 3), gamma=0.1)
    return None


@tg.no_grad()
def predict(model, x, batch_size=2000):
    return np.concatenate([model(tg.Tensor(x[i:i + batch_size])).data.argmax(axis=1)
                           for i in range(0, len(x), batch_size)])


def progress(loader, description):
    try:
        from tqdm.auto import tqdm  # a widget in notebooks, a text bar in terminals
    except ImportError:
        return loader
    return tqdm(loader, desc=description, leave=False, disable=None, dynamic_ncols=True)  # None: off unless a TTY


def train(args, model, x_train, y_train, x_test, y_test):
    opt = make_optimizer(args, model.parameters())
    schedule = make_schedule(args, opt)
    batch_size = args.batch_size or len(x_train)
    loader = DataLoader(x_train, y_train, batch_size=batch_size, shuffle=batch_size < len(x_train),
                        rng=np.random.default_rng(args.seed))
    max_batches = 5 if args.dry_run else None
    log_every = max(1, args.epochs // 25)  # full-batch runs have hundreds of one-step epochs
    history, step_losses, steps_per_epoch = [], [], len(loader) if max_batches is None else max_batches
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        bar = progress(loader, f"epoch {epoch}/{args.epochs}")
        for i, (xb, yb) in enumerate(bar):
            if max_batches is not None and i >= max_batches:
                break
            logits = model(tg.Tensor(xb))
            loss = logits.cross_entropy(yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
            value = loss.item()
            if not np.isfinite(value):
                raise FloatingPointError(f"the loss became {value} at step {i + 1} of epoch {epoch}; "
                                         "try a smaller --lr")
            step_losses.append(value)
            total_loss += value * len(yb)
            correct += int((logits.data.argmax(axis=1) == yb).sum())
            seen += len(yb)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{total_loss / seen:.4f}")
        record = {"epoch": epoch, "train_loss": total_loss / seen, "train_accuracy": correct / seen,
                  "test_accuracy": accuracy(y_test, predict(model, x_test)), "lr": opt.lr,
                  "seconds": time.perf_counter() - t0}
        history.append(record)
        if schedule is not None:
            schedule.step()
        if epoch % log_every == 0 or epoch == args.epochs:
            print(f"epoch {epoch:3d}/{args.epochs}  loss {record['train_loss']:.4f}  "
                  f"train acc {100 * record['train_accuracy']:6.2f}%  test acc {100 * record['test_accuracy']:6.2f}%  "
                  f"{record['seconds']:.2f} s", flush=True)
    return history, step_losses, steps_per_epoch, time.perf_counter() - start


# ---- reporting ----------------------------------------------------------------------------------
def write_json(obj, path):
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=2)


def class_table(precision, recall, f1, cm):
    lines = ["class  precision  recall     f1  support"]
    for c in range(len(cm)):
        lines.append(f"{c:5d}  {precision[c]:9.4f}  {recall[c]:6.4f}  {f1[c]:.4f}  {cm[c].sum():7d}")
    lines.append("\nconfusion matrix (rows: true, columns: predicted)")
    lines.append("      " + "".join(f"{c:6d}" for c in range(len(cm))))
    lines += [f"{i:5d} " + "".join(f"{v:6d}" for v in row) for i, row in enumerate(cm)]
    return "\n".join(lines)


def draw_plots(out, model, history, step_losses, steps_per_epoch, images, y_test, test_pred, cm, seed):
    import mnist_plots as plots

    plots.loss_curves(step_losses, history, steps_per_epoch, os.path.join(out, "loss.png"))
    plots.accuracy_curves(history, os.path.join(out, "accuracy.png"))
    rng = np.random.default_rng(seed)
    k = int(rng.integers(len(images)))
    plots.one_prediction(images[k], int(y_test[k]), int(test_pred[k]), os.path.join(out, "prediction.png"))
    # A grid that always shows some mistakes, if there are any, among random picks.
    wrong = np.flatnonzero(test_pred != y_test)
    picks = np.concatenate([rng.permutation(wrong)[:12], rng.permutation(len(images))[:60]])[:60]
    picks = rng.permutation(np.unique(picks))
    plots.prediction_grid(images[picks], y_test[picks], test_pred[picks], os.path.join(out, "predictions.png"))
    plots.confusion(cm, os.path.join(out, "confusion_matrix.png"))
    plots.first_layer_weights(model.W1.data, os.path.join(out, "weights.png"))


def default_out():
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out, n = os.path.join("runs", f"mnist-{stamp}"), 1
    while os.path.exists(out):
        n += 1
        out = os.path.join("runs", f"mnist-{stamp}-{n}")
    return out


def main(argv=()):
    args = parse_args(argv)
    tg.reuse_freed_memory()  # each step frees and reallocates the same arrays: keep their pages (memory.py)
    if not args.no_plots:
        try:
            import matplotlib
        except ImportError:
            raise ModuleNotFoundError("the plots need matplotlib: pip install -e \".[examples]\", "
                                      "or pass --no-plots") from None
        if not args.show:
            matplotlib.use("Agg")  # files only; --show asks for a window
    out = args.out or default_out()
    created = make_out_folder(out)
    try:
        run(args, out)
    except BaseException:  # Ctrl-C included: leave no empty run folder behind
        remove_if_empty(created)
        raise


def make_out_folder(out):
    """Create ``out`` (and any missing parents) and check it can be written, before any training.

    Returns the folders this created, deepest first, so a failed run can remove them again.
    """
    created, folder = [], os.path.abspath(out)
    while not os.path.exists(folder):
        created.append(folder)
        folder = os.path.dirname(folder)
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        remove_if_empty(created)
        raise OSError(f"cannot write results to the folder {out}: {err.strerror or err}") from None
    return created


def remove_if_empty(folders):
    for folder in folders:
        try:
            os.rmdir(folder)  # only ever removes an empty folder
        except OSError:
            break


def run(args, out):
    x_train, y_train, x_test, y_test, test_images, dataset = load_data(args)
    print(f"data: {dataset['name']} from {dataset['source']}: {dataset['train_size']} train, "
          f"{dataset['test_size']} test images; writing to {out}", flush=True)
    if args.dry_run:
        print("DRY RUN: one epoch of 5 batches, to check that everything runs; the numbers mean nothing", flush=True)

    model = MLP(args.hidden, np.random.default_rng(args.seed), init_scale=args.init_scale)
    # A diverging run overflows before its loss turns NaN: train() reports the NaN in one line,
    # so NumPy's warnings on the way there would only be noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history, step_losses, steps_per_epoch, seconds = train(args, model, x_train, y_train, x_test, y_test)

    train_acc = accuracy(y_train, predict(model, x_train))
    test_pred = predict(model, x_test)
    test_acc = accuracy(y_test, test_pred)
    cm = confusion_matrix(y_test, test_pred, 10)
    precision, recall, f1 = precision_recall_f1(cm)
    print(f"\ntrained in {seconds:.1f} s\n{class_table(precision, recall, f1, cm)}\n")

    model.save(os.path.join(out, "model.npz"))
    write_json({
        "test_accuracy": test_acc, "train_accuracy": train_acc, "epochs": args.epochs, "seconds": seconds,
        "dataset": dataset, "history": history, "step_losses": step_losses,
        "per_class": {"precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist()},
        "confusion_matrix": cm.tolist(), "args": vars(args),
    }, os.path.join(out, "metrics.json"))
    if not args.no_plots:
        draw_plots(out, model, history, step_losses, steps_per_epoch, test_images, y_test, test_pred, cm, args.seed)
        if args.show:
            import matplotlib.pyplot as plt

            for name in ("loss", "accuracy", "predictions", "confusion_matrix", "weights"):
                plt.figure(name)
                plt.imshow(plt.imread(os.path.join(out, f"{name}.png")))
                plt.axis("off")
            plt.show()
    print(f"results in {out}")
    if args.dry_run:
        print("DRY RUN: one epoch of 5 batches; these accuracies mean nothing")
    print(f"train accuracy: {100 * train_acc:.2f}%")
    if dataset["sample"]:
        print("NOTE: trained on the bundled offline sample, not full MNIST")
    print(f"test accuracy: {100 * test_acc:.2f}%")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for mnist_plots
    try:
        main(sys.argv[1:])
    except (OSError, ValueError, FloatingPointError, ModuleNotFoundError) as err:
        sys.exit(f"{os.path.basename(sys.argv[0])}: error: {err}")
    except MemoryError as err:
        sys.exit(f"{os.path.basename(sys.argv[0])}: error: not enough memory ({err}); "
                 "try a smaller --hidden or --batch-size")
    except KeyboardInterrupt:
        sys.exit(130)
