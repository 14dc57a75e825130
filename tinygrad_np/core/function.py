"""``Function``: one differentiable operation, the unit the graph is made of.

An op says two things, side by side:

* ``forward(*arrays, **params)``: its value, computed on NumPy arrays;
* ``backward(dz, z, *inputs)``: its derivative, stated once. Given dL/dz, the
  output z and the inputs, it returns dL/dx for each input (None for an input
  that needs none: ``self.needs_input_grad`` says which do).

One rule serves both kinds of backward pass. On a plain pass, dz, z and the
inputs are NumPy arrays and the rule is a few NumPy calls. On a recorded pass
(``create_graph=True``, for derivatives of derivatives) they are Tensors, so
the rule's own operations join the graph and can be differentiated again. A
rule therefore sticks to what arrays and Tensors share: arithmetic, ``@``, the
methods both have (reshape, sum, transpose, astype, ...), another op through
``Op.of(...)``, and constants read with ``np.asarray``. docs/how_it_works.md
tells the whole story; docs/adding_an_op.md shows how to add one.
"""
import re

import numpy as np

from .backward_checks import check_rule_signature
from .engine_hooks import finish, in_use, watched
from .grad_mode import _state
from .tensor import Tensor, clock


class Function:
    name = "function"  # each subclass gets its own (see __init_subclass__)
    inputs = None  # the input Tensors; None once the graph has been released
    arrays = None  # their arrays, as forward saw them: what the plain backward pass hands the rule
    seq = -1  # when this op ran: the engine visits ops newest first, and checks inputs against it
    preserves_dtype = True  # the result keeps the inputs' float dtype (Cast is the one op that may not)
    released_because = "backward() has already run through it"  # why the saved arrays are gone, once they are

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{self.name}.forward")

    def backward(self, dz, z, *inputs):
        raise NotImplementedError(f"{self.name}.backward")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in vars(cls):  # the op's name as a user writes it: cross_entropy for CrossEntropy
            cls.name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls.__name__).lower()
        if "backward" in vars(cls):
            check_rule_signature(cls)

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays; link the result to this call if any input needs a gradient."""
        fn, watchers = cls(), None
        if in_use.watching:  # some thread has a forward hook or runs func.vmap (engine_hooks.py): rarely true
            batched, watchers = watched(cls, fn, inputs, params)
            if batched is not None:  # inside func.vmap, an op on a batched input ran as its batching rule
                return batched
        # A speed trick, one of the two the engine keeps (the other is in autograd._run_plain): one and two
        # inputs, nearly every op, spelled out. In CPython 3.11 each comprehension is a function call of its
        # own, and apply runs for every op: written plainly, a 1,000-op mul chain took 12% longer and the
        # batch-32 MNIST step 2% (benchmarks/engine_ab.py).
        if len(inputs) == 2:
            x, y = inputs
            arrays, needs = (x._data, y._data), (x.requires_grad, y.requires_grad)
        elif len(inputs) == 1:
            arrays, needs = (inputs[0]._data,), (inputs[0].requires_grad,)
        else:
            arrays, needs = tuple([t._data for t in inputs]), tuple([t.requires_grad for t in inputs])
        try:
            data = fn.forward(*arrays, **params)
        except (ValueError, IndexError, TypeError) as err:
            raise _with_context(err, fn.name, inputs) from None
        if type(data) is not np.ndarray or (arrays and data.dtype is not arrays[0].dtype):
            data = as_output(cls, data, arrays)
        if watchers is not None:
            finish(watchers, data)
        if True not in needs or not _state.enabled:  # every op under no_grad, and every op of a plain backward
            return Tensor._make(data, False)
        out = Tensor._make(data, True)
        fn.inputs, fn.arrays, fn.needs_input_grad, fn.seq = inputs, arrays, needs, next(clock)
        out.op = fn
        return out

    @classmethod
    def of(cls, *values, **params):
        """This op on values of either kind, for use inside a rule: ``apply`` on Tensors (recorded when
        recording is on), plain ``forward`` on arrays (``Cos.of(x)`` in Sin's rule)."""
        if isinstance(values[0], Tensor):
            return cls.apply(*values, **params)
        return cls().forward(*values, **params)

    @property
    def released(self):
        """True once release() has dropped what backward needs (a recorded op keeps its inputs until then)."""
        return self.inputs is None

    def release(self):
        """Drop everything saved for backward so its arrays can be freed. released_because keeps its class
        default unless the caller sets another reason."""
        self.__dict__.clear()  # inputs, arrays and anything forward saved; the class defaults show through

    def __repr__(self):
        return f"<{self.name}>"


def as_output(cls, data, arrays):
    """What ``apply`` makes of a forward's result (a jit replay calls it too): an ndarray (full reductions hand
    back NumPy scalars), of the inputs' float dtype unless the op changes it (Cast): a float64 NumPy scalar
    inside a forward must not turn float32 in into float64 out. A float made from integer inputs alone
    (``exp``, ``/`` or ``sqrt`` of an int tensor) is float32, PyTorch's default float, not NumPy's float64."""
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    if arrays and data.dtype is not arrays[0].dtype and cls.preserves_dtype and data.dtype.kind == "f":
        floats = [a.dtype for a in arrays if a.dtype.kind == "f"] or [np.float32]  # ints alone: PyTorch's float32
        if data.dtype not in floats:
            data = data.astype(np.result_type(*floats))
    return data


def _with_context(err, name, inputs):
    """NumPy's error says what failed but not in which op or on which shapes: add both."""
    message = str(err)
    if message.startswith(name + ":") or message.startswith(name + " "):
        return err  # the op's own check already said it
    shapes = [str(t.shape) for t in inputs]
    where = f"shape {shapes[0]}" if len(shapes) == 1 else "shapes " + " and ".join(shapes)
    return type(err)(f"{name}: {where}: {message}")
