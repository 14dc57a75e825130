"""``Function``: one differentiable operation, the unit the graph is made of.

``forward(*arrays, **params)`` computes the value on NumPy arrays;
``backward(grad)`` states the derivative in Tensor operations, so the engine
can record it and differentiate it again. Inside ``backward``, ``self.inputs``
are the input Tensors, ``self.output`` the result, ``self.needs_input_grad``
which inputs want a gradient. The whole story: docs/how_it_works.md; adding
an op: docs/adding_an_op.md.
"""
import re
import threading
import weakref

import numpy as np

from .grad_mode import _state
from .tensor import Tensor, clock


class _Hooks(threading.local):
    forward = ()  # callables hook(fn, inputs, output_array), run after every forward in this thread


hooks = _Hooks()
forward_hooks_in_use = 0  # across all threads: apply reads its own thread's list only when some exist


class Function:
    name = "function"  # each subclass gets its own (see __init_subclass__)
    inputs = None  # the input Tensors; None once the graph has been released
    seq = -1  # when this op ran: the engine visits ops newest first, and checks inputs against it
    _output = None  # weak reference to the result, set when the call is recorded
    preserves_dtype = True  # the result keeps the inputs' float dtype (Cast is the one op that may not)
    released_because = "backward() has already run through it"  # why the saved arrays are gone, once they are

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{self.name}.forward")

    def backward(self, grad):
        raise NotImplementedError(f"{self.name}.backward")

    def backward_arrays(self, grad):
        """Optional: the same rule as ``backward`` on NumPy arrays, for a backward pass that is not
        recorded (the usual one). ``backward`` stays the reference: recorded passes use it, and gradcheck
        (array lane) against gradgradcheck (Tensor lane) tests that the two agree."""
        return NotImplemented

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in vars(cls):  # the op's name as a user writes it: cross_entropy for CrossEntropy
            cls.name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls.__name__).lower()

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
        fn = cls()
        # One and two inputs, nearly every op, spelled out: apply runs for every op, and in CPython 3.11
        # each comprehension is a function call of its own.
        if len(inputs) == 2:
            x, y = inputs
            arrays, needs = (x._data, y._data), (x.requires_grad, y.requires_grad)
        elif len(inputs) == 1:
            arrays, needs = (inputs[0]._data,), (inputs[0].requires_grad,)
        else:
            arrays, needs = [t._data for t in inputs], tuple([t.requires_grad for t in inputs])
        try:
            data = fn.forward(*arrays, **params)
        except (ValueError, IndexError, TypeError) as err:
            raise _with_context(err, fn.name, inputs) from None
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # full reductions hand back NumPy scalars
        if arrays and data.dtype is not arrays[0].dtype and cls.preserves_dtype and data.dtype.kind == "f":
            data = _keep_input_dtype(data, inputs)
        if forward_hooks_in_use and hooks.forward:
            for hook in hooks.forward:
                hook(fn, inputs, data)
        if True not in needs or not _state.enabled:  # every op under no_grad, and every op of a plain backward
            return Tensor._make(data, False)
        out = Tensor._make(data, True)
        fn.inputs = inputs
        fn.needs_input_grad = needs
        fn.seq = next(clock)
        fn._output = weakref.ref(out)
        out.op = fn
        return out

    @property
    def released(self):
        """True once release() has dropped what backward needs (a recorded op keeps its inputs until then)."""
        return self.inputs is None

    def release(self):
        """Drop everything saved for backward so its arrays can be freed: one dict clear, as it runs for every
        op of every backward. released_because keeps its class default unless the caller sets another reason."""
        self.__dict__.clear()  # inputs, _output and released_because fall back to the class defaults

    def __repr__(self):
        return f"<{self.name}>"


def _keep_input_dtype(data, inputs):
    """A float result takes the inputs' float dtype: a float64 NumPy scalar inside a forward must not
    turn float32 in into float64 out."""
    dtype = data.dtype
    floats = []
    for t in inputs:
        d = t._data.dtype
        if d is dtype or d == dtype:
            return data
        if d.kind == "f":
            floats.append(d)
    return data.astype(np.result_type(*floats)) if floats else data


def _with_context(err, name, inputs):
    """NumPy's error says what failed but not in which op or on which shapes: add both."""
    message = str(err)
    if message.startswith(name + ":") or message.startswith(name + " "):
        return err  # the op's own check already said it
    shapes = [str(t.shape) for t in inputs]
    where = f"shape {shapes[0]}" if len(shapes) == 1 else "shapes " + " and ".join(shapes)
    return type(err)(f"{name}: {where}: {message}")
