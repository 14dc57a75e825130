"""Recording one call of a jitted function (jit/__init__.py). Trace, then guards, then program: this is the trace.

The function runs eagerly, as it would without jit, while a ``Trace`` watches:

* every op, through the engine's forward hook (core/engine_hooks.py): its
  class, its parameters, which arrays went in and which came out (``OpStep``);
* every ``Tensor.backward``: the engine runs the pass, and its ``timed`` hook
  hands the trace each rule as it ran, with what it returned. The trace gives
  those gradients to the engine's own ``_accumulate`` to learn where each one
  went, cast or not (``BackwardStep``, ``Rule``, ``Contribution``): the
  program replays the engine's walk, it does not work one out again;
* what the rest of the library reports through core/jit_seam.py: arrays made
  without an op (``NoteStep``), calls with effects such as an optimizer's step
  (``CallStep``), assignments to ``.grad`` (``GradStep``);
* the reads of the user's code, through jit/reads.py: the guards.

Every array gets a slot; its ``Source`` says where a replay gets it. An
``Argument`` comes with the call; ``ReadThrough`` is read from a Tensor the
function did not make (a parameter, a buffer, a tensor it closes over) on every
replay, so ``p.data = ...`` between calls is seen; ``Held`` is an array the
user owns, used by reference, so an in-place change is seen; ``Made`` is filled
by the step that made it. Nothing array-valued is copied into the program.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core import autograd, engine_hooks, gradient_hooks
from ..core.engine_hooks import hooks
from ..core.grad_mode import _state
from ..core.jit_seam import JitError, current
from ..core.tensor import Tensor
from ..core.user_frames import user_line


# ---- where each slot's array comes from -----------------------------------------------------------------------
@dataclass
class Argument:
    """The call's argument ``index`` (a Tensor, or an array made one)."""
    index: int


@dataclass
class ReadThrough:
    """The array of a Tensor the function did not make, read through that Tensor on every replay."""
    tensor: Tensor


@dataclass
class Held:
    """An array the user holds (not in any Tensor the trace knows), used by reference."""
    array: np.ndarray


@dataclass
class Made:
    """Made on each replay by step ``step`` of the program."""
    step: int


Source = Argument | ReadThrough | Held | Made


# ---- references inside a step's parameters, a call's arguments, the result -------------------------------------
class Slot(int):
    """The array in slot n."""


class TensorOf(int):
    """A Tensor the function made, around slot n's array: a replay wraps that replay's array."""


class ArgOf(int):
    """The n-th argument Tensor of the call being replayed."""


@dataclass
class Out:
    """In the result: slot's array, returned as a fresh Tensor or as an array."""
    slot: Slot
    as_tensor: bool


@dataclass
class Value:
    """In the result: something returned as it is (a string, a number the guards hold fixed)."""
    value: Any


def walk(value, visit):
    """``visit`` applied to every item of a nested tuple (named ones too), list or dict, the containers rebuilt
    around the results: the one walker for nested values (a list whose items all come back unchanged is kept
    itself, so that a replay reads what the user puts in it later)."""
    kind = type(value)
    if kind is tuple or kind is list:
        items = [walk(v, visit) for v in value]
        if kind is list and all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return kind(items)
    if kind is dict:
        return {k: walk(v, visit) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(kind, "_fields"):  # a named tuple: sort's and topk's (values, indices)
        return kind(*(walk(v, visit) for v in value))
    return visit(value)


def leaves_of(value):
    """The items of a nested value that are not tuples, lists or dicts."""
    found = []
    walk(value, lambda v: found.append(v) or v)
    return found


def refers(value):
    """True if a described value holds a reference into the trace (a slot, an argument, a Tensor it made): a
    replay must work it out again."""
    return any(isinstance(v, (Slot, ArgOf, TensorOf)) for v in leaves_of(value))


# ---- the steps --------------------------------------------------------------------------------------------------
@dataclass
class OpStep:
    """``out = cls().forward(*inputs, **params)``."""
    line: str
    cls: type
    params: dict
    inputs: list
    needs: tuple  # which inputs need a gradient
    recorded: bool  # the engine linked its output into the graph
    out: Slot = Slot(-1)


@dataclass
class NoteStep:
    """``out = func(*args)``, an array made without an op (random: drawn again on each replay)."""
    line: str
    func: Any
    args: tuple
    random: bool
    out: Slot = Slot(-1)
    parts: list = field(default_factory=list)  # slots of the arrays in a tuple it returns (an index), in order


@dataclass
class CallStep:
    """``func(*args, **kwargs)`` called again on each replay (an optimizer's step)."""
    line: str
    func: Any
    args: tuple
    kwargs: dict
    out: Slot | None = None
    returns_tensor: bool = False


@dataclass
class GradStep:
    """``tensor.grad = value``."""
    line: str
    tensor: Any
    value: Any


@dataclass
class Contribution:
    """The rule's gradient for input ``position`` went to ``node`` (cast to the input's dtype if ``fitted``)."""
    position: int
    node: tuple  # ("op", step index) or ("leaf", leaf number)
    fitted: bool


@dataclass
class Rule:
    """The engine ran the backward rule of op step ``op``; ``contributions`` are where its gradients went."""
    op: int
    single: bool  # the rule returned one gradient rather than a tuple
    contributions: list


@dataclass
class BackwardStep:
    """``root.backward(seed)``: the rules in the order the engine ran them, then .grad for each leaf."""
    line: str
    root: tuple  # the root's node
    root_slot: Slot
    seed: Any  # described (a Slot, ...) or the array the engine made (ones for a scalar)
    rules: list = field(default_factory=list)
    leaves: list = field(default_factory=list)  # (leaf number, described tensor, slot of its new .grad array)


Step = OpStep | NoteStep | CallStep | GradStep | BackwardStep


class Trace:
    """One traced call: ``steps`` in order, the ``sources`` of the slots, and the ``reader``'s guards."""

    def __init__(self, args):
        self.steps = []
        self.values = []  # slot -> the array it held while tracing (held: no other array takes its id)
        self.sources = []  # slot -> Source
        self.slot_of = {}  # id(array) -> slot
        self.leaf_lines = {}  # slot -> where the function first used it, for messages
        self.op_index = {}  # id(Function) -> its step's index
        self.owners = {}  # id(array) -> (the Tensor read from outside that holds it, the array)
        self.leaf_tensors = []  # leaf number -> the Tensor a backward gave a gradient to
        self.args = args
        self.arg_index = {id(t): i for i, t in enumerate(args)}
        self.result = None
        self.reader = None
        self.input_slots = []  # argument i's slot (the same array passed twice is one input)
        for i, t in enumerate(args):
            known = self.slot_of.get(id(t._data))
            self.input_slots.append(self._new_slot(t._data, Argument(i)) if known is None else Slot(known))

    # ---- slots ---------------------------------------------------------------------------------------------
    def _new_slot(self, array, source):
        self.slot_of[id(array)] = len(self.values)
        self.values.append(array)
        self.sources.append(source)
        return Slot(len(self.values) - 1)

    def knows(self, array):
        return id(array) in self.slot_of

    def made(self, tensor):
        """True for a Tensor around an array this trace made."""
        slot = self.slot_of.get(id(tensor._data))
        return slot is not None and isinstance(self.sources[slot], Made)

    def owns(self, tensor):
        """A Tensor read from outside the call (reads.py): its array is read through it on every replay."""
        if not self.made(tensor) and id(tensor) not in self.arg_index:
            self.owners.setdefault(id(tensor._data), (tensor, tensor._data))

    def slot_of_array(self, array, tensor=None):
        """The slot of an array; one met for the first time is read through the Tensor that owns it (or
        ``tensor``), or else held by reference."""
        slot = self.slot_of.get(id(array))
        if slot is None:
            owner = self.owners.get(id(array), (tensor, None))[0]
            slot = self._new_slot(array, ReadThrough(owner) if owner is not None else Held(array))
            self.leaf_lines[slot] = user_line()
        return Slot(slot)

    def slot_of_tensor(self, t):
        if t.op is not None and id(t.op) not in self.op_index and id(t._data) not in self.slot_of:
            raise JitError(f"jit: the jitted function uses a tensor computed before it was called, with its "
                           f"graph, at {user_line()}. A replay cannot differentiate into that graph: detach "
                           "it, or compute it inside the jitted function")
        return self.slot_of_array(t._data, t)

    def describe(self, value):
        """A step's argument as the program keeps it: arrays as Slots, the call's argument Tensors as ArgOf,
        Tensors it made as TensorOf, containers item by item, anything else (a parameter, an optimizer, a
        number) as it is."""
        return walk(value, self._describe_one)

    def _describe_one(self, value):
        if isinstance(value, np.ndarray):
            return self.slot_of_array(value)
        if isinstance(value, Tensor):
            if id(value) in self.arg_index:
                return ArgOf(self.arg_index[id(value)])
            return TensorOf(self.slot_of[id(value._data)]) if self.made(value) else value
        return value

    def node(self, t):
        """The gradient node a tensor is: the op step that made it, or a leaf (numbered in order met)."""
        if t.op is not None and id(t.op) in self.op_index:
            return ("op", self.op_index[id(t.op)])
        for i, known in enumerate(self.leaf_tensors):
            if known is t:
                return ("leaf", i)
        self.leaf_tensors.append(t)
        return ("leaf", len(self.leaf_tensors) - 1)

    # ---- recording ------------------------------------------------------------------------------------------
    def start(self, reader):
        self.reader = reader
        self._saved_passes = hooks.passes
        engine_hooks.add("forward", self._forward_hook)
        engine_hooks.add("passes", self._backward)
        current.trace = self
        reader.start()

    def stop(self):
        self.reader.stop()
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
            slots = [self.slot_of_tensor(t) for t in inputs]
            needs = tuple(t.requires_grad for t in inputs)
            step = OpStep(user_line(), type(fn), self.describe(params), slots, needs, True in needs and _state.enabled)
            self.op_index[id(fn)] = len(self.steps)
            self.steps.append(step)
            step.out = self._new_slot(data, Made(len(self.steps) - 1))

    def noted(self, func, args, result, random):
        described = self.describe(args)
        if not random and _constant(described):
            return  # made from Python constants only, which the guards hold: a constant
        step = NoteStep(user_line(), func, described, random)
        self.steps.append(step)
        step.out = self._new_slot(result, Made(len(self.steps) - 1))
        if type(result) is tuple:
            step.parts = [self._new_slot(r, Made(len(self.steps) - 1)) if isinstance(r, np.ndarray) else None
                          for r in result]

    def called(self, func, args, kwargs, result):
        if self.reader is not None:
            self.reader.after_call(func, args, kwargs)
        step = CallStep(user_line(), func, self.describe(args), self.describe(kwargs))
        self.steps.append(step)
        value = result._data if isinstance(result, Tensor) else result
        if isinstance(value, np.ndarray):
            step.out = self._new_slot(value, Made(len(self.steps) - 1))
            step.returns_tensor = isinstance(result, Tensor)

    def assigned_grad(self, tensor, value):
        self.steps.append(GradStep(user_line(), self.describe(tensor), None if value is None else self.describe(value)))

    def saw_module(self, module):
        if self.reader is not None:
            self.reader.saw_module(module)

    def guard(self, obj, attribute, value):
        """The library read ``obj.attribute`` (a module's training flag): its module is guarded whole."""
        self.saw_module(obj)

    # ---- backward -------------------------------------------------------------------------------------------
    def _backward(self, tensor, grad, retain_graph, create_graph):
        """Tensor.backward while tracing: the engine runs the pass; its timed hook hands over each rule."""
        line = user_line()
        if create_graph:
            raise JitError(f"jit: backward(create_graph=True) inside a jitted function, at {line}: a replay "
                           "records no graph to differentiate again. Run higher-order derivatives without jit")
        if gradient_hooks.registry:
            raise JitError(f"jit: a tensor has a gradient hook (register_hook) while backward is traced, at {line}: "
                           "a replay runs only the recorded array operations, not the hook. Remove it with its "
                           "handle's remove(), or run without jit")
        if tensor.requires_grad:
            seed = autograd._seed(tensor, grad, "backward", "grad=")
            root_slot = self.slot_of_tensor(tensor)
            step = BackwardStep(line, self.node(tensor), root_slot,
                                self.describe(seed._data) if grad is not None else seed._data)
            self._pass = step
            engine_hooks.add("timed", self._rule_ran)
        try:
            with self.paused():
                autograd.backward(tensor, grad, retain_graph, create_graph)
        finally:
            if tensor.requires_grad:
                engine_hooks.remove("timed", self._rule_ran)
        self.steps.append(step)
        reached = [step.root] + [c.node for rule in step.rules for c in rule.contributions]
        for node in dict.fromkeys(n for n in reached if n[0] == "leaf"):  # in the order of their first gradient
            leaf = self.leaf_tensors[node[1]]
            step.leaves.append((node[1], self.describe(leaf), self._new_slot(leaf._grad._data,
                                                                             Made(len(self.steps) - 1))))

    def _rule_ran(self, fn, grad, input_grads, start, duration):
        """The engine ran ``fn``'s rule: where did each gradient go? The engine's own _accumulate says, given
        the gradient alone, as it was given it in the pass."""
        single = type(input_grads) is not tuple
        grads = (input_grads,) if single else input_grads
        contributions = []
        for position, (x, gx) in enumerate(zip(fn.inputs, grads, strict=True)):
            probe = {}
            autograd._accumulate([(x, gx)], fn, probe, [])
            if x in probe:
                contributions.append(Contribution(position, self.node(x), probe[x] is not gx))
        self._pass.rules.append(Rule(self.op_index[id(fn)], single, contributions))

    # ---- results --------------------------------------------------------------------------------------------
    def describe_result(self, value):
        """The function's result as a template: Tensors and arrays as Out, containers item by item, anything
        else as a Value."""
        def one(v):
            if isinstance(v, (Tensor, np.ndarray)):
                array = v._data if isinstance(v, Tensor) else v
                return Out(self.slot_of_array(array, v if isinstance(v, Tensor) else None), isinstance(v, Tensor))
            return Value(v)
        return walk(value, one)


def _constant(value):
    """A described value a replay may keep as it is: Python constants (held fixed by the guards), in tuples;
    not an array, a Tensor, or a list, dict or set (the user may change those in place between calls)."""
    if type(value) is tuple:
        return all(_constant(v) for v in value)
    return not isinstance(value, (Slot, ArgOf, TensorOf, Tensor, np.ndarray, list, dict, set))
