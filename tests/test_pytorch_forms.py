"""Issue 29's ops and argument forms that the op table cannot hold (it checks differentiable rows): integer and
index results (argwhere, max_pool2d's indices, integer scatter_reduce, uint8 resizing), the errors each form
raises, the new layers against PyTorch's, and jit replays of results whose shape depends on the values."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import functional as F


def T(array):
    return tg.Tensor(np.asarray(array), dtype=np.asarray(array).dtype)


# ---- index and integer results ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 2)])
def test_argwhere_is_numpys_as_int64_and_a_jit_replay_finds_each_calls_own(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) > 0
    got = tg.argwhere(T(x))
    assert got.dtype == np.int64 and not got.requires_grad
    np.testing.assert_array_equal(got.data, np.argwhere(x))
    jitted = tg.jit(lambda t: tg.argwhere(t > 0.0))
    for _ in range(4):
        values = rng.standard_normal(shape)
        np.testing.assert_array_equal(jitted(T(values)).data, np.argwhere(values > 0))


def test_masked_select_under_jit_selects_each_calls_own_elements():
    rng = np.random.default_rng(1)
    jitted = tg.jit(lambda x, m: x.masked_select(m))
    for _ in range(4):
        x, m = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)) > 0
        np.testing.assert_array_equal(jitted(T(x), T(m)).data, x[m])


@pytest.mark.parametrize("reduce", [None, "sum", "mean", "amax", "prod"])
def test_scatter_under_jit_uses_each_calls_own_index(reduce):
    """The index arrays are notes (core/jit_seam.py): a replay makes them again from the call's index. Where
    elements collide (None, amax, prod keep one row per place hit), how many places are hit is a shape the
    data decide, checked on each replay (jit/program.py, data_shaped): a new count runs another program or
    traces. With the same collisions each call, every call after the second replays."""
    def f(x, index, src):
        return x.scatter(0, index, src) if reduce is None else x.scatter_reduce(0, index, src, reduce)

    jitted, rng = tg.jit(f), np.random.default_rng(6)
    for _ in range(5):
        x, src = T(rng.standard_normal((3, 4))), T(rng.standard_normal((2, 4)))
        index = T(rng.integers(0, 3, (2, 4)))
        np.testing.assert_array_equal(jitted(x, index, src).data, f(x, index, src).data)
    same_places, traced = T(rng.integers(0, 3, (2, 4))), jitted.traces
    for _ in range(5):
        x, src = T(rng.standard_normal((3, 4))), T(rng.standard_normal((2, 4)))
        np.testing.assert_array_equal(jitted(x, same_places, src).data, f(x, same_places, src).data)
    assert jitted.traces <= traced + 2


def test_max_pool2d_indices_and_max_unpool2d_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.integers(-3, 3, (2, 3, 7, 9)).astype(np.float32)  # ties: PyTorch's first maximum is kept
    for kw in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
               {"kernel_size": (2, 3), "stride": 1, "dilation": (2, 1)}):
        values, indices = F.max_pool2d(T(x), return_indices=True, **kw)
        tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(values.data, tv.numpy())
        np.testing.assert_array_equal(indices.data, ti.numpy())
        assert indices.dtype == np.int64
    values, indices = F.max_pool2d(T(x), 2, return_indices=True)
    unpooled = nn.MaxUnpool2d(2)(values, indices, output_size=(7, 9))
    expected = torch.nn.MaxUnpool2d(2)(*torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True),
                                       output_size=(7, 9))
    np.testing.assert_array_equal(unpooled.data, expected.numpy())


def test_max_pool2d_of_integers_pads_with_the_smallest_integer():
    x = T(np.array([[[[-5, -7], [-9, -6]]]], dtype=np.int32))
    out = F.max_pool2d(x, 2, stride=1, padding=1)  # padding with -inf was an OverflowError
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out.data[0, 0], [[-5, -5, -7], [-5, -5, -6], [-9, -6, -6]])


def test_scatter_reduce_on_integers_is_exact_and_rounds_the_mean_down_as_pytorch():
    x = T(np.arange(12, dtype=np.int64).reshape(3, 4))
    index = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])
    src = T(-np.arange(100, 108, dtype=np.int64).reshape(2, 4))
    out = x.scatter_reduce(0, index, src, "mean")
    np.testing.assert_array_equal(out.data, [[-50, -52, -52, -50], [4, -48, 6, -50], [-48, 9, -46, 11]])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(x.scatter_reduce(0, index, src, "amax", include_self=False).data,
                                  [[-100, -105, -106, -103], [4, -101, 6, -107], [-104, 9, -102, 11]])


def test_uint8_bilinear_resizing_gives_pytorchs_bytes():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for shape, kw in (((1, 3, 17, 23), {"size": (9, 31)}), ((2, 1, 8, 8), {"scale_factor": 1.7}),
                      ((1, 2, 12, 5), {"size": (5, 12), "align_corners": True})):
        x = rng.integers(0, 256, shape).astype(np.uint8)
        got = F.interpolate(T(x), mode="bilinear", **kw)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got.data, torch.nn.functional.interpolate(torch.tensor(x), mode="bilinear",
                                                                                 **kw).numpy())


def test_uint8_bilinear_rounds_in_fixed_point_after_each_axis():
    """A case small enough to check by hand: 0 and 255 resized from 2 to 3 columns. The middle column's weights
    are 1/2 and 1/2, so the byte is (0 + 255 + 1) >> 1 = 128 (128 with float rounding too)."""
    got = F.interpolate(T(np.array([[[[0, 255]]]], dtype=np.uint8)), size=(1, 3), mode="bilinear")
    np.testing.assert_array_equal(got.data, [[[[0, 128, 255]]]])


# ---- errors, each naming what is wrong ------------------------------------------------------------------------
def test_the_new_forms_refuse_bad_arguments_with_pytorchs_classes():
    x = T(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(RuntimeError, match="indexing must be 'ij' or 'xy'"):
        tg.meshgrid(x[0], indexing="ji")
    with pytest.raises(RuntimeError, match="2 shifts need as many axes"):
        x.roll((1, 2))
    with pytest.raises(TypeError, match="got shifts=, PyTorch's spelling; use shift="):
        x.roll(shifts=1)
    with pytest.raises(TypeError, match="got dim1=, PyTorch's spelling; use axis1="):
        x.diagonal(dim1=0)
    with pytest.raises(RuntimeError, match="axis1 and axis2 both name axis 1"):
        x.diagonal(0, 1, -1)
    with pytest.raises(RuntimeError, match="window size 5 does not fit axis 1 of length 4"):
        x.unfold(1, 5, 1)
    with pytest.raises(IndexError):  # NumPy's AxisError: an IndexError (PyTorch's) and a ValueError (ours)
        x.unfold(2, 1, 1)
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for axis 0 of length 3"):
        x.scatter(0, np.array([[3, 0, 0, 0]]), T(np.ones((1, 4), dtype=np.float32)))
    with pytest.raises(RuntimeError, match="x is float32 and src float64"):
        x.scatter(0, np.zeros((1, 4), dtype=np.int64), T(np.ones((1, 4))))
    with pytest.raises(RuntimeError, match="reduce must be one of sum, prod, mean, amax, amin"):
        x.scatter_reduce(0, np.zeros((1, 4), dtype=np.int64), x, "max")
    with pytest.raises(RuntimeError, match="index must hold integers"):
        x.scatter(0, np.zeros((1, 4)), 1.0)
    with pytest.raises(RuntimeError, match="the mask must be boolean"):
        x.masked_select(np.ones((3, 4)))
    with pytest.raises(ValueError, match="mode='reflect' needs padding below the length of axis 1, 4"):
        F.pad(x, (4, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="mode must be one of constant, reflect, replicate, circular"):
        F.pad(x, (1, 1), mode="symmetric")
    with pytest.raises(AttributeError, match="Tensor has no nonzero .* argwhere"):
        x.nonzero()


def _zeros(*shape):
    return T(np.zeros(shape, dtype=np.float32))


# A kernel that does not fit its padded input: PyTorch's RuntimeError and, as before, a ValueError
KERNEL_TOO_LARGE = [
    (lambda: F.conv2d(_zeros(2, 16, 2, 2), _zeros(32, 16, 3, 3)), "conv2d: the padded input's height 2 is smaller"),
    (lambda: F.conv2d(_zeros(1, 1, 6, 7), _zeros(6, 1, 3, 3), dilation=3), "kernel's reach 7"),
    (lambda: F.conv1d(_zeros(1, 1, 2), _zeros(1, 1, 3)), "input's width 2 is smaller than the kernel's reach 3"),
    (lambda: F.conv3d(_zeros(1, 1, 2, 4, 4), _zeros(1, 1, 3, 3, 3)), "conv3d: the padded input .* kernel's reach 3"),
    (lambda: F.max_pool2d(_zeros(1, 1, 2, 2), 3), "max_pool2d: the padded input's height 2 is smaller"),
    (lambda: F.avg_pool3d(_zeros(1, 1, 2, 2, 2), 3), "avg_pool3d: the padded input's length 2 is shorter"),
    (lambda: F.conv_transpose2d(_zeros(1, 1, 2, 2), _zeros(1, 1, 3, 3), padding=3), "padding .* leaves no output"),
    (lambda: F.conv_transpose3d(_zeros(1, 1, 2, 2, 2), _zeros(1, 1, 3, 3, 3), padding=3), "leaves no output"),
]


@pytest.mark.parametrize("call, message", KERNEL_TOO_LARGE)
def test_a_kernel_larger_than_its_input_is_pytorchs_runtime_error_and_a_value_error(call, message):
    with pytest.raises(RuntimeError, match=message) as caught:
        call()
    assert isinstance(caught.value, ValueError)


def test_a_kernel_larger_than_its_input_raises_pytorchs_class():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.functional.conv2d(torch.zeros(2, 16, 2, 2), torch.zeros(32, 16, 3, 3))
    with pytest.raises(RuntimeError):
        torch.nn.functional.max_pool2d(torch.zeros(1, 1, 2, 2), 3)
    for call, message in KERNEL_TOO_LARGE[:1] + KERNEL_TOO_LARGE[4:5]:
        with pytest.raises(RuntimeError, match=message):
            call()


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int32, np.int64, np.float16, np.float32])
@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tril_and_triu_keep_the_dtype_as_pytorch(dtype, k):
    """They gave float64 for bool and integer input (the zeros were a Python float)."""
    x = np.arange(1, 1 + 2 * 3 * 4).reshape(2, 3, 4).astype(dtype)
    lower, upper = T(x).tril(k), T(x).triu(k)
    assert lower.dtype == upper.dtype == dtype
    np.testing.assert_array_equal(lower.data, np.tril(x, k))
    np.testing.assert_array_equal(upper.data, np.triu(x, k))


def test_numpys_rule_stays_where_pytorchs_differs_on_purpose():
    """docs/api.md's table: squeeze of a non-1 axis, tile with fewer reps, an int and an index array split by a
    slice. Each is NumPy's answer (or its error), never PyTorch's by surprise."""
    x = np.arange(2 * 5 * 6 * 5 * 3 * 4, dtype=np.float32).reshape(2, 5, 6, 5, 3, 4)
    with pytest.raises(ValueError, match="squeeze: axis 1 has length 5, not 1"):
        T(x).squeeze(1)
    np.testing.assert_array_equal(T(x[0, 0]).tile((2, 4)).data, np.tile(x[0, 0], (2, 4)))
    index = np.array([[0, 1], [2, 3]])
    picked = T(x)[1, :, 3:11:2, index, 0:2]
    assert picked.shape == (2, 2, 5, 2, 2, 4)  # PyTorch: (5, 2, 2, 2, 2, 4)
    np.testing.assert_array_equal(picked.data, x[1, :, 3:11:2, index, 0:2])


def test_losses_name_an_argument_passed_by_its_old_position():
    """weight is PyTorch's third argument of each loss now; the reduction or ignore_index passed by position, as
    before, is refused rather than taken as a weight."""
    x, p = T(np.zeros((2, 3), dtype=np.float32)), T(np.full((2, 3), 0.5, dtype=np.float32))
    with pytest.raises(TypeError, match="pass reduction='sum' by keyword"):
        F.binary_cross_entropy(p, p, "sum")
    with pytest.raises(TypeError, match="the third argument is weight"):
        F.cross_entropy(x, np.array([0, 1]), -1)
    with pytest.raises(ValueError, match="weight must have one value for each of the 3 classes"):
        F.nll_loss(x, np.array([0, 1]), np.ones(2, dtype=np.float32))


def test_interpolate_refuses_what_pytorch_refuses():
    x = T(np.zeros((1, 1, 4, 4), dtype=np.float32))
    with pytest.raises(NotImplementedError, match="mode='linear' needs 3-D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="align_corners can only be set with the linear modes"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="mode must be one of"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(RuntimeError, match="takes floating-point input"):
        F.interpolate(T(np.zeros((1, 1, 4), dtype=np.int32)), scale_factor=2, mode="linear")


# ---- layers -------------------------------------------------------------------------------------------------
def test_the_3d_layers_load_pytorchs_weights_and_compute_its_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 5, 6, 5)).astype(np.float32)
    for ours, theirs in ((nn.Conv3d(4, 6, (3, 2, 3), stride=(1, 2, 1), padding=1, groups=2),
                          torch.nn.Conv3d(4, 6, (3, 2, 3), stride=(1, 2, 1), padding=1, groups=2)),
                         (nn.ConvTranspose3d(4, 2, 3, stride=2, output_padding=1),
                          torch.nn.ConvTranspose3d(4, 2, 3, stride=2, output_padding=1)),
                         (nn.AvgPool3d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                          torch.nn.AvgPool3d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))):
        assert repr(ours) == repr(theirs)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        xo, xt = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(xo), theirs(xt)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-5)
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad.data, dict(theirs.named_parameters())[name].grad.numpy(), rtol=1e-4,
                                       atol=1e-4)
    assert repr(nn.MaxUnpool2d((2, 3), stride=1, padding=1)) == repr(torch.nn.MaxUnpool2d((2, 3), stride=1, padding=1))


def test_loss_modules_take_pytorchs_weights_as_buffers():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    w = rng.uniform(0.5, 2, 3).astype(np.float32)
    logits, labels = rng.standard_normal((4, 3)).astype(np.float32), np.array([0, 2, 1, 2])
    ours, theirs = nn.CrossEntropyLoss(w, label_smoothing=0.1), torch.nn.CrossEntropyLoss(torch.tensor(w),
                                                                                          label_smoothing=0.1)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    expected = theirs(torch.tensor(logits), torch.tensor(labels)).item()
    np.testing.assert_allclose(ours(T(logits), labels).item(), expected, rtol=1e-6)
    pos = rng.uniform(0.5, 2, 3).astype(np.float32)
    targets = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float32)
    ours_bce = nn.BCEWithLogitsLoss(pos_weight=pos)
    theirs_bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos))
    np.testing.assert_allclose(ours_bce(T(logits), targets).item(),
                               theirs_bce(torch.tensor(logits), torch.tensor(targets)).item(), rtol=1e-6)
