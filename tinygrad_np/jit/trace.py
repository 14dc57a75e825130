"""Recording one call of a jitted function: the array operations it performs, in order (jit/__init__.py).

The function runs eagerly, as it would without jit, while a ``Trace`` watches:

* every op, through the engine's forward hook (core/engine_hooks.py): its class, its
  parameters, which arrays went in and which came out;
* every ``Tensor.backward``: the trace runs the pass itself and works out, from
  the recorded graph, the order in which the engine visited the ops and where
  each gradient went, the same walk as autograd._backpropagate;
* what the rest of the library reports through core/jit_seam.py: arrays made
  without an op, random draws, calls with effects (optimizer steps), the
  ``training`` flags the function read (guards), and assignments to ``.grad``.

Each array gets a slot number. A slot is filled on a replay by the step that
made it, or read from where it lives: an argument, or a tensor the function
did not make (a parameter, a buffer, a constant). Reading through the tensor
on every replay is what makes ``p.data = ...`` and ``load_state_dict`` between
calls visible. program.py turns the steps into straight-line code.
"""
from contextlib import contextmanager

import numpy as np

from ..core import autograd, engine_hooks, gradient_hooks
from ..core.engine_hooks import hooks
from ..core.grad_mode import _state
from ..core.jit_seam import JitError, current
from ..core.tensor import Tensor
from ..core.user_frames import user_line


class Slot(int):
    """A reference to the array in slot n, inside a step's parameters or a call's arguments."""


class TensorOf(int):
    """A Tensor the function made, around the array in slot n: a replay wraps that replay's array."""


class ArgOf(int):
    """The n-th argument Tensor of the call being replayed."""


class Out:
    """In the result's template: slot n's array, returned as a fresh Tensor or as an array."""

    def __init__(self, slot, as_tensor):
        self.slot, self.as_tensor = slot, as_tensor


class Value:
    """In the result's template: something returned as it is (a string, a number fixed by the signature)."""

    def __init__(self, value):
        self.value = value


class Step:
    """One entry of the program. ``kind`` is "op", "note", "call", "grad" (an assignment to .grad) or
    "backward"; the other fields depend on it (see the Trace methods that make each)."""

    def __init__(self, kind, line, **fields):
        self.kind, self.line = kind, line
        self.__dict__.update(fields)


class Trace:
    """One traced call: ``steps`` in order, and what each slot holds (see the module's doc)."""

    def __init__(self, args):
        self.steps, self.values, self.kinds, self.slot_of = [], [], [], {}
        self.leaves = {}  # slot -> the Tensor a replay reads it from
        self.leaf_lines = {}  # slot -> where the function first used that leaf, for the messages
        self.op_index = {}  # id(Function) -> its step's index, for the graph's links
        self.guards = []  # (object, attribute, value): the trace holds only while each still has that value
        self.modules = {}  # id -> each Module called while tracing (see module_guards)
        self.args = args  # the argument Tensors, in order
        self.arg_index = {id(t): i for i, t in enumerate(args)}
        self.result = None
        self.input_slots = []  # argument i's slot (the same array passed twice is one input)
        for t in args:
            known = self.slot_of.get(id(t._data))
            self.input_slots.append(self._new_slot(t._data, "input") if known is None else Slot(known))

    # ---- slots ---------------------------------------------------------------------------------------------
    def _new_slot(self, array, kind):
        self.slot_of[id(array)] = len(self.values)
        self.values.append(array)  # held, so that no other array can take its id while the trace lives
        self.kinds.append(kind)
        return Slot(len(self.values) - 1)

    def knows(self, array):
        return id(array) in self.slot_of

    def slot_of_tensor(self, t):
        """The slot holding ``t``'s array; a tensor met for the first time is a leaf, read through ``t``."""
        slot = self.slot_of.get(id(t._data))
        if slot is None:
            if t.op is not None and id(t.op) not in self.op_index:
                raise JitError(f"jit: the jitted function uses a tensor computed before it was called, with its "
                               f"graph, at {user_line()}. A replay cannot differentiate into that graph: detach "
                               "it, or compute it inside the jitted function")
            slot = self._new_slot(t._data, "leaf")
            self.leaves[slot] = t
            self.leaf_lines[slot] = user_line()
        return Slot(slot)

    def describe(self, value):
        """A step's argument as the program keeps it: arrays it knows as Slots, the call's argument Tensors as
        ArgOf, Tensors it made as TensorOf, containers item by item, anything else (a parameter, an optimizer,
        a number) as it is."""
        if isinstance(value, np.ndarray):
            slot = self.slot_of.get(id(value))
            return value if slot is None else Slot(slot)
        if isinstance(value, Tensor):
            slot = self.slot_of.get(id(value._data))
            if id(value) in self.arg_index:
                return ArgOf(self.arg_index[id(value)])
            made_here = slot is not None and self.kinds[slot] not in ("leaf", "input")
            return TensorOf(slot) if made_here else value
        if isinstance(value, (tuple, list)):
            items = [self.describe(v) for v in value]
            if isinstance(value, list) and all(a is b for a, b in zip(items, value, strict=True)):
                return value  # the list itself, not a copy: a replay sees what the user puts in it later
            return type(value)(items)
        if isinstance(value, dict):
            return {k: self.describe(v) for k, v in value.items()}
        return value

    def node(self, t):
        """The graph node a tensor is: the op step that made it, or the tensor itself (a leaf)."""
        return ("op", self.op_index[id(t.op)]) if t.op is not None and id(t.op) in self.op_index else ("leaf", t)

    # ---- recording ------------------------------------------------------------------------------------------
    def start(self):
        self._saved_passes = hooks.passes
        engine_hooks.add("forward", self._forward_hook)
        engine_hooks.add("passes", self._backward)
        current.trace = self

    def stop(self):
        current.trace = None
        engine_hooks.remove("passes", self._backward)
        engine_hooks.remove("forward", self._forward_hook)

    @contextmanager
    def paused(self):
        """Library work the trace records as one step (an optimizer's step) runs unwatched."""
        previous, passes = current.trace, hooks.passes
        current.trace, hooks.passes = None, self._saved_passes
        try:
            yield
        finally:
            current.trace, hooks.passes = previous, passes

    def _forward_hook(self, fn, inputs, params):
        data = yield
        if current.trace is self:
            self._op(fn, inputs, params, data)

    def _op(self, fn, inputs, params, data):
        slots = [self.slot_of_tensor(t) for t in inputs]
        needs = tuple(t.requires_grad for t in inputs)
        step = Step("op", user_line(), fn=fn, cls=type(fn), params=self.describe(params), inputs=slots,
                    nodes=[self.node(t) for t in inputs], needs=needs, recorded=True in needs and _state.enabled,
                    input_dtypes=[t.dtype for t in inputs])
        self.op_index[id(fn)] = len(self.steps)
        self.steps.append(step)
        step.out = self._new_slot(data, "op")

    def noted(self, func, args, result, random):
        described = self.describe(args)
        if not random and not refers(described) and not any(isinstance(a, list) for a in args):
            return  # made from constants only: a constant, read from where it lives if an op uses it
        # (a list is not a constant: the user may change it in place between calls, so a replay makes the array
        # again from it)
        step = Step("note", user_line(), func=func, args=described, random=random)
        self.steps.append(step)
        step.out = self._new_slot(result, "note")

    def called(self, func, args, kwargs, result):
        step = Step("call", user_line(), func=func, args=self.describe(args), kwargs=self.describe(kwargs),
                    out=None)
        self.steps.append(step)
        value = result._data if isinstance(result, Tensor) else result
        if isinstance(value, np.ndarray):
            step.out = self._new_slot(value, "call")
            step.returns_tensor = isinstance(result, Tensor)

    def assigned_grad(self, tensor, value):
        if value is not None:
            value = self.describe(value)
        self.steps.append(Step("grad", user_line(), tensor=self.describe(tensor), value=value))

    def saw_module(self, module):
        self.modules[id(module)] = module

    def module_guards(self):
        """What each module that ran holds now, attribute by attribute (lists as copies): a replay is valid
        while every one is the same object or an equal number, string or flag. Replacing a layer or a parameter
        (``model.fc = nn.Linear(...)``), or changing dropout's ``p``, then traces again."""
        return [(m, {k: tuple(v) if type(v) is list else v for k, v in vars(m).items()}) for m in self.modules.values()]

    def guard(self, obj, attribute, value):
        if not any(o is obj and a == attribute for o, a, _ in self.guards):
            self.guards.append((obj, attribute, value))

    # ---- backward -------------------------------------------------------------------------------------------
    def _backward(self, tensor, grad, retain_graph, create_graph):
        """Tensor.backward while tracing: run it, then record which tensors it gave gradients to. The walk itself
        is worked out again from the graph when the program is made (program.py)."""
        line = user_line()
        if create_graph:
            raise JitError(f"jit: backward(create_graph=True) inside a jitted function, at {line}: a replay "
                           "records no graph to differentiate again. Run higher-order derivatives without jit")
        if gradient_hooks.registry:
            raise JitError(f"jit: a tensor has a gradient hook (register_hook) while backward is traced, at {line}: "
                           "a replay runs only the recorded array operations, not the hook. Remove it with its "
                           "handle's remove(), or run without jit")
        candidates = [node[1] for step in self.steps if step.kind == "op" for node in step.nodes
                      if node[0] == "leaf" and node[1].requires_grad]
        root = self.node(tensor)
        if root[0] == "leaf":
            candidates.append(tensor)
        before = {id(t): t._grad for t in candidates}
        with self.paused():
            autograd.backward(tensor, grad, retain_graph, create_graph)
        seed = autograd._seed(tensor, grad, "backward", "grad=")
        reached, leaves = set(), []
        for t in candidates:
            if id(t) not in reached and t._grad is not before[id(t)]:
                reached.add(id(t))
                leaves.append(t)
        self.steps.append(Step("backward", line, root=root, seed=self.describe(seed._data) if grad is not None
                               else seed._data, leaves={id(t): (self.describe(t), self._new_slot(t._grad._data, "grad"))
                                                        for t in leaves}))

    # ---- results --------------------------------------------------------------------------------------------
    def describe_result(self, value):
        """The function's result as a template: Tensors and arrays as Out, containers item by item, anything
        else as a Value."""
        if isinstance(value, (Tensor, np.ndarray)):
            array = value._data if isinstance(value, Tensor) else value
            slot = self.slot_of.get(id(array))
            if slot is None:
                slot = self._new_slot(array, "leaf")
                self.leaves[slot] = value if isinstance(value, Tensor) else Tensor._make(array, False)
                self.leaf_lines[slot] = "the result"
            return Out(Slot(slot), isinstance(value, Tensor))
        if isinstance(value, (tuple, list)):
            return type(value)(self.describe_result(v) for v in value)
        if isinstance(value, dict):
            return {k: self.describe_result(v) for k, v in value.items()}
        return Value(value)


def refers(value):
    """True if a described value (see Trace.describe) holds a reference into the trace: a slot, an argument or
    a Tensor the function made, so that a replay must work it out again."""
    if isinstance(value, (Slot, ArgOf, TensorOf)):
        return True
    if isinstance(value, (tuple, list)):
        return any(refers(v) for v in value)
    if isinstance(value, dict):
        return any(refers(v) for v in value.values())
    return False
