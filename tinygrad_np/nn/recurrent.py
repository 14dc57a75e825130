"""Recurrent layers: the cells (one time step each, unrolled by a Python loop: backpropagation through time is
then just backward through that loop), and the sequence modules RNN, LSTM and GRU (whole sequences, stacked
layers, both directions). Parameter names, shapes, gate order and initialisation (U(±1/√hidden_size) for
everything) are PyTorch's, so its weights copy across."""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import ops
from ..composed import stack
from ..core.tensor import Tensor
from ..generators import generator
from ..numpy_functions import concatenate
from ..typing import DType, Seed
from . import functional as F
from .init import uniform_
from .layers import _generator
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


# ---- sequence modules: RNN, LSTM, GRU over whole sequences, layers and directions (issue 29) ----------------
class _RNNBase(Module):
    """What RNN, LSTM and GRU share: PyTorch's arguments, parameter names (``weight_ih_l{k}``, ``weight_hh_l{k}``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}``, ``weight_hr_l{k}`` with projections, each ``_reverse`` for the second
    direction), their order and their initialisation (everything U(±1/√hidden_size), in that order), and the
    forward pass over layers and directions. A subclass runs one layer in one direction (``_run``)."""

    gates = 1  # hidden_size blocks in weight_ih and weight_hh

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool, batch_first: bool,
                 dropout: float, bidirectional: bool, proj_size: int, rng: Seed, dtype: DType) -> None:
        name = type(self).__name__
        for what, value, least in (("input_size", input_size, 0), ("hidden_size", hidden_size, 1),
                                   ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name}: {what} must be an integer >= {least}, got {value!r}")
        if not (isinstance(dropout, (int, float)) and 0 <= dropout <= 1) or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                             f"hidden_size={hidden_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent layer, so non-zero "
                          f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", UserWarning, stacklevel=3)
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, int(proj_size)
        self.rng = _generator(rng)  # initialises the weights, then draws the dropout masks between layers
        directions, out = 2 if bidirectional else 1, proj_size or hidden_size
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:directions]:
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (self.gates * hidden_size, input_size if layer == 0 else out * directions),
                    "weight_hh": (self.gates * hidden_size, out)}
                if bias:
                    shapes.update(bias_ih=(self.gates * hidden_size,), bias_hh=(self.gates * hidden_size,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for kind, shape in shapes.items():
                    weight = Tensor(np.zeros(shape, dtype), requires_grad=True)
                    setattr(self, f"{kind}_l{layer}{suffix}", uniform_(weight, -bound, bound, rng=self.rng))

    # ---- the parts a subclass defines ----------------------------------------------------------------------
    def _run(self, x: Tensor, state: tuple[Tensor, ...], layer: int, suffix: str) -> tuple[Tensor, tuple[Tensor, ...]]:
        """One layer in one direction: x (T, N, ·) and the starting state, each (N, ·), to the outputs (T, N, ·)
        and the final state."""
        raise NotImplementedError

    def _state_sizes(self) -> tuple[int, ...]:
        """The widths of the state's parts: (hidden,) for RNN and GRU; LSTM's (h, c) differ with projections."""
        return (self.hidden_size,)

    # ---- the forward pass ----------------------------------------------------------------------------------
    def _weight(self, kind: str, layer: int, suffix: str) -> Tensor:
        weight: Tensor = getattr(self, f"{kind}_l{layer}{suffix}")
        return weight

    def _bias(self, kind: str, layer: int, suffix: str) -> Tensor | None:
        return getattr(self, f"{kind}_l{layer}{suffix}", None)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                             f"{input.shape[-1]}")
        dtype = self._weight("weight_ih", 0, "").dtype
        if input.dtype != dtype:
            raise ValueError(f"{name}: input dtype ({input.dtype}) does not match weight dtype ({dtype}). Convert "
                             f"input: input.astype(np.{dtype}), or convert model: model.to(np.{input.dtype})")
        batched = input.ndim == 3
        x = input if not batched else input.swapaxes(0, 1) if self.batch_first else input  # (T, N, I)
        if not batched:
            x = x.reshape((x.shape[0], 1, x.shape[1]))
        if x.shape[0] == 0:
            raise ValueError(f"{name}: Expected sequence length to be larger than 0 in RNN, got input {input.shape}")
        states = self._initial_states(hx, x, batched)  # each part (layers·directions, N, ·)
        directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:directions]):
                start = tuple(part[layer * directions + direction] for part in states)
                out, final = self._run(x, start, layer, suffix)
                outputs.append(out)
                for parts, value in zip(finals, final, strict=True):
                    parts.append(value)
            x = outputs[0] if directions == 1 else concatenate(outputs, axis=-1)
            if self.dropout and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, self.training, self.rng)
        output = x.swapaxes(0, 1) if batched and self.batch_first else x if batched else x[:, 0]
        finished = [stack(parts) if batched else stack(parts)[:, 0] for parts in finals]
        return output, (finished[0] if len(finished) == 1 else tuple(finished))

    def _initial_states(self, hx: Any, x: Tensor, batched: bool) -> list[Tensor]:
        """hx checked against PyTorch's shapes, with a batch axis of 1 for unbatched input; zeros when None."""
        name, sizes = type(self).__name__, self._state_sizes()
        rows, batch = self.num_layers * (2 if self.bidirectional else 1), x.shape[1]
        if hx is None:
            return [Tensor(np.zeros((rows, batch, size), x.dtype)) for size in sizes]
        parts = hx if len(sizes) > 1 else (hx,)
        if len(sizes) > 1 and not (isinstance(hx, (tuple, list)) and len(hx) == len(sizes)):
            raise TypeError(f"{name}: hx must be a tuple (h_0, c_0) of two Tensors, got {type(hx).__name__}")
        states = []
        for k, (part, size) in enumerate(zip(parts, sizes, strict=True)):
            what = "hx" if len(sizes) == 1 else ("h_0", "c_0")[k]
            if not isinstance(part, Tensor):
                raise TypeError(f"{name}: {what} must be a Tensor, got {type(part).__name__}")
            expected = (rows, batch, size) if batched else (rows, size)
            if part.ndim != len(expected):
                raise ValueError(f"{name}: For {'batched 3-D' if batched else 'unbatched 2-D'} input, {what} should "
                                 f"also be {len(expected)}-D but got {part.ndim}-D tensor")
            if part.shape != expected:
                raise ValueError(f"{name}: Expected {what} of size {expected}, got {part.shape}")
            if part.dtype != x.dtype:
                raise ValueError(f"{name}: {what} dtype ({part.dtype}) does not match the input's ({x.dtype})")
            states.append(part if batched else part.reshape((rows, 1, size)))
        return states

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    # ---- helpers for the composed layers --------------------------------------------------------------------
    def _projections(self, x: Tensor, layer: int, suffix: str) -> list[Tensor]:
        """x w_ihᵀ + b_ih for every step in one product, then cut into the steps (T of (N, gates·H))."""
        projected = F.linear(x, self._weight("weight_ih", layer, suffix), self._bias("bias_ih", layer, suffix))
        return [projected[t] for t in range(x.shape[0])]

    def _recurrent(self, h: Tensor, layer: int, suffix: str) -> Tensor:
        return F.linear(h, self._weight("weight_hh", layer, suffix), self._bias("bias_hh", layer, suffix))


def _time_order(steps: int, suffix: str) -> range:
    return range(steps - 1, -1, -1) if suffix else range(steps)


class RNN(_RNNBase):
    """PyTorch's nn.RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) (relu with nonlinearity="relu"),
    layer by layer and in both directions with bidirectional. ``forward(input, hx=None)`` returns (output, h_n):
    input (L, N, H_in) ((N, L, H_in) with batch_first, or (L, H_in) unbatched), hx and h_n
    (num_layers·directions, N, H), output (L, N, directions·H). Composed of ops step by step."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 rng: Seed = None, dtype: DType = np.float32) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, rng,
                         dtype)

    def _run(self, x: Tensor, state: tuple[Tensor, ...], layer: int, suffix: str) -> tuple[Tensor, tuple[Tensor, ...]]:
        projected, (h,) = self._projections(x, layer, suffix), state
        outputs: list[Tensor] = [h] * x.shape[0]
        for t in _time_order(x.shape[0], suffix):
            z = projected[t] + self._recurrent(h, layer, suffix)
            h = outputs[t] = z.tanh() if self.nonlinearity == "tanh" else z.relu()
        return stack(outputs), (h,)


class GRU(_RNNBase):
    """PyTorch's nn.GRU, gates r, z, n (blocks of weight_ih and weight_hh): r = σ(x_r + h_r), z = σ(x_z + h_z),
    n = tanh(x_n + r h_n), h' = (1 − z) n + z h, with x_· = x W_i·ᵀ + b_i· and h_· = h W_h·ᵀ + b_h·. Arguments,
    shapes and return values as RNN's. Composed of ops step by step."""

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, rng: Seed = None,
                 dtype: DType = np.float32) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, rng,
                         dtype)

    def _run(self, x: Tensor, state: tuple[Tensor, ...], layer: int, suffix: str) -> tuple[Tensor, tuple[Tensor, ...]]:
        projected, (h,), size = self._projections(x, layer, suffix), state, self.hidden_size
        outputs: list[Tensor] = [h] * x.shape[0]
        for t in _time_order(x.shape[0], suffix):
            xp, hp = projected[t], self._recurrent(h, layer, suffix)
            rz = (xp[:, :2 * size] + hp[:, :2 * size]).sigmoid()
            r, z = rz[:, :size], rz[:, size:]
            n = (xp[:, 2 * size:] + r * hp[:, 2 * size:]).tanh()
            h = outputs[t] = n + z * (h - n)  # (1 − z) n + z h
        return stack(outputs), (h,)


class LSTM(_RNNBase):
    """PyTorch's nn.LSTM, gates i, f, g, o: c' = f c + i g, h' = o tanh(c') (with proj_size > 0, h' = (o tanh(c'))
    W_hrᵀ, of width proj_size). ``forward(input, (h_0, c_0)=None)`` returns (output, (h_n, c_n)); shapes as RNN's,
    with h of width proj_size (or hidden_size) and c of width hidden_size.

    Each layer and direction without projections is one op (ops.LSTMSequence, the loop in NumPy); with
    projections, a composition step by step."""

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 rng: Seed = None, dtype: DType = np.float32) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
                         rng, dtype)

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def _run(self, x: Tensor, state: tuple[Tensor, ...], layer: int, suffix: str) -> tuple[Tensor, tuple[Tensor, ...]]:
        if self.proj_size:
            return self._run_projected(x, state, layer, suffix)
        (h0, c0), last = state, 0 if suffix else x.shape[0] - 1
        b_ih, b_hh = self._bias("bias_ih", layer, suffix), self._bias("bias_hh", layer, suffix)
        bias = b_ih + b_hh if b_ih is not None and b_hh is not None else Tensor(np.zeros(4 * self.hidden_size,
                                                                                          x.dtype))
        both = ops.LSTMSequence.apply(x, h0, c0, self._weight("weight_ih", layer, suffix),
                                      self._weight("weight_hh", layer, suffix), bias, reverse=bool(suffix))
        return both[0], (both[0, last], both[1, last])

    def _run_projected(self, x: Tensor, state: tuple[Tensor, ...], layer: int,
                       suffix: str) -> tuple[Tensor, tuple[Tensor, ...]]:
        projected, (h, c), size = self._projections(x, layer, suffix), state, self.hidden_size
        w_hr = self._weight("weight_hr", layer, suffix)
        outputs: list[Tensor] = [h] * x.shape[0]
        for t in _time_order(x.shape[0], suffix):
            a = projected[t] + self._recurrent(h, layer, suffix)
            ifo = a.sigmoid()
            i, f, o, g = ifo[:, :size], ifo[:, size:2 * size], ifo[:, 3 * size:], a[:, 2 * size:3 * size].tanh()
            c = f * c + i * g
            h = outputs[t] = F.linear(o * c.tanh(), w_hr)
        return stack(outputs), (h, c)
