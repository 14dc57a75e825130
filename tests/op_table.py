"""The op table: every differentiable op, once, with how to make its inputs and its NumPy reference.

Each row is ``Op(name, ours, numpy, inputs)``:
* ``ours(*tensors, **params)`` computes the op with tinygrad_np;
* ``numpy(*arrays, **params)`` computes the same with NumPy (the reference);
* ``inputs`` is a hypothesis strategy for a ``Case``: the float64 input arrays
  (broadcast shapes, 0-d, away from kinks where the op has them) and the
  keyword parameters (axes drawn negative as often as not).

tests/test_ops.py turns every row into the same tests: forward against NumPy,
float32 in gives float32 out (gradients too), gradcheck and gradgradcheck,
and, for rows with an ``axis``, the same answer with the axis counted from the
end. Adding an op is one row here plus its Function.
"""
import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.nn import functional as F
from tinygrad_np.testing import arrays, away_from_zero, broadcastable_shapes, distinct, positive, shapes


@dataclass
class Case:
    arrays: tuple
    params: dict = field(default_factory=dict)

    def __repr__(self):
        shapes_ = ", ".join(str(a.shape) for a in self.arrays)
        return f"Case(shapes {shapes_}, params {self.params})"


@dataclass
class Op:
    name: str
    ours: object
    numpy: object
    inputs: object  # a strategy for Case
    second_order: bool = True
    axis_param: str | None = None  # the keyword holding an axis, for the negative-axis test


# ---- strategies for inputs ----------------------------------------------------------------------
def unary(values=arrays, **shape_kwargs):
    return shapes(**shape_kwargs).flatmap(values).map(lambda x: Case((x,)))


def binary(x_values=arrays, y_values=arrays):
    return broadcastable_shapes(2).flatmap(
        lambda s: st.tuples(x_values(s[0]), y_values(s[1]))).map(lambda xy: Case(xy))


def interleaved(shape_pair):
    """x and y on two interleaved grids: never equal, at least 0.005 apart (maximum's kink is x = y)."""
    xs = st.integers(-200, 200).map(lambda i: i * 0.01 + 0.005)
    ys = st.integers(-200, 200).map(lambda i: i * 0.01)
    from hypothesis.extra import numpy as hnp
    return st.tuples(hnp.arrays(np.float64, shape_pair[0], elements=xs),
                     hnp.arrays(np.float64, shape_pair[1], elements=ys))


def signed_axis(ndim):
    """An axis for ``ndim`` dimensions, as often negative as not."""
    return st.integers(-ndim, ndim - 1)


def axes(ndim):
    """None, one axis, or several distinct ones, each maybe negative."""
    if ndim == 0:
        return st.none()
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda chosen: st.tuples(*[st.sampled_from([a, a - ndim]) for a in chosen]))
    return st.one_of(st.none(), signed_axis(ndim), several)


def reduction(values=arrays, min_count=1):
    """x, axis and keepdims, with at least ``min_count`` elements reduced."""
    @st.composite
    def build(draw):
        shape = draw(shapes(min_dims=1 if min_count > 1 else 0, min_side=max(1, min_count)))
        x = draw(values(shape))
        axis = draw(axes(len(shape)))
        return Case((x,), {"axis": axis, "keepdims": draw(st.booleans())})
    return build()


def along_axis(values=arrays, min_dims=1, extra=None):
    @st.composite
    def build(draw):
        shape = draw(shapes(min_dims=min_dims))
        params = {"axis": draw(signed_axis(len(shape)))}
        if extra:
            params.update(draw(extra(shape, params["axis"])))
        return Case((draw(values(shape)),), params)
    return build()


@st.composite
def matmul_inputs(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    x_batch, y_batch = draw(broadcastable_shapes(2, max_dims=2))
    x_shape = (k,) if draw(st.booleans()) else x_batch + (n, k)
    y_shape = (k,) if draw(st.booleans()) else y_batch + (k, m)
    return Case((draw(arrays(x_shape)), draw(arrays(y_shape))))


@st.composite
def linear_inputs(draw, bias=True):
    """x (..., in) with 0 to 2 leading axes, weight (out, in) and, with ``bias``, bias (out,)."""
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lead = draw(shapes(max_dims=2))
    arrays_ = (draw(arrays(lead + (n_in,))), draw(arrays((n_out, n_in))))
    return Case(arrays_ + ((draw(arrays((n_out,))),) if bias else ()))


@st.composite
def permutation_inputs(draw):
    shape = draw(shapes())
    perm = draw(st.permutations(range(len(shape))))
    negate = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
    axes = tuple(a - len(shape) if n else a for a, n in zip(perm, negate, strict=True))
    return Case((draw(arrays(shape)),), {"axes": axes})


@st.composite
def basic_index_inputs(draw):
    shape = draw(shapes(min_dims=1))
    index = []
    for n in shape:
        if draw(st.booleans()):
            index.append(draw(st.integers(-n, n - 1)))
        else:
            index.append(slice(draw(st.none() | st.integers(-n, n)), draw(st.none() | st.integers(-n, n)),
                               draw(st.none() | st.integers(1, 3) | st.integers(-3, -1))))
    return Case((draw(arrays(shape)),), {"index": tuple(index)})


@st.composite
def array_index_inputs(draw):
    shape = draw(shapes(min_dims=1))
    rows = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6))
    return Case((draw(arrays(shape)),), {"index": np.array(rows)})


@st.composite
def scatter_add_inputs(draw):
    """Rows (repeats and negatives among them) of a target shape, and values for them: the adjoint of indexing."""
    shape = draw(shapes(min_dims=1))
    rows = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6))
    return Case((draw(arrays((len(rows),) + shape[1:])),), {"index": np.array(rows), "shape": shape})


@st.composite
def join_inputs(draw, new_axis):
    shape = draw(shapes(min_dims=1))
    ndim = len(shape) + (1 if new_axis else 0)
    axis = draw(signed_axis(ndim))
    other = list(shape)
    if not new_axis:
        other[axis] = draw(st.integers(1, 3))
    return Case((draw(arrays(shape)), draw(arrays(tuple(other)))), {"axis": axis})


@st.composite
def split_inputs(draw, by_count):
    shape = draw(shapes(min_dims=1))
    axis = draw(signed_axis(len(shape)))
    size = draw(st.integers(1, shape[axis] + 1))
    return Case((draw(arrays(shape)),), {"axis": axis, ("n" if by_count else "size"): size})


@st.composite
def pad_inputs(draw):
    shape = draw(shapes(min_dims=1))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    return Case((draw(arrays(shape)),), {"pad_width": widths, "value": draw(st.sampled_from([0.0, -1.5]))})


@st.composite
def squeeze_inputs(draw):
    shape = draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=4).map(tuple))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = None
    if ones and draw(st.booleans()):
        a = draw(st.sampled_from(ones))
        axis = draw(st.sampled_from([a, a - len(shape)]))
    return Case((draw(arrays(shape)),), {"axis": axis})


@st.composite
def where_inputs(draw):
    s_cond, s_x, s_y = draw(broadcastable_shapes(3))
    cond = draw(arrays(s_cond)) > 0
    return Case((draw(arrays(s_x)), draw(arrays(s_y))), {"condition": cond})


@st.composite
def clip_inputs(draw):
    low = draw(st.sampled_from([None, -1.0, 0.0]))
    high = draw(st.sampled_from([0.5, 1.5] if low is None else [None, 0.5, 1.5]))  # clip(None, None) is refused
    x = draw(shapes().flatmap(arrays))
    # Keep away from the bounds, where the derivative jumps.
    for bound in (low, high):
        if bound is not None:
            x = np.where(np.abs(x - bound) < 0.05, bound + 0.1, x)
    return Case((x,), {"min": low, "max": high})


@st.composite
def classifier_inputs(draw, spatial=False, targets=True):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) if spatial else ()
    logits = draw(arrays((n, c) + extra, low=-5, high=5))
    target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n * int(np.prod(extra)),
                                    max_size=n * int(np.prod(extra))))).reshape((n,) + extra).astype(np.int64)
    params = {"target": target} if targets else {"labels": target}
    return Case((logits,), params)


@st.composite
def f_cross_entropy_inputs(draw):
    case = draw(classifier_inputs(spatial=True))
    target = case.params["target"]
    ignored = draw(st.lists(st.booleans(), min_size=target.size, max_size=target.size))
    target = np.where(np.array(ignored).reshape(target.shape) & (target.size > 1), -100, target)
    if (target == -100).all():
        target.flat[0] = 0
    case.params.update(target=target, label_smoothing=draw(st.sampled_from([0.0, 0.1])),
                       reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    return case


@st.composite
def two_same_shape(draw, x_values=arrays, y_values=arrays):
    shape = draw(shapes())
    x, y = draw(x_values(shape)), draw(y_values(shape))
    return Case((x, y), {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))})


@st.composite
def conv_inputs(draw, dims):
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    size = tuple(draw(st.integers(d * (k - 1) + 1 - 2 * p if d * (k - 1) + 1 - 2 * p > 0 else 1, 5))
                 for k, p, d in zip(kernel, padding, dilation, strict=True))
    n = draw(st.integers(1, 2))
    x = draw(arrays((n, c_in) + size))
    w = draw(arrays((c_out, c_in // groups) + kernel))
    b = draw(arrays((c_out,)))
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if dims == 1:
        params = {k: (v[0] if isinstance(v, tuple) else v) for k, v in params.items()}
    return Case((x, w, b), params)


@st.composite
def pool_inputs(draw, values):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, (1, 1), (2, 1)]))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    size = (draw(st.integers(kernel[0], 5)), draw(st.integers(kernel[1], 5)))
    x = draw(values((draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size))
    return Case((x,), {"kernel_size": kernel, "stride": stride, "padding": padding})


@st.composite
def layer_norm_inputs(draw):
    shape = draw(shapes(min_dims=1, min_side=2))
    k = draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - k:]
    return Case((draw(distinct(shape)), draw(arrays(normalized)), draw(arrays(normalized))),
                {"normalized_shape": normalized})


@st.composite
def batch_norm_inputs(draw):
    shape = (draw(st.integers(2, 4)), draw(st.integers(1, 3))) + tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    c = shape[1]
    return Case((draw(distinct(shape)), draw(arrays((c,))), draw(arrays((c,)))))


@st.composite
def embedding_inputs(draw):
    rows, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    index_shape = draw(shapes(max_dims=2))
    indices = np.array(draw(st.lists(st.integers(0, rows - 1), min_size=int(np.prod(index_shape)),
                                     max_size=int(np.prod(index_shape))))).reshape(index_shape).astype(np.int64)
    return Case((draw(arrays((rows, dim))),), {"indices": indices})


# ---- NumPy references that are more than one line ---------------------------------------------------
def np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_conv2d(x, w, b, stride, padding, dilation, groups):
    """Cross-correlation by its definition: a loop over output positions (slow, obviously right)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, wd = x.shape
    out_c, per_group, kh, kw = w.shape
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, out_c, oh, ow))
    per_out = out_c // groups
    for o in range(out_c):
        g = o // per_out
        for i in range(oh):
            for j in range(ow):
                window = x[:, g * per_group:(g + 1) * per_group,
                           i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
                out[:, o, i, j] = (window * w[o]).sum(axis=(1, 2, 3)) + b[o]
    return out


def np_pool(x, kernel_size, stride, padding, reduce, pad_value):
    kh, kw = kernel_size
    sh, sw = stride or kernel_size
    ph, pw = padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(2, 3))
    return out


def np_cross_entropy(logits, target, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    logp = np_log_softmax(logits, 1)
    keep = target != ignore_index
    onehot = np.moveaxis(np.eye(logits.shape[1])[np.where(keep, target, 0)], -1, 1)
    q = (1 - label_smoothing) * onehot + label_smoothing / logits.shape[1]
    loss = -(q * logp).sum(axis=1) * keep
    return {"none": loss, "sum": loss.sum(), "mean": loss.sum() / keep.sum()}[reduction]


def np_batch_norm(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


def np_scatter_add(x, index, shape):
    z = np.zeros(shape)
    np.add.at(z, index, x)
    return z


def np_sum_to(x, shape):
    """Sum x down to ``shape``: the adjoint of broadcasting ``shape`` up to x.shape."""
    while x.ndim > len(shape):
        x = x.sum(axis=0)
    return x.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)


def np_split(x, axis, size):
    pieces = np.split(x, range(size, x.shape[axis], size), axis=axis)
    return np.concatenate([p * (i + 1) for i, p in enumerate(pieces)], axis=axis)


def weighted_pieces(pieces, axis):
    """The pieces joined again, each scaled by its position: a wrong split or order shows."""
    return tg.concatenate([p * (i + 1) for i, p in enumerate(pieces)], axis=axis)


def reduce_np(reduction, loss):
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0, x)


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


np_erf = np.vectorize(math.erf, otypes=[np.float64])  # the standard library's erf, elementwise: the reference


def np_gelu(x):
    return 0.5 * x * (1 + np_erf(x / np.sqrt(2)))


def var_case(values=distinct):
    @st.composite
    def build(draw):
        case = draw(reduction(values, min_count=3))
        case.params["ddof"] = draw(st.sampled_from([0, 1]))
        return case
    return build()


# ---- the table -------------------------------------------------------------------------------------

# ---- inputs for a PyTorch user's first-day ops (issue 22) ------------------------------------------------------
def off_grid(shape, low=-4.0, high=4.0):
    """Values on a grid of step 0.05 offset by 0.025: never an integer, never 0, ±1, ±3 or 6, the jumps and kinks
    of sign, floor, ceil, trunc, relu6, hardtanh and hardswish."""
    from hypothesis.extra import numpy as hnp
    return hnp.arrays(np.float64, shape, elements=st.integers(round(low / 0.05), round(high / 0.05) - 1).map(
        lambda i: i * 0.05 + 0.025))


@st.composite
def triangle_inputs(draw):
    shape = draw(shapes(min_dims=2, max_dims=3))
    return Case((draw(arrays(shape)),), {"k": draw(st.integers(-2, 2))})


@st.composite
def tile_inputs(draw):
    shape = draw(shapes(max_dims=2, max_side=3))
    reps = draw(st.one_of(st.integers(1, 3), st.lists(st.integers(1, 2), min_size=1, max_size=3).map(tuple)))
    return Case((draw(arrays(shape)),), {"reps": reps})


@st.composite
def repeat_inputs(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    return Case((draw(arrays(shape)),), {"repeats": draw(st.integers(0, 3)), "axis": draw(signed_axis(len(shape)))})


@st.composite
def along_axis_index_inputs(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(signed_axis(len(shape)))
    picked = list(shape)
    picked[axis] = draw(st.integers(1, 4))
    from hypothesis.extra import numpy as hnp
    indices = draw(hnp.arrays(np.int64, tuple(picked), elements=st.integers(0, shape[axis] - 1)))
    return Case((draw(arrays(shape)),), {"indices": indices, "axis": axis})


@st.composite
def attention_inputs(draw):
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    length, source, width = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    causal = draw(st.booleans())
    source = length if causal else source
    q, k, v = (draw(arrays(batch + (n, width))) for n in (length, source, source))
    return Case((q, k, v), {"is_causal": causal})


def np_attention(q, k, v, is_causal):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if is_causal:
        scores = np.where(np.tri(q.shape[-2], k.shape[-2], dtype=bool), scores, -np.inf)
    return np.exp(np_log_softmax(scores, -1)) @ v


def np_binary_cross_entropy(p, t, reduction):
    loss = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss



@st.composite
def conv_transpose_inputs(draw):
    groups, stride, dilation = draw(st.sampled_from([1, 2])), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    c, per_group = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw, h, w = (draw(st.integers(1, 3)) for _ in range(4))
    padding = draw(st.integers(0, (min(kh, kw) - 1) * dilation // 2))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    x, weight, bias = (draw(arrays(s)) for s in ((draw(st.integers(1, 2)), c, h, w), (c, per_group, kh, kw),
                                                 (groups * per_group,)))
    return Case((x, weight, bias), {"stride": stride, "padding": padding, "output_padding": output_padding,
                                    "groups": groups, "dilation": dilation})


def np_conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation):
    """The definition, loop by loop: each input pixel adds weight * its value where its window lands."""
    n, c, h, w = x.shape
    _, per_group, kh, kw = weight.shape
    full = [(size - 1) * stride + dilation * (k - 1) + 1 + output_padding for size, k in ((h, kh), (w, kw))]
    out = np.zeros((n, groups * per_group, *full))
    for ci in range(c):
        g = ci // (c // groups)
        for i in range(h):
            for j in range(w):
                for p in range(kh):
                    for q in range(kw):
                        out[:, g * per_group:(g + 1) * per_group, i * stride + p * dilation,
                            j * stride + q * dilation] += x[:, ci, i, j, None] * weight[ci, :, p, q]
    out = out[:, :, padding:full[0] - padding, padding:full[1] - padding]
    return out + bias.reshape(-1, 1, 1)


@st.composite
def adaptive_pool_inputs(draw):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    size = (draw(st.integers(1, shape[2])), draw(st.integers(1, shape[3])))
    return Case((draw(arrays(shape)),), {"output_size": size})


def np_adaptive_avg_pool2d(x, output_size):
    (h, w), (oh, ow) = x.shape[2:], output_size
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * h // oh, -(-(i + 1) * h // oh))
            cols = slice(j * w // ow, -(-(j + 1) * w // ow))
            out[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    return out


@st.composite
def interpolate_inputs(draw):
    shape = (1, draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    params = draw(st.one_of(
        st.integers(1, 3).map(lambda f: {"scale_factor": f}),
        st.tuples(st.integers(1, 7), st.integers(1, 7)).map(lambda size: {"size": size})))
    return Case((draw(arrays(shape)),), params)


def np_nearest(x, size=None, scale_factor=None):
    h, w = x.shape[2:]
    out = size or (h * scale_factor, w * scale_factor)
    rows = [min(int(np.floor(i * h / out[0])), h - 1) for i in range(out[0])]
    cols = [min(int(np.floor(j * w / out[1])), w - 1) for j in range(out[1])]
    return x[:, :, rows][:, :, :, cols]



@st.composite
def torch_pad_inputs(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    widths = []
    for _ in range(draw(st.integers(1, len(shape)))):
        n = shape[len(shape) - 1 - len(widths) // 2]
        before = draw(st.integers(-(n // 2), 2))
        widths += [before, draw(st.integers(-(n - max(-before, 0)) // 2, 2))]
    return Case((draw(arrays(shape)),), {"pad": tuple(widths), "value": draw(st.sampled_from([0.0, 1.5]))})


def np_torch_pad(x, pad, value):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    x = np.pad(x, [(max(b, 0), max(a, 0)) for b, a in widths], constant_values=value)
    return x[tuple(slice(-min(b, 0), x.shape[i] + min(a, 0) if a < 0 else None) for i, (b, a) in enumerate(widths))]


@st.composite
def same_conv_inputs(draw):
    kh, kw, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    x = draw(arrays((draw(st.integers(1, 2)), 2, draw(st.integers(2, 5)), draw(st.integers(2, 5)))))
    return Case((x, draw(arrays((2, 2, kh, kw)))), {"dilation": dilation})


def np_same_conv(x, w, dilation):
    kh, kw = w.shape[2:]
    th, tw = dilation * (kh - 1), dilation * (kw - 1)
    padded = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    out = np.zeros((x.shape[0], w.shape[0]) + x.shape[2:])
    for i in range(x.shape[2]):
        for j in range(x.shape[3]):
            window = padded[:, :, i:i + th + 1:dilation, j:j + tw + 1:dilation]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", window, w)
    return out


@st.composite
def dilated_pool_inputs(draw):
    k, dilation, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    reach = dilation * (k - 1) + 1
    height, width = draw(st.integers(reach, reach + 3)), draw(st.integers(reach, reach + 3))
    x = draw(distinct((1, draw(st.integers(1, 2)), height, width)))
    return Case((x,), {"kernel_size": k, "stride": stride, "dilation": dilation})


def np_dilated_max_pool(x, kernel_size, stride, dilation):
    reach = dilation * (kernel_size - 1) + 1
    oh, ow = ((n - reach) // stride + 1 for n in x.shape[2:])
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * stride, i * stride + reach, dilation)
            out[:, :, i, j] = x[:, :, rows, j * stride:j * stride + reach:dilation].max(axis=(2, 3))
    return out



EINSUM_SPECS = ["ij,jk->ik", "ij,jk", "ij->", "ij->j", "ij->ji", "bij,bjk->bik", "i,i->", "ij,ij->i", "ijk,jk->i",
                "i,j->ij"]


@st.composite
def einsum_inputs(draw):
    spec = draw(st.sampled_from(EINSUM_SPECS))
    sizes = {c: draw(st.integers(1, 3)) for c in sorted(set(spec) - set(",->"))}
    operands = tuple(draw(arrays(tuple(sizes[c] for c in own))) for own in spec.split("->")[0].split(","))
    return Case(operands, {"subscripts": spec})


# ---- issue 29 (ops1): reductions, running ops, sorting, elementwise functions, division that rounds ------
@st.composite
def lerp_inputs(draw):
    s_x, s_end, s_weight = draw(broadcastable_shapes(3))
    if draw(st.booleans()):
        return Case((draw(arrays(s_x)), draw(arrays(s_end))), {"weight": draw(st.sampled_from([0.25, 0.5, 0.75]))})
    return Case((draw(arrays(s_x)), draw(arrays(s_end)), draw(arrays(s_weight))))


@st.composite
def rounded_division_inputs(draw):
    """x and y of one shape with x / y at least 0.1 away from an integer: the quotient's jumps, where the
    remainders jump too."""
    shape = draw(shapes())
    y = draw(away_from_zero(shape, margin=0.3))
    from hypothesis.extra import numpy as hnp
    whole = draw(hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float)))
    part = draw(arrays(shape, low=0.1, high=0.9))
    return Case(((whole + part) * y, y))


@st.composite
def topk_inputs(draw):
    case = draw(along_axis(distinct))
    n = case.arrays[0].shape[case.params["axis"]]
    case.params.update(k=draw(st.integers(1, n)), largest=draw(st.booleans()))
    return case


def np_topk(x, axis, k, largest):
    ordered = -np.sort(-x, axis=axis) if largest else np.sort(x, axis=axis)
    return np.take(ordered, range(k), axis=axis)


@st.composite
def normalize_inputs(draw):
    case = draw(along_axis(away_from_zero))
    case.params["p"] = draw(st.sampled_from([1.0, 2.0, 3.0, -1.0]))
    return case


def np_normalize(x, axis, p):
    norm = (np.abs(x) ** p).sum(axis=axis, keepdims=True) ** (1 / p)
    return x / np.maximum(norm, 1e-12)


def np_softplus(x, beta, threshold):
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


@st.composite
def softplus_inputs(draw):
    """beta and a threshold of 1, values off the grid of 0.05 (beta x never within reach of 1, the jump)."""
    beta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    return Case((draw(shapes().flatmap(lambda s: off_grid(s, -3.0, 3.0))),), {"beta": beta, "threshold": 1.0})


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

OPS1_ROWS = [
    # reductions and running ops
    # away from 0 (subnormals' squares underflow in any rule that divides, PyTorch's too); zeros have rows of their own
    Op("prod", lambda x, **p: x.prod(**p), lambda x, **p: x.prod(**p), reduction(away_from_zero), axis_param="axis"),
    Op("prod with zeros", lambda x, **p: x.prod(**p), lambda x, **p: x.prod(**p),
       reduction(lambda s: arrays(s, elements=st.sampled_from([0.0, 0.0, -1.5, 0.5, 1.25, 2.0]))),
       axis_param="axis"),
    Op("cumprod", lambda x, axis: x.cumprod(axis), lambda x, axis: np.cumprod(x, axis), along_axis(away_from_zero),
       axis_param="axis"),
    Op("cumprod with zeros", lambda x, axis: x.cumprod(axis), lambda x, axis: np.cumprod(x, axis),
       along_axis(lambda s: arrays(s, elements=st.sampled_from([0.0, 0.0, -1.5, 0.5, 1.25, 2.0]))),
       axis_param="axis"),
    Op("logcumsumexp", lambda x, axis: x.logcumsumexp(axis), lambda x, axis: np.logaddexp.accumulate(x, axis),
       along_axis(lambda s: arrays(s, low=-30, high=30)), axis_param="axis"),
    Op("cummax", lambda x, axis: x.cummax(axis).values, lambda x, axis: np.maximum.accumulate(x, axis),
       along_axis(distinct), axis_param="axis"),
    Op("cummin", lambda x, axis: x.cummin(axis).values, lambda x, axis: np.minimum.accumulate(x, axis),
       along_axis(distinct), axis_param="axis"),
    Op("sort", lambda x, axis: x.sort(axis).values, lambda x, axis: np.sort(x, axis), along_axis(distinct),
       axis_param="axis"),
    Op("sort descending", lambda x, axis: x.sort(axis, descending=True).values,
       lambda x, axis: -np.sort(-x, axis), along_axis(distinct), axis_param="axis"),
    Op("topk", lambda x, **p: x.topk(**p).values, np_topk, topk_inputs(), axis_param="axis"),
    Op("std_mean", lambda x, **p: tg.stack(tg.std_mean(x, **p)), lambda x, **p: np.stack([x.std(**p), x.mean(
        axis=p["axis"], keepdims=p["keepdims"])]), var_case(), axis_param="axis"),
    # elementwise
    Op("round", lambda x: x.round(), np.round, unary(off_grid)),
    Op("lerp", lambda x, end, *w, **p: x.lerp(end, *w, **p), lambda x, end, *w, weight=None: x + (
        w[0] if w else weight) * (end - x), lerp_inputs()),
    Op("log10", lambda x: x.log10(), np.log10, unary(positive)),
    Op("erf", lambda x: x.erf(), np_erf, unary(lambda s: arrays(s, low=-5, high=5))),
    Op("copysign", lambda x, y: x.copysign(y), np.copysign, binary(away_from_zero, away_from_zero)),
    Op("logaddexp", lambda x, y: x.logaddexp(y), np.logaddexp, binary()),
    Op("quick_gelu", lambda x: x.quick_gelu(), lambda x: x * sigmoid(1.702 * x), unary()),
    Op("asin", lambda x: x.asin(), np.arcsin, unary(lambda s: arrays(s, low=-0.9, high=0.9))),
    Op("acos", lambda x: x.acos(), np.arccos, unary(lambda s: arrays(s, low=-0.9, high=0.9))),
    Op("atan", lambda x: x.atan(), np.arctan, unary()),
    Op("sinh", lambda x: x.sinh(), np.sinh, unary()),
    Op("cosh", lambda x: x.cosh(), np.cosh, unary()),
    Op("asinh", lambda x: x.asinh(), np.arcsinh, unary()),
    Op("acosh", lambda x: x.acosh(), np.arccosh, unary(lambda s: arrays(s, low=1.1, high=3.0))),
    Op("atanh", lambda x: x.atanh(), np.arctanh, unary(lambda s: arrays(s, low=-0.9, high=0.9))),
    Op("F.selu", lambda x: F.selu(x), lambda x: SELU_SCALE * np.where(
        x > 0, x, SELU_ALPHA * (np.exp(np.minimum(x, 0)) - 1)), unary(away_from_zero)),
    Op("F.logsigmoid", lambda x: F.logsigmoid(x), lambda x: -np.logaddexp(0, -x), unary()),
    Op("F.hardsigmoid", lambda x: F.hardsigmoid(x), lambda x: np.clip(x + 3, 0, 6) / 6, unary(off_grid)),
    Op("F.softmin", lambda x, axis: F.softmin(x, axis), lambda x, axis: np.exp(np_log_softmax(-x, axis)),
       along_axis(lambda s: arrays(s, low=-5, high=5)), axis_param="axis"),
    Op("F.normalize", lambda x, **p: F.normalize(x, **p), np_normalize, normalize_inputs(), axis_param="axis"),
    Op("F.softplus (beta, threshold)", lambda x, **p: F.softplus(x, **p), np_softplus, softplus_inputs()),
    # division that rounds, on floats
    Op("remainder (%)", lambda x, y: x % y, np.remainder, rounded_division_inputs()),
    Op("fmod", lambda x, y: x.fmod(y), np.fmod, rounded_division_inputs()),
    Op("floor_divide (//)", lambda x, y: x // y, np.floor_divide, rounded_division_inputs()),
    Op("div (rounding_mode='trunc')", lambda x, y: x.div(y, rounding_mode="trunc"), lambda x, y: np.trunc(x / y),
       rounded_division_inputs()),
]


OPS = [
    # arithmetic, with broadcasting and scalars on either side
    Op("add", lambda x, y: x + y, np.add, binary()),
    Op("sub", lambda x, y: x - y, np.subtract, binary()),
    Op("mul", lambda x, y: x * y, np.multiply, binary()),
    Op("div", lambda x, y: x / y, np.divide, binary(arrays, away_from_zero)),
    Op("pow", lambda x, y: x ** y, np.power, binary(positive, arrays)),
    Op("neg", lambda x: -x, np.negative, unary()),
    Op("x ** 2", lambda x: x ** 2, lambda x: x ** 2, unary()),
    Op("x ** 3", lambda x: x ** 3, lambda x: x ** 3, unary()),
    Op("x ** 0", lambda x: x ** 0, lambda x: x ** 0, unary()),
    Op("x ** 0.5", lambda x: x ** 0.5, np.sqrt, unary(positive)),
    Op("2 ** x", lambda x: 2 ** x, lambda x: 2 ** x, unary()),
    Op("scalars", lambda x: 2 * x - 1 / (x * x + 1) + 3 - x / 4, lambda x: 2 * x - 1 / (x * x + 1) + 3 - x / 4,
       unary()),
    Op("matmul", lambda x, y: x @ y, np.matmul, matmul_inputs()),
    Op("F.linear", F.linear, lambda x, w, b: x @ w.T + b, linear_inputs()),
    Op("F.linear (no bias)", F.linear, lambda x, w: x @ w.T, linear_inputs(bias=False)),
    # elementwise functions
    Op("exp", lambda x: x.exp(), np.exp, unary()),
    Op("log", lambda x: x.log(), np.log, unary(positive)),
    Op("sqrt", lambda x: x.sqrt(), np.sqrt, unary(positive)),
    Op("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), unary(away_from_zero)),
    Op("abs", lambda x: abs(x), np.abs, unary(away_from_zero)),
    Op("tanh", lambda x: x.tanh(), np.tanh, unary()),
    Op("sigmoid", lambda x: x.sigmoid(), sigmoid, unary()),
    Op("sin", lambda x: x.sin(), np.sin, unary()),
    Op("cos", lambda x: x.cos(), np.cos, unary()),
    Op("softplus", lambda x: x.softplus(), softplus, unary()),
    Op("silu", lambda x: x.silu(), lambda x: x * sigmoid(x), unary()),
    Op("gelu", lambda x: x.gelu(), np_gelu, unary(lambda s: arrays(s, low=-4, high=4))),
    Op("gelu (tanh)", lambda x: x.gelu(approximate="tanh"), gelu, unary()),
    Op("leaky_relu", lambda x: x.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x), unary(away_from_zero)),
    Op("elu", lambda x: x.elu(1.5), lambda x: np.where(x > 0, x, 1.5 * (np.exp(np.minimum(x, 0)) - 1)),
       unary(away_from_zero)),
    Op("clamp (PyTorch's clip)", lambda x, min, max: x.clamp(min, max),
       lambda x, min, max: np.clip(x, -np.inf if min is None else min, np.inf if max is None else max),
       clip_inputs()),
    Op("pow method", lambda x, y: x.pow(y), np.power, binary(positive, arrays)),
    Op("maximum method", lambda x, y: x.maximum(y), np.maximum,
       broadcastable_shapes(2).flatmap(interleaved).map(lambda xy: Case(xy))),
    Op("t()", lambda x: x.t(), lambda x: x.T, shapes(max_dims=2).flatmap(arrays).map(lambda x: Case((x,)))),
    Op("clip", lambda x, min, max: x.clip(min, max),
       lambda x, min, max: np.clip(x, -np.inf if min is None else min, np.inf if max is None else max),
       clip_inputs()),
    # choosing
    Op("maximum", tg.maximum, np.maximum, broadcastable_shapes(2).flatmap(interleaved).map(lambda xy: Case(xy))),
    Op("minimum", tg.minimum, np.minimum, broadcastable_shapes(2).flatmap(interleaved).map(lambda xy: Case(xy))),
    Op("where", lambda x, y, condition: tg.where(condition, x, y), lambda x, y, condition: np.where(condition, x, y),
       where_inputs()),
    # reductions
    Op("sum", lambda x, **p: x.sum(**p), lambda x, **p: x.sum(**p), reduction(), axis_param="axis"),
    Op("mean", lambda x, **p: x.mean(**p), lambda x, **p: x.mean(**p), reduction(), axis_param="axis"),
    Op("max", lambda x, **p: x.max(**p), lambda x, **p: x.max(**p), reduction(distinct), axis_param="axis"),
    Op("min", lambda x, **p: x.min(**p), lambda x, **p: x.min(**p), reduction(distinct), axis_param="axis"),
    Op("logsumexp", lambda x, **p: x.logsumexp(**p),
       lambda x, axis, keepdims: np.log(np.exp(x).sum(axis=axis, keepdims=keepdims)), reduction(),
       axis_param="axis"),
    Op("var", lambda x, **p: x.var(**p), lambda x, **p: x.var(**p), var_case(), axis_param="axis"),
    Op("std", lambda x, **p: x.std(**p), lambda x, **p: x.std(**p), var_case(), axis_param="axis"),
    # shape and indexing
    Op("reshape", lambda x: x.reshape(-1, 1), lambda x: x.reshape(-1, 1), unary()),
    Op("flatten", lambda x: x.flatten(), lambda x: x.flatten(), unary()),
    Op("transpose", lambda x, axes: x.transpose(*axes), lambda x, axes: x.transpose(axes), permutation_inputs()),
    Op(".T", lambda x: x.T, lambda x: x.T, unary()),
    Op("permute", lambda x, axes: x.permute(*axes), lambda x, axes: x.transpose(axes), permutation_inputs()),
    Op("swapaxes", lambda x, axis, other: x.swapaxes(axis, other), lambda x, axis, other: x.swapaxes(axis, other),
       along_axis(extra=lambda shape, a: st.fixed_dictionaries({"other": signed_axis(len(shape))})),
       axis_param="axis"),
    Op("squeeze", lambda x, axis: x.squeeze(axis), lambda x, axis: x.squeeze(axis), squeeze_inputs()),
    Op("unsqueeze", lambda x, axis: x.unsqueeze(axis), lambda x, axis: np.expand_dims(x, axis),
       shapes().flatmap(lambda s: st.tuples(arrays(s), st.integers(-len(s) - 1, len(s)))).map(
           lambda xa: Case((xa[0],), {"axis": xa[1]}))),
    Op("flip", lambda x, **p: x.flip(**p), lambda x, **p: np.flip(x, **p),
       shapes().flatmap(lambda s: st.tuples(arrays(s), axes(len(s)))).map(lambda xa: Case((xa[0],), {"axis": xa[1]})),
       axis_param="axis"),
    Op("pad", lambda x, **p: x.pad(**p), lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value),
       pad_inputs()),
    Op("split", lambda x, axis, size: weighted_pieces(x.split(size, axis=axis), axis), np_split,
       split_inputs(False), axis_param="axis"),
    Op("chunk", lambda x, axis, n: weighted_pieces(x.chunk(n, axis=axis), axis),
       lambda x, axis, n: np_split(x, axis, max(1, -(-x.shape[axis] // n))), split_inputs(True), axis_param="axis"),
    Op("getitem", lambda x, index: x[index], lambda x, index: x[index], basic_index_inputs()),
    Op("getitem array", lambda x, index: x[index], lambda x, index: x[index], array_index_inputs()),
    Op("scatter_add", lambda x, index, shape: x.scatter_add(index, shape), np_scatter_add, scatter_add_inputs()),
    Op("concatenate", lambda x, y, axis: tg.concatenate([x, y, x], axis=axis),
       lambda x, y, axis: np.concatenate([x, y, x], axis=axis), join_inputs(False), axis_param="axis"),
    Op("stack", lambda x, y, axis: tg.stack([x, y], axis=axis), lambda x, y, axis: np.stack([x, y], axis=axis),
       join_inputs(True), axis_param="axis"),
    # astype through long double and back: lossless both ways, so the round trip is exact and differentiable
    Op("astype", lambda x: x.astype(np.longdouble).astype(x.dtype), lambda x: x, unary()),
    Op("sum_to", lambda x, shape: x.sum_to(shape), lambda x, shape: np_sum_to(x, shape),
       broadcastable_shapes(2).flatmap(lambda s: arrays((2,) + np.broadcast_shapes(*s)).map(
           lambda x: Case((x,), {"shape": s[0]})))),  # a leading axis of 2: always a real sum
    Op("broadcast_to", lambda x: x.broadcast_to((2,) + x.shape), lambda x: np.broadcast_to(x, (2,) + x.shape),
       unary()),
    # classifier outputs and losses
    Op("log_softmax", lambda x, axis: x.log_softmax(axis), np_log_softmax,
       along_axis(lambda s: arrays(s, low=-5, high=5)), axis_param="axis"),
    Op("softmax", lambda x, axis: x.softmax(axis), lambda x, axis: np.exp(np_log_softmax(x, axis)),
       along_axis(lambda s: arrays(s, low=-5, high=5)), axis_param="axis"),
    Op("Tensor.cross_entropy", lambda x, labels: x.cross_entropy(labels),
       lambda x, labels: np_cross_entropy(x, labels), classifier_inputs(targets=False)),
    Op("F.cross_entropy", lambda x, **p: F.cross_entropy(x, **p), np_cross_entropy, f_cross_entropy_inputs()),
    Op("F.nll_loss", lambda x, target: F.nll_loss(x.log_softmax(axis=1), target),
       lambda x, target: np_cross_entropy(x, target), classifier_inputs(spatial=True)),
    Op("F.mse_loss", lambda x, y, reduction: F.mse_loss(x, y, reduction=reduction),
       lambda x, y, reduction: reduce_np(reduction, (x - y) ** 2), two_same_shape()),
    Op("F.l1_loss", lambda x, y, reduction: F.l1_loss(x, y, reduction=reduction),
       lambda x, y, reduction: reduce_np(reduction, np.abs(x - y)),
       shapes().flatmap(lambda s: st.tuples(away_from_zero(s), st.sampled_from(["mean", "sum", "none"]))).map(
           lambda xr: Case((xr[0], np.zeros_like(xr[0])), {"reduction": xr[1]}))),
    Op("F.binary_cross_entropy_with_logits",
       lambda x, t, reduction: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
       lambda x, t, reduction: reduce_np(reduction, -(t * np.log(sigmoid(x)) + (1 - t) * np.log(1 - sigmoid(x)))),
       two_same_shape(y_values=lambda s: arrays(s, low=0, high=1))),
    # convolution, pooling, normalisation, lookup
    Op("F.conv2d", lambda x, w, b, **p: F.conv2d(x, w, b, **p), np_conv2d, conv_inputs(2)),
    Op("F.conv1d", lambda x, w, b, **p: F.conv1d(x, w, b, **p),
       lambda x, w, b, stride, padding, dilation, groups: np_conv2d(
           x[:, :, None], w[:, :, None], b, (1, stride), (0, padding), (1, dilation), groups)[:, :, 0],
       conv_inputs(1)),
    Op("F.max_pool2d", lambda x, **p: F.max_pool2d(x, **p),
       lambda x, **p: np_pool(x, **p, reduce=np.max, pad_value=-np.inf), pool_inputs(distinct)),
    Op("F.avg_pool2d", lambda x, **p: F.avg_pool2d(x, **p),
       lambda x, **p: np_pool(x, **p, reduce=np.mean, pad_value=0.0), pool_inputs(arrays)),
    Op("F.layer_norm", lambda x, w, b, normalized_shape: F.layer_norm(x, normalized_shape, w, b),
       lambda x, w, b, normalized_shape: (
           (x - x.mean(axis=tuple(range(x.ndim - len(normalized_shape), x.ndim)), keepdims=True))
           / np.sqrt(x.var(axis=tuple(range(x.ndim - len(normalized_shape), x.ndim)), keepdims=True) + 1e-5)
           * w + b),
       layer_norm_inputs()),
    Op("F.batch_norm (training)", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
       np_batch_norm, batch_norm_inputs()),
    Op("F.embedding", lambda w, indices: F.embedding(indices, w), lambda w, indices: w[indices], embedding_inputs()),
    # what a PyTorch user reaches for on the first day (issue 22)
    Op("tan", lambda x: x.tan(), np.tan, unary(lambda s: arrays(s, low=-1.2, high=1.2))),
    Op("log2", lambda x: x.log2(), np.log2, unary(positive)),
    Op("exp2", lambda x: x.exp2(), np.exp2, unary()),
    Op("rsqrt", lambda x: x.rsqrt(), lambda x: 1 / np.sqrt(x), unary(positive)),
    Op("sign", lambda x: x.sign(), np.sign, unary(off_grid)),
    Op("floor", lambda x: x.floor(), np.floor, unary(off_grid)),
    Op("ceil", lambda x: x.ceil(), np.ceil, unary(off_grid)),
    Op("trunc", lambda x: x.trunc(), np.trunc, unary(off_grid)),
    Op("relu6", lambda x: F.relu6(x), lambda x: np.clip(x, 0, 6), unary(lambda s: off_grid(s, -2, 8))),
    Op("hardtanh", lambda x: F.hardtanh(x), lambda x: np.clip(x, -1, 1), unary(off_grid)),
    Op("hardswish", lambda x: F.hardswish(x), lambda x: x * np.clip(x + 3, 0, 6) / 6, unary(off_grid)),
    Op("softsign", lambda x: F.softsign(x), lambda x: x / (1 + np.abs(x)), unary(away_from_zero)),
    Op("mish", lambda x: F.mish(x), lambda x: x * np.tanh(np.logaddexp(0, x)), unary()),
    Op("celu", lambda x: F.celu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(np.minimum(x, 0) / 0.5) - 1)),
       unary(away_from_zero)),
    Op("tril", lambda x, k: x.tril(k), lambda x, k: np.tril(x, k), triangle_inputs()),
    Op("triu", lambda x, k: x.triu(k), lambda x, k: np.triu(x, k), triangle_inputs()),
    Op("tile", lambda x, reps: x.tile(reps), lambda x, reps: np.tile(x, reps), tile_inputs()),
    Op("repeat_interleave", lambda x, repeats, axis: x.repeat_interleave(repeats, axis),
       lambda x, repeats, axis: np.repeat(x, repeats, axis), repeat_inputs(), axis_param="axis"),
    Op("cumsum", lambda x, axis: x.cumsum(axis), lambda x, axis: np.cumsum(x, axis), along_axis(),
       axis_param="axis"),
    Op("take_along_axis", lambda x, indices, axis: tg.take_along_axis(x, indices, axis),
       lambda x, indices, axis: np.take_along_axis(x, indices, axis), along_axis_index_inputs(), axis_param="axis"),
    Op("F.binary_cross_entropy", lambda p, t, reduction: F.binary_cross_entropy(p, t, reduction=reduction),
       np_binary_cross_entropy, two_same_shape(lambda s: arrays(s, low=0.05, high=0.95),
                                               # inside [0, 1] by more than gradcheck's step: outside is refused
                                               lambda s: arrays(s, low=0.01, high=0.99))),
    Op("F.scaled_dot_product_attention", lambda q, k, v, is_causal: F.scaled_dot_product_attention(
        q, k, v, is_causal=is_causal), np_attention, attention_inputs()),
    Op("F.conv_transpose2d", lambda x, w, b, **p: F.conv_transpose2d(x, w, b, **p), np_conv_transpose2d,
       conv_transpose_inputs()),
    Op("F.adaptive_avg_pool2d", lambda x, output_size: F.adaptive_avg_pool2d(x, output_size),
       np_adaptive_avg_pool2d, adaptive_pool_inputs()),
    Op("F.interpolate (nearest)", lambda x, **p: F.interpolate(x, **p), np_nearest, interpolate_inputs()),
    Op("F.pad (PyTorch's form, negative widths cut)", lambda x, pad, value: F.pad(x, pad, value=value),
       np_torch_pad, torch_pad_inputs()),
    Op("F.conv2d padding='same'", lambda x, w, dilation: F.conv2d(x, w, padding="same", dilation=dilation),
       np_same_conv, same_conv_inputs()),
    Op("F.max_pool2d dilation", lambda x, **p: F.max_pool2d(x, **p), np_dilated_max_pool, dilated_pool_inputs()),
    Op("einsum", lambda *ts, subscripts: tg.einsum(subscripts, *ts), lambda *a, subscripts: np.einsum(subscripts, *a),
       einsum_inputs()),
    *OPS1_ROWS,
]


# ---- issue 29 (ops2): shape and indexing, convolution and pooling, resizing, einsum, losses and attention ----
def gridded(shape, offset=0.0):
    """Values on a grid of step 0.01 (offset by ``offset``), all distinct: two arrays on offset grids never tie
    (amax's and max_pool's kinks)."""
    from hypothesis.extra import numpy as hnp
    return hnp.arrays(np.float64, shape, elements=st.integers(-200, 199).map(lambda i: i * 0.01 + offset),
                      unique=True)


@st.composite
def flatten_inputs(draw):
    shape = draw(shapes(min_dims=1))
    return Case((draw(arrays(shape)),), {"start_dim": draw(signed_axis(len(shape)))})


@st.composite
def unflatten_inputs(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(signed_axis(len(shape)))
    n = shape[axis]
    first = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    sizes = draw(st.sampled_from([(first, n // first), (first, -1), (-1, 1, first) if n % first == 0 else (n,)]))
    return Case((draw(arrays(shape)),), {"axis": axis, "sizes": sizes})


@st.composite
def window_inputs(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(signed_axis(len(shape)))
    size = draw(st.integers(0, shape[axis]))
    return Case((draw(arrays(shape)),), {"axis": axis, "size": size, "step": draw(st.integers(1, 3))})


def np_unfold(x, axis, size, step):
    axis %= x.ndim  # the windows gain an axis at the end: count from the front
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=axis)
    return np.take(windows, np.arange(0, windows.shape[axis], step), axis=axis)


@st.composite
def roll_inputs(draw):
    shape = draw(shapes(min_dims=1))
    return Case((draw(arrays(shape)),), {"shift": draw(st.integers(-5, 5)), "axis": draw(signed_axis(len(shape)))})


@st.composite
def diagonal_inputs(draw):
    shape = draw(shapes(min_dims=2))
    axis1 = draw(signed_axis(len(shape)))
    axis2 = draw(st.sampled_from([a for a in range(-len(shape), len(shape)) if a % len(shape) != axis1 % len(shape)]))
    return Case((draw(arrays(shape)),), {"offset": draw(st.integers(-2, 2)), "axis1": axis1, "axis2": axis2})


@st.composite
def diag_inputs(draw):
    shape = draw(shapes(min_dims=1, max_dims=2))
    return Case((draw(arrays(shape)),), {"k": draw(st.integers(-2, 2))})


@st.composite
def masked_select_inputs(draw):
    x_shape, mask_shape = draw(broadcastable_shapes(2))
    return Case((draw(arrays(x_shape)),), {"mask": draw(arrays(mask_shape)) > 0})


@st.composite
def scatter_inputs(draw, reduce=False):
    """x, src and an index (repeats included) along ``axis``, index no larger than src, or than x off the axis."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(signed_axis(len(shape)))
    index_shape = tuple(draw(st.integers(1, n)) if a != axis % len(shape) else draw(st.integers(1, 4))
                        for a, n in enumerate(shape))
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in index_shape)
    from hypothesis.extra import numpy as hnp
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[axis] - 1)))
    params = {"axis": axis, "index": index}
    if reduce:
        params.update(reduce=draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"])),
                      include_self=draw(st.booleans()))
        return Case((draw(gridded(shape)), draw(gridded(src_shape, 0.005))), params)
    return Case((draw(arrays(shape)), draw(arrays(src_shape))), params)


def np_scatter(x, src, axis, index, reduce=None, include_self=True):
    """PyTorch's scatter and scatter_reduce by their definition, element by element in row-major order."""
    axis %= x.ndim
    out, groups = x.copy(), {}
    for place in np.ndindex(*index.shape):
        target = list(place)
        target[axis] = index[place]
        groups.setdefault(tuple(target), []).append(src[place])
    for target, values in groups.items():
        if reduce is None:
            out[target] = values[-1]
            continue
        values = values + ([x[target]] if include_self else [])
        out[target] = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce](values)
    return out


@st.composite
def pad_mode_inputs(draw):
    shape = draw(shapes(min_dims=2, max_dims=4, min_side=1, max_side=4))
    mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
    pad = []
    for a in range(draw(st.integers(1, min(3, len(shape) - 1)))):
        n = shape[len(shape) - 1 - a]
        most = n - 1 if mode == "reflect" else n if mode == "circular" else 3
        pad += [draw(st.integers(0, most)), draw(st.integers(0, most))]
    return Case((draw(arrays(shape)),), {"pad": tuple(pad), "mode": mode})


def np_pad_mode(x, pad, mode):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])


@st.composite
def meshgrid_inputs(draw):
    count = draw(st.integers(1, 3))
    return Case(tuple(draw(arrays((draw(st.integers(1, 3)),))) for _ in range(count)),
                {"indexing": draw(st.sampled_from(["ij", "xy"]))})


def weighted_grids(grids):
    return sum(g * (i + 1) for i, g in enumerate(grids))


EINSUM_MORE = ["...ij,...jk->...ik", "...ij,...jk", "ii->i", "ii->", "bii->b", "...ii->...i", "i...,i...->...",
               "ij,jk->ik", "ji,ij->"]


@st.composite
def einsum_more_inputs(draw):
    """'...' (with batch axes that broadcast), repeated letters, and letters of length 1 against longer ones."""
    spec = draw(st.sampled_from(EINSUM_MORE))
    sizes = {c: draw(st.integers(2, 3)) for c in sorted(set(spec) - set(",->."))}
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    operands = []
    for own in spec.split("->")[0].split(","):
        shape = []
        for part in own.split("..."):
            shape.append(tuple(sizes[c] if draw(st.integers(0, 3)) else 1 for c in part))  # sometimes length 1
        extra = tuple(1 if draw(st.integers(0, 2)) == 0 else n for n in batch) if "..." in own else ()
        full = shape[0] + extra + (shape[1] if len(shape) > 1 else ())
        letters = own.replace("...", "")
        if len(set(letters)) != len(letters):  # a repeated letter: its two axes the same length
            full = tuple(sizes[c] for c in own.replace("...", "")) if "..." not in own else extra + tuple(
                sizes[c] for c in own.replace("...", ""))
        operands.append(draw(arrays(full)))
    return Case(tuple(operands), {"subscripts": spec})


@st.composite
def conv3d_inputs(draw):
    """conv_inputs(3) kept small: central differences of a 3-D convolution visit every element."""
    groups = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 2)) for _ in range(3))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(3))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(3))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(3))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 1))
                 for k, d, p in zip(kernel, dilation, padding, strict=True))
    x, w, b = draw(arrays((1, groups) + size)), draw(arrays((groups, 1) + kernel)), draw(arrays((groups,)))
    return Case((x, w, b), {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups})


def np_conv_nd(x, w, b, stride, padding, dilation, groups):
    """n-dimensional cross-correlation by its definition: a loop over output positions."""
    dims = x.ndim - 2
    x = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    out_c, per_group = w.shape[:2]
    kernel = w.shape[2:]
    out_size = tuple((n - d * (k - 1) - 1) // s + 1
                     for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation, strict=True))
    out = np.zeros((x.shape[0], out_c) + out_size)
    per_out = out_c // groups
    for o in range(out_c):
        g = o // per_out
        for pos in np.ndindex(*out_size):
            window = x[(slice(None), slice(g * per_group, (g + 1) * per_group)) + tuple(
                slice(i * s, i * s + d * (k - 1) + 1, d)
                for i, s, d, k in zip(pos, stride, dilation, kernel, strict=True))]
            out[(slice(None), o) + pos] = (window * w[o]).sum(axis=tuple(range(1, 2 + dims))) + b[o]
    return out


@st.composite
def conv_transpose3d_inputs(draw):
    groups, per_group = draw(st.sampled_from([1, 2])), draw(st.integers(1, 2))
    c = groups * draw(st.integers(1, 2))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(3))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(3))
    kernel, spatial = tuple(draw(st.integers(1, 2)) for _ in range(3)), tuple(draw(st.integers(1, 2)) for _ in range(3))
    padding = tuple(draw(st.integers(0, (k - 1) * d // 2)) for k, d in zip(kernel, dilation, strict=True))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True))
    x, w, b = draw(arrays((1, c) + spatial)), draw(arrays((c, per_group) + kernel)), draw(arrays((groups * per_group,)))
    return Case((x, w, b), {"stride": stride, "padding": padding, "output_padding": output_padding, "groups": groups,
                            "dilation": dilation})


def np_conv_transpose3d(x, w, b, stride, padding, output_padding, groups, dilation):
    """The definition: each input element adds weight * its value where its window lands."""
    n, c = x.shape[:2]
    per_group, kernel = w.shape[1], w.shape[2:]
    full = [(size - 1) * s + d * (k - 1) + 1 + e
            for size, s, d, k, e in zip(x.shape[2:], stride, dilation, kernel, output_padding, strict=True)]
    out = np.zeros((n, groups * per_group) + tuple(full))
    for ci in range(c):
        g = ci // (c // groups)
        for pos in np.ndindex(*x.shape[2:]):
            for tap in np.ndindex(*kernel):
                place = tuple(i * s + t * d for i, s, t, d in zip(pos, stride, tap, dilation, strict=True))
                out[(slice(None), slice(g * per_group, (g + 1) * per_group)) + place] += (
                    x[(slice(None), ci) + pos][:, None] * w[(ci, slice(None)) + tap])
    out = out[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full, strict=True))]
    return out + b.reshape((-1, 1, 1, 1))


@st.composite
def pool_more_inputs(draw, dims, values, avg):
    """A pool's arguments as PyTorch takes them: ceil_mode, and count_include_pad or uneven padding (F.pad's
    flat form) for avg, dilation for max."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    edges = [(draw(st.integers(0, k // 2)), draw(st.integers(0, k // 2))) for k in kernel]
    uneven = draw(st.booleans())
    if not uneven:
        edges = [(a, a) for a, _ in edges]
    # dilation only without padding: a dilated window over padding may hold padding alone, a max of -inf
    dilation = (1,) * dims if avg or any(map(any, edges)) else tuple(draw(st.integers(1, 2)) for _ in range(dims))
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - a - b), d * (k - 1) + 3))
                 for k, d, (a, b) in zip(kernel, dilation, edges, strict=True))
    x = draw(values((1, draw(st.integers(1, 2))) + size))
    padding = tuple(w for a, b in reversed(edges) for w in (a, b)) if uneven else tuple(a for a, _ in edges)
    params = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": draw(st.booleans())}
    if avg:
        params["count_include_pad"] = draw(st.booleans())
    else:
        params["dilation"] = dilation
    # Only windows that reach into the input, as PyTorch's rule makes them; a window of padding alone is left out.
    return Case((x,), params)


def np_pool_more(x, kernel_size, stride, padding, ceil_mode, count_include_pad=True, dilation=None, avg=True):
    """max or avg pooling by PyTorch's definition, one window at a time."""
    dims = x.ndim - 2
    dilation = dilation or (1,) * dims
    flat = padding if len(padding) == 2 * dims else tuple(w for p in reversed(padding) for w in (p, p))
    edges = [(flat[2 * (dims - 1 - a)], flat[2 * (dims - 1 - a) + 1]) for a in range(dims)]
    counts = []
    for n, k, s, d, (before, after) in zip(x.shape[2:], kernel_size, stride, dilation, edges, strict=True):
        reach = n + before + after - d * (k - 1) - 1
        count = (-(-reach // s) if ceil_mode else reach // s) + 1
        if ceil_mode and (count - 1) * s >= n + before:
            count -= 1
        counts.append(count)
    out = np.empty(x.shape[:2] + tuple(counts))
    for pos in np.ndindex(*counts):
        taps, divisor = [], 1
        for i, k, s, d, (before, after), n in zip(pos, kernel_size, stride, dilation, edges, x.shape[2:], strict=True):
            start = i * s - before
            taps.append([start + t * d for t in range(k) if 0 <= start + t * d < n])
            stop = min(start + k, n + after)
            divisor *= (stop - start) if count_include_pad else (min(stop, n) - max(start, 0))
        window = x[(slice(None), slice(None)) + np.ix_(*taps)]
        if avg:
            out[(slice(None), slice(None)) + pos] = window.sum(axis=tuple(range(2, 2 + dims))) / divisor
        else:
            out[(slice(None), slice(None)) + pos] = window.max(axis=tuple(range(2, 2 + dims)))
    return out


@st.composite
def unpool_inputs(draw):
    n, c, oh, ow = 1, draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    size = (oh * 2 + draw(st.integers(0, 1)), ow * 2 + draw(st.integers(0, 1)))
    places = [draw(st.permutations(range(size[0] * size[1])))[:oh * ow] for _ in range(n * c)]
    indices = np.array(places, dtype=np.int64).reshape(n, c, oh, ow)
    return Case((draw(arrays((n, c, oh, ow))),), {"indices": indices, "kernel_size": 2, "output_size": size})


def np_unpool(x, indices, kernel_size, output_size):
    out = np.zeros(x.shape[:2] + (output_size[0] * output_size[1],))
    for n, c in np.ndindex(*x.shape[:2]):
        out[n, c, indices[n, c].reshape(-1)] = x[n, c].reshape(-1)
    return out.reshape(x.shape[:2] + tuple(output_size))


@st.composite
def uneven_conv_inputs(draw, dims):
    k = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    pad = tuple(draw(st.integers(-1, 2)) for _ in range(2 * dims))
    size = tuple(kk + 2 + draw(st.integers(0, 1)) for kk in k)  # room for a cut on both sides
    x = draw(arrays((1, 1) + size))
    return Case((x, draw(arrays((2, 1) + k))), {"padding": pad})


def np_uneven_conv(x, w, padding):
    dims = x.ndim - 2
    x = np.pad(x, ((0, 0), (0, 0)) + tuple(
        (max(padding[2 * (dims - 1 - a)], 0), max(padding[2 * (dims - 1 - a) + 1], 0)) for a in range(dims)))
    x = x[(slice(None), slice(None)) + tuple(
        slice(max(-padding[2 * (dims - 1 - a)], 0), x.shape[2 + a] - max(-padding[2 * (dims - 1 - a) + 1], 0))
        for a in range(dims))]
    return np_conv_nd(x, w, np.zeros(w.shape[0]), (1,) * dims, (0,) * dims, (1,) * dims, 1)


@st.composite
def resize_inputs(draw, linear):
    dims = draw(st.integers(1, 3))
    shape = (1, draw(st.integers(1, 2))) + tuple(draw(st.integers(1, 5)) for _ in range(dims))
    params = {"mode": ["linear", "bilinear", "trilinear"][dims - 1] if linear else draw(
        st.sampled_from(["nearest", "nearest-exact"]))}
    if linear:
        params["align_corners"] = draw(st.booleans())
    if draw(st.booleans()):
        params["size"] = tuple(draw(st.integers(1, 7)) for _ in range(dims))
    else:
        params["scale_factor"] = tuple(draw(st.sampled_from([0.5, 0.7, 1.0, 1.3, 2.0, 2.5])) for _ in range(dims))
        if min(int(n * f) for n, f in zip(shape[2:], params["scale_factor"], strict=True)) < 1:
            params["scale_factor"] = (2.0,) * dims
    return Case((draw(arrays(shape)),), params)


def np_resize(x, mode, size=None, scale_factor=None, align_corners=False):
    """PyTorch's interpolate by its definition, one axis at a time: nearest's source index in float32
    (floor(i * scale), or floor((i + 0.5) * scale) for nearest-exact), linear's two neighbours and weights."""
    dims = x.ndim - 2
    out = size or tuple(int(np.floor(n * f)) for n, f in zip(x.shape[2:], scale_factor, strict=True))
    for axis in range(dims):
        n_in, n_out = x.shape[2 + axis], out[axis]
        given = None if scale_factor is None else scale_factor[axis]
        moved = np.moveaxis(x, 2 + axis, -1)
        if mode.startswith("nearest"):
            step = np.float32(1.0 / given) if given else np.float32(n_in) / np.float32(n_out)
            exact = mode == "nearest-exact"
            if not exact and dims == 2 and n_out in (n_in, 2 * n_in):
                source = [i * n_in // n_out for i in range(n_out)]
            else:
                source = [min(int(np.floor(np.float32((i + 0.5) * np.float64(step)) if exact
                                           else np.float32(i) * step)), n_in - 1) for i in range(n_out)]
            moved = moved[..., source]
        elif n_in != n_out:
            if align_corners:
                ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            else:
                ratio = 1.0 / given if given else n_in / n_out
            result = np.empty(moved.shape[:-1] + (n_out,))
            for i in range(n_out):
                real = ratio * i if align_corners else max(ratio * (i + 0.5) - 0.5, 0.0)
                first = min(int(np.floor(real)), n_in - 1)
                second = first + (1 if first < n_in - 1 else 0)
                weight = min(max(real - first, 0.0), 1.0)
                result[..., i] = moved[..., first] * (1 - weight) + moved[..., second] * weight
            moved = result
        x = np.moveaxis(moved, -1, 2 + axis)
    return x


@st.composite
def probability_target_inputs(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    spatial = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    target = draw(arrays((n, c) + spatial, low=0.0, high=1.0))
    params = {"label_smoothing": draw(st.sampled_from([0.0, 0.2])),
              "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    return Case((draw(arrays((n, c) + spatial, low=-4, high=4)), target, draw(arrays((c,), low=0.1, high=2.0))),
                params)


def np_cross_entropy_probabilities(x, t, w, label_smoothing, reduction):
    logp = np_log_softmax(x, 1)
    t = t * (1 - label_smoothing) + label_smoothing / x.shape[1]
    loss = -(logp * t * w.reshape((-1,) + (1,) * (x.ndim - 2))).sum(axis=1)
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


@st.composite
def weighted_nll_inputs(draw):
    case = draw(classifier_inputs())
    c = case.arrays[0].shape[1]
    case.arrays = case.arrays + (draw(arrays((c,), low=0.1, high=2.0)),)
    case.params["reduction"] = draw(st.sampled_from(["mean", "sum", "none"]))
    return case


def np_weighted_nll(x, w, target, reduction):
    logp = np_log_softmax(x, 1)
    picked = np.take_along_axis(logp, target[:, None], axis=1)[:, 0]
    loss = -picked * w[target]
    return {"none": loss, "sum": loss.sum(), "mean": loss.sum() / w[target].sum()}[reduction]


@st.composite
def pos_weight_inputs(draw):
    shape = draw(shapes(min_dims=1))
    return Case((draw(arrays(shape, low=-4, high=4)), draw(arrays(shape, low=0, high=1)),
                 draw(arrays(shape[-1:], low=0.2, high=3.0)), draw(arrays(shape, low=0, high=2))),
                {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))})


def np_bce_logits_weighted(x, t, pos_weight, weight, reduction):
    loss = -(pos_weight * t * np.log(sigmoid(x)) + (1 - t) * np.log(1 - sigmoid(x))) * weight
    return reduce_np(reduction, loss)


@st.composite
def masked_attention_inputs(draw):
    heads, groups = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    length, source, width = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    q = draw(arrays((heads * groups, length, width)))
    k, v = draw(arrays((heads, source, width))), draw(arrays((heads, source, width)))
    mask = draw(arrays((length, source))) > -0.5  # a row all False now and then: zeros, as PyTorch
    return Case((q, k, v), {"attn_mask": mask, "enable_gqa": groups > 1 or draw(st.booleans())})


def np_masked_attention(q, k, v, attn_mask, enable_gqa):
    groups = q.shape[-3] // k.shape[-3]
    k, v = np.repeat(k, groups, axis=-3), np.repeat(v, groups, axis=-3)
    scores = np.where(attn_mask, q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]), -np.inf)
    empty = ~attn_mask.any(axis=-1, keepdims=True)
    scores = np.where(empty, 0.0, scores)
    return np.where(empty, 0.0, np.exp(np_log_softmax(scores, -1))) @ v


OPS2_ROWS = [
    Op("flatten(start_dim)", lambda x, start_dim: x.flatten(start_dim),
       lambda x, start_dim: x.reshape(x.shape[:start_dim % x.ndim] + (-1,)), flatten_inputs(), axis_param="start_dim"),
    Op("unflatten", lambda x, axis, sizes: x.unflatten(axis, sizes),
       lambda x, axis, sizes: x.reshape(x.shape[:axis % x.ndim] + tuple(
           x.shape[axis] // -np.prod(sizes) if n == -1 else n for n in sizes) + x.shape[axis % x.ndim + 1:]),
       unflatten_inputs(), axis_param="axis"),
    Op("unfold (windows)", lambda x, axis, size, step: x.unfold(axis, size, step), np_unfold, window_inputs(),
       axis_param="axis"),
    Op("roll", lambda x, shift, axis: x.roll(shift, axis), lambda x, shift, axis: np.roll(x, shift, axis),
       roll_inputs(), axis_param="axis"),
    Op("diagonal", lambda x, **p: x.diagonal(**p), lambda x, **p: np.diagonal(x, **p), diagonal_inputs(),
       axis_param="axis1"),
    Op("diag", lambda x, k: x.diag(k), lambda x, k: np.diag(x, k), diag_inputs()),
    Op("masked_select", lambda x, mask: x.masked_select(mask),
       lambda x, mask: np.broadcast_to(x, np.broadcast_shapes(x.shape, mask.shape))[
           np.broadcast_to(mask, np.broadcast_shapes(x.shape, mask.shape))], masked_select_inputs()),
    Op("scatter", lambda x, src, axis, index: x.scatter(axis, index, src), np_scatter, scatter_inputs(),
       axis_param="axis"),
    Op("scatter_reduce", lambda x, src, axis, index, reduce, include_self: x.scatter_reduce(
        axis, index, src, reduce, include_self), np_scatter, scatter_inputs(reduce=True), axis_param="axis"),
    Op("F.pad (reflect, replicate, circular)", lambda x, pad, mode: F.pad(x, pad, mode=mode), np_pad_mode,
       pad_mode_inputs()),
    Op("meshgrid", lambda *ts, indexing: weighted_grids(tg.meshgrid(*ts, indexing=indexing)),
       lambda *a, indexing: weighted_grids(np.meshgrid(*a, indexing=indexing)), meshgrid_inputs()),
    Op("einsum ('...', diagonals, broadcast letters)", lambda *ts, subscripts: tg.einsum(subscripts, *ts),
       lambda *a, subscripts: np.einsum(subscripts, *a), einsum_more_inputs()),
    Op("F.conv3d", lambda x, w, b, **p: F.conv3d(x, w, b, **p), np_conv_nd, conv3d_inputs()),
    Op("F.conv_transpose3d", lambda x, w, b, **p: F.conv_transpose3d(x, w, b, **p), np_conv_transpose3d,
       conv_transpose3d_inputs()),
    Op("F.conv2d uneven and negative padding", lambda x, w, padding: F.conv2d(x, w, padding=padding), np_uneven_conv,
       uneven_conv_inputs(2)),
    Op("F.conv1d (left, right) padding", lambda x, w, padding: F.conv1d(x, w, padding=padding), np_uneven_conv,
       uneven_conv_inputs(1)),
    Op("F.max_pool2d ceil_mode, uneven padding", lambda x, **p: F.max_pool2d(x, **p),
       lambda x, **p: np_pool_more(x, **p, avg=False), pool_more_inputs(2, gridded, avg=False)),
    Op("F.avg_pool2d ceil_mode, count_include_pad", lambda x, **p: F.avg_pool2d(x, **p), np_pool_more,
       pool_more_inputs(2, arrays, avg=True)),
    Op("F.avg_pool3d", lambda x, **p: F.avg_pool3d(x, **p), np_pool_more, pool_more_inputs(3, arrays, avg=True)),
    Op("F.max_unpool2d", lambda x, **p: F.max_unpool2d(x, **p), np_unpool, unpool_inputs()),
    Op("F.interpolate (linear, bilinear, trilinear)", lambda x, **p: F.interpolate(x, **p), np_resize,
       resize_inputs(linear=True)),
    Op("F.interpolate (nearest, nearest-exact; 3-, 4-, 5-D)", lambda x, **p: F.interpolate(x, **p), np_resize,
       resize_inputs(linear=False)),
    Op("F.cross_entropy (probabilities, weight)", lambda x, t, w, **p: F.cross_entropy(x, t, w, **p),
       np_cross_entropy_probabilities, probability_target_inputs()),
    Op("F.nll_loss (weight)", lambda x, w, target, reduction: F.nll_loss(x.log_softmax(axis=1), target, w,
                                                                          reduction=reduction),
       np_weighted_nll, weighted_nll_inputs()),
    Op("F.binary_cross_entropy_with_logits (pos_weight, weight)",
       lambda x, t, pw, w, reduction: F.binary_cross_entropy_with_logits(x, t, w, reduction=reduction, pos_weight=pw),
       np_bce_logits_weighted, pos_weight_inputs()),
    Op("F.scaled_dot_product_attention (boolean mask, enable_gqa)",
       lambda q, k, v, **p: F.scaled_dot_product_attention(q, k, v, **p), np_masked_attention,
       masked_attention_inputs()),
]
OPS += OPS2_ROWS


# ---- issue 29 (layers29): nn.LSTM's layer as one op, and group norm ------------------------------------------
@st.composite
def lstm_inputs(draw):
    """x (T, N, I), h0 and c0 (N, H), w_ih (4H, I), w_hh (4H, H), b (4H,), small sizes, either direction."""
    steps, n, inputs, hidden = (draw(st.integers(1, 3)) for _ in range(4))
    shapes_ = [(steps, n, inputs), (n, hidden), (n, hidden), (4 * hidden, inputs), (4 * hidden, hidden), (4 * hidden,)]
    return Case(tuple(draw(arrays(shape, low=-1.5, high=1.5)) for shape in shapes_), {"reverse": draw(st.booleans())})


def np_lstm(x, h0, c0, w_ih, w_hh, b, reverse):
    """The LSTM recurrence written out (PyTorch's gates i, f, g, o), states stacked as (2, T, N, H)."""
    hidden, h, c = h0.shape[-1], h0, c0
    out = np.empty((2,) + x.shape[:2] + (hidden,))
    for t in (range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])):
        i, f, g, o = np.split(x[t] @ w_ih.T + h @ w_hh.T + b, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        out[0, t], out[1, t] = h, c
    return out


def composed_lstm(x, h0, c0, w_ih, w_hh, b, reverse):
    """The same recurrence composed of primitives step by step (LSTMCell's way), for the fused-op row."""
    hidden, h, c, hs, cs = h0.shape[-1], h0, c0, [None] * x.shape[0], [None] * x.shape[0]
    for t in (range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])):
        a = x[t] @ w_ih.T + h @ w_hh.T + b
        i, f = a[:, :hidden].sigmoid(), a[:, hidden:2 * hidden].sigmoid()
        g, o = a[:, 2 * hidden:3 * hidden].tanh(), a[:, 3 * hidden:].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        hs[t], cs[t] = h, c
    return tg.stack([tg.stack(hs), tg.stack(cs)])


def lstm_sequence(x, h0, c0, w_ih, w_hh, b, reverse):
    from tinygrad_np.ops import LSTMSequence
    return LSTMSequence.apply(x, h0, c0, w_ih, w_hh, b, reverse=reverse)


@st.composite
def group_norm_inputs(draw):
    groups, per_group, n = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    rest = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    if per_group * math.prod(rest) < 2:
        rest = (2,) + rest[1:]  # at least two values a group, so that its variance is not zero
    channels = groups * per_group
    return Case((draw(distinct((n, channels) + rest)), draw(arrays((channels,))), draw(arrays((channels,)))),
                {"num_groups": groups})


def np_group_norm(x, w, b, num_groups):
    grouped = x.reshape(x.shape[0], num_groups, -1)
    mean, var = grouped.mean(axis=2, keepdims=True), grouped.var(axis=2, keepdims=True)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return ((grouped - mean) / np.sqrt(var + 1e-5)).reshape(x.shape) * w.reshape(shape) + b.reshape(shape)


OPS += [
    Op("lstm_sequence (nn.LSTM's layer)", lstm_sequence, np_lstm, lstm_inputs()),
    Op("F.group_norm", lambda x, w, b, num_groups: F.group_norm(x, num_groups, w, b), np_group_norm,
       group_norm_inputs()),
]


BY_NAME = {op.name: op for op in OPS}
assert len(BY_NAME) == len(OPS), "two rows share a name"


# ---- fused ops against their compositions ----------------------------------------------------------
# Each fused op is one Function where a chain of primitives would do, for speed or numerical stability
# (docs/how_it_works.md says why, op by op). tests/test_ops.py holds each to its composition: the same
# values, the same gradients, and the same second derivatives.
@dataclass
class Fused:
    name: str
    fused: object
    composed: object
    inputs: object


def pooled(x, kernel_size, stride, padding):
    """max_pool2d as the composition: pad with -inf, lay the windows out, take the max over each."""
    from tinygrad_np.ops import Unfold
    (ph, pw), k = padding, kernel_size
    padded = x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw)), value=-np.inf) if ph or pw else x
    return Unfold.apply(padded, kernel=k, stride=stride or k, dilation=(1, 1)).max(axis=(4, 5))


def _normalized(x, axes):
    centred = x - x.mean(axis=axes, keepdims=True)
    return centred / ((centred * centred).mean(axis=axes, keepdims=True) + 1e-5).sqrt()


def unfolded_conv(x, w, stride, padding, dilation):
    """conv2d (one group) as the composition it was: pad, lay the windows out, one matrix product, relayout."""
    from tinygrad_np.ops import Unfold
    (ph, pw), (o, c, kh, kw) = padding, w.shape
    padded = x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    windows = Unfold.apply(padded, kernel=(kh, kw), stride=stride, dilation=dilation)
    n, _, oh, ow = windows.shape[:4]
    product = w.reshape(o, c * kh * kw) @ windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)
    return product.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)


def one_group(case):
    return Case(case.arrays[:2], {k: v for k, v in case.params.items() if k != "groups"})


FUSED = [
    Fused("linear", F.linear, lambda x, w, b: x @ w.T + b, linear_inputs()),
    Fused("cross_entropy", lambda x, labels: x.cross_entropy(labels),
          lambda x, labels: -x.log_softmax(axis=1)[np.arange(len(labels)), labels].mean(),
          classifier_inputs(targets=False)),
    Fused("log_softmax", lambda x, axis: x.log_softmax(axis), lambda x, axis: x - x.logsumexp(axis, keepdims=True),
          along_axis(lambda s: arrays(s, low=-5, high=5))),
    Fused("sigmoid", lambda x: x.sigmoid(), lambda x: 1 / (1 + (-x).exp()), unary()),
    Fused("softplus", lambda x: x.softplus(), lambda x: (1 + x.exp()).log(), unary()),
    Fused("layer_norm (Normalize)", lambda x, normalized_shape: F.layer_norm(x, normalized_shape),
          lambda x, normalized_shape: _normalized(x, tuple(range(x.ndim - len(normalized_shape), x.ndim))),
          layer_norm_inputs().map(lambda case: Case(case.arrays[:1], case.params))),
    Fused("gelu (tanh)", lambda x: x.gelu(approximate="tanh"),
          lambda x: 0.5 * x * (1.0 + (np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)).tanh()), unary()),
    Fused("gelu", lambda x: x.gelu(), lambda x: 0.5 * x * (1.0 + (x * np.sqrt(0.5)).erf()),
          unary(lambda s: arrays(s, low=-4, high=4))),
    Fused("max_pool2d", lambda x, **p: F.max_pool2d(x, **p), pooled, pool_inputs(distinct)),
    Fused("conv2d, one group (Conv2d)", lambda x, w, **p: F.conv2d(x, w, **p), unfolded_conv,
          conv_inputs(2).filter(lambda case: case.params["groups"] == 1).map(one_group)),
    Fused("batch_norm in training (Normalize)", lambda x: F.batch_norm(x, None, None, training=True),
          lambda x: _normalized(x, (0,) + tuple(range(2, x.ndim))),
          batch_norm_inputs().map(lambda case: Case(case.arrays[:1]))),
    Fused("batch_norm in training, weight and bias (BatchNorm)",
          lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
          lambda x, w, b: _normalized(x, (0,) + tuple(range(2, x.ndim))) * w.reshape((1, -1) + (1,) * (x.ndim - 2))
          + b.reshape((1, -1) + (1,) * (x.ndim - 2)), batch_norm_inputs()),
]
FUSED += [Fused("lstm_sequence (LSTMSequence)", lstm_sequence, composed_lstm, lstm_inputs())]  # issue 29 (layers29)
