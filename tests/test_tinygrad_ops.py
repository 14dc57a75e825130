"""tinygrad's own op suite, ported case for case to tinygrad_np and checked against PyTorch.

Source: tinygrad 0e7ab86 (2026-08-20), test/backend/test_ops.py, 427 test methods (420 in TestOps, 7 in
TestOpsUint8). Each method here carries upstream's name, in upstream's order, and runs the same cases (shapes,
values, torch function, tolerances) against tinygrad_np's API. The whole module is skipped without torch.

Counts at the port (branch ``port``, from main at cd15103), and on main once issue 29's four branches landed
(ops1: reductions, scans, sorting, elementwise, integer and bitwise, factories; ops2: shape, convolution,
resizing, einsum, losses and attention; api29: dtypes; layers29); recount as docs/tinygrad_ops_port.md shows:

    |                                               | port  | issue 29 |
    | upstream methods                              |   427 |   427    |
    | cannot apply (skipped, reason given)          |     6 |     6    |
    | applicable                                    |   421 |   421    |
    | hold (pass)                                   |   208 |   417    |
    | fail today (strict xfail, reason given)       |   213 |     4    |
    | holding, of the applicable                    | 49.4% | 99.0%    |

    strict xfails by issue 29's category:
    | reductions and scans                          |    32 |     0    |
    | elementwise                                   |    31 |     0    |
    | shape and indexing                            |    19 |     0    |
    | convolution and pooling                       |    19 |     0    |
    | integer and bitwise                           |    18 |     0    |
    | resizing                                      |    10 |     0    |
    | losses and attention                          |     9 |     0    |
    | factories                                     |     5 |     0    |
    | einsum                                        |     2 |     0    |
    | behaviour differences                         |    68 |     4    |
    |   dtypes (ints made float32, where of ints)   |    23 |     0    |
    |   exception classes (ValueError for PyTorch's |    16 |     0    |
    |     RuntimeError, and the like)               |       |          |
    |   RuntimeWarnings escaping (values match)     |    16 |     0    |
    |   wrong numbers without an error              |     5 |     0    |
    |   0-d tensors refusing axis 0 and -1          |     5 |     0    |
    |   NumPy's rule kept by design                 |     3 |     4    |

    The four left are NumPy's rules kept on purpose (docs/api.md): squeeze of an axis whose length is not 1,
    tile with fewer reps than axes, an int and an index array split by a slice, and a Python int's default
    dtype (int64, PyTorch's and NumPy's) against upstream's explicit int32 in one case of test_pow_int.

How a case is ported
- ``helper_test_op`` is upstream's: inputs drawn as upstream draws them (NumPy's seed-0 uniform stream, float32;
  Python ints become int32 as upstream makes them), the forward compared in shape, dtype and value, then the
  gradients of ``out.sum()`` from ``tinygrad_np.grad`` against ``torch.autograd.grad``, with upstream's
  tolerances (atol 1e-6, rtol 1e-3; gradients atol 1e-4, rtol 1e-3 unless a case says otherwise). Our inputs
  are made with their dtype given explicitly, so a case tests the op and not the constructor's default dtype;
  where upstream's own code builds a Tensor from Python numbers (``Tensor([1, 2])``), the port builds it the
  same way, with our constructor's default.
- Spellings are ours (docs/api.md): ``axis``/``keepdims``/``ddof`` for ``dim``/``keepdim``/``correction``
  (PyTorch's default ``correction=1`` is written ``ddof=1``); ``tg.concatenate`` and ``tg.stack`` for
  ``cat``/``stack``; ``tile`` for PyTorch's ``repeat``; ``broadcast_to`` for ``expand``; ``reshape`` for
  ``view(shape)``; ``swapaxes`` for PyTorch's two-axis ``transpose``; ``tg.take_along_axis`` for ``gather``;
  ``tg.where(mask, v, x)`` for ``masked_fill``; ``astype`` for ``cast``/``int()``/``bool()``; operators for
  ``Tensor.add``/``sub``/``mul``/``neg``/``dot``; ``silu`` for tinygrad's ``swish``; ``F.cross_entropy`` for
  ``sparse_categorical_crossentropy``; ``F.pad`` for PyTorch's flat pad tuple and ``Tensor.pad`` for NumPy's
  pairs (tinygrad's None, "no padding", is NumPy's (0, 0)); ``F.<name>`` for tinygrad's ``Tensor.<name>``
  where PyTorch keeps the op in ``torch.nn.functional`` (conv, pooling, interpolate, losses, attention, selu,
  logsigmoid, hardsigmoid, softmin, normalize). tinygrad's ``clone()``, ``contiguous()``, ``realize()`` and
  ``Context(NOOPT=1)`` only steer its lazy graph and compiler; they are left out and the case runs as it is.
  An op tinygrad_np does not have yet is called by PyTorch's name with our argument names (or by position), so
  the case starts to pass, and its strict xfail flags it, once the op lands with that spelling.
- tinygrad's default integer is int32, so upstream casts torch's int64 results (argmax, arange, where of ints,
  one_hot, sort indices) to int32 to match it. tinygrad_np's integers are NumPy's and PyTorch's int64, so the
  port compares with torch's own int64 result instead.
- Exceptions: ``helper_test_exception`` asserts that torch and tinygrad_np both raise upstream's expected class.
  Where upstream asserts an error from tinygrad alone, the port accepts upstream's class or the class PyTorch
  raises for the same call (named at each place).
- RuntimeWarnings are errors in this suite (pyproject.toml), so a case where NumPy warns on an inf, a NaN or a
  zero fails even when its numbers match PyTorch's; those reasons say so.
- Left out, each with a comment: sub-assertions on tinygrad-only argument forms (``reshape`` with None, NumPy's
  one-pair ``pad`` broadcast, the ``scaled_uniform`` and ``glorot_uniform`` factories). tinygrad's
  ``assertRaises(AssertionError)`` on its own int pow imprecision is ported as the exact answer it stands for.
  Seven methods upstream skips (slow, redundant, "not supported", "broken") apply here, so they run.
- ``TINYGRAD_NP_PORT_ALL=1`` lets a method go on past a failing case and writes every failing case to stderr
  (``pytest -s``), so one run lists all that a method lacks, not only its first failure.

Marks: ``xfail(strict=True)`` is "applies but fails today" (the reason names what is missing or wrong, and
"by design" where tinygrad_np keeps NumPy's rule on purpose); ``skip`` is "cannot apply" (the reason says why).
The category before the colon in each reason is issue 29's grouping.
"""
import functools
import math
import os
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_np as tg  # noqa: E402
from tinygrad_np.nn import functional as F  # noqa: E402

INT32_MAX, INT32_MIN = 2**31 - 1, -(2**31)  # tinygrad's dtypes.int.max / dtypes.int.min


def fails(reason):
    """Applies, but fails today: what is missing or different, under issue 29's category."""
    return pytest.mark.xfail(strict=True, reason=reason)


def not_applicable(reason):
    """Cannot apply to tinygrad_np, and why."""
    return pytest.mark.skip(reason="not applicable: " + reason)


# The whole port takes 15 to 30 seconds with torch: slow, so ``pytest -m "not slow"`` leaves it out. The
# methods upstream marks @slow_test carry @slow here too.
pytestmark = pytest.mark.slow
slow = pytest.mark.slow


@pytest.fixture(autouse=True)
def _short_expected_failures(request):
    """An expected failure's report in one line. pytest formats the whole traceback of every failure before it
    learns the failure was expected and drops it; in a file this long that costs half a second per xfail (each
    frame re-parses the file). A case that starts to pass is reported as usual (strict XPASS); ``--runxfail``
    gets full tracebacks back."""
    if request.node.get_closest_marker("xfail") and not request.config.option.runxfail:
        request.node.repr_failure = lambda excinfo, style=None: f"{excinfo.typename}: {excinfo.value}"


# ---- upstream's helpers, on tinygrad_np ----------------------------------------------------------------------
def _ours(t, forward_only):
    """Our Tensor holding a torch tensor's values, dtype given explicitly; floats require grad for backward."""
    data = t.detach().numpy()
    return tg.Tensor(data, dtype=data.dtype, requires_grad=not forward_only and data.dtype.kind == "f")


def prepare_test_op(low, high, shps, vals, forward_only=False):
    if shps is None:
        ts = [torch.tensor(x, requires_grad=not forward_only) for x in vals]
    else:
        rng = np.random.RandomState(0)  # upstream: np.random.seed(0), then np.random.uniform: the same stream
        np_data = [rng.uniform(low=low, high=high, size=size).astype(np.float32) for size in shps]
        ts = [torch.tensor(data, requires_grad=not forward_only) for data in np_data]
    for i in range(len(ts)):
        # as upstream: torch makes int64 from Python ints; the case's inputs are int32
        if ts[i].dtype == torch.int64:
            ts[i] = ts[i].type(torch.int32)
    return ts, [_ours(t, forward_only) for t in ts]


def _array(value):
    return value.numpy() if isinstance(value, tg.Tensor) else np.asarray(value)


def compare(s, ours, theirs, atol, rtol):
    assert ours.shape == theirs.shape, f"{s}: shape mismatch: tinygrad_np={ours.shape} | torch={theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{s}: dtype mismatch: tinygrad_np={ours.dtype} | torch={theirs.dtype}"
    if np.issubdtype(ours.dtype, np.floating):
        np.testing.assert_allclose(ours, theirs, atol=atol, rtol=rtol, err_msg=s)
    else:
        np.testing.assert_equal(ours, theirs, err_msg=s)


def _each_case(helper):
    """With TINYGRAD_NP_PORT_ALL=1, a failing case is written to stderr and the method goes on to its next case,
    so one run lists every case that fails (and why), not only a method's first; otherwise it raises, as upstream."""
    @functools.wraps(helper)
    def run(*args, **kwargs):
        if not os.environ.get("TINYGRAD_NP_PORT_ALL"):
            return helper(*args, **kwargs)
        try:
            helper(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 (reported, then the next case runs)
            test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
            sys.stderr.write(f"CASE FAILED {test}: {type(e).__name__}: {first}\n")
    return run


@_each_case
def helper_test_op(shps, torch_fxn, tinygrad_fxn=None, atol=1e-6, rtol=1e-3, grad_atol=1e-4, grad_rtol=1e-3,
                   forward_only=False, vals=None, low=-2, high=2):
    if tinygrad_fxn is None:
        tinygrad_fxn = torch_fxn
    ts, tst = prepare_test_op(low, high, shps, vals, forward_only)
    out = torch_fxn(*ts)
    ret = tinygrad_fxn(*tst)
    compare("forward pass", _array(ret), out.detach().numpy(), atol=atol, rtol=rtol)
    if not forward_only and ts and tst:
        torch_grads = torch.autograd.grad(torch_fxn(*ts).sum(), ts)
        ours_grads = tg.grad(tinygrad_fxn(*tst).sum(), tst)
        for i, (t, torch_grad) in enumerate(zip(ours_grads, torch_grads, strict=True)):
            compare(f"backward pass tensor {i}", _array(t), torch_grad.detach().numpy(), atol=grad_atol,
                    rtol=grad_rtol)


@_each_case
def helper_test_exception(shps, torch_fxn, tinygrad_fxn=None, expected=None, forward_only=False, exact=False,
                          vals=None, low=-1.5, high=1.5):
    ts, tst = prepare_test_op(low, high, shps, vals, forward_only)
    if tinygrad_fxn is None:
        tinygrad_fxn = torch_fxn
    with pytest.raises(expected) as torch_cm:
        torch_fxn(*ts)
    with pytest.raises(expected) as ours_cm:
        tinygrad_fxn(*tst)
    if exact:
        assert str(torch_cm.value) == str(ours_cm.value)


def _values(result):
    """torch's cummax/cummin give (values, indices); cumsum and cumprod give a tensor."""
    return result[0] if isinstance(result, tuple) else result


def _first(result):
    """Ours: the values of a (values, indices) pair, or the tensor itself."""
    return result[0] if isinstance(result, tuple) else result


def T(data, dtype=None):
    """tinygrad's ``Tensor(data, dtype=...)``: with no dtype, our constructor's own default."""
    return tg.Tensor(data) if dtype is None else tg.Tensor(data, dtype=dtype)


class TestOps:
    def test_full_like(self):
        a = T([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
        b = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.float32)
        helper_test_op([], lambda: torch.full_like(b, 4), lambda: tg.full_like(a, 4), forward_only=True)

        a = T([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
        b = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int32)
        helper_test_op([], lambda: torch.full_like(b, 4), lambda: tg.full_like(a, 4), forward_only=True)

    def test_full(self):
        helper_test_op([], lambda: torch.full((45, 65), 4), lambda: tg.full((45, 65), 4), forward_only=True)

    def test_negative_dims(self):
        # tinygrad's scaled_uniform and glorot_uniform are tinygrad-only factories, left out; randint and normal
        # take PyTorch's arguments, (low, high, size) and (mean, std, size)
        def size(shape):
            return shape[0] if len(shape) == 1 else shape
        creation_methods = [
            lambda *s: tg.empty(*s),
            lambda *s: tg.rand(*s),
            tg.zeros,
            tg.ones,
            tg.randn,
            lambda *s: tg.randint(0, 10, size(s)),
            lambda *s: tg.normal(0.0, 1.0, size(s)),
            tg.uniform,
        ]
        for method in creation_methods:
            with pytest.raises(ValueError):
                method(-3, 2)
            with pytest.raises(ValueError):
                method((2, -3))
            with pytest.raises(ValueError):
                method((2, -3, 0))

    def test_negative_dims_full(self):
        with pytest.raises(ValueError):
            tg.full((-3,), 2)
        with pytest.raises(ValueError):
            tg.full((2, -3), 4)
        with pytest.raises(ValueError):
            tg.full((2, -3, 0), 4)

    def test_negative_dims_eye(self):
        with pytest.raises(ValueError):
            tg.eye(-3, 3)
        with pytest.raises(ValueError):
            tg.eye(3, -3)
        with pytest.raises(ValueError):
            tg.eye(-3, -3)

    @not_applicable("tinygrad-only factories Tensor.kaiming_uniform(*shape) and kaiming_normal(*shape); PyTorch's "
                    "(and tinygrad_np's nn.init) kaiming_uniform_/kaiming_normal_ fill an existing tensor, so there "
                    "is no shape argument to be negative")
    def test_negative_dims_kaiming(self):
        pass

    def test_zeros(self):
        helper_test_op([], lambda: torch.zeros(45, 65), lambda: tg.zeros(45, 65), forward_only=True)
        helper_test_op([], lambda: torch.zeros([45, 65]), lambda: tg.zeros([45, 65]), forward_only=True)
        helper_test_op([], lambda: torch.zeros([]), lambda: tg.zeros([]), forward_only=True)

    def test_zeros_like(self):
        a = T([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
        b = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.float32)
        helper_test_op([], lambda: torch.zeros_like(b), lambda: tg.zeros_like(a), forward_only=True)

        a = T([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
        b = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int32)
        helper_test_op([], lambda: torch.zeros_like(b), lambda: tg.zeros_like(a), forward_only=True)

    def test_empty_0(self):
        helper_test_op([], lambda: torch.empty(45, 65) * 0 / 0, lambda: tg.empty(45, 65) * 0 / 0, forward_only=True)

    def test_ones(self):
        helper_test_op([], lambda: torch.ones(45, 65), lambda: tg.ones(45, 65), forward_only=True)
        helper_test_op([], lambda: torch.ones([45, 65]), lambda: tg.ones([45, 65]), forward_only=True)
        helper_test_op([], lambda: torch.ones([]), lambda: tg.ones([]), forward_only=True)

    def test_ones_like(self):
        a = T([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
        b = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.float32)
        helper_test_op([], lambda: torch.ones_like(b), lambda: tg.ones_like(a), forward_only=True)

        a = T([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
        b = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int32)
        helper_test_op([], lambda: torch.ones_like(b), lambda: tg.ones_like(a), forward_only=True)

    def test_eye(self):
        helper_test_op([], lambda: torch.eye(10), lambda: tg.eye(10), forward_only=True)
        helper_test_op([], lambda: torch.eye(3, 5), lambda: tg.eye(3, 5), forward_only=True)
        helper_test_op([], lambda: torch.eye(5, 3), lambda: tg.eye(5, 3), forward_only=True)
        helper_test_op([], lambda: torch.eye(1), lambda: tg.eye(1), forward_only=True)
        helper_test_op([], lambda: torch.eye(0), lambda: tg.eye(0), forward_only=True)

    def test_split(self):
        def tensor(s):
            return torch.arange(math.prod(s)).reshape(s), tg.arange(math.prod(s)).reshape(s)
        test_cases = [
            (tensor((10,)), 5, {}),
            (tensor((10,)), [1, 4, 5], {}),
            (tensor((10,)), 3, {}),
            (tensor((3, 4,)), 1, {}),
            (tensor((3, 4,)), 1, {'axis': 1}),
            (tensor((4, 4,)), [2, 2], {}),
            (tensor((4, 4,)), [2, 2], {'axis': 1}),
            (tensor((10000,)), 2500, {}),
        ]
        for (tor, ten), sizes, args in test_cases:
            tor_splits = tor.split(sizes, **{"dim" if k == "axis" else k: v for k, v in args.items()})
            ten_splits = ten.split(sizes, **args)
            assert len(tor_splits) == len(ten_splits)
            for tor_chunk, ten_chunk in zip(tor_splits, ten_splits, strict=True):
                helper_test_op([], lambda tor_chunk=tor_chunk: tor_chunk, lambda ten_chunk=ten_chunk: ten_chunk,
                               forward_only=True)

    def test_chunk(self):
        for reps, n, axis in (((8, 1), 6, 1), ((8, 1), 6, 0), ((8, 1), 3, -1), ((8, 3, 3), 3, -2)):
            tor = torch.arange(13).repeat(*reps).chunk(n, axis)
            ten = tg.arange(13).tile(reps).chunk(n, axis)
            assert len(tor) == len(ten)
            for i in range(len(tor)):
                helper_test_op([], lambda i=i, tor=tor: tor[i], lambda i=i, ten=ten: ten[i], forward_only=True)

    def test_unfold(self):
        helper_test_op([(8,)], lambda x: x.unfold(0, 2, 1))
        helper_test_op([(8,)], lambda x: x.unfold(0, 2, 2))
        helper_test_op([(8,)], lambda x: x.unfold(0, 7, 3))
        helper_test_op([(3, 3, 3)], lambda x: x.unfold(2, 2, 8))
        helper_test_op([(3, 3, 3)], lambda x: x.unfold(1, 0, 8))
        helper_test_op([(3, 3, 3, 3, 3)], lambda x: x.unfold(-1, 2, 2))

        helper_test_exception([(8,)], lambda x: x.unfold(0, 9, 3), expected=RuntimeError)
        helper_test_exception([(8,)], lambda x: x.unfold(1, 8, 3), expected=IndexError)
        helper_test_exception([(8,)], lambda x: x.unfold(0, 1, -1), expected=RuntimeError)

    def test_meshgrid(self):
        x, xt = torch.tensor([0., 1., 2.], requires_grad=True), T([0., 1., 2.])
        y, yt = torch.tensor([3., 4., 5., 6.], requires_grad=True), T([3., 4., 5., 6.])
        z, zt = torch.tensor([7., 8., 9.], requires_grad=True), T([7., 8., 9.])
        for indexing in ("ij", "xy"):
            for tor, ten in ((torch.meshgrid(x, indexing=indexing), tg.meshgrid(xt, indexing=indexing)),
                             (torch.meshgrid(x, y, indexing=indexing), tg.meshgrid(xt, yt, indexing=indexing)),
                             (torch.meshgrid(x, torch.tensor(10., requires_grad=True), y, z, indexing=indexing),
                              tg.meshgrid(xt, T(10.), yt, zt, indexing=indexing))):
                assert len(tor) == len(ten)
                for tor_i, ten_i in zip(tor, ten, strict=True):
                    helper_test_op([], lambda tor_i=tor_i: tor_i, lambda ten_i=ten_i: ten_i)

        helper_test_exception([], lambda: torch.meshgrid(x, indexing="bad"), lambda: tg.meshgrid(xt, indexing="bad"),
                              expected=RuntimeError)

    def test_arange(self):
        helper_test_op([], lambda: torch.arange(10), lambda: tg.arange(10), forward_only=True)
        helper_test_op([], lambda: torch.arange(36), lambda: tg.arange(36), forward_only=True)
        helper_test_op([], lambda: torch.arange(5, 10, 3), lambda: tg.arange(5, 10, 3), forward_only=True)
        helper_test_op([], lambda: torch.arange(10, 5, -3), lambda: tg.arange(10, 5, -3), forward_only=True)
        helper_test_op([], lambda: torch.arange(11, 5, -3), lambda: tg.arange(11, 5, -3), forward_only=True)
        helper_test_op([], lambda: torch.arange(1, 78, 2), lambda: tg.arange(1, 78, 2), forward_only=True)
        helper_test_op([], lambda: torch.arange(5.5, 175.5, 2.5), lambda: tg.arange(5.5, 175.5, 2.5), forward_only=True)
        helper_test_op([], lambda: torch.arange(-30.2, -0.3, 0.75), lambda: tg.arange(-30.2, -0.3, 0.75),
                       forward_only=True)
        helper_test_op([], lambda: torch.arange(-50.3, -380.2, -2.25), lambda: tg.arange(-50.3, -380.2, -2.25),
                       forward_only=True)
        # boundary values that fit exactly in int8 (min=-128, max=127)
        helper_test_op([], lambda: torch.arange(128, dtype=torch.int8), lambda: tg.arange(128, dtype=np.int8),
                       forward_only=True)
        helper_test_op([], lambda: torch.arange(-128, 128, dtype=torch.int8),
                       lambda: tg.arange(-128, 128, dtype=np.int8), forward_only=True)
        helper_test_op([], lambda: torch.arange(127, -129, -1, dtype=torch.int8),
                       lambda: tg.arange(127, -129, -1, dtype=np.int8), forward_only=True)
        # an int range too large for int32 is int64
        assert tg.arange(2**31, 2**31 + 3).dtype == np.int64
        # overflow: tinygrad raises (torch silently wraps)
        with pytest.raises(OverflowError):
            tg.arange(129, dtype=np.int8)            # last=128 overflows
        with pytest.raises(OverflowError):
            tg.arange(-129, 128, dtype=np.int8)      # start=-129 overflows
        with pytest.raises(OverflowError):
            tg.arange(128, 0, -1, dtype=np.int8)     # start=128 overflows
        with pytest.raises(OverflowError):
            tg.arange(127, -130, -1, dtype=np.int8)  # last=-129 overflows
        # upstream's first overflow check, moved last: without the check NumPy allocates 2**33 int32 (32 GiB)
        with pytest.raises(OverflowError):
            tg.arange(2**33, dtype=np.int32)

    def test_arange_big(self):
        helper_test_op([], lambda: torch.arange(256), lambda: tg.arange(256), forward_only=True)

    def test_arange_4096(self):
        helper_test_op([], lambda: torch.arange(4096), lambda: tg.arange(4096), forward_only=True)

    def test_linspace(self):
        helper_test_op([], lambda: torch.linspace(5, 10, 3), lambda: tg.linspace(5, 10, 3), forward_only=True)
        helper_test_op([], lambda: torch.linspace(5, 10, 1), lambda: tg.linspace(5, 10, 1), forward_only=True)
        helper_test_op([], lambda: torch.linspace(5, 10, 0), lambda: tg.linspace(5, 10, 0), forward_only=True)
        helper_test_op([], lambda: torch.linspace(5, 10, 30), lambda: tg.linspace(5, 10, 30), forward_only=True)
        helper_test_op([], lambda: torch.linspace(-5.5, 5.5, 10), lambda: tg.linspace(-5.5, 5.5, 10),
                       forward_only=True)
        helper_test_op([], lambda: torch.linspace(5.5, -5.5, 10), lambda: tg.linspace(5.5, -5.5, 10),
                       forward_only=True)
        helper_test_op([], lambda: torch.linspace(5, 10, 3, dtype=torch.int32),
                       lambda: tg.linspace(5, 10, 3, dtype=np.int32), forward_only=True)
        helper_test_op([], lambda: torch.linspace(5, 10, 20, dtype=torch.int32),
                       lambda: tg.linspace(5, 10, 20, dtype=np.int32), forward_only=True)
        helper_test_op([], lambda: torch.linspace(5, -5, 20, dtype=torch.int32),
                       lambda: tg.linspace(5, -5, 20, dtype=np.int32), forward_only=True)
        helper_test_exception([], lambda: torch.linspace(5, 10, 3, dtype=torch.bool),
                              lambda: tg.linspace(5, 10, 3, dtype=bool), expected=(RuntimeError, ValueError))
        helper_test_exception([], lambda: torch.linspace(1, 2, -1), lambda: tg.linspace(1, 2, -1),
                              expected=(RuntimeError, ValueError))

    def test_sum_fake(self):
        helper_test_op([(256, 1)], lambda x: x.sum(axis=1))

    def test_sum_collapse(self):
        helper_test_op([], lambda: torch.ones(256, 256).sum(axis=1), lambda: tg.ones(256, 256).sum(axis=1),
                       forward_only=True)

    def test_sum_collapse_neg(self):
        helper_test_op([], lambda: (-torch.ones(3, 3)).sum(axis=1), lambda: (-tg.ones(3, 3)).sum(axis=1),
                       forward_only=True)

    def test_sum_pad_collapse(self):
        helper_test_op([], lambda: torch.nn.functional.pad(torch.ones(256, 256), pad=(0, 64, 0, 0)).sum(axis=1),
                       lambda: tg.ones(256, 256).pad(((0, 0), (0, 64))).sum(axis=1), forward_only=True)

    def test_sum_twice(self):
        helper_test_op([(4, 4, 4)], lambda x: x.sum((0, 1)).sum())
        helper_test_op([(4, 4, 4)], lambda x: x.sum((0, 2)).sum())
        helper_test_op([(4, 4, 4)], lambda x: x.sum((1, 2)).sum())

    # this is more complex and won't fold for a while
    def test_sum_cat_collapse(self):
        helper_test_op([], lambda: torch.cat([torch.ones(256, 256), torch.zeros(256, 64)], dim=1).sum(axis=1),
                       lambda: tg.concatenate([tg.ones(256, 256), tg.zeros(256, 64)], axis=1).sum(axis=1),
                       forward_only=True)

    def test_max_dont_collapse(self):
        helper_test_op([], lambda: torch.ones(256, 256).max(1)[0], lambda: tg.ones(256, 256).max(1), forward_only=True)

    def test_where(self):
        helper_test_op([], lambda: torch.where(torch.tensor([True, False]), 1, 3),
                       lambda: tg.where(T([True, False]), 1, 3), forward_only=True)
        helper_test_op([(100,)], lambda x: torch.where(x > 0.5, 4, 2), lambda x: tg.where(x > 0.5, 4, 2),
                       forward_only=True)

        for shps in [[(8,), (1,), (1,)], [(10, 10), (10,), (10,)], [(100,)] * 3, [(10, 10)] * 3]:
            helper_test_op(shps, lambda x, a, b: torch.where(x > 0.5, a, b), lambda x, a, b: tg.where(x > 0.5, a, b),
                           forward_only=True)

    def test_where_permute(self):
        helper_test_op([(5, 5)], lambda x: torch.where(x > 0.5, 4, 2).permute((1, 0)),
                       lambda x: tg.where(x > 0.5, 4, 2).permute((1, 0)), forward_only=True)

    def _test_cmp(self, fxn, reverse=True):
        # test different dtypes
        helper_test_op(None, fxn, fxn, forward_only=True, vals=[[0., 1, 2], [2., 1, 0]])
        helper_test_op(None, fxn, fxn, forward_only=True, vals=[[0, 1, 2], [2, 1, 0]])
        helper_test_op(None, fxn, fxn, forward_only=True, vals=[[True, True, False], [False, True, False]])
        # test broadcasting
        for shps in [[(3, 4, 5), (3, 4, 5)], [(3, 4, 5), (5,)], [(5,), (3, 4, 5)]]:
            helper_test_op(shps, fxn, fxn, forward_only=True)
        # test cmp with const
        helper_test_op(None, lambda x, y: fxn(x, 2), lambda x, y: fxn(x, 2), forward_only=True,
                       vals=[[0., 1, 2], [2., 1, 0]])
        if reverse:
            helper_test_op(None, lambda x, y: fxn(2, y), lambda x, y: fxn(2, y), forward_only=True,
                           vals=[[0., 1, 2], [2., 1, 0]])
        # test special floats  # TODO: fix nan
        specials = [0.0, 1.0, -1.0, math.inf, -math.inf]  # , math.nan]
        for s0 in specials:
            for s1 in specials:
                helper_test_op(None, fxn, fxn, forward_only=True, vals=[[s0], [s1]])

    def test_cmp_eq(self):
        self._test_cmp(lambda x, y: x == y, reverse=False)

    def test_cmp_gt(self):
        self._test_cmp(lambda x, y: x > y)

    def test_cmp_ge(self):
        self._test_cmp(lambda x, y: x >= y)

    def test_cmp_lt(self):
        self._test_cmp(lambda x, y: x < y)

    def test_cmp_le(self):
        self._test_cmp(lambda x, y: x <= y)

    def test_cmp_ne_backwards(self):
        tt = tg.randn(4, requires_grad=True)
        (tt * (tt != 0)).sum().backward()
        t = torch.tensor(tt.numpy(), requires_grad=True)
        (t * (t != 0)).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-5)

    def test_cmp_lt_backwards(self):
        tt = tg.randn(4, requires_grad=True)
        (tt * (tt < 0)).sum().backward()
        t = torch.tensor(tt.numpy(), requires_grad=True)
        (t * (t < 0)).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-5)

    # TODO: fix backward of these functions
    def test_trunc(self):
        helper_test_op([()], lambda x: x.trunc(), forward_only=True)
        helper_test_op([(45, 35)], lambda x: x.trunc(), forward_only=True)
        helper_test_op(None, lambda x: x.trunc(), vals=[[1.499, 1.5, 1.501, 1.0, 2.1, 0.0, -5.0, -2.499, -2.5, -2.501,
                                                         1e12, -1e12]], forward_only=True)

    def test_floor(self):
        helper_test_op([()], lambda x: x.floor(), forward_only=True)
        helper_test_op([(45, 35)], lambda x: x.floor(), forward_only=True)
        helper_test_op(None, lambda x: x.floor(), vals=[[1.499, 1.5, 1.501, 1.0, 2.1, 0.0, -5.0, -2.499, -2.5, -2.501]],
                       forward_only=True)

    def test_ceil(self):
        helper_test_op([()], lambda x: x.ceil(), forward_only=True)
        helper_test_op([(45, 35)], lambda x: x.ceil(), forward_only=True)
        helper_test_op(None, lambda x: x.ceil(), vals=[[1.499, 1.5, 1.501, 1.0, 2.1, 0.0, -5.0, -2.499, -2.5, -2.501]],
                       forward_only=True)

    def test_round(self):
        helper_test_op([()], lambda x: x.round(), forward_only=True)
        helper_test_op([(45, 35)], lambda x: x.round(), forward_only=True)
        helper_test_op(None, lambda x: x.round(), vals=[[1.499, 1.5, 1.501, 1.0, 2.1, 0.0, -5.0, -2.499, -2.5, -2.501]],
                       forward_only=True)
        helper_test_op(None, lambda x: x.round(), vals=[[2.5, -1.5]], forward_only=True)

    def test_round_quantization_gradient(self):
        helper_test_op(None, lambda x: x + 0.125 * (x.round() - x), vals=[[-1.2, -0.7, -0.2, 0.2, 0.7, 1.2]])

    def test_isinf(self):
        val = [float('-inf'), 0., float('inf'), float('nan'), 1.1]
        helper_test_op(None, torch.isinf, lambda x: x.isinf(), vals=[val], forward_only=True)
        # tinygrad's isinf(detect_positive=, detect_negative=) are PyTorch's (and NumPy's) isposinf and isneginf
        np.testing.assert_equal(T(val).isposinf().numpy(), [False, False, True, False, False])
        np.testing.assert_equal(T(val).isneginf().numpy(), [True, False, False, False, False])

    def test_isnan(self):
        helper_test_op(None, torch.isnan, lambda x: x.isnan(),
                       vals=[[float('-inf'), 0., float('inf'), float('nan'), 1.1]],
                       forward_only=True)

    def test_isfinite(self):
        helper_test_op(None, torch.isfinite, lambda x: x.isfinite(),
                       vals=[[float('-inf'), 0., float('inf'), float('nan'), 1.1]], forward_only=True)

    def test_lerp(self):
        helper_test_op([(45, 35), (45, 35), (45, 35)], lambda x, y, z: x.lerp(y, z))
        helper_test_op(None, lambda x, y, z: x.lerp(y, z), vals=[[1., 2., 3.], [4., 5., 6.], 0.5])

    def test_tril(self):
        helper_test_op([(3, 3)], lambda x: x.tril())
        helper_test_op([(3, 3)], lambda x: x.tril(1))
        helper_test_op([(3, 3)], lambda x: x.tril(2))
        helper_test_op([(3, 3)], lambda x: x.tril(-1))
        helper_test_op([(3, 3)], lambda x: x.tril(-2))
        helper_test_op([(4, 5)], lambda x: x.tril(4))
        helper_test_op([(4, 5)], lambda x: x.tril(5))
        helper_test_op([(4, 5)], lambda x: x.tril(6))
        helper_test_op([(4, 5)], lambda x: x.tril(-4))
        helper_test_op([(4, 5)], lambda x: x.tril(-5))
        helper_test_op([(4, 5)], lambda x: x.tril(-6))
        helper_test_op([(5, 3, 3)], lambda x: x.tril())
        helper_test_op([(5, 0, 3)], lambda x: x.tril())
        helper_test_op([(5, 3, 3)], lambda x: x.tril(1))
        helper_test_op(None, lambda x: x.tril(), vals=[[[True] * 3] * 3], forward_only=True)

    def test_triu(self):
        helper_test_op([(3, 3)], lambda x: x.triu())
        helper_test_op([(3, 3)], lambda x: x.triu(1))
        helper_test_op([(3, 3)], lambda x: x.triu(2))
        helper_test_op([(3, 3)], lambda x: x.triu(-1))
        helper_test_op([(3, 3)], lambda x: x.triu(-2))
        helper_test_op([(4, 5)], lambda x: x.triu(4))
        helper_test_op([(4, 5)], lambda x: x.triu(5))
        helper_test_op([(4, 5)], lambda x: x.triu(6))
        helper_test_op([(4, 5)], lambda x: x.triu(-4))
        helper_test_op([(4, 5)], lambda x: x.triu(-5))
        helper_test_op([(4, 5)], lambda x: x.triu(-6))
        helper_test_op([(5, 3, 3)], lambda x: x.triu())
        helper_test_op([(5, 0, 3)], lambda x: x.triu())
        helper_test_op([(5, 3, 3)], lambda x: x.triu(1))
        helper_test_op(None, lambda x: x.triu(), vals=[[[True] * 3] * 3], forward_only=True)

    def _test_choose(self, torch_op, ours_op):
        helper_test_op([(45, 65), (45, 65)], torch_op, ours_op)
        helper_test_op([(), ()], torch_op, ours_op)
        helper_test_op(None, torch_op, ours_op, vals=[[1., 0., 3., -4.], 3.])
        helper_test_op(None, torch_op, ours_op, vals=[[1., 0., 3., -4.], [-1., -2., 3., 0.]])
        helper_test_op(None, torch_op, ours_op, vals=[[-1234, 0, 1234, INT32_MAX, INT32_MIN], INT32_MAX],
                       forward_only=True)
        helper_test_op(None, torch_op, ours_op, vals=[[-1234, 0, 1234, INT32_MAX, INT32_MIN], INT32_MIN],
                       forward_only=True)
        helper_test_op(None, torch_op, ours_op, vals=[[True, False, False], True], forward_only=True)
        helper_test_op(None, torch_op, ours_op, vals=[[True, False, False], [True, True, False]], forward_only=True)

        # test applying to different dtype
        helper_test_op(None, torch_op, ours_op, vals=[[1, 2, 3], 1.2], forward_only=True)
        helper_test_op(None, torch_op, ours_op, vals=[[True, False, False], 1.2], forward_only=True)
        helper_test_op(None, torch_op, ours_op, vals=[[True, False, False], 3], forward_only=True)

    def test_maximum(self):
        self._test_choose(torch.maximum, tg.maximum)

    def test_minimum(self):
        self._test_choose(torch.minimum, tg.minimum)

    def test_tiny_add(self):
        helper_test_op([(3), (3)], lambda x, y: x + y, forward_only=True)

    def test_tiny_mul(self):
        helper_test_op([(64), (64)], lambda x, y: x * y, forward_only=True)

    def test_add(self):
        helper_test_op([(45, 68), (45, 68)], lambda x, y: x + y)  # upstream: Tensor.add, our +
        helper_test_op([], lambda: torch.tensor(1) + 0.5, lambda: T(1) + 0.5, forward_only=True)
        helper_test_op([(45, 68), (45, 68)], lambda x, y: x + y)
        helper_test_op([(), ()], lambda x, y: x + y)

    def test_add3(self):
        helper_test_op([(45, 65), (45, 65), (45, 65)], lambda x, y, z: x + y + z)

    def test_broadcasted_add(self):
        helper_test_op([(45, 65), (45, 1)], lambda x, y: x + y)
        helper_test_op([(45, 65), ()], lambda x, y: x + y)

    def test_broadcasted_add_2(self):
        helper_test_op([(45, 65), (65,)], lambda x, y: x + y)

    def test_sub(self):
        helper_test_op([(45, 65), (45, 65)], lambda x, y: x - y)  # upstream: Tensor.sub, our -
        helper_test_op([(45, 65), (45, 65)], lambda x, y: x - y)
        helper_test_op([(), ()], lambda x, y: x - y)

    def test_scalar_sub(self):
        helper_test_op([(45, 65)], lambda x: x - 2)
        helper_test_op([()], lambda x: x - 2)

    def test_scalar_rsub(self):
        helper_test_op([(45, 65)], lambda x: 2 - x)
        helper_test_op([()], lambda x: 2 - x)

    def test_neg(self):
        helper_test_op([(45, 65)], lambda x: -x)
        helper_test_op([(45, 65)], lambda x: x.neg(), lambda x: -x)  # upstream: x.neg(), our unary -
        helper_test_op([()], lambda x: x.neg(), lambda x: -x)

    def test_logical_not(self):
        helper_test_op(None, torch.logical_not, lambda x: x.logical_not(), vals=[[True, False, True]],
                       forward_only=True)
        helper_test_op(None, torch.logical_not, lambda x: x.logical_not(), vals=[[1., 2., 0., 0.5]], forward_only=True)

    def test_mul(self):
        helper_test_op([(64, 64), (64, 64)], lambda x, y: x * y)  # upstream: Tensor.mul, our *
        helper_test_op([(64, 64), (64, 64)], lambda x, y: x * y)
        helper_test_op([(), ()], lambda x, y: x * y)

    def test_scalar_mul(self):
        helper_test_op([(45, 65)], lambda x: x * 2)
        helper_test_op([(45, 65)], lambda x: x * -1)
        helper_test_op([(45, 65)], lambda x: 255 * x)
        helper_test_op([(45, 65)], lambda x: 2 * x)
        helper_test_op([()], lambda x: x * 2)
        helper_test_op([()], lambda x: 2 * x)

    def test_div(self):
        helper_test_op([(45, 65), (45, 65)], lambda x, y: x / y)  # upstream: Tensor.div, our /
        helper_test_op([(45, 65), (45, 65)], lambda x, y: x / y)
        helper_test_op([(), ()], lambda x, y: x / y)

    def test_div_rounding_mode(self):
        numerators = ([5, 6, 7, 0, -5, -6, -7], [5.0, 6, 7, 0, -5, -6, -7])
        for denominator in [-10, -5, -3, -2, -1, 1, 2, 3, 5, 10] + [-10.0, -5.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 5.0,
                                                                    10.0]:
            for numerator in numerators:  # int numerator, then float numerator
                for mode in (None, "trunc", "floor"):
                    helper_test_op(None, lambda x, y, mode=mode: x.div(y, rounding_mode=mode), forward_only=True,
                                   vals=[numerator, [denominator]])

        for numerator in [110, 111, -110, -111]:
            for denominator in [55, -55]:
                for mode in (None, "trunc", "floor"):
                    helper_test_op(None, lambda x, y, mode=mode: x.div(y, rounding_mode=mode), forward_only=True,
                                   vals=[[numerator], [denominator]])

        helper_test_exception(None, lambda x, y: x.div(y, rounding_mode="typo"), forward_only=True, vals=[[5], [0]],
                              expected=RuntimeError)

    def test_div_int(self):
        helper_test_op(None, lambda x, y: x / y, forward_only=True, vals=[[5, 6, 7], [1, 2, 3]])
        helper_test_op(None, lambda x, y: x // y, forward_only=True, vals=[[5, 6, 7], [1, 2, 3]])
        helper_test_op(None, lambda x: x / 2, forward_only=True, vals=[[3, 4, 5]])
        helper_test_op(None, lambda x: x // 2, forward_only=True, vals=[[3, 4, 5]])
        helper_test_op(None, functools.partial(torch.div, rounding_mode="trunc"),
                       lambda x, y: x.div(y, rounding_mode="trunc"), forward_only=True,
                       vals=[[-4, 7, 5, 4, -7, 8], [2, -3, 8, -2, 3, 5]])
        x = T(2**64 - 1, dtype=np.uint64).div(1, rounding_mode="trunc")
        np.testing.assert_equal(x.numpy(), 2**64 - 1)

    def test_scalar_div(self):
        helper_test_op([(45, 65)], lambda x: x / 255)
        helper_test_op([(45, 65)], lambda x: x / 1)
        helper_test_op([(45, 65)], lambda x: 1 / x)
        helper_test_op([(45, 65)], lambda x: x / 2)
        helper_test_op([(45, 65)], lambda x: 2 / x)
        helper_test_op([()], lambda x: x / 2)
        helper_test_op([()], lambda x: 2 / x)

    def test_mod(self):
        a = [-4, 7, 5, 4, -7, 8, -9]
        b = [2, -3, 8, -2, 3, 5, -5]
        for float_a in [True, False]:
            for float_b in [True, False]:
                va = [float(ai) for ai in a] if float_a else a
                vb = [float(bi) for bi in b] if float_b else b
                helper_test_op(None, lambda x, y: x % y, forward_only=True, vals=[va, vb])  # upstream: Tensor.mod
                helper_test_op(None, lambda x, y: x % y, forward_only=True, vals=[va, vb])
                helper_test_op(None, lambda x: x % 2, forward_only=True, vals=[va])
                helper_test_op(None, lambda x: x % 3, forward_only=True, vals=[va])
                helper_test_op(None, lambda x: x % 3.5, forward_only=True, vals=[va])
                helper_test_op(None, lambda x: 100 % x, forward_only=True, vals=[va])
                helper_test_op(None, lambda x: 100.5 % x, forward_only=True, vals=[va])

    def test_fmod(self):
        a = [-4, 7, 5, 4, -7, 8, -9]
        b = [2, -3, 8, -2, 3, 5, -5]
        for float_a in [True, False]:
            for float_b in [True, False]:
                va = [float(ai) for ai in a] if float_a else a
                vb = [float(bi) for bi in b] if float_b else b
                helper_test_op(None, lambda x, y: x.fmod(y), forward_only=True, vals=[va, vb])
                helper_test_op(None, lambda x: x.fmod(2), forward_only=True, vals=[va])
                helper_test_op(None, lambda x: x.fmod(3.5), forward_only=True, vals=[va])

    def test_mul_naninf(self):
        helper_test_op([(45, 65)], lambda x: x * math.inf)
        helper_test_op([(45, 65)], lambda x: x * -math.inf)
        helper_test_op([(45, 65)], lambda x: x * math.nan)

    def test_div_naninf(self):
        helper_test_op([(45, 65)], lambda x: x / math.inf)
        helper_test_op([(45, 65)], lambda x: x / -math.inf)
        helper_test_op([(45, 65)], lambda x: x / math.nan)
        helper_test_op([(45, 65)], lambda x: math.inf / x)
        helper_test_op([(45, 65)], lambda x: (-math.inf) / x)
        helper_test_op([(45, 65)], lambda x: math.nan / x)

    def test_pow_full(self):
        helper_test_op([(45, 65), (45, 65)], lambda x, y: x**y)
        helper_test_op([(45, 65), (45, 65)], lambda x, y: x.pow(y))

    def test_pow(self):
        helper_test_op([(45, 65)], lambda x: x**0)
        helper_test_op([(45, 65)], lambda x: x**1)
        helper_test_op([(45, 65)], lambda x: x**2)
        helper_test_op([(45, 65)], lambda x: x**3)
        helper_test_op([(45, 65)], lambda x: x**-2)
        helper_test_op([()], lambda x: x**2)
        helper_test_op([()], lambda x: x**-2)
        # Regression tests for https://github.com/tinygrad/tinygrad/issues/1151
        helper_test_op([(45, 65)], lambda x: x**3, low=-30, high=-27)
        helper_test_op([()], lambda x: x**3, low=-30, high=-27)
        # Regression tests for https://github.com/tinygrad/tinygrad/issues/1251
        helper_test_op([(45, 65)], lambda x: x**0.2, low=-30, high=-27)
        helper_test_op([(45, 65)], lambda x: x**1.2, low=-30, high=-27)
        helper_test_op([()], lambda x: x**0.2, low=-30, high=-27)
        helper_test_op([()], lambda x: x**1.2, low=-30, high=-27)
        a, b = T([0.0]), torch.tensor([0.0], requires_grad=True)
        helper_test_op([], lambda: b**1.1, lambda: a**1.1)

    def test_pow_const(self):
        helper_test_op([(45, 65)], lambda x: x**0.0)
        helper_test_op([(45, 65)], lambda x: x**1.0)
        helper_test_op([(45, 65)], lambda x: x**-1.0)
        helper_test_op([(45, 65)], lambda x: x**8.0)
        helper_test_op([(45, 65)], lambda x: x**5.5)
        helper_test_op([(45, 65)], lambda x: x**-5.5)
        # helper_test_op([(45,65)], lambda x: x**-8.0)  # TODO: fix this
        helper_test_op([(45, 65)], lambda x: 1.0**x)
        helper_test_op([(45, 65)], lambda x: 5.5**x)
        helper_test_op([(45, 65)], lambda x: (-5.5)**x)
        helper_test_op([(45, 65)], lambda x: 8.0**x)
        helper_test_op([(45, 65)], lambda x: x**2.0)
        helper_test_op([(45, 65)], lambda x: 2.0**x)
        helper_test_op([()], lambda x: x**2.0)
        helper_test_op([()], lambda x: 2.0**x)
        helper_test_op(None, lambda x: 0**x, vals=[[-2., -1, 0, 1, 2, 3]])
        helper_test_op(None, lambda x: 0.7**x, vals=[[-2., -1, 0, 1, 2, 3]])
        helper_test_op(None, lambda x: (-2)**x, vals=[[-2., -1, 0, 1, 2, 3]])
        # float to power of int
        helper_test_op(None, lambda x: 0.7**x, vals=[[-2, -1, 0, 1, 2, 3]], forward_only=True)

    def test_pow_const_direct(self):
        # x ** c
        def get_tiny_gradient(x, c):
            t = tg.Tensor([x], dtype=np.float32, requires_grad=True)
            return tg.grad((t**c)[0], t)[0].item()

        def get_torch_gradient(x, c):
            t = torch.tensor([x], dtype=torch.float, requires_grad=True)
            return torch.autograd.grad(t**c, t)[0].item()
        for x in [-math.inf, 0, 1, math.inf]:
            for c in [-1, 0, 0.3, 1, 2]:
                torch_out = get_torch_gradient(x, c)
                tiny_out = get_tiny_gradient(x, c)
                if math.isnan(tiny_out):
                    assert math.isnan(torch_out), f"{x}, {c}"
                else:  # unittest's assertAlmostEqual
                    assert tiny_out == torch_out or round(abs(tiny_out - torch_out), 7) == 0, f"{x}, {c}"

    def test_pow_neg_inf_frac_exponent(self):
        # pow(-inf, 0.3) is +inf, so the gradient 0.3*pow(-inf, -0.7) is 0, never nan
        helper_test_op(None, lambda x: x**0.3, vals=[[-math.inf]])
        # is_odd truncates, so it calls 3.3 odd: only the non_int guard keeps pow(-inf, 3.3) from negating to -inf
        helper_test_op(None, lambda x: x**3.3, vals=[[-math.inf]])

    def test_pow_zero_exponent(self):
        # x ** 0 is the constant 1 for every x, so the gradient with respect to the base is 0, never nan
        helper_test_op(None, lambda x, y: x**y, vals=[[-math.inf, math.inf, 0.0], [0.0, 0.0, 0.0]])

    def test_pow_zero_tensor(self):
        helper_test_op(None, lambda x, y: x**y, vals=[[0.0], [0.0]])
        helper_test_op(None, lambda x, y: x**y, vals=[[0.0], [0.3]])
        helper_test_op(None, lambda x, y: x**y, vals=[[0.0], [-0.3]])

    def test_exp2_log2_zero_times_negative(self):
        helper_test_op(None, lambda x, y: (x.log2() * y).exp2(), lambda x, y: (x.log2() * y).exp2(),
                       vals=[[0.0], [-0.7]], forward_only=True)

    def test_pow_zero_const(self):
        helper_test_op(None, lambda x: x**0.3, vals=[[0.0]])
        helper_test_op(None, lambda x: x**0.0, vals=[[0.0]])
        helper_test_op(None, lambda x: x**-0.3, vals=[[0.0]])
        helper_test_op(None, lambda x: x**-1.0, vals=[[-1.0, 0.0, 1.0]])

    def test_int_pow_const_int(self):
        helper_test_op(None, lambda x: x**0, vals=[[-2, 0, 2]], forward_only=True, atol=0)
        helper_test_op(None, lambda x: x**1, vals=[[-2, 0, 2]], forward_only=True, atol=0)
        helper_test_op(None, lambda x: x**2, vals=[[-2, 0, 2]], forward_only=True, atol=0)
        helper_test_op(None, lambda x: x**7, vals=[[11, 12, 13]], forward_only=True, atol=0)
        helper_test_op(None, lambda x: x**29, vals=[[-2, 0, 2]], forward_only=True, atol=0)
        helper_test_exception(None, lambda x: x**-2, vals=[[-2, 0, 2]], forward_only=True, expected=RuntimeError)

    # upstream skips this ("not supported"); it applies here, so it runs
    @fails("behaviour differences (NumPy's rule): by design, the last case compares T([2]) ** T(-2), int64 by "
           "PyTorch's and NumPy's default for Python ints, with torch's explicit int32 (tinygrad's default int); "
           "the values agree (2 ** -2 is 0), only the dtypes differ. Every other case holds")
    def test_pow_int(self):
        def _test(base, exponent):
            helper_test_op(None, lambda x, y: x**y, vals=[base, exponent], forward_only=True)

        for base in ([1, 2, 3], [-1, -2, -3]):
            for exponent in ([2, 3, 4], [-2, -3, -4]):
                _test(base, exponent)
        # NOTE: torch 0 ** -1 is 0
        _test([0, 0, 0], [0, 1, 2])

        np.testing.assert_equal((T(11) ** T(7)).item(), 11**7)
        np.testing.assert_equal((T([11]) ** T(7)).item(), 11**7)
        # upstream asserts these are imprecise in tinygrad (a TODO); the exact answer is PyTorch's
        np.testing.assert_equal((T(11) ** T([7])).item(), 11**7)
        np.testing.assert_equal((T([11]) ** T([7])).item(), 11**7)

        # pow to a const int
        helper_test_op([], lambda: torch.tensor([2], dtype=torch.int) ** torch.tensor(-2, dtype=torch.int),
                       lambda: T([2]) ** T(-2), forward_only=True)

    def test_pow_int_base_float_exponent(self):
        for exponent in (0.5, 1.5, 2.0, -1.0, 0.0):
            helper_test_op([], lambda exponent=exponent: torch.tensor([1, 2, 3, 4], dtype=torch.int) ** exponent,
                           lambda exponent=exponent: T([1, 2, 3, 4], dtype=np.int32) ** exponent, forward_only=True)

    def test_sqrt(self):
        helper_test_op([(45, 65)], lambda x: x.sqrt())
        helper_test_op(None, lambda x: x.sqrt(), vals=[[0.0]])
        helper_test_op([()], lambda x: x.sqrt())

    def test_rsqrt(self):
        helper_test_op([(45, 65)], lambda x: x.rsqrt())
        helper_test_op(None, lambda x: x.rsqrt(), vals=[[0.0]])
        helper_test_op([()], lambda x: x.rsqrt())

    def test_xor(self):
        data = [[1, -8, 1], [32, 1, 6]]
        tor = torch.tensor(data, dtype=torch.int)
        ten = T(data, dtype=np.int32)
        helper_test_op([], lambda: tor ^ tor, lambda: ten ^ ten, forward_only=True)
        helper_test_op([], lambda: tor ^ 0x1337, lambda: ten ^ 0x1337, forward_only=True)
        helper_test_op([], lambda: 0x1337 ^ tor, lambda: 0x1337 ^ ten, forward_only=True)

    def test_and(self):
        data = [[1, -8, 1], [32, 1, 6]]
        tor = torch.tensor(data, dtype=torch.int)
        ten = T(data, dtype=np.int32)
        helper_test_op([], lambda: tor & tor, lambda: ten & ten, forward_only=True)
        helper_test_op([], lambda: tor & 0x1337, lambda: ten & 0x1337, forward_only=True)
        helper_test_op([], lambda: 0x1337 & tor, lambda: 0x1337 & ten, forward_only=True)

        data = [[True, True, False, False], [True, False, True, False]]
        tor0, tor1 = torch.tensor(data[0], dtype=torch.bool), torch.tensor(data[1], dtype=torch.bool)
        ten0, ten1 = T(data[0], dtype=bool), T(data[1], dtype=bool)
        helper_test_op([], lambda: tor0 & tor1, lambda: ten0 & ten1, forward_only=True)

        helper_test_op(None, lambda x: (1 < x) & (x < 2), forward_only=True, vals=[[1.2, 1.2, 1.2, 3.2]])
        helper_test_op([(3000,)] * 10, lambda *xs: (sum(xs[1:], xs[0]) > 5) & (xs[0] < 0.9), forward_only=True)

        np.testing.assert_equal((T(2**64 - 1, dtype=np.uint64) & 0xFFFFFFFF).numpy(), 0xFFFFFFFF)

    def test_or(self):
        data = [[1, -8, 1], [32, 1, 6]]
        tor = torch.tensor(data, dtype=torch.int)
        ten = T(data, dtype=np.int32)
        helper_test_op([], lambda: tor | tor, lambda: ten | ten, forward_only=True)
        helper_test_op([], lambda: tor | 0x1337, lambda: ten | 0x1337, forward_only=True)
        helper_test_op([], lambda: 0x1337 | tor, lambda: 0x1337 | ten, forward_only=True)

        data = [[True, True, False, False], [True, False, True, False]]
        tor0, tor1 = torch.tensor(data[0], dtype=torch.bool), torch.tensor(data[1], dtype=torch.bool)
        ten0, ten1 = T(data[0], dtype=bool), T(data[1], dtype=bool)
        helper_test_op([], lambda: tor0 | tor1, lambda: ten0 | ten1, forward_only=True)

    def test_bitwise_not(self):
        data = [[1, -8, 1], [32, 1, 6]]
        tor = torch.tensor(data, dtype=torch.int)
        ten = T(data, dtype=np.int32)
        helper_test_op([], lambda: tor.bitwise_not(), lambda: ten.bitwise_not(), forward_only=True)
        helper_test_op([], lambda: ~tor, lambda: ~ten, forward_only=True)

        data = [[True, False]]
        tor = torch.tensor(data, dtype=torch.bool)
        ten = T(data, dtype=bool)
        helper_test_op([], lambda: tor.bitwise_not(), lambda: ten.bitwise_not(), forward_only=True)
        helper_test_op([], lambda: ~tor, lambda: ~ten, forward_only=True)

    def test_lshift(self):
        data = [[0, 1, 2], [1 << 8, 1 << 16, 1 << 31 - 1]]
        tor = torch.tensor(data, dtype=torch.int)
        ten = T(data, dtype=np.uint32)
        # cast to int32 because torch does not support uint32
        helper_test_op([], lambda: tor << 0, lambda: (ten << 0).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor << 2, lambda: (ten << 2).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor << 31, lambda: (ten << 31).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor << torch.tensor([0, 2, 4]).int(),
                       lambda: (ten << T([0, 2, 4], dtype=np.uint32)).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor.__lshift__(2), lambda: ten.__lshift__(2).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor.bitwise_left_shift(2), lambda: ten.bitwise_left_shift(2).astype(np.int32),
                       forward_only=True)
        helper_test_exception([], lambda: torch.tensor([1.0]) << 2, lambda: T([1.0]) << 2, expected=RuntimeError)
        helper_test_exception([], lambda: tor << torch.tensor([1.0]), lambda: ten << T([1.0]), expected=RuntimeError)
        helper_test_exception([], lambda: tor << 1.0, lambda: ten << 1.0, expected=RuntimeError)

    def test_rshift(self):
        data = [[0, 1, 2], [1 << 8, 1 << 16, 1 << 31 - 1]]
        tor = torch.tensor(data, dtype=torch.int)
        ten = T(data, dtype=np.uint32)
        # cast to int32 because torch does not support uint32
        helper_test_op([], lambda: tor >> 0, lambda: (ten >> 0).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor >> 2, lambda: (ten >> 2).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor >> 31, lambda: (ten >> 31).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor >> torch.tensor([0, 2, 4]).int(),
                       lambda: (ten >> T([0, 2, 4], dtype=np.uint32)).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor.__rshift__(2), lambda: ten.__rshift__(2).astype(np.int32), forward_only=True)
        helper_test_op([], lambda: tor.bitwise_right_shift(2), lambda: ten.bitwise_right_shift(2).astype(np.int32),
                       forward_only=True)
        helper_test_exception([], lambda: torch.tensor([4.0]) >> 1, lambda: T([4.0]) >> 1, expected=RuntimeError)
        helper_test_exception([], lambda: tor >> torch.tensor([1.0]), lambda: ten >> T([1.0]), expected=RuntimeError)

    def test_lshift_signed(self):
        data = [[-1, -3, 1, 7], [0, -2147483648, 2147483647, -1]]
        tor = torch.tensor(data, dtype=torch.int32)
        ten = T(data, dtype=np.int32)
        helper_test_op([], lambda: tor << 0, lambda: ten << 0, forward_only=True)
        helper_test_op([], lambda: tor << 2, lambda: ten << 2, forward_only=True)
        helper_test_op([], lambda: tor << 8, lambda: ten << 8, forward_only=True)
        helper_test_op([], lambda: tor << 31, lambda: ten << 31, forward_only=True)
        helper_test_op([], lambda: tor << torch.tensor([0, 2, 8, 31]).int(),
                       lambda: ten << T([0, 2, 8, 31], dtype=np.int32), forward_only=True)

    def test_rshift_signed(self):
        data = [[-1, -3, 1, 7], [0, -2147483648, 2147483647, -1]]
        tor = torch.tensor(data, dtype=torch.int32)
        ten = T(data, dtype=np.int32)
        helper_test_op([], lambda: tor >> 0, lambda: ten >> 0, forward_only=True)
        helper_test_op([], lambda: tor >> 2, lambda: ten >> 2, forward_only=True)
        helper_test_op([], lambda: tor >> 8, lambda: ten >> 8, forward_only=True)
        helper_test_op([], lambda: tor >> 31, lambda: ten >> 31, forward_only=True)
        helper_test_op([], lambda: tor >> torch.tensor([0, 2, 8, 31]).int(),
                       lambda: ten >> T([0, 2, 8, 31], dtype=np.int32), forward_only=True)

    def test_idiv_shift_rewrite_negative(self):
        a = T(-5).div(2, rounding_mode="trunc").item()
        b = T(-5).div(2, rounding_mode="trunc").item()  # upstream: the same through contiguous()
        assert a == b
        assert T(-1).div(4, rounding_mode="trunc").item() == 0  # NOTE this is trunc-div behaviour

    def test_sin(self):
        helper_test_op([(45, 65)], lambda x: x.sin())
        helper_test_op([()], lambda x: x.sin())
        helper_test_op(None, lambda x: x.sin(), vals=[[math.nan, math.inf, -math.inf, 0.0]])
        helper_test_op(None, lambda x: x.sin(),
                       vals=[[1e1, 1e2, 1e3, 1e4, 1e5, 1e6, -1e1, -1e2, -1e3, -1e4, -1e5, -1e6]],
                       atol=3e-3, rtol=3e-3, grad_atol=3e-3, grad_rtol=3e-3)

    def test_cos(self):
        helper_test_op([(45, 65)], lambda x: x.cos())
        helper_test_op([], lambda: torch.tensor(2.0).cos(), lambda: T(2).cos(), forward_only=True)
        helper_test_op([()], lambda x: x.cos())
        helper_test_op(None, lambda x: x.cos(), vals=[[math.nan, math.inf, -math.inf, 0.0]])
        helper_test_op(None, lambda x: x.cos(),
                       vals=[[1e1, 1e2, 1e3, 1e4, 1e5, 1e6, -1e1, -1e2, -1e3, -1e4, -1e5, -1e6]],
                       atol=3e-3, rtol=3e-3, grad_atol=3e-3, grad_rtol=3e-3)

    def test_tan(self):
        # NOTE: backward has much higher diff with input close to pi/2 and -pi/2
        helper_test_op([(45, 65)], lambda x: x.tan(), low=-1.5, high=1.5)
        helper_test_op([(45, 65)], lambda x: x.tan(), low=-5, high=5)
        helper_test_op([()], lambda x: x.tan())
        helper_test_op(None, lambda x: x.tan(), vals=[[math.nan, math.inf, -math.inf, 0.0]])
        helper_test_op(None, lambda x: x.tan(),
                       vals=[[1e1, 1e2, 1e3, 1e4, 1e5, 1e6, -1e1, -1e2, -1e3, -1e4, -1e5, -1e6]],
                       atol=3e-3, rtol=3e-3, grad_atol=3e-3, grad_rtol=3e-3)

    def test_asin(self):
        helper_test_op([(45, 65)], lambda x: x.asin(), low=-1, high=1)
        helper_test_op([(45, 65)], lambda x: x.asin(), low=-300, high=-297)
        helper_test_op([(45, 65)], lambda x: x.asin(), low=300, high=303)

    def test_acos(self):
        # high grad atol
        helper_test_op([(45, 65)], lambda x: x.acos(), low=-1, high=1)
        helper_test_op([(45, 65)], lambda x: x.acos(), low=-300, high=-297)
        helper_test_op([(45, 65)], lambda x: x.acos(), low=300, high=303)

    def test_atan(self):
        helper_test_op([(45, 65)], lambda x: x.atan())
        helper_test_op([(45, 65)], lambda x: x.atan(), low=-300, high=-297)
        helper_test_op([(45, 65)], lambda x: x.atan(), low=300, high=303)

    def test_relu(self):
        helper_test_op([(64, 64)], lambda x: x.relu())
        helper_test_op([()], lambda x: x.relu())

    def test_relu_exact(self):
        helper_test_op(None, lambda x: x.relu(), vals=[[-1., 0, 1]])

    def test_relu_maximum_exact(self):
        helper_test_op(None, lambda x: torch.maximum(x, torch.zeros_like(x, requires_grad=False)),
                       lambda x: tg.maximum(x, 0), vals=[[-1., 0, 1]])

    def test_leaky_relu(self):
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.leaky_relu(x, 0.01), lambda x: x.leaky_relu())
        helper_test_op([()], lambda x: torch.nn.functional.leaky_relu(x, 0.01), lambda x: x.leaky_relu())

    def test_celu(self):
        for val in range(1, 5):
            helper_test_op([(45, 65)], lambda x, val=val: torch.nn.functional.celu(x, val), lambda x,
                           val=val: x.celu(val))
            helper_test_op([()], lambda x, val=val: torch.nn.functional.celu(x, val), lambda x, val=val: x.celu(val))

    def test_selu(self):
        helper_test_op([(45, 65)], torch.nn.functional.selu, F.selu)
        helper_test_op([()], torch.nn.functional.selu, F.selu)

    def test_silu(self):
        helper_test_op([(45, 65)], torch.nn.functional.silu, lambda x: x.silu())
        helper_test_op([()], torch.nn.functional.silu, lambda x: x.silu())

    def test_swish(self):  # tinygrad's swish is silu by another name
        helper_test_op([(45, 65)], torch.nn.functional.silu, lambda x: x.silu())
        helper_test_op([()], torch.nn.functional.silu, lambda x: x.silu())

    def test_abs(self):
        helper_test_op([(45, 65)], torch.abs, lambda x: x.abs())
        helper_test_op([()], torch.abs, lambda x: x.abs())

    def test_abs_exact(self):
        for v in [-1., -0., 0., 1., math.inf, -math.inf, math.nan, -math.nan]:
            # abs(nan) gradient is undefined: torch=0, tinygrad=1, jax=-1
            helper_test_op(None, torch.abs, lambda x: x.abs(), vals=[[v]], forward_only=math.isnan(v))

    def test_log(self):
        helper_test_op([(45, 65)], torch.log, lambda x: x.log())
        helper_test_op(None, torch.log, lambda x: x.log(), vals=[[math.inf, -math.inf, math.nan]])
        helper_test_op([()], torch.log, lambda x: x.log())

    def test_log10(self):
        helper_test_op([(45, 65)], torch.log10, lambda x: x.log10())
        helper_test_op(None, torch.log10, lambda x: x.log10(), vals=[[math.inf, -math.inf, math.nan]])
        helper_test_op([()], torch.log10, lambda x: x.log10())

    def test_log2(self):
        helper_test_op([(45, 65)], torch.log2, lambda x: x.log2())
        helper_test_op(None, torch.log2, lambda x: x.log2(), vals=[[math.inf, -math.inf, math.nan]])
        helper_test_op([()], torch.log2, lambda x: x.log2())

    def test_exp(self):
        helper_test_op([(45, 65)], torch.exp, lambda x: x.exp())
        # int scalar input: the python coefficients in the decomposition must stay float
        helper_test_op([], lambda: torch.tensor(2.0).exp(), lambda: T(2).exp(), forward_only=True)
        helper_test_op(None, torch.exp, lambda x: x.exp(), vals=[[math.inf, -math.inf, math.nan]])
        helper_test_op([()], torch.exp, lambda x: x.exp())

    def test_exp2(self):
        helper_test_op([(45, 65)], torch.exp2, lambda x: x.exp2())
        helper_test_op(None, torch.exp2, lambda x: x.exp2(), vals=[[math.inf, -math.inf, math.nan]])
        helper_test_op([()], torch.exp2, lambda x: x.exp2())

    def test_sign(self):
        helper_test_op([(45, 65)], torch.sign, lambda x: x.sign())
        helper_test_op([()], torch.sign, lambda x: x.sign())

    def test_sign_exact(self):
        helper_test_op(None, torch.sign, lambda x: x.sign(), vals=[[-1., 0, 1]])

    def test_copysign(self):
        helper_test_op([(45, 65), (45, 65)], torch.copysign, lambda x, y: x.copysign(y))
        helper_test_op([(45, 65), (45, 1)], torch.copysign, lambda x, y: x.copysign(y))
        helper_test_op([(45, 1), (1, 65)], torch.copysign, lambda x, y: x.copysign(y))
        helper_test_op([(), ()], torch.copysign, lambda x, y: x.copysign(y))

    def test_copysign_exact(self):
        # NOTE: -nan (negative nan) is not tested because we can't detect its sign bit without bitcast
        v = [-1., -0., 0., 1., math.inf, -math.inf, math.nan]
        for i in v:
            for j in v:
                # torch returns nan gradient for copysign at inf, but mathematically (and per jax) it's ±1
                helper_test_op(None, torch.copysign, lambda x, y: x.copysign(y), vals=[[i], [j]],
                               forward_only=math.isinf(i) or math.isnan(i))

    def test_logaddexp(self):
        helper_test_op([(45, 65), (45, 65)], torch.logaddexp, lambda x, y: x.logaddexp(y))
        helper_test_op(None, torch.logaddexp, lambda x, y: x.logaddexp(y), vals=[[-1.], [-1.0, 2, 3]])
        helper_test_op(None, torch.logaddexp, lambda x, y: x.logaddexp(y), vals=[[-100.0, -200, -300], [-1.0, 2, 3]])
        helper_test_op(None, torch.logaddexp, lambda x, y: x.logaddexp(y), vals=[[1.0, 2000, 30000], [-1.0, 2, 3]])

    def test_softsign(self):
        helper_test_op([(45, 65)], torch.nn.functional.softsign, lambda x: x.softsign())
        helper_test_op([()], torch.nn.functional.softsign, lambda x: x.softsign())

    def test_softsign_exact(self):
        helper_test_op(None, torch.nn.functional.softsign, lambda x: x.softsign(), vals=[[-1., 0, 1]])

    def test_sigmoid(self):
        helper_test_op([(45, 65)], torch.sigmoid, lambda x: x.sigmoid())
        helper_test_op([()], torch.sigmoid, lambda x: x.sigmoid())

    def test_sigmoid_extreme(self):
        helper_test_op([(45, 65)], torch.sigmoid, lambda x: x.sigmoid(), low=300, high=400)
        helper_test_op([(45, 65)], torch.sigmoid, lambda x: x.sigmoid(), low=-400, high=-300)
        x = tg.Tensor([300.0], requires_grad=True)
        assert round(tg.grad(x.sigmoid()[0], x)[0].item() - 0.0, 7) == 0
        x = tg.Tensor([-300.0], requires_grad=True)
        assert round(tg.grad(x.sigmoid()[0], x)[0].item() - 0.0, 7) == 0

    @not_applicable("asserts the gradient 0 that only tinygrad's graph rewrite gives for exp(x) / (1 + exp(x)) at "
                    "x = 300; in PyTorch (and float32 arithmetic) exp(300) overflows to inf and the gradient is NaN")
    def test_sigmoid_alt_extreme(self):
        pass

    def test_logsigmoid(self):
        helper_test_op([(45, 65)], torch.nn.functional.logsigmoid, F.logsigmoid)
        helper_test_op([()], torch.nn.functional.logsigmoid, F.logsigmoid)

    def test_hardsigmoid(self):
        helper_test_op([(45, 65)], torch.nn.functional.hardsigmoid, F.hardsigmoid)
        helper_test_op([()], torch.nn.functional.hardsigmoid, F.hardsigmoid)

    def test_hardsigmoid_extreme(self):
        helper_test_op([(45, 65)], torch.nn.functional.hardsigmoid, F.hardsigmoid, low=300, high=400)
        helper_test_op([(45, 65)], torch.nn.functional.hardsigmoid, F.hardsigmoid, low=-400, high=-300)

    def test_softplus(self):
        helper_test_op([(45, 65)], torch.nn.functional.softplus, F.softplus, grad_atol=1e-6)
        helper_test_op([(45, 65)], lambda t: torch.nn.functional.softplus(t, beta=3), lambda t: F.softplus(t, beta=3),
                       grad_atol=1e-6)
        helper_test_op([(45, 65)], lambda t: torch.nn.functional.softplus(t, beta=1 / 3),
                       lambda t: F.softplus(t, beta=1 / 3), grad_atol=1e-6)
        helper_test_op([(45, 65)], torch.nn.functional.softplus, F.softplus, grad_atol=1e-6, low=300, high=400)
        helper_test_op([(45, 65)], torch.nn.functional.softplus, F.softplus, grad_atol=1e-6, low=-400, high=-300)
        helper_test_op([()], torch.nn.functional.softplus, F.softplus, grad_atol=1e-6)

    def test_erf(self):
        helper_test_op([(45, 65)], torch.erf, lambda x: x.erf())
        helper_test_op([(45, 65)], torch.erf, lambda x: x.erf(), low=300, high=400)
        helper_test_op([(45, 65)], torch.erf, lambda x: x.erf(), low=-400, high=-300)
        helper_test_op([()], torch.erf, lambda x: x.erf())

    def test_gelu(self):
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
                       lambda x: F.gelu(x, approximate="tanh"))
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.gelu(x, approximate="none"),
                       lambda x: F.gelu(x, approximate="none"))

    def test_gelu_extreme(self):
        for approximate in ("tanh", "none"):
            for low, high in ((300, 400), (-400, -300)):
                helper_test_op([(45, 65)], lambda x, a=approximate: torch.nn.functional.gelu(x, approximate=a),
                               lambda x, a=approximate: F.gelu(x, approximate=a), low=low, high=high)

    def test_quick_gelu(self):
        helper_test_op([(45, 65)], lambda x: x * torch.sigmoid(1.702 * x), lambda x: x.quick_gelu())
        helper_test_op([()], lambda x: x * torch.sigmoid(1.702 * x), lambda x: x.quick_gelu())

    def test_quick_gelu_extreme(self):
        helper_test_op([(45, 65)], lambda x: x * torch.sigmoid(1.702 * x), lambda x: x.quick_gelu(), low=300, high=400)
        helper_test_op([(45, 65)], lambda x: x * torch.sigmoid(1.702 * x), lambda x: x.quick_gelu(), low=-400,
                       high=-300)

    def test_elu(self):
        helper_test_op([(45, 65)], torch.nn.functional.elu, lambda x: x.elu())
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.elu(x, alpha=0.1), lambda x: x.elu(alpha=0.1))
        helper_test_op([()], torch.nn.functional.elu, lambda x: x.elu())

    def test_relu6(self):
        helper_test_op([(45, 65)], torch.nn.functional.relu6, lambda x: x.relu6())
        helper_test_op([()], torch.nn.functional.relu6, lambda x: x.relu6())

    def test_hardswish(self):
        helper_test_op([(45, 65)], torch.nn.functional.hardswish, lambda x: x.hardswish(), grad_atol=1e-6)
        helper_test_op([()], torch.nn.functional.hardswish, lambda x: x.hardswish(), grad_atol=1e-6)

    def test_mish(self):
        helper_test_op([(45, 65)], torch.nn.functional.mish, lambda x: x.mish())
        helper_test_op([()], torch.nn.functional.mish, lambda x: x.mish())

    # ---- scans: cumsum, cumprod, cummax, cummin ----------------------------------------------------------------
    @staticmethod
    def _scan(name, shapes_axes, values=True, indices=False):
        torch_op, ours_op = getattr(torch, name), lambda x, axis: getattr(x, name)(axis=axis)
        for shape, axis in shapes_axes:
            if values:
                helper_test_op([shape], lambda x, a=axis: _values(torch_op(x, dim=a)),
                               lambda x, a=axis: _first(ours_op(x, a)))
            if indices:
                helper_test_op([shape], lambda x, a=axis: torch_op(x, dim=a).indices,
                               lambda x, a=axis: ours_op(x, a)[1], forward_only=True)

    @staticmethod
    def _scan_errors(name, cases):
        torch_op = getattr(torch, name)
        for shape, axis in cases:
            helper_test_exception([shape], lambda x, a=axis: _values(torch_op(x, dim=a)),
                                  lambda x, a=axis: _first(getattr(x, name)(axis=a)), expected=IndexError)

    def test_small_cumsum(self):
        self._scan("cumsum", [((10), 0)])

    @slow
    def test_simple_cumsum(self):
        self._scan("cumsum", [((512), 0), ((1022), 0)])

    @slow
    def test_cumsum(self):
        self._scan("cumsum", [((), 0)])
        self._scan_errors("cumsum", [((), 1)])
        self._scan("cumsum", [((20,), 0)])
        self._scan_errors("cumsum", [((20,), 1), ((20,), -2)])
        self._scan("cumsum", [((20, 30), 0), ((20, 30), 1), ((20, 30, 40), 2), ((20, 30, 40), -1)])

    def test_cumsum_zero_axis(self):
        self._scan("cumsum", [((2, 0, 4), 1), ((0, 3), 0), ((2, 3, 0), 2)])

    def test_small_cumprod(self):
        self._scan("cumprod", [((10), 0)])

    @slow
    def test_simple_cumprod(self):
        self._scan("cumprod", [((512), 0), ((1022), 0)])

    @slow
    def test_cumprod(self):
        self._scan("cumprod", [((), 0)])
        self._scan_errors("cumprod", [((), 1)])
        self._scan("cumprod", [((20,), 0)])
        self._scan_errors("cumprod", [((20,), 1), ((20,), -2)])
        self._scan("cumprod", [((20, 30), 0), ((20, 30), 1), ((20, 30, 40), 2), ((20, 30, 40), -1)])

    def test_cumprod_zero_axis(self):
        self._scan("cumprod", [((2, 0, 4), 1), ((0, 3), 0), ((2, 3, 0), 2)])

    def test_small_cummax(self):
        self._scan("cummax", [((10), 0)], indices=True)

    @slow
    def test_simple_cummax(self):
        self._scan("cummax", [((512), 0), ((1022), 0)], indices=True)

    @slow
    def test_cummax(self):
        self._scan("cummax", [((), 0)], indices=True)
        self._scan_errors("cummax", [((), 1)])
        self._scan("cummax", [((5,), 0)], indices=True)
        self._scan_errors("cummax", [((5,), 1), ((5,), -2)])
        self._scan("cummax", [((5, 6), 0), ((5, 6), 1), ((5, 6, 7), 2), ((5, 6, 7), -1)], indices=True)

    def test_cummax_zero_axis(self):
        self._scan("cummax", [((2, 0, 4), 1), ((0, 3), 0), ((2, 3, 0), 2)], indices=True)

    def test_small_cummin(self):
        self._scan("cummin", [((10), 0)], indices=True)

    @slow
    def test_simple_cummin(self):
        self._scan("cummin", [((512), 0), ((1022), 0)], indices=True)

    @slow
    def test_cummin(self):
        self._scan("cummin", [((), 0)], indices=True)
        self._scan_errors("cummin", [((), 1)])
        self._scan("cummin", [((5,), 0)], indices=True)
        self._scan_errors("cummin", [((5,), 1), ((5,), -2)])
        self._scan("cummin", [((5, 6), 0), ((5, 6), 1), ((5, 6, 7), 2), ((5, 6, 7), -1)], indices=True)

    def test_cummin_zero_axis(self):
        self._scan("cummin", [((2, 0, 4), 1), ((0, 3), 0), ((2, 3, 0), 2)], indices=True)

    def test_argmax(self):
        # check if it returns the first index for multiple occurrences
        helper_test_op(None, lambda x: x.argmax(), forward_only=True, vals=[[2, 2]])
        helper_test_op(None, lambda x: x.argmax(), forward_only=True, vals=[[1, 2, 2]])
        np.testing.assert_equal(T([2, 2]).argmax().numpy(), 0)
        np.testing.assert_equal(T([1, 2, 2]).argmax().numpy(), 1)
        helper_test_op([(10, 20)], lambda x: x.argmax(), forward_only=True)
        helper_test_op([(10, 20)], lambda x: x.argmax(0, False), forward_only=True)
        helper_test_op([(10, 20)], lambda x: x.argmax(1, False), forward_only=True)
        helper_test_op([(10, 20)], lambda x: x.argmax(1, True), forward_only=True)
        # regression test for bitwise_not then argmax
        helper_test_op(None, lambda x: (~x).argmax(), forward_only=True, vals=[[2, 2]])

        helper_test_op(None, lambda x: x.argmax(), forward_only=True, vals=[[0, -2**31]])
        helper_test_op(None, lambda x: x.argmax(), forward_only=True, vals=[[-2**31, 0]])
        # NOTE: torch does not support this on bool
        helper_test_op(None, lambda x: x.type(torch.int32).argmax(), lambda x: x.argmax(), forward_only=True,
                       vals=[[False, True]])
        helper_test_op(None, lambda x: x.type(torch.int32).argmax(), lambda x: x.argmax(), forward_only=True,
                       vals=[[True, False]])

    def test_argmin(self):
        # check if it returns the first index for multiple occurrences
        helper_test_op(None, lambda x: x.argmin(), forward_only=True, vals=[[2, 2]])
        helper_test_op(None, lambda x: x.argmin(), forward_only=True, vals=[[3, 2, 2]])
        np.testing.assert_equal(T([2, 2]).argmin().numpy(), 0)
        np.testing.assert_equal(T([3, 2, 2]).argmin().numpy(), 1)
        helper_test_op([(10, 20)], lambda x: x.argmin(), forward_only=True)
        helper_test_op([(10, 20)], lambda x: x.argmin(0, False), forward_only=True)
        helper_test_op([(10, 20)], lambda x: x.argmin(1, False), forward_only=True)
        helper_test_op([(10, 20)], lambda x: x.argmin(1, True), forward_only=True)

        helper_test_op(None, lambda x: x.argmin(), forward_only=True, vals=[[0, -2**31]])
        helper_test_op(None, lambda x: x.argmin(), forward_only=True, vals=[[-2**31, 0]])
        # NOTE: torch does not support this on bool
        helper_test_op(None, lambda x: x.type(torch.int32).argmin(), lambda x: x.argmin(), forward_only=True,
                       vals=[[False, True]])
        helper_test_op(None, lambda x: x.type(torch.int32).argmin(), lambda x: x.argmin(), forward_only=True,
                       vals=[[True, False]])

    def test_sort(self):
        for shape in [(0,), (0, 5), (1,), (1, 5)]:
            helper_test_op([shape], lambda x: x.sort(0).values, lambda x: x.sort(0)[0], forward_only=True)
            helper_test_op([shape], lambda x: x.sort(0).indices, lambda x: x.sort(0)[1], forward_only=True)
        for dim in [-1, 0, 1]:
            for descending in [True, False]:
                helper_test_op([(8, 8, 6)], lambda x, d=dim, s=descending: x.sort(d, s).values,
                               lambda x, d=dim, s=descending: x.sort(d, s)[0], forward_only=True)
                helper_test_op([(8, 8, 6)], lambda x, d=dim, s=descending: x.sort(d, s).indices,
                               lambda x, d=dim, s=descending: x.sort(d, s)[1], forward_only=True)
        # repeated values
        helper_test_op(None, lambda x: x.sort(stable=True).values, lambda x: x.sort()[0], forward_only=True,
                       vals=[[0, 1] * 9])
        helper_test_op(None, lambda x: x.sort(stable=True).indices, lambda x: x.sort()[1], forward_only=True,
                       vals=[[0, 1] * 9])
        helper_test_op(None, lambda x: x.sort(stable=True, descending=True).values,
                       lambda x: x.sort(descending=True)[0], forward_only=True, vals=[[0, 1] * 9])
        helper_test_op(None, lambda x: x.sort(stable=True, descending=True).indices,
                       lambda x: x.sort(descending=True)[1], forward_only=True, vals=[[0, 1] * 9])

    def test_argsort(self):
        helper_test_op([(8, 8, 6)], lambda x: torch.argsort(x, dim=1, descending=True, stable=True),
                       lambda x: x.argsort(1, True), forward_only=True)

    def test_topk(self):
        helper_test_op([(8)], lambda x: x.topk(3).values, lambda x: x.topk(3)[0], forward_only=True)
        helper_test_op([(8)], lambda x: x.topk(3).indices, lambda x: x.topk(3)[1], forward_only=True)
        for dim, largest in [(0, True), (1, False)]:
            for sorted_ in [True]:  # TODO support False
                helper_test_op([(5, 5, 4)], lambda x, d=dim, la=largest, s=sorted_: x.topk(4, d, la, s).values,
                               lambda x, d=dim, la=largest, s=sorted_: x.topk(4, d, la, s)[0], forward_only=True)
                helper_test_op([(5, 5, 4)], lambda x, d=dim, la=largest, s=sorted_: x.topk(4, d, la, s).indices,
                               lambda x, d=dim, la=largest, s=sorted_: x.topk(4, d, la, s)[1], forward_only=True)
        # repeated values
        value, indices = T([1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0]).topk(3)
        np.testing.assert_equal(value.numpy(), [1, 1, 1])
        np.testing.assert_equal(indices.numpy(), [0, 1, 3])
        value, indices = T([1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0]).topk(3, largest=False)
        np.testing.assert_equal(value.numpy(), [0, 0, 0])
        np.testing.assert_equal(indices.numpy(), [2, 4, 6])
        helper_test_exception([(4)], lambda x: x.topk(5), expected=(RuntimeError, ValueError))

    @slow
    def test_einsum(self):
        cases = [
            ([()], '->'),
            ([(10, 10)], 'ij->ji'),  # matrix transpose
            ([(10, 10)], 'ij -> ji'),
            ([(10, 10)], 'ji'),
            ([(4, 6, 8)], 'jki'),
            ([(4, 6, 8)], 'dog'),
            ([(4, 6), (6, 8)], 'ij,jk'),  # no -> and empty rhs
            ([(4, 6, 8)], 'ijk->'),  # sum all elements
            ([(5, 5)], 'ij->j'),  # column sum
            ([(5, 5)], 'ij->i'),  # row sum
            ([(3, 4), (4,)], 'ik,k->i'),  # matrix-vector multiplication
            ([(3, 4), (4, 5)], 'ik,kj->ij'),  # matrix-matrix multiplication
            ([(3, 4), (4, 5)], 'jk,ki->ji'),  # matrix-matrix multiplication, different letter order
        ]
        for shps, spec in cases:
            helper_test_op(shps, lambda *a, s=spec: torch.einsum(s, *a), lambda *a, s=spec: tg.einsum(s, *a))
        list_cases = [
            ([(5), (5)], 'i,i->i'),  # dot product
            ([(5, 6), (5, 6)], 'ij,ij->ij'),  # hadamard product
            ([(5,), (5,)], 'i,j->ij'),  # outer product
            ([(2, 4, 6), (2, 6, 8)], 'ijk,ikl->ijl'),  # batch matrix multiplication
            ([(2, 4, 5), (2, 5, 7)], 'ijk,ikl->jil'),  # batch matrix multiplication, result permuted
            ([(4, 2, 5), (2, 5, 7)], 'jik,ikl->jil'),  # batch matrix multiplication, result & input permuted
            ([(2, 4, 6), (2, 6, 8)], 'ijk,ika->ija'),  # batch matrix multiplication, result with different letters
        ]
        for shps, spec in list_cases:
            helper_test_op(shps, lambda *a, s=spec: torch.einsum(s, list(a)), lambda *a, s=spec: tg.einsum(s, list(a)))
        # tensor contraction
        for shps, spec in (([(3, 5, 8, 10), (11, 7, 5, 13, 8)], 'pqrs,tuqvr->pstuv'),
                           ([(3, 8, 10, 5), (11, 5, 7, 13, 8)], 'prsq,tquvr->pstuv'),  # input permuted
                           ([(3, 5, 8, 10), (11, 7, 5, 13, 8)], 'zqrs,tuqvr->zstuv')):  # result with different letters
            helper_test_op(shps, lambda *a, s=spec: torch.einsum(s, *a), lambda *a, s=spec: tg.einsum(s, *a), atol=1e-5)
        # bilinear transformation
        helper_test_op([(2, 3), (5, 3, 7), (2, 7)], lambda a, b, c: torch.einsum('ik,jkl,il->ij', [a, b, c]),
                       lambda a, b, c: tg.einsum('ik,jkl,il->ij', [a, b, c]))

    @slow
    def test_einsum_ellipsis(self):
        """The expected behavior for einsum is described in the PyTorch docs"""
        # test ellipsis
        helper_test_op([(3, 8, 9), (3, 8, 9)], lambda a, b: torch.einsum('...id, ...jd -> ...ij', [a, b]),
                       lambda a, b: tg.einsum('...id, ...jd -> ...ij', [a, b]))
        # ellipsis will come first in the output before the subscript labels, if rhs is not specified
        helper_test_op([(3, 8, 9), (3, 8, 9)], lambda a, b: torch.einsum('...id, ...jd', [a, b]),
                       lambda a, b: tg.einsum('...id, ...jd', [a, b]))
        # multiple ellipsis in different operands with different shapes are allowed
        helper_test_op([(2, 3, 4, 5), (5, 2, 4)], lambda a, b: torch.einsum('i...j,ji...->...', [a, b]),
                       lambda a, b: tg.einsum('i...j,ji...->...', [a, b]))
        # match torch ellipsis handling
        helper_test_op([(32, 7, 24, 24, 24), (32, 7, 24, 24, 24)], lambda a, b: torch.einsum('ij...,ij...->ij', [a, b]),
                       lambda a, b: tg.einsum('ij...,ij...->ij', [a, b]))
        # multiple ellipsis in one operand are not allowed
        helper_test_exception([(2, 3, 4), (2, 3, 4)], lambda a, b: torch.einsum('...ik..., ...jk ->', [a, b]),
                              lambda a, b: tg.einsum('...ik..., ...jk ->', [a, b]), expected=(RuntimeError, IndexError))
        # multiple ellipsis must broadcast together
        helper_test_exception([(2, 3, 4), (2, 3, 4)], lambda a, b: torch.einsum('i...j,ji...->...', [a, b]),
                              lambda a, b: tg.einsum('i...j,ji...->...', [a, b]), expected=RuntimeError)

    def test_einsum_trace(self):
        # inner product
        helper_test_op([(5,), (5,)], lambda a, b: torch.einsum('i,i', a, b), lambda a, b: tg.einsum('i,i', a, b))
        # simple diagonal
        helper_test_op([(4, 4)], lambda a: torch.einsum('ii->i', a), lambda a: tg.einsum('ii->i', a))
        # trace (sum of diagonal)
        helper_test_op([(4, 4)], lambda a: torch.einsum('ii->', a), lambda a: tg.einsum('ii->', a))
        # batch diagonal
        helper_test_op([(3, 5, 5)], lambda a: torch.einsum('...ii->...i', a), lambda a: tg.einsum('...ii->...i', a))
        # batch trace
        helper_test_op([(3, 5, 5)], lambda a: torch.einsum('...ii->...', a), lambda a: tg.einsum('...ii->...', a))

    def test_einsum_shape_check(self):
        helper_test_exception([(3, 8, 10, 5), (11, 5, 13, 16, 8)], lambda a,
                              b: torch.einsum('pqrs,tuqvr->pstuv', [a, b]),
                              lambda a, b: tg.einsum('pqrs,tuqvr->pstuv', [a, b]), expected=RuntimeError)

    def test_einsum_arity_check1(self):
        helper_test_exception([(10, 15), (15, 20), (20, 10)], lambda a, b, c: torch.einsum('ij,jk->ij', [a, b, c]),
                              lambda a, b, c: tg.einsum('ij,jk->ij', [a, b, c]), expected=(ValueError, RuntimeError))

    def test_einsum_arity_check2(self):
        helper_test_exception([(10, 10)], lambda a: torch.einsum('ij,jk->ij', a), lambda a: tg.einsum('ij,jk->ij', a),
                              expected=(ValueError, RuntimeError))

    def test_dot_1d(self):  # tinygrad's Tensor.dot is matmul: our @
        helper_test_op([(65), (65)], lambda x, y: x.matmul(y), lambda x, y: x @ y)
        helper_test_op([(65), (65, 45)], lambda x, y: x.matmul(y), lambda x, y: x @ y)
        helper_test_op([(45, 65), (65)], lambda x, y: x.matmul(y), lambda x, y: x @ y)
        helper_test_op([(8, 45, 65), (65)], lambda x, y: x.matmul(y), lambda x, y: x @ y)
        helper_test_op([(65), (8, 65, 45)], lambda x, y: x.matmul(y), lambda x, y: x @ y)
        helper_test_exception([(4), (1, 2)], lambda x, y: x.matmul(y), lambda x, y: x @ y, expected=RuntimeError)
        helper_test_exception([(2, 1), (4)], lambda x, y: x.matmul(y), lambda x, y: x @ y, expected=RuntimeError)
        helper_test_exception([(1), (4)], lambda x, y: x.matmul(y), lambda x, y: x @ y, expected=RuntimeError)

    @slow
    def test_dot(self):
        helper_test_op([(45, 65), (65, 100)], lambda x, y: x.matmul(y), lambda x, y: x @ y, atol=1e-5)
        helper_test_op([(8, 45, 65), (8, 65, 100)], lambda x, y: x.matmul(y), lambda x, y: x @ y, atol=1e-5)
        helper_test_exception([(2, 4), (1, 3)], lambda x, y: x.matmul(y), lambda x, y: x @ y, expected=RuntimeError)
        helper_test_exception([(2, 1), (4, 3)], lambda x, y: x.matmul(y), lambda x, y: x @ y, expected=RuntimeError)
        with pytest.raises(RuntimeError):
            a = T(3.14)
            a.matmul(a)

    def test_mulacc_with_zero_strides(self):
        helper_test_op(
            [],
            lambda: torch.tensor(1.0).reshape((1, 1, 1)).expand(2, 4, 3).mul(
                torch.tensor(1.0).reshape((1, 1, 1)).expand(2, 4, 3)).sum(-1),
            lambda: (T(1.0).reshape((1, 1, 1)).broadcast_to((2, 4, 3)) *
                     T(1.0).reshape((1, 1, 1)).broadcast_to((2, 4, 3))).sum(-1),
            forward_only=True)
        a = [[1., 1., 1., 1.], [1., 1., 1., 1.]]
        b = [1., 1., 1., 1.]
        helper_test_op(
            [],
            lambda: torch.tensor(a).reshape((2, 4, 1)).expand(2, 4, 3).mul(
                torch.tensor(b).reshape((1, 4, 1)).expand(2, 4, 3)).sum([0, 2]),
            lambda: (T(a).reshape((2, 4, 1)).broadcast_to((2, 4, 3)) *
                     T(b).reshape((1, 4, 1)).broadcast_to((2, 4, 3))).sum([0, 2]),
            forward_only=True)
        helper_test_op([], lambda: torch.ones((1, 2)).matmul(torch.ones((2, 3))),
                       lambda: tg.ones((1, 2)) @ tg.ones((2, 3)),
                       forward_only=True)

    def test_matmul_simple(self):
        helper_test_op([(4), (4, 4)], lambda x, y: x.matmul(y), lambda x, y: x @ y)

    def test_matmul(self):
        helper_test_op([(64), (64, 99)], lambda x, y: x.matmul(y), lambda x, y: x @ y)

    def test_matmul_batched(self):
        helper_test_op([(3), (1, 3, 3, 5)], lambda x, y: x.matmul(y), lambda x, y: x @ y)

    def test_matmul_batched_vector(self):
        helper_test_op([(4, 3), (1, 3, 3, 5)], lambda x, y: x.matmul(y), lambda x, y: x @ y)

    def test_small_gemm(self):
        helper_test_op([(8, 8), (8, 8)], lambda x, y: x.matmul(y), lambda x, y: x @ y)

    def test_9_gemm(self):
        helper_test_op([(9, 9), (9, 9)], lambda x, y: x.matmul(y), lambda x, y: x @ y)

    def test_small_gemm_padded(self):
        helper_test_op([(9, 9), (9, 9)],
                       lambda x,
                       y: torch.nn.functional.pad(x, (0, 7, 0, 7)).matmul(torch.nn.functional.pad(y, (0, 7, 0, 7))),
                       lambda x, y: x.pad(((0, 7), (0, 7))) @ y.pad(((0, 7), (0, 7))))

    def test_small_gemm_range(self):
        helper_test_op(None, lambda x, y: x.matmul(y), lambda x, y: x @ y,
                       vals=[np.arange(0, 64, dtype=np.float32).reshape(8, 8),
                             np.arange(64, 128, dtype=np.float32).reshape(8, 8)])

    def test_small_gemm_eye(self):
        helper_test_op(None, lambda x, y: x.matmul(y), lambda x, y: x @ y,
                       vals=[np.eye(8).astype(np.float32), np.eye(8).astype(np.float32)])

    @not_applicable("float16 compute: tinygrad_np computes in float32/float64 on NumPy, which has no float16 BLAS "
                    "path (upstream too skips it where the device has no half)")
    def test_gemm_fp16(self):
        pass

    def test_gemm(self):
        helper_test_op([(64, 64), (64, 64)], lambda x, y: x.matmul(y), lambda x, y: x @ y)

    @slow
    def test_big_gemm(self):
        helper_test_op([(256, 256), (256, 256)], lambda x, y: x.matmul(y), lambda x, y: x @ y, atol=1e-4)

    def test_gemm_with_zeros_shape(self):
        for shps in ([(8, 8), (8, 0)], [(0, 8), (8, 8)], [(0, 8), (8, 0)], [(8, 0), (0, 8)], [(0, 0), (0, 0)],
                     [(0), (0, 8)], [(0), (0)]):
            helper_test_op(shps, lambda x, y: x.matmul(y), lambda x, y: x @ y, atol=1e-7)

    @slow
    def test_broadcastdot(self):
        helper_test_op([(10, 45, 65), (65, 45)], lambda x, y: x @ y, atol=1e-4)
        with pytest.raises(RuntimeError):
            a = T(3.14)
            b = tg.ones(3, 3)
            a @ b

    @slow
    def test_multidot(self):
        helper_test_op([(10, 45, 65), (10, 65, 45)], lambda x, y: x @ y, atol=1e-4)
        helper_test_op([(3, 3, 45, 65), (3, 3, 65, 45)], lambda x, y: x @ y, atol=1e-4)

    def test_sum_simple(self):
        helper_test_op(None, lambda x: x.sum(), vals=[[1., 1.]])

    def test_sum_full(self):
        helper_test_op([(16384)], lambda x: x.sum())

    def test_sum_relu(self):
        helper_test_op([(3, 4, 5)], lambda x: x.relu().sum().relu())

    def test_sum_tiny(self):
        helper_test_op([(4, 2, 2)], lambda x: x.sum(axis=(0, 2)))

    def test_sum(self):
        helper_test_op([(45, 3)], lambda x: x.sum())
        helper_test_op([(3, 4, 5, 6)], lambda x: x.sum(axis=3))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.sum(axis=(1, 3)))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.sum(axis=(0, 2)))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.sum(axis=(1, 2)))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.sum(axis=1))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.sum(axis=1, keepdims=True))
        helper_test_op([()], lambda x: x.sum())
        helper_test_op([()], lambda x: x.sum(0))
        helper_test_op([()], lambda x: x.sum(-1))
        helper_test_op([()], lambda x: x.sum(()))
        helper_test_exception([(3, 4, 5, 6)], lambda x: x.sum(5), expected=IndexError)
        helper_test_exception([()], lambda x: x.sum(1), expected=IndexError)
        helper_test_exception([()], lambda x: x.sum((1,)), expected=IndexError)

    def test_sum_dtype_arg(self):
        helper_test_op([(45, 3)], lambda x: x.sum(), lambda x: x.sum(dtype=np.float32))
        helper_test_op([(45, 3)], lambda x: x.sum(dtype=torch.float64), lambda x: x.sum(dtype=np.float64))

        with pytest.raises((AttributeError, TypeError)):  # upstream's AttributeError, or PyTorch's TypeError
            T([1.0, 2.0]).sum(dtype="")

    def test_sum_with_zeros_shape(self):
        helper_test_op([(4, 0)], lambda x: x.sum(axis=(0,)))
        helper_test_op([(4, 0)], lambda x: x.sum(axis=(1,)))
        helper_test_op([(4, 0)], lambda x: x.sum(axis=(0, 1)))

    def test_prod(self):
        helper_test_op(None, lambda x: x.prod(), vals=[[1.0, 2.0, 3.0]])
        helper_test_op(None, lambda x: x.prod(), vals=[[0.0, 2.0, 3.0]])
        helper_test_op(None, lambda x: x.prod(), vals=[[0.0, 0.0, 3.0]])
        helper_test_op(None, lambda x: x.prod(), vals=[[1.0, 2.0, 3.0]])  # upstream: again under Context(NOOPT=1)
        helper_test_op([(3, 4, 5, 6)], lambda x: x.prod(dim=3), lambda x: x.prod(axis=3))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.prod(dim=1), lambda x: x.prod(axis=1))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.prod(dim=1, keepdim=True), lambda x: x.prod(axis=1, keepdims=True))
        helper_test_op([()], lambda x: x.prod())
        helper_test_op([()], lambda x: x.prod(0))
        helper_test_op([()], lambda x: x.prod(-1))

    def test_prod_dtype_arg(self):
        with pytest.raises((AttributeError, TypeError)):  # upstream's AttributeError, or PyTorch's TypeError
            T([1.0, 2.0]).prod(dtype="")

    def test_min(self):
        helper_test_op([(3, 3)], lambda x: x.min())
        helper_test_op([(45, 3)], lambda x: x.min())
        helper_test_op([(45, 3)], lambda x: x.min().mul(0.5), lambda x: x.min() * 0.5)
        helper_test_op([()], lambda x: x.min())

        helper_test_op(None, lambda x: x.min(), forward_only=True, vals=[[0, -2**31]])
        helper_test_op(None, lambda x: x.min(), forward_only=True, vals=[[-2**31, 0]])
        helper_test_op(None, lambda x: x.min(), forward_only=True, vals=[[False, True]])
        helper_test_op(None, lambda x: x.min(), forward_only=True, vals=[[True, False]])

    def test_max(self):
        helper_test_op([(45, 3)], lambda x: x.max())
        helper_test_op([(45, 3)], lambda x: x.max().mul(0.5), lambda x: x.max() * 0.5)
        helper_test_op(None, lambda x: x.max().mul(0.5), lambda x: x.max() * 0.5, vals=[[[1.0, 1.0, 0.0, 1.0]], ])
        helper_test_op([(3, 4, 5, 6)], lambda x: x.max(axis=1)[0], lambda x: x.max(axis=1))
        helper_test_op([()], lambda x: x.max())

        helper_test_op(None, lambda x: x.max(), forward_only=True, vals=[[0, -2**31]])
        helper_test_op(None, lambda x: x.max(), forward_only=True, vals=[[-2**31, 0]])
        helper_test_op(None, lambda x: x.max(), forward_only=True, vals=[[False, True]])
        helper_test_op(None, lambda x: x.max(), forward_only=True, vals=[[True, False]])

    def test_const_reduce(self):
        helper_test_op([(3, 3)], lambda x: torch.full_like(x, 2).sum(), lambda x: tg.full_like(x, 2).sum(),
                       forward_only=True)
        helper_test_op([(3, 3)], lambda x: torch.full_like(x, 2).prod(), lambda x: tg.full_like(x, 2).prod(),
                       forward_only=True)
        helper_test_op([(3, 3)], lambda x: torch.full_like(x, 2).max(), lambda x: tg.full_like(x, 2).max(),
                       forward_only=True)

    def test_any(self):
        helper_test_op([(3, 4, 5, 6)], lambda x: x.any(), forward_only=True)
        helper_test_op(None, lambda x: x.any(), vals=[[True, True]], forward_only=True)
        helper_test_op(None, lambda x: x.any(), vals=[[True, False]], forward_only=True)
        helper_test_op(None, lambda x: x.any(), vals=[[False, False]], forward_only=True)
        helper_test_op([()], lambda x: x.any(), forward_only=True)

    def test_any_axis(self):
        helper_test_op([(3, 4, 5, 6)], lambda x: x.any(axis=(1, 2)), forward_only=True)

    def test_any_zero_axis(self):
        helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.any(axis=(1, 3)), forward_only=True)

    def test_all(self):
        helper_test_op([(3, 4, 5, 6)], lambda x: x.all(), forward_only=True)
        helper_test_op(None, lambda x: x.all(), vals=[[True, True]], forward_only=True)
        helper_test_op(None, lambda x: x.all(), vals=[[True, False]], forward_only=True)
        helper_test_op(None, lambda x: x.all(), vals=[[False, False]], forward_only=True)
        helper_test_op([()], lambda x: x.all(), forward_only=True)

    def test_all_axis(self):
        helper_test_op([(3, 4, 5, 6)], lambda x: x.all(axis=(1, 2)), forward_only=True)

    def test_all_zero_axis(self):
        helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.all(axis=(1, 3)), forward_only=True)

    def test_all_large(self):
        for exp in [15, 16, 20]:
            helper_test_op(None, lambda exp=exp: torch.ones(2**exp).bool().all(),
                           lambda exp=exp: tg.ones(2**exp).astype(bool).all(), vals=[], forward_only=True)

    def test_isclose(self):
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(x), forward_only=True)
        helper_test_op([(3, 4, 5, 6), (3, 4, 5, 6)], lambda x, y: x.isclose(y), forward_only=True)
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(x, equal_nan=True), forward_only=True)
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(x + 1e-6), forward_only=True)
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(x + 1e-9), forward_only=True)
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(x + 1e-6, atol=0.0), forward_only=True)
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(x + 1e-9, atol=0.0), forward_only=True)
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(x + 1e-6, rtol=0.01), forward_only=True)
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(x + 1e-9, rtol=0.01), forward_only=True)
        helper_test_op(None, lambda x, y: x.isclose(y), vals=[[1e-7, 1e-8, 1e-9], [0.0, 0.0, 0.0]], forward_only=True)

    def test_isclose_edge_cases(self):
        for a in [math.inf, -math.inf, math.nan, 0.0]:
            for b in [math.inf, -math.inf, math.nan, 0.0]:
                helper_test_op(None, lambda x, y: x.isclose(y), vals=[[a], [b]], forward_only=True)
                helper_test_op(None, lambda x, y: x.isclose(y, equal_nan=True), vals=[[a], [b]], forward_only=True)

    def test_isclose_scalar(self):
        # torch needs a tensor
        helper_test_op([(3, 4, 5, 6)], lambda x: x.isclose(torch.tensor(1.0)), lambda x: x.isclose(1.0),
                       forward_only=True)
        helper_test_op(None, lambda x: x.isclose(torch.tensor(1.0)), lambda x: x.isclose(1.0),
                       vals=[[1.0, 1.0 + 1e-7, 2.0, math.inf, -math.inf, math.nan]], forward_only=True)

    def test_mean(self):
        helper_test_op([(3, 4, 5, 6)], lambda x: x.mean())
        helper_test_op([()], lambda x: x.mean())

    def test_mean_axis(self):
        helper_test_op([(3, 4, 5, 6)], lambda x: x.mean(axis=(1, 2)))

    def test_mean_zero_axis(self):
        helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.mean(axis=(1, 3)))

    # PyTorch's var and std default to correction=1: ddof=1 here, where NumPy's default is 0
    @slow
    def test_var(self):
        helper_test_op([(15, 25, 35)], lambda x: x.var(), lambda x: x.var(ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.var(correction=0), lambda x: x.var(ddof=0))
        helper_test_op([(15, 25, 35)], lambda x: x.var(correction=5), lambda x: x.var(ddof=5))

    @slow
    def test_var_axis(self):
        helper_test_op([(15, 25, 35)], lambda x: x.var(0), lambda x: x.var(0, ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.var(2), lambda x: x.var(2, ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.var([1, 2]), lambda x: x.var([1, 2], ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.var(0, correction=0), lambda x: x.var(0, ddof=0))
        helper_test_op([(15, 25, 35)], lambda x: x.var(2, correction=0), lambda x: x.var(2, ddof=0))
        helper_test_op([(15, 25, 35)], lambda x: x.var([1, 2], correction=0), lambda x: x.var([1, 2], ddof=0))

    def test_var_zero_in_axis(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="var\\(\\): degrees of freedom is <= 0")
            helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.var(axis=(1, 3)), lambda x: x.var(axis=(1, 3), ddof=1))
            helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.var(axis=(1, 3), correction=0),
                           lambda x: x.var(axis=(1, 3), ddof=0))
            helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.var(axis=(1, 3), correction=5),
                           lambda x: x.var(axis=(1, 3), ddof=5))

    def test_var_one_in_axis(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="var\\(\\): degrees of freedom is <= 0")
            helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.var(axis=(0, 3)), lambda x: x.var(axis=(0, 3), ddof=1))
            # TODO: fix backward
            helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.var(axis=(0, 3), correction=5),
                           lambda x: x.var(axis=(0, 3), ddof=5), forward_only=True)
            helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.var(axis=(0, 4), correction=5),
                           lambda x: x.var(axis=(0, 4), ddof=5), forward_only=True)
        helper_test_op([(1,)], lambda x: x.var(axis=(0,), correction=0), lambda x: x.var(axis=(0,), ddof=0))
        helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.var(axis=(0, 3), correction=0),
                       lambda x: x.var(axis=(0, 3), ddof=0))
        helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.var(axis=(0, 4)), lambda x: x.var(axis=(0, 4), ddof=1))
        helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.var(axis=(0, 4), correction=0),
                       lambda x: x.var(axis=(0, 4), ddof=0))

    def test_var_keepdim(self):
        helper_test_op([(15, 25, 35)], lambda x: x.var(keepdim=True), lambda x: x.var(keepdims=True, ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.var(0, keepdim=True, correction=0),
                       lambda x: x.var(0, keepdims=True, ddof=0))

    @slow
    def test_std(self):
        helper_test_op([(15, 25, 35)], lambda x: x.std(), lambda x: x.std(ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.std(correction=0), lambda x: x.std(ddof=0))
        helper_test_op([(15, 25, 35)], lambda x: x.std(correction=5), lambda x: x.std(ddof=5))

    @slow
    def test_std_axis(self):
        helper_test_op([(15, 25, 35)], lambda x: x.std(0), lambda x: x.std(0, ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.std(2), lambda x: x.std(2, ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.std([1, 2]), lambda x: x.std([1, 2], ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.std(0, correction=0), lambda x: x.std(0, ddof=0))
        helper_test_op([(15, 25, 35)], lambda x: x.std(2, correction=0), lambda x: x.std(2, ddof=0))
        helper_test_op([(15, 25, 35)], lambda x: x.std([1, 2], correction=0), lambda x: x.std([1, 2], ddof=0))

    def test_std_zero_in_axis(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="std\\(\\): degrees of freedom is <= 0")
            helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.std(axis=(1, 3)), lambda x: x.std(axis=(1, 3), ddof=1))
            helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.std(axis=(1, 3), correction=0),
                           lambda x: x.std(axis=(1, 3), ddof=0))
            helper_test_op([(1, 0, 3, 0, 5)], lambda x: x.std(axis=(1, 3), correction=5),
                           lambda x: x.std(axis=(1, 3), ddof=5))

    def test_std_one_in_axis(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="std\\(\\): degrees of freedom is <= 0")
            helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.std(axis=(0, 3)), lambda x: x.std(axis=(0, 3), ddof=1))
            helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.std(axis=(0, 3), correction=5),
                           lambda x: x.std(axis=(0, 3), ddof=5))
            helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.std(axis=(0, 4), correction=5),
                           lambda x: x.std(axis=(0, 4), ddof=5))
        # TODO: fix backward
        helper_test_op([(1,)], lambda x: x.std(axis=(0,), correction=0), lambda x: x.std(axis=(0,), ddof=0),
                       forward_only=True)
        helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.std(axis=(0, 3), correction=0),
                       lambda x: x.std(axis=(0, 3), ddof=0), forward_only=True)
        helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.std(axis=(0, 4)), lambda x: x.std(axis=(0, 4), ddof=1))
        helper_test_op([(1, 2, 3, 1, 5)], lambda x: x.std(axis=(0, 4), correction=0),
                       lambda x: x.std(axis=(0, 4), ddof=0))

    def test_std_keepdim(self):
        helper_test_op([(15, 25, 35)], lambda x: x.std(keepdim=True), lambda x: x.std(keepdims=True, ddof=1))
        helper_test_op([(15, 25, 35)], lambda x: x.std(0, keepdim=True, correction=0),
                       lambda x: x.std(0, keepdims=True, ddof=0))

    @slow
    def test_std_mean(self):
        helper_test_op([(15, 25, 35)], lambda x: torch.stack(torch.std_mean(x)),
                       lambda x: tg.stack(tg.std_mean(x, ddof=1)))
        helper_test_op([(15, 25, 35)], lambda x: torch.stack(torch.std_mean(x, correction=5)),
                       lambda x: tg.stack(tg.std_mean(x, ddof=5)))
        helper_test_op([(15, 25, 35)], lambda x: torch.stack(torch.std_mean(x, keepdim=True, correction=0)),
                       lambda x: tg.stack(tg.std_mean(x, keepdims=True, ddof=0)))
        helper_test_op([(3, 4, 5, 6)], lambda x: torch.stack(torch.std_mean(x, axis=(1, 2))),
                       lambda x: tg.stack(tg.std_mean(x, axis=(1, 2), ddof=1)))

    def test_std_mean_loaded_nan(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="std_mean\\(\\): degrees of freedom is <= 0")
            helper_test_op([(1, 0, 3, 0, 5)], lambda x: torch.stack(torch.std_mean(x, axis=(1, 3))),
                           lambda x: tg.stack(tg.std_mean(x, axis=(1, 3), ddof=1)))

    def test_softmax(self):
        helper_test_op([(45, 65)], torch.nn.Softmax(dim=1), lambda x: x.softmax(), atol=1e-7, grad_atol=1e-7)
        helper_test_op([(45)], torch.nn.Softmax(dim=0), lambda x: x.softmax(), atol=1e-7, grad_atol=1e-7)
        helper_test_op([()], torch.nn.Softmax(dim=0), lambda x: x.softmax(), atol=1e-7, grad_atol=1e-7)
        helper_test_op([()], torch.nn.Softmax(dim=-1), lambda x: x.softmax(), atol=1e-7, grad_atol=1e-7)

    def test_softmax_other_axis(self):
        helper_test_op([(10, 10, 10)], lambda x: x.softmax(0), atol=1e-7, grad_atol=2e-7)
        helper_test_op([(10, 10, 10)], lambda x: x.softmax(1), atol=1e-7, grad_atol=2e-7)
        helper_test_op([(10, 10, 10)], lambda x: x.softmax(2), atol=1e-7, grad_atol=2e-7)

    def test_softmax_argmax(self):
        helper_test_op([(45, 65)], lambda x: x.softmax(0).argmax(), forward_only=True, atol=1e-7, grad_atol=1e-7)
        helper_test_op([(45, 65)], lambda x: x.softmax(1).argmax(), forward_only=True, atol=1e-7, grad_atol=1e-7)

    def test_log_softmax(self):
        helper_test_op([(45, 65)], torch.nn.LogSoftmax(dim=1), lambda x: x.log_softmax(), atol=1e-7, grad_atol=1e-7)
        helper_test_op([(45)], torch.nn.LogSoftmax(dim=0), lambda x: x.log_softmax(), atol=1e-7, grad_atol=1e-7)
        helper_test_op([()], torch.nn.LogSoftmax(dim=0), lambda x: x.log_softmax(), atol=1e-7, grad_atol=1e-7)
        helper_test_op([()], torch.nn.LogSoftmax(dim=-1), lambda x: x.log_softmax(), atol=1e-7, grad_atol=1e-7)

    def test_log_softmax_other_axis(self):
        helper_test_op([(10, 10, 10)], lambda x: x.log_softmax(0), atol=1e-7, grad_atol=1e-7)
        helper_test_op([(10, 10, 10)], lambda x: x.log_softmax(1), atol=1e-7, grad_atol=1e-7)
        helper_test_op([(10, 10, 10)], lambda x: x.log_softmax(2), atol=1e-7, grad_atol=1e-7)

    def test_softmin(self):
        helper_test_op([(45, 65)], torch.nn.Softmin(dim=1), lambda x: F.softmin(x, 1), atol=1e-7, grad_atol=1e-7)

    def test_normalize(self):
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.normalize(x), lambda x: F.normalize(x),
                       atol=1e-7, grad_atol=1e-7)
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.normalize(x, dim=0), lambda x: F.normalize(x, axis=0),
                       atol=1e-7, grad_atol=1e-7)
        helper_test_op([(10, 10, 10)], lambda x: torch.nn.functional.normalize(x, dim=2),
                       lambda x: F.normalize(x, axis=2), atol=1e-7, grad_atol=1e-7)
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.normalize(x, p=1), lambda x: F.normalize(x, p=1),
                       atol=1e-7, grad_atol=1e-7)
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.normalize(x, p=3, dim=0),
                       lambda x: F.normalize(x, p=3, axis=0), atol=1e-7, grad_atol=1e-7)
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.normalize(x, p=0), lambda x: F.normalize(x, p=0),
                       atol=1e-7, grad_atol=1e-7)
        helper_test_op([(45, 65)], lambda x: torch.nn.functional.normalize(x, p=-1), lambda x: F.normalize(x, p=-1),
                       atol=1e-7, grad_atol=1e-7)

    def test_logsumexp(self):
        for shape, axis in (((45, 65), 0), ((45, 65), 1), ((6, 6, 6), 2), ((6, 6, 6, 6), 2), ((6, 6, 6, 6), 3),
                            ((45), 0), ((), 0), ((), -1)):
            helper_test_op([shape], lambda x, a=axis: torch.logsumexp(x, dim=a), lambda x, a=axis: x.logsumexp(a),
                           atol=1e-7, grad_atol=1e-7)
            if shape == (45, 65):
                helper_test_op([shape], lambda x, a=axis: torch.logsumexp(x, dim=a, keepdim=True),
                               lambda x, a=axis: x.logsumexp(a, True), atol=1e-7, grad_atol=1e-7)

    @slow
    def test_logcumsumexp(self):
        for shape, axis in (((45, 65), 0), ((45, 65), 1), ((6, 6, 6), 2), ((6, 6, 6, 6), 2), ((6, 6, 6, 6), 3),
                            ((45), 0), ((), 0)):
            helper_test_op([shape], lambda x, a=axis: torch.logcumsumexp(x, dim=a), lambda x, a=axis: x.logcumsumexp(a),
                           atol=1e-7, grad_atol=1e-7)
        helper_test_op([()], lambda x: torch.logcumsumexp(x, dim=0), lambda x: x.logcumsumexp(), atol=1e-7,
                       grad_atol=1e-7)
        helper_test_op([()], lambda x: torch.logcumsumexp(x, dim=-1), lambda x: x.logcumsumexp(-1), atol=1e-7,
                       grad_atol=1e-7)

    def test_logcumsumexp_numerical(self):
        helper_test_op(None, lambda x: torch.logcumsumexp(x, dim=0), lambda x: x.logcumsumexp(), atol=1e-7,
                       grad_atol=1e-7, vals=[[0.0, 100.0]])

    def test_sinh(self):
        helper_test_op([(45, 65)], lambda x: x.sinh(), grad_atol=1e-6)
        # TODO: backward nan instead of inf
        helper_test_op([(45, 65)], lambda x: x.sinh(), grad_atol=1e-6, low=-300, high=-297, forward_only=True)
        helper_test_op([(45, 65)], lambda x: x.sinh(), grad_atol=1e-6, low=300, high=303, forward_only=True)

    def test_cosh(self):
        helper_test_op([(45, 65)], lambda x: x.cosh(), grad_atol=1e-6)
        # TODO: backward nan instead of inf
        helper_test_op([(45, 65)], lambda x: x.cosh(), grad_atol=1e-6, low=-300, high=-297, forward_only=True)
        helper_test_op([(45, 65)], lambda x: x.cosh(), grad_atol=1e-6, low=300, high=303, forward_only=True)

    def test_tanh(self):
        helper_test_op([(45, 65)], lambda x: x.tanh(), grad_atol=1e-6)

    def test_tanh_extreme(self):
        helper_test_op([(45, 65)], lambda x: x.tanh(), grad_atol=1e-6, low=-300, high=-297)
        helper_test_op([(45, 65)], lambda x: x.tanh(), grad_atol=1e-6, low=300, high=303)

    def test_hardtanh(self):
        for val in range(10, 30, 5):
            helper_test_op([(45, 65)], lambda x, v=val: torch.nn.functional.hardtanh(x, -v, v),
                           lambda x, v=val: x.hardtanh(-v, v), grad_atol=1e-6)
            helper_test_op([()], lambda x, v=val: torch.nn.functional.hardtanh(x, -v, v),
                           lambda x, v=val: x.hardtanh(-v, v), grad_atol=1e-6)

    def test_asinh(self):
        helper_test_op([(45, 65)], lambda x: x.asinh(), grad_atol=1e-6)
        # TODO: this one has larger tol?
        helper_test_op([(45, 65)], lambda x: x.asinh(), atol=1e-2, rtol=2e-2, grad_rtol=2e-2, low=-300, high=-297)
        helper_test_op([(45, 65)], lambda x: x.asinh(), grad_atol=1e-6, low=300, high=303)

    def test_acosh(self):
        helper_test_op([(45, 65)], lambda x: x.acosh(), grad_atol=1e-6)
        helper_test_op([(45, 65)], lambda x: x.acosh(), grad_atol=1e-3, grad_rtol=1e-2, low=-300, high=-297)
        helper_test_op([(45, 65)], lambda x: x.acosh(), grad_atol=1e-6, low=300, high=303)

    def test_atanh(self):
        helper_test_op([(45, 65)], lambda x: x.atanh(), grad_atol=1e-6)
        helper_test_op([(45, 65)], lambda x: x.atanh(), grad_atol=1e-6, low=-300, high=-297)
        helper_test_op([(45, 65)], lambda x: x.atanh(), grad_atol=1e-6, low=300, high=303)

    def test_topo_sort(self):
        helper_test_op([(45, 65)], lambda x: (x + x) * x, grad_atol=1e-6)
        helper_test_op([()], lambda x: (x + x) * x, grad_atol=1e-6)

    def test_flip_eye_crash(self):
        helper_test_op([], lambda: (torch.eye(10) @ torch.eye(10).flip(0)), lambda: (tg.eye(10) @ tg.eye(10).flip(0)),
                       forward_only=True)

    # tinygrad's Tensor.add, sub, mul, div and pow: our operators
    BINARY = [(torch.add, lambda x, y: x + y), (torch.sub, lambda x, y: x - y), (torch.mul, lambda x, y: x * y),
              (torch.div, lambda x, y: x / y), (torch.pow, lambda x, y: x**y)]

    def test_broadcast_full(self):
        for torch_op, ours_op in self.BINARY:
            for shapes in [((5, 3, 14, 16), (5, 1, 14, 1)), ((1, 3, 1, 7, 1), (2, 1, 5, 1, 8))]:
                if torch_op is not torch.pow:
                    helper_test_op(shapes, torch_op, ours_op)
                else:
                    helper_test_op(shapes, torch_op, ours_op, low=0, high=3)

    def test_broadcast_simple(self):
        helper_test_op([(45, 65), (45, 1)], lambda x, y: x / y)
        helper_test_op([(45, 65), ()], lambda x, y: x / y)

    @slow
    def test_broadcast_partial(self):
        for torch_op, ours_op in self.BINARY:
            for shapes in [((1, 32, 32, 32), (1, 32, 1, 1)), ((5, 13, 24, 16, 2), (1, 13, 24, 1, 1)),
                           ((4, 1), (4, 5)), ((1, 4), (5, 4))]:
                # NOTE: ANE backwards?
                if torch_op is not torch.pow:
                    helper_test_op(shapes, torch_op, ours_op)
                else:
                    helper_test_op(shapes, torch_op, ours_op, low=0, high=3)

    def test_slice_in_bounds_1dim(self):
        helper_test_op([(3)], lambda x: x[1:3])
        helper_test_op([(3)], lambda x: x[0:2])
        helper_test_op([(3)], lambda x: x[-2:2])

    def test_slice_on_0dim_tensor(self):
        helper_test_op([()], lambda x: x[None])

        with pytest.raises(IndexError):
            a = T(3.14)
            a[0]

    def test_slice_int_indexing(self):
        helper_test_op([(3)], lambda x: x[0])
        helper_test_op([(3)], lambda x: x[2])
        helper_test_op([(3)], lambda x: x[-1])
        helper_test_op([(3)], lambda x: x[-3])
        helper_test_op([(10, 10)], lambda x: x[1])
        helper_test_op([(3, 3, 3)], lambda x: x[1, 1, 1])

    def test_slice_in_bounds_multidim(self):
        helper_test_op([(3, 3, 3)], lambda x: x[1:2])
        helper_test_op([(3, 3, 3)], lambda x: x[1:2, 2])
        helper_test_op([(3, 3, 3)], lambda x: x[1:2, 1:2])
        helper_test_op([(3, 3, 3)], lambda x: x[1:2, 1:2, 0:-1])

    def test_slice_with_none(self):
        helper_test_op([(3, 3, 3)], lambda x: x[None])
        helper_test_op([(3, 3, 3)], lambda x: x[1:2, None])
        helper_test_op([(3, 3, 3)], lambda x: x[1:2, None, 1:2])
        helper_test_op([(3, 3, 3)], lambda x: x[1:2, 1:2, None, -1])
        helper_test_op([(3, 3, 3)], lambda x: x[None, None, 1, None, 2, 0:2])

    def test_slice_with_const_tensor(self):
        t = tg.zeros(1, dtype=np.int32)
        helper_test_op([(3, 3, 3)], lambda x: x[:, [0], :], lambda x: x[:, t, :])
        helper_test_op([(3, 3, 3)], lambda x: x[:, [0], :], lambda x: x[:, t, :])  # upstream: t.contiguous()

    def test_slice_one_endpoint_out_of_bounds(self):
        helper_test_op([(3, 3, 3)], lambda x: x[0:4])
        helper_test_op([(3, 3, 3)], lambda x: x[-6:4])
        helper_test_op([(3, 3, 3)], lambda x: x[1:50])
        helper_test_op([(3, 3, 3)], lambda x: x[1:50, 1:2, -1])

    def test_slice_stride_gt_one(self):
        helper_test_op([(7, 5, 10)], lambda x: x[::2, ::3, ::4])
        helper_test_op([(7, 5, 10)], lambda x: x[1:5:2, ::3, ::4])
        helper_test_op([(7, 5, 10)], lambda x: x[1:5:2, 3, ::4])
        helper_test_op([(7, 5, 10)], lambda x: x[1:5:2, None, None, 3, None, ::4])

    def test_slice_negative_strides(self):
        # Torch doesn't support slicing with negative steps
        a = np.random.RandomState(0).randn(10, 10, 10).astype(np.float32)
        t = tg.Tensor(a)
        np.testing.assert_allclose(a[::-1], t[::-1].numpy())
        np.testing.assert_allclose(a[::-2], t[::-2].numpy())
        np.testing.assert_allclose(a[:, 2:0:-1], t[:, 2:0:-1].numpy())
        np.testing.assert_allclose(a[:, 2:0:-1, 3:1:-2], t[:, 2:0:-1, 3:1:-2].numpy())
        np.testing.assert_allclose(a[4:0:-3, 2:0:-1, -1:-5:-2], t[4:0:-3, 2:0:-1, -1:-5:-2].numpy())
        np.testing.assert_allclose(a[2:5:-1, :, :], t[2:5:-1, :, :].numpy())  # shape = (0, 10, 10)
        np.testing.assert_allclose(a[:, 2:5:-1, :], t[:, 2:5:-1, :].numpy())  # shape = (0, 10, 10)
        np.testing.assert_allclose(a[:, :, 2:5:-1], t[:, :, 2:5:-1].numpy())  # shape = (0, 10, 10)

    def test_slice_both_endpoints_out_of_bounds(self):
        helper_test_op([(3, 3, 3)], lambda x: x[5:10])
        helper_test_op([(3, 3, 3)], lambda x: x[-15:-7])

    def test_slice_start_gt_end(self):
        helper_test_op([(3, 3, 3)], lambda x: x[-2:2])
        helper_test_op([(3, 3, 3)], lambda x: x[-2:-5])

    def test_slice_zero_in_shape(self):
        helper_test_op([(10, 10)], lambda x: x[1:1])  # x.shape = (0, 10)
        helper_test_op([(3, 3, 3)], lambda x: x[-2:-5])  # x.shape = (0, 3, 3)

    def test_slice_errors(self):
        a = tg.ones(4, 3)
        b = T(2)
        with pytest.raises(IndexError, match="too many"):
            a[1, 77, 77, 77]  # IndexError: (finds too many indices before the out of bounds)
        with pytest.raises(IndexError, match="out of bounds"):
            a[1, 3]  # IndexError: (out of bounds).
        with pytest.raises(IndexError, match="out of bounds"):
            a[1, -4]
        with pytest.raises(IndexError, match="single ellipsis"):
            a[..., ...]  # IndexError: only single ellipsis
        with pytest.raises(ValueError):
            a[::0, 1]  # no 0 strides
        with pytest.raises(TypeError):
            a[:T([3]), 1]  # Tensor can't be used as a slice parameter
        with pytest.raises(IndexError):
            b[:]  # slice cannot be applied to a 0-dim tensor

    def test_slice_ellipsis(self):
        helper_test_op([(3, 3, 3, 3)], lambda x: x[..., 0])
        helper_test_op([(3, 3, 3, 3)], lambda x: x[0, ...])
        helper_test_op([(3, 3, 3, 3)], lambda x: x[0, ..., 0])
        helper_test_op([(3, 3, 3, 3)], lambda x: x[0:3, ..., 2:3])
        helper_test_op([(3, 3, 3, 3)], lambda x: x[None, 0:3, ..., 0, None])

    # this was the failure in llama early realizing freqs_cis
    def test_double_slice(self):
        helper_test_op([(4, 4)], lambda x: x[:, 1:2][1:2])
        helper_test_op([(4, 4)], lambda x: x[1:3][1:2])
        helper_test_op([(4, 4)], lambda x: x[:, 1:2][0:1])
        helper_test_op([(4, 4)], lambda x: x[:, 1:2][:, 0:1])

    # tinygrad's pad takes PyTorch's flat tuple (our F.pad) or one pair per axis (our Tensor.pad, NumPy's pad_width,
    # which takes no negative widths: cutting is F.pad's)
    def test_pad(self):
        tpad = torch.nn.functional.pad
        helper_test_op([(3, 3, 3, 3)], lambda x: tpad(x, (1, 2, 3, 4)), lambda x: F.pad(x, (1, 2, 3, 4)))
        helper_test_op([(3, 3, 3, 3)], lambda x: tpad(x, (-1, 2, -3, 4)), lambda x: F.pad(x, (-1, 2, -3, 4)))
        helper_test_op([(3, 3, 3, 3)], lambda x: tpad(x, (1, 2, 3, 4), value=5),
                       lambda x: F.pad(x, (1, 2, 3, 4), value=5))
        helper_test_op([(3, 3, 3, 3)], lambda x: tpad(x, (-1, 2, -3, 4), value=5),
                       lambda x: F.pad(x, (-1, 2, -3, 4), value=5))
        helper_test_op([(3, 3, 3, 3)], lambda x: tpad(x, (1, 2, 3, 4), value=math.inf),
                       lambda x: F.pad(x, (1, 2, 3, 4), value=math.inf))
        helper_test_op([(3, 3, 3, 3)], lambda x: tpad(x, (-1, 2, -3, 4), value=-math.inf),
                       lambda x: F.pad(x, (-1, 2, -3, 4), value=-math.inf))
        helper_test_op([(3, 3)], lambda x: tpad(x, (1, 2, 3, 4)), lambda x: x.pad(((3, 4), (1, 2))))
        helper_test_op([(3, 3)], lambda x: tpad(x, (-1, 2, -3, 4)), lambda x: F.pad(x, (-1, 2, -3, 4)))
        helper_test_op([(3, 3)], lambda x: tpad(x, (1, 2, 3, 4), value=5), lambda x: x.pad(((3, 4), (1, 2)), value=5))
        # tinygrad's None for "no padding on this axis" is NumPy's (0, 0)
        helper_test_op([(3, 3)], lambda x: tpad(x, (0, 0, 3, 4), value=1), lambda x: x.pad(((3, 4), (0, 0)), value=1))
        helper_test_op([(3, 3)], lambda x: tpad(x, (0, 0, 0, 0), value=1), lambda x: x.pad(((0, 0), (0, 0)), value=1))
        # raise error for uneven pads
        helper_test_exception([(3, 3)], lambda x: tpad(x, (2, 0, 2)), lambda x: F.pad(x, (2, 0, 2)),
                              expected=(RuntimeError, ValueError))
        # raise error for too many or too little pads
        helper_test_exception([(3, 3)], lambda x: tpad(x, (0, 0, 0, 0, 1, 0, 3, 0)),
                              lambda x: F.pad(x, (0, 0, 0, 0, 1, 0, 3, 0)), expected=(RuntimeError, ValueError))
        # raise error for mode string typo
        helper_test_exception([(3, 3, 3)], lambda x: tpad(x, (3, 0), mode="typo"),
                              lambda x: F.pad(x, (3, 0), mode="typo"),
                              expected=NotImplementedError)
        x = tg.ones(3, 3)
        with pytest.raises(ValueError):
            x.pad(((0, 0), (0, 1), (3, 0)))
        # upstream's x.pad(((0,1),)) raising is left out: NumPy's pad_width broadcasts one pair to every axis

    def test_pad_reflect_mode(self):
        for shape, p in (((1, 1, 5, 5), (0, 2, 3, 2)), ((5, 5, 5), (0, 2)), ((1, 1, 5, 5, 5), (1, 2, 3, 4, 1, 2)),
                         ((3, 3, 3, 3), (-1, 2, 2, -1)), ((1, 1, 5, 5), (3, -3, 0, -3)), ((1, 1, 5, 5), (3, -5, 1, -5)),
                         ((1, 1, 5, 5), (0, 0, 0, -5)),
                         # max pad size for reflect is exactly once: pad < input size
                         ((1, 1, 5, 5), (4, 4, 0, 4))):
            helper_test_op([shape], lambda x, p=p: torch.nn.functional.pad(x, p, mode="reflect"),
                           lambda x, p=p: F.pad(x, p, mode="reflect"))
        # raise error for relfection padding when: pad >= input size
        helper_test_exception([(1, 1, 5, 5)], lambda x: torch.nn.functional.pad(x, (3, 5, 0, 0), mode="reflect"),
                              lambda x: F.pad(x, (3, 5, 0, 0), mode="reflect"), expected=(RuntimeError, ValueError))

    def test_pad_replicate_mode(self):
        for shape, p in (((1, 1, 5, 5), (0, 2, 3, 2)), ((5, 5, 5), (0, 2)), ((1, 1, 5, 5, 5), (1, 2, 3, 4, 1, 2)),
                         ((3, 3, 3, 3), (-1, 2, 2, -1)), ((1, 1, 5, 5), (3, -3, 0, -3)), ((1, 1, 5, 5), (3, -5, 1, -5)),
                         ((1, 1, 5, 5), (0, 0, 0, -5)),
                         # no max pad sizes for replicate
                         ((1, 1, 5, 5), (3, 11, 0, 30))):
            helper_test_op([shape], lambda x, p=p: torch.nn.functional.pad(x, p, mode="replicate"),
                           lambda x, p=p: F.pad(x, p, mode="replicate"))

    def test_pad_circular_mode(self):
        for shape, p in (((1, 1, 5, 5), (0, 2, 3, 2)), ((5, 5, 5), (0, 2)), ((1, 1, 5, 5, 5), (1, 2, 3, 5, 1, 2))):
            helper_test_op([shape], lambda x, p=p: torch.nn.functional.pad(x, p, mode="circular"),
                           lambda x, p=p: F.pad(x, p, mode="circular"))
        # circular pad cannot wrap around more than once
        helper_test_exception([(1, 1, 5, 5)], lambda x: torch.nn.functional.pad(x, (3, 6, 0, 0), mode="circular"),
                              lambda x: F.pad(x, (3, 6, 0, 0), mode="circular"), expected=(RuntimeError, ValueError))
        helper_test_op([(1, 1, 5, 5)], lambda x: torch.nn.functional.pad(x, (1, -2, 2, -1), mode="circular"),
                       lambda x: F.pad(x, (1, -2, 2, -1), mode="circular"))

    def test_pad_reshape(self):
        helper_test_op([(1, 2)], lambda x: torch.nn.functional.pad(x, (0, 1, 1, 0)).reshape((3, 2)),
                       lambda x: F.pad(x, (0, 1, 1, 0)).reshape((3, 2)))
        helper_test_op([(1, 2)], lambda x: torch.nn.functional.pad(x, (0, 2, 1, 1)).reshape((4, 3)),
                       lambda x: F.pad(x, (0, 2, 1, 1)).reshape((4, 3)))
        helper_test_op([(1, 1, 1, 2)],
                       lambda x: torch.nn.functional.pad(x, (0, 4, 2, 2, 1, 2, 0, 2)).reshape((4, 3, 6, 5)),
                       lambda x: x.pad(((0, 2), (1, 2), (2, 2), (0, 4))).reshape((4, 3, 6, 5)))

    def test_pad_slice(self):
        tpad = torch.nn.functional.pad
        for value in 0., 3.456:
            for shape, p, widths, index in (
                    ((1), (1, 0), ((1, 0),), 0),
                    ((4), (1, 0), ((1, 0),), 0),
                    ((4), (3, 0), ((3, 0),), slice(0, 1)),
                    ((4), (0, 3), ((0, 3),), 6),
                    ((4), (0, 3), ((0, 3),), slice(4, 6)),
                    ((5, 5), (0, 0, 1, 0), ((1, 0), (0, 0)), 0),
                    ((2, 2), (0, 1, 0, 0), ((0, 0), (0, 1)), (0, 2)),
                    ((4, 4), (0, 0, 1, 0), ((1, 0), (0, 0)), (0, 2)),
                    ((4, 4), (0, 0, 0, 2), ((0, 2), (0, 0)), 5),
                    ((4, 4), (0, 0, 0, 2), ((0, 2), (0, 0)), slice(3, 5)),
                    ((4, 4), (3, 0, 0, 0), ((0, 0), (3, 0)), (1, 0)),
                    ((4, 4), (3, 0, 0, 0), ((0, 0), (3, 0)), (1, slice(0, 4))),
                    ((4, 4), (3, 4, 1, 2), ((1, 2), (3, 4)), 0),
                    ((4, 4), (3, 4, 1, 2), ((1, 2), (3, 4)), (slice(None), 1)),
                    ((4, 4), (3, 4, 1, 2), ((1, 2), (3, 4)), (slice(None), 4)),
                    ((3, 3), (0, 3, 0, 0), ((0, 0), (0, 3)), (slice(None), slice(4, 6))),
                    ((3, 3), (0, 1, 3, 2), ((3, 2), (0, 1)), (slice(0, 2), slice(None))),
                    ((3, 3, 3), (1, 1, 0, 1, 3, 2), ((3, 2), (0, 1), (1, 1)), (slice(0, 2), slice(None), slice(None))),
                    ((3, 3, 3), (1, 1, 0, 1, 3, 2), ((3, 2), (0, 1), (1, 1)), (slice(2, 4), slice(None), slice(None)))):
                helper_test_op([shape], lambda x, p=p, i=index, v=value: tpad(x, p, value=v)[i],
                               lambda x, w=widths, i=index, v=value: x.pad(w, value=v)[i])

    def test_stack_slice(self):
        helper_test_op([(4)], lambda x: torch.stack([x for i in range(3)])[0, :],
                       lambda x: tg.stack([x for i in range(3)])[0, :])
        helper_test_op([(5)], lambda x: torch.stack([x for i in range(3)])[0, 0],
                       lambda x: tg.stack([x for i in range(3)])[0, 0])
        helper_test_op([(4, 4)], lambda x: torch.stack([x for i in range(4)])[3],
                       lambda x: tg.stack([x for i in range(4)])[3])

    def test_transpose(self):  # PyTorch's two-axis transpose is our swapaxes (NumPy's transpose permutes)
        helper_test_op([(3, 3)], lambda x: x.T)
        helper_test_op([(3, 3, 3)], lambda x: x.transpose(1, 2), lambda x: x.swapaxes(1, 2))
        helper_test_op([(3, 3, 3)], lambda x: x.transpose(0, 2), lambda x: x.swapaxes(0, 2))

    def test_permute(self):
        helper_test_op([(1, 2, 3, 4)], lambda x: x.permute((3, 0, 2, 1)))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.permute((3, 2, 1, 0)))
        helper_test_op([(3, 4, 5, 6)], lambda x: x.permute((-2, -1, 1, 0)))
        helper_test_op([()], lambda x: x.permute(()))
        helper_test_exception([(3, 4, 5, 6)], lambda x: x.permute((0, 2)), expected=RuntimeError)
        helper_test_exception([(3, 4, 5, 6)], lambda x: x.permute((0, 1, 2, 3, 3, 3)), expected=RuntimeError)
        helper_test_exception([(3, 4, 5, 6)], lambda x: x.permute((0, 0, 1, 2, 3)), expected=RuntimeError)

    def test_reshape(self):
        helper_test_op([(4, 3, 6, 6)], lambda x: x.reshape((12, 6, 6)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.reshape((-1, 3, 6, 6)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.reshape((-1, 1, 6, 6)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.reshape((4, 3, 6, 6)))  # tinygrad's (None, None, 6, 6) form left out
        helper_test_op([()], lambda x: x.reshape(()))
        helper_test_op([(1,)], lambda x: x.reshape(()))
        helper_test_op([()], lambda x: x.reshape((1,)))
        helper_test_op([()], lambda x: x.reshape((1, 1, 1)))
        helper_test_exception([(3, 4)], lambda x: x.reshape((-1, -1, 2)), expected=RuntimeError)
        helper_test_exception([(3, 4)], lambda x: x.reshape((-1, -1, -1, 2)), expected=RuntimeError)

        with pytest.raises(ValueError):
            x = tg.ones((4, 3, 6, 6))
            x.reshape([])

    def test_view(self):  # PyTorch's view(shape) is our reshape
        helper_test_op([(4, 3, 6, 6)], lambda x: x.view((12, 6, 6)), lambda x: x.reshape((12, 6, 6)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.view((-1, 3, 6, 6)), lambda x: x.reshape((-1, 3, 6, 6)))
        helper_test_op([(6,)], lambda x: x.view(2, 3), lambda x: x.reshape(2, 3))
        helper_test_op([(6, 1)], lambda x: x.view([2, 3]), lambda x: x.reshape([2, 3]))
        helper_test_op([(1, 6)], lambda x: x.view((3, 2)), lambda x: x.reshape((3, 2)))
        helper_test_op([(3, 2)], lambda x: x.view((2, 3)), lambda x: x.reshape((2, 3)))
        helper_test_op([(3, 2)], lambda x: x.view(6), lambda x: x.reshape(6))

    def test_flip(self):
        helper_test_op([(4, 3, 6, 6)], lambda x: x.flip((0,)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.flip((0, 1)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.flip((0, 1, 3)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.flip((3,)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.flip((0, 1, 3)).flip(0))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.flip((-1,)))
        helper_test_op([()], lambda x: x.flip(()))
        helper_test_op([(1,)], lambda x: x.flip(()))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.flip(()))
        helper_test_exception([(3, 4)], lambda x: x.flip((0, 0)), expected=RuntimeError)
        helper_test_exception([(3, 4)], lambda x: x.flip((1, 1)), expected=RuntimeError)
        helper_test_exception([(3, 4)], lambda x: x.flip((1, -1)), expected=RuntimeError)

    @fails("behaviour differences (NumPy's rule): by design, squeeze of an axis whose length is not 1 raises "
           "ValueError (NumPy's rule; PyTorch returns the tensor unchanged); also squeeze(0) and squeeze(-1) on "
           "a 0-d tensor are refused (PyTorch takes them), and an axis out of range raises ValueError where "
           "PyTorch raises IndexError")
    def test_squeeze(self):
        helper_test_op([(1, 3, 6, 6)], lambda x: x.squeeze(0))
        helper_test_op([(4, 3, 1, 6)], lambda x: x.squeeze(1))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.squeeze(3))
        helper_test_exception([(4, 3, 6, 6)], lambda x: x.squeeze(50), expected=IndexError)
        helper_test_op([(4, 3, 6, 1)], lambda x: x.squeeze(-1))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.squeeze())
        helper_test_op([(1, 3, 6, 6)], lambda x: x.squeeze())
        helper_test_op([(2, 3, 1)], lambda x: x.squeeze())
        helper_test_op([()], lambda x: x.squeeze(-1))
        helper_test_op([()], lambda x: x.squeeze(0))
        helper_test_op([()], lambda x: x.squeeze())
        helper_test_exception([()], lambda x: x.squeeze(10), expected=IndexError)
        helper_test_exception([()], lambda x: x.squeeze(1), expected=IndexError)
        helper_test_exception([()], lambda x: x.squeeze(-2), expected=IndexError)

    def test_unsqueeze(self):
        helper_test_op([(4, 3, 6, 6)], lambda x: x.unsqueeze(0))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.unsqueeze(4))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.unsqueeze(-1))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.unsqueeze(-3))
        helper_test_op([()], lambda x: x.unsqueeze(0))

    def test_flatten(self):
        for axis in range(3):
            helper_test_op([(4, 3, 6, 6)], lambda x, a=axis: x.flatten(start_dim=a))
        for axis in range(3):
            helper_test_op([(4, 3, 6, 6)], lambda x, a=axis: x.flatten(end_dim=a))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.flatten(start_dim=1, end_dim=3))
        helper_test_op([()], lambda x: x.flatten())
        helper_test_op([(1,)], lambda x: x.flatten())

    def test_unflatten(self):
        helper_test_op([(4, 3, 6, 6)], lambda x: x.unflatten(0, (2, 2)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.unflatten(3, (3, 2)))
        helper_test_op([(4, 3, 6, 6)], lambda x: x.unflatten(-1, (3, 2, 1)))

    def test_diag(self):
        helper_test_op([(5,)], lambda x: x.diag())

    def test_diagonal(self):  # (offset, dim1, dim2) by position: PyTorch's names, NumPy's axis1/axis2
        helper_test_op([(5, 5)], lambda x: x.diagonal())
        helper_test_op([(3, 4)], lambda x: x.diagonal())  # rectangular
        helper_test_op([(4, 3)], lambda x: x.diagonal())  # rectangular (other way)
        helper_test_op([(3, 3, 3)], lambda x: x.diagonal(0, -2, -1))  # batched
        helper_test_op([(4, 5, 6)], lambda x: x.diagonal(0, -2, -1))  # batched rectangular
        helper_test_op([(2, 3, 4, 5)], lambda x: x.diagonal(0, -2, -1))  # 4D batched
        helper_test_op([(5, 5)], lambda x: x.diagonal(offset=1))  # positive offset
        helper_test_op([(5, 5)], lambda x: x.diagonal(offset=-1))  # negative offset
        helper_test_op([(3, 5)], lambda x: x.diagonal(offset=2))  # offset on rectangular
        helper_test_exception([(3, 3)], lambda x: x.diagonal(0, 0, 0), expected=RuntimeError)

    def test_roll(self):  # (shifts, dims) by position: PyTorch's names, NumPy's shift/axis
        helper_test_op([(2, 4)], lambda x: x.roll(1))
        helper_test_op([(2, 4)], lambda x: x.roll((1,)))
        helper_test_op([(0,)], lambda x: x.roll(1, 0))
        helper_test_op([(2, 0, 3)], lambda x: x.roll(1, 0))
        helper_test_op([(2, 0, 3)], lambda x: x.roll(1, 1))
        helper_test_op([(2, 0, 3)], lambda x: x.roll(1))
        helper_test_exception([(2, 4)], lambda x: x.roll((1, 2)), expected=RuntimeError)
        helper_test_op([(2, 4)], lambda x: x.roll(1, 0))
        helper_test_op([(2, 4)], lambda x: x.roll(-1, 0))
        helper_test_op([(2, 4)], lambda x: x.roll((2, 1), (0, 1)))
        helper_test_op([(2, 4, 6)], lambda x: x.roll(1, 0))
        helper_test_op([(2, 4)], lambda x: x.roll(1, -1))
        helper_test_op([(2, 4)], lambda x: x.roll(-1, -1))
        helper_test_op([(2, 4)], lambda x: x.roll(5, 0))
        helper_test_op([(2, 4)], lambda x: x.roll(-5, 0))
        helper_test_op([(2, 4, 6)], lambda x: x.roll((2, -3), (0, 2)))
        helper_test_op([(2, 4, 6)], lambda x: x.roll((1, 2, -1), (0, 1, 2)))
        helper_test_op([(2, 4)], lambda x: x.roll(0, 0))
        helper_test_op([(2, 4, 6)], lambda x: x.roll((0, 0), (0, 1)))
        helper_test_op([(2, 4, 6)], lambda x: x.roll((0, 2), (0, 1)))
        helper_test_exception([(3, 3)], lambda x: x.roll(1, (0, 1)), expected=RuntimeError)
        helper_test_exception([(10,)], lambda x: x.roll((1, 2), 0), expected=RuntimeError)

    def test_detach(self):
        helper_test_op([(4, 3, 6, 6)], lambda x: x.detach(), forward_only=True)
        helper_test_op([()], lambda x: x.detach(), forward_only=True)

    def test_expand(self):  # PyTorch's expand is our broadcast_to
        helper_test_op([(4, 3, 1, 6)], lambda x: x.expand((4, 3, 2, 6)), lambda x: x.broadcast_to((4, 3, 2, 6)))
        helper_test_op([(1, 1, 1, 1)], lambda x: x.expand((4, 3, 2, 6)), lambda x: x.broadcast_to((4, 3, 2, 6)))
        helper_test_op([(4, 3, 1, 6)], lambda x: x.expand((6, 1, 4, 3, 2, 6)),
                       lambda x: x.broadcast_to((6, 1, 4, 3, 2, 6)))
        helper_test_op([(4, 3, 1, 6)], lambda x: x.expand((0, 1, 4, 3, 2, 6)),
                       lambda x: x.broadcast_to((0, 1, 4, 3, 2, 6)))
        helper_test_op([(4, 3, 1, 6)], lambda x: x.expand((4, 3, 0, 6)), lambda x: x.broadcast_to((4, 3, 0, 6)))
        helper_test_op([()], lambda x: x.expand((4, 3, 2, 6)), lambda x: x.broadcast_to((4, 3, 2, 6)))
        helper_test_op([()], lambda x: x.expand([]), lambda x: x.broadcast_to([]))

        with pytest.raises((ValueError, RuntimeError)):
            tg.ones(4, 3, 1, 6).broadcast_to((4, 1, 1, 6))
        with pytest.raises((ValueError, RuntimeError)):
            tg.ones(4, 3, 1, 6).broadcast_to((4, 6, 1, 6))
        with pytest.raises((ValueError, RuntimeError)):
            tg.ones(4, 3, 1, 6).broadcast_to((3, 1, 6))
        with pytest.raises((ValueError, RuntimeError)):
            tg.ones(4, 3, 2, 6).broadcast_to((4, 3, 0, 6))

    # ---- convolution (tinygrad's Tensor.conv2d is n-dimensional: our F.conv1d, F.conv2d, F.conv3d) ----------
    @slow  # upstream skips it as very slow; it applies, so it runs here
    def test_sd_big_conv(self):
        # internal shape (1, 1, 512, 62, 62, 512, 3, 3) overflows a int
        helper_test_op([(1, 256, 64, 64), (512, 256, 3, 3)], lambda x, w: torch.nn.functional.conv2d(x, w),
                       lambda x, w: F.conv2d(x, w), atol=1e-3)

    @slow  # upstream skips it as slow; it applies, so it runs here
    def test_large_bs_conv(self):
        # large batch size can cause OpenCL image to exceed max image height on macOS
        helper_test_op([(4096, 3, 3, 3), (1, 3, 3, 3)], lambda x, w: torch.nn.functional.conv2d(x, w),
                       lambda x, w: F.conv2d(x, w), atol=1e-3)

    @slow  # upstream skips it as slow; it applies, so it runs here
    def test_large_ic_conv(self):
        # large input channel count can cause OpenCL image to exceed max image width on macOS
        helper_test_op([(1, 2048, 3, 3), (1, 2048, 3, 3)], lambda x, w: torch.nn.functional.conv2d(x, w),
                       lambda x, w: F.conv2d(x, w))

    def test_biased_conv2d(self):
        C = 8
        helper_test_op([(1, C, 5, 5), (C, C, 1, 1), (C,)],
                       lambda x, w, b: torch.nn.functional.conv2d(torch.nn.functional.conv2d(x, w, b).relu(), w, b),
                       lambda x, w, b: F.conv2d(F.conv2d(x, w, b).relu(), w, b))

    def test_simple_conv2d(self):
        helper_test_op([(1, 4, 9, 9), (4, 4, 3, 3)], lambda x, w: torch.nn.functional.conv2d(x, w),
                       lambda x, w: F.conv2d(x, w), grad_rtol=1e-5)

    def test_simple_conv2d_bias(self):
        helper_test_op([(1, 4, 9, 9), (4, 4, 3, 3), (4,)], lambda x, w, b: torch.nn.functional.conv2d(x, w, b),
                       lambda x, w, b: F.conv2d(x, w, b), grad_rtol=1e-5)

    @slow
    def test_simple_conv3d(self):
        helper_test_op([(1, 4, 9, 9, 9), (4, 4, 3, 3, 3)], lambda x, w: torch.nn.functional.conv3d(x, w),
                       lambda x, w: F.conv3d(x, w), grad_rtol=1e-5)

    @slow
    def test_padded_conv3d(self):  # tinygrad's padding=[1,1,1,1,1,1] is symmetric: padding=1
        helper_test_op([(1, 4, 5, 5, 5), (4, 4, 3, 3, 3)], lambda x, w: torch.nn.functional.conv3d(x, w, padding=1),
                       lambda x, w: F.conv3d(x, w, padding=1), grad_rtol=1e-5)

    def test_simple_conv2d_m4(self):
        helper_test_op([(1, 16, 9, 9), (16, 16, 3, 3)], lambda x, w: torch.nn.functional.conv2d(x, w),
                       lambda x, w: F.conv2d(x, w), atol=1e-05, grad_rtol=1e-5)

    def test_simple_conv2d_1x1(self):
        helper_test_op([(1, 4, 9, 9), (4, 4, 1, 1)], lambda x, w: torch.nn.functional.conv2d(x, w),
                       lambda x, w: F.conv2d(x, w), grad_rtol=1e-5)

    def test_simple_conv2d_1x1_m4(self):
        helper_test_op([(1, 16, 32, 32), (16, 16, 1, 1)], lambda x, w: torch.nn.functional.conv2d(x, w),
                       lambda x, w: F.conv2d(x, w), grad_rtol=1e-5)

    @slow
    def test_nested_conv2d(self):
        helper_test_op([(1, 32, 9, 9), (32, 32, 3, 3), (32, 32, 3, 3)],
                       lambda x, w1, w2: torch.nn.functional.conv2d(torch.nn.functional.conv2d(x, w1).relu(), w2),
                       lambda x, w1, w2: F.conv2d(F.conv2d(x, w1).relu(), w2))

    # expect reduce nodes == 3
    def test_simple_conv2d_nhwc(self):
        # weights (from tf): filter_height x filter_width x in_channels x out_channels
        helper_test_op([(2, 9, 9, 10), (3, 3, 10, 20)],
                       lambda x, w: torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1)),
                       lambda x, w: F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1)), atol=1e-5, grad_rtol=1e-5)

    def test_simple_conv2d_batched(self):
        helper_test_op([(2, 4, 9, 9), (4, 4, 3, 3)], lambda x, w: torch.nn.functional.conv2d(x, w),
                       lambda x, w: F.conv2d(x, w), grad_rtol=1e-5)

    # conv transpose

    def test_simple_conv_transpose2d(self):
        helper_test_op([(2, 4, 9, 9), (4, 4, 3, 3)], lambda x, w: torch.nn.functional.conv_transpose2d(x, w),
                       lambda x, w: F.conv_transpose2d(x, w), grad_rtol=1e-5)

    def test_bias_conv_transpose2d(self):
        helper_test_op([(2, 4, 9, 9), (4, 4, 3, 3), (4,)], lambda x, w,
                       b: torch.nn.functional.conv_transpose2d(x, w, b),
                       lambda x, w, b: F.conv_transpose2d(x, w, b), grad_rtol=1e-5)

    def test_grouped_conv_transpose2d(self):
        helper_test_op([(2, 4, 9, 9), (4, 4, 3, 3)], lambda x, w: torch.nn.functional.conv_transpose2d(x, w, groups=2),
                       lambda x, w: F.conv_transpose2d(x, w, groups=2), grad_rtol=1e-5)

    @slow
    def test_padded_conv_transpose2d(self):
        for padding in [(1, 2), (2, 1), 2, 1, 0]:
            helper_test_op([(2, 4, 9, 9), (4, 4, 3, 3)],
                           lambda x, w, p=padding: torch.nn.functional.conv_transpose2d(x, w, padding=p),
                           lambda x, w, p=padding: F.conv_transpose2d(x, w, padding=p), grad_rtol=1e-5)
        helper_test_exception([(2, 16, 2, 2), (32, 16, 3, 3)],
                              lambda x, w: torch.nn.functional.conv_transpose2d(x, w, padding=(1, 1, 1)),
                              lambda x, w: F.conv_transpose2d(x, w, padding=(1, 1, 1)),
                              expected=(RuntimeError, ValueError))

    @slow
    def test_dilated_conv_transpose2d(self):
        for dilation in [(1, 2), (2, 1), 2, 1]:
            helper_test_op([(2, 4, 9, 9), (4, 4, 3, 3)],
                           lambda x, w, d=dilation: torch.nn.functional.conv_transpose2d(x, w, dilation=d),
                           lambda x, w, d=dilation: F.conv_transpose2d(x, w, dilation=d), grad_rtol=1e-5)

    def test_strided_conv_transpose2d(self):
        for stride in [(2, 1), (1, 2), 1]:
            helper_test_op([(2, 4, 4, 5), (4, 4, 3, 3)],
                           lambda x, w, s=stride: torch.nn.functional.conv_transpose2d(x, w, stride=s),
                           lambda x, w, s=stride: F.conv_transpose2d(x, w, stride=s), atol=1e-5, grad_rtol=1e-5)

    @slow
    def test_output_padded_conv_transpose2d(self):
        for output_padding, stride in [((1, 1), (2, 3)), ((2, 1), (3, 2))]:
            helper_test_op([(2, 4, 6, 5), (4, 4, 3, 3), (4,)],
                           lambda x, w, b, o=output_padding, s=stride: torch.nn.functional.conv_transpose2d(
                               x, w, b, output_padding=o, stride=s),
                           lambda x, w, b, o=output_padding, s=stride: F.conv_transpose2d(x, w, b, output_padding=o,
                                                                                          stride=s), grad_rtol=1e-5)

    @slow
    def test_simple_conv_transpose3d(self):
        helper_test_op([(2, 4, 9, 9, 9), (4, 4, 3, 3, 3)], lambda x, w: torch.nn.functional.conv_transpose3d(x, w),
                       lambda x, w: F.conv_transpose3d(x, w), grad_rtol=1e-5)

    def test_conv1d(self):
        for bs in [1, 8]:
            for cin in [1, 3]:
                for H in [1, 2, 5]:
                    for groups in [1, 3] if cin == 3 and H == 5 else [1]:
                        helper_test_op([(bs, cin, 11), (6, cin // groups, H)],
                                       lambda x, w, g=groups: torch.nn.functional.conv1d(x, w, groups=g),
                                       lambda x, w, g=groups: F.conv1d(x, w, groups=g), grad_rtol=1e-5)

    def test_simple_padding_conv1d(self):  # tinygrad's padding=(1,1) is (left, right): symmetric, padding=1
        bs = 6
        cin = 2
        groups = 1
        H = 5
        p = (1, 1)
        helper_test_op([(bs, cin, 11), (6, cin // groups, H)],
                       lambda x, w: torch.nn.functional.conv1d(torch.nn.functional.pad(x, p), w),
                       lambda x, w: F.conv1d(x, w, padding=1))

    def test_strided_conv1d_simple(self):
        bs, H = 2, 3
        helper_test_op([(bs, 1, 5), (1, 1, H)], lambda x, w: torch.nn.functional.conv1d(x, w, stride=2),
                       lambda x, w: F.conv1d(x, w, stride=2))

    def test_asymmetric_padding_conv1d(self):  # (left, right) padding, as tinygrad takes it
        for p in [(0, 1), (2, 1), (2, 0)]:
            for n in [3, 4]:
                for k in [2]:
                    helper_test_op([(1, 1, n), (1, 1, k)],
                                   lambda x, w, p=p: torch.nn.functional.conv1d(torch.nn.functional.pad(x, p), w),
                                   lambda x, w, p=p: F.conv1d(x, w, padding=p))

    def _test_conv2d(self, bs=1, cin=1, cout=6):
        for H in [2, 3]:
            for W in [1, 3, 5]:
                for groups in [1, 3] if cin == 3 and cout == 6 and H == 3 and W == 3 else [1]:
                    helper_test_op([(bs, cin, 5, 7), (cout, cin // groups, H, W)],
                                   lambda x, w, g=groups: torch.nn.functional.conv2d(x, w, groups=g),
                                   lambda x, w, g=groups: F.conv2d(x, w, groups=g), grad_rtol=1e-5)

    def test_conv2d(self):
        self._test_conv2d(bs=1, cin=3)

    # upstream skips it as redundant; it applies, so it runs here
    def test_conv2d_bs_4_cin_3(self):
        self._test_conv2d(bs=4, cin=3, cout=2)

    def test_conv2d_bs_1_cin_1(self):
        self._test_conv2d(bs=1, cin=1)

    # upstream skips it as redundant; it applies, so it runs here
    def test_conv2d_bs_4_cin_1(self):
        self._test_conv2d(bs=4, cin=1)

    def test_conv2d_errors(self):
        # kernel size cannot be larger than input size
        helper_test_exception([(1, 1, 6, 7), (6, 1, 3, 3)], lambda x, w: torch.nn.functional.conv2d(x, w, dilation=3),
                              lambda x, w: F.conv2d(x, w, dilation=3), expected=(RuntimeError, AssertionError))
        # regression test for https://github.com/tinygrad/tinygrad/pull/7549/
        helper_test_exception([(2, 16, 2, 2), (32, 16, 3, 3)], lambda x, w: torch.nn.functional.conv2d(x, w),
                              lambda x, w: F.conv2d(x, w), expected=(RuntimeError, AssertionError))
        helper_test_exception([(2, 16, 2, 2), (32, 16, 3, 3)],
                              lambda x, w: torch.nn.functional.conv2d(x, w, padding=(1, 1, 1)),
                              lambda x, w: F.conv2d(x, w, padding=(1, 1, 1)), expected=(RuntimeError, ValueError))

    @slow
    def test_large_input_conv2d(self):
        bs = 4
        cin = 16
        groups = 1
        H = 5
        W = 2
        helper_test_op([(bs, cin, 64, 64), (6, cin // groups, H, W)],
                       lambda x, w: torch.nn.functional.conv2d(x, w, groups=groups),
                       # needed to relax tolerance for larger input
                       lambda x, w: F.conv2d(x, w, groups=groups), atol=1e-4, grad_atol=3e-4, grad_rtol=1e-4)

    def _grouped(self, bs, groups, rcout, cin, size, kernel):
        helper_test_op([(bs, groups * cin, size, size), (groups * rcout, cin, kernel, kernel)],
                       lambda x, w: torch.nn.functional.conv2d(x, w, groups=groups),
                       lambda x, w: F.conv2d(x, w, groups=groups), grad_rtol=1e-5)

    def test_simple_grouped_conv2d(self):
        self._grouped(bs=1, groups=2, rcout=1, cin=2, size=1, kernel=1)

    def test_medium_grouped_conv2d(self):
        self._grouped(bs=1, groups=2, rcout=2, cin=2, size=1, kernel=1)

    def test_depthwise_conv2d(self):
        self._grouped(bs=1, groups=32, rcout=1, cin=1, size=32, kernel=1)

    def test_grouped_conv2d(self):
        self._grouped(bs=4, groups=5, rcout=7, cin=3, size=5, kernel=3)

    def test_fancy_conv2d(self):
        bs = 2
        cin = 3
        cout = 1
        groups = 3
        H, W = 3, 3
        helper_test_op([(bs, cin, 11, 28), (groups * cout, cin // groups, H, W)],
                       lambda x, w: torch.nn.functional.conv2d(x, w, groups=groups),
                       lambda x, w: F.conv2d(x, w, groups=groups), grad_rtol=1e-5)

    @slow
    def test_strided_conv2d_simple(self):
        bs, H, W = 2, 3, 1
        helper_test_op([(bs, 1, 5, 1), (1, 1, H, W)], lambda x, w: torch.nn.functional.conv2d(x, w, stride=2),
                       lambda x, w: F.conv2d(x, w, stride=2))

    @not_applicable("reruns test_strided_conv2d_simple under tinygrad's LLVM backend with DEVECTORIZE=0, a compiler "
                    "setting; there is no compiler here")
    def test_strided_conv2d_simple_vec(self):
        pass

    @slow
    def test_strided_conv2d(self):
        bs = 4
        cin = 3
        H, W = 3, 3
        for stride in (2, (2, 1)):
            helper_test_op([(bs, cin, 11, 28), (4, cin, H, W)],
                           lambda x, w, s=stride: torch.nn.functional.conv2d(x, w, stride=s),
                           lambda x, w, s=stride: F.conv2d(x, w, stride=s))

    def test_negative_padding_conv2d(self):
        n, k = 10, 3
        helper_test_op([(1, 1, n, n), (1, 1, k, k)], lambda x, w: torch.nn.functional.conv2d(x[:, :, 1:-1, 1:-1], w),
                       lambda x, w: F.conv2d(x, w, padding=-1))
        helper_test_op([(1, 1, n, n), (1, 1, k, k)], lambda x, w: torch.nn.functional.conv2d(x[:, :, 1:, 1:], w),
                       lambda x, w: F.conv2d(x, w, padding=(-1, 0, -1, 0)))

    def test_simple_padding_conv2d(self):  # tinygrad's padding=(1,1,1,1) is symmetric: padding=1
        p = (1, 1, 1, 1)
        helper_test_op(None, lambda x, w: torch.nn.functional.conv2d(torch.nn.functional.pad(x, p), w),
                       lambda x, w: F.conv2d(x, w, padding=1), vals=[[[[[2., 3.]]]], [[[[1.]]]]])

    def test_asymmetric_padding_conv2d(self):  # (left, right, top, bottom) padding, as tinygrad takes it
        for p in [(0, 1, 0, 1), (2, 1, 2, 1), (2, 0, 2, 1)]:
            for n in [3, 4]:
                for k in [2]:
                    helper_test_op([(1, 1, n, n), (1, 1, k, k)],
                                   lambda x, w, p=p: torch.nn.functional.conv2d(torch.nn.functional.pad(x, p), w),
                                   lambda x, w, p=p: F.conv2d(x, w, padding=p))

    def _padded_conv2d(self, bs, cin, H, W, padding):
        helper_test_op([(bs, cin, 11, 28), (4, cin, H, W)],
                       lambda x, w: torch.nn.functional.conv2d(x, w, padding=padding),
                       lambda x, w: F.conv2d(x, w, padding=padding))

    def test_padded_conv2d_p21(self):
        self._padded_conv2d(4, 3, 3, 3, (2, 1))

    def test_padded_conv2d_p22(self):
        self._padded_conv2d(4, 3, 3, 3, (2, 2))

    def test_padded_conv2d_1x1(self):
        self._padded_conv2d(4, 3, 1, 1, 2)

    def test_padded_conv2d_bs1(self):
        self._padded_conv2d(1, 3, 3, 3, 1)

    def test_padding_add(self):
        helper_test_op([(64, 64), (60, 60)], lambda x, w: x + torch.nn.functional.pad(w, (2, 2, 2, 2)),
                       lambda x, w: x + F.pad(w, (2, 2, 2, 2)))

    def test_dilated_conv2d(self):
        bs = 4
        cin = 3
        H, W = 3, 3
        for d in [2, (2, 1)]:
            helper_test_op([(bs, cin, 11, 28), (4, cin, H, W)],
                           lambda x, w, d=d: torch.nn.functional.conv2d(x, w, dilation=d),
                           lambda x, w, d=d: F.conv2d(x, w, dilation=d))

    # ---- pooling ---------------------------------------------------------------------------------------------
    @staticmethod
    def _max_pool(shape, **kwargs):
        helper_test_op([shape], lambda x: torch.nn.functional.max_pool2d(x, **kwargs),
                       lambda x: F.max_pool2d(x, **kwargs))

    @staticmethod
    def _avg_pool(shape, rtol=1e-3, **kwargs):
        helper_test_op([shape], lambda x: torch.nn.functional.avg_pool2d(x, **kwargs),
                       lambda x: F.avg_pool2d(x, **kwargs), rtol=rtol)

    def test_max_pool2d_simple(self):
        self._max_pool((1, 1, 2, 3), kernel_size=(2, 2))

    @slow
    def test_max_pool2d(self):
        for ksz in [2, (3, 3), (3, 2), (5, 5), (5, 1)]:
            self._max_pool((32, 2, 11, 28), kernel_size=ksz)

    @slow
    def test_max_pool2d_padding(self):
        for ksz in [(3, 3), 2, (3, 2)]:
            for p in [1, (1, 0), (0, 1)]:
                self._max_pool((4, 2, 11, 28), kernel_size=ksz, padding=p)
        helper_test_exception([(4, 2, 110, 28)],
                              lambda x: torch.nn.functional.max_pool2d(x, kernel_size=(2, 2), padding=(1, 1, 1)),
                              lambda x: F.max_pool2d(x, kernel_size=(2, 2), padding=(1, 1, 1)),
                              expected=(RuntimeError, ValueError))

    @slow
    def test_max_pool2d_asymmetric_padding(self):  # (left, right, top, bottom) padding, as tinygrad takes it
        for p in [(0, 1, 0, 1), (2, 1, 2, 1), (2, 0, 2, 1)]:
            helper_test_op([(4, 2, 111, 28)],
                           lambda x, p=p: torch.nn.functional.max_pool2d(
                               torch.nn.functional.pad(x, p, value=float("-inf")), kernel_size=(5, 5)),
                           lambda x, p=p: F.max_pool2d(x, kernel_size=(5, 5), padding=p))

    @slow
    def test_max_pool2d_padding_int(self):
        ksz = (2, 2)
        helper_test_op([(4, 2, 11, 28)], lambda x: torch.nn.functional.max_pool2d(x.int(), kernel_size=ksz, padding=1),
                       lambda x: F.max_pool2d(x.astype(np.int32), kernel_size=ksz, padding=1), forward_only=True)

    @slow
    def test_max_pool2d_bigger_stride(self):
        for stride in [(2, 3), (3, 2), 2, 3]:
            self._max_pool((4, 2, 11, 28), kernel_size=(2, 2), stride=stride)

    @slow
    def test_max_pool2d_bigger_stride_dilation(self):
        for stride, dilation in zip([(2, 3), (3, 2), 2, 3, 4], [(3, 2), (2, 3), 2, 3, 6], strict=True):
            self._max_pool((4, 2, 11, 28), kernel_size=(2, 2), stride=stride, dilation=dilation)

    def test_max_pool2d_unit_stride(self):
        self._max_pool((3, 2, 17, 14), kernel_size=(5, 5), stride=1)

    @slow
    def test_max_pool2d_smaller_stride(self):
        for stride in [(2, 3), (3, 2), 2, 3]:
            self._max_pool((3, 2, 17, 14), kernel_size=(5, 5), stride=stride)

    @slow
    def test_max_pool2d_dilation(self):
        for dilation in [(2, 3), (3, 2), 2, 3]:
            self._max_pool((3, 2, 17, 14), kernel_size=(5, 5), dilation=dilation)

    def test_max_pool2d_ceil_mode(self):
        for ksz in [(3, 3), (3, 2), 4]:
            self._max_pool((1, 1, 6, 6), kernel_size=ksz, padding=1, stride=3, ceil_mode=True)

    def test_max_pool2d_ceil_mode_output_size_reduce_by_one(self):
        # sliding window ignored from end region
        self._max_pool((1, 1, 5, 5), kernel_size=(3, 3), stride=3, padding=1, ceil_mode=True)

    def test_max_pool2d_return_indices(self):
        def indices(shape=None, vals=None, **kwargs):
            helper_test_op(None if shape is None else [shape],
                           lambda x: torch.nn.functional.max_pool2d(x, return_indices=True, **kwargs)[1],
                           lambda x: F.max_pool2d(x, return_indices=True, **kwargs)[1], vals=vals, forward_only=True)
        # batch and multi-channel
        indices((2, 3, 6, 6), kernel_size=(2, 2))
        # dilation
        indices((1, 1, 10, 10), kernel_size=(3, 2), dilation=(2, 3))
        # padding
        indices((1, 1, 5, 5), kernel_size=(3, 3), padding=1)
        # ceil mode padding
        indices((1, 1, 7, 7), kernel_size=(2, 2), stride=(2, 2), ceil_mode=True)
        # global maxpool
        indices((1, 1, 12, 13), kernel_size=(12, 13))
        # multiple identical values in same window and overlapping windows
        indices(vals=[[[[[1.] * 6] * 6]]], kernel_size=(3, 3), stride=1)  # Tensor.ones(1,1,6,6)
        # overlapping max indices
        indices(vals=[[[[[1., 2.] * 3] * 6]]], kernel_size=(2, 2), stride=1)  # Tensor([1,2,1,2,1,2]).expand(1,1,6,6)

    @slow
    def test_max_unpool2d(self):
        tf = torch.nn.functional
        args = {"kernel_size": (5, 5), "stride": (6, 5)}
        helper_test_op([(8, 3, 50, 50)],
                       lambda x: tf.max_unpool2d(*tf.max_pool2d(x, return_indices=True, **args), **args),
                       lambda x: F.max_unpool2d(*F.max_pool2d(x, return_indices=True, **args), **args),
                       forward_only=True)
        args = {"kernel_size": (3, 3), "stride": (6, 7), "padding": 1}
        helper_test_op([(8, 3, 30, 30)],
                       lambda x: tf.max_unpool2d(*tf.max_pool2d(x, return_indices=True, **args), **args,
                                                 output_size=(30, 30)),
                       lambda x: F.max_unpool2d(*F.max_pool2d(x, return_indices=True, **args), **args,
                                                output_size=(30, 30)), forward_only=True)
        # batch_size and channel_size of output_size are ignored
        helper_test_op([(1, 3, 7, 6)],
                       lambda x: tf.max_unpool2d(*tf.max_pool2d(x, kernel_size=(2, 2), return_indices=True),
                                                 kernel_size=(2, 2), output_size=(99, 99, 7, 6)),
                       lambda x: F.max_unpool2d(*F.max_pool2d(x, kernel_size=(2, 2), return_indices=True),
                                                kernel_size=(2, 2), output_size=(99, 99, 7, 6)), forward_only=True)

    def test_max_unpool2d_inf(self):
        data = [[[[math.inf, -math.inf, math.nan], [1.0, 2.0, 3.0]]]]
        ksz = (2, 2)
        tf = torch.nn.functional
        helper_test_op((),
                       lambda: tf.max_unpool2d(*tf.max_pool2d(torch.tensor(data), kernel_size=ksz, return_indices=True),
                                                   kernel_size=ksz),
                       lambda: F.max_unpool2d(*F.max_pool2d(T(data), kernel_size=ksz, return_indices=True),
                                              kernel_size=ksz), forward_only=True)

    @slow
    def test_avg_pool2d(self):
        for ksz in [2, (3, 3), (3, 2), (5, 5), (5, 1)]:
            self._avg_pool((32, 2, 11, 28), rtol=1e-5, kernel_size=ksz)
        # regression test for https://github.com/tinygrad/tinygrad/pull/7581
        self._avg_pool((1, 1, 8, 8), rtol=1e-5, kernel_size=(1, 2), padding=(0, 1), stride=(5, 1))

    @slow
    def test_avg_pool2d_padding(self):
        for ksz in [2, (3, 3), (3, 2)]:
            for p in [1, (1, 0), (0, 1)]:
                self._avg_pool((32, 2, 11, 28), rtol=1e-5, kernel_size=ksz, padding=p)
        with pytest.raises((ValueError, RuntimeError)):  # upstream's ValueError, or PyTorch's RuntimeError
            F.avg_pool2d(tg.randn(32, 2, 11, 28), kernel_size=(2, 2), padding=(1, 1, 1))

    def test_avg_pool2d_asymmetric_padding(self):
        shape = (32, 2, 11, 28)
        for _ in [(0, 1, 0, 1), (2, 1, 2, 1), (2, 0, 2, 1)]:  # upstream's loop passes padding=1 each time
            self._avg_pool(shape, rtol=1e-5, kernel_size=(5, 5), padding=1)
        helper_test_exception([shape],
                              lambda x: torch.nn.functional.avg_pool2d(x, kernel_size=(2, 2), padding=(1, 1, 1)),
                              lambda x: F.avg_pool2d(x, kernel_size=(2, 2), padding=(1, 1, 1)),
                              expected=(RuntimeError, ValueError))

    @slow
    def test_avg_pool2d_padding_not_counted(self):
        for ksz in [(3, 3), 2, (3, 2)]:
            self._avg_pool((32, 2, 11, 28), rtol=1e-5, kernel_size=ksz, padding=1, count_include_pad=False)

    def test_avg_pool2d_ceil_mode(self):
        for ksz in [(3, 3), (3, 2), 4]:
            self._avg_pool((1, 1, 6, 6), rtol=1e-5, kernel_size=ksz, padding=1, stride=3, ceil_mode=True)

    def test_avg_pool2d_ceil_mode_padding_not_counted(self):
        for ksz in [(3, 3), (3, 2), 4]:
            self._avg_pool((1, 1, 6, 6), rtol=1e-5, kernel_size=ksz, padding=1, stride=3, ceil_mode=True,
                           count_include_pad=False)

    def test_avg_pool2d_ceil_mode_output_size_reduce_by_one(self):
        # sliding window ignored from end region
        self._avg_pool((1, 1, 5, 5), kernel_size=(3, 3), stride=3, padding=1, ceil_mode=True)

    def test_avg_pool2d_ceil_mode_include_pad_output_size_reduce_by_one(self):
        # sliding window ignored from end region
        self._avg_pool((1, 1, 5, 5), kernel_size=(3, 3), stride=3, padding=1, ceil_mode=True, count_include_pad=True)

    def test_global_avg_pool2d(self):
        self._avg_pool((32, 2, 11, 28), rtol=1e-5, kernel_size=(11, 28))

    def test_avg_pool3d(self):
        helper_test_op([(1, 1, 16, 16, 16)],
                       lambda x: torch.nn.functional.avg_pool3d(x, kernel_size=(8, 8, 8), stride=5, padding=1,
                                                                count_include_pad=False),
                       lambda x: F.avg_pool3d(x, kernel_size=(8, 8, 8), stride=5, padding=1, count_include_pad=False),
                       atol=1e-6, rtol=1e-5, forward_only=True)

    # ---- resizing (tinygrad's mode="linear" is PyTorch's linear, bilinear or trilinear by the input's rank) ----
    @staticmethod
    def _interpolate(shape, out_sz, mode, ours_mode=None, atol=1e-6, **kwargs):
        helper_test_op([shape], lambda x: torch.nn.functional.interpolate(x, size=out_sz, mode=mode, **kwargs),
                       lambda x: F.interpolate(x, size=out_sz, mode=ours_mode or mode, **kwargs), atol=atol)

    def test_interpolate_linear(self):
        for in_sz, out_sz in [((52,), (29,)), ((29,), (52,))]:
            self._interpolate((2, 3) + in_sz, out_sz, "linear")

    def test_interpolate_linear_corners_aligned(self):
        for in_sz, out_sz in [((52,), (29,)), ((29,), (52,))]:
            self._interpolate((2, 3) + in_sz, out_sz, "linear", align_corners=True)

    def _interpolate_nearest(self, mode):
        for in_sz, out_sz in [((13,), (9,)), ((9,), (13,))]:
            self._interpolate((2, 3) + in_sz, out_sz, mode)
        for in_sz, out_sz in [((13, 10), (9, 11)), ((13, 9), (11, 10)), ((9, 11), (10, 13))]:
            self._interpolate((2, 3) + in_sz, out_sz, mode)
        for in_sz, out_sz in [((5, 2, 8), (3, 6, 4))]:
            self._interpolate((2, 3) + in_sz, out_sz, mode)

    def test_interpolate_nearest(self):
        self._interpolate_nearest("nearest")

    def test_interpolate_nearest_exact(self):
        self._interpolate_nearest("nearest-exact")

    @slow
    def test_interpolate_bilinear(self):
        for in_sz, out_sz in [((12, 20), (9, 31)), ((12, 9), (31, 20)), ((9, 31), (20, 12))]:
            self._interpolate((2, 3) + in_sz, out_sz, "bilinear", atol=1e-4)

    @slow
    def test_interpolate_bilinear_corners_aligned(self):
        for in_sz, out_sz in [((12, 20), (9, 31)), ((12, 9), (31, 20)), ((9, 31), (20, 12))]:
            self._interpolate((2, 3) + in_sz, out_sz, "bilinear", atol=1e-4, align_corners=True)

    def test_interpolate_trilinear(self):
        for in_sz, out_sz in [((5, 2, 8), (3, 6, 4))]:
            self._interpolate((2, 3) + in_sz, out_sz, "trilinear", atol=1e-4)

    def test_interpolate_trilinear_corners_aligned(self):
        for in_sz, out_sz in [((5, 2, 8), (3, 6, 4))]:
            self._interpolate((2, 3) + in_sz, out_sz, "trilinear", atol=1e-4, align_corners=True)

    @slow
    def test_cat(self):
        for dim in range(-2, 3):
            helper_test_op([(45, 65, 9), (45, 65, 9), (45, 65, 9)], lambda x, y, z, d=dim: torch.cat((x, y, z), d),
                           lambda x, y, z, d=dim: tg.concatenate([x, y, z], axis=d))

        # zero in non-cat axis
        helper_test_op([(45, 0, 9), (45, 0, 9), (45, 0, 9)], lambda x, y, z: torch.cat((x, y, z), 0),
                       lambda x, y, z: tg.concatenate([x, y, z], axis=0))

        # zero in cat axis
        helper_test_op([(45, 0, 9), (45, 1, 9), (45, 2, 9)], lambda x, y, z: torch.cat((x, y, z), 1),
                       lambda x, y, z: tg.concatenate([x, y, z], axis=1))
        helper_test_op([(45, 0, 9), (45, 0, 9), (45, 0, 9)], lambda x, y, z: torch.cat((x, y, z), 1),
                       lambda x, y, z: tg.concatenate([x, y, z], axis=1))

        with pytest.raises((IndexError, RuntimeError)):  # upstream's IndexError, or PyTorch's RuntimeError
            a = T(3.14)
            tg.concatenate([a, a])

    def test_multicat(self):
        for dim in range(-1, 2):
            helper_test_op([(45, 65), (45, 65), (45, 65)], lambda x, y, z, d=dim: torch.cat((x, y, z), d),
                           lambda x, y, z, d=dim: tg.concatenate([x, y, z], axis=d))

    def test_stack(self):
        for dim in range(-1, 3):
            for _ in range(2):  # upstream: Tensor.stack(x, y, z) and Tensor.stack((x, y, z)); ours takes a sequence
                helper_test_op([(5, 6, 3), (5, 6, 3), (5, 6, 3)], lambda x, y, z, d=dim: torch.stack((x, y, z), d),
                               lambda x, y, z, d=dim: tg.stack((x, y, z), axis=d))

        with pytest.raises(IndexError):
            tg.stack([tg.randn(45, 65, 3)], axis=77)
        with pytest.raises((ValueError, TypeError)):  # upstream's ValueError, or PyTorch's TypeError
            tg.stack((T([1, 2]), T([3, 4])), T([5, 6]))

        np.testing.assert_allclose(tg.stack([T(3.14), T(3.14)]).numpy(), np.array([3.14, 3.14]))

    def test_stack_max(self):
        helper_test_op(None, lambda x, y: torch.stack((x, y)).max(axis=0)[0], lambda x, y: tg.stack([x, y]).max(axis=0),
                       vals=[[1.], [2.]])

    @fails("behaviour differences (NumPy's rule): by design, tile with fewer reps than dimensions prepends 1s "
           "(NumPy's rule) where PyTorch's repeat raises; every tiling holds")
    def test_repeat(self):  # PyTorch's repeat is NumPy's (and our) tile
        x = tg.randn(4, 6, 3)
        base_repeats = [2, 4, 3]

        for reps in [[], [4], [2, 1], [3, 2, 2]]:
            repeats = base_repeats + reps
            helper_test_op([(4, 6, 3)], lambda x, r=repeats: x.repeat(*r), lambda x, r=repeats: x.tile(r))
            helper_test_op([()], lambda x, r=repeats: x.repeat(*r), lambda x, r=repeats: x.tile(r))

        with pytest.raises(ValueError):
            x.tile((2, 4))

        np.testing.assert_allclose(x.tile((2, 0, 4)).numpy(), tg.zeros(8, 0, 12).numpy())

    def test_repeat_interleave(self):
        helper_test_op([(3, 3)], lambda x: x.repeat_interleave(6))
        helper_test_op([(3, 3)], lambda x: x.repeat_interleave(2, 1))
        helper_test_op([(3, 3)], lambda x: x.repeat_interleave(2, 0))
        helper_test_op([(3, 3)], lambda x: x.repeat_interleave(2, -1))
        helper_test_op([(3, 3)], lambda x: x.repeat_interleave(2, -2))

    def test_simple_repeat(self):
        repeats = [3, 3, 4]
        helper_test_op([(3, 3)], lambda x: x.repeat(*repeats), lambda x: x.tile(repeats))

    def test_clip(self):
        helper_test_op([(45, 65)], lambda x: x.clip(-2.3, 1.2))
        # NOTE: torch set backward to 1 at the boundaries
        helper_test_op(None, lambda x: x.clip(-2.5, 1.5), vals=[[-3.0, -2.5, 0, 1.5, 2]])
        helper_test_op([(45, 65)], lambda x: x.clip(0, 0))
        helper_test_op([(45, 65)], lambda x: x.clip(10, 100))
        helper_test_op([(45, 65)], lambda x: x.clip(0, 0.1))
        helper_test_op([(45, 65)], lambda x: x.clip(-0.3, -0.2))
        helper_test_op([(45, 65)], lambda x: x.clip(3, 0))  # min > max
        helper_test_op([(45, 65)], lambda x: x.clip(None, 0))
        helper_test_op([(45, 65)], lambda x: x.clip(0, None))
        helper_test_exception([(45, 65)], lambda x: x.clip(None, None), expected=RuntimeError)

    def test_matvecmat(self):
        helper_test_op([(1, 128), (128, 128), (128, 128)], lambda x, y, z: (x @ y).relu() @ z)

    def test_matvec(self):
        helper_test_op([(1, 128), (128, 128)], lambda x, y: (x @ y).relu())

    # upstream skips it ("this test is broken #862"); it applies, so it runs here
    def test_max_nan(self):
        n = T([1, float("nan")]).max().numpy()
        assert math.isnan(n.item()), f"{n.item()} is not nan"

    def test_inf_where(self):
        x = tg.full((3, 3), float("inf"))
        n = tg.where(x < 0, x, 1).numpy()
        assert np.all(n == 1.)

    # ---- indexing --------------------------------------------------------------------------------------------
    def _get_index_randoms(self):
        # indices cannot have gradient
        gen = torch.Generator().manual_seed(0)
        a = torch.randint(low=-1, high=1, size=(2, 1, 1, 1, 1, 1), dtype=torch.int64, generator=gen)
        b = torch.randint(high=1, size=(1, 3, 1, 1, 1, 1), dtype=torch.int64, generator=gen)
        c = torch.randint(low=-5, high=5, size=(1, 1, 4, 1, 1, 1), dtype=torch.int64, generator=gen)
        d = torch.randint(high=4, size=(2, 1, 1, 5, 1, 1), dtype=torch.int64, generator=gen)
        e = torch.randint(high=1, size=(1, 1, 1, 1, 6, 1), dtype=torch.int64, generator=gen)
        i, j, k, o, p = [tg.Tensor(tor.numpy().astype(np.int32), dtype=np.int32) for tor in [a, b, c, d, e]]
        return a, b, c, d, e, i, j, k, o, p

    def test_fancy_indexing_inf(self):
        data = [math.inf, -math.inf, math.nan]
        helper_test_op((), lambda: torch.tensor(data)[torch.tensor([0, 1, 2])], lambda: T(data)[T([0, 1, 2])])

    @slow
    def test_slice_fancy_indexing_no_dim_collapse(self):
        a, b, c, d, e, i, j, k, o, p = self._get_index_randoms()
        # no dim collapse from int or dim injection from None
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, b, c, d, e], lambda x: x[i, j, k, o, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[:, b, c, d, :], lambda x: x[:, j, k, o, :])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, b, ...], lambda x: x[i, j, ...])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, ..., e], lambda x: x[i, ..., p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[..., c, :, e], lambda x: x[..., k, :, p])

    @fails("behaviour differences (NumPy's rule): x[1, :, 3:11:2, d, 0:2] follows NumPy's rule (an int and an "
           "index array split by a slice put the index's axes first); PyTorch keeps them in place")
    @slow
    def test_slice_fancy_indexing_dim_collapse_int(self):
        a, b, c, d, e, i, j, k, o, p = self._get_index_randoms()
        # dim collapse from int
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[1, b, c, d, e], lambda x: x[1, j, k, o, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, b, 3, d, e], lambda x: x[i, j, 3, o, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[1, b, 2, d, 2], lambda x: x[1, j, 2, o, 2])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, 2, 2, 2, e], lambda x: x[i, 2, 2, 2, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[1, :, 3:11:2, d, 0:2], lambda x: x[1, :, 3:11:2, o, 0:2])

    @slow
    def test_slice_fancy_indexing_dim_inject_none(self):
        a, b, c, d, e, i, j, k, o, p = self._get_index_randoms()
        # dim injection from None
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[None, b, c, d, e], lambda x: x[None, j, k, o, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, b, c, d, None], lambda x: x[i, j, k, o, None])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, b, None, d, e], lambda x: x[i, j, None, o, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[None, b, c, d, None], lambda x: x[None, j, k, o, None])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, :, None, d, e], lambda x: x[i, :, None, o, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[None, None, None, None, None])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[None, None, b, c, d, e], lambda x: x[None, None, j, k, o, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[None, None, b, c, None, None],
                       lambda x: x[None, None, j, k, None, None])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, None, None, c, d, e], lambda x: x[i, None, None, k, o, p])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, None, None, c, None, None],
                       lambda x: x[i, None, None, k, None, None])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[None, None, b, None, d, e],
                       lambda x: x[None, None, j, None, o, p])

    def test_slice_fancy_indexing_dim_inject_and_collapse(self):
        a, b, c, d, e, i, j, k, o, p = self._get_index_randoms()  # noqa
        # dim injection and collapse
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[1, b, None, d, 1], lambda x: x[1, j, None, o, 1])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[None, b, 2, d, None], lambda x: x[None, j, 2, o, None])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[..., 1, d, None], lambda x: x[..., 1, o, None])

    def test_slice_fancy_indexing_with_tensors(self):
        # indexing using idx with different dim
        helper_test_op([(2, 3)], lambda x: x[torch.tensor([[0, 0, 0], [0, 0, 0]]), torch.tensor(1)],
                       lambda x: x[T([[0, 0, 0], [0, 0, 0]]), T(1)])
        helper_test_op([(2, 3)], lambda x: x[torch.tensor([1]), torch.tensor([[0, 0, 0], [0, 0, 0]])],
                       lambda x: x[T([1]), T([[0, 0, 0], [0, 0, 0]])])
        helper_test_op([(2, 3)], lambda x: x[torch.tensor([[0, 0, 0], [0, 0, 0]]), torch.tensor([2, 1, 1])],
                       lambda x: x[T([[0, 0, 0], [0, 0, 0]]), T([2, 1, 1])])
        helper_test_op([(2, 3)], lambda x: x[torch.tensor([[0, 1, -1], [-1, -2, 0]]), torch.tensor([2, 1, -1])],
                       lambda x: x[T([[0, 1, -1], [-1, -2, 0]]), T([2, 1, -1])])

    @slow
    def test_slice_fancy_indexing_list_indices(self):
        a, b, c, d, e, i, j, k, o, p = self._get_index_randoms()
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[((0,),)])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(0,), b, c, d, :], lambda x: x[(0,), j, k, o, :])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[[[[0]]], b, c, d, [[1]]], lambda x: x[[[[0]]], j, k, o, [[1]]])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(1, 0, -1), b, c, d, :], lambda x: x[(1, 0, -1), j, k, o, :])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, b, c, (1, 2, 3), ...], lambda x: x[i, j, k, (1, 2, 3), ...])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, b, c, [[1], [2], [3]], ...],
                       lambda x: x[i, j, k, [[1], [2], [3]], ...])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, (2, 1, 0), c, (-2, 1, 0), e],
                       lambda x: x[i, (2, 1, 0), k, (-2, 1, 0), p])

    @slow
    def test_slice_fancy_indexing_tuple_indices(self):
        a, b, c, d, e, i, j, k, o, p = self._get_index_randoms()
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(((0,),),)], lambda x: x[(((0,),),)])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(0,), b, c, d, :], lambda x: x[(0,), j, k, o, :])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(1, 0), b, c, d, :], lambda x: x[(1, 0), j, k, o, :])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, b, c, (1, 2, 3), ...], lambda x: x[i, j, k, (1, 2, 3), ...])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[a, ((2,), (1,), (0,)), c, (2, 1, 0)],
                       lambda x: x[i, ((2,), (1,), (0,)), k, (2, 1, 0)])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[1, (2, 1, 0), None, c, (2, 1, 0), e],
                       lambda x: x[1, (2, 1, 0), None, k, (2, 1, 0), p])

    @slow
    def test_slice_fancy_indexing_list_with_tensors(self):
        a, b, c, d, e, i, j, k, o, p = self._get_index_randoms()
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(a,)], lambda x: x[(i,)])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(a, 1)], lambda x: x[(i, 1)])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(a, (1, 1))], lambda x: x[(i, (1, 1))])
        helper_test_op([(2, 5, 6, 5, 3, 4)], lambda x: x[(a, b, c, d, e)], lambda x: x[(i, j, k, o, p)])

    def test_slice_fancy_indexing_errors(self):
        a = tg.ones(10, 11, 12)
        # tensors used as indices must be int tensors
        with pytest.raises(IndexError):
            a[T(1.1)]
        with pytest.raises(IndexError):
            a[[1.1]]
        with pytest.raises(IndexError):
            a[T([True, False])]
        with pytest.raises(IndexError):
            a[[True, False]]
        # shape mismatch, cannot broadcast. either exception is okay (randint: PyTorch's (low, high, size))
        with pytest.raises((IndexError, ValueError)):
            a[tg.randint(0, 10, (3, 1, 1, 1)), tg.randint(0, 10, (1, 4, 1, 1)), tg.randint(0, 10, (2, 4, 4, 1))]
        with pytest.raises((IndexError, ValueError)):
            a[tg.randint(0, 10, (3, 1, 1, 1)), tg.randint(0, 10, (1, 4, 1, 1, 1))]
        # this is fine
        helper_test_op([(5, 6)], lambda x: x[[True, False, 2]])

    @staticmethod
    def _index(shape=(3, 4, 5), high=3, seed=0):
        b = torch.randint(high, size=shape, dtype=torch.int64, generator=torch.Generator().manual_seed(seed))
        return b, tg.Tensor(b.numpy().astype(np.int32), dtype=np.int32)

    def test_gather(self):  # PyTorch's gather(dim, index) is our take_along_axis(x, indices, axis)
        # indices cannot have gradient
        # indices cannot be negative (torch gather)
        b, a = self._index()
        for shape, dim in (((4, 5, 6), 0), ((4, 5, 6), 1), ((4, 5, 6), 2), ((3, 4, 5), 0), ((4, 5, 6), -1),
                           ((4, 5, 6), -2), ((4, 5, 6), -3)):
            helper_test_op([shape], lambda x, d=dim: x.gather(dim=d, index=b),
                           lambda x, d=dim: tg.take_along_axis(x, a, d))
        helper_test_exception([(4, 5, 6)], lambda x: x.gather(dim=0, index=torch.tensor([1], dtype=torch.int64)),
                              lambda x: tg.take_along_axis(x, T([1], dtype=np.int32), 0),
                              expected=(RuntimeError, AssertionError))
        helper_test_exception([(2, 1, 1)], lambda x: x.gather(dim=0, index=b), lambda x: tg.take_along_axis(x, a, 0),
                              expected=(RuntimeError, AssertionError))
        helper_test_op(None, lambda x: x.gather(dim=0, index=torch.tensor([2, 1, 0, 1, 2], requires_grad=False)),
                       lambda x: tg.take_along_axis(x, T([2, 1, 0, 1, 2]), 0), vals=[[1., 2., 3.]])
        # gather with inf values
        helper_test_op(None, lambda x: x.gather(dim=0, index=torch.tensor([2, 1, 0, 1, 2], requires_grad=False)),
                       lambda x: tg.take_along_axis(x, T([2, 1, 0, 1, 2]), 0), vals=[[-float("inf"), 2., 3.]])

    # PyTorch's scatter(dim, index, src or value, reduce=) and scatter_reduce(dim, index, src, reduce, include_self=),
    # called by position
    def test_scatter(self):
        b, a = self._index()
        for dim in (0, 1, 2, -1, -2, -3):
            helper_test_op([(4, 5, 6), (4, 5, 6)], lambda x, src, d=dim: x.scatter(d, b, src),
                           lambda x, src, d=dim: x.scatter(d, a, src), forward_only=True)

        helper_test_op([(3, 4, 5), (3, 4, 5)], lambda x, src: x.scatter(1, b, src), lambda x, src: x.scatter(1, a, src),
                       forward_only=True)
        helper_test_op([(10, 3, 10), (10, 10, 10)], lambda x, src: x.scatter(1, b, src),
                       lambda x, src: x.scatter(1, a, src), forward_only=True)

        helper_test_exception([(2, 3, 10), (10, 10, 10)], lambda x, src: x.scatter(1, b, src),
                              lambda x, src: x.scatter(1, a, src), expected=(RuntimeError, AssertionError))
        helper_test_exception([(10, 3, 10), (10, 3, 10)], lambda x, src: x.scatter(1, b, src),
                              lambda x, src: x.scatter(1, a, src), expected=(RuntimeError, AssertionError))
        helper_test_exception([(3, 4, 5), (3, 4, 5)], lambda x, src: x.scatter(1, b, src, mode="typo"),
                              lambda x, src: x.scatter(1, a, src, mode="typo"), expected=TypeError)
        helper_test_exception([(3, 4, 5), (3, 4, 5)], lambda x, src: x.half().scatter(1, b, src),
                              lambda x, src: x.astype(np.float16).scatter(1, a, src), expected=RuntimeError)

        helper_test_op([(4, 5, 6)], lambda x: x.scatter(1, b, 3), lambda x: x.scatter(1, a, 3), forward_only=True)
        helper_test_op([(4, 5, 6)], lambda x: x.scatter(1, b, float("inf")), lambda x: x.scatter(1, a, float("inf")),
                       forward_only=True)

        # overlapping indices with 0s
        b = torch.tensor([0, 0], requires_grad=False)
        a = tg.Tensor(b.numpy().astype(np.int32), dtype=np.int32)
        helper_test_op(None, lambda x, src: x.scatter(0, b, src), lambda x, src: x.scatter(0, a, src),
                       forward_only=True,
                       vals=[[1., 2., 3., 4.], [1., 0.]])

    def test_scatter_add(self):
        b, a = self._index()
        helper_test_op([(4, 5, 6)], lambda x: x.scatter(1, b, float("inf"), reduce="add"),
                       lambda x: x.scatter(1, a, float("inf"), reduce="add"), forward_only=True)
        helper_test_op([(4, 5, 6)], lambda x: x.scatter(1, b, float("nan"), reduce="add"),
                       lambda x: x.scatter(1, a, float("nan"), reduce="add"), forward_only=True)

    def test_scatter_mul(self):
        b, a = self._index()
        helper_test_op([(4, 5, 6)], lambda x: x.scatter(1, b, float("inf"), reduce="multiply"),
                       lambda x: x.scatter(1, a, float("inf"), reduce="multiply"), forward_only=True)
        helper_test_op([(4, 5, 6)], lambda x: x.scatter(1, b, float("nan"), reduce="multiply"),
                       lambda x: x.scatter(1, a, float("nan"), reduce="multiply"), forward_only=True)

    def test_scatter_no_reduce_tensor_src(self):
        with pytest.raises((TypeError, IndexError)):  # upstream's TypeError, or PyTorch's IndexError
            tg.ones(4).scatter(1, T([0], dtype=np.int32), tg.ones(4), reduce="add")

    @slow
    def test_scatter_reduce(self):
        b, a = self._index()
        for reduce in ("sum", "prod", "mean", "amin", "amax"):
            for dim in (-1, 1, -3):
                helper_test_op([(3, 4, 5), (3, 4, 5)], lambda x, src, d=dim, r=reduce: x.scatter_reduce(d, b, src, r),
                               lambda x, src, d=dim, r=reduce: x.scatter_reduce(d, a, src, r), forward_only=True)
                helper_test_op([(3, 4, 5), (3, 4, 5)],
                               lambda x, src, d=dim, r=reduce: x.scatter_reduce(d, b, src, r, include_self=False),
                               lambda x, src, d=dim, r=reduce: x.scatter_reduce(d, a, src, r, include_self=False),
                               forward_only=True)

    def test_scatter_reduce_prod_zeros(self):
        b, a = self._index()
        x = tg.zeros([4, 5, 6]).float()
        y = torch.zeros([4, 5, 6]).float()
        helper_test_op([(4, 5, 6)], lambda src: y.scatter_reduce(1, b, src, "prod"),
                       lambda src: x.scatter_reduce(1, a, src, "prod"), forward_only=True)

    def test_scatter_reduce_errors(self):
        b, a = self._index()
        # invalid reduce arg
        helper_test_exception([(4, 5, 6), (4, 5, 6)], lambda x, src: x.scatter_reduce(0, b, src, "INVALID"),
                              lambda x, src: x.scatter_reduce(0, a, src, "INVALID"), expected=RuntimeError)
        # dtype mismatch
        helper_test_exception([(4, 5, 6), (4, 5, 6)], lambda x, src: x.half().scatter_reduce(0, b, src, "sum"),
                              lambda x, src: x.astype(np.float16).scatter_reduce(0, a, src, "sum"),
                              expected=RuntimeError)

    # ---- attention and losses --------------------------------------------------------------------------------
    @slow
    def test_scaled_dot_product_attention(self):
        helper_test_op([(32, 8, 16, 64), (32, 8, 16, 64), (32, 8, 16, 64)],
                       torch.nn.functional.scaled_dot_product_attention, F.scaled_dot_product_attention)
        helper_test_op([(32, 8, 16, 64), (32, 8, 16, 64), (32, 8, 16, 64), (32, 8, 16, 16)],
                       lambda x, y, z, m: torch.nn.functional.scaled_dot_product_attention(x, y, z, attn_mask=m),
                       lambda x, y, z, m: F.scaled_dot_product_attention(x, y, z, attn_mask=m))

    @slow
    def test_scaled_dot_product_attention_mismatch_ls(self):
        helper_test_op([(32, 8, 4, 64), (32, 8, 16, 64), (32, 8, 16, 64)],
                       torch.nn.functional.scaled_dot_product_attention, F.scaled_dot_product_attention)

    @slow
    def test_scaled_dot_product_attention_causal(self):
        helper_test_op([(32, 8, 16, 64), (32, 8, 16, 64), (32, 8, 16, 64)],
                       lambda x, y, z: torch.nn.functional.scaled_dot_product_attention(x, y, z, is_causal=True),
                       lambda x, y, z: F.scaled_dot_product_attention(x, y, z, is_causal=True))

        helper_test_exception([(32, 8, 16, 64), (32, 8, 16, 64), (32, 8, 16, 64), (32, 8, 16, 16)],
                              lambda x, y, z, m: torch.nn.functional.scaled_dot_product_attention(
                                  x, y, z, is_causal=True, attn_mask=m),
                              lambda x, y, z, m: F.scaled_dot_product_attention(x, y, z, is_causal=True, attn_mask=m),
                              expected=RuntimeError)

    @slow
    def test_scaled_dot_product_attention_gqa(self):
        helper_test_op([(32, 32, 16, 64), (32, 8, 16, 64), (32, 8, 16, 64)],
                       lambda x, y, z: torch.nn.functional.scaled_dot_product_attention(x, y, z, enable_gqa=True),
                       lambda x, y, z: F.scaled_dot_product_attention(x, y, z, enable_gqa=True))

    def test_scaled_dot_product_attention_gqa_errors(self):
        helper_test_exception([(32, 31, 16, 64), (32, 8, 16, 64), (32, 8, 16, 64)],
                              lambda x, y, z: torch.nn.functional.scaled_dot_product_attention(x, y, z),
                              lambda x, y, z: F.scaled_dot_product_attention(x, y, z, enable_gqa=True),
                              expected=(AssertionError, RuntimeError, ValueError, IndexError))

    def test_binary_crossentropy(self):
        tf = torch.nn.functional
        helper_test_op([(32, 10), (32, 10)], lambda x, y: tf.binary_cross_entropy(x.sigmoid(), y.clip(0, 1)),
                       lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.clip(0, 1)))
        helper_test_op([(32, 10), (32, 10)], lambda x, y: tf.binary_cross_entropy_with_logits(x, y.clip(0, 1)),
                       lambda x, y: F.binary_cross_entropy_with_logits(x, y.clip(0, 1)))
        helper_test_op([(32, 10), (32, 10)], lambda x, y: tf.binary_cross_entropy_with_logits(x, y.clip(0, 1)),
                       lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.clip(0, 1)))
        helper_test_op([(32, 10), (32, 10)], lambda x, y: tf.binary_cross_entropy(x.sigmoid(), y.clip(0, 1)),
                       lambda x, y: F.binary_cross_entropy_with_logits(x, y.clip(0, 1)))

    def test_binary_crossentropy_reductions(self):
        tf = torch.nn.functional
        for r in ("mean", "sum", "none"):
            helper_test_op([(32, 10), (32, 10)],
                           lambda x, y, r=r: tf.binary_cross_entropy(x.sigmoid(), y.clip(0, 1), reduction=r),
                           lambda x, y, r=r: F.binary_cross_entropy(x.sigmoid(), y.clip(0, 1), reduction=r))
            helper_test_op([(32, 10), (32, 10)],
                           lambda x, y, r=r: tf.binary_cross_entropy_with_logits(x, y.clip(0, 1), reduction=r),
                           lambda x, y, r=r: F.binary_cross_entropy_with_logits(x, y.clip(0, 1), reduction=r))

    def test_binary_crossentropy_logits_pos_weights(self):
        pos_weight = [0.25, 0.5, 0.75, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        helper_test_op([(32, 10), (32, 10)],
                       lambda x, y: torch.nn.functional.binary_cross_entropy_with_logits(
                           x, y.clip(0, 1), pos_weight=torch.tensor(pos_weight)),
                       lambda x, y: F.binary_cross_entropy_with_logits(x, y.clip(0, 1), pos_weight=T(pos_weight)))

    def test_cross_entropy_class_probabilities(self):
        helper_test_op([(32,), (32,)], lambda x, y: torch.nn.functional.cross_entropy(x, y),
                       lambda x, y: F.cross_entropy(x, y))
        helper_test_op([(32, 10), (32, 10)], lambda x, y: torch.nn.functional.cross_entropy(x, y),
                       lambda x, y: F.cross_entropy(x, y))
        helper_test_op([(32, 4, 4, 4), (32, 4, 4, 4)], lambda x, y: torch.nn.functional.cross_entropy(x, y),
                       lambda x, y: F.cross_entropy(x, y))

    def test_cross_entropy_class_indices(self):
        classes = np.random.RandomState(1).randint(0, 10, (32,), dtype=np.int32).tolist()
        helper_test_op([(32, 10)], lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(classes)),
                       lambda x: F.cross_entropy(x, T(classes)))
        helper_test_exception([(32, 10), (32, 1)], lambda x, y: torch.nn.functional.cross_entropy(x, y),
                              lambda x, y: F.cross_entropy(x, y), expected=(AssertionError, RuntimeError))

    def test_cross_entropy_reductions(self):
        for r in ("mean", "sum", "none"):
            helper_test_op([(32, 10), (32, 10)], lambda x, y, r=r: torch.nn.functional.cross_entropy(x, y, reduction=r),
                           lambda x, y, r=r: F.cross_entropy(x, y, reduction=r))
        helper_test_exception([(32, 10), (32, 10)], lambda x,
                              y: torch.nn.functional.cross_entropy(x, y, reduction="typo"),
                              lambda x, y: F.cross_entropy(x, y, reduction="typo"), expected=ValueError)

    def test_cross_entropy_smoothing(self):
        rng = np.random.RandomState(2)
        for ls in (0., 0.3, 0.7, 1.):
            helper_test_op([(32, 10), (32, 10)],
                           lambda x, y, ls=ls: torch.nn.functional.cross_entropy(x, y, label_smoothing=ls),
                           lambda x, y, ls=ls: F.cross_entropy(x, y, label_smoothing=ls))
            classes = rng.randint(0, 10, (32,), dtype=np.int32).tolist()
            helper_test_op([(32, 10)],
                           lambda x, ls=ls, c=classes: torch.nn.functional.cross_entropy(x, torch.tensor(c),
                                                                                       label_smoothing=ls),
                           lambda x, ls=ls, c=classes: F.cross_entropy(x, T(c), label_smoothing=ls))

    # tinygrad's sparse_categorical_crossentropy (class indices on the last axis) is our F.cross_entropy (classes
    # on axis 1, as PyTorch's CrossEntropyLoss)
    def test_sparse_categorical_crossentropy(self):
        rng = np.random.RandomState(3)
        classes = rng.randint(0, 10, (12,), dtype=np.int32).tolist()
        helper_test_op([(12, 10)], lambda x: torch.nn.CrossEntropyLoss()(x, torch.tensor(classes)),
                       lambda x: F.cross_entropy(x, T(classes)))

        # combine args
        helper_test_op([(12, 10)],
                       lambda x: torch.nn.CrossEntropyLoss(reduction="mean", ignore_index=classes[0],
                                                           label_smoothing=0.3)(x, torch.tensor(classes)),
                       lambda x: F.cross_entropy(x, T(classes), reduction="mean", ignore_index=classes[0],
                                                 label_smoothing=0.3))

        # with batch. somehow this does not match torch
        classes = rng.randint(0, 10, (3, 12), dtype=np.int32).tolist()
        helper_test_op([(3, 12, 10)], lambda x: torch.nn.CrossEntropyLoss()(x.permute(0, 2, 1), torch.tensor(classes)),
                       lambda x: F.cross_entropy(x.permute(0, 2, 1), T(classes)))

    def test_sparse_categorical_crossentropy_reductions(self):
        rng = np.random.RandomState(4)
        for r in ("mean", "sum", "none"):
            classes = rng.randint(0, 10, (12,), dtype=np.int32).tolist()
            helper_test_op([(12, 10)], lambda x, r=r,
                           c=classes: torch.nn.CrossEntropyLoss(reduction=r)(x, torch.tensor(c)),
                           lambda x, r=r, c=classes: F.cross_entropy(x, T(c), reduction=r))

    def test_sparse_categorical_crossentropy_ignore_index(self):
        classes = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]
        for i in (-1, 0, 3):
            helper_test_op([(12, 10)], lambda x,
                           i=i: torch.nn.CrossEntropyLoss(ignore_index=i)(x, torch.tensor(classes)),
                           lambda x, i=i: F.cross_entropy(x, T(classes), ignore_index=i))

    def test_sparse_categorical_crossentropy_label_smoothing(self):
        rng = np.random.RandomState(5)
        for s in (0.3, 0.9):
            classes = rng.randint(0, 10, (12,), dtype=np.int32).tolist()
            helper_test_op([(12, 10)],
                           lambda x, s=s, c=classes: torch.nn.CrossEntropyLoss(label_smoothing=s)(x, torch.tensor(c)),
                           lambda x, s=s, c=classes: F.cross_entropy(x, T(c), label_smoothing=s))

    def test_nll_loss(self):
        target = np.random.RandomState(6).randint(0, 10, (32,), dtype=np.int32).tolist()
        helper_test_op([(32, 10)],
                       lambda x: torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1),
                                                              torch.tensor(target)),
                       lambda x: F.nll_loss(x.log_softmax(axis=1), T(target)))

    def test_nll_loss_3d(self):
        target = np.random.RandomState(7).randint(0, 10, (32, 3, 3, 3), dtype=np.int32).tolist()
        helper_test_op([(32, 10, 3, 3, 3)],
                       lambda x: torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1),
                                                              torch.tensor(target)),
                       lambda x: F.nll_loss(x.log_softmax(axis=1), T(target)))

    def test_nll_loss_reductions(self):
        target = np.random.RandomState(8).randint(0, 10, (32,), dtype=np.int32).tolist()
        for r in ("mean", "sum", "none"):
            helper_test_op([(32, 10)],
                           lambda x, r=r: torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1),
                                                                       torch.tensor(target), reduction=r),
                           lambda x, r=r: F.nll_loss(x.log_softmax(axis=1), T(target), reduction=r))
        helper_test_exception([(32, 10)],
                              lambda x: torch.nn.functional.nll_loss(x, torch.tensor(target), reduction="typo"),
                              lambda x: F.nll_loss(x, T(target), reduction="typo"), expected=ValueError)

    def test_nll_loss_weight(self):
        rng = np.random.RandomState(9)
        target = rng.randint(0, 10, (32,), dtype=np.int32).tolist()
        weight = rng.normal(0, 1, (10,)).astype(np.float32).tolist()
        for r in ("mean", "sum", "none"):
            helper_test_op([(32, 10)],
                           lambda x, r=r: torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1),
                                                                       torch.tensor(target), torch.tensor(weight),
                                                                       reduction=r),
                           lambda x, r=r: F.nll_loss(x.log_softmax(axis=1), T(target), weight=T(weight), reduction=r))

    def test_nll_loss_3d_weight(self):
        rng = np.random.RandomState(10)
        target = rng.randint(0, 10, (16, 3, 3, 3), dtype=np.int32).tolist()
        weight = rng.normal(0, 1, (10,)).astype(np.float32).tolist()
        for r in ("mean", "sum", "none"):
            helper_test_op([(16, 10, 3, 3, 3)],
                           lambda x, r=r: torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1),
                                                                       torch.tensor(target), torch.tensor(weight),
                                                                       reduction=r),
                           lambda x, r=r: F.nll_loss(x.log_softmax(axis=1), T(target), weight=T(weight), reduction=r))

    def test_nll_loss_ignore_index(self):
        logits = [[2.0, 0.5, -1.0],
                  [1.5, 2.5, -0.5],
                  [0.0, -2.0, 1.0]]
        target = [0, 1, 2]
        helper_test_op(None, lambda x: torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1),
                                                                    torch.tensor(target), ignore_index=1),
                       lambda x: F.nll_loss(x.log_softmax(), T(target), ignore_index=1), vals=[logits])

    def test_one_hot(self):
        data = [1, 2, 4]
        helper_test_op([], lambda: torch.nn.functional.one_hot(torch.tensor(data), 6), lambda: F.one_hot(T(data), 6),
                       forward_only=True)
        # like jax.nn.one_hot, num_classes must be non-negative (torch accepts -1 for auto-inference, we don't)
        with pytest.raises(ValueError):
            F.one_hot(T(data), -1)
        data = [[[1, 2, 3], [0, 3, 5]], [[1, 2, 3], [0, 3, 5]]]
        helper_test_op([], lambda: torch.nn.functional.one_hot(torch.tensor(data), 8), lambda: F.one_hot(T(data), 8),
                       forward_only=True)

    def test_masked_fill(self):  # PyTorch's masked_fill(mask, v) is our where(mask, v, x)
        helper_test_op([(32, 10)], lambda x: x.masked_fill((x > 0.1).detach(), -math.inf),
                       lambda x: tg.where(x > 0.1, -math.inf, x))
        helper_test_op([(32, 10)], lambda x: x.masked_fill((x < 0.1).detach(), -math.inf),
                       lambda x: tg.where(x < 0.1, -math.inf, x))

    def test_masked_select(self):
        helper_test_op([(32, 10)], lambda x: x.masked_select(x > 0.5), lambda x: x.masked_select(x > 0.5),
                       forward_only=True)
        helper_test_op([(32, 10)], lambda x: x.masked_select(torch.tensor(True)), lambda x: x.masked_select(T(True)),
                       forward_only=True)

    @not_applicable("tinygrad-only size= and fill_value= arguments of masked_select (a static output shape for its "
                    "compiler); PyTorch's masked_select has neither")
    def test_masked_select_size(self):
        pass

    @slow
    def test_nonzero(self):  # PyTorch's nonzero() (an (n, ndim) array) is NumPy's argwhere
        helper_test_op([(32, 10)], lambda x: (x > 0.5).nonzero(), lambda x: tg.argwhere(x > 0.5), forward_only=True)
        helper_test_op([(20,)], lambda x: (x > 0.5).nonzero(), lambda x: tg.argwhere(x > 0.5), forward_only=True)
        helper_test_op([(10, 5, 3)], lambda x: (x > 0.5).nonzero(), lambda x: tg.argwhere(x > 0.5), forward_only=True)
        for v in (0, 1, 0.0, 2.5, True, False):
            helper_test_op(None, lambda x: x.nonzero(), lambda x: tg.argwhere(x), vals=[v], forward_only=True)

    @not_applicable("tinygrad-only size= and fill_value= arguments of nonzero (a static output shape for its "
                    "compiler); PyTorch's nonzero has neither")
    def test_nonzero_size(self):
        pass

    def test_cast(self):
        helper_test_op([(3, 3)], lambda x: x.float())
        helper_test_op(None, lambda x: x.float(), vals=[[0, 1, 2, 3]], forward_only=True)
        helper_test_op(None, lambda x: x.float(), vals=[[True, False]], forward_only=True)
        helper_test_op([(3, 3)], lambda x: x.int(), lambda x: x.astype(np.int32), forward_only=True)
        helper_test_op([(3, 3)], lambda x: x.bool(), lambda x: x.astype(bool), forward_only=True)

    def test_bitcast(self):  # PyTorch's and NumPy's view(dtype)
        helper_test_op([(3, 3)], lambda x: x.view(torch.int32), lambda x: x.view(np.int32), forward_only=True)

    def test_int_or(self):
        t = (T([0], dtype=np.int32) | 0xFFFFFFFF).item()
        assert t == -1


class TestOpsUint8:
    def test_cast(self):
        helper_test_op([(2, 3, 64, 64)], lambda x: x.type(torch.uint8), lambda x: x.astype(np.uint8), forward_only=True,
                       low=0, high=255)

    def test_cast_relu(self):
        helper_test_op([(2, 3, 64, 64)], lambda x: x.relu().type(torch.uint8), lambda x: x.relu().astype(np.uint8),
                       forward_only=True)

    @staticmethod
    def _interpolate(mode):
        out_sz = (10, 10)
        helper_test_op([(2, 3, 64, 64)],
                       lambda x: torch.nn.functional.interpolate((10 * x).relu().type(torch.uint8), size=out_sz,
                                                                 mode=mode),
                       lambda x: F.interpolate((10 * x).relu().astype(np.uint8), size=out_sz, mode=mode),
                       forward_only=True)

    def test_interpolate_bilinear(self):
        self._interpolate("bilinear")

    def test_interpolate_nearest(self):
        self._interpolate("nearest")

    def test_interpolate_nearest_exact(self):
        self._interpolate("nearest-exact")

    def test_min(self):
        helper_test_op(None, lambda x: x.type(torch.uint8).min(), lambda x: x.astype(np.uint8).min(), forward_only=True,
                       vals=[[[0, 1, 2], [3, 4, 5]]])
        helper_test_op(None, lambda x: x.type(torch.uint8).min(), lambda x: x.astype(np.uint8).min(), forward_only=True,
                       vals=[[0, 128, 255, 64, 32, 16]])
