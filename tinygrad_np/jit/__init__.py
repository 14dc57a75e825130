"""``tg.jit``: run a training step under a trace, then replay its array operations, nothing else.

    step = tg.jit(step)          # or @tg.jit above the def
    loss = step(x_batch, y_batch)
    print(step.program())        # the captured step as straight-line NumPy

Eagerly, each op makes a Function, a Tensor, a graph link and a version
check, and backward walks a priority queue: Python work that, at small sizes,
costs as much as the arithmetic. A jitted function pays it on two calls and
then replays. The promise: a call gives eager's bits, or it traces again, or
it is refused while tracing, naming the line. Never a stale answer.

The algorithm, in three parts:

1. Trace (trace.py). The first call with a new signature runs eagerly while
   the trace records each op, each rule the engine's backward ran and where
   its gradients went, and what the library reports (arrays made outside ops,
   calls such as an optimizer's step that a replay makes again). Every array
   the trace did not make is read from its owner on every replay, by
   reference: an argument; a Tensor from outside (read through the Tensor,
   so ``p.data = ...`` is seen); an array the user holds (in-place changes
   are seen). Nothing array-valued is copied into the program.
2. Guards (reads.py). While tracing, every frame of the user's code is watched
   instruction by instruction, and each read becomes a guard: globals (in any
   function, any module), closure variables, attributes and items (of named
   values and of what calls return), the contents of lists, dicts and arrays
   handed to code outside tinygrad_np; each module whose library code runs has
   all its attributes guarded; each tensor from outside keeps its
   requires_grad, shape and dtype. A read jit cannot follow is refused, naming
   the line. A call replays only while every guard holds; otherwise it traces.
3. Program (program.py). The second call traces again and must do the same
   thing (or jit refuses: a value neither guarded nor refused changed). The
   trace becomes one straight Python function: each op's ``forward``, the
   rules in the engine's order with its sums and casts, the engine's own
   ``_owned`` and ``_write_grads``, the calls again. Its text
   (``program()``) is backprop written out.

What a replay cannot do, and is refused while tracing, with the line: reading
a tensor's value into Python or NumPy (``.item()``, ``float()``, ``bool()``,
``if loss > 1``, ``.numpy()``, ``.data``, ``np.asarray``), assigning
``.data``, ``backward(create_graph=True)``, ``retain_grad``, random numbers
from Python or NumPy (use ``tg.randn`` or ``nn.Dropout``, which a replay draws
again), a large array read by Python code, ``str()`` of a tensor, ``tg.grad``
inside the step, the file system and other state no guard can hold,
``np.errstate`` or a tool entered inside the step; a refusal or an error of
the array work that the step catches is refused when the trace ends. A value
the function changes and reads (a counter) makes every call trace: correct,
at eager's speed. A write into an object from outside the call
(``self.last = t``, ``history.append(loss)``) is made again by each replay.
While a tool watches the engine (``tg.profile``, ``detect_anomaly``, a
debugger), calls run eagerly, so the tool sees them.

A replay returns fresh Tensors with no graph: call ``backward`` inside the
jitted function, not on what it returns.
"""
import functools
import sys
import threading
import types
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, overload
from weakref import ref

import numpy as np

from ..core import gradient_hooks
from ..core.engine_hooks import hooks
from ..core.grad_mode import is_grad_enabled
from ..core.jit_seam import JitError, current, replay_results
from ..core.tensor import Tensor
from .output import At
from .program import Program, ShapeChanged, data_shaped
from .reads import Reader, _plain_value, signature_value
from .trace import (
    ArgOf,
    BackwardStep,
    CallStep,
    Copied,
    Entry,
    GradStep,
    NoteStep,
    OpStep,
    Out,
    SeedGenerator,
    Slot,
    Trace,
    Value,
    emit,
    leaves_of,
    owner_first,
    seeded_draw,
    store,
    walk,
)

__all__ = ["jit", "Jitted", "JitError"]


@overload
def jit(fn: Callable[..., Any], *, cache_size: int = 8) -> "Jitted": ...


@overload
def jit(fn: None = None, *, cache_size: int = 8) -> Callable[[Callable[..., Any]], "Jitted"]: ...


def jit(fn=None, *, cache_size=8):
    """Trace ``fn`` on its first calls with a new signature; replay the recorded program after that.

    Usable as ``tg.jit(fn)``, ``@tg.jit`` or ``@tg.jit(cache_size=4)``. See the module's doc for what is
    an input, what is guarded, and what is refused."""
    if fn is None:
        return lambda f: Jitted(f, cache_size)
    return Jitted(fn, cache_size)


class _Entry:
    """One signature's traces and program, valid while ``holds()``: every value its trace read is as it was, and
    no tensor has a gradient hook."""

    def __init__(self, key, trace):
        self.key, self.first, self.program = key, trace, None
        self.guard(trace)

    def guard(self, trace):
        self.guards = trace.reader.guards
        self.outside = dict(trace.outside_ids)
        self.holds, self.guard_source = self.guards.compile(trace)


def _holds(entry):
    """The entry's guards, a failing one (a guard that raises: an object changed beyond recognition) as False."""
    try:
        return entry.holds()
    except Exception:
        return False


class Jitted:
    """A jitted function: call it as the function. ``program()`` shows the last signature's program;
    ``traces`` counts the calls that ran eagerly under a trace, ``eager_calls`` those that ran eagerly because a
    tool (a profiler, detect_anomaly, a debugger) was watching."""

    __name__: str  # the function's (set by functools.update_wrapper), or its type's for a callable object

    def __init__(self, fn: Callable[..., Any], cache_size: int = 8) -> None:
        if not callable(fn):
            raise TypeError(f"jit: expected a function, got {type(fn).__name__}")
        if not (isinstance(cache_size, int) and cache_size >= 1):
            raise ValueError(f"jit: cache_size must be a positive integer, got {cache_size!r}")
        functools.update_wrapper(self, fn)
        if not isinstance(getattr(fn, "__name__", None), str):  # an nn.Module, a functools.partial
            self.__name__ = type(fn).__name__
        self.fn, self.cache_size, self.traces, self.eager_calls = fn, cache_size, 0, 0
        self._outside: dict[int, Any] = {}  # id -> each Tensor or array a trace read from outside the call
        self._entries: OrderedDict[int, _Entry] = OrderedDict()  # id(entry) -> entry, least recently used first
        self._lock = threading.RLock()  # a program's Function instances hold one replay's saved arrays
        self._last: _Entry | None = None
        self._traced_in_a_row, self._warned = 0, False

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        """``@tg.jit`` on a method: looked up on an instance, it is bound as a function is, so ``self`` arrives as
        the first argument (an object, so each instance keys programs of its own, its attributes guarded)."""
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if current.trace is not None:  # called inside another jitted function's trace: its ops belong to that one
            args, kwargs, _, _ = _signature(args, kwargs, self.__name__)
            return self.fn(*args, **kwargs)
        if hooks.forward or hooks.backward or hooks.timed or sys.gettrace() is not None:
            # A tool watches the engine (profile, detect_anomaly, trace, the backward player) or a debugger traces
            # Python: run the function as it is, so that the tool sees every op and every line.
            args, kwargs, _, _ = _signature(args, kwargs, self.__name__)
            self.eager_calls += 1
            return self.fn(*args, **kwargs)
        given = args, kwargs
        fast = None if kwargs else _array_signature(args, self._outside)
        if fast is None:
            args, kwargs, tensors, key = _signature(args, kwargs, self.__name__, self._outside)
        else:
            key, tensors = fast
            args = tensors
        with self._lock:
            last = self._last
            if last is not None and last.program is not None and last.key == key and _holds(last) and \
                    not gradient_hooks.registry:  # the steady state: the same program as the call before
                try:
                    return _returned(last.program.run(*tensors))
                except ShapeChanged as changed:
                    return self._shape_changed(changed, last, key, args, kwargs, tensors, given)
            entry = None
            if not gradient_hooks.registry:
                entry = next((e for e in self._entries.values() if e.key == key and _holds(e)), None)
            if entry is not None:
                self._entries.move_to_end(id(entry))
                self._last = entry
                if entry.program is not None:
                    self._traced_in_a_row = 0
                    try:
                        return _returned(entry.program.run(*tensors))
                    except ShapeChanged as changed:
                        return self._shape_changed(changed, entry, key, args, kwargs, tensors, given)
            else:
                self._warn_if_always_tracing(key)
            return self._trace(entry, key, args, kwargs, tensors, given)

    def _shape_changed(self, changed, failed, key, args, kwargs, tensors, given):
        """A replay stopped at a value whose shape its data decide (a boolean mask selecting another count): try
        the other programs of this signature whose guards hold, then trace (a second trace of that shape is held
        against its first, as any). If the replay had already made an effect, it cannot start over: refused."""
        if changed.effect is not None:
            raise JitError(f"jit: {self.__name__}: a value whose shape its data decide (a boolean mask's selection, "
                           f"np.nonzero) has another shape than on the traced call, at {changed.line}, and the replay "
                           f"had already made an effect (at {changed.effect}) that it cannot undo. Make the selection "
                           "before any write, print or random draw in the step, or keep its size fixed (a mask "
                           "multiplied in, tg.where)") from None
        tried = {id(failed)}
        while True:
            entry = next((e for e in reversed(self._entries.values()) if e.key == key and id(e) not in tried
                          and _holds(e)), None)
            if entry is None or entry.program is None:
                self._last = entry
                return self._trace(entry, key, args, kwargs, tensors, given)
            tried.add(id(entry))
            try:
                result = _returned(entry.program.run(*tensors))
            except ShapeChanged as again:
                if again.effect is not None:
                    return self._shape_changed(again, entry, key, args, kwargs, tensors, given)
                continue
            self._entries.move_to_end(id(entry))
            self._last = entry
            return result

    def _warn_if_always_tracing(self, key):
        """Eight calls in a row traced again: say, once, which value keeps changing (it is right, but eager's speed)."""
        same = [e for e in self._entries.values() if e.key == key]
        self._traced_in_a_row = self._traced_in_a_row + 1 if same else 0
        if self._traced_in_a_row >= 8 and not self._warned:
            self._warned = True
            changed = sorted({same[-1].guards.describe(k) for k, _ in same[-1].guards.failing()})
            warnings.warn(f"jit: {self.__name__} traced again on 8 calls in a row, so it runs at eager's speed: "
                          f"{', '.join(changed) or 'a gradient hook'} changed since the last trace. A value the "
                          "function reads and changes (a counter, a list it appends to) does this; return it or "
                          "pass it as an argument instead", stacklevel=3)

    def _trace(self, entry, key, args, kwargs, tensors, given):
        before = [_state(t) for t in tensors]  # the step may give an argument a grad: key as the call found it
        frozen: dict = {}  # and it may write into an argument list or dict
        for a in (*given[0], *given[1].values()):
            _frozen_contents(a, frozen)
        trace = Trace(tensors)
        reader = Reader(trace, self.fn, leaves_of((list(args), kwargs)))
        for g, c in zip(list(given[0]) + list(given[1].values()), list(args) + list(kwargs.values()), strict=False):
            _copied_containers(g, c, reader.copied_arguments)
        for container, _ in frozen.values():  # the caller's lists and dicts: from outside (returned as themselves)
            reader.outside[id(container)] = container
        trace.start(reader, sys._getframe())
        try:
            result = self.fn(*args, **kwargs)
        except Exception as error:
            if trace.refusal is not None and not isinstance(error, JitError):  # the step wrapped a refusal in its own
                raise JitError(f"{trace.refusal} (jit: {self.__name__} raised {type(error).__name__} after this "
                               "refusal, which it caught)") from error
            raise
        finally:
            trace.stop()
        self.traces += 1
        trace.finish(self.__name__)
        trace.result = trace.describe_result(result, self.__name__)
        self._outside.update(trace.outside_ids)
        # again: the arguments that are objects the call read from outside now count (as they were before the call:
        # a write into an argument container changed what it holds)
        key = self._key(*given, before, frozen)
        if entry is not None and entry.first is not None and _data_shapes(entry.first) != _data_shapes(trace):
            entry = None  # a selection of another size (after a replay stopped at it): a first trace of its own
        if entry is None or entry.key != key:  # the first call: keep the trace, to hold the second against it
            entry = _Entry(key, trace)
            self._entries[id(entry)] = entry
            while len(self._entries) > self.cache_size:
                self._entries.popitem(last=False)
                self._outside = {k: v for e in self._entries.values() for k, v in e.outside.items()}
        else:
            _check_same(entry.first, trace, self.__name__)
            entry.program, entry.first = Program(trace), None
            entry.guard(trace)  # as the second trace read them
        self._last = entry
        trace.reader.trace = None  # the reader's work is done: without this cycle a dropped trace's arrays go at once
        return result

    def _key(self, args, kwargs, before, frozen=None):
        fast = None if kwargs else _array_signature(args, self._outside, before)
        return _signature(args, kwargs, self.__name__, self._outside, before, frozen)[3] if fast is None else fast[0]

    def program(self, names: Any = None) -> str:
        """The program of the signature called last, as text: one line per array operation, forward, then
        backward (each rule the engine ran, in its order, with its derivative), then the calls made again, with
        shapes. ``names`` labels the tensors the function did not make: a Module (its parameters' and buffers'
        names) or {name: Tensor}."""
        entry = self._last
        if entry is None:
            raise RuntimeError(f"jit: {self.__name__} has not been called yet, so there is no program to show")
        program = entry.program or Program(entry.first)
        if names is not None:
            pairs = names.named_parameters() if hasattr(names, "named_parameters") else names.items()
            labels = {id(t): name for name, t in pairs}
            if hasattr(names, "named_buffers"):
                labels.update({id(t): name for name, t in names.named_buffers()})
            program = Program(program.trace, labels)
        counts = program.counts
        calls = counts["calls"]
        parts = [f"{counts['ops']} op{'s' * (counts['ops'] != 1)} forward",
                 f"{_times(counts['passes'])} backward" + (f" ({counts['rules']} rules)" if counts["passes"] else "")]
        if calls:
            parts.append("then " + " and ".join(c.replace("()", "") for c in calls) + ", called again")
        if counts["notes"]:
            parts.append(f"{counts['notes']} array{'s' * (counts['notes'] != 1)} made outside ops")
        header = f"# {self.__name__}, as each replay runs it: " + "; ".join(parts)
        return "\n".join([header] + program.text)


def _data_shapes(trace):
    """The shapes of a trace's values that their data decide (what Program checks on each replay)."""
    return [np.shape(trace.values[int(step.out)]) for step in trace.steps if data_shaped(step, trace)]


def _times(n):
    return {0: "no", 1: "once"}.get(n, "twice" if n == 2 else f"{n} times")


def _returned(result):
    """A replay's result, its Tensors noted as a replay's (backward on one explains why it has no graph)."""
    if type(result) is Tensor:
        replay_results.append(ref(result))
        return result
    for r in leaves_of(result):
        if isinstance(r, Tensor):
            replay_results.append(ref(r))
    return result


def _array_signature(args, outside, before=None):
    """The common case, quickly: every argument an array or a Tensor, no two the same array. Returns the key
    and the argument Tensors, or None for the general path (_signature). An argument that is a Tensor or an
    array the function also reads from outside (``outside``: the parameter passed as the argument) keys a
    program of its own."""
    tensors, key = [], ["arrays", is_grad_enabled()]
    for a in args:
        kind = type(a)
        if kind is np.ndarray:
            if a.dtype.kind not in _PLAIN_KINDS:  # complex, object, strings: tg.Tensor's own rules (_signature)
                return None
            tensors.append(Tensor._make(a, False))
            key.append((a.shape, a.dtype, False))
        elif kind is Tensor:
            tensors.append(a)
            key.append((a._data.shape, a._data.dtype, a.requires_grad) +
                       (_state(a) if before is None else before[len(tensors) - 1]))
        else:
            return None
        if outside and (id(a) in outside or (kind is Tensor and id(a._data) in outside)):
            key.append(("also read from outside", id(a)))
    if len(tensors) > 1 and len({id(t._data) for t in tensors}) < len(tensors):
        return None
    return tuple(key), tensors


def _frozen_contents(value, found):
    """What every list and dict among the arguments holds now, by id: the key of a trace is the arguments as the
    call found them, though the call may have written into them since."""
    if isinstance(value, (list, dict)) and id(value) not in found:
        found[id(value)] = (value, dict(value) if isinstance(value, dict) else list(value))
    if isinstance(value, (list, tuple)):
        for v in value:
            _frozen_contents(v, found)
    elif isinstance(value, dict):
        for v in value.values():
            _frozen_contents(v, found)
    return found


def _signature(args, kwargs, name, outside=None, before=None, frozen=None):
    """The arguments with arrays made Tensors, the flat list of argument Tensors, and the hashable key: each
    Tensor's shape, dtype and requires_grad (and whether it is one the function also reads from outside),
    which arguments are the same array, every number by type and bits, strings and the like by value, any
    other object by identity (an object equal to another under == may hold what the step reads differently)."""
    tensors, index, arrays = [], {}, {}

    def walk(value, where):
        if isinstance(value, (Tensor, np.ndarray)):
            if id(value) in index:  # the same Tensor (or array) twice must stay one input on a replay
                i = index[id(value)]
                return tensors[i], ("same", i)
            t = value if isinstance(value, Tensor) else _argument_tensor(value)
            array = t._data
            index[id(value)] = len(tensors)
            tensors.append(t)
            # Two different Tensors over one array (t and t.detach()) stay two inputs, the sharing keyed
            shares = arrays.setdefault(id(array), len(tensors) - 1)
            aliased = bool(outside) and (id(value) in outside or id(array) in outside)
            # (a tensor the call itself put into an argument container has no state from before the call)
            state = _state(t) if before is None or len(tensors) > len(before) else before[len(tensors) - 1]
            return t, ("tensor", array.shape, array.dtype.str, t.requires_grad, state, shares,
                       id(value) if aliased else None)
        # A container is handed on as itself (a write into it reaches the caller's, a subclass keeps its class),
        # unless it holds arrays: then a copy with Tensors in their place, of the same class.
        def _written(container):  # a container the function writes into: that very one keys the program
            return (("written", id(container)),) if outside and id(container) in outside else ()

        def _as_found(container):  # what the container held when the call began (see _frozen_contents)
            entry = frozen.get(id(container)) if frozen else None
            return entry[1] if entry is not None and entry[0] is container else container

        if isinstance(value, (tuple, list)):
            walked = [walk(v, f"{where}[{i}]") for i, v in enumerate(_as_found(value))]
            items = [v for v, _ in walked]
            key = (type(value),) + tuple(k for _, k in walked) + _written(value)
            if all(a is b for a, b in zip(items, _as_found(value), strict=True)):
                return value, key
            if type(value) in (tuple, list):
                return type(value)(items), key
            if isinstance(value, tuple) and hasattr(type(value), "_make"):  # a named tuple: field by field
                return type(value)._make(items), key
            raise _cannot_rebuild(name, where, value)
        if isinstance(value, dict):
            found_items = dict(_as_found(value).items())  # (dict's own items: a subclass's __getitem__ may differ)
            walked = {k: walk(v, f"{where}[{k!r}]") for k, v in found_items.items()}
            key = (type(value),) + tuple((signature_value(k), s) for k, (_, s) in walked.items()) + _written(value)
            if all(v is found_items[k] for k, (v, _) in walked.items()):
                return value, key
            if type(value) is dict:
                return {k: v for k, (v, _) in walked.items()}, key
            raise _cannot_rebuild(name, where, value)
        try:
            hash(value)
        except TypeError:
            raise JitError(f"jit: {name}'s {where} is a {type(value).__name__}, which is neither an array nor a "
                           "value jit can compare from call to call; pass arrays, Tensors, numbers, strings, "
                           "tuples, lists or dicts of these, or hashable objects") from None
        return value, ("value", signature_value(value))

    new_args = [walk(a, f"argument {i}") for i, a in enumerate(args)]
    new_kwargs = {k: walk(v, f"argument {k}=") for k, v in sorted(kwargs.items())}
    key = (tuple(s for _, s in new_args), tuple((k, s) for k, (_, s) in new_kwargs.items()), is_grad_enabled())
    return [v for v, _ in new_args], {k: v for k, (v, _) in new_kwargs.items()}, tensors, key


def _cannot_rebuild(name, where, value):
    kind = type(value).__name__
    return JitError(f"jit: {name}'s {where} is a {kind} holding NumPy arrays: jit hands the function a copy with "
                    f"Tensors in their place, and cannot make a copy of a {kind}. Put Tensors in it (tg.Tensor(a)), or "
                    "pass a plain list, tuple or dict")


def _copied_containers(given, converted, found):
    """The containers of ``converted`` (the arguments as the function gets them) that are copies of the caller's:
    a write into one would not reach the caller (Reader refuses it)."""
    if given is converted or not isinstance(converted, (tuple, list, dict)):
        return found
    found[id(converted)] = converted
    given_items = given.values() if isinstance(given, dict) else given
    pairs = zip(given_items, converted.values() if isinstance(converted, dict) else converted, strict=False)
    for g, c in pairs:
        _copied_containers(g, c, found)
    return found


def _state(t):
    """What an argument Tensor carries that a step may branch on besides shape, dtype and requires_grad: whether
    it is a leaf (a backward through a non-leaf reaches a graph built outside) and whether it has a grad."""
    return t.op is None, t.grad is None


_PLAIN_KINDS = "biuf"  # the dtype kinds tg.Tensor keeps as they are


def _argument_tensor(array):
    """An array argument, made a Tensor as eager's ``tg.Tensor(a)`` makes it: a plain ndarray of numbers is
    wrapped as it is (its array read live on each replay); a subclass (np.matrix, a masked array) or another
    dtype goes through tg.Tensor's own conversion and refusals, so that ``x * x`` means what it means eagerly."""
    if type(array) is np.ndarray and array.dtype.kind in _PLAIN_KINDS:
        return Tensor._make(array, False)
    return Tensor(array)  # raises as tg.Tensor raises (a complex array: TypeError)


# ---- the first two traces must agree -------------------------------------------------------------------------
def _check_same(a, b, name):
    """Refuse a function whose second trace differs from its first: it depends on something jit cannot see."""
    _remake_seeded_generators(a, b)
    for i, (x, y) in enumerate(zip(a.steps, b.steps, strict=False)):  # different lengths are reported below
        if not _same_step(x, y):
            generator = _new_generator(x, y)
            if generator:
                raise JitError(f"jit: {name} drew random numbers at {y.line} from a different random generator "
                               f"on each call ({generator}): a generator made inside the jitted function (np.random."
                               "default_rng(...), or a layer such as nn.Dropout built inside it) is new on every "
                               "call, and a replay cannot make it again. Make it once outside the function and "
                               "pass it (rng=...), or leave rng out (a replay then draws fresh numbers)")
            if _what(x) == _what(y) and x.line == y.line:  # the same call, on other objects or values
                raise JitError(f"jit: {name} did different things on two calls with the same signature: step {i + 1}"
                               f" was {_what(x)} at {x.line} both times, but with other arguments or on another "
                               "object. An object made inside the function (an optimizer, a layer, a list) is a new "
                               "one on every call: make it once outside and use it there; or pass what differs as "
                               "an argument, or run this function without jit")
            raise JitError(f"jit: {name} did different things on two calls with the same signature: step {i + 1} "
                           f"was {_what(x)} at {x.line}, then {_what(y)} at {y.line}. Its work depends on something "
                           "jit does not see (a global, a counter, a value read from a tensor). Pass that as an "
                           "argument, or run this function without jit")
    if len(a.steps) != len(b.steps):
        longer = a if len(a.steps) > len(b.steps) else b
        extra = longer.steps[min(len(a.steps), len(b.steps))]
        raise JitError(f"jit: {name} did different things on two calls with the same signature: one call also did "
                       f"{_what(extra)} at {extra.line}. Its work depends on something jit does not see; pass that "
                       "as an argument, or run this function without jit")
    for slot, (sa, sb) in enumerate(zip(a.sources, b.sources, strict=False)):
        if _fixed(sa) is _fixed(sb) or _fixed(sb) is None:
            continue
        ta, tb = _fixed(sa), _fixed(sb)
        if ta is None or not _same_array(ta, tb):
            raise JitError(f"jit: a tensor made inside {name} from Python numbers or NumPy data had different "
                           f"values on two calls (first used at {b.leaf_lines.get(slot)}). A replay would use "
                           "the traced value every time. Pass it as an argument, make it from the arguments with "
                           "tensor operations, or draw random values with tg.randn or nn.Dropout (a replay draws "
                           "those again)")
    if _result_shape(a.result) != _result_shape(b.result):
        raise JitError(f"jit: {name} returned differently shaped results on two calls with the same signature")


def _what(step):
    if isinstance(step, OpStep):
        return f"the op {step.cls.name}"
    if isinstance(step, CallStep) and step.func is store and len(step.args) >= 2 and owner_first(step.args[0]):
        func, owner, *rest = step.args  # a write the function made into an object from outside the call
        key = f" {rest[0]!r}" if len(rest) > 1 and _plain_value(rest[0]) else ""
        value = rest[-1] if rest else None
        shown = repr(value) if _plain_value(value) else type(value).__name__
        return (f"a write ({getattr(func, '__name__', 'a write')}{key} of {shown} into {type(owner).__name__} "
                f"object {id(owner):#x})")
    if isinstance(step, CallStep) and step.func is emit and step.args:
        call = step.args[0].function if type(step.args[0]) is At else step.args[0]  # (a log call, a warning)
        return f"output ({getattr(call, '__qualname__', 'a call')})"
    if isinstance(step, CallStep) and step.func is store and step.args:  # a container's method: history.append
        return f"a write ({getattr(step.args[0], '__qualname__', 'a call')})"
    if isinstance(step, (NoteStep, CallStep)):
        return f"{getattr(step.func, '__qualname__', 'a call')}"
    return "a backward pass" if isinstance(step, BackwardStep) else "an assignment to .grad"


def _same_step(x, y):
    if type(x) is not type(y):
        return False
    if isinstance(x, OpStep):
        return (x.cls is y.cls and x.inputs == y.inputs and x.needs == y.needs and x.recorded == y.recorded
                and _same(x.params, y.params))
    if isinstance(x, NoteStep):
        return _same_function(x.func, y.func) and x.random == y.random and _same(x.args, y.args)
    if isinstance(x, CallStep) and x.func is store and y.func is store and len(x.args) >= 2 and \
            len(y.args) >= 2 and owner_first(x.args[0]):
        # a write: into the same object (by identity: a globals dict's other names may differ), the same way
        return (_same_function(x.args[0], y.args[0]) and (x.args[1] is y.args[1] or type(x.args[1]) is Entry and
                                                          x.args[1] == y.args[1]) and _same(x.args[2:], y.args[2:])
                and _same(x.kwargs, y.kwargs))
    if isinstance(x, CallStep):
        return _same_function(x.func, y.func) and _same(x.args, y.args) and _same(x.kwargs, y.kwargs)
    if isinstance(x, GradStep):
        return _same(x.tensor, y.tensor) and _same(x.value, y.value)
    return (_same(x.seed, y.seed) and x.root == y.root and [r.op for r in x.rules] == [r.op for r in y.rules]
            and [n for n, _, _ in x.leaves] == [n for n, _, _ in y.leaves])


def _same_function(f, g):
    return f is g or (type(f) is type(g) and type(f) in (types.MethodType, types.BuiltinMethodType) and f == g)


def _remake_seeded_generators(a, b):
    """Random draws whose only difference between the two traces is a NumPy Generator made on each call from
    the same seed, unused before (``np.random.default_rng(7)`` inside the function): eager draws the same
    numbers on each call, so each replay makes that generator again (``SeedGenerator``), in both traces'
    steps. Anything else that differs is left for _check_same to refuse."""
    pairs = {}  # id(generator of a) -> (generator of b, recipe)
    for x, y in zip(a.steps, b.steps, strict=False):
        if not (isinstance(x, NoteStep) and isinstance(y, NoteStep) and x.random and y.random and
                _same_function(x.func, y.func) and len(x.args) == len(y.args)):
            continue
        for u, v in zip(x.args, y.args, strict=True):
            if isinstance(u, np.random.Generator) and isinstance(v, np.random.Generator) and u is not v:
                ru, rv = a.generators.get(id(u), (None, None))[1], b.generators.get(id(v), (None, None))[1]
                if ru is None or ru != rv or pairs.get(id(u), (v,))[0] is not v:
                    return
                pairs[id(u)] = (v, ru)
    if not pairs:
        return
    made = {id(g): SeedGenerator(*recipe.recipe) for g, recipe in pairs.values()}  # keyed by b's generators
    for trace, key in ((a, lambda g: id(pairs[id(g)][0]) if id(g) in pairs else None), (b, lambda g: id(g))):
        first = set()
        for step in trace.steps:
            if not (isinstance(step, NoteStep) and step.random):
                continue
            for g in step.args:
                k = key(g) if isinstance(g, np.random.Generator) else None
                if k in made:
                    holder = made[k]
                    step.args = (step.func, holder, k not in first) + tuple(holder if v is g else v
                                                                             for v in step.args)
                    step.func = seeded_draw
                    first.add(k)
                    break


def _new_generator(x, y):
    """The two random draws differ only in their generator: a description of the two, else ''."""
    if not (isinstance(x, NoteStep) and isinstance(y, NoteStep) and x.random and y.random and
            _same_function(x.func, y.func) and len(x.args) == len(y.args)):
        return ""
    for u, v in zip(x.args, y.args, strict=True):
        if not _same(u, v):
            if not isinstance(u, (np.random.Generator, np.random.RandomState)):
                return ""
            return f"{type(u).__name__} at {id(u):#x}, then at {id(v):#x}"
    return ""


def _same(u, v):
    if isinstance(u, Copied) or isinstance(v, Copied):  # a list or dict the call made and stored: by its items
        return isinstance(u, Copied) and isinstance(v, Copied) and _same(u.value, v.value)
    if isinstance(u, Slot) or isinstance(v, Slot):
        return type(u) is type(v) and int(u) == int(v)
    if isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
        return isinstance(u, np.ndarray) and isinstance(v, np.ndarray) and _same_array(u, v)
    if isinstance(u, Tensor) or isinstance(v, Tensor):
        return u is v or (isinstance(u, Tensor) and isinstance(v, Tensor) and not u.requires_grad
                          and not v.requires_grad and _same_array(u._data, v._data))
    if isinstance(u, (tuple, list)):
        return type(u) is type(v) and len(u) == len(v) and all(_same(p, q) for p, q in zip(u, v, strict=True))
    if isinstance(u, dict):
        return isinstance(v, dict) and u.keys() == v.keys() and all(_same(u[k], v[k]) for k in u)
    if u is v:
        return True
    if type(u) is not type(v):
        return False
    if _plain_value(u):
        return signature_value(u) == signature_value(v)  # numbers by bits: -0.0 is not 0.0
    if isinstance(u, BaseException):  # warn(MyWarning("...")): each call makes its own, alike by their arguments
        return _same(u.args, v.args) and _same(vars(u), vars(v))
    try:
        return bool(u == v)
    except Exception:  # an object whose == is not a truth value
        return False


def _same_array(x, y):
    return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()  # -0.0 is not 0.0


def _fixed(source):
    """The array a slot holds that a replay does not make again: a constant's, or None."""
    from .trace import Held, ReadThrough

    if isinstance(source, ReadThrough):
        return source.tensor._data if source.tensor is not None else None
    if isinstance(source, Held):
        return source.array
    return None


def _result_shape(template):
    """What a result template says about the result's form: which slots, as Tensors or arrays, and the values
    (numbers by bits, objects by identity)."""
    return walk(template, lambda t: ("out", int(t.slot), t.as_tensor) if isinstance(t, Out) else
                ("value", signature_value(t.value)) if isinstance(t, Value) else
                ("argument", int(t)) if isinstance(t, ArgOf) else t)
