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
* the reads of the user's code, through jit/reads.py: the guards; and its
  writes into objects from outside the call (``box.last = y``,
  ``history.append(loss)``), which become calls a replay makes again
  (``CallStep``), with the replay's own tensors.

Every array gets a slot; its ``Source`` says where a replay gets it. An
``Argument`` comes with the call; ``ReadThrough`` is read from a Tensor the
function did not make (a parameter, a buffer, a tensor it closes over) on every
replay, so ``p.data = ...`` between calls is seen; ``Held`` is an array the
user owns, used by reference, so an in-place change is seen; ``Made`` is filled
by the step that made it. Nothing array-valued is copied into the program.

A Tensor from outside gets its own slot, by identity, even when it shares its
array with another (two parameters made from one array, a closed-over array
that is also a tensor's ``.data``): each is read from its own owner on every
replay. An argument that is also read from outside (the parameter passed as an
argument) is noted in ``aliased``: the jit keys the program on it.

While it records, the trace also watches for what a replay could not
reproduce: another tool hooked into the engine inside the call
(``detect_anomaly``), NumPy's error state or the warning filters changed inside
the call (a replay would not raise), an error raised by the array work that the
function catches (a replay runs no ``except``), and a refusal the function
catches (``refused``). Each of these refuses the trace when the function
returns. The grad mode the call leaves behind is made again by each replay.
"""
import operator
import types
import warnings
from collections import _count_elements  # type: ignore[attr-defined]
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
    """In the result: slot's array, returned as a fresh Tensor or as an array; ``copied`` for an array the
    call made other than by an op (np.zeros, tg.zeros): each replay returns a copy, as each eager call a new one."""
    slot: Slot
    as_tensor: bool
    copied: bool = False


@dataclass
class Value:
    """In the result: something returned as it is (a string, a number the guards hold fixed)."""
    value: Any


def walk(value, visit, keep_lists=True):
    """``visit`` applied to every item of a nested tuple (named ones too), list or dict, the containers rebuilt
    around the results: the one walker for nested values. A list whose items all come back unchanged is kept
    itself (so that a replay reads what the user puts in it later), unless ``keep_lists`` is False (a result:
    each call gets its own containers)."""
    kind = type(value)
    if kind is tuple or kind is list:
        items = [walk(v, visit, keep_lists) for v in value]
        if keep_lists and kind is list and all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return kind(items)
    if kind is dict:
        return {k: walk(v, visit, keep_lists) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(kind, "_fields"):  # a named tuple: sort's and topk's (values, indices)
        return kind(*(walk(v, visit, keep_lists) for v in value))
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
        self.slot_of = {}  # id(array) -> slot, for the arguments' arrays, made arrays and held arrays
        self.tensor_slot = {}  # id(tensor) -> slot, for a Tensor from outside: read through it, by identity
        self.leaf_lines = {}  # slot -> where the function first used it, for messages
        self.op_index = {}  # id(Function) -> its step's index
        self.owners = {}  # id(array) -> (the Tensor read from outside that holds it, the array)
        self.outside_ids = {}  # id -> a Tensor or array the reader saw come from outside the call
        self.aliased = {}  # argument index -> the object it is, that the function also reads from outside
        self.leaf_tensors = []  # leaf number -> the Tensor a backward gave a gradient to
        self.args = args
        self.arg_index = {id(t): i for i, t in enumerate(args)}
        self.result = None
        self.reader = None
        self.refusal = None  # the first JitError made while recording (raised at the end even if caught)
        self.created: dict = {}  # id -> each Tensor constructed while tracing (Tensor.__init__: factories, buffers)
        self.caught_at = None  # the line of a try/except in the user's code around array work, if any
        self.swallowed = None  # (line, error) of array work that raised while recording
        self._open_op = None  # the line of the op whose forward is running
        self.generators = {}  # id -> (a NumPy Generator drawn from, its SeedGenerator if unused until then)
        self.input_slots = []  # argument i's slot (the same array passed twice is one input)
        for i, t in enumerate(args):
            known = self.slot_of.get(id(t._data))
            self.input_slots.append(self._new_slot(t._data, Argument(i)) if known is None else Slot(known))

    # ---- slots ---------------------------------------------------------------------------------------------
    def _new_slot(self, array, source, register=True):
        if register:
            self.slot_of[id(array)] = len(self.values)
        self.values.append(array)
        self.sources.append(source)
        return Slot(len(self.values) - 1)

    def knows(self, array):
        return id(array) in self.slot_of

    def program_array(self, array):
        """True for an argument's array or one the trace made: the program's own, not read from outside."""
        slot = self.slot_of.get(id(array))
        return slot is not None and isinstance(self.sources[slot], (Argument, Made)) and self.values[slot] is array

    def made(self, tensor):
        """True for a Tensor around an array this trace made."""
        slot = self.slot_of.get(id(tensor._data))
        return slot is not None and isinstance(self.sources[slot], Made)

    def owns(self, tensor):
        """A Tensor read from outside the call (reads.py): its array is read through it on every replay. If it
        is also an argument of this call, that is noted (``aliased``): the program is for that case only."""
        if id(tensor) in self.arg_index:
            self.aliased[self.arg_index[id(tensor)]] = tensor
            self.outside_ids[id(tensor)] = tensor
            return
        if not self.made(tensor):
            self.owners.setdefault(id(tensor._data), (tensor, tensor._data))
            self.outside_ids[id(tensor)] = tensor

    def saw_array(self, array):
        """An array Python read from outside the call (a global, a closure, an attribute): if it is also an
        argument's array, the program is for that case only (``aliased``)."""
        self.outside_ids[id(array)] = array
        for i, t in enumerate(self.args):
            if t._data is array:
                self.aliased[i] = array

    def slot_of_array(self, array, tensor=None):
        """The slot of an array: an argument's, a made one, one held already; else, met for the first time, read
        through the Tensor from outside that holds it (``tensor``, or the owner the reader saw) unless Python
        read this very array from outside (then it is held by reference: ``W0 = W.data`` keeps the old array
        when ``W.data`` is replaced)."""
        slot = self.slot_of.get(id(array))
        if slot is not None:
            return Slot(slot)
        owner = tensor
        if owner is None and id(array) not in self.outside_ids:
            owner = self.owners.get(id(array), (None, None))[0]
        if owner is not None:
            return self._slot_through(owner)
        slot = self._new_slot(array, Held(array))
        self.leaf_lines[slot] = user_line()
        return slot

    def _slot_through(self, tensor):
        slot = self.tensor_slot.get(id(tensor))
        if slot is None:
            slot = self.tensor_slot[id(tensor)] = self._new_slot(tensor._data, ReadThrough(tensor), register=False)
            self.leaf_lines[slot] = user_line()
        return slot

    def slot_of_tensor(self, t):
        """An op's input: the call's argument, a tensor this trace made, or a Tensor from outside (its own slot,
        read through it: two tensors on one array stay two inputs)."""
        i = self.arg_index.get(id(t))
        if i is not None:
            return self.input_slots[i]
        slot = self.slot_of.get(id(t._data))
        if slot is not None and isinstance(self.sources[slot], Made):
            return Slot(slot)
        if t.op is not None and id(t.op) not in self.op_index:
            raise JitError(f"jit: the jitted function uses a tensor computed before it was called, with its "
                           f"graph, at {user_line()}. A replay cannot differentiate into that graph: detach "
                           "it, or compute it inside the jitted function")
        if id(t) not in self.outside_ids:  # made in the call around an outside tensor's array: Tensor(w)
            owner = self.owners.get(id(t._data), (None, None))[0]
            if owner is not None:  # eager's next call wraps what w holds then: read through w, not the wrapper
                return self._slot_through(owner)
        return self._slot_through(t)

    def describe(self, value):
        """A step's argument as the program keeps it: arrays as Slots, the call's argument Tensors as ArgOf,
        Tensors it made as TensorOf, containers item by item, anything else (a parameter, an optimizer, a
        number) as it is."""
        return walk(value, self._describe_one)

    def _describe_one(self, value):
        if type(value) is Copied:  # a container the call made and stores: its tensors as this trace's slots
            return Copied(self.describe(value.value))
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
    def start(self, reader, origin):
        """Record from now on; ``origin`` is the frame that calls the function (its callees are watched)."""
        self.reader = reader
        self._saved_passes = hooks.passes
        self._grad_mode = _state.enabled
        self._errstate, self._filters = np.geterr(), (warnings.filters, len(warnings.filters))
        engine_hooks.add("forward", self._forward_hook)
        engine_hooks.add("passes", self._backward)
        self._hooks = (hooks.forward, hooks.backward, hooks.timed)
        current.trace = self
        reader.start(origin)

    def stop(self):
        self.reader.stop()
        current.trace = None
        engine_hooks.remove("passes", self._backward)
        engine_hooks.remove("forward", self._forward_hook)
        self._hooks = None  # it held this trace's own bound hooks: a cycle that kept a dropped trace's arrays

    def finish(self, name):
        """The function returned: refuse what it swallowed; have each replay leave the grad mode as it did."""
        if self.refusal is not None:
            raise JitError(f"{self.refusal} (jit: {name} went on after this error, caught inside it; the trace "
                           "stops here all the same, since what followed was not the function's real work)")
        if self._open_op is not None:
            self._array_work_failed(self._open_op)
        if self.swallowed is not None:
            line, error = self.swallowed
            raise JitError(f"jit: {type(error).__name__} ({error}) was raised by the array work at {line} and "
                           f"caught inside {name}: a replay runs only the array operations, never the except "
                           "clause, so it could not take that path when an error happens. Catch it around the "
                           "jitted call instead, or check the values with tensor operations (tg.where)")
        if np.geterr() != self._errstate:
            raise JitError(f"jit: {name} changed NumPy's error state (np.seterr) and left it changed: a replay "
                           "does not run that call. Set it outside the jitted function")
        if _state.enabled != self._grad_mode:  # set_grad_enabled(mode) as a plain call: the replay does it too
            self.steps.append(CallStep(user_line(), set_grad_enabled, (_state.enabled,), {}))

    def refused(self, error):
        if self.refusal is None:
            self.refusal = error

    @contextmanager
    def array_work(self, func):
        """Library array work (a note, a draw, a replayed call): if it raises and the function catches it, the
        trace is refused when the function returns."""
        try:
            yield
        except Exception as error:
            if self.swallowed is None and not isinstance(error, JitError):
                self.swallowed = (user_line(), error)
            raise

    def _array_work_failed(self, line):
        self._open_op = None
        if self.swallowed is None:
            self.swallowed = (line, RuntimeError("an op's forward raised"))

    @contextmanager
    def paused(self):
        """Library work the trace records as one step (an optimizer's step) runs unwatched."""
        previous, passes = current.trace, hooks.passes
        current.trace, hooks.passes = None, self._saved_passes
        try:
            yield
        finally:
            current.trace, hooks.passes = previous, passes

    def warning_filters_set(self):
        """The step set the warning filters in a way each replay makes again (catch_warnings, simplefilter)."""
        self._filters = (warnings.filters, len(warnings.filters))

    def _watched_the_same(self, line):
        """Refuse what a replay could not reproduce about how this op runs: a tool hooked into the engine
        inside the call, NumPy's error state or the warning filters changed inside it."""
        if (hooks.forward, hooks.backward, hooks.timed) != self._hooks:
            raise JitError(f"jit: a tool watches the engine inside the jitted function (detect_anomaly, profile, "
                           f"trace, ...), at {line}: a replay runs no hooks, so it would not check or record "
                           "anything. Use the tool around the jitted call instead (calls then run eagerly, "
                           "watched)")
        if np.geterr() != self._errstate or warnings.filters is not self._filters[0] or \
                len(warnings.filters) != self._filters[1]:
            raise JitError(f"jit: an op runs under np.errstate / np.seterr or warning filters set inside the "
                           f"jitted function, at {line}: a replay does not run that Python, so it would not raise "
                           "where eager raises. Set them around the jitted call instead")

    def _forward_hook(self, fn, inputs, params):
        if current.trace is self:
            line = user_line()
            if self._open_op is not None:  # the op before raised, and the function went on
                self._array_work_failed(self._open_op)
            self._watched_the_same(line)
            self._open_op = line
            if self.caught_at is None:
                self.caught_at = _inside_a_try(self.reader.origin if self.reader is not None else None)
        data = yield
        if current.trace is self:
            self._open_op = None
            slots = [self.slot_of_tensor(t) for t in inputs]
            needs = tuple(t.requires_grad for t in inputs)
            step = OpStep(line, type(fn), self.describe(params), slots, needs, True in needs and _state.enabled)
            self.op_index[id(fn)] = len(self.steps)
            self.steps.append(step)
            step.out = self._new_slot(data, Made(len(self.steps) - 1))

    def before_draw(self, args):
        """A random draw is about to happen: for each NumPy Generator it uses, seen for the first time, note
        whether it is as its seed made it (unused): if it is also new on each call, a replay can make it again."""
        for a in args:
            if isinstance(a, np.random.Generator) and id(a) not in self.generators:
                self.generators[id(a)] = (a, SeedGenerator.of(a))

    def noted(self, func, args, result, random):
        if not random and isinstance(result, np.ndarray) and any(result is a for a in args) and \
                self._made_here(result) and not self.knows(result):  # (an argument's or an op's array is known)
            # Tensor(a, dtype=) of an array a of that dtype, made in the call, is a itself: each replay starts
            # from a copy of a as it is now (later in-place changes, a BatchNorm's running statistics, are the
            # call's own), as each eager call makes a new a
            func, args = _copying(func), tuple(a.copy() if a is result else a for a in args)
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
            for t in leaves_of((args, kwargs)):
                if isinstance(t, Tensor) and self._made_here(t) and not self.made(t):
                    raise JitError(f"jit: {getattr(func, '__qualname__', 'a call')}() at {user_line()} is given a "
                                   "tensor made inside the jitted function other than by an op (tg.zeros, a layer "
                                   "built in the step): each replay makes that call again on the tensor made while "
                                   "tracing, so what it changes would pile up. Make the tensor (or the layer) "
                                   "outside the jitted function")
        step = CallStep(user_line(), func, self.describe(args), self.describe(kwargs))
        self.steps.append(step)
        value = result._data if isinstance(result, Tensor) else result
        if isinstance(value, np.ndarray):
            step.out = self._new_slot(value, Made(len(self.steps) - 1))
            step.returns_tensor = isinstance(result, Tensor)

    def output(self, line, func, args, kwargs):
        """The function's Python printed, logged or warned: each replay makes the same call again."""
        self.steps.append(CallStep(line, emit, self.describe((func, *args)), self.describe(kwargs)))

    def wrote(self, line, func, args):
        """The function's Python wrote into an object from outside the call (``box.last = y``,
        ``log.append(loss)``): each replay makes the same write, with its own tensors (reads.py). The object
        written into is kept itself, never described: describing rebuilds a dict or a list of tensors, and the
        replay would then write into that copy."""
        if owner_first(func):
            owner, *rest = args
            self.steps.append(CallStep(line, store, (func, owner, *self.describe(tuple(rest))), {}))
        else:  # a container's bound method (history.append): it holds its container
            self.steps.append(CallStep(line, store, self.describe((func, *args)), {}))

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
        self._watched_the_same(line)
        if tensor.requires_grad:
            seed = autograd._seed(tensor, grad, "backward", "grad=")
            root_slot = self.slot_of_tensor(tensor)
            step = BackwardStep(line, self.node(tensor), root_slot,
                                self.describe(seed._data) if grad is not None else seed._data)
            self._pass = step
            engine_hooks.add("timed", self._rule_ran)
        try:
            with self.paused(), self.array_work(autograd.backward):
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
                # a user's own op is always fitted: its rule's dtype may depend on what it reads (a flag)
                contributions.append(Contribution(position, self.node(x), probe[x] is not gx or
                                                  not type(fn).__module__.startswith("tinygrad_np.")))
        step = self.op_index.get(id(fn))
        if step is None:  # an argument that is not a leaf: its graph was built before the call
            error = JitError(f"jit: backward at {self._pass.line} reached an op ({type(fn).__name__}) run before the "
                             "jitted function was called: an argument is not a leaf (x = a * 2 made outside). A "
                             "replay cannot differentiate into that graph: pass x.detach() and backward outside, or "
                             "compute x inside the jitted function")
            self.refused(error)
            raise error
        self._pass.rules.append(Rule(step, single, contributions))

    # ---- results --------------------------------------------------------------------------------------------
    def _made_here(self, v):
        """A Tensor or array made by the call other than by an op (np.zeros, tg.zeros, W.detach() of nothing the
        call read): nothing from outside, nothing that trains."""
        if isinstance(v, Tensor):  # constructed during the trace, not by an op, not trained
            return self.created.get(id(v)) is v and not v.requires_grad and not self.made(v)
        return self.reader is not None and not self.reader.from_outside(v) and id(v) not in self.outside_ids

    def describe_result(self, value, name):
        """The function's result as a template, in containers of its own (each call returns new ones): Tensors
        and arrays the trace made as Out; an argument as itself; a Tensor from outside as itself; anything else
        as a Value, which must be a value every replay may return as it is (a number, a string, an object from
        outside the call), else it is refused."""
        def one(v):
            if isinstance(v, Tensor) and id(v) in self.arg_index:
                return ArgOf(self.arg_index[id(v)])
            # made by the call other than by an op (np.zeros, tg.zeros, W.detach() of nothing the call read):
            # nothing from outside, nothing that trains
            made_here = self._made_here(v)
            if isinstance(v, Tensor) and not self.made(v) and not self.knows(v._data) and not made_here:
                owner = self.owners.get(id(v._data), (None, None))[0]
                if owner is not None and owner is not v and id(v) not in self.outside_ids and \
                        (self.reader is None or not self.reader.from_outside(v)):
                    # W.detach(), Tensor(W): a new Tensor over a parameter's array, as eager's is each call
                    return Out(self._slot_through(owner), True)
                self.owns(v)
                return Value(v)  # a parameter returned: the same Tensor, as eager returns it
            if isinstance(v, (Tensor, np.ndarray)):
                array = v._data if isinstance(v, Tensor) else v
                out = Out(self.slot_of_array(array, v if isinstance(v, Tensor) else None), isinstance(v, Tensor))
                slot = int(out.slot)
                if made_here and isinstance(self.sources[slot], (Held, ReadThrough)):
                    out.copied = True  # not an op's output: the same array on every replay, unless copied
                    # and the program keeps its own copy: the caller may change what this traced call returns
                    pristine = self.values[slot].copy()
                    self.sources[slot], self.values[slot] = Held(pristine), pristine
                return out
            if not _returnable(v, self.reader):
                raise JitError(f"jit: {name} returns a {type(v).__name__} made while tracing: every replay would "
                               "return that same object (holding the traced values), not a new one. Return "
                               "tensors, numbers and strings, in tuples, lists or dicts")
            return Value(v)

        self._refuse_shared_containers(value, name)
        return self._result_of(value, one)

    def _refuse_shared_containers(self, value, name):
        """A list or dict the call made, returned and also stored into an object from outside, or returned twice:
        eager's are one object, a replay's would be two copies (a write into the returned one would not reach the
        stored one). Refused, naming what to do."""
        stored = self.reader.stored_fresh if self.reader is not None else {}
        seen, todo = set(), [value]
        while todo:
            v = todo.pop()
            if type(v) in (list, dict, tuple) or (isinstance(v, tuple) and hasattr(type(v), "_fields")):
                if type(v) is not tuple and not (self.reader is not None and self.reader.from_outside(v)):
                    if id(v) in seen or stored.get(id(v)) is v:
                        raise JitError(f"jit: {name} returns a {type(v).__name__} it made that it also "
                                       + ("returns elsewhere" if id(v) in seen else "stored into an object from "
                                          "outside the call") + ": eager's are one object, a replay's would be "
                                       "two copies, so a change to one would not reach the other. Return a copy "
                                       "(dict(record), list(items)), or keep it in one place")
                    seen.add(id(v))
                todo.extend(v.values() if isinstance(v, dict) else v)

    def _result_of(self, v, one):
        """Containers the call made are made again by each replay; one from outside is returned itself. (A method,
        not a nested function calling itself: that would be a reference cycle holding this trace.)"""
        if isinstance(v, (list, dict)) and self.reader is not None and self.reader.from_outside(v):
            return Value(v)
        kind = type(v)
        if kind is list or kind is tuple:
            return kind(self._result_of(x, one) for x in v)
        if kind is dict:
            return {k: self._result_of(x, one) for k, x in v.items()}
        if isinstance(v, tuple) and hasattr(kind, "_fields"):  # a named tuple: sort's and topk's
            return kind(*(self._result_of(x, one) for x in v))
        return one(v)


_HANDLERS: dict = {}  # code -> its exception table's (start, end, catches) entries


def _handlers(code):
    """The ranges of ``code`` covered by an ``except`` clause (not a ``with`` block's cleanup, nor a ``finally``),
    from its exception table (Python 3.11+)."""
    found = _HANDLERS.get(code)
    if found is None:
        import dis

        found = []
        parse = getattr(dis, "_parse_exception_table", None)
        if parse is not None:
            instructions = list(dis.get_instructions(code))
            position = {ins.offset: i for i, ins in enumerate(instructions)}
            for entry in parse(code):
                at = position.get(entry.target)
                names = [ins.opname for ins in instructions[at + 1: at + 5]] if at is not None else []
                if "CHECK_EXC_MATCH" in names or (names and names[0] == "POP_TOP"):  # except X:, a bare except:
                    found.append((entry.start, entry.end))
        _HANDLERS[code] = found
    return found


def _inside_a_try(origin):
    """The line of the user's innermost try/except around the array work running now, else None: a
    replay runs no except: block, so an error raised in a replay where eager would have caught it must say so."""
    import sys

    from ..core.user_frames import in_library

    frame = sys._getframe(2)
    while frame is not None and frame is not origin:
        code = frame.f_code
        if not in_library(code.co_filename):
            for start, end in _handlers(code):
                if start <= frame.f_lasti < end:
                    return f"{code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}"
        frame = frame.f_back
    return None


_COPYING: dict = {}  # func -> the same function returning a copy where func returns its argument itself


def _copying(func):
    """``func`` for a replay, where it returned one of its arguments (no copy): that argument is an array the
    traced call made (or one from outside), which each replay would otherwise hand out again, changes and all."""
    wrapper = _COPYING.get(func)
    if wrapper is None:
        def wrapper(*args):
            result = func(*args)
            return result.copy() if any(result is a for a in args) else result

        wrapper.__qualname__ = getattr(func, "__qualname__", "note")
        _COPYING[func] = wrapper
    return wrapper


class SeedGenerator:
    """A NumPy Generator the function makes from a seed on each call (``np.random.default_rng(7)`` inside it):
    each replay makes it again, at its first draw, so that its draws are eager's."""

    def __init__(self, kind, entropy, spawn_key, pool_size):
        self.recipe = (kind, entropy, spawn_key, pool_size)
        self.generator = None

    @staticmethod
    def of(generator):
        """The recipe of a Generator that is still as its seed sequence made it, else None."""
        bits = generator.bit_generator
        seeds = getattr(bits, "seed_seq", None)
        if not isinstance(seeds, np.random.SeedSequence) or seeds.n_children_spawned:
            return None
        made = SeedGenerator(type(bits), seeds.entropy, seeds.spawn_key, seeds.pool_size)
        made.make()
        return made if _same_state(made.generator.bit_generator.state, bits.state) else None

    def make(self):
        kind, entropy, spawn_key, pool_size = self.recipe
        self.generator = np.random.Generator(kind(np.random.SeedSequence(entropy, spawn_key=spawn_key,
                                                                         pool_size=pool_size)))

    def __eq__(self, other):
        return type(other) is SeedGenerator and self.recipe == other.recipe

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self):
        return f"default_rng({self.recipe[1]!r})"


def seeded_draw(func, made, first, *args):
    """A draw from a Generator the function made from a seed: the first draw of each replay makes it again."""
    if first:
        made.make()
    return func(*(made.generator if a is made else a for a in args))


def _same_state(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    return a == b


def set_grad_enabled(enabled):
    """Leave the grad mode as the traced call left it (``set_grad_enabled(False)`` called in the step)."""
    _state.enabled = enabled


class Entry:
    """An item of a dict from outside the call that the call reached through a lookup that can make it
    (``metrics["loss"]`` on a defaultdict, ``metrics.setdefault("loss", [])``): a write into it is made, on
    each replay, into whatever that lookup gives then. After the caller clears the dict, eager appends to a
    new list; so does the replay, not to the list the trace saw."""

    __slots__ = ("container", "key")

    def __init__(self, container, key):
        self.container, self.key = container, key

    def get(self):
        return self.container[self.key]

    def __eq__(self, other):
        return type(other) is Entry and other.container is self.container and other.key == self.key

    def __hash__(self):
        return hash((id(self.container), self.key))

    def __repr__(self):
        return f"<the item {self.key!r} of {type(self.container).__name__} object {id(self.container):#x}>"


def call_method(owner, name, *args):
    """``owner.name(*args)``: a container's method called on an Entry, looked up on the object it gives now."""
    return getattr(owner, name)(*args)


def owner_first(func):
    """A write whose first argument is the object written into (setattr, setitem, a method called on an
    Entry, a defaultdict's lookup, Counter's counting), not a container's bound method (``log.append``), whose
    arguments are all values."""
    return func is setattr or func is delattr or func is operator.setitem or func is operator.delitem or \
        func is call_method or func is operator.getitem or func is _count_elements or func is object.__setattr__


def store(target, *args):
    """A write the function made into an object from outside the call, made again by each replay: ``target``
    is ``setattr``, ``operator.setitem``, a container's method (``history.append``)...; a ``Copied`` argument
    is copied first; an ``Entry`` is looked up afresh."""
    target(*(_unwrapped(a) for a in args))


def emit(target, *args, **kwargs):
    """Output the function made (print, a logger's call, a stream's write), made again by each replay; a
    ``Copied`` argument (a list or dict made in the call: ``extra={...}``, ``writelines([...])``) copied first."""
    target(*(_unwrapped(a) for a in args), **{k: _unwrapped(v) for k, v in kwargs.items()})


def _unwrapped(value):
    """A stored or printed value as a replay hands it on: a Copied one copied, a Kept one itself."""
    kind = type(value)
    if kind is Copied:
        return value.copy()
    if kind is Kept:
        return value.value
    if kind is Entry:
        return value.get()
    if kind is tuple:
        return tuple(_unwrapped(v) for v in value)
    return value


class Kept:
    """A list, dict or set from outside the call that the function stores (``self.hparams = HPARAMS``): each
    replay stores that very object (describing it would store a copy of it as it was when traced)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return type(other) is Kept and other.value is self.value

    def __hash__(self):
        return id(self.value)


class Copied:
    """A list, dict or set made during the call and written into an object from outside: each replay writes
    a copy (made at that replay), as each eager call writes a new one."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def copy(self):
        return _copy_containers(self.value)

    def __eq__(self, other):
        return type(other) is Copied and repr(other.value) == repr(self.value)

    __hash__ = None  # type: ignore[assignment]


def _copy_containers(value):
    kind = type(value)
    if kind in (list, tuple, set, frozenset):
        return kind(_copy_containers(v) for v in value)
    if kind is dict:
        return {k: _copy_containers(v) for k, v in value.items()}
    return value


def _immutable(value):
    if isinstance(value, (type(None), bool, int, float, complex, str, bytes, np.generic, np.dtype, type,
                          range, slice, type(Ellipsis))) or callable(value) and not hasattr(value, "__dict__"):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_immutable(v) for v in value)
    return False


def _returnable(value, reader):
    """A value a replay may return as it is: immutable, or an object the call read from outside (a module,
    an optimizer), or one of its arguments."""
    if _immutable(value) or isinstance(value, types.FunctionType) or isinstance(value, types.ModuleType):
        return True
    return reader is not None and reader.from_outside(value)


def _constant(value):
    """A described value a replay may keep as it is: Python constants (held fixed by the guards), in tuples;
    not an array, a Tensor, or a list, dict or set (the user may change those in place between calls)."""
    if type(value) is tuple:
        return all(_constant(v) for v in value)
    return not isinstance(value, (Slot, ArgOf, TensorOf, Tensor, np.ndarray, list, dict, set))
