"""The global random generator, as PyTorch's: ``tg.manual_seed(n)`` makes every random draw that was not given a
generator of its own repeatable.

Everything random in the library takes ``rng=``: a NumPy Generator (used as it is), an int seed (a Generator made
from it), or None, the default, which means this module's one global generator. That covers layer
initialisation (``nn.init`` and every layer), dropout, ``tg.randn`` and the other random factories, DataLoader
shuffling and the transforms' random augmentations. ``rng=`` still wins where it is given.

``np.random.seed(n)`` does not reach it: NumPy's legacy global state is another generator, which the library never
draws from. Call ``tg.manual_seed(n)``.

The generator is one object for the life of the process: ``manual_seed`` and ``set_rng_state`` set its state in
place. A draw with ``rng=None`` looks the generator up when it draws (``generator(None)``), and a tg.jit replay
runs that draw again, so each replay draws what an eager call would draw from the generator's state at that moment,
``manual_seed`` between calls included.

``get_rng_state()`` and ``set_rng_state(state)`` read and restore its state as a small array, so a checkpoint
(``nn.save``) can carry it and a resumed run draws what an uninterrupted one would: the same data order and the
same dropout masks.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .core.jit_seam import refuse_in_trace, replayable
from .typing import Seed

__all__ = ["manual_seed", "get_rng_state", "set_rng_state", "generator"]

_GLOBAL = np.random.Generator(np.random.PCG64())  # fresh entropy until manual_seed, as NumPy's default_rng()
_WORD = (1 << 64) - 1


@replayable  # inside a jitted step, each replay seeds again, as each eager call does
def manual_seed(seed: int) -> np.random.Generator:
    """Seed the global generator (PyTorch's ``torch.manual_seed``); returns it. After ``manual_seed(n)`` it draws
    what ``np.random.default_rng(n)`` would. ``np.random.seed`` does not reach it (see the module's docstring)."""
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"manual_seed: seed must be an integer, got {type(seed).__name__} {seed!r}") from None
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _GLOBAL.bit_generator.state = np.random.PCG64(seed).state  # in place: the one object everyone holds
    return _GLOBAL


def generator(rng: Seed = None) -> np.random.Generator:
    """The Generator a draw uses: the global one for None, a Generator as it is, a new one from an int seed.
    Everything random in the library resolves its ``rng`` here, when it draws."""
    if rng is None:
        return _GLOBAL
    return np.random.default_rng(rng)  # a Generator passes through as it is


def own_generator(rng: Seed) -> np.random.Generator | None:
    """What an object that draws many times (Dropout, DataLoader) keeps of its ``rng``: None stays None (the global
    generator, looked up at each draw); a seed becomes one Generator, made now, that each draw then advances."""
    return None if rng is None else np.random.default_rng(rng)


def get_rng_state() -> np.ndarray:
    """The global generator's state as six uint64 words (PCG64's state and increment, 128 bits each, and its
    buffered 32 bits), an array ``nn.save`` can store beside a model's weights; ``set_rng_state`` restores it."""
    refuse_in_trace("tg.get_rng_state()", "a replay would keep the state read while tracing, not the state at "
                    "its own call; read it outside the jitted function and pass it in")
    state = _GLOBAL.bit_generator.state
    words = [state["state"]["state"] >> 64, state["state"]["state"] & _WORD,
             state["state"]["inc"] >> 64, state["state"]["inc"] & _WORD, state["has_uint32"], state["uinteger"]]
    return np.array(words, dtype=np.uint64)


@replayable
def set_rng_state(state: Any) -> None:
    """Restore the global generator to a state ``get_rng_state`` returned (an array, or the list it holds)."""
    if isinstance(state, np.ndarray) and (state.shape != (6,) or state.dtype.kind not in "iu"):
        raise ValueError(f"set_rng_state: expected the 6 integers get_rng_state() returns, got an array of shape "
                         f"{state.shape} and dtype {state.dtype}")
    try:
        w = [operator.index(v) for v in state]
    except TypeError:
        w = []
    if len(w) != 6 or min(w) < 0 or max(w) > _WORD:
        raise ValueError(f"set_rng_state: expected the 6 integers get_rng_state() returns, got {state!r}")
    inc = (w[2] << 64) | w[3]
    if inc % 2 == 0 or w[4] not in (0, 1) or w[5] > 0xFFFFFFFF:
        raise ValueError("set_rng_state: these words are not a state get_rng_state() returned (PCG64's increment "
                         "is odd, and the buffered word holds 32 bits)")
    _GLOBAL.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": (w[0] << 64) | w[1], "inc": inc},
                                   "has_uint32": w[4], "uinteger": w[5]}
