"""The extension surface: everything code outside tinygrad_np may build on to add an op, and nothing else.

    from tinygrad_np.extend import Function, gradcheck, gradgradcheck, note

The names here are kept stable; anything else in the package's modules may be renamed or moved between
versions (CHANGELOG.md says when). docs/adding_an_op.md walks through a whole op.

**An op.** ``Function`` is the base class: ``forward(*arrays, **params)`` computes the value on NumPy arrays,
``backward(dz, z, *inputs)`` states the derivative once, and runs on arrays (a plain backward) or on Tensors
(``create_graph=True``, so derivatives of any order work). ``Op.apply(*tensors, **params)`` runs it on
Tensors; ``Op.of(...)`` calls another op inside a rule. A rule for inputs that broadcast ends with
``sum_to(gradient, input.shape)``; ``broadcast_to`` is its adjoint. ``Tensor`` is the array the op takes.

**Arguments.** ``axis_arg`` (one axis) and ``axes_arg`` (None, an int or a tuple) check an ``axis`` and count
negatives from the end, with errors naming the op, as every op of the library does; ``shape_arg`` checks a
shape given as ``f(2, 3)`` or ``f((2, 3))``.

**tg.jit.** A replay re-runs each op's ``forward`` and ``backward``; work done outside an op says so:

* ``note(f, *args)``: an array made from others with plain NumPy (a mask, an index), run again on replay;
* ``draw(f, *args)``: a random array (a dropout mask), drawn again on every replay;
* ``@replayable``: a call that changes state (a running statistic, an optimizer step), called again on replay;
* ``refuse_read(tensor, what)``: a tensor's value handed to Python, refused while tracing;
* ``refuse_in_trace(what, why)``: anything else a replay cannot reproduce, refused while tracing;
* ``JitError``: what those refusals raise.

**Checking.** ``gradcheck`` and ``gradgradcheck`` hold the first and second derivatives to central
differences (raising ``GradcheckError``). The hypothesis strategies of ``tinygrad_np.testing`` are here too
(``arrays``, ``shapes``, ``broadcastable_shapes``, ``away_from_zero``, ``positive``, ``distinct``, ``axes``
and ``check_gradients``); they need hypothesis (the ``dev`` extra), so they are imported when first used.
"""
from importlib import import_module

from .core.arguments import axes_arg, axis_arg, shape_arg
from .core.function import Function
from .core.jit_seam import JitError, draw, note, refuse_in_trace, refuse_read, replayable
from .core.tensor import Tensor
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops.reduce import broadcast_to, sum_to

# tinygrad_np.testing needs hypothesis, which only the dev extra installs: its names load when first asked for.
TESTING = ("arrays", "shapes", "broadcastable_shapes", "away_from_zero", "positive", "distinct", "axes",
           "check_gradients")

__all__ = [
    "Function", "Tensor", "sum_to", "broadcast_to", "axis_arg", "axes_arg", "shape_arg",
    "note", "draw", "replayable", "refuse_read", "refuse_in_trace", "JitError",
    "gradcheck", "gradgradcheck", "GradcheckError", *TESTING,
]


def __getattr__(name):
    if name in TESTING:
        try:
            testing = import_module(".testing", __package__)
        except ImportError as err:
            raise ImportError(f"tinygrad_np.extend.{name} comes from tinygrad_np.testing, which needs hypothesis "
                              f"({err}); install it with pip install -e '.[dev]' or pip install hypothesis") from None
        return getattr(testing, name)
    raise AttributeError(f"module 'tinygrad_np.extend' has no attribute {name!r}")
