"""Forward values and dtypes beyond the op table (tests/op_table.py checks every op against NumPy
and for float32 in, float32 out): broadcasting, mixed precision, NumPy scalars."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.testing import arrays, broadcastable_shapes, shapes


@given(data=st.data())
def test_broadcast_forward_matches_numpy(data):
    x_shape, y_shape = data.draw(broadcastable_shapes(2))
    x, y = data.draw(arrays(x_shape)), data.draw(arrays(y_shape))
    out = tg.Tensor(x) * tg.Tensor(y) + tg.Tensor(y)
    np.testing.assert_allclose(out.data, x * y + y)


@given(x=arrays(shapes()))
def test_gradient_has_the_tensors_shape(x):
    t = tg.Tensor(x, requires_grad=True)
    (t * 2).sum().backward()
    assert t.grad.shape == t.shape


def test_mixed_float32_float64_gives_each_input_its_own_dtype_of_gradient():
    a = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = tg.Tensor(np.ones(3, np.float64), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_numpy_scalars_do_not_upcast():
    a = tg.Tensor(np.ones(3, np.float32))
    assert (a * np.float64(2.0)).dtype == np.float32
    assert (np.float64(2.0) * a).dtype == np.float32
    assert (a ** 2).dtype == np.float32
