"""Recurrent cells: one time step each, unrolled by a Python loop (backpropagation through time is
then just backward through that loop). Parameter names, shapes, gate order and initialisation
(U(±1/√hidden_size) for everything) are PyTorch's, so its weights copy across."""
from __future__ import annotations

import math

import numpy as np

from ..core.tensor import Tensor
from ..generators import generator
from ..typing import DType, Seed
from .init import uniform_
from .module import Module


class _Cell(Module):
    gates = 1  # how many hidden_size blocks weight_ih and weight_hh stack

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, rng: Seed = None,
                 dtype: DType = np.float32) -> None:
        self.input_size, self.hidden_size = input_size, hidden_size
        rows = self.gates * hidden_size
        rng = generator(rng)  # None: the global generator (tg.manual_seed)
        self.weight_ih = Tensor(np.zeros((rows, input_size), dtype), requires_grad=True)
        self.weight_hh = Tensor(np.zeros((rows, hidden_size), dtype), requires_grad=True)
        self.bias_ih = Tensor(np.zeros(rows, dtype), requires_grad=True) if bias else None
        self.bias_hh = Tensor(np.zeros(rows, dtype), requires_grad=True) if bias else None
        bound = 1.0 / math.sqrt(hidden_size)
        for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            if p is not None:
                uniform_(p, -bound, bound, rng=rng)

    def _projections(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """x @ weight_ihᵀ + bias_ih and h @ weight_hhᵀ + bias_hh, kept apart (GRU needs them apart)."""
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input must be (batch, {self.input_size}), got {x.shape}")
        xi, hh = x @ self.weight_ih.T, h @ self.weight_hh.T
        if self.bias_ih is not None:
            xi, hh = xi + self.bias_ih, hh + self.bias_hh  # type: ignore[operator]  # both biases, or neither
        return xi, hh

    def _zeros(self, x: Tensor) -> Tensor:
        return Tensor(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))

    def _state(self, x: Tensor, h: Tensor | None, what: str = "the hidden state") -> Tensor:
        """``h``, or zeros when it is None, after checking it against the input: broadcasting a state of another
        batch size or width would be a silent wrong answer (PyTorch refuses both)."""
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input must be (batch, {self.input_size}), got {x.shape}")
        if h is None:
            return self._zeros(x)
        if not isinstance(h, Tensor):
            raise TypeError(f"{type(self).__name__}: {what} must be a Tensor, got {type(h).__name__}")
        if x.ndim == 2 and h.ndim == 2 and h.shape[0] != x.shape[0]:
            raise ValueError(f"{type(self).__name__}: the input has batch size {x.shape[0]} but {what} has batch "
                             f"size {h.shape[0]}")
        if h.shape != (x.shape[0], self.hidden_size):
            raise ValueError(f"{type(self).__name__}: {what} must be (batch, {self.hidden_size}) = "
                             f"({x.shape[0]}, {self.hidden_size}), got {h.shape}")
        return h

    def _gate(self, projection: Tensor, i: int) -> Tensor:
        return projection[:, i * self.hidden_size:(i + 1) * self.hidden_size]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}" + (", bias=False" if self.bias_ih is None else "")
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        return text + (f", nonlinearity={nonlinearity}" if nonlinearity != "tanh" else "")


class RNNCell(_Cell):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu with nonlinearity="relu")."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 rng: Seed = None, dtype: DType = np.float32) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, rng, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        xi, hh = self._projections(x, self._state(x, h))
        return (xi + hh).tanh() if self.nonlinearity == "tanh" else (xi + hh).relu()


class LSTMCell(_Cell):
    """Gates in PyTorch's order i, f, g, o (blocks of weight_ih, weight_hh of shape (4H, ·)):

    i = σ(·), f = σ(·), g = tanh(·), o = σ(·);  c' = f c + i g;  h' = o tanh(c').
    forward(x, (h, c)) returns (h', c'); the state defaults to zeros.
    """

    gates = 4

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if state is not None and not (isinstance(state, (tuple, list)) and len(state) == 2):
            shape = f" of shape {state.shape}" if isinstance(state, Tensor) else ""
            raise TypeError(f"LSTMCell: the state must be a tuple (h, c) of two Tensors, got "
                            f"{type(state).__name__}{shape}")
        h, c = (None, None) if state is None else state
        h, c = self._state(x, h, "h"), self._state(x, c, "c")
        xi, hh = self._projections(x, h)
        z = xi + hh
        i, f = self._gate(z, 0).sigmoid(), self._gate(z, 1).sigmoid()
        g, o = self._gate(z, 2).tanh(), self._gate(z, 3).sigmoid()
        c = f * c + i * g
        return o * c.tanh(), c


class GRUCell(_Cell):
    """Gates in PyTorch's order r, z, n (blocks of weight_ih, weight_hh of shape (3H, ·)):

    r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r * h_n), h' = (1 - z) n + z h,
    where x_· = x W_i·ᵀ + b_i· and h_· = h W_h·ᵀ + b_h·.
    """

    gates = 3

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        h = self._state(x, h)
        xi, hh = self._projections(x, h)
        r = (self._gate(xi, 0) + self._gate(hh, 0)).sigmoid()
        z = (self._gate(xi, 1) + self._gate(hh, 1)).sigmoid()
        n = (self._gate(xi, 2) + r * self._gate(hh, 2)).tanh()
        return (1.0 - z) * n + z * h
