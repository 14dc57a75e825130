"""Dtypes as PyTorch and NumPy keep them (issue 29): integer data stays integer, factories honour dtype=,
tg.tensor is torch.tensor, and mixed integer/float arithmetic gives PyTorch's float32."""
import numpy as np
import pytest

import tinygrad_np as tg
import tinygrad_np.nn.functional as F


def test_integer_data_stays_integer_as_in_pytorch():
    assert tg.Tensor([1, 2]).dtype == np.int64 and tg.Tensor(7).dtype == np.int64
    assert tg.Tensor([True, False]).dtype == np.bool_ and tg.Tensor(False).dtype == np.bool_
    assert tg.Tensor([0.5, 1]).dtype == np.float32 and tg.Tensor(0.5).dtype == np.float32
    for dtype in (np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_, np.float16, np.float64):
        array = np.zeros(3, dtype)
        t = tg.Tensor(array)
        assert t.dtype == dtype and t.data is array  # an array is used as it is, its dtype kept
    assert tg.Tensor([1, 2], dtype=np.float32).dtype == np.float32  # dtype= wins


def test_requires_grad_on_integers_is_refused_naming_the_dtype():
    for data, name in (([1, 2], "int64"), (np.arange(3, dtype=np.int32), "int32"), ([True], "bool")):
        with pytest.raises(TypeError, match=f"requires_grad=True needs floating-point data, got dtype {name}"):
            tg.Tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="got dtype int64"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="got dtype int32"):
        tg.zeros(2, dtype=np.int32, requires_grad=True)


def test_tg_tensor_is_pytorchs_tensor_a_copy():
    array = np.arange(3.0)
    t = tg.tensor(array)
    array[0] = 9.0
    assert t.data.tolist() == [0.0, 1.0, 2.0] and t.dtype == np.float64  # copied, dtype kept
    assert tg.tensor([1.0]).dtype == np.float32 and tg.tensor([1]).dtype == np.int64
    assert tg.tensor(3).dtype == np.int64 and tg.tensor(2.5).item() == 2.5
    assert tg.tensor([1, 2], dtype=np.float64).dtype == np.float64
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor(x * 2, requires_grad=True)  # from a Tensor: its values, a new leaf
    assert y.is_leaf and y.requires_grad and y.data.tolist() == [2.0, 4.0] and y.data is not (x * 2).data
    a = np.ones(2, np.float32)
    shared, copied = tg.Tensor(a), tg.tensor(a)
    a[0] = 5
    assert shared.data[0] == 5 and copied.data[0] == 1


def test_factories_honour_dtype():
    for make in (lambda d: tg.zeros(2, 3, dtype=d), lambda d: tg.ones((2,), dtype=d),
                 lambda d: tg.full((2, 2), 3, dtype=d), lambda d: tg.eye(3, dtype=d),
                 lambda d: tg.arange(4, dtype=d), lambda d: tg.zeros_like(tg.ones(2), dtype=d),
                 lambda d: tg.ones_like(tg.ones(2), dtype=d), lambda d: tg.full_like(tg.ones(2), 1, dtype=d)):
        for dtype in (np.int32, np.int64, np.uint8, np.float64, np.float32):
            assert make(dtype).dtype == dtype, (make, dtype)
    assert tg.zeros(2, dtype=bool).dtype == np.bool_ and tg.full((2,), 1, dtype=bool).dtype == np.bool_
    for dtype in (np.float64, np.float16):
        assert tg.randn(2, dtype=dtype).dtype == dtype and tg.uniform(2, dtype=dtype).dtype == dtype
        assert tg.randn_like(tg.zeros(2, dtype=dtype)).dtype == dtype
    assert tg.zeros(1, dtype=np.int32).data.tolist() == [0]  # it came back float32
    with pytest.raises(TypeError, match="randn: dtype must be a floating-point dtype, got int64"):
        tg.randn(2, dtype=np.int64)
    with pytest.raises(TypeError, match="uniform: dtype must be a floating-point dtype, got int32"):
        tg.uniform(2, dtype=np.int32)


def test_like_factories_keep_the_tensors_dtype_and_full_infers_pytorchs():
    i = tg.Tensor(np.arange(4, dtype=np.int32))
    assert tg.zeros_like(i).dtype == np.int32 and tg.ones_like(i).dtype == np.int32
    assert tg.full_like(i, 7).dtype == np.int32 and tg.full_like(i, 7).data.tolist() == [7] * 4
    assert tg.zeros_like(tg.zeros(2), dtype=np.dtype("float64")).dtype == np.float64  # a np.dtype is falsy
    assert tg.full((2,), 4).dtype == np.int64 and tg.full((2,), 4.0).dtype == np.float32
    assert tg.full((2,), True).dtype == np.bool_ and tg.full((2,), np.float64(1)).dtype == np.float64


# (expression, expected dtype): PyTorch 2.13's answer for each (checked against torch below where installed)
def _cases():
    i64, i32, f32, f64 = (tg.Tensor(np.arange(1, 4, dtype=d)) for d in (np.int64, np.int32, np.float32, np.float64))
    b = tg.Tensor([True, False, True])
    return [
        ("i64 + 0.5", lambda: i64 + 0.5, np.float32), ("0.5 * i64", lambda: 0.5 * i64, np.float32),
        ("i32 - 1.5", lambda: i32 - 1.5, np.float32), ("i64 * f32", lambda: i64 * f32, np.float32),
        ("i32 + f32", lambda: i32 + f32, np.float32), ("f32 - i64", lambda: f32 - i64, np.float32),
        ("i64 * f64", lambda: i64 * f64, np.float64), ("i64 / i64", lambda: i64 / i64, np.float32),
        ("i32 / 2", lambda: i32 / 2, np.float32), ("1 / i64", lambda: 1 / i64, np.float32),
        ("i64 + 1", lambda: i64 + 1, np.int64), ("i32 + 1", lambda: i32 + 1, np.int32),
        ("i32 * 3", lambda: i32 * 3, np.int32), ("i32 + i64", lambda: i32 + i64, np.int64),
        ("b + 1", lambda: b + 1, np.int64), ("b * 1.5", lambda: b * 1.5, np.float32),
        ("i64 ** 2", lambda: i64 ** 2, np.int64), ("i64 ** 2.0", lambda: i64 ** 2.0, np.float32),
        ("i32 ** 0.5", lambda: i32 ** 0.5, np.float32), ("0.7 ** i32", lambda: 0.7 ** i32, np.float32),
        ("i64.exp()", lambda: i64.exp(), np.float32), ("i32.cos()", lambda: i32.cos(), np.float32),
        ("i64.sqrt()", lambda: i64.sqrt(), np.float32), ("i64.log()", lambda: i64.log(), np.float32),
        ("i64.sin()", lambda: i64.sin(), np.float32), ("i64.tanh()", lambda: i64.tanh(), np.float32),
        ("i64.sigmoid()", lambda: i64.sigmoid(), np.float32),
        ("tg.Tensor(1) + 0.5", lambda: tg.Tensor(1) + 0.5, np.float32),
        ("tg.Tensor(2).exp()", lambda: tg.Tensor(2).exp(), np.float32),
        ("where(b, 1, 3)", lambda: tg.where(b.data, 1, 3), np.int64),
        ("where(b, 1.0, 3)", lambda: tg.where(b.data, 1.0, 3), np.float32),
        ("b.tril()", lambda: tg.Tensor(np.ones((2, 2), bool)).tril(), np.bool_),
        ("i32.triu()", lambda: tg.Tensor(np.ones((2, 2), np.int32)).triu(), np.int32),
        ("f32 + 1", lambda: f32 + 1, np.float32), ("f64 * 2.5", lambda: f64 * 2.5, np.float64),
    ]


@pytest.mark.parametrize("name, expression, dtype", _cases(), ids=[c[0] for c in _cases()])
def test_mixed_integer_and_float_arithmetic_gives_pytorchs_dtypes(name, expression, dtype):
    assert expression().dtype == dtype


def test_the_dtype_table_is_pytorchs():
    torch = pytest.importorskip("torch")
    names = {"i64": torch.arange(1, 4), "i32": torch.arange(1, 4, dtype=torch.int32),
             "f32": torch.arange(1, 4, dtype=torch.float32), "f64": torch.arange(1, 4, dtype=torch.float64),
             "b": torch.tensor([True, False, True]), "tg": torch, "torch": torch}
    torch_forms = {"tg.Tensor(1) + 0.5": "torch.tensor(1) + 0.5", "tg.Tensor(2).exp()": "torch.tensor(2).exp()",
                   "where(b, 1, 3)": "torch.where(b, 1, 3)", "where(b, 1.0, 3)": "torch.where(b, 1.0, 3)",
                   "b.tril()": "torch.ones(2, 2, dtype=torch.bool).tril()",
                   "i32.triu()": "torch.ones(2, 2, dtype=torch.int32).triu()"}
    for name, _, dtype in _cases():
        theirs = eval(torch_forms.get(name, name), {}, names)  # noqa: S307  (our own table of expressions)
        assert str(theirs.dtype).replace("torch.", "") == np.dtype(dtype).name, name


def test_a_float_gradient_through_an_integer_operand_stays_float32():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * tg.Tensor([1, 2, 3]) + x / tg.Tensor(np.array([2, 2, 2], np.int32))).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.data.tolist() == [1.5, 2.5, 3.5]


def test_integer_labels_from_a_tensor_work_in_the_losses():
    logits = tg.Tensor(np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)), requires_grad=True)
    y = np.array([0, 2])
    out = F.log_softmax(logits, axis=1)
    loss = F.nll_loss(out, tg.Tensor(y))  # labels stay int64: it was refused as float32
    np.testing.assert_allclose(loss.item(), -(np.log(0.7) + np.log(0.8)) / 2, rtol=1e-6)
    np.testing.assert_allclose(F.cross_entropy(logits, tg.Tensor([0, 2])).item(), loss.item(), rtol=1e-6)
    assert F.one_hot(tg.Tensor([0, 2]), 3).data.tolist() == [[1, 0, 0], [0, 0, 1]]
    assert logits[tg.Tensor([1, 0])].shape == (2, 3)  # integer tensors index


def test_a_jitted_function_making_integer_tensors_replays_them():
    labels = [0, 1, 2]

    @tg.jit
    def pick(x):
        return x[tg.Tensor(labels)] * tg.Tensor(2)

    x = tg.Tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2))
    for _ in range(3):
        out = pick(x)
        assert out.dtype == np.float32 and out.data.tolist() == (x.data[labels] * 2).tolist()
    labels[0] = 2  # a list read by the function: a replay makes the tensor from what it holds now
    assert pick(x).data.tolist() == (x.data[[2, 1, 2]] * 2).tolist()
