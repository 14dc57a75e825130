"""``Function``: one differentiable operation, the unit the graph is made of.

A Function has two halves, kept apart on purpose:

* ``forward(*arrays, **params)`` computes the value with plain NumPy arrays.
* ``backward(grad)`` states the derivative: given dL/d(output) as a Tensor it
  returns dL/d(input) for each input, written with Tensor operations.

Because backward is written with Tensor operations, the engine can record it
(``create_graph=True``) and differentiate the derivative again; when it does
not record, those operations build no graph and cost little more than NumPy.

Inside ``backward`` a Function reads its inputs as Tensors from
``self.inputs`` and its result from ``self.output``; ``self.needs_input_grad``
tells which inputs want a gradient, so work for the others can be skipped.
Anything else ``forward`` needs to hand to ``backward`` it stores on ``self``.

To add an op, subclass Function, state its derivative in the docstring, and
call ``MyOp.apply(*tensors, **params)``. See docs/adding_an_op.md.
"""
import itertools
import weakref

import numpy as np

from .grad_mode import _state
from .tensor import Tensor

_sequence = itertools.count()
_new_function = object.__new__


class Function:
    inputs = None  # the input Tensors; None once the graph has been released
    seq = -1  # when this op ran, among all recorded ops: the engine visits newest first
    _output = None  # weak reference to the result, set when the call is recorded

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    @property
    def name(self):
        return type(self).__name__

    @property
    def output(self):
        # Held weakly: a strong reference would make output -> Function ->
        # output a cycle that only the cyclic garbage collector could free.
        out = self._output() if self._output is not None else None
        if out is None:
            raise RuntimeError(f"{self.name}: its output tensor is no longer alive")
        return out

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays; record the call if any input needs a gradient."""
        fn = _new_function(cls)  # no __init__ to run: skip the call
        try:
            data = fn.forward(*[t.data for t in inputs], **params)
        except (ValueError, IndexError) as err:
            raise _with_context(err, cls, inputs) from None
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # full reductions hand back NumPy scalars
        if anomaly_mode.enabled:
            fn.created_at = _creation_site()
            _check_forward(fn, data, inputs)
        needs = tuple([t.requires_grad for t in inputs]) if _state.enabled else ()
        if True not in needs:  # this path is every op under no_grad, and every op of a plain backward
            return Tensor._make(data, False)
        out = Tensor._make(data, True)
        fn.inputs = inputs
        fn.needs_input_grad = needs
        fn.seq = next(_sequence)
        fn._output = weakref.ref(out)
        out._ctx = fn
        return out

    def release(self):
        """Drop everything saved for backward so its arrays can be freed.

        ``inputs`` and ``_output`` fall back to their class defaults, None,
        which is how the engine recognises a released op.
        """
        self.__dict__.clear()

    @property
    def released(self):
        return self.inputs is None

    def __repr__(self):
        return f"<{self.name}>"


def _with_context(err, cls, inputs):
    """NumPy's error says what failed but not in which op or on which shapes: add both."""
    name = cls.__name__.lower()
    message = str(err)
    if message.startswith(name + ":"):
        return err  # the op's own check already said it
    shapes = [str(t.shape) for t in inputs]
    where = f"shape {shapes[0]}" if len(shapes) == 1 else "shapes " + " and ".join(shapes)
    return type(err)(f"{name}: {where}: {message}")


class _AnomalyMode:
    """Switched on by ``tinygrad_np.detect_anomaly()`` (see debug.py)."""

    enabled = False
    backward_of = None  # the Function whose backward rule is running, set by the engine in this mode


anomaly_mode = _AnomalyMode()


class AnomalyError(FloatingPointError):
    """An op produced NaN or infinity, in forward or in backward, under ``detect_anomaly()``."""


def _creation_site():
    """'file:line' of the innermost frame outside this package: the user's line that ran the op."""
    import sys

    package = __file__.rsplit("/", 1)[0] + "/"
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back
    return "unknown" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _nonfinite(array):
    """'nan' or 'inf' if the array holds one (nan reported first), else None."""
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"


def _check_forward(fn, data, inputs):
    bad = _nonfinite(data)
    if bad is None:
        return
    inputs_bad = any(_nonfinite(t.data) for t in inputs)
    origin = "its inputs already held non-finite values" if inputs_bad else "from finite inputs"
    shapes = ", ".join(str(t.shape) for t in inputs)
    owner = anomaly_mode.backward_of
    if owner is not None:  # an op inside a backward rule: blame the rule
        raise AnomalyError(f"{owner.name} (backward) produced {bad} {origin}, in its {fn.name} on {shapes}; "
                           f"the op was created at {getattr(owner, 'created_at', 'unknown')}")
    raise AnomalyError(f"{fn.name} (forward, inputs {shapes}) produced {bad} {origin}; "
                       f"the op was created at {fn.created_at}")
