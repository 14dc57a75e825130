"""``Module``: the base class of layers and models.

A Module finds its state by looking at its attributes: every Tensor that
requires grad is a parameter, every Module (or list of Modules) a child whose
names are prefixed ``child.``; buffers (state that is saved but not trained,
such as batch norm's running statistics) are the one thing to declare, with
``register_buffer``, as in PyTorch.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import numpy as np

from ..core.jit_seam import current
from ..core.tensor import Tensor
from ..numpy_inputs import tensors_for_arrays
from ..typing import DType, TensorLike
from . import serialization

M = TypeVar("M", bound="Module")


def _refuse_dotted_name(kind: str, name: str) -> None:
    raise KeyError(f"{kind} name can't contain \".\", got: {name!r} (state_dict names are joined with \".\", so "
                   "two entries could share one name)")


class Module:
    """Base class: subclass it, set parameters and sub-modules as attributes, define ``forward``."""

    @property
    def training(self) -> bool:
        """True in training mode (``train()``), False in evaluation mode (``eval()``). A jit trace that reads it
        keeps the value it saw, and replays only while the module still has it (tinygrad_np/jit/)."""
        mode = self.__dict__.get("_training", True)
        if current.trace is not None:
            current.trace.guard(self, "training", mode)
        return mode

    @training.setter
    def training(self, mode: bool) -> None:
        self.__dict__["_training"] = mode

    def forward(self, *args: Any) -> Any:
        """The module's computation; a subclass defines it, and calling the module calls it."""
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``forward(*args, **kwargs)``; an ndarray argument is taken as the Tensor it makes, as PyTorch users
        pass tensors (tinygrad_np/numpy_inputs.py)."""
        if current.trace is not None:  # a jit trace keeps this module's settings, to replay only while they hold
            current.trace.saw_module(self)
        args, kwargs = tensors_for_arrays(args, kwargs)
        return self.forward(*args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        # A "." in a parameter's or sub-module's name would let two tensors share one state_dict name ("a.b" beside
        # "a" holding "b"): save would write one of them and load fill one, silently. PyTorch refuses it too.
        if "." in name and isinstance(value, (Module, Tensor, list, tuple)):
            _refuse_dotted_name("parameter" if isinstance(value, Tensor) else "module", name)
        if isinstance(value, Tensor) and value.requires_grad:  # a parameter stays one when frozen (PyTorch's)
            names = vars(self).setdefault("_parameter_names", [])
            if name not in names:
                names.append(name)
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value: TensorLike) -> None:
        """Keep ``value`` (an array or Tensor) as the attribute ``name``: saved, loaded, never trained."""
        if "." in name:
            _refuse_dotted_name("buffer", name)
        tensor = value if isinstance(value, Tensor) else Tensor(np.asarray(value), dtype=np.asarray(value).dtype)
        if tensor.requires_grad:
            raise ValueError(f"register_buffer: {name!r} requires grad; a trained tensor is a parameter")
        names = vars(self).setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, tensor)

    def _children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def _own_parameters(self) -> list[tuple[str, Tensor]]:
        """Tensors that require grad, and those that did when they were set (frozen: requires_grad_(False)),
        which are parameters still, as PyTorch's: in state_dict, parameters() and the optimizer's list."""
        known, buffers = vars(self).get("_parameter_names", ()), vars(self).get("_buffer_names", ())
        return [(name, v) for name, v in vars(self).items() if isinstance(v, Tensor) and name not in buffers
                and (v.requires_grad or name in known)]

    def _own_buffers(self) -> list[tuple[str, Tensor]]:
        return [(name, getattr(self, name)) for name in vars(self).get("_buffer_names", ())]

    def _named_state(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """(name, Tensor) for parameters and buffers, in PyTorch's state_dict order: each module's own
        parameters, then its own buffers, then its children's. A shared tensor appears under each name."""
        for name, t in self._own_parameters() + self._own_buffers():
            yield prefix + name, t
        for name, child in self._children():
            yield from child._named_state(prefix + name + ".")

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """(name, Tensor) for every parameter, sub-modules' included; a shared (tied) one only once."""
        seen = set()
        for name, t in self._named_parameters_all(prefix):
            if id(t) not in seen:
                seen.add(id(t))
                yield name, t

    def _named_parameters_all(self, prefix: str) -> Iterator[tuple[str, Tensor]]:
        for name, t in self._own_parameters():
            yield prefix + name, t
        for name, child in self._children():
            yield from child._named_parameters_all(prefix + name + ".")

    def parameters(self) -> list[Tensor]:
        """Every parameter, sub-modules' included, a shared (tied) one once: what an optimizer takes."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> list[tuple[str, Tensor]]:
        """(name, Tensor) for every buffer (state that is saved but not trained), sub-modules' included."""
        found = [(prefix + name, t) for name, t in self._own_buffers()]
        for name, child in self._children():
            found.extend(child.named_buffers(prefix + name + "."))
        return found

    def train(self: M, mode: bool = True) -> M:
        """Training mode (Dropout active, BatchNorm on batch statistics); returns self."""
        self.training = mode
        for _, child in self._children():
            child.train(mode)
        return self

    def eval(self: M) -> M:
        """Evaluation mode (Dropout off, BatchNorm on running statistics); returns self."""
        return self.train(False)

    def to(self: M, dtype: DType | str) -> M:
        """Every floating-point parameter and buffer cast to ``dtype``, in place (the same Tensors), as
        PyTorch's ``module.to(dtype)``; returns self. ``"cpu"`` is accepted and changes nothing."""
        if isinstance(dtype, str) and dtype.startswith("cpu"):
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"Module.to: expected a NumPy float dtype or 'cpu', got {dtype!r} (tinygrad_np runs "
                            "on the CPU, with NumPy)") from None
        if dtype.kind != "f":
            raise TypeError(f"Module.to: parameters must stay floating-point, got {dtype}")
        for _, t in self._named_state():
            if t.dtype.kind == "f" and t.dtype != dtype:
                t.data = t.data.astype(dtype)
                t.grad = None
        return self

    def cpu(self: M) -> M:
        """self, as PyTorch's ``module.cpu()``: tinygrad_np runs on NumPy, on the CPU, so there is nothing to move."""
        return self

    def cuda(self: M, device: Any = None) -> M:
        """Refused: tinygrad_np runs on NumPy, on the CPU. Drop ``.cuda()`` (``.cpu()`` and ``.to("cpu")`` are
        accepted and change nothing)."""
        raise RuntimeError(f"{type(self).__name__}.cuda(): tinygrad_np runs on NumPy, on the CPU; drop .cuda() "
                           "(module.cpu() and module.to('cpu') are accepted and change nothing)")

    def double(self: M) -> M:
        """``to(np.float64)``."""
        return self.to(np.float64)

    def float(self: M) -> M:
        """``to(np.float32)``."""
        return self.to(np.float32)

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An ordered dict of name -> a copy of the array, for every parameter and buffer."""
        return OrderedDict((name, t.data.copy()) for name, t in self._named_state())

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy arrays from ``state`` into the parameters and buffers: all of them, or, on any error, none.

        Every entry must be present with its exact shape, as a real number
        array whose values the target's dtype can hold (float64 into float32
        is fine, as in PyTorch; a string, a complex number or a value that
        would overflow is not); nothing else may be present. Everything is
        checked before the first tensor is touched, and the error lists each
        problem by name. A tensor shared under several names (tied weights)
        must be given the same values under each.
        """
        targets = OrderedDict(self._named_state())
        problems = [f"missing {n}" for n in targets if n not in state]
        problems += [f"unexpected {n}" for n in state if n not in targets]
        converted = {}
        for name, t in targets.items():
            if name in state:
                value, problem = _convert(state[name], t)
                if problem:
                    problems.append(f"{name}: {problem}")
                elif name.rsplit(".", 1)[-1] == "num_batches_tracked" and \
                        ((np.asarray(value) < 0).any() or (np.asarray(value) > 2**62).any()):
                    # BatchNorm's count of batches: momentum=None averages with 1/count, so -1 divides by 0 and -2
                    # writes -batch_mean into running_mean; no training run makes one. Past 2**62 (no run's either)
                    # the int64 count would wrap to below 0 within reach of a run, refusing its own checkpoints.
                    problems.append(f"{name}: is {np.asarray(value).tolist()}, not a count of batches (a whole "
                                    "number from 0 to 2**62)")
                converted[name] = value
        first_name: dict[int, str] = {}
        for name, t in targets.items():  # one tensor, two values: which one would win is an accident of order
            shared = first_name.setdefault(id(t), name)
            mine, theirs = converted.get(name), converted.get(shared)
            if shared != name and mine is not None and theirs is not None and not _same_bits(mine, theirs):
                problems.append(f"{name}: is tied to {shared} (one tensor) but given other values")
        if problems:
            shown = problems[:5] + ([f"and {len(problems) - 5} more"] if len(problems) > 5 else [])
            raise ValueError(f"load_state_dict ({type(self).__name__}): " + "; ".join(shown))
        for name, t in targets.items():
            t.data[...] = converted[name]
            t.bump_version()

    def save(self, path: str | bytes | os.PathLike, metadata: dict[str, str] | None = None) -> None:
        """Write ``state_dict()`` to ``path``: safetensors if it ends in .safetensors, .npz otherwise.

        ``metadata``, a dict of strings, is stored beside the arrays
        (``nn.load_metadata`` reads it back).
        """
        serialization.save(self.state_dict(), path, metadata)

    def load(self: M, path: str | bytes | os.PathLike, max_bytes: int | None = None) -> M:
        """Load parameters saved by ``save``: all or, on any error, none. The file's names and shapes are compared
        with this model's from its headers, before any data is read; every error is a ModelFileError (a
        ValueError) naming the file. ``max_bytes`` is ``nn.load``'s bound on what decompression may add."""
        expected = {name: t.shape for name, t in self._named_state()}
        state = serialization.load(path, max_bytes=max_bytes, expect=expected)
        try:
            self.load_state_dict(state)
        except ValueError as err:
            raise serialization.ModelFileError(f"{os.fsdecode(path)}: {err}") from None
        except MemoryError:  # load_state_dict's checks and casts: nothing is changed before they are done
            raise serialization.ModelFileError(f"{os.fsdecode(path)}: not enough memory to load it into the model "
                                               "(the model is unchanged)") from None
        return self

    def __repr__(self) -> str:
        """PyTorch's printout: ``Name(extra_repr)`` on one line, or the extra lines and one ``(name): child``
        line per child, each indented two spaces past the line that opens it."""
        return _layout(type(self).__name__, self.extra_repr(), [(name, repr(child)) for name, child in
                                                                self._children()])

    def extra_repr(self) -> str:
        """The constructor arguments a printout shows, as PyTorch's ``extra_repr`` (overridden by layers)."""
        return ""


def _layout(name: str, extra: str, children: list[tuple[str, str]]) -> str:
    """``name(...)`` as PyTorch's Module.__repr__ lays it out: on one line when there is only ``extra``; else
    each line of ``extra`` and each ``(key): child`` on a line of its own, indented two spaces, a child's own
    lines two spaces further (so its closing ``)`` lines up with its ``(key)``)."""
    extra_lines = extra.split("\n") if extra else []
    if not children and len(extra_lines) <= 1:
        return f"{name}({extra})"
    lines = extra_lines + [f"({key}): {text}" for key, text in children]
    return f"{name}(\n" + "".join("  " + line.replace("\n", "\n  ") + "\n" for line in lines) + ")"


def _convert(value: Any, target: Tensor) -> tuple[np.ndarray | None, str | None]:
    """``value`` as an array of ``target``'s dtype and shape, and what is wrong with it (None if nothing)."""
    try:
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
    except ValueError as err:  # a ragged list
        return None, f"not an array ({err})"
    if array.dtype.kind not in "biuf":
        return None, f"expected real numbers, got dtype {array.dtype}"
    if array.shape != target.shape:
        return None, f"expected {target.shape}, got {array.shape}"
    with np.errstate(over="ignore", invalid="ignore"):
        cast = array.astype(target.dtype, copy=False)  # no copy of an array already of its dtype: the loop copies
    if target.dtype.kind in "iub" and not np.array_equal(cast, array):
        return None, f"values that {target.dtype} cannot hold exactly"
    if not np.array_equal(np.isfinite(cast), np.isfinite(array)):
        return None, f"values that {target.dtype} cannot hold (they would overflow to inf)"
    return cast, None


def _same_bits(a, b) -> bool:
    """Equal values, with +0.0 and -0.0 told apart (the last one loaded would win) and every NaN one value."""
    a, b = np.asarray(a), np.asarray(b)
    if not np.array_equal(a, b, equal_nan=True):
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        a, b = np.broadcast_arrays(a.real, b.real)
        zero = a == 0
        return bool((np.signbit(a[zero]) == np.signbit(b[zero])).all())
    return True
