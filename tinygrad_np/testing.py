"""Hypothesis strategies for testing ops, ours and yours.

    from hypothesis import given
    from tinygrad_np import gradcheck
    from tinygrad_np.testing import arrays, shapes

    @given(arrays(shapes()))
    def test_my_op(x):
        gradcheck(my_op, [x])

Values are float64 and bounded, so central differences are accurate.
Functions with kinks (relu at 0, max at ties, sqrt and log near 0) need inputs
kept away from them, or the numerical gradient straddles the kink:
``away_from_zero``, ``positive`` and ``distinct`` do that.

Requires hypothesis (installed with the ``dev`` extra).
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .gradcheck import gradcheck, gradgradcheck

__all__ = [
    "check_gradients", "shapes", "broadcastable_shapes", "arrays", "away_from_zero", "positive", "distinct", "axes",
]


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes, 0-d included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3):
    """Tuples of shapes that broadcast together: size-1 axes, missing leading axes and 0-d all occur."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda b: b.input_shapes)


def _values(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape, low=-2.0, high=2.0, elements=None):
    """float64 arrays of ``shape`` (a tuple or a strategy for one) with values in [low, high]."""
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else _values(low, high))


def away_from_zero(shape, margin=0.05, high=2.0):
    """float64 arrays whose values all satisfy margin <= |x| <= high: for functions with a kink at 0."""
    magnitude = _values(margin, high)
    return arrays(shape, elements=st.tuples(magnitude, st.booleans()).map(lambda mb: mb[0] if mb[1] else -mb[0]))


def positive(shape, low=0.2, high=3.0):
    """float64 arrays with values in [low, high]: for log, sqrt and x ** y."""
    return arrays(shape, low=low, high=high)


def distinct(shape, spacing=0.01, span=2.0):
    """float64 arrays with all values at least ``spacing`` apart: for max, where ties are kinks."""
    steps = int(span / spacing)
    grid = st.integers(-steps, steps).map(lambda i: i * spacing)
    return hnp.arrays(np.float64, shape, elements=grid, unique=True)


def axes(ndim):
    """An ``axis`` argument for a tensor of ``ndim`` dimensions: None, an int (negative too) or a tuple."""
    if ndim == 0:
        return st.none()
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda chosen: st.tuples(*[st.sampled_from([a, a - ndim]) for a in chosen]))  # each may count from the end
    return st.one_of(st.none(), single, several)


def check_gradients(fn, *inputs, second_order=True, **tolerances):
    """The one-line op test: first derivatives (and, by default, second) against central differences."""
    gradcheck(fn, inputs, **tolerances)
    if second_order:
        gradgradcheck(fn, inputs, **tolerances)
