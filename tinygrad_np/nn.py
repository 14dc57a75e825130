"""Layers: ``Module`` and the usual building blocks, with saving and loading.

A Module finds its parameters by looking at its attributes: every Tensor that
requires grad is a parameter, and every Module (or list of Modules) is a
child whose parameters are named ``child.name``. No registration calls.
"""
import math
import os
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .fileio import atomic_write
from .tensor import Tensor


class Module:
    """Base class: subclass it, set parameters and sub-modules as attributes, define ``forward``."""

    training = True

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def __call__(self, *args):
        return self.forward(*args)

    def _children(self):
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix=""):
        """(name, Tensor) for every parameter, sub-modules' included, in attribute order."""
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad:
                yield prefix + name, value
        for name, child in self._children():
            yield from child.named_parameters(prefix + name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def train(self, mode=True):
        """Training mode (Dropout active); returns self."""
        self.training = mode
        for _, child in self._children():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode (Dropout off); returns self."""
        return self.train(False)

    def state_dict(self):
        """An ordered dict of parameter name -> a copy of its array."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state):
        """Copy arrays from ``state`` into the parameters: all of them, or, on any error, none.

        Every parameter must be present with its exact shape, as a real
        number array whose values its dtype can hold (float64 into float32 is
        fine, as in PyTorch; a string, a complex number or a value that would
        overflow is not); nothing else may be present. Everything is checked
        before the first parameter is touched, and the error lists each
        problem by name.
        """
        params = dict(self.named_parameters())
        problems = [f"missing {n}" for n in params if n not in state]
        problems += [f"unexpected {n}" for n in state if n not in params]
        converted = {}
        for name, p in params.items():
            if name in state:
                value, problem = _convert(state[name], p)
                if problem:
                    problems.append(f"{name}: {problem}")
                converted[name] = value
        if problems:
            raise ValueError(f"load_state_dict ({type(self).__name__}): " + "; ".join(problems))
        for name, p in params.items():
            p.data[...] = converted[name]
            p.bump_version()

    def save(self, path):
        save(self.state_dict(), path)

    def load(self, path):
        """Load parameters saved by ``save``; an error names the file, and loads nothing."""
        state = load(path)
        try:
            self.load_state_dict(state)
        except ValueError as err:
            raise ValueError(f"{os.fspath(path)}: {err}") from None
        return self

    def __repr__(self):
        children = "".join(f"\n  ({name}): {child!r}".replace("\n", "\n  ") for name, child in self._children())
        return f"{type(self).__name__}({self.extra_repr()}{children}{chr(10) if children else ''})"

    def extra_repr(self):
        return ""


def _init_weight(init, shape, fan_in, rng):
    if callable(init):
        return np.asarray(init(shape, rng), dtype=np.float32)
    # Kaiming-uniform: U(-b, b) with b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a²)).
    # a = sqrt(5) is PyTorch's nn.Linear default (b = 1/sqrt(fan_in)); a = 0 is He's
    # choice for ReLU networks (b = sqrt(6 / fan_in)).
    a = {"pytorch": math.sqrt(5), "he": 0.0}.get(init)
    if a is None:
        raise ValueError(f"Linear: init must be 'pytorch', 'he' or a callable, got {init!r}")
    bound = math.sqrt(2.0 / (1 + a * a)) * math.sqrt(3.0 / fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


class Linear(Module):
    """y = x @ weightᵀ + bias, with weight of shape (out_features, in_features) as in PyTorch.

    ``init``: 'pytorch' (Kaiming-uniform with a=√5, PyTorch's default), 'he'
    (Kaiming-uniform for ReLU), or a callable ``(shape, rng) -> array``. The
    bias is U(-1/√fan_in, 1/√fan_in) as in PyTorch. ``rng``: Generator or seed.
    """

    def __init__(self, in_features, out_features, bias=True, init="pytorch", rng=None, dtype=np.float32):
        rng = np.random.default_rng(rng)  # a Generator passes through as it is
        self.in_features, self.out_features = in_features, out_features
        w = _init_weight(init, (out_features, in_features), in_features, rng)
        self.weight = Tensor(w.astype(dtype), requires_grad=True)
        bound = 1.0 / math.sqrt(in_features)
        self.bias = Tensor(rng.uniform(-bound, bound, out_features).astype(dtype), requires_grad=True) if bias else None

    def forward(self, x):
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self):
        return f"{self.in_features} -> {self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class Sequential(Module):
    """Modules applied in order; parameters are named by position (``0.weight``)."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def named_parameters(self, prefix=""):
        for i, layer in enumerate(self.layers):
            yield from layer.named_parameters(f"{prefix}{i}.")

    def _children(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p); in eval, identity."""

    def __init__(self, p=0.5, rng=None):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p
        self.rng = np.random.default_rng(rng)  # a Generator passes through as it is

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = self.rng.random(x.shape) >= self.p
        return x * Tensor(keep.astype(x.dtype) / (1 - self.p), dtype=x.dtype)

    def extra_repr(self):
        return f"p={self.p}"


def _convert(value, param):
    """``value`` as an array of ``param``'s dtype and shape, and what is wrong with it (None if nothing)."""
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "biuf":
        return None, f"expected real numbers, got dtype {array.dtype}"
    if array.shape != param.shape:
        return None, f"expected {param.shape}, got {array.shape}"
    with np.errstate(over="ignore", invalid="ignore"):
        cast = array.astype(param.dtype)
    if not np.array_equal(np.isfinite(cast), np.isfinite(array)):
        return None, f"values that {param.dtype} cannot hold (they would overflow to inf)"
    return cast, None


def save(state_dict, path):
    """Write a state dict to ``path`` as .npz, atomically: a temporary file renamed into place.

    Any name is kept as it is, ``allow_pickle`` or ``file`` included (``np.savez``
    would take those as its own arguments), and nothing is pickled.
    """
    arrays = {}
    for name, value in state_dict.items():
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.hasobject:  # would need pickling
            raise TypeError(f"save: {name!r} is not a numeric array (dtype {array.dtype}); refusing to pickle")
        arrays[name] = array
    with atomic_write(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():  # the .npz layout: one .npy member an entry
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def load(path):
    """Read a state dict written by ``save``. Never unpickles; an error names the file and what is wrong."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic and not (magic.startswith(b"PK") or magic == b"\x93NUMPY"):
            raise ValueError("it is neither a .npz archive nor a NumPy array file")
        contents = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a model file") from None
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a tinygrad_np model file ({_reason(path, err)})") from None
    if not isinstance(contents, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: holds a single array (a .npy file), not a model's named arrays (.npz); "
                         "write model files with Module.save or tinygrad_np.nn.save")
    with contents:
        state = OrderedDict()
        for name in contents.files:
            try:
                state[name] = contents[name]
            except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as err:
                raise ValueError(f"{path}: not a tinygrad_np model file: entry {name!r} cannot be read "
                                 f"({_reason(path, err)})") from None
    return state


def _reason(path, err):
    if os.path.getsize(path) == 0:
        return "the file is empty"
    if isinstance(err, zipfile.BadZipFile):
        return "not a complete .npz archive: truncated, or another kind of file"
    if isinstance(err, (EOFError, zlib.error)):
        return "the file is damaged or was not fully written"
    return str(err) or type(err).__name__
