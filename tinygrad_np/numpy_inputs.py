"""NumPy arrays where PyTorch users pass tensors.

A module called on an ndarray (``nn.Linear(32, 10)(x)``), an ``nn.functional`` function and the package's function
forms (``tg.exp(x)``) take each ndarray argument as the Tensor it makes: ``Tensor(array)``, its dtype kept, no
gradient, as a jitted function already takes its arguments. Lists and numbers are left as they are: where a
function takes one (a padding, a size), it means that, not a tensor.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .core.tensor import Tensor


def _plain_array(value: Any) -> bool:
    # func.vmap hands the library batched arrays (an ndarray subclass with ``levels``, batching.py): those are the
    # batch's, not the user's, and stay as they are
    return isinstance(value, np.ndarray) and not hasattr(value, "levels")


def tensors_for_arrays(args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """``args`` and ``kwargs`` with every ndarray made a Tensor (the same objects when there is none)."""
    if any(_plain_array(a) for a in args):
        args = tuple(Tensor(a) if _plain_array(a) else a for a in args)
    if kwargs and any(_plain_array(v) for v in kwargs.values()):
        kwargs = {k: Tensor(v) if _plain_array(v) else v for k, v in kwargs.items()}
    return args, kwargs


def accepts_arrays(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, taking an ndarray wherever it takes a Tensor; its name, docstring and signature kept."""
    if getattr(function, "__wrapped_for_arrays__", False):
        return function

    @functools.wraps(function)
    def with_arrays(*args: Any, **kwargs: Any) -> Any:
        for a in args:  # a plain loop: most calls pass Tensors, and this is all they pay
            if isinstance(a, np.ndarray):  # (a batched one is left as it is by tensors_for_arrays)
                args, kwargs = tensors_for_arrays(args, kwargs)
                break
        else:
            if kwargs:
                args, kwargs = tensors_for_arrays(args, kwargs)
        return function(*args, **kwargs)

    with_arrays.__wrapped_for_arrays__ = True  # type: ignore[attr-defined]
    return with_arrays


def accept_arrays_in(module: Any) -> None:
    """Make every function in ``module.__all__`` take ndarrays (``accepts_arrays``), in place: the module's
    own calls between its functions included."""
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isfunction(value) and value.__module__ == module.__name__:
            setattr(module, name, accepts_arrays(value))
