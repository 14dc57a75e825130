"""What a traced call read, so that a replay runs only while all of it still holds (jit/__init__.py).

Trace, then guards, then program: this module makes the guards.

While a call is traced, ``sys.settrace`` watches every frame. In the user's code
(any file outside tinygrad_np, the standard library and installed packages) it
is told of each bytecode instruction before it runs, and looks at the reads:

* a global or builtin name (``LOAD_GLOBAL``): in the step or in any function it
  calls, in any module;
* a closure variable (``LOAD_DEREF``) of a function defined outside the call;
* an attribute (``LOAD_ATTR``, ``LOAD_METHOD``) or an item (``BINARY_SUBSCR``):
  of a named value (``self.fc``, ``cfg["lr"]``, ``model.encode``) or of what a
  call returned (``get_config().scale``);
* a list, dict, set or NumPy array handed to code outside tinygrad_np (a
  builtin, an operator, NumPy, ``for``, ``in``, ``len``): its contents.

To know the object an attribute is read from, each instruction's operands are
found by walking the bytecode back from it (``dis.stack_effect``), and the
value each of those made is taken when it was made: read from the frame for a
name, from the child frame's return for a call, evaluated again for an
attribute or item read in C (which runs no Python, so has no effect). A read
whose object cannot be known this way is refused, naming the line: that is the
rule that makes the guards complete rather than a list.

In tinygrad_np's own frames nothing is watched but this: a Module whose method
runs has every attribute guarded (a library layer reads its own settings), and
the library tells the trace what else it reads (core/jit_seam.py). Calls the
replay makes again (an optimizer's step) are not watched at all: they read
their state when they run.

The guards are compiled into one Python function, ``holds()``, that a call
runs before replaying: a few dozen comparisons, about a microsecond.
"""
import dis
import functools
import gc
import os
import sys
import sysconfig
import types
from collections.abc import MutableMapping, MutableSequence, MutableSet

import numpy as np

from ..core.jit_seam import JitError, current
from ..core.tensor import Tensor
from ..core.user_frames import in_library, user_line
from .trace import leaves_of

MISSING = object()  # "no such name or attribute", as a guard's value
_PLAIN = (type(None), bool, int, float, complex, str, bytes, np.dtype, np.generic, type(Ellipsis), slice, range)
_MUTABLE = (list, dict, set, bytearray, np.ndarray, MutableSequence, MutableMapping, MutableSet)  # guarded by
# what they hold wherever code jit does not watch is handed one (a deque, an array.array, an OrderedDict)
LARGE = 1 << 16  # elements: a bigger array that Python code reads is refused rather than compared on every call
_LOADS_NAME = {"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR", "LOAD_DEREF", "LOAD_CLASSDEREF",
               "LOAD_CLOSURE", "LOAD_GLOBAL", "LOAD_NAME", "LOAD_CONST", "LOAD_FROM_DICT_OR_DEREF"}
_ATTRIBUTE = {"LOAD_ATTR", "LOAD_METHOD"}
_OPERATORS = {"BINARY_OP", "COMPARE_OP", "CONTAINS_OP", "UNARY_NEGATIVE", "UNARY_INVERT", "UNARY_NOT",
              "UNARY_POSITIVE", "IS_OP", "GET_ITER", "FORMAT_VALUE", "UNPACK_SEQUENCE", "UNPACK_EX"}
_READERS = {getattr, hasattr, vars}  # builtins that read an object's attributes: evaluated and guarded
UNKNOWN = object()  # an operand whose value the reader could not follow


def _library_roots():
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(os.path.abspath(r) + os.sep for r in roots)


_OUTSIDE = _library_roots()
_JIT = tuple(os.path.join(os.path.dirname(os.path.abspath(__file__)), f) for f in ("trace.py", "reads.py"))


def _is_user_code(filename):
    """True for the user's code: not tinygrad_np, not the standard library or an installed package."""
    if filename.startswith("<frozen") or in_library(filename):
        return False
    return not os.path.abspath(filename).startswith(_OUTSIDE)


# ---- guards ----------------------------------------------------------------------------------------------------
class Guards:
    """The reads of one trace, as checks: ``holds()`` is True while each read location has the value it had."""

    def __init__(self):
        self.checks = {}  # key -> (expression template, constants): one per location
        self.constants = []
        self.modules = {}  # id -> a module whose every attribute is guarded

    def const(self, value):
        self.constants.append(value)
        return f"k{len(self.constants) - 1}"

    def add(self, key, expression):
        if key not in self.checks:
            self.checks[key] = expression

    def same_value(self, now, value):
        """An expression true while the code ``now`` gives ``value``: equal for plain values, the same function
        and object for a bound method, the same object otherwise (a container's contents are guarded where
        they are read, see ``contents``)."""
        if type(value) in _PLAIN or (type(value) is tuple and _plain_tuple(value)):
            return f"_plain({now}, {self.const(value)})"
        if type(value) is types.MethodType:
            return f"_method({now}, {self.const(value.__func__)}, {self.const(value.__self__)})"
        return f"({now}) is {self.const(value)}"

    def contents(self, container):
        """Guard what a list, dict, set or array holds now (a copy to compare with)."""
        if isinstance(container, np.ndarray):
            if container.size > LARGE:
                return False
            self.add(("contents", id(container)), f"_same_array({self.const(container)}, "
                                                  f"{self.const(container.copy())})")
        else:
            self.add(("contents", id(container)), f"_same_contents({self.const(container)}, "
                                                  f"{self.const(_snapshot(container))})")
        return True

    def compile(self, trace):
        """The checks as one function ``holds()``, with the trace's own: each tensor read from outside keeps the
        requires_grad, shape and dtype the program was made for. Returns it and its source."""
        from .trace import ReadThrough

        for module in self.modules.values():
            snapshot = {k: (v, _snapshot(v)) for k, v in vars(module).items()}
            self.add(("vars", id(module)), f"_vars_same({self.const(module)}, {self.const(snapshot)})")
        owners = {id(t) for t, _ in trace.owners.values()}
        for source in trace.sources:
            if isinstance(source, ReadThrough) and id(source.tensor) in owners:
                t = source.tensor
                self.add(("leaf", id(t)), f"_leaf({self.const(t)}, {t.requires_grad!r}, {t._data.shape!r}, "
                                          f"{self.const(t._data.dtype)})")
        body = " and ".join(f"({e})" for e in self.checks.values()) or "True"
        namespace = {f"k{i}": v for i, v in enumerate(self.constants)}
        namespace.update(MISSING=MISSING, _plain=_plain, _method=_method, _same_contents=_same_contents,
                         _same_array=_same_array, _cell=_cell, _vars_same=_vars_same, _leaf=_leaf,
                         _same_function=_same_function)
        exec(compile(f"def holds():\n    return {body}\n", "<tinygrad_np.jit guards>", "exec"), namespace)
        self.namespace = namespace
        return namespace["holds"], body

    def failing(self):
        """The checks that fail now, as (what was read, its check): what made a call trace again."""
        return [(key, e) for key, e in self.checks.items() if not eval(e, self.namespace)]

    def describe(self, key):
        """What a check's key says was read, in words."""
        kind = key[0]
        if kind == "global":
            return f"the global {key[2]}"
        if kind == "attr":
            return f"the attribute .{key[2]}"
        return {"cell": "a closure variable", "contents": "what a list, dict or array holds",
                "vars": "an attribute of a module or object", "leaf": "a tensor's requires_grad, shape or dtype",
                "function": "a function's code or defaults"}.get(kind, kind)


def _plain_tuple(value):
    return all(type(v) in _PLAIN or (type(v) is tuple and _plain_tuple(v)) for v in value)


def _plain(now, then):
    return now is then or (type(now) is type(then) and now == then)


def _method(now, func, owner):
    return type(now) is types.MethodType and now.__func__ is func and now.__self__ is owner


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return MISSING


def _snapshot(value):
    """A container's contents, for comparing later: plain values by value, other objects by identity, nested
    lists, tuples, dicts and sets item by item."""
    if type(value) in (list, tuple):
        return (type(value), tuple(_snapshot(v) for v in value))
    if type(value) is dict:
        return (dict, tuple((k, _snapshot(v)) for k, v in value.items()))
    if type(value) in (set, frozenset):
        return (type(value), frozenset(id(v) if type(v) not in _PLAIN else v for v in value))
    if type(value) in _PLAIN:
        return (type(value), value)
    if isinstance(value, (MutableSequence, MutableSet)):
        return (type(value), tuple(_snapshot(v) for v in value))
    if isinstance(value, MutableMapping):
        return (type(value), tuple((k, _snapshot(v)) for k, v in value.items()))
    return (id, id(value))


def _same_contents(container, snapshot):
    return _snapshot(container) == snapshot


def _same_array(array, copy):
    return array.shape == copy.shape and array.dtype == copy.dtype and np.array_equal(array, copy, equal_nan=True)


def _vars_same(obj, snapshot):
    """A module's attributes are as they were: the same objects, equal plain values, containers item by item."""
    now = vars(obj)
    if len(now) != len(snapshot):
        return False
    for name, (then, contents) in snapshot.items():
        value = now.get(name, MISSING)
        if value is not then or type(value) in _CONTAINERS or isinstance(value, _MUTABLE):
            if _snapshot(value) != contents:
                return False
    return True


_CONTAINERS = (list, dict, set)  # and any other mutable container (checked by isinstance below)


def _same_function(fn, code, defaults, kwdefaults):
    return fn.__code__ is code and fn.__defaults__ is defaults and fn.__kwdefaults__ is kwdefaults


def _leaf(tensor, requires_grad, shape, dtype):
    data = tensor._data
    return tensor.requires_grad is requires_grad and data.shape == shape and data.dtype is dtype


# ---- the bytecode: which instruction made each operand --------------------------------------------------------
class _Code:
    """One code object, decoded once: instructions by offset, and for each instruction the reader looks at,
    which earlier instruction made each of its operands (None where control flow joins)."""

    def __init__(self, code):
        self.code = code
        self.instructions = list(dis.get_instructions(code))
        self.index = {ins.offset: i for i, ins in enumerate(self.instructions)}
        self.free = set(code.co_freevars)
        self._operands = {}

    def operands(self, offset, count):
        """The offsets of the instructions that made the top ``count`` stack values before ``offset`` runs,
        top first."""
        key = (offset, count)
        if key not in self._operands:
            self._operands[key] = self._walk_back(self.index[offset], count)
        return self._operands[key]

    def _walk_back(self, i, count):
        producers, j = [], i - 1
        while j >= 0 and self.instructions[j].opname in ("PRECALL", "KW_NAMES") and \
                not self.instructions[j + 1].is_jump_target:
            j -= 1  # (3.11) bookkeeping before a CALL: the operands are the call's
        for _ in range(count):
            if j < 0 or self.instructions[j + 1].is_jump_target:
                producers.append(None)
                j = -1
                continue
            producers.append(self.instructions[j].offset)
            need = 0
            while j >= 0:
                ins = self.instructions[j]
                if ins.opcode in dis.hasjrel or ins.opcode in dis.hasjabs:
                    j = -1  # a jump inside an operand's expression: not followed
                    break
                need += _effect(ins)
                if need >= 1:
                    break
                if ins.is_jump_target:
                    j = -1
                    break
                j -= 1
            if j < 0:
                producers[-1] = None
                producers.extend([None] * (count - len(producers)))
                return producers
            j -= 1
        return producers


def _effect(ins):
    if ins.opcode < dis.HAVE_ARGUMENT:
        return dis.stack_effect(ins.opcode)
    return dis.stack_effect(ins.opcode, ins.arg, jump=False)


_codes: dict = {}  # code object -> _Code


def _decoded(code):
    decoded = _codes.get(code)
    if decoded is None:
        decoded = _codes[code] = _Code(code)
    return decoded


# ---- the reader --------------------------------------------------------------------------------------------------
class _FrameState:
    __slots__ = ("code", "made", "previous", "child", "first_child", "child_is_user", "cells")

    def __init__(self, code, cells):
        self.code, self.made, self.previous, self.child, self.first_child = code, {}, None, MISSING, None
        self.child_is_user = False
        self.cells = cells  # name -> the cell a free variable lives in


class Reader:
    """Watches one traced call (see the module's doc) and fills ``guards``."""

    def __init__(self, trace, fn):
        self.trace, self.guards = trace, Guards()
        self.states = {}  # id(frame) -> _FrameState, for the user's frames running now
        self.functions = {}  # code -> functions known to run it (for their closure cells)
        self._function(fn)
        self.kinds = {}  # code -> "user" / "library" / "other"
        self.outside = {}  # id -> a value read from outside the call (a global, a closure, an attribute)
        self.reach = {}  # id -> (object, the replayed call that may change it), for objects a replayed call reached
        self.previous_tracer = None

    def _know_function(self, fn):
        fn = getattr(fn, "__func__", fn)
        code = getattr(fn, "__code__", None)
        if code is not None:
            self.functions.setdefault(code, [])
            if fn not in self.functions[code]:
                self.functions[code].append(fn)

    def start(self):
        self.previous_tracer = sys.gettrace()
        sys.settrace(self._call)

    def stop(self):
        sys.settrace(self.previous_tracer)
        self.states.clear()

    def _kind(self, code, parent_code=None):
        if parent_code is not None and parent_code.co_filename in _JIT:
            return "library"  # the trace's own work (a dataclass's generated __init__), not the user's
        kind = self.kinds.get(code)
        if kind is None:
            filename = code.co_filename
            kind = self.kinds[code] = ("user" if _is_user_code(filename) else
                                       "library" if in_library(filename) else "other")
        return kind

    # ---- events ------------------------------------------------------------------------------------------------
    def _call(self, frame, event, arg):
        if current.trace is not self.trace:  # paused: a replayed call reads its state when it runs
            return None
        code = frame.f_code
        kind = self._kind(code, frame.f_back.f_code if frame.f_back is not None else None)
        parent = self.states.get(id(frame.f_back))
        if parent is not None and parent.first_child is None:
            parent.first_child, parent.child_is_user = frame, kind == "user"
        if kind == "library" and code.co_argcount and code.co_varnames[0] == "self":
            first = frame.f_locals.get("self")
            if _is_module(first):  # a layer's method: it reads the layer's settings
                self.saw_module(first)
        if kind != "user":
            if parent is None:
                return None
            frame.f_trace_lines = False
            return self._child_events  # only its return, which is the value the user's frame gets
        self.states[id(frame)] = _FrameState(_decoded(code), self._cells(frame))
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True
        return self._user_events

    def _child_events(self, frame, event, arg):
        if event == "return":
            parent = self.states.get(id(frame.f_back))
            if parent is not None and parent.first_child is frame:
                parent.child = frame.f_locals.get("self", arg) if frame.f_code.co_name == "__init__" else arg
        return self._child_events

    def _user_events(self, frame, event, arg):
        if current.trace is not self.trace:
            return self._user_events
        state = self.states.get(id(frame))
        if state is None:
            return None
        if event == "opcode":
            self._instruction(frame, state)
        elif event == "return":
            self._child_events(frame, event, arg)
            del self.states[id(frame)]
        return self._user_events

    # ---- instructions ------------------------------------------------------------------------------------------
    def _instruction(self, frame, state):
        code = state.code
        if state.previous is not None:
            self._made(frame, state, state.previous)
        offset = frame.f_lasti
        ins = code.instructions[code.index[offset]]
        state.previous, state.child, state.first_child = ins, MISSING, None
        name = ins.opname
        if name in ("LOAD_GLOBAL", "LOAD_NAME"):
            self._global(frame, ins.argval)
        elif name in ("LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF") and ins.argval in code.free:
            self._free(frame, state, ins.argval)
        elif name in _ATTRIBUTE:
            receiver = self._operand(state, offset, 0)
            if receiver is UNKNOWN and name == "LOAD_ATTR" and not _is_method_load(ins):
                self._refuse(f"the attribute .{ins.argval} is read from a value jit cannot follow")
            elif isinstance(receiver, _MUTABLE):
                self._contents(receiver, f"its .{ins.argval}")
        elif name == "BINARY_SUBSCR":
            container = self._operand(state, offset, 1)
            if container is UNKNOWN:
                self._refuse("an item is read from a value jit cannot follow")
            elif isinstance(container, _MUTABLE):
                self._contents(container, "an item of it")
        elif name == "GET_ITER" and _is_iterator_from_outside(self._operand(state, offset, 0), self.outside):
            self._refuse("a loop takes items from an iterator that exists outside the call, which a replay cannot "
                         "take again")
        elif name in _OPERATORS:
            for value in self._operands(state, offset, 2 if name in ("BINARY_OP", "COMPARE_OP", "CONTAINS_OP",
                                                                       "IS_OP") else 1):
                if isinstance(value, _MUTABLE):
                    self._contents(value, f"{name.lower()}")
        elif name in ("CALL", "CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_METHOD", "CALL_KW"):
            self._call_site(state, offset, ins)

    def _operand(self, state, offset, depth):
        producers = state.code.operands(offset, depth + 1)
        producer = producers[depth]
        return UNKNOWN if producer is None else state.made.get(producer, UNKNOWN)

    def _operands(self, state, offset, count):
        producers = state.code.operands(offset, count)
        return [UNKNOWN if p is None else state.made.get(p, UNKNOWN) for p in producers]

    def _made(self, frame, state, ins):
        """Note the value the instruction that just ran left on the stack."""
        name, value = ins.opname, UNKNOWN
        if state.child is not MISSING:
            value = state.child
        elif name in ("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_CLOSURE"):
            value = frame.f_locals.get(ins.argval, UNKNOWN)
        elif name in ("LOAD_GLOBAL", "LOAD_NAME"):
            value = frame.f_globals.get(ins.argval, MISSING)
            if value is MISSING:
                value = frame.f_builtins.get(ins.argval, UNKNOWN)
        elif name == "LOAD_CONST":
            value = ins.argval
        elif name in _ATTRIBUTE:
            receiver = self._operand(state, ins.offset, 0)
            if receiver is not UNKNOWN:
                try:
                    value = getattr(receiver, ins.argval)  # no Python ran for it (no child frame): no effect
                except AttributeError:
                    value = UNKNOWN
        elif name == "BINARY_SUBSCR":
            container, key = self._operand(state, ins.offset, 1), self._operand(state, ins.offset, 0)
            if container is not UNKNOWN and key is not UNKNOWN and type(container) in (list, tuple, dict, str):
                try:
                    value = container[key]
                except (LookupError, TypeError):
                    value = UNKNOWN
        elif name == "BINARY_OP":
            left, right = self._operand(state, ins.offset, 1), self._operand(state, ins.offset, 0)
            if type(left) in (int, float, str) and type(right) in (int, float, str):
                value = _binary(ins.argrepr, left, right)
        if value is UNKNOWN and name in ("CALL", "CALL_FUNCTION", "CALL_METHOD", "CALL_KW"):
            value = self._reader_result(state, ins)
        if value is not UNKNOWN:
            state.made[ins.offset] = value
        elif ins.offset in state.made:
            del state.made[ins.offset]
        if name in _ATTRIBUTE and not (state.child is not MISSING and state.child_is_user):
            # (a property or __getattr__ of the user's runs as a frame of its own, whose reads are guarded)
            self._attribute_read(state, ins, value)

    def _attribute_read(self, state, ins, value):
        """Guard ``receiver.name``, read by the instruction that just ran, at the value it gave."""
        receiver = self._operand(state, ins.offset, 0)
        if receiver is UNKNOWN:
            return
        name = ins.argval
        if not (callable(value) and name not in getattr(receiver, "__dict__", ())):  # a method is the class's
            self._reached(receiver, f".{name}")
        if isinstance(receiver, Tensor):
            self._tensor_attribute(receiver, name, value)
            return
        if isinstance(receiver, _MUTABLE) or type(receiver) in _PLAIN or type(receiver) is tuple:
            return
        if value is UNKNOWN:
            value = MISSING
        self._register(value)
        self.outside[id(value)] = value
        now = f"_get({self.guards.const(receiver)}, {name!r})"
        self.guards.add(("attr", id(receiver), name), self.guards.same_value(now, value).replace(
            now, f"getattr({self.guards.const(receiver)}, {name!r}, MISSING)"))

    def _tensor_attribute(self, tensor, name, value):
        if self.trace.made(tensor):
            return  # the trace made it: what it holds is the program's, not read from outside
        if name == "grad":
            self.guards.add(("attr", id(tensor), "grad"), f"{self.guards.const(tensor)}._grad is "
                                                          f"{self.guards.const(value)}")
            if isinstance(value, Tensor):
                self.trace.owns(value)
        elif name == "requires_grad":
            self.guards.add(("attr", id(tensor), name), f"{self.guards.const(tensor)}.requires_grad is {value!r}")
        self.trace.owns(tensor)

    def _reader_result(self, state, ins):
        """getattr(obj, name), hasattr, vars: evaluated again (C, no effect) and guarded."""
        argc = ins.arg or 0
        operands = self._operands(state, ins.offset, argc + 1)
        function = operands[argc] if len(operands) > argc else UNKNOWN
        if not any(function is r for r in _READERS):
            return UNKNOWN
        args = list(reversed(operands[:argc]))
        if UNKNOWN in args or not args:
            self._refuse(f"{function.__name__}() reads an attribute of a value jit cannot follow", ins=ins)
            return UNKNOWN
        self._reached(args[0], f"an attribute (through {function.__name__}())")
        if function is vars:
            self.saw_module(args[0])
            return vars(args[0])
        if len(args) < 2 or not isinstance(args[1], str):
            return UNKNOWN
        value = getattr(args[0], args[1], MISSING)
        if value is not MISSING or function is hasattr:
            self._register(value)
            self.guards.add(("attr", id(args[0]), args[1]), self.guards.same_value(
                f"getattr({self.guards.const(args[0])}, {args[1]!r}, MISSING)", value))
        if function is hasattr:
            return value is not MISSING
        return UNKNOWN if value is MISSING else value

    def _call_site(self, state, offset, ins):
        """A call from the user's code: a list, dict, set or array handed to code outside tinygrad_np is read."""
        argc = ins.arg or 0
        operands = self._operands(state, offset, argc + 1)
        function = operands[argc] if len(operands) > argc else UNKNOWN
        outside_code = function is UNKNOWN or not _is_ours(function)
        if function is not UNKNOWN and outside_code:
            _refuse_hidden_state(function, self)
        if isinstance(function, functools.partial):  # the arguments it keeps are read by C
            self._function(function.func)
            self._contents(function.keywords, "functools.partial")
            for value in function.args:
                if isinstance(value, _MUTABLE):
                    self._contents(value, "functools.partial")
        for value in operands[:argc]:  # what a callee does with it (a copy, a cast, a sum) is not seen: guarded
            if isinstance(value, _MUTABLE):
                self._contents(value, f"{getattr(function, '__name__', 'a function')}()")
            elif _is_iterator_from_outside(value, self.outside):
                self._refuse(f"{getattr(function, '__name__', 'a function')}() takes items from an iterator that "
                             "exists outside the call, which a replay cannot take again")
            elif outside_code and _plain_object(value):
                self.saw_module(value)  # code jit does not watch may read any of its attributes

    # ---- reads -------------------------------------------------------------------------------------------------
    def _global(self, frame, name):
        namespace = frame.f_globals
        value = namespace.get(name, MISSING)
        self._register(value)
        self.outside[id(value)] = value
        self.guards.add(("global", id(namespace), name),
                        self.guards.same_value(f"{self.guards.const(namespace)}.get({name!r}, MISSING)", value))
        if value is MISSING:
            builtins = frame.f_builtins
            value = builtins.get(name, MISSING)
            self.guards.add(("global", id(builtins), name),
                            self.guards.same_value(f"{self.guards.const(builtins)}.get({name!r}, MISSING)", value))

    def _free(self, frame, state, name):
        cell = state.cells.get(name)
        if cell is None:
            self._refuse(f"the closure variable {name!r} belongs to a function jit cannot find")
            return
        value = _cell(cell)
        self._register(value)
        self.outside[id(value)] = value
        self.guards.add(("cell", id(cell)), self.guards.same_value(f"_cell({self.guards.const(cell)})", value))

    def _cells(self, frame):
        """The cells of the function running in ``frame``: known if jit has seen the function, else found among
        the functions that share its code, by what the cells hold now."""
        code = frame.f_code
        if not code.co_freevars:
            return {}
        candidates = self.functions.get(code)
        if not candidates:
            candidates = [f for f in gc.get_referrers(code) if type(f) is types.FunctionType and f.__code__ is code]
            self.functions[code] = candidates
        local = frame.f_locals
        matches = [f for f in candidates
                   if all(_cell(c) is local.get(n, MISSING) for n, c in zip(code.co_freevars, f.__closure__,
                                                                            strict=True))]
        cells = {tuple(map(id, f.__closure__)): f.__closure__ for f in matches}
        if len(cells) != 1:
            return {}
        return dict(zip(code.co_freevars, next(iter(cells.values())), strict=True))

    def _contents(self, container, how):
        self._reached(container, "what a list, dict or array holds")
        if not self.guards.contents(container):
            self._refuse(f"{how} reads an array of {container.size} elements that exists outside the call; "
                         "comparing it on every call would cost more than the step. Pass it as an argument, or "
                         "make it a Tensor (a Tensor's values are read where they live on every replay)")

    def saw_module(self, module):
        """Guard every attribute of a module whose library code runs (it reads its own settings). They are
        taken as the trace leaves them (``Guards.compile``): an attribute the function itself sets while tracing
        (``self.last = ...``) is then as a replay finds it."""
        if not hasattr(module, "__dict__") or id(module) in self.guards.modules:
            return
        self.guards.modules[id(module)] = module
        for value in vars(module).values():
            self._register(value)

    def after_call(self, func, args, kwargs):
        """A call a replay makes again (an optimizer's step) just ran: what it can reach, it may change, on any
        replay. Python that reads it later in the call would keep the traced value: refused (``_reached``)."""
        name = getattr(func, "__qualname__", "a call")
        todo, depth = [a for a in leaves_of((args, kwargs))], 0
        while todo and depth < 4:
            found = []
            for obj in todo:
                if id(obj) in self.reach or isinstance(obj, (Tensor, np.ndarray, type, types.ModuleType,
                                                             types.FunctionType)) or type(obj) in _PLAIN:
                    continue
                self.reach[id(obj)] = (obj, name)
                if isinstance(obj, (list, tuple, set, frozenset)):
                    found.extend(obj)
                elif isinstance(obj, dict):
                    found.extend(obj.values())
                elif hasattr(obj, "__dict__"):
                    found.extend(vars(obj).values())
            todo, depth = found, depth + 1

    def _reached(self, obj, what):
        entry = self.reach.get(id(obj))
        if entry is not None and entry[0] is obj:
            self._refuse(f"{what} is read after {entry[1]}(), which each replay calls again and which may change "
                         "it; the replay would keep the value read while tracing. Read it before that call, or "
                         "return what you need and read it after the jitted call")

    def _function(self, fn):
        """A function the user's code reads: its code, defaults and closure cells are what the trace ran."""
        fn = getattr(fn, "__func__", fn)
        if type(fn) is not types.FunctionType or ("function", id(fn)) in self.guards.checks:
            return
        self._know_function(fn)
        g = self.guards
        g.add(("function", id(fn)), f"_same_function({g.const(fn)}, {g.const(fn.__code__)}, "
                                     f"{g.const(fn.__defaults__)}, {g.const(fn.__kwdefaults__)})")

    def _register(self, value):
        """A Tensor read from outside (alone or in a list, tuple or dict): the trace reads its array through it
        on every replay. A function: its code and defaults are guarded."""
        if type(value) is types.FunctionType or type(value) is types.MethodType:
            self._function(value)
        for v in (value,) if isinstance(value, Tensor) else leaves_of(value) if type(value) in (list, tuple, dict) \
                else ():
            if isinstance(v, Tensor):
                self.trace.owns(v)

    def _refuse(self, what, ins=None):
        raise JitError(f"jit: {what}, at {user_line()}. A replay runs no Python, so jit must see every value the "
                       "function reads to know when a replay would be stale. Give the value a name first "
                       "(obj = ...; obj.attr), or pass it as an argument")


def _is_iterator_from_outside(value, outside):
    return id(value) in outside and outside[id(value)] is value and hasattr(value, "__next__") and \
        not isinstance(value, (Tensor, np.ndarray))


def _plain_object(value):
    """An instance of a user's class, whose attributes code jit does not watch may read."""
    return (hasattr(value, "__dict__") and not isinstance(value, (type, types.ModuleType, types.FunctionType,
                                                                   types.MethodType, Tensor, np.ndarray))
            and type(value).__module__ not in ("builtins",))


def _is_module(obj):
    from ..nn.module import Module

    return isinstance(obj, Module)


def _is_method_load(ins):
    return ins.opname == "LOAD_ATTR" and sys.version_info >= (3, 12) and bool(ins.arg & 1)


def _is_ours(function):
    """A callable of tinygrad_np (or a Tensor's method): it handles arrays and lists by reference itself."""
    module = getattr(function, "__module__", None) or getattr(type(function), "__module__", None) or ""
    if isinstance(getattr(function, "__self__", None), Tensor):
        return True
    return module == "tinygrad_np" or module.startswith("tinygrad_np.")


def _binary(symbol, left, right):
    import operator

    ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv, "%": operator.mod}
    op = ops.get(symbol)
    if op is None:
        return UNKNOWN
    try:
        return op(left, right)
    except Exception:
        return UNKNOWN


_HIDDEN_MODULES = ("time", "secrets")


def _refuse_hidden_state(function, reader):
    """Random numbers, clocks and the like give a new value on each call without any read jit could guard: a
    random generator's method, if the generator comes from outside the call or is the module's shared one
    (``random.random``, ``np.random.rand``); a clock. (A generator made inside the call with a seed is as
    deterministic as the rest; one made without a seed differs between the two traces, which is refused.)"""
    import random

    owner = getattr(function, "__self__", None)
    module = getattr(function, "__module__", None) or ""
    shared = (getattr(random, "_inst", None), getattr(np.random.mtrand, "_rand", None))
    generator = isinstance(owner, (random.Random, np.random.Generator, np.random.RandomState))
    hidden = (generator and (id(owner) in reader.outside or any(owner is g for g in shared))) or \
        module in _HIDDEN_MODULES or getattr(function, "__name__", "") == "urandom"
    if hidden:
        reader._refuse(f"{getattr(function, '__qualname__', function)}() gives a new value on each call, which a "
                       "replay would not; draw random numbers with tg.randn or nn.Dropout (a replay draws again), "
                       "or pass the value as an argument")
