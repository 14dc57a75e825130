"""erf's accuracy (ops/special.py fits it to the standard library's math.erf when it is imported) on points the
fit never saw, and the edges of the elementwise functions that tests/op_table.py's smooth rows stay away from:
inf, NaN, -0.0, the domains of the inverse functions, gelu's two forms, softplus's threshold.
"""
import math

import numpy as np
import pytest

import tinygrad_np as tg
import tinygrad_np.nn.functional as F
from tinygrad_np.ops.special import erf

NAN = float("nan")


def ulps_from_math_erf(x):
    expected = np.array([math.erf(float(v)) for v in x])
    got = erf(x).astype(np.float64)
    return np.max(np.abs(got - expected) / np.spacing(np.abs(expected).astype(x.dtype)).astype(np.float64))


@pytest.mark.parametrize("dtype, ulps", [(np.float64, 13), (np.float32, 3)])
def test_erf_is_within_a_few_units_in_the_last_place_of_math_erf(dtype, ulps):
    # Random points (seeded, not the Chebyshev points of the fit), dense where the two series meet at 1, and
    # tiny ones, where erf(x) ~ 2x/sqrt(pi) must keep its relative precision.
    rng = np.random.default_rng(29)
    x = np.concatenate([rng.uniform(-7, 7, 20000), rng.uniform(0.9, 1.1, 5000), -np.logspace(-30, 0.5, 500),
                        np.logspace(-30, 0.5, 500)]).astype(dtype)
    assert erf(x).dtype == dtype
    assert ulps_from_math_erf(x) <= ulps


def test_erf_at_its_edges_and_of_integers():
    got = tg.Tensor(np.array([NAN, np.inf, -np.inf, 0.0, -0.0, 30.0], np.float32)).erf().numpy()
    np.testing.assert_array_equal(got, [NAN, 1.0, -1.0, 0.0, -0.0, 1.0])
    assert np.signbit(got[4])
    assert tg.Tensor(np.array([1, 2]), dtype=np.int32).erf().dtype == np.float32  # PyTorch's default float


def test_gelu_is_exact_by_default_and_tanh_on_request():
    x = np.linspace(-5, 5, 101)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(tg.Tensor(x, dtype=np.float64).gelu().numpy(), exact, rtol=1e-14, atol=1e-15)
    tanh = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(F.gelu(tg.Tensor(x, dtype=np.float64), approximate="tanh").numpy(), tanh, rtol=1e-14)
    assert np.abs(exact - tanh).max() > 1e-4  # the two forms differ: the default is really the exact one
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        tg.Tensor(x).gelu("erf")
    assert tg.nn.GELU()(tg.Tensor(x, dtype=np.float64)).numpy() == pytest.approx(exact, rel=1e-14, abs=1e-15)


def test_the_inverse_functions_outside_their_domains_give_nan_without_a_warning():
    # pyproject makes RuntimeWarnings errors, so NumPy's "invalid value" warning would fail this test
    x = tg.Tensor(np.array([-2.0, 2.0], np.float32))
    for f in (x.asin, x.acos, x.atanh):
        assert np.isnan(f().numpy()).all()
    assert np.isnan(tg.Tensor(np.array([0.5], np.float32)).acosh().numpy()).all()
    assert tg.Tensor(np.array([1.0, -1.0], np.float32)).atanh().numpy().tolist() == [np.inf, -np.inf]
    assert tg.Tensor(np.array([-1.0, 0.0], np.float32)).log10().numpy().tolist()[1] == -np.inf


def test_copysign_follows_the_sign_bit_and_logaddexp_does_not_overflow():
    x = tg.Tensor(np.array([2.0, 2.0, -3.0], np.float32))
    assert x.copysign(tg.Tensor(np.array([-0.0, 0.0, 1.0], np.float32))).numpy().tolist() == [-2.0, 2.0, 3.0]
    big = tg.Tensor(np.array([1000.0, -1000.0], np.float32))
    np.testing.assert_allclose(big.logaddexp(big).numpy(), [1000 + math.log(2), -1000 + math.log(2)], rtol=1e-6)


def test_softplus_beta_and_threshold_and_the_other_activations_at_their_edges():
    x = tg.Tensor(np.array([-100.0, 0.0, 25.0], np.float32))
    np.testing.assert_allclose(F.softplus(x).numpy(), [0.0, math.log(2), 25.0], atol=1e-30)
    np.testing.assert_allclose(F.softplus(x, beta=2.0).numpy(), [0.0, math.log(2) / 2, 25.0], atol=1e-30)
    assert F.logsigmoid(x).numpy()[0] == pytest.approx(-100.0)  # log(sigmoid(-100)) without -inf
    assert F.hardsigmoid(tg.Tensor(np.array([-4.0, 0.0, 4.0], np.float32))).numpy().tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_allclose(F.normalize(tg.Tensor(np.zeros((2, 3), np.float32))).numpy(), 0.0)  # no 0/0


def test_relu6_and_hardtanh_have_pytorchs_zero_gradient_at_the_bounds():
    x = tg.Tensor(np.array([0.0, 3.0, 6.0], np.float32), requires_grad=True)
    (g,) = tg.grad(x.relu6().sum(), [x])
    assert g.numpy().tolist() == [0.0, 1.0, 0.0]
    (g,) = tg.grad(x.clip(0.0, 6.0).sum(), [x])  # clip keeps clamp's 1 at the bounds
    assert g.numpy().tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="min, max or both"):
        x.clip()


def test_round_is_half_to_even_as_numpy_and_pytorch():
    x = tg.Tensor(np.array([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999], np.float32))
    assert x.round().numpy().tolist() == [0.0, 2.0, 2.0, -0.0, -2.0, 2.0]
