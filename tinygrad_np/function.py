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
        """Drop everything saved for backward so its arrays can be freed."""
        self.__dict__.clear()
        self.inputs = None
        self._output = None

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
