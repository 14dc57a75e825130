"""A whole LSTM layer (one direction) over a sequence, as one op: nn.LSTM's engine."""
import numpy as np

from ..core.function import Function
from ..core.tensor import Tensor
from .elementwise import Sigmoid, Tanh
from .shape import Concatenate


class LSTMSequence(Function):
    """An LSTM run over a sequence, PyTorch's gates i, f, g, o stacked in that order in w_ih (4H, I), w_hh
    (4H, H) and b (4H,) (b = b_ih + b_hh). For t = 0, 1, ..., T-1 (from T-1 down to 0 with ``reverse``):

        a = x[t] w_ihᵀ + h w_hhᵀ + b;  i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g);
        c ← f c + i g;  h ← o tanh(c),

    from h = h0, c = c0. x is (T, N, I), h0 and c0 (N, H); z is (2, T, N, H): z[0, t] the h after step t, z[1, t]
    the c. Every input may carry the same extra leading axes (func.vmap's batches), which z then carries first.

    The derivative, backpropagation through time: with dh and dc the gradients reaching h and c after step t
    (from dL/dz and from step t + 1), and c', h' the state before it,

        dc ← dc + dh o (1 − tanh²c);  da = [dc g i(1−i), dc c' f(1−f), dc i (1−g²), dh tanh(c) o(1−o)];
        then dh ← da w_hh and dc ← dc f for step t − 1,

    and dL/dx[t] = da w_ih, dL/dw_ih = Σ_t daᵀ x[t], dL/dw_hh = Σ_t daᵀ h', dL/db = Σ_t da (summed over the batch
    too); dL/dh0 and dL/dc0 are what is left after the first step.

    Fused rather than composed from a cell per step: a step composed of primitives is about twenty ops each way
    (matmuls, slices, four activations, products), and at the sizes an LSTM usually runs, the Python work per op
    costs more than its arithmetic. One op runs the loop in NumPy, saving the gates for the backward loop.
    """

    def forward(self, x, h0, c0, w_ih, w_hh, b, reverse=False):
        _check_shapes(x, h0, c0, w_ih, w_hh, b)
        self.reverse, hidden = reverse, h0.shape[-1]
        # Every step's x w_ihᵀ + b in one product; each step then adds h w_hhᵀ and turns its row into the gates
        # in place, so this array ends up holding the gates the backward loop needs.
        self.gates = gates = _input_projection(x, w_ih, b)
        dtype, lead, steps = gates.dtype, gates.shape[:-3], x.shape[-3]
        out = np.empty(lead + (2, steps) + h0.shape[-2:], dtype=dtype)
        self.tanh_c = np.empty(lead + (steps,) + h0.shape[-2:], dtype=dtype)
        # σ(a) = (1 + tanh(a / 2)) / 2: one tanh for all four gates, a scale before it and an affine map after.
        scale = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], dtype), hidden)
        shift = np.repeat(np.array([0.5, 0.5, 0.0, 0.5], dtype), hidden)
        w_hh_t, recurrent, product = np.swapaxes(w_hh, -1, -2), None, None
        h, c = h0, c0
        for t in _order(steps, reverse):
            a = gates[..., t, :, :]
            recurrent = np.matmul(h, w_hh_t, out=recurrent)
            a += recurrent
            a *= scale
            np.tanh(a, out=a)
            a *= shift + (shift == 0)  # the sigmoid's halves; g keeps its tanh
            a += shift
            i, f, g, o = (a[..., k * hidden:(k + 1) * hidden] for k in range(4))
            c_t, h_t, tanh_c = out[..., 1, t, :, :], out[..., 0, t, :, :], self.tanh_c[..., t, :, :]
            np.multiply(f, c, out=c_t)
            product = np.multiply(i, g, out=product)
            c_t += product
            np.tanh(c_t, out=tanh_c)
            np.multiply(o, tanh_c, out=h_t)
            h, c = h_t, c_t
        return out

    def backward(self, dz, z, x, h0, c0, w_ih, w_hh, b):
        steps, hidden, k = x.shape[-3], h0.shape[-1], x.ndim - 3  # k leading axes before (T, N, ·)
        hs, cs = z[(slice(None),) * k + (0,)], z[(slice(None),) * k + (1,)]
        h_before, c_before = _before(hs, h0, self.reverse), _before(cs, c0, self.reverse)
        if isinstance(x, Tensor):  # a recorded pass: the gates as functions of the inputs, to differentiate again
            a = _input_projection(x, w_ih, b) + _steps_product(h_before, w_hh.swapaxes(-1, -2))
            blocks = [a[..., j * hidden:(j + 1) * hidden] for j in range(4)]
            i, f, g, o = Sigmoid.of(blocks[0]), Sigmoid.of(blocks[1]), Tanh.of(blocks[2]), Sigmoid.of(blocks[3])
            tanh_c = Tanh.of(cs)
        else:
            i, f, g, o = (self.gates[..., j * hidden:(j + 1) * hidden] for j in range(4))
            tanh_c = self.tanh_c
        # What each step multiplies by, for all steps at once: dc gains dh·o(1 − tanh²c), and da is
        # [dc, dc, dc, dh] times [g i(1−i), c' f(1−f), i(1−g²), tanh(c) o(1−o)].
        to_dc = o * (1.0 - tanh_c * tanh_c)
        to_da = Concatenate.of(g * i * (1.0 - i), c_before * f * (1.0 - f), i * (1.0 - g * g),
                               tanh_c * o * (1.0 - o), axis=x.ndim - 1)
        dh_next = dc_next = None
        das = [None] * steps
        for t in reversed(_order(steps, self.reverse)):
            at = (Ellipsis, t, slice(None), slice(None))
            dh, dc = dz[(slice(None),) * k + (0,) + at[1:]], dz[(slice(None),) * k + (1,) + at[1:]]
            if dh_next is not None:
                dh, dc = dh + dh_next, dc + dc_next
            dc = dc + dh * to_dc[at]
            da = Concatenate.of(dc, dc, dc, dh, axis=x.ndim - 2) * to_da[at]
            das[t] = da.reshape(da.shape[:-2] + (1,) + da.shape[-2:])
            dh_next, dc_next = da @ w_hh, dc * f[at]
        da_all = das[0] if steps == 1 else Concatenate.of(*das, axis=k)  # (..., T, N, 4H)
        rows = da_all.reshape(da_all.shape[:k] + (-1, 4 * hidden))  # every step's and example's da, a row each
        needs = self.needs_input_grad
        dx = (rows @ w_ih).reshape(x.shape) if needs[0] else None
        dw_ih = rows.swapaxes(-1, -2) @ x.reshape(x.shape[:k] + (-1, x.shape[-1])) if needs[3] else None
        dw_hh = rows.swapaxes(-1, -2) @ h_before.reshape(h_before.shape[:k] + (-1, hidden)) if needs[4] else None
        db = rows.sum(axis=k) if needs[5] else None
        return dx, dh_next if needs[1] else None, dc_next if needs[2] else None, dw_ih, dw_hh, db


def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _check_shapes(x, h0, c0, w_ih, w_hh, b):
    """The op's own shapes (the module checks the user's first, with PyTorch's messages)."""
    lead, hidden = x.shape[:-3], h0.shape[-1]
    expected = {"h0": (h0, lead + (x.shape[-2], hidden)), "c0": (c0, lead + (x.shape[-2], hidden)),
                "w_ih": (w_ih, lead + (4 * hidden, x.shape[-1])), "w_hh": (w_hh, lead + (4 * hidden, hidden)),
                "b": (b, lead + (4 * hidden,))}
    for name, (array, shape) in expected.items():
        if array.shape != shape:
            raise ValueError(f"lstm_sequence: x {x.shape} and h0 {h0.shape} need {name} of shape {shape}, got "
                             f"{array.shape}")


def _input_projection(x, w_ih, b):
    """x w_ihᵀ + b for every step at once: (..., T, N, 4H)."""
    k = x.ndim - 3
    rows = x.reshape(x.shape[:k] + (-1, x.shape[-1])) @ w_ih.swapaxes(-1, -2)
    return (rows + b.reshape(b.shape[:k] + (1, b.shape[-1]))).reshape(x.shape[:-1] + (w_ih.shape[-2],))


def _steps_product(states, w_t):
    """states (..., T, N, H) @ w_t (..., H, G) for every step: (..., T, N, G)."""
    k = states.ndim - 3
    return (states.reshape(states.shape[:k] + (-1, states.shape[-1])) @ w_t).reshape(states.shape[:-1]
                                                                                       + (w_t.shape[-1],))


def _before(states, first, reverse):
    """The state each step started from: ``first`` for the first step, the previous step's after it."""
    k = states.ndim - 3
    first = first.reshape(first.shape[:k] + (1,) + first.shape[k:])
    if states.shape[k] == 1:
        return first
    if reverse:
        return Concatenate.of(states[(slice(None),) * k + (slice(1, None),)], first, axis=k)
    return Concatenate.of(first, states[(slice(None),) * k + (slice(None, -1),)], axis=k)
