"""gradcheck itself: it passes right derivatives and catches wrong ones, naming where."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import Function, GradcheckError


class TanhWithTanDerivative(Function):
    """The original notebook's slip: tanh'(x) written as 1 - tan²(x)."""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, dz, z, x):
        return dz * (1.0 - np.tan(np.asarray(x)) ** 2)


class SquareWithWrongSecondDerivative(Function):
    """d/dx x² = 2x is right in value, but written through a constant it has no second derivative."""

    def forward(self, x):
        return x * x

    def backward(self, dz, z, x):
        return dz * (2 * np.asarray(x))  # np.asarray: the values as a constant, on either pass


X = np.array([[0.3, -0.7], [1.1, 0.05]])


def test_gradcheck_passes_a_correct_op():
    assert tg.gradcheck(lambda t: t.tanh(), [X])
    assert tg.gradgradcheck(lambda t: t.tanh(), [X])


def test_gradcheck_catches_the_notebooks_tan_slip_and_names_input_index_and_values():
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(lambda t: TanhWithTanDerivative.apply(t), [X])
    message = str(info.value)
    assert "input 0" in message and "index (0, 0)" in message
    v = np.random.default_rng(0).standard_normal(X.shape)  # gradcheck's upstream gradient (seed 0)
    right, wrong = v[0, 0] * (1 - np.tanh(0.3) ** 2), v[0, 0] * (1 - np.tan(0.3) ** 2)
    assert f"analytic gradient {wrong:.8g}, numerical {right:.5g}" in message


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    assert tg.gradcheck(lambda t: SquareWithWrongSecondDerivative.apply(t), [X])
    with pytest.raises(GradcheckError, match="input 0"):
        tg.gradgradcheck(lambda t: SquareWithWrongSecondDerivative.apply(t), [X])


def test_gradcheck_upcasts_float32_inputs():
    x32 = X.astype(np.float32)
    assert tg.gradcheck(lambda t: (t * t).sum(), [x32])
    assert x32.dtype == np.float32  # the caller's array is left alone


def test_gradcheck_checks_every_input_of_several():
    with pytest.raises(GradcheckError, match="input 1"):
        tg.gradcheck(lambda a, b: a * TanhWithTanDerivative.apply(b), [X, X])


def test_gradcheck_rejects_integer_inputs_by_name():
    with pytest.raises(TypeError, match="input 0 has dtype int64"):
        tg.gradcheck(lambda t: t, [np.arange(3)])


class WrongSecondDerivative(tg.Function):
    """z = x³ with a first derivative that is right (3x²) but built from a constant, so its own
    derivative, the second derivative of z, comes out 0 instead of 6x."""

    def forward(self, x):
        return x ** 3

    def backward(self, dz, z, x):
        return dz * (3 * np.asarray(x) ** 2)


def test_gradgradcheck_says_the_second_derivative_failed():
    x = np.array([0.5, -1.5])
    tg.gradcheck(WrongSecondDerivative.apply, [x])  # first order is right
    with pytest.raises(tg.GradcheckError, match=r"^gradgradcheck: input 0 .* analytic second derivative"):
        tg.gradgradcheck(WrongSecondDerivative.apply, [x])
