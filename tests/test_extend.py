"""tinygrad_np.extend names the surface an extension builds on: each name is the library's own object, an op
written against it alone works eagerly, to second order and under tg.jit, and the hypothesis strategies load
only when asked for."""
import subprocess
import sys

import numpy as np

import tinygrad_np as tg
import tinygrad_np.extend as ext
from tinygrad_np import testing
from tinygrad_np.core import function, jit_seam


def test_every_name_imports_and_is_the_librarys_own():
    for name in ext.__all__:
        assert getattr(ext, name) is not None, name
    assert ext.Function is function.Function is tg.Function
    assert ext.note is jit_seam.note and ext.replayable is jit_seam.replayable and ext.JitError is tg.JitError
    assert ext.gradcheck is tg.gradcheck and ext.gradgradcheck is tg.gradgradcheck
    assert ext.arrays is testing.arrays and ext.check_gradients is testing.check_gradients
    assert ext.__doc__ and all(name in ext.__doc__ for name in ext.__all__)  # the docstring names each one


def test_star_import_gives_the_surface():
    namespace = {}
    exec("from tinygrad_np.extend import *", namespace)
    assert set(ext.__all__) <= set(namespace)


class ScaledSquare(ext.Function):
    """z = scale * x².   dL/dx = dL/dz * 2 scale x."""

    def forward(self, x, scale):
        self.scale = scale
        return scale * x * x

    def backward(self, dz, z, x):
        return dz * (2 * self.scale) * x


def _keep(rng, shape):
    return (np.random.default_rng(rng).random(shape) < 0.5).astype(np.float64)


def dropped_square(t, rng=None):
    """3 x², with about half the elements zeroed by a random mask: a random array, so it goes through draw()."""
    return ScaledSquare.apply(t, scale=3.0) * ext.Tensor(ext.draw(_keep, rng, t.shape))


def test_an_op_written_against_the_surface_works_to_second_order():
    x = np.array([[0.3, -0.7], [0.5, 1.5]])
    ext.gradcheck(lambda t: ScaledSquare.apply(t, scale=3.0), [x])
    ext.gradgradcheck(lambda t: ScaledSquare.apply(t, scale=3.0), [x])


def test_an_op_written_against_the_surface_replays_under_jit_drawing_again():
    @tg.jit
    def step(t):
        out = dropped_square(t)
        out.sum().backward()
        return out

    x = np.linspace(0.5, 2.0, 64)
    masks = []
    for _ in range(5):
        t = tg.Tensor(x.copy(), requires_grad=True)
        out = step(t).numpy()
        mask = out / (3 * x * x)
        assert set(np.unique(mask)) <= {0.0, 1.0}
        np.testing.assert_allclose(t.grad.numpy(), 6 * x * mask)  # the rule, through this call's own mask
        masks.append(mask)
    assert step.traces == 2  # the last three calls replayed...
    assert len({m.tobytes() for m in masks[2:]}) == 3  # ...each with a mask drawn afresh


def test_without_hypothesis_the_strategies_say_what_to_install():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "import tinygrad_np.extend as ext\n"
            "assert ext.Function is not None\n"
            "try:\n    ext.arrays\nexcept ImportError as err:\n    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "hypothesis" in out and "pip install" in out


def test_an_unknown_name_is_an_attribute_error():
    try:
        ext.not_a_name  # noqa: B018
    except AttributeError as err:
        assert "not_a_name" in str(err)
    else:
        raise AssertionError("no AttributeError")
