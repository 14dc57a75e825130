"""PyTorch's containers and the small modules a model reaches for: ``Identity``, ``ModuleList``, ``ModuleDict``,
``Parameter``, ``Softmax``, and the loss modules (each a thin wrapper of ``nn.functional``)."""
from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any, overload

from ..core.tensor import Tensor
from ..typing import TensorLike
from . import functional as F
from .module import Module, _layout


class Parameter(Tensor):
    """A Tensor that requires grad (by default): set as a Module attribute, it is one of the module's
    parameters, as ``torch.nn.Parameter``. ``data`` is used as it is, as ``Tensor`` uses it."""

    __slots__ = ()

    def __init__(self, data: TensorLike, requires_grad: bool = True) -> None:
        super().__init__(data._data if isinstance(data, Tensor) else data, requires_grad=requires_grad)


class Identity(Module):
    """Returns its input: a placeholder where a layer is optional (a skip connection's projection)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # PyTorch's Identity takes and ignores any arguments
        pass

    def forward(self, x: Any) -> Any:
        return x


class ModuleList(Module):
    """A list of modules whose parameters the parent finds, named by position (``blocks.0.weight``)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        self._modules: list[Module] = []
        self.extend(modules)

    def _children(self) -> Iterator[tuple[str, Module]]:
        return ((str(i), m) for i, m in enumerate(self._modules))

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: can only hold Modules, got {type(module).__name__}")
        self._modules.append(module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    @overload
    def __getitem__(self, i: int) -> Module: ...

    @overload
    def __getitem__(self, i: slice) -> ModuleList: ...

    def __getitem__(self, i: int | slice) -> Module | ModuleList:
        return ModuleList(self._modules[i]) if isinstance(i, slice) else self._modules[i]

    def __setitem__(self, i: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: can only hold Modules, got {type(module).__name__}")
        self._modules[i] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: iterate over it in your module's forward")

    def __repr__(self) -> str:
        """PyTorch's printout of a ModuleList: a run of modules that print alike is one line,
        ``(0-11): 12 x Block(...)``."""
        runs: list[list[Any]] = []  # [first index, last index, the printout they share]
        for i, module in enumerate(self._modules):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        return _layout("ModuleList", "", [(f"{first}", text) if first == last else
                                          (f"{first}-{last}", f"{last - first + 1} x {text}")
                                          for first, last, text in runs])


class ModuleDict(Module):
    """A dict of modules whose parameters the parent finds, named by key (``heads.digit.weight``)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        self._modules: dict[str, Module] = {}
        for key, module in dict(modules or {}).items():
            self[key] = module

    def _children(self) -> Iterator[tuple[str, Module]]:
        return iter(self._modules.items())

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not isinstance(module, Module):
            raise TypeError(f"ModuleDict: keys are strings and values Modules, got {type(key).__name__} -> "
                            f"{type(module).__name__}")
        if "." in key:  # "a.b" beside "a" holding "b" would give two parameters one state_dict name
            raise KeyError(f"module name can't contain \".\", got: {key!r} (state_dict names are joined with "
                           "\".\", so two entries could share one name)")
        self._modules[key] = module

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> KeysView[str]:
        return self._modules.keys()

    def values(self) -> ValuesView[Module]:
        return self._modules.values()

    def items(self) -> ItemsView[str, Module]:
        return self._modules.items()

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: look its modules up in your module's forward")


class Softmax(Module):
    """softmax along ``dim`` (PyTorch's constructor argument; the Tensor method calls it ``axis``)."""

    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return x.softmax(axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _Loss(Module):
    weight: Tensor | None  # class or element weights, where a loss takes them (a buffer when given)
    pos_weight: Tensor | None

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction

    def _weights(self, **named: TensorLike | None) -> None:
        """Class or element weights kept as buffers, as PyTorch keeps them (in the state_dict when given)."""
        for name, value in named.items():
            if value is None:
                setattr(self, name, None)
            else:
                self.register_buffer(name, value)


class CrossEntropyLoss(_Loss):
    """``F.cross_entropy(input, target)``: logits (N, C) or (N, C, d1, ...), class indices or class
    probabilities as targets; ``weight`` (C,) weighs the classes (PyTorch's first argument, kept as a buffer)."""

    def __init__(self, weight: TensorLike | None = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        self._weights(weight=weight)

    def forward(self, input: Tensor, target: TensorLike) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               label_smoothing=self.label_smoothing, reduction=self.reduction)


class NLLLoss(_Loss):
    """``F.nll_loss(input, target)``: log-probabilities in, class indices as targets."""

    def __init__(self, weight: TensorLike | None = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.ignore_index = ignore_index
        self._weights(weight=weight)

    def forward(self, input: Tensor, target: TensorLike) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """``F.mse_loss(input, target)``: the mean (or sum) of squared differences."""

    def forward(self, input: Tensor, target: TensorLike) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """``F.l1_loss(input, target)``: the mean (or sum) of absolute differences."""

    def forward(self, input: Tensor, target: TensorLike) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``F.binary_cross_entropy_with_logits(input, target)``: a sigmoid and binary cross-entropy, stably;
    ``weight`` and ``pos_weight`` as PyTorch's (kept as buffers)."""

    def __init__(self, weight: TensorLike | None = None, reduction: str = "mean",
                 pos_weight: TensorLike | None = None) -> None:
        super().__init__(reduction)
        self._weights(weight=weight, pos_weight=pos_weight)

    def forward(self, input: Tensor, target: TensorLike) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
