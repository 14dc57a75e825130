"""Train a two-layer network on MNIST with tinygrad_np.

    python examples/mnist_dnn.py                 # 784-800-10, ~98.4% test accuracy
    python examples/mnist_dnn.py --preset seed   # the original notebook's setup
    python examples/mnist_dnn.py --help

The file reads top to bottom: the arguments, the data, the model (two tensor
expressions, ``MLP.forward``), the generic training loop
``loss.backward(); opt.step(); opt.zero_grad()``, and the results. They go to
``--out``: metrics.json, the model (model.npz, and model.safetensors with
PyTorch's names) and PNG plots. ``examples/predict.py`` reads the model back.
"""
import argparse
import datetime
import json
import os
import re
import sys
import tempfile
import time

import numpy as np

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.data import MNIST_MEAN, MNIST_STD, DataLoader, MnistData, load_mnist_or_sample, normalize
from tinygrad_np.fileio import atomic_write
from tinygrad_np.metrics import accuracy, confusion_matrix, precision_recall_f1

# Each optimizer's learning rate unless --lr is given, measured on this network (README): the SGD family
# wants about a hundred times Adam's and RMSprop's. AdamW's was chosen from 3e-4, 1e-3, 3e-3 and 1e-2 by the
# accuracy on the last 10,000 training images, held out of its training (the first 50,000; seed 0, the default
# run otherwise): 97.93%, 98.26%, 98.32% and 98.15% (Adam at 1e-3: 98.23%).
DEFAULT_LR = {"momentum": 0.1, "sgd": 0.3, "adam": 1e-3, "adamw": 3e-3, "rmsprop": 1e-3}

# The original notebook: 784-1000-10, weights N(0,1) x 0.001, full-batch gradient
# descent on raw 0-255 pixels, lr 0.002, 500 iterations, 1,000 / 350 images.
SEED_PRESET = dict(hidden=1000, optimizer="sgd", lr=0.002, epochs=500, batch_size=0, schedule="none",
                   normalize=False, init_scale=0.001, train_size=1000, test_size=350)
DRY_RUN_BATCHES = 5


# ---- arguments -------------------------------------------------------------------------------
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
    preset = ("--hidden 1000 --optimizer sgd --lr 0.002 --epochs 500 --batch-size 0 --schedule none, weights "
              "N(0,1) x 0.001, raw 0-255 pixels, the first 1,000 training and 350 test images")
    p = OneLineParser(description="Train a 784-hidden-10 MLP on MNIST with tinygrad_np.",
                      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--epochs", type=positive_int, default=10, help="passes over the training set")
    p.add_argument("--batch-size", type=non_negative_int, default=128, help="0 means full batch")
    p.add_argument("--lr", type=positive_float, default=None,
                   help="learning rate; None means the optimizer's own: "
                        + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()))
    p.add_argument("--hidden", type=positive_int, default=800, help="hidden units")
    p.add_argument("--optimizer", choices=list(DEFAULT_LR), default="momentum",
                   help="momentum is SGD with momentum 0.9")
    p.add_argument("--schedule", choices=["none", "cosine", "step"], default="cosine", help="learning-rate schedule")
    p.add_argument("--seed", type=non_negative_int, default=0, help="for the weights and the batch order")
    p.add_argument("--data-dir", type=folder, help="folder with the four MNIST-format files; None means "
                                                   "$TINYGRAD_NP_DATA, the cache, or a download")
    p.add_argument("--out", type=folder, help="output folder; None means runs/mnist-<timestamp>")
    p.add_argument("--no-plots", action="store_true", help="write no PNGs (and need no matplotlib)")
    p.add_argument("--no-jit", action="store_true",
                   help="run each step eagerly, op by op, instead of replaying it with tg.jit "
                   "(the same numbers, slower)")
    p.add_argument("--show", action="store_true", help="also show the plots in windows at the end")
    p.add_argument("--dry-run", action="store_true",
                   help=f"one epoch of {DRY_RUN_BATCHES} batches, to check that everything runs")
    p.add_argument("--preset", choices=["seed"], help=f"seed: the original notebook's setup ({preset}); "
                                                      "flags given explicitly still win; None means no preset")
    p.set_defaults(normalize=True, init_scale=None, train_size=None, test_size=None)
    args = p.parse_args(argv)
    if args.preset == "seed":
        p.set_defaults(**SEED_PRESET)
        args = p.parse_args(argv)
    if args.dry_run:
        args.epochs = 1
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    # How pixels become inputs, x = (pixels / 255 - mean) / std; the notebook fed raw pixels, which is mean 0,
    # std 1/255. The saved model records both, so that predict.py prepares a new digit the same way.
    args.input_mean, args.input_std = (MNIST_MEAN, MNIST_STD) if args.normalize else (0.0, 1 / 255)
    return args


# ---- data --------------------------------------------------------------------------------------
def load_data(args):
    """Inputs as float32 rows of 784 and int64 labels, the test images as pixels, and which set was used."""
    data = load_mnist_or_sample(args.data_dir)
    x_train, y_train, x_test, y_test = data
    if args.train_size:
        x_train, y_train = x_train[: args.train_size], y_train[: args.train_size]
    if args.test_size:
        x_test, y_test = x_test[: args.test_size], y_test[: args.test_size]

    def inputs(images):
        return normalize(images.reshape(len(images), -1), args.input_mean, args.input_std)

    dataset = {"name": data.name, "source": data.source, "sample": data.is_sample,
               "train_size": len(x_train), "test_size": len(x_test)}
    return inputs(x_train), y_train, inputs(x_test), y_test, x_test, dataset


# ---- model -------------------------------------------------------------------------------------
class MLP(nn.Module):
    """784 -> hidden -> 10 with a ReLU: logits = relu(x @ W1 + b1) @ W2 + b2.

    W1 is (784, hidden), so that x @ W1 reads as the math does; PyTorch's
    nn.Linear stores the transpose, which ``pytorch_state_dict`` gives.
    """

    def __init__(self, hidden, rng=None, init_scale=None):
        self.W1, self.b1 = tg.zeros(784, hidden, requires_grad=True), tg.zeros(hidden, requires_grad=True)
        self.W2, self.b2 = tg.zeros(hidden, 10, requires_grad=True), tg.zeros(10, requires_grad=True)
        for w in (self.W1, self.W2):
            if init_scale is not None:  # the notebook's plain scaled normal
                nn.init.normal_(w, 0.0, init_scale, rng=rng)
            else:  # He-uniform, suited to ReLU. Our (in, out) layout is PyTorch's transposed: fan-in is its fan_out
                nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", rng=rng)

    def forward(self, x):
        return (x @ self.W1 + self.b1).relu() @ self.W2 + self.b2

    def pytorch_state_dict(self):
        """The weights under the names and in the layout of
        ``torch.nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))``."""
        return {"0.weight": self.W1.data.T, "0.bias": self.b1.data, "2.weight": self.W2.data.T, "2.bias": self.b2.data}


def save_model(model, args, out):
    """model.npz and model.safetensors, each recording what using the model needs besides its weights."""
    hidden = model.W1.shape[1]
    torch_layout = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))  # model.safetensors'
    metadata = {"model": "mnist_dnn.MLP", "hidden": str(hidden), "input_shape": "[784]",
                "architecture": json.dumps(nn.architecture.describe(torch_layout)),
                "input_mean": repr(args.input_mean), "input_std": repr(args.input_std),
                "input": "x = (pixels / 255 - input_mean) / input_std: a 28x28 MNIST-style image (light digit on "
                         "black, 20x20 box centred by mass), row by row"}
    model.save(os.path.join(out, "model.npz"), metadata)
    try:
        nn.save(model.pytorch_state_dict(), os.path.join(out, "model.safetensors"), metadata)
    except ModuleNotFoundError as err:  # an optional extra: the run still has model.npz
        print(f"note: model.safetensors not written: {err}", file=sys.stderr)


def load_model(path, max_parameters=None):
    """A model saved by this script, and the (mean, std) its inputs need: ``(model, input_mean, input_std)``.

    A model file may come from anyone, so everything its metadata claims is checked against the arrays it stores,
    from their headers, before anything is allocated: the hidden size (a whole number) against W1's shape, every
    name and shape, and the size, at most ``max_parameters`` values (``nn.architecture.MAX_PARAMETERS`` unless
    raised; a float64 array counts twice, as it takes twice the memory). Every refusal is a ModelFileError (a
    ValueError) naming the file and the field. The metadata, the headers and the arrays are read from one opening
    of the file (``nn.open_model_file``): a training run replacing it meanwhile cannot pair one save's metadata with
    another save's weights."""
    with nn.open_model_file(path) as model_file:
        return load_opened_model(model_file, max_parameters)


def load_opened_model(model_file, max_parameters=None):
    """``load_model`` of a file opened by ``nn.open_model_file``: everything from that one opening."""
    where = model_file.path
    metadata = model_file.metadata()
    if metadata.get("model") != "mnist_dnn.MLP":
        raise nn.ModelFileError(f"{where}: not a model saved by mnist_dnn.py (it does not record the network's size "
                                "and input normalisation); use the model.npz of a run of mnist_dnn.py")
    hidden = _hidden_size(where, metadata)
    _check_recorded_layout(where, metadata, hidden)
    mean, std = input_normalization(where, metadata)
    torch_layout = where.lower().endswith(".safetensors")  # PyTorch's names and layout
    names = {"W1": "0.weight", "b1": "0.bias", "W2": "2.weight", "b2": "2.bias"} if torch_layout else None
    expected = ({"0.weight": (hidden, 784), "0.bias": (hidden,), "2.weight": (10, hidden), "2.bias": (10,)}
                if torch_layout else {"W1": (784, hidden), "b1": (hidden,), "W2": (hidden, 10), "b2": (10,)})
    stored = model_file.stored_arrays()  # before MLP(hidden) allocates what the metadata claims
    first = "0.weight" if torch_layout else "W1"
    if first not in stored or stored[first].shape != expected[first]:
        raise nn.ModelFileError(f"{where}: its metadata's hidden is {hidden:,}, but its {first} is "
                                f"{stored[first].shape if first in stored else 'missing'}; the file is not one "
                                "mnist_dnn.py wrote")
    differences = stored_differences(stored, expected, "the network")
    if differences:
        raise nn.ModelFileError(f"{where}: not the arrays of a 784-{hidden}-10 network: " + "; ".join(differences))
    limit = check_size(where, stored, expected, max_parameters)
    model = MLP(hidden, np.random.default_rng(0))  # its own generator: loading leaves the global one alone
    state = model_file.load(max_bytes=4 * limit, expect=expected)
    try:
        model.load_state_dict({name: state[theirs].T for name, theirs in names.items()} if names else state)
    except ValueError as err:
        raise nn.ModelFileError(f"{where}: {err}") from None
    except MemoryError:  # load_state_dict's checks and casts: nothing is changed before they are done
        raise nn.ModelFileError(f"{where}: not enough memory to load it into the model") from None
    check_usable(where, model)
    return model, mean, std


def architecture(hidden):
    """``nn.architecture.describe`` of the network this script trains, in PyTorch's layout, without building it:
    ``Sequential(Linear(784, hidden), ReLU(), Linear(hidden, 10))``."""
    return {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 784, "out_features": hidden,
                                              "bias": True}, {"type": "ReLU"},
                                             {"type": "Linear", "in_features": hidden, "out_features": 10,
                                              "bias": True}]}


def _check_recorded_layout(where, metadata, hidden):
    """Refuse a file whose architecture or input_shape, when recorded, is not what its hidden size means: the
    generic reader (``nn.architecture.build``) builds the recorded architecture, this script the 784-hidden-10 ReLU
    network, and one file must not be two models (a Tanh recorded beside the same shapes answered otherwise)."""
    for key, expected in (("architecture", architecture(hidden)), ("input_shape", [784])):
        if key not in metadata:
            continue
        try:
            recorded = nn.serialization.json_without_repeats(metadata[key])
        except (ValueError, RecursionError, nn.serialization.RepeatedKey):
            recorded = None
        # Compared as JSON text: true and 1 are equal in Python, but the architecture reader tells them apart.
        if json.dumps(recorded, sort_keys=True) != json.dumps(expected, sort_keys=True):
            what = "the 784-{}-10 ReLU network".format(f"{hidden:,}") if key == "architecture" else "its input"
            raise nn.ModelFileError(f"{where}: its metadata's {key} is {metadata[key][:200]!r}, not {what} its hidden "
                                    f"size of {hidden:,} means ({json.dumps(expected)}); readers of the two would "
                                    "build different models")


def check_usable(where, model):
    """Refuse a loaded model that cannot give an answer: a parameter or buffer holding NaN or inf, or a
    BatchNorm's running_var below 0 (its square root is NaN). Such a network answers NaN for every image, and
    "NaN%" is no answer. nn.load and load_state_dict keep them, as PyTorch's do (a diverged checkpoint is worth
    inspecting, and an attention mask may hold -inf); a program about to use the model for answers refuses."""
    for name, value in model.state_dict().items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            bad = value[~np.isfinite(value)].flat[0]
            raise nn.ModelFileError(f"{where}: its {name} holds {bad} (of {int((~np.isfinite(value)).sum()):,} "
                                    "values that are not finite numbers): the network would answer NaN; the model "
                                    "diverged in training or the file was altered")
        if name.endswith("running_var") and (value < 0).any():
            raise nn.ModelFileError(f"{where}: its {name} holds {value.min()}, a negative variance (a BatchNorm's "
                                    "running variance is at least 0): the network would answer NaN")


# The bounds on a model file's input normalisation, x = (pixels / 255 - input_mean) / input_std: a mean of pixels
# scaled to 0..1 lies in 0..1, and a std past these would make inputs of more than 10,000 (or all but zero).
MEAN_RANGE, STD_RANGE = (0.0, 1.0), (1e-4, 100.0)


_DECIMAL = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?|nan|inf|infinity)",
                      re.IGNORECASE)  # nan and inf are read, to be refused by the range with a reason


def input_normalization(where, metadata):
    """``(input_mean, input_std)`` from a model file's metadata, each present, a number and in its range; a
    missing entry was a KeyError, and an input_std of 0 (or of 1e-320) made every probability NaN."""
    values = []
    for key, (low, high) in (("input_mean", MEAN_RANGE), ("input_std", STD_RANGE)):
        if key not in metadata:
            raise nn.ModelFileError(f"{where}: its metadata lacks {key!r}; save the model with mnist_dnn.py")
        text = metadata[key]
        # Decimal digits as repr(float) writes them, never float()'s wider reading ("0_1", Arabic-Indic digits).
        value = float(text) if len(text) <= 40 and _DECIMAL.fullmatch(text) else None
        if value is None:
            raise nn.ModelFileError(f"{where}: its metadata's {key} is {text[:40]!r}, not a number")
        if not low <= value <= high:  # NaN fails this too
            why = ("inputs are divided by it, so it must be a positive number" if key == "input_std" else
                   "it is subtracted from pixels scaled to 0..1, so it must be a number")
            raise nn.ModelFileError(f"{where}: its metadata's {key} is {text} ({why} from {low:g} to {high:g})")
        values.append(value)
    return values[0], values[1]


def _hidden_size(where, metadata):
    """The hidden size: a whole number written in digits (never parsed as a float: "inf" and "1e309" are not
    sizes), of at most 10 of them; W1's stored shape then decides whether it is the file's."""
    if "hidden" not in metadata:
        raise nn.ModelFileError(f"{where}: its metadata lacks 'hidden'; save the model with mnist_dnn.py")
    text = metadata["hidden"]
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) >= 1):
        raise nn.ModelFileError(f"{where}: its metadata's hidden is {text[:20]!r}, not a number of hidden units "
                                "(a whole number from 1)")
    return int(text)


def stored_differences(stored, expected, maker):
    """How a file's stored arrays (``nn.stored_arrays``) differ from the names and shapes ``maker`` makes."""
    differ = [f"{name}: {maker} makes {shape}, the file stores {stored[name].shape if name in stored else 'nothing'}"
              for name, shape in expected.items() if name not in stored or stored[name].shape != tuple(shape)]
    differ += [f"{name}: the file stores it, {maker} has no such parameter" for name in stored if name not in expected]
    return differ[:3] + ([f"and {len(differ) - 3} more"] if len(differ) > 3 else [])


def check_size(where, stored, expected, max_parameters):
    """The parameter bound (``max_parameters``, nn.architecture.MAX_PARAMETERS unless raised), once the model's
    values and the memory the stored arrays take once read (float64 counting twice) are both within it."""
    limit = nn.architecture.MAX_PARAMETERS if max_parameters is None else max_parameters
    values = sum(int(np.prod(shape, dtype=object)) for shape in expected.values())
    nbytes = sum(array.nbytes for array in stored.values())
    if values > limit or nbytes > 4 * limit:
        raise nn.ModelFileError(
            f"{where}: its network holds {values:,} values, stored in {nbytes:,} bytes, more than max_parameters="
            f"{limit:,} values (of float32, 4 bytes each: a float64 array counts twice); if the file is trusted "
            "and that is meant, raise max_parameters (predict.py --max-parameters)")
    return limit


# ---- training loop -----------------------------------------------------------------------------
def make_optimizer(args, params):
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr)
    if args.optimizer == "momentum":
        return optim.SGD(params, lr=args.lr, momentum=0.9)
    if args.optimizer == "adam":
        return optim.Adam(params, lr=args.lr)
    if args.optimizer == "adamw":  # Adam with decoupled weight decay, PyTorch's default of 0.01
        return optim.AdamW(params, lr=args.lr)
    return optim.RMSprop(params, lr=args.lr)


def make_schedule(args, opt):
    if args.schedule == "cosine":
        return optim.CosineLR(opt, args.epochs)
    if args.schedule == "step":
        return optim.StepLR(opt, step_size=max(1, args.epochs // 3), gamma=0.1)
    return None


@tg.no_grad()
def evaluate(model, x, y, batch_size=2000):
    """The mean cross-entropy on (x, y) and the softmax probabilities (N, 10), in evaluation mode."""
    was_training = model.training
    model.eval()
    logits = tg.Tensor(np.concatenate([model(tg.Tensor(x[i:i + batch_size])).data
                                       for i in range(0, len(x), batch_size)]))
    model.train(was_training)
    return logits.cross_entropy(y).item(), logits.softmax(axis=1).data


def progress(loader, description):
    """A progress bar over ``loader``: a widget in a notebook, a text bar in a terminal, none in a log file."""
    in_notebook = "ipykernel" in sys.modules  # a kernel's stdout is no TTY, but a person is watching it
    try:
        if in_notebook:
            import ipywidgets  # noqa: F401  (tqdm's notebook bar is a widget; without one it warns: use the text bar)
        from tqdm.auto import tqdm
    except ImportError:
        try:
            from tqdm.std import tqdm
        except ImportError:
            return loader
    return tqdm(loader, desc=description, leave=False, disable=False if in_notebook else None, dynamic_ncols=True)


def make_step(model, opt, jit=True):
    """One training step on a batch: forward, backward, update. Returns the loss and the logits. With ``jit``
    its first two calls run eagerly under a trace and later calls replay the recorded NumPy program (tg.jit)."""
    def step(x, y):
        logits = model(x)
        loss = logits.cross_entropy(y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss, logits

    return tg.jit(step) if jit else step


def train(args, model, x_train, y_train, x_test, y_test, verbose=True):
    """The loop. Returns the history (one dict an epoch), every step's loss, the steps an epoch, and seconds.

    ``verbose`` prints a line an epoch (every few epochs for long runs) and shows a progress bar."""
    opt = make_optimizer(args, model.parameters())
    schedule = make_schedule(args, opt)
    batch_size = args.batch_size or len(x_train)
    loader = DataLoader(x_train, y_train, batch_size=batch_size, shuffle=batch_size < len(x_train),
                        rng=np.random.default_rng(args.seed))
    steps_per_epoch = DRY_RUN_BATCHES if args.dry_run else len(loader)
    step = make_step(model, opt, jit=not getattr(args, "no_jit", False))
    log_every = max(1, args.epochs // 25)  # full-batch runs have hundreds of one-step epochs
    history, step_losses = [], []
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        bar = progress(loader, f"epoch {epoch}/{args.epochs}") if verbose else loader
        for i, (xb, yb) in enumerate(bar):
            if i == steps_per_epoch:
                break
            loss, logits = step(tg.Tensor(xb), yb)
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
        test_loss, test_probabilities = evaluate(model, x_test, y_test)
        record = {"epoch": epoch, "train_loss": total_loss / seen, "train_accuracy": correct / seen,
                  "test_loss": test_loss, "test_accuracy": accuracy(y_test, test_probabilities.argmax(axis=1)),
                  "lr": opt.lr, "seconds": time.perf_counter() - t0}
        history.append(record)
        if schedule is not None:
            schedule.step()
        if verbose and (epoch % log_every == 0 or epoch == args.epochs):
            print(f"epoch {epoch:3d}/{args.epochs}  loss {record['train_loss']:.4f}  "
                  f"train acc {100 * record['train_accuracy']:6.2f}%  test loss {test_loss:.4f}  "
                  f"test acc {100 * record['test_accuracy']:6.2f}%  {record['seconds']:.2f} s", flush=True)
    return history, step_losses, steps_per_epoch, time.perf_counter() - start


# ---- results -----------------------------------------------------------------------------------
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


def caveats(args, dataset):
    """What every plot title and the last lines say, so that no one takes these numbers for what they are not."""
    notes = []
    if args.dry_run:
        notes.append(f"DRY RUN: 1 epoch of {DRY_RUN_BATCHES} batches")
    if dataset["sample"]:
        notes.append(MnistData.SAMPLE_NOTE)
    return notes


def default_out():
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out, n = os.path.join("runs", f"mnist-{stamp}"), 1
    while os.path.exists(out):
        n += 1
        out = os.path.join("runs", f"mnist-{stamp}-{n}")
    return out


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


def main(argv=()):
    """Run as the command line would with the flags in ``argv``; returns the metrics written to metrics.json."""
    args = parse_args(argv)
    tg.reuse_freed_memory()  # each step frees and reallocates the same arrays: keep their pages (memory.py)
    if not args.no_plots:
        try:
            import matplotlib
        except ImportError:
            raise ModuleNotFoundError("the plots need matplotlib: pip install -e \".[examples]\", "
                                      "or pass --no-plots") from None
        if not args.show and "ipykernel" not in sys.modules:
            matplotlib.use("Agg")  # files only; --show asks for windows, and a notebook draws inline
    out = args.out or default_out()
    created = make_out_folder(out)
    try:
        return run(args, out)
    except BaseException:  # Ctrl-C included: leave no empty run folder behind
        remove_if_empty(created)
        raise


def run(args, out):
    x_train, y_train, x_test, y_test, test_images, dataset = load_data(args)
    print(f"data: {dataset['name']} from {dataset['source']}: {dataset['train_size']} train, "
          f"{dataset['test_size']} test images", flush=True)
    notes = caveats(args, dataset)
    if args.dry_run:
        print(f"{notes[0]}, to check that everything runs: the accuracies will mean nothing", flush=True)

    model = MLP(args.hidden, np.random.default_rng(args.seed), init_scale=args.init_scale)
    # A diverging run overflows before its loss turns NaN: train() reports the NaN in one line,
    # so NumPy's warnings on the way there would only be noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history, step_losses, steps_per_epoch, seconds = train(args, model, x_train, y_train, x_test, y_test)

    train_acc = accuracy(y_train, evaluate(model, x_train, y_train)[1].argmax(axis=1))
    test_loss, test_probabilities = evaluate(model, x_test, y_test)
    test_pred = test_probabilities.argmax(axis=1)
    test_acc = accuracy(y_test, test_pred)
    cm = confusion_matrix(y_test, test_pred, 10)
    precision, recall, f1 = precision_recall_f1(cm)
    print(f"\ntrained in {seconds:.1f} s\n{class_table(precision, recall, f1, cm)}\n")

    save_model(model, args, out)
    metrics = {
        "test_accuracy": test_acc, "train_accuracy": train_acc, "test_loss": test_loss, "epochs": args.epochs,
        "seconds": seconds, "dataset": dataset, "notes": notes, "history": history, "step_losses": step_losses,
        "per_class": {"precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist()},
        "confusion_matrix": cm.tolist(), "args": vars(args),
    }
    write_json(metrics, os.path.join(out, "metrics.json"))
    if not args.no_plots:
        import mnist_plots  # beside this script

        results = mnist_plots.Results(history, step_losses, steps_per_epoch, test_images, y_test, test_probabilities,
                                      note="; ".join(notes))
        mnist_plots.draw_report(out, results, first_layer=model.W1.data, seed=args.seed, show=args.show)
    print(f"results in {out}")
    for note in notes:
        print(f"NOTE: {note}: not a real result")
    print(f"train accuracy: {100 * train_acc:.2f}%")
    print(f"test accuracy: {100 * test_acc:.2f}%")
    return metrics


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main, memory_hint="try a smaller --hidden or --batch-size")
