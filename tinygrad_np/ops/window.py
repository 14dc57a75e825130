"""Sliding windows: the im2col pair that convolution and pooling are built from.

``Unfold`` lays every kh x kw window of an image out along two new axes, so a
convolution becomes one matrix product and a pooling one reduction. Its
adjoint, ``Fold``, adds each window's values back onto the image at the place
the window came from. Each is the other's derivative, and both are linear, so
derivatives of every order follow.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.function import Function
from ..core.tensor import Tensor
from ..memory import scratch


def output_size(size, kernel, stride, dilation):
    """How many windows of ``kernel`` taps, ``dilation`` apart, fit in ``size`` at steps of ``stride``."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


class Unfold(Function):
    """z[n, c, i, j, p, q] = x[n, c, i*sh + p*dh, j*sw + q*dw] for x of shape (N, C, H, W).

    z has shape (N, C, OH, OW, kh, kw).   dL/dx = fold(dL/dz): each window's
    gradient added back where the window came from (``Fold``).

    Forward is a strided view of x, with no copy.
    """

    def forward(self, x, kernel, stride, dilation):
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # what a dilated window covers
        windows = sliding_window_view(x, span, axis=(2, 3))  # (N, C, H - span + 1, W - span + 1, *span)
        return windows[:, :, ::sh, ::sw, ::dh, ::dw]

    def backward(self, dz, z, x):
        return Fold.of(dz, shape=x.shape, stride=self.stride, dilation=self.dilation)


class Fold(Function):
    """The adjoint of Unfold: z = zeros(shape), then z[n, c, i*sh + p*dh, j*sw + q*dw] += x[n, c, i, j, p, q].

    dL/dx = unfold(dL/dz).   Forward loops over the kh*kw kernel offsets, each
    a strided add of a whole (N, C, OH, OW) slab: no per-element scatter.
    """

    def forward(self, x, shape, stride, dilation):
        self.kernel, self.stride, self.dilation = x.shape[-2:], stride, dilation
        n, c, oh, ow, kh, kw = x.shape
        (sh, sw), (dh, dw) = stride, dilation
        if (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and shape == (n, c, oh * kh, ow * kw):
            # Windows that tile the image exactly (pooling's usual case): putting them back is one copy.
            return x.transpose(0, 1, 2, 4, 3, 5).reshape(shape)
        z = np.zeros(shape, dtype=x.dtype)
        for p in range(kh):
            for q in range(kw):
                rows = slice(p * dh, p * dh + sh * (oh - 1) + 1, sh)
                cols = slice(q * dw, q * dw + sw * (ow - 1) + 1, sw)
                z[:, :, rows, cols] += x[:, :, :, :, p, q]
        return z

    def backward(self, dz, z, x):
        return Unfold.of(dz, kernel=self.kernel, stride=self.stride, dilation=self.dilation)


class WindowMax(Function):
    """z = max of x over the two window axes ``axes`` (max pooling): over (4, 5) of Unfold's windows, or
    over (3, 5) of an image viewed as (N, C, OH, kh, OW, kw) when the windows tile it.

    dL/dx = dL/dz at each window's first maximum (in row-major order of the
    window), 0 elsewhere: PyTorch's max_pool2d rule. The choice is a constant,
    so the second derivative is 0 wherever it exists.

    Both directions loop over the kh*kw window offsets, each an elementwise
    step over all windows at once: NumPy reduces small, separated axes of a
    view many times more slowly.
    """

    def forward(self, x, axes):
        self.axes = axes
        best = None
        for offset in self._offsets(x.shape):
            best = x[offset].copy() if best is None else np.maximum(best, x[offset], out=best)
        return best

    def _offsets(self, shape):
        """Index tuples picking one offset (p, q) of every window, in row-major order of the window."""
        a, b = self.axes
        for p in range(shape[a]):
            for q in range(shape[b]):
                index = [slice(None)] * len(shape)
                index[a], index[b] = p, q
                yield tuple(index)

    def backward(self, dz, z, x):
        x, best = np.asarray(x), np.asarray(z)
        plain = not isinstance(dz, Tensor)
        chosen = np.empty(best.shape if plain else x.shape, dtype=bool)
        dx = np.empty(x.shape, dtype=dz.dtype) if plain else None
        equal = np.empty(best.shape, dtype=bool)
        seen = np.zeros(best.shape, dtype=bool)  # windows whose first maximum is already found
        for offset in self._offsets(x.shape):
            np.equal(x[offset], best, out=equal)
            np.greater(equal, seen, out=chosen if plain else chosen[offset])  # equal and not seen: the first maximum
            seen |= equal
            if plain:  # each offset's slab written in turn: one broadcast product over the 6-d view took 8x as long
                np.multiply(dz, chosen, out=dx[offset])
        if plain:
            return dx
        expanded = list(dz.shape)
        for a in self.axes:
            expanded.insert(a, 1)
        return dz.reshape(tuple(expanded)) * chosen


class Conv2d(Function):
    """One-group convolution (cross-correlation), x (N, C, H, W) and w (O, C, kh, kw):
    z[n, o, i, j] = sum over c, p, q of xp[n, c, i*sh + p*dh, j*sw + q*dw] w[o, c, p, q], xp = x with
    ``padding`` zeros on each side. z is (N, O, OH, OW).

    With X the (C kh kw, N OH OW) matrix of xp's windows and G = dL/dz as (O, N OH OW):
    dL/dw = G @ Xᵀ,   dL/dx = the windows of wᵀ @ G added back where they came from (Fold), cut to x;
    at stride 1 the same as the correlation of dL/dz, padded, with w flipped and transposed.

    One op rather than pad, Unfold, reshape and a product: the window matrix
    is one contiguous copy (kept for backward, and reused from replay to
    replay by the jit, which runs the same instance), and at stride 1 dL/dx is
    a second such copy and product instead of zeros and kh*kw strided adds,
    which took longer than the product itself.

    At stride 1 with at least SHIFTED_FROM_CHANNELS input channels, no window
    matrix at all: x padded, channel-major, is a (C, N·Hp·Wp) matrix P, and
    window offset (p, q) is P's columns shifted by p·dh·Wp + q·dw, so
    z = Σ_pq W[:, :, p, q] @ P shifted, read on the padded grid (the grid's
    last rows and columns are not outputs, and are dropped). kh·kw products
    with C in the middle and kh·kw adds, instead of copying every window kh·kw
    times: a 3x3 conv of 16 channels on 28x28 took 0.77 of the time, forward
    and backward, and keeps a ninth of the memory for backward. Below 8
    channels the products are too thin for BLAS (C = 1 took 1.8 times as long).
    dL/dw[:, :, p, q] = G @ (P shifted)ᵀ with G = dL/dz on the grid (zero
    where no output is); dL/dx = Σ_pq W[:, :, p, q]ᵀ @ G shifted back.
    """

    def forward(self, x, w, stride, padding, dilation):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        if _shifted_fits(x, w, stride, padding, dilation):
            return self._shifted_forward(x, w)
        self.grid = None
        columns = self.columns = _columns(self, "kept_windows", _padded(None, "conv2d: x padded", x, padding),
                                          w.shape[2:], stride, dilation)
        n, (oh, ow) = x.shape[0], _out_size(x.shape[2:], w.shape[2:], stride, padding, dilation)
        product = w.reshape(w.shape[0], -1) @ columns  # (O, N * OH * OW)
        # (N, O, OH, OW) as a view of the product: channel-major memory, which the ops after it read as they read
        # any strides, and which backward's dL/dz then arrives in, so that neither direction copies to relayout.
        return product.reshape(w.shape[0], n, oh, ow).transpose(1, 0, 2, 3)

    def backward(self, dz, z, x, w):
        need_x, need_w = self.needs_input_grad
        if isinstance(dz, Tensor):  # a recorded pass: the same formulas from ops, so that they differentiate again
            return _recorded_grads(self, dz, x, w)
        if self.grid is not None:
            return self._shifted_backward(dz, x, w)
        o = w.shape[0]
        rows = dz.transpose(1, 0, 2, 3).reshape(o, -1)  # G: (O, N * OH * OW); no copy if dz is channel-major
        dw = (rows @ self.columns.T).reshape(w.shape) if need_w else None
        if not need_x:
            return None, dw
        (kh, kw), (ph, pw), (dh, dw_) = w.shape[2:], self.padding, self.dilation
        reach = (dh * (kh - 1) - ph, dw_ * (kw - 1) - pw)
        if self.stride == (1, 1) and min(reach) >= 0 and 5 * dz.shape[2] * dz.shape[3] >= 4 * x.shape[2] * x.shape[3]:
            # dL/dx is the correlation of dL/dz, padded by each window's reach less x's padding, with w flipped
            # and its in/out axes swapped: one window copy and one product, as forward. Only where the output is
            # about as large as the input ("same" padding): the product is over x's positions, and for a valid
            # 5x5 conv on 14x14 (LeNet's second) that is twice the work of the product below and its adds.
            flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
            columns = _columns(None, "conv2d: dL/dx windows", _padded(None, "conv2d: dL/dz padded", dz, reach),
                               (kh, kw), (1, 1), self.dilation)
            product = flipped.reshape(flipped.shape[0], -1) @ columns
            return product.reshape(x.shape[1], x.shape[0], *x.shape[2:]).transpose(1, 0, 2, 3), dw
        windows = (w.reshape(o, -1).T @ rows).reshape((x.shape[1], kh, kw, x.shape[0]) + dz.shape[2:])
        padded = Fold.of(windows.transpose(3, 0, 4, 5, 1, 2), shape=x.shape[:2] + (x.shape[2] + 2 * ph,
                         x.shape[3] + 2 * pw), stride=self.stride, dilation=self.dilation)
        return padded[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]], dw


    # ---- stride 1: shifted products over the padded grid (the class's doc) -----------------------------------
    def _geometry(self, x, w):
        (n, c, h, wd), (o, _, kh, kw), (ph, pw), (dh, dw) = x.shape, w.shape, self.padding, self.dilation
        hp, wp = h + 2 * ph, wd + 2 * pw
        offsets = [p * dh * wp + q * dw for p in range(kh) for q in range(kw)]
        return n, c, h, wd, o, kh, kw, ph, pw, hp, wp, hp - dh * (kh - 1), wp - dw * (kw - 1), offsets

    def _shifted_forward(self, x, w):
        n, c, h, wd, o, kh, kw, ph, pw, hp, wp, oh, ow, offsets = self._geometry(x, w)
        length = n * hp * wp
        # x padded, channel-major, with room after it for the last offset: kept (its zeros stay), read by backward
        grid = self.grid = _kept(self, f"kept_grid by {ph}, {pw}", (c, length + offsets[-1]), x.dtype, fill=0)
        grid[:, :length].reshape(c, n, hp, wp)[:, :, ph:ph + h, pw:pw + wd] = x.transpose(1, 0, 2, 3)
        taps = np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(kh * kw, o, c)  # W[:, :, p, q], one a tap
        out = np.matmul(taps[0], grid[:, :length])
        term = scratch("conv2d: one tap's product", out.shape, out.dtype)
        for k in range(1, kh * kw):
            np.matmul(taps[k], grid[:, offsets[k]:offsets[k] + length], out=term)
            out += term
        return out.reshape(o, n, hp, wp)[:, :, :oh, :ow].transpose(1, 0, 2, 3)

    def _shifted_backward(self, dz, x, w):
        need_x, need_w = self.needs_input_grad
        n, c, h, wd, o, kh, kw, ph, pw, hp, wp, oh, ow, offsets = self._geometry(x, w)
        length, reach = n * hp * wp, offsets[-1]
        # G on the grid, with `reach` zeros before it (dL/dx reads it shifted back); zero where no output is
        g = scratch(f"conv2d: dL/dz on the grid {hp}x{wp}, outputs {oh}x{ow}", (o, reach + length), dz.dtype,
                    zeroed=True)
        g[:, reach:].reshape(o, n, hp, wp)[:, :, :oh, :ow] = dz.transpose(1, 0, 2, 3)
        rows = g[:, reach:]
        dw = None
        if need_w:
            taps = np.empty((kh * kw, o, c), w.dtype)
            for k, off in enumerate(offsets):
                np.matmul(rows, self.grid[:, off:off + length].T, out=taps[k])
            dw = taps.reshape(kh, kw, o, c).transpose(2, 3, 0, 1)
        if not need_x:
            return None, dw
        taps_t = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(kh * kw, c, o)  # W[:, :, p, q]ᵀ
        dx = np.matmul(taps_t[0], rows)  # offset 0: G itself
        term = scratch("conv2d: one tap's dL/dx", dx.shape, dx.dtype)
        for k in range(1, kh * kw):
            start = reach - offsets[k]
            np.matmul(taps_t[k], g[:, start:start + length], out=term)
            dx += term
        return dx.reshape(c, n, hp, wp)[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3), dw


#: Stride-1 convolutions with at least this many input channels take the shifted products (Conv2d's doc).
SHIFTED_FROM_CHANNELS = 8


def _shifted_fits(x, w, stride, padding, dilation):
    """Stride 1, channels enough for BLAS, and outputs most of the padded grid (valid 5x5 on 14x14 would compute
    twice the outputs it keeps)."""
    if stride != (1, 1) or x.shape[1] < SHIFTED_FROM_CHANNELS:
        return False
    hp, wp = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    oh, ow = hp - dilation[0] * (w.shape[2] - 1), wp - dilation[1] * (w.shape[3] - 1)
    return 5 * oh * ow >= 3 * hp * wp


def _out_size(size, kernel, stride, padding, dilation):
    return tuple(output_size(n + 2 * p, k, s, d) for n, k, s, p, d in zip(size, kernel, stride, padding, dilation,
                                                                             strict=True))


def _kept(fn, name, shape, dtype, fill=None):
    """An array of ``shape`` kept on the op as ``name`` (kept_...: a jit replay drops the rest of what an op saved
    once its rule has run, and keeps these): a replay runs the same op instance every step, so the arrays its
    forward keeps for backward are made once, and no step pays the kernel for fresh pages (eager ops are new
    each call). With no op, a scratch array of the thread's (memory.scratch), for work that ends
    inside the call."""
    if fn is None:
        return scratch(name, shape, dtype, zeroed=fill is not None)
    buffer = fn.__dict__.get(name)
    if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
        buffer = np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
        fn.__dict__[name] = buffer
    return buffer


def _padded(fn, name, x, padding):
    """x with ``padding`` zeros on each side of its last two axes, in a kept array whose border stays zero."""
    ph, pw = padding
    if not ph and not pw:
        return x
    n, c, h, w = x.shape
    # The padding joins the name: one padded shape comes from several paddings ((1, 5) padded by 1 and (1, 3)
    # padded by (1, 2) are both 3 x 7), and each leaves zeros only in its own border.
    out = _kept(fn, f"{name} by {ph}, {pw}", (n, c, h + 2 * ph, w + 2 * pw), x.dtype, fill=0)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _columns(fn, name, xp, kernel, stride, dilation):
    """The (C kh kw, N OH OW) matrix of xp's windows, one window a column, copied once into a kept array."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    windows = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, OH, OW, kh, kw), a view
    n, c, oh, ow = windows.shape[:4]
    columns = _kept(fn, name, (c, kh, kw, n, oh, ow), xp.dtype)
    np.copyto(columns, windows.transpose(1, 4, 5, 0, 2, 3))
    return columns.reshape(c * kh * kw, n * oh * ow)


def _recorded_grads(fn, dz, x, w):
    """Conv2d's gradients as Tensor ops (for create_graph): the windows by Unfold, the products by matmul, the
    input's gradient by Fold, so that each differentiates again."""
    need_x, need_w = fn.needs_input_grad
    (ph, pw), (o, c, kh, kw) = fn.padding, w.shape
    xp = x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    rows = dz.transpose(1, 0, 2, 3).reshape(o, -1)
    dw = None
    if need_w:
        windows = Unfold.apply(xp, kernel=(kh, kw), stride=fn.stride, dilation=fn.dilation)
        dw = (rows @ windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, -1).T).reshape(w.shape)
    if not need_x:
        return None, dw
    windows = (w.reshape(o, -1).T @ rows).reshape((c, kh, kw, x.shape[0]) + dz.shape[2:])
    padded = Fold.apply(windows.transpose(3, 0, 4, 5, 1, 2), shape=xp.shape, stride=fn.stride, dilation=fn.dilation)
    return padded[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]], dw
