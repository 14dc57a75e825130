"""MNIST: where the files are, fetching them when they are nowhere, and checking them.

``load_mnist`` looks in this order and takes the first that applies:

1. the ``data_dir`` argument;
2. the ``TINYGRAD_NP_DATA`` environment variable;
3. the cache folder, ``$XDG_CACHE_HOME/tinygrad_np/mnist`` or ``~/.cache/tinygrad_np/mnist``;
4. a download into that cache, from each mirror in turn.

A folder named by 1 or 2 is the user's: it is read, never written, and a
fault in it is an error. The cache is ours: every file in it must match its
official MD5, and a file that does not is fetched again. A download goes to a
temporary name and is renamed into place only once its MD5 matches, so an
interrupted or corrupt download never looks like data.

When no folder is named and every mirror fails, ``MnistNotFound`` is raised;
``load_mnist_sample`` then offers the small real-MNIST sample that ships with
the package. ``load_mnist_or_sample`` does both, the way every example wants:
MNIST if it can be had, else the sample with a loud banner saying how to get
MNIST; and ``normalize`` turns pixels into the network's inputs.
"""
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from .idx import read_idx

# name -> MD5 of the official gzipped file
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# name -> size in bytes of the official gzipped file: a download stops at this plus
# MAX_EXTRA_BYTES, so a mirror that streams forever cannot fill the disk.
MNIST_SIZES = {
    "train-images-idx3-ubyte.gz": 9912422,
    "train-labels-idx1-ubyte.gz": 28881,
    "t10k-images-idx3-ubyte.gz": 1648877,
    "t10k-labels-idx1-ubyte.gz": 4542,
}
MAX_EXTRA_BYTES = 1 << 20
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MIRRORS_ENV = "TINYGRAD_NP_MNIST_MIRRORS"  # space-separated base URLs, to override MIRRORS
SAMPLE_PATH = Path(__file__).with_name("mnist_sample.npz")
# MNIST's training-set pixel mean and standard deviation, after dividing by 255. ``normalize`` uses them, and
# a saved model records them, so that a digit drawn later is prepared exactly as the training images were.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class MnistNotFound(OSError):
    """No MNIST folder was named, none is cached, and no mirror could be reached."""


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tinygrad_np" / "mnist"


def md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _find(folder, name):
    """``name`` in ``folder``, gzipped or not."""
    for candidate in (folder / name, folder / name[: -len(".gz")]):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{folder / name}: no such file (nor {name[:-3]} uncompressed)")


def load_mnist(data_dir=None, download=True, mirrors=None, timeout=10.0, progress=True):
    """MNIST as ``(x_train, y_train, x_test, y_test)``: uint8 images (N, 28, 28) and uint8 labels (N,).

    Any folder holding the four files in MNIST's names and format works
    (Fashion-MNIST, for one). Raises ValueError naming the file if a file is
    malformed or the files disagree, FileNotFoundError if a named folder lacks
    one, and MnistNotFound if nothing was named and nothing could be fetched.
    """
    folder = data_dir or os.environ.get("TINYGRAD_NP_DATA")
    if folder:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: no such folder")
        return _load_folder(folder)
    folder = cache_dir()
    stale = [n for n in MNIST_FILES if not _cached_ok(folder / n)]
    if stale:
        if not download:
            raise MnistNotFound(f"{folder}: MNIST is not cached and download=False")
        _check_writable(folder)
        for name in stale:
            _download(name, folder, mirrors, timeout, progress)
    return _load_folder(folder)


def _cached_ok(path):
    try:
        return path.is_file() and md5(path) == MNIST_FILES[path.name]
    except OSError:  # unreadable: treat as not cached, and let the download say what is wrong
        return False


def _check_writable(folder):
    """The cache must be a folder we can create and write in; otherwise there is nowhere to download to."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise MnistNotFound(f"the cache folder {folder} cannot be created or written "
                            f"({err.strerror or err}), so MNIST cannot be downloaded into it") from None


def _load_folder(folder):
    paths = [_find(folder, n) for n in MNIST_FILES]
    arrays = [read_idx(p) for p in paths]
    x_train, y_train, x_test, y_test = arrays
    for (images, labels), (image_path, label_path) in (
        ((x_train, y_train), paths[:2]),
        ((x_test, y_test), paths[2:]),
    ):
        _check_pair(images, labels, image_path, label_path)
    return x_train, y_train, x_test, y_test


def _check_pair(images, labels, image_path, label_path):
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{image_path}: expected 28x28 images, got an array of shape {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"{image_path}: expected uint8 pixels, got {images.dtype}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{label_path}: expected a 1-D array of uint8 labels, got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{label_path}: {len(labels)} labels for {len(images)} images in {image_path}")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{label_path}: label {labels.max()} is outside 0-9")


def _mirrors(mirrors):
    if mirrors is not None:
        return list(mirrors)
    override = os.environ.get(MIRRORS_ENV)
    return override.split() if override else list(MIRRORS)


def _download(name, folder, mirrors, timeout, progress):
    failures = []
    for base in _mirrors(mirrors):
        url = base.rstrip("/") + "/" + name
        try:
            # The MD5 is checked inside atomic_write: a mismatch raises before the rename.
            with atomic_write(folder / name) as out:
                got = _fetch(url, out, timeout, progress, MNIST_SIZES.get(name, 0) + MAX_EXTRA_BYTES)
                if got != MNIST_FILES[name]:
                    raise ValueError(f"MD5 {got}, expected {MNIST_FILES[name]}")
            return
        except urllib.error.HTTPError as err:
            failures.append(f"{url}: HTTP {err.code} {err.reason}")
        except (urllib.error.URLError, OSError, ValueError) as err:
            failures.append(f"{url}: {getattr(err, 'reason', err)}")
    raise MnistNotFound(f"could not download {name}: " + "; ".join(failures))


def _fetch(url, out, timeout, progress, limit):
    """Copy ``url`` into the file ``out``, refusing more than ``limit`` bytes; return the MD5 of what was written."""
    digest = hashlib.md5()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        if total > limit:
            raise ValueError(f"the server offers {total} bytes, more than the {limit} this file can be")
        bar = _progress_bar(total, url.rsplit("/", 1)[-1]) if progress else None
        written = 0
        try:
            for block in iter(lambda: response.read(1 << 16), b""):
                written += len(block)
                if written > limit:
                    raise ValueError(f"stopped after {limit} bytes, more than this file can be")
                out.write(block)
                digest.update(block)
                if bar is not None:
                    bar.update(len(block))
        finally:
            if bar is not None:
                bar.close()
    return digest.hexdigest()


def _progress_bar(total, name):
    """tqdm when it is installed (the examples extra); otherwise a plain line on stderr."""
    try:
        from tqdm import tqdm

        return tqdm(total=total or None, unit="B", unit_scale=True, desc=f"downloading {name}", leave=False)
    except ImportError:
        return _PlainProgress(total, name)


class _PlainProgress:
    def __init__(self, total, name):
        self.total, self.name, self.done = total, name, 0
        print(f"downloading {name} ...", file=sys.stderr, flush=True)

    def update(self, n):
        self.done += n

    def close(self):
        print(f"downloaded {self.name} ({self.done / 1e6:.1f} MB)", file=sys.stderr, flush=True)


def load_mnist_sample():
    """The sample shipped with the package: 2,000 training and 1,000 test images of real MNIST.

    For running the demo offline. Same layout as ``load_mnist``.
    """
    with np.load(SAMPLE_PATH, allow_pickle=False) as f:
        return f["x_train"], f["y_train"], f["x_test"], f["y_test"]


def normalize(images, mean=MNIST_MEAN, std=MNIST_STD):
    """uint8 pixels as float32 network inputs, ``(pixels / 255 - mean) / std``, in the same shape.

    Centred and scaled to unit variance, the inputs let plain SGD train the
    network quickly; the original notebook fed raw 0-255 pixels instead.
    """
    x = np.array(images, dtype=np.float32)  # the one copy: the steps below work in place, not in temporaries
    x /= 255
    x -= mean
    x /= std
    return x


@dataclass(frozen=True)
class MnistData:
    """The four arrays ``load_mnist_or_sample`` found, and which set they are.

    Images are uint8 (N, 28, 28), or float32 after ``normalize`` when asked;
    labels are int64, ready for ``cross_entropy``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str  # "MNIST", or the sample's name
    source: str  # the folder read, or where the sample lives
    is_sample: bool
    why_sample: str = ""  # why MNIST itself could not be had, when is_sample

    SAMPLE_NOTE = "the bundled offline sample, not full MNIST"  # what results on the sample must say

    def __iter__(self):  # x_train, y_train, x_test, y_test = data
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))


def load_mnist_or_sample(data_dir=None, normalized=False, announce=True):
    """MNIST found or fetched as ``load_mnist`` does; when it cannot be had, the bundled sample.

    A folder that was named but is wrong is still an error: the sample stands
    in only for MNIST that is nowhere at all. With ``announce``, falling back
    prints ``offline_banner`` to stderr, so no one mistakes the sample's
    accuracy for MNIST's. ``normalized`` applies ``normalize`` to the images.
    """
    try:
        arrays = load_mnist(data_dir)
        source = str(data_dir or os.environ.get("TINYGRAD_NP_DATA") or cache_dir())
        name, is_sample, why = "MNIST", False, ""
    except MnistNotFound as err:
        why = _why(err)
        if announce:
            print(offline_banner(why), file=sys.stderr, flush=True)
        arrays = load_mnist_sample()
        name, source, is_sample = "MNIST sample (the bundled offline subset)", str(SAMPLE_PATH), True
    x_train, y_train, x_test, y_test = arrays
    if normalized:
        x_train, x_test = normalize(x_train), normalize(x_test)
    return MnistData(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), name, source, is_sample, why)


def _why(err):
    """A failed download in one phrase: the mirrors' DNS errors help no one who is simply offline."""
    return "the download failed (no network?)" if str(err).startswith("could not download") else str(err)


def _in_notebook():
    """True inside a Jupyter kernel (an IPython shell talking over ZMQ), not merely with ipykernel imported."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def offline_banner(why, in_notebook=None):
    """Loud, short, and saying how to get full MNIST: in the words of a command line, or, in a notebook (a
    Jupyter kernel is running), of a Python call. ``in_notebook`` None means: look."""
    in_notebook = _in_notebook() if in_notebook is None else in_notebook
    line = "!" * 78
    how = ("! To use full MNIST, call load_mnist_or_sample(\"FOLDER\") or set TINYGRAD_NP_DATA=FOLDER before starting\n"
           "! Jupyter, FOLDER holding" if in_notebook else
           "! To use full MNIST, pass --data-dir FOLDER or set TINYGRAD_NP_DATA=FOLDER, FOLDER holding\n!")
    return (f"{line}\n! Using the small offline SAMPLE shipped with tinygrad_np: 2,000 training and 1,000 test\n"
            f"! images, so accuracy will be lower than on full MNIST. MNIST was not found: {why}.\n"
            f"{how} the four MNIST files (train-images-idx3-ubyte.gz, ...), or put them in {cache_dir()}.\n{line}")
