"""What a traced call read, so that a replay runs only while all of it still holds (jit/__init__.py).

Trace, then guards, then program: this module makes the guards.

While a call is traced, ``sys.settrace`` watches every frame it runs, and is
told of each bytecode instruction before it runs. Frames are watched in one of
two ways:

* **Everything** in the user's code, and in the standard library and
  installed packages the user's code calls (``os.getenv``,
  ``dataclasses.asdict``, ``logging``'s ``isEnabledFor``, a ``match`` on a
  config): each read becomes a guard, each write into an object from outside
  the call becomes a replayed call, and what cannot be followed is refused;
* **the code it looks up** in tinygrad_np's own frames (a layer's ``forward``,
  ``F.linear`` called by ``nn.Linear``, ``Tensor.relu`` called by
  ``nn.ReLU``): a patched method or function is a changed guard. The library
  tells the trace what else it reads (core/jit_seam.py); its engine (core/,
  except the Tensor class, and jit/) is not watched at all, and neither is the
  standard library it calls.

The reads that become guards:

* a global or builtin name (``LOAD_GLOBAL``), in any function, any module;
* a closure variable (``LOAD_DEREF``) of a function defined outside the call;
* an attribute (``LOAD_ATTR``, ``LOAD_METHOD``, ``IMPORT_FROM``) or an item
  (``BINARY_SUBSCR``) of a value jit can follow: the value it gave, compared
  by type and bits for numbers (``-0.0`` is not ``0.0``), by identity for
  objects; for a method, property or operator, the class entry that
  resolved it (``Net.forward`` patched, ``model.__class__`` swapped);
* a list, dict, set or NumPy array handed to code jit does not watch (a
  builtin, an operator, NumPy, ``for``, ``in``, ``*args``/``**kwargs``
  unpacking, a ``match`` pattern): its contents; an object handed to such code
  (or matched by a class pattern): all its attributes;
* a call cached by ``functools.lru_cache``: the reads made when the cached
  value was computed (seen by this jit while tracing), else refused;
* the module a step imports (``sys.modules``).

To know the object an attribute is read from, each instruction's operands are
found by walking the bytecode back from it (``dis.stack_effect``; ``COPY`` and
``SWAP`` followed), and the value each of those made is taken when it was
made: read from the frame for a name, from the child frame's return for a call
(only the frame of the function called: a C function calling back into Python
gives no value), evaluated again for an attribute or item read in C, or for a
pure builtin (``type``, ``len``, ``sorted``, ``globals``...). A read whose
object cannot be known this way is refused, naming the line: that is the rule
that makes the guards complete rather than a list.

Also refused while tracing, naming the line: state no guard can hold (random
numbers from Python or NumPy's shared generators, clocks, the file system,
work handed to another thread), a write of an object made during the call into
an object from outside it.

The guards compile into one Python function, ``holds()``, that a call runs
before replaying: a few dozen comparisons, a few microseconds.
"""
import abc
import builtins
import ctypes
import dis
import functools
import gc
import io
import math
import mmap
import operator
import os
import struct
import sys
import sysconfig
import types
import typing
import weakref
from collections import _count_elements, deque  # type: ignore[attr-defined]
from collections.abc import MutableMapping, MutableSequence, MutableSet

import numpy as np

from ..core.function import Function
from ..core.jit_seam import JitError, current
from ..core.tensor import Tensor
from ..core.user_frames import in_library
from .output import At, Caught, Manager, enter_catch, exit_catch, traced_frames
from .trace import Copied, Entry, Kept, _copy_containers, call_method, leaves_of

MISSING = object()  # "no such name or attribute", as a guard's value
_PLAIN = (type(None), bool, int, float, complex, str, bytes, np.dtype, type(Ellipsis), slice, range)
# Writable memory that C reads byte by byte (``sum(ctypes_array)``, ``max(mm[:])``): guarded by its bytes.
_BUFFERS = (ctypes.Array, ctypes.Structure, ctypes.Union, ctypes._SimpleCData, mmap.mmap, memoryview)
# Read-only windows onto a container that changes under them: a dict's MappingProxyType and views, an array's .flat
_VIEWS: tuple[type, ...] = (types.MappingProxyType, type({}.keys()), type({}.values()), type({}.items()), np.flatiter)
_MUTABLE = (list, dict, set, bytearray, np.ndarray, MutableSequence, MutableMapping, MutableSet) + _BUFFERS + _VIEWS
# guarded by what they hold wherever code jit does not watch is handed one (a deque, an array.array, an
# OrderedDict, a ctypes array, an mmap)
LARGE = 1 << 16  # elements: a bigger array that Python code reads is refused rather than compared on every call
_ATTRIBUTE = {"LOAD_ATTR", "LOAD_METHOD"}
_CALLS = {"CALL", "CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_METHOD", "CALL_KW"}
_OPERATORS = {"BINARY_OP", "COMPARE_OP", "CONTAINS_OP", "UNARY_NEGATIVE", "UNARY_INVERT", "UNARY_NOT",
              "UNARY_POSITIVE", "GET_ITER", "FORMAT_VALUE", "UNPACK_SEQUENCE", "UNPACK_EX", "GET_LEN",
              "MATCH_MAPPING", "MATCH_SEQUENCE", "MATCH_KEYS", "LIST_EXTEND", "SET_UPDATE", "DICT_MERGE",
              "DICT_UPDATE", "CALL_FUNCTION_EX", "BINARY_SLICE", "CALL_INTRINSIC_1"}
_TWO_OPERANDS = {"BINARY_OP", "COMPARE_OP", "CONTAINS_OP", "MATCH_KEYS"}
_WRITES = {"STORE_ATTR", "DELETE_ATTR", "STORE_SUBSCR", "DELETE_SUBSCR", "STORE_GLOBAL", "DELETE_GLOBAL",
           "STORE_DEREF", "DELETE_DEREF", "STORE_SLICE"}
_FILLERS = {"LIST_EXTEND", "SET_UPDATE", "DICT_UPDATE", "DICT_MERGE", "LIST_APPEND", "SET_ADD", "MAP_ADD"}
_FRESH_MAKERS = {"BUILD_LIST", "BUILD_MAP", "BUILD_SET", "BUILD_CONST_KEY_MAP", "BUILD_TUPLE", "LIST_TO_TUPLE",
                 "BUILD_STRING", "BUILD_SLICE"}
_READERS = {getattr, hasattr, vars}  # builtins that read an object's attributes: evaluated and guarded
# Builtins without effects, evaluated again on values jit knows, so that what they return can be followed.
_PURE = {type, len, isinstance, issubclass, id, abs, min, max, sorted, sum, tuple, list, dict, set, frozenset, str,
         slice, bytes, int, float, bool, round, divmod, callable, range, repr, format}
_PURE_METHODS = {"items", "keys", "values", "get", "copy", "index", "count", "split", "rsplit", "strip", "lstrip",
                 "rstrip", "lower", "upper", "startswith", "endswith", "join", "replace", "partition",
                 "rpartition", "find", "rfind", "isdigit", "isalpha", "format", "format_map", "__getitem__",
                 "__contains__"}
# Methods of builtin containers that only write: a replay makes them again; what the container held is not read.
_PURE_WRITES = {"append", "extend", "insert", "add", "update", "clear", "discard", "appendleft", "extendleft",
                "__setitem__", "__delitem__"}
_MUTATORS = _PURE_WRITES | {"pop", "popitem", "remove", "setdefault", "sort", "reverse", "popleft", "rotate",
                             "move_to_end", "__iadd__", "__ior__", "__isub__", "__iand__", "__ixor__", "__imul__",
                             "frombytes", "fromlist", "fromunicode", "byteswap"}
# Of those, the ones whose result depends on what the container holds: a read as well as a write.
_READING_MUTATORS = {"pop", "popitem", "remove", "popleft"}
_SELF_IN_PLACE = (list, set, dict, bytearray, deque, __import__("array").array)  # C types whose += returns self
# Augmented assignment, as the method each replay calls on a container from outside (``log += [x]``).
_IN_PLACE = {"+=": "__iadd__", "|=": "__ior__", "-=": "__isub__", "&=": "__iand__", "^=": "__ixor__",
             "*=": "__imul__"}
UNKNOWN = object()  # an operand whose value the reader could not follow


# ---- whose code is it ------------------------------------------------------------------------------------------
def _library_roots():
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(os.path.abspath(r) + os.sep for r in roots)


_OUTSIDE = _library_roots()
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The engine: watched by no one (the trace records what it does through its hooks). The Tensor class is not
# engine: its methods are what users patch.
_ENGINE = tuple(os.path.join(_PACKAGE, d) + os.sep for d in ("core", "jit", "see"))
_TENSOR_FILE = os.path.join(_PACKAGE, "core", "tensor.py")
_JIT = os.path.join(_PACKAGE, "jit") + os.sep
_QUIET_FILES = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
# NumPy's own Python is trusted as the engine is: a replay runs NumPy's functions again, and what they read is
# their own configuration (the error state is checked by the trace itself). What the user hands them is guarded
# at the call.
_NUMPY = os.path.dirname(os.path.abspath(np.__file__)) + os.sep


def _code_kind(filename):
    """"user" (watched whole), "other" (the standard library or a package: watched whole when the user's code
    calls it), "library" (tinygrad_np: its lookups watched), "engine" (not watched), "quiet" (importing)."""
    if filename in _QUIET_FILES:
        return "quiet"
    if filename.startswith("<frozen"):
        return "other"
    if os.path.abspath(filename).startswith(_NUMPY):
        return "engine"
    if in_library(filename):
        path = os.path.abspath(filename)
        return "engine" if path.startswith(_ENGINE) and path != _TENSOR_FILE else "library"
    return "other" if os.path.abspath(filename).startswith(_OUTSIDE) else "user"


def _is_user_code(filename):
    return _code_kind(filename) == "user"


# ---- exact comparison ------------------------------------------------------------------------------------------
def _bits(value):
    """A number as its exact bits (-0.0 and 0.0 differ, every NaN is one), anything else as itself."""
    kind = type(value)
    if kind is float:
        return value.hex() if value == value else struct.pack("<d", value)  # (every NaN's hex is "nan")
    if kind is complex:
        return (_bits(value.real), _bits(value.imag))
    if isinstance(value, np.generic):
        return (value.dtype.str, value.tobytes())
    if kind is tuple:  # elements by type too: (1,), (True,) and (1.0,) differ
        return tuple((type(v), _bits(v)) for v in value)
    if kind is range or kind is slice:  # range(0, 1, 1) is not range(0, 1, 5), nor slice(0, 2, 0.0) (.., -0.0)
        return tuple((type(v), _bits(v)) for v in (value.start, value.stop, value.step))
    return value


def _needs_bits(value):
    """True where == is not enough to tell two values apart: a zero or NaN float, anywhere in a tuple."""
    kind = type(value)
    if kind is float or kind is complex or isinstance(value, np.inexact):
        return not (value == value and value != 0) or kind is complex
    if kind is tuple:  # == would take (1,) for (True,) or (1.0,)
        return any(type(v) not in (str, type(None)) for v in value)
    return kind is range or kind is slice  # == takes range(0) for range(5, 5)


def _exact(now, then):
    return type(now) is type(then) and _bits(now) == _bits(then)


def _plain_value(value):
    """A value compared by type and value (bits for numbers), not identity."""
    kind = type(value)
    return kind in _PLAIN or isinstance(value, np.generic) or (kind is tuple and all(_plain_value(v) for v in value))


class Identity:
    """An object in a signature key: equal only to itself (a hashable argument whose == may say two objects are
    the same when the step reads something different from each)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return type(other) is Identity and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)


def signature_value(value):
    """A non-array argument as a signature key: numbers by type and bits, strings and the like by value,
    any other object by identity."""
    if _plain_value(value):
        return (type(value), _bits(value))
    return Identity(value)


# ---- guards ----------------------------------------------------------------------------------------------------
class Guards:
    """The reads of one trace, as checks: ``holds()`` is True while each read location has the value it had.

    A check is a template (``{0}``, ``{1}`` for its constants) and its constants, so that checks can move
    between traces (the reads behind a cached call's value)."""

    def __init__(self):
        self.checks = {}  # key -> (template, constants): one per location
        self.modules = {}  # id -> a module whose every attribute is guarded
        self.written = {}  # id(object) -> attribute names the step writes (a replay writes them again)
        self.before_writes = {}  # id(container) -> (it, its contents before the step first changed it)
        self.recorders = []  # lists collecting every check added while a cached function runs

    def add(self, key, template, *constants):
        if key not in self.checks:
            self.checks[key] = (template, constants)
        for recorder in self.recorders:
            recorder.append((key, template, constants))

    def value(self, key, getter, value, *constants):
        """A check that the expression ``getter`` (over ``constants``) gives ``value`` again: by type and bits
        for numbers and strings, the same function and object for a bound method, the same object otherwise."""
        n = len(constants)
        if _plain_value(value):
            test = "_exact({}, {%d})" if _needs_bits(value) else "_plain({}, {%d})"
            self.add(key, test.replace("{}", getter) % n, *constants, value)
        elif type(value) is types.MethodType:
            self.add(key, f"_method({getter}, {{{n}}}, {{{n + 1}}})", *constants, value.__func__, value.__self__)
        elif type(value) in (types.BuiltinMethodType, types.MethodWrapperType) and \
                not isinstance(value.__self__, types.ModuleType):  # made anew on each lookup: equal, not the same
            self.add(key, f"_same_builtin({getter}, {{{n}}})", *constants, value)
        else:
            self.add(key, f"({getter}) is {{{n}}}", *constants, value)

    def class_entry(self, cls, name):
        """Guard where ``name`` resolves on ``cls`` (its MRO): not in the classes before, the same entry; a dict
        lookup or two on each replay, not an MRO walk."""
        before, owner, entry = _class_entry(cls, name)
        for c in before:  # (a class's __dict__ is a live view of it: kept, not looked up on each call)
            self.add(("class", id(c), name), "{1} not in {0}", c.__dict__, name)
        if owner is not None:
            self.add(("class", id(owner), name), "{0}.get({1}) is {2}", owner.__dict__, name, entry)

    def contents(self, container):
        """Guard what a list, dict, set or array holds now (a copy to compare with), or, if the step changed it
        before reading it, what it held before: what it reads depends on that (``log.append(1); len(log)``)."""
        before = self.before_writes.get(id(container))
        if before is not None and before[0] is container:
            self.add(("contents", id(container)), "_same_contents({0}, {1})", container, before[1])
        elif isinstance(container, np.ndarray):
            if container.size > LARGE:
                return False
            self.add(("contents", id(container)), "_same_array({0}, {1})", container, container.copy())
        elif isinstance(container, _BUFFERS):
            now = _buffer_bytes(container)
            if now is None or len(now) > LARGE:
                return False
            self.add(("contents", id(container)), "_buffer_bytes({0}) == {1}", container, now)
        else:
            self.add(("contents", id(container)), "_same_contents({0}, {1})", container, _snapshot(container))
        return True

    def changing(self, container):
        """The step is about to change a container from outside: keep what it held (see ``contents``)."""
        if id(container) not in self.before_writes and not isinstance(container, np.ndarray):
            self.before_writes[id(container)] = (container, _snapshot(container))

    def compile(self, trace):
        """The checks as one function ``holds()``, with the trace's own: each tensor read from outside keeps the
        requires_grad, shape and dtype the program was made for; each object whose attributes library code
        reads keeps them all (but those the step itself writes, which a replay writes again). Returns it and
        its source."""
        from .trace import ReadThrough

        for module in self.modules.values():
            skip = self.written.get(id(module), ())
            snapshot = {k: (v, _snapshot(v)) for k, v in vars(module).items() if k not in skip}
            self.add(("vars", id(module)), "_vars_same({0}, {1}, {2}, {3})", module, type(module), snapshot,
                     frozenset(skip))
        # NumPy's print options decide the text of any NumPy value the step formats (str, repr, an f-string,
        # %, map(str, a) in C): np.set_printoptions between calls traces again. One identity test, ~0.1 us.
        self.add(("printoptions",), "_same_print_options({0})", _print_options())
        for step in trace.steps:  # each op's class: a forward or backward patched on it between calls
            cls = getattr(step, "cls", None)
            if isinstance(cls, type) and issubclass(cls, Function):
                for name in ("forward", "backward"):
                    self.class_entry(cls, name)
        for source in trace.sources:
            if isinstance(source, ReadThrough) and id(source.tensor) in trace.outside_ids:
                t = source.tensor
                self.add(("leaf", id(t)), f"_leaf({{0}}, {t.requires_grad!r}, {{1}}, {{2}})", t, t._data.shape,
                         t._data.dtype)
        namespace = {"MISSING": MISSING, "_plain": _plain, "np": np, "abc": abc, "_exact": _exact, "_method": _method,
                     "_same_contents": _same_contents, "_same_array": _same_array, "_cell": _cell,
                     "_vars_same": _vars_same, "_leaf": _leaf, "_same_function": _same_function,
                     "_dict_item": _dict_item, "_cache_same": _cache_same, "_partial_same": _partial_same,
                     "_same_builtin": _same_builtin, "_buffer_bytes": _buffer_bytes, "_dispatch_same": _dispatch_same,
                     "_class_entry": _class_entry, "_weak_same": _weak_same,
                     "_same_print_options": _same_print_options}
        self.expressions = {}
        for key, (template, constants) in self.checks.items():
            names = []
            for c in constants:
                names.append(f"k{len(namespace)}")
                namespace[names[-1]] = c
            self.expressions[key] = template.format(*names)
        body = " and ".join(f"({e})" for e in self.expressions.values()) or "True"
        exec(compile(f"def holds():\n    return {body}\n", "<tinygrad_np.jit guards>", "exec"), namespace)
        self.namespace = namespace
        return namespace["holds"], body

    def failing(self):
        """The checks that fail now, as (what was read, its check): what made a call trace again."""
        return [(key, e) for key, e in self.expressions.items() if not eval(e, self.namespace)]

    def describe(self, key):
        """What a check's key says was read, in words."""
        kind = key[0]
        if kind == "global":
            return f"the global {key[2]}"
        if kind in ("attr", "class"):
            return f"the attribute .{key[2]}"
        if kind == "item":
            return f"the item [{key[2]!r}]"
        return {"cell": "a closure variable", "contents": "what a list, dict or array holds",
                "vars": "an attribute of a module or object", "leaf": "a tensor's requires_grad, shape or dtype",
                "function": "a function's code or defaults", "cache": "what a cached function read",
                "partial": "what a functools.partial keeps"}.get(kind, kind)


def _plain(now, then):
    return now is then or (type(now) is type(then) and now == then)


def _method(now, func, owner):
    return type(now) is types.MethodType and now.__func__ is func and now.__self__ is owner


def _same_builtin(now, then):
    return type(now) is type(then) and now.__self__ is then.__self__ and now == then


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return MISSING


def _dict_item(container, key):
    """What a dict (a defaultdict, a Counter) holds at ``key``, without calling its ``__missing__``."""
    return dict.get(container, key, MISSING)


def _snapshot(value):
    """A container's contents, for comparing later: plain values by type and value (a float zero or NaN by
    bits), other objects by identity, nested lists, tuples, dicts and sets item by item."""
    kind = type(value)
    if kind is float:
        return (float, value) if value == value and value else (float, _bits(value))
    if kind in (list, tuple):
        return (kind, tuple(_snapshot(v) for v in value))
    if kind is dict:  # keys by type and bits too: {1: ..}, {True: ..} and {1.0: ..} differ
        return (dict, tuple((_snapshot(k), _snapshot(v)) for k, v in value.items()))
    if kind in (set, frozenset):  # members by type and bits: {0.0} and {-0.0} differ
        return (kind, frozenset(_snapshot(v) for v in value))
    if kind in _PLAIN:
        return (kind, _bits(value))
    if isinstance(value, np.generic):
        return (kind, _bits(value))
    if isinstance(value, _BUFFERS):
        return (kind, id(value), _buffer_bytes(value))
    if kind is np.flatiter:  # lr_table.flat: what its array holds (iterating it would move it)
        base = value.base
        return (kind, id(base), base.dtype.str, base.shape, base.tobytes() if base.size <= LARGE else None)
    if isinstance(value, (MutableSequence, MutableSet)) or kind in _VIEWS[1:4]:  # (a dict's views)
        return (kind, tuple(_snapshot(v) for v in value))
    if isinstance(value, MutableMapping) or kind is types.MappingProxyType:
        return (kind, tuple((_snapshot(k), _snapshot(v)) for k, v in value.items()))
    return (id, id(value))


def _buffer_bytes(buffer):
    """The bytes a ctypes object, an mmap or a memoryview holds now (None once it is closed or released)."""
    try:
        return bytes(memoryview(buffer).cast("B"))
    except (ValueError, TypeError):
        return None


_FORMAT_OPTIONS: "typing.Any" = None  # NumPy 1: options in a module dict changed in place
try:  # NumPy 2 keeps its print options in a ContextVar: set_printoptions and np.printoptions set a new dict
    from numpy._core.printoptions import format_options as _FORMAT_OPTIONS
except ImportError:
    pass


def _print_options():
    return _FORMAT_OPTIONS.get() if _FORMAT_OPTIONS is not None else np.get_printoptions()


def _same_print_options(then):
    now = _print_options()
    return now is then or now == then


def _dispatch_same(registry, items, cls, mro, token):
    return (cls.__mro__ is mro and abc.get_cache_token() is token and len(registry) == len(items)
            and all(registry.get(k, MISSING) is v for k, v in items))


def _singledispatch_lookup():
    """The code of the lookup inside ``functools.singledispatch`` (its nested ``dispatch``)."""
    for const in functools.singledispatch.__code__.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == "dispatch":
            return const
    return None


_DISPATCH = _singledispatch_lookup()


def _weak_same(ref, then):
    now = ref()
    return now is None if then is None else now is not None and id(now) == then


def _same_contents(container, snapshot):
    return _snapshot(container) == snapshot


def _same_array(array, copy):
    """By dtype, shape and bytes: np.array_equal takes -0.0 for 0.0, which np.copysign or 1/x tell apart."""
    return array.shape == copy.shape and array.dtype == copy.dtype and array.tobytes() == copy.tobytes()


def _vars_same(obj, kind, snapshot, skip):
    """An object's class and attributes are as they were: the same objects, equal plain values, containers
    item by item (``skip``: those the step writes, which a replay writes again)."""
    if type(obj) is not kind:
        return False
    now = vars(obj)
    if len(now) - len(skip.intersection(now)) != len(snapshot):
        return False
    for name, (then, contents) in snapshot.items():
        value = now.get(name, MISSING)
        if value is not then or type(value) in _CONTAINERS or isinstance(value, _MUTABLE):
            if _snapshot(value) != contents:
                return False
    return True


_CONTAINERS = (list, dict, set)  # and any other mutable container (checked by isinstance below)


def _same_function(fn, code, defaults, kwdefaults, kwdefaults_snapshot):
    return fn.__code__ is code and fn.__defaults__ is defaults and fn.__kwdefaults__ is kwdefaults and \
        (kwdefaults is None or _snapshot(kwdefaults) == kwdefaults_snapshot)


def _partial_same(partial, func, args, keywords):
    return partial.func is func and _snapshot(partial.args) == args and _snapshot(partial.keywords) == keywords


def _cache_same(wrapper, misses, currsize):
    """A cached function's cache still holds what it held (cleared, it would compute again)."""
    info = wrapper.cache_info()
    return info.misses == misses and info.currsize == currsize


def _leaf(tensor, requires_grad, shape, dtype):
    data = tensor._data
    return tensor.requires_grad is requires_grad and data.shape == shape and data.dtype is dtype


def _class_entry(cls, name):
    """Where ``name`` resolves on a class: (each class searched before it, the class that has it, its entry),
    or (all, None, MISSING)."""
    before = []
    for c in cls.__mro__:
        d = c.__dict__
        if name in d:
            return before, c, d[name]
        before.append(c)
    return before, None, MISSING


# ---- the bytecode: which instruction made each operand --------------------------------------------------------
class _Code:
    """One code object, decoded once: instructions by offset, and for each instruction the reader looks at,
    which earlier instruction made each of its operands: ``(offset, n)``, the n-th value that instruction
    pushed counting from the top, or None where control flow joins."""

    def __init__(self, code):
        self.code = code
        self.instructions = list(dis.get_instructions(code))
        self.index = {ins.offset: i for i, ins in enumerate(self.instructions)}
        self.free = set(code.co_freevars)
        self._operands = {}

    def operands(self, offset, count, entries):
        """The makers of the top ``count`` stack values before ``offset`` runs, top first. ``entries``: for each
        jump target, the instruction that ran just before it the last time it ran (the path this call took)."""
        key = (offset, count)
        found = self._operands.get(key)
        if found is None:
            found, crossed = self._walk_back(self.index[offset], count, entries)
            if not crossed:  # the same on every path: kept
                self._operands[key] = found
        return found

    def _walk_back(self, i, count, entries):
        """Walk back from instruction i, one instruction at a time, following each wanted stack depth through
        what each instruction pops and pushes (COPY and SWAP as the permutations they are), until the
        instruction that pushed it. At a jump target the walk goes on from the instruction that ran before it
        on this call's path (a jump taken, or the one before it, fallen through); after an exception, or past
        an unconditional jump, it ends: the value may come from anywhere. Returns the makers and whether a
        jump target was crossed (then the answer depends on the path)."""
        instructions = self.instructions
        found = [None] * count
        wanted = [(k, k) for k in range(count)]  # (result position, depth now)
        j, crossed, steps = i - 1, False, 0
        if instructions[i].opname in _CALLS:
            while j >= 0 and instructions[j].opname in ("PRECALL", "KW_NAMES") and \
                    not instructions[j + 1].is_jump_target:
                j -= 1  # (3.11) PRECALL pops nothing itself: the call's operands are below it
        while wanted and j >= 0 and steps < 2000:
            steps += 1
            target = instructions[j + 1]
            if target.is_jump_target:
                before = entries.get(target.offset)
                if before is None:
                    break
                k = self.index[before]
                crossed = True
                if k != j or instructions[j].opname in _TERMINATORS:  # it jumped here from k
                    jumped = _jump_pops(instructions[k])
                    if jumped is None:
                        break
                    wanted = [(r, d + jumped) for r, d in wanted]
                    j = k - 1
                    continue
            ins = instructions[j]
            name = ins.opname
            if name in _TERMINATORS:
                break
            if name in ("COPY", "SWAP"):
                n = ins.arg
                if name == "COPY":
                    wanted = [(r, n - 1 if d == 0 else d - 1) for r, d in wanted]
                else:
                    wanted = [(r, n - 1 if d == 0 else 0 if d == n - 1 else d) for r, d in wanted]
            else:
                effect = _pops_pushes(ins)
                if effect is None:
                    break
                pops, pushes = effect
                still = []
                for r, d in wanted:
                    if d < pushes:
                        found[r] = (ins.offset, d)
                    else:
                        still.append((r, d - pushes + pops))
                wanted = still
            j -= 1
        return found, crossed


# Instructions that push nothing (what was below is on top after them), that change nothing, that never fall
# through to the next instruction; and those that push more than one value, with what they pop.
_CONSUMERS = {"POP_TOP", "POP_JUMP_FORWARD_IF_FALSE", "POP_JUMP_FORWARD_IF_TRUE", "POP_JUMP_FORWARD_IF_NONE",
              "POP_JUMP_FORWARD_IF_NOT_NONE", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
              "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE", "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE",
              "POP_JUMP_IF_NONE", "POP_JUMP_IF_NOT_NONE", "JUMP_IF_FALSE_OR_POP", "JUMP_IF_TRUE_OR_POP",
              "STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_ATTR", "STORE_SUBSCR", "STORE_DEREF", "STORE_SLICE",
              "DELETE_ATTR", "DELETE_SUBSCR", "LIST_APPEND", "SET_ADD", "MAP_ADD", "LIST_EXTEND", "SET_UPDATE",
              "DICT_MERGE", "DICT_UPDATE", "PRECALL", "PRINT_EXPR", "POP_EXCEPT", "IMPORT_STAR", "END_FOR"}
_TRANSPARENT = {"NOP", "RESUME", "KW_NAMES", "CACHE", "EXTENDED_ARG", "MAKE_CELL", "COPY_FREE_VARS", "DELETE_FAST",
                "DELETE_DEREF", "DELETE_GLOBAL", "DELETE_NAME", "SETUP_ANNOTATIONS"}
_TERMINATORS = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP", "JUMP_NO_INTERRUPT",
                "RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE", "RETURN_GENERATOR"}
_MULTI_POPS = {"LOAD_METHOD": 1, "LOAD_ATTR": 1, "BEFORE_WITH": 1, "BEFORE_ASYNC_WITH": 1, "PUSH_EXC_INFO": 1,
               "UNPACK_SEQUENCE": 1, "UNPACK_EX": 1, "LOAD_GLOBAL": 0, "LOAD_SUPER_ATTR": 3}


def _jump_pops(ins):
    """What a jump instruction pops when it jumps (it pushes nothing), or None for one that is not a jump."""
    name = ins.opname
    if name.startswith("POP_JUMP") or name == "FOR_ITER":
        return 1  # the condition; an exhausted iterator
    if name.startswith("JUMP"):
        return 0  # unconditional, or JUMP_IF_..._OR_POP, which keeps its value when it jumps
    return None


def _pops_pushes(ins):
    """(values popped, values pushed) by an instruction that falls through, or None if unknown."""
    effect = _effect(ins)
    name = ins.opname
    if name in _TRANSPARENT and effect == 0:
        return 0, 0
    if name in _CONSUMERS:
        return (-effect, 0) if effect <= 0 else None
    if name in _MULTI_POPS:
        pops = _MULTI_POPS[name]
        return (pops, effect + pops) if effect + pops >= 1 else None
    return (1 - effect, 1) if effect <= 1 else None


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


# ---- what other threads and the file system hold --------------------------------------------------------------
def _thread_handoffs():
    """Code that hands work to another thread or process, whose reads no trace of this thread sees: the code
    objects of Thread.start, the executors' submit, a process pool's async calls."""
    found = set()
    for module, owner, names in (("threading", "Thread", ("start",)),
                                 ("concurrent.futures.thread", "ThreadPoolExecutor", ("submit",)),
                                 ("concurrent.futures.process", "ProcessPoolExecutor", ("submit",)),
                                 ("multiprocessing.pool", "Pool", ("apply_async", "_map_async", "imap",
                                                                   "imap_unordered"))):
        cls = getattr(sys.modules.get(module), owner, None)
        for name in names:
            code = getattr(getattr(cls, name, None), "__code__", None)
            if code is not None:
                found.add(code)
    return found


_FILE_READS = {"stat", "lstat", "listdir", "scandir", "access", "readlink", "read", "pread", "readv", "getcwd",
               "fstat", "statvfs", "walk", "open", "exists", "isfile", "isdir", "getmtime", "getsize"}
_STREAM_READS = {"read", "readline", "readlines", "readinto", "readall", "read1", "peek", "__next__", "seek",
                 "tell", "getvalue", "getbuffer"}


def _nested_call_code():
    """The code of Jitted.__call__, which runs a jitted function called inside another's trace as it is."""
    jit = sys.modules.get("tinygrad_np.jit")
    return jit.Jitted.__call__.__code__ if jit is not None else None


def _quiet_codes():
    """Output calls whose result shapes nothing: logging a record, and showing a warning (a NumPy
    RuntimeWarning's text is found by reading the source file). Run unwatched, so that their formatting, clocks
    and file reads are not taken for the step's reads (a tensor formatted in them is still refused). A warning
    raised by NumPy is raised again by the replay's own NumPy call."""
    import warnings

    shown = (warnings.showwarning, warnings.formatwarning, warnings.WarningMessage.__init__,
             *(getattr(warnings, n, None) for n in ("_showwarnmsg", "_showwarnmsg_impl", "_formatwarnmsg",
                                                    "_formatwarnmsg_impl")))
    found = {f.__code__ for f in shown if hasattr(f, "__code__")}
    logging = sys.modules.get("logging")
    if logging is None:
        return found
    names = ("debug", "info", "warning", "warn", "error", "exception", "critical", "log")
    found |= {getattr(logging.Logger, n).__code__ for n in names}
    found |= {getattr(logging, n).__code__ for n in names if hasattr(getattr(logging, n), "__code__")}
    return found


def _warning_filters():
    import warnings

    found = {warnings.catch_warnings.__enter__.__code__: "enter", warnings.catch_warnings.__exit__.__code__: "exit"}
    for function in (warnings.simplefilter, warnings.filterwarnings, warnings.resetwarnings):
        found[function.__code__] = function
    return found


_WARNING_FILTERS = _warning_filters()


# ---- the reader --------------------------------------------------------------------------------------------------
class _FrameState:
    __slots__ = ("code", "made", "previous", "child", "first_child", "child_is_user", "cells", "full", "expect",
                 "calling", "cache", "entries", "raised", "entry", "output", "in_c", "arguments", "unpacked")

    def __init__(self, code, cells, full):
        self.code, self.made, self.previous, self.child, self.first_child = code, {}, None, MISSING, None
        self.child_is_user = False
        self.cells = cells  # name -> the cell a free variable lives in
        self.full = full  # every read and write watched (the user's code, what it calls outside tinygrad_np)
        self.expect = None  # the code of the function the current call instruction calls
        self.calling = None  # and the function itself
        self.cache = None  # (lru_cache wrapper, its cache_info before the call, what the guards recorded)
        self.entries = {}  # jump target's offset -> the offset that ran before it the last time (None: an error)
        self.raised = False  # the instruction before raised (its value is not on the stack)
        self.entry = None  # the Entry the instruction running gives (a defaultdict's lookup, setdefault)
        self.output = False  # the instruction running is output each replay makes again (print, log.info)
        self.in_c = None  # (function, steps recorded before, [(object from outside, its snapshot)]): see _c_wrote
        self.arguments = ()  # the positional arguments of the call instruction running (as jit knows them)
        self.unpacked = None  # f(*args, **kwargs) running: (f, args then the keywords' values, the keywords' names)


_cached_reads: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # lru_cache wrapper -> {args: checks}


class Reader:
    """Watches one traced call (see the module's doc) and fills ``guards``."""

    def __init__(self, trace, fn, arguments=()):
        self.trace, self.guards = trace, Guards()
        self.states = {}  # id(frame) -> _FrameState, for the frames watched now
        self.functions = {}  # code -> functions known to run it (for their closure cells)
        self.kinds = {}  # code -> its _code_kind
        self.outside = {}  # id -> a value read from outside the call (a global, a closure, an attribute)
        for value in arguments:  # the call's arguments come from outside too
            self.outside[id(value)] = value
        self.fresh = {}  # id -> an object made during the call (writes into it are not the outside's)
        self.reach = {}  # id -> (object, the replayed call that may change it), for objects a replayed call reached
        self.copied_arguments = {}  # id -> an argument container handed on as a copy (it held arrays)
        self.stored_fresh = {}  # id -> a list, dict or set the call made and stored into an object from outside
        self.entries = {}  # id -> (object, its Entry, made by this call?): what d.setdefault(k, []) gave
        self.previous_tracer = None
        self.origin = None
        self.quiet = None  # the frame of an output call running unwatched
        self.handoffs, self.quiet_codes = _thread_handoffs(), _quiet_codes()
        self._callable(fn)

    def _know_function(self, fn):
        fn = getattr(fn, "__func__", fn)
        code = getattr(fn, "__code__", None)
        if code is not None:
            self.functions.setdefault(code, [])
            if fn not in self.functions[code]:
                self.functions[code].append(fn)

    def _callable(self, fn):
        """The jitted callable itself: a function's code and defaults, a partial's arguments, a bound method's
        function, a callable object's class (its ``__call__``) are what the trace ran."""
        if isinstance(fn, functools.partial):
            self._partial(fn)
            self._callable(fn.func)
        elif type(fn) is types.MethodType:
            self._function(fn.__func__)
            self._callable_object(fn.__self__)
        elif type(fn) is types.FunctionType:
            self._function(fn)
        elif not isinstance(fn, (types.BuiltinFunctionType, type)):
            self._callable_object(fn)

    def _callable_object(self, obj):
        self._class_lookup(type(obj), "__call__")
        self.guards.add(("type", id(obj)), "type({0}) is {1}", obj, type(obj))

    def start(self, origin):
        self.origin = origin
        self.outer_exception = sys.exc_info()[1]  # an exception the caller is handling around the jitted call
        # Code that runs when the collector or a finalizer happens to, not because the step called it: unwatched
        self.interruptions = {getattr(cb, "__code__", None) for cb in gc.callbacks}
        self.previous_tracer = sys.gettrace()
        sys.settrace(self._call)

    def stop(self):
        sys.settrace(self.previous_tracer)
        self.states.clear()
        self.origin = None  # the frame of the traced call holds the trace, which holds this reader: no cycle

    def from_outside(self, value):
        """True for a value the call read from outside, or was given."""
        return self.outside.get(id(value)) is value or self.trace.outside_ids.get(id(value)) is value or \
            self.guards.modules.get(id(value)) is value

    def _kind(self, code):
        kind = self.kinds.get(code)
        if kind is None:
            kind = self.kinds[code] = _code_kind(code.co_filename)
        return kind

    # ---- events ------------------------------------------------------------------------------------------------
    def _call(self, frame, event, arg):
        if current.trace is not self.trace or self.quiet is not None:  # paused, or inside an output call
            return None
        code = frame.f_code
        back = frame.f_back
        if back is not self.origin and back is not None and back.f_code.co_filename.startswith(_JIT) and \
                back.f_code is not _nested_call_code():
            return None  # the trace's own work (a dataclass's generated __init__), not the user's (but a jitted
            # function called inside this one runs as its code, watched: what it reads guards this program)
        kind = self._kind(code)
        parent = self.states.get(id(back))
        if parent is not None and parent.first_child is None:
            parent.first_child, parent.child_is_user = frame, kind in ("user", "other")
        if kind in ("library", "engine") and code.co_argcount and code.co_varnames[0] == "self":
            first = frame.f_locals.get("self")
            if _is_module(first):  # a layer's method: it reads the layer's settings
                self.saw_module(first)
        if code.co_name == "__init__" and parent is not None and parent.full and parent.expect is code and \
                isinstance(parent.calling, type):  # a class called: __init__ fills a new object, the call's own
            obj = frame.f_locals.get("self", MISSING)
            if obj is not MISSING and not isinstance(obj, Tensor):
                self.fresh[id(obj)] = obj
        watched_parent = back is self.origin or parent is not None
        full_parent = back is self.origin or (parent is not None and parent.full)
        if code in self.handoffs and full_parent:
            self._refuse(f"{code.co_qualname if hasattr(code, 'co_qualname') else code.co_name}() hands work to "
                         "another thread or process, whose reads jit cannot see (a tracer watches one thread)")
        if kind in ("user", "other") and code.co_name in ("forward", "backward") and code.co_argcount and \
                code.co_varnames[0] == "self" and isinstance(frame.f_locals.get("self"), Function):
            kind = "quiet"  # an op of the user's own: the program calls its forward and backward again, reads and all
        if code in self.interruptions or code.co_name == "__del__":
            kind = "quiet"
        if code is _DISPATCH and full_parent:  # singledispatch's lookup: its cache writes are not the step's
            kind = "quiet"  # (guarded on return by what decides the answer: _quiet_events)
        if full_parent and code in _WARNING_FILTERS:  # catch_warnings, simplefilter: recorded, run unwatched
            self._warning_filter(frame, _WARNING_FILTERS[code])
            kind = "quiet"
        if parent is not None and parent.output:
            kind = "quiet"
        if kind == "quiet" or (code in self.quiet_codes and full_parent):
            self.quiet = frame  # importing, or logging: runs unwatched
            frame.f_trace_lines = False
            return self._quiet_events
        if kind == "user" or (kind == "other" and full_parent):
            full = True
        elif kind == "library" and watched_parent:
            full = False
        else:
            if parent is None:
                return None
            frame.f_trace_lines = False
            return self._child_events  # only its return, which is the value the watched frame gets
        if full and parent is not None and parent.full and code.co_argcount and code.co_varnames[0] == "self":
            self._method_frame(frame, code)
        if parent is not None and parent.full and parent.expect is code and parent.arguments:
            self._fresh_parameters(frame, code, parent)
        self.states[id(frame)] = _FrameState(_decoded(code), self._cells(frame) if full else {}, full)
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True
        return self._watched_events

    def _warning_filter(self, frame, what):
        """``warnings.catch_warnings()`` entered or left, or a filter set, by the step: each replay makes the same
        call at the same point (jit/output.py), so that the warnings it makes meet eager's filters."""
        line = _line(frame.f_back)
        if what == "enter":
            manager = frame.f_locals.get("self")
            if getattr(manager, "_record", False):
                self._refuse("warnings.catch_warnings(record=True) is entered: a replay cannot hand the step the "
                             "list of warnings it catches. Catch them around the jitted call instead")
            self.trace.output(line, enter_catch, (Manager(manager),), {})
        elif what == "exit":
            self.trace.output(line, exit_catch, (), {})
        else:  # simplefilter(action, category, lineno, append) and the like: their arguments, by name
            code = frame.f_code
            names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
            arguments = {n: frame.f_locals[n] for n in names if n in frame.f_locals}
            self._storable(tuple(arguments.values()), f"warnings.{what.__name__}()'s argument")
            self.trace.output(line, what, (), arguments)

    def _fresh_parameters(self, frame, code, parent):
        """A list, dict or set the caller built in the call's own arguments (``self._format(obj, sio, {})``)
        arrives as a parameter: the real one, where jit held a copy (_built). It is the call's own too, so the
        writes into it (pprint's context[id(x)] = 1) are not taken for effects on the outside."""
        names = code.co_varnames[:code.co_argcount]
        offset = len(names) - len(parent.arguments)  # a bound method's self comes first
        if offset < 0:
            return
        for name, given in zip(names[offset:], parent.arguments, strict=True):
            real = frame.f_locals.get(name, MISSING)
            if type(given) in (list, dict, set) and self._is_fresh(given) and type(real) is type(given) and \
                    real is not given and real == given and not self.from_outside(real):
                self.fresh[id(real)] = real

    def _method_frame(self, frame, code):
        """A method of the user's own class runs (``w["cls"]`` runs ``__getitem__``, ``len(w)`` ``__len__``,
        ``with w`` ``__enter__``, with no attribute read for jit to guard): which function that name resolves
        to on the object's class is guarded, so that a method redefined between calls traces again."""
        obj = frame.f_locals.get("self", MISSING)
        cls = type(obj)
        if obj is MISSING or isinstance(obj, Tensor) or cls.__module__ == "builtins":
            return
        if getattr(_class_entry(cls, code.co_name)[2], "__code__", None) is code:
            self.guards.class_entry(cls, code.co_name)

    def _quiet_events(self, frame, event, arg):
        if event == "return" and frame is self.quiet:
            self.quiet = None
            if frame.f_code in _WARNING_FILTERS:  # the filters the ops after it run under, as replays set them
                self.trace.warning_filters_set()
            if frame.f_code is _DISPATCH:
                self._dispatched(frame.f_locals)
            self._child_events(frame, event, arg)
        return self._quiet_events

    def _child_events(self, frame, event, arg):
        if event == "return":
            parent = self.states.get(id(frame.f_back))
            if parent is not None and parent.first_child is frame and \
                    (parent.expect is None or parent.expect is frame.f_code):  # not a callback's, from C
                parent.child = frame.f_locals.get("self", arg) if frame.f_code.co_name == "__init__" else arg
        return self._child_events

    def _watched_events(self, frame, event, arg):
        if current.trace is not self.trace:
            return self._watched_events
        state = self.states.get(id(frame))
        if state is None:
            return None
        if event == "opcode":
            self._instruction(frame, state)
        elif event == "exception":
            state.raised = True
        elif event == "return":
            self._child_events(frame, event, arg)
            del self.states[id(frame)]
        return self._watched_events

    # ---- instructions ------------------------------------------------------------------------------------------
    def _instruction(self, frame, state):
        code = state.code
        if state.in_c is not None:  # a C function just returned (or raised): did it write into what it was handed?
            self._c_wrote(state.in_c)
            state.in_c = None
        if state.raised:  # the instruction before raised: it left no value; the handler starts afresh
            if state.cache is not None and state.cache[3] in self.guards.recorders:
                self.guards.recorders.remove(state.cache[3])
            state.cache = None
            if state.previous is not None and state.full and state.previous.opname in (*_ATTRIBUTE, "IMPORT_FROM"):
                self._missing_attribute(state, state.previous)
        elif state.previous is not None:
            self._made(frame, state, state.previous)
        offset = frame.f_lasti
        ins = code.instructions[code.index[offset]]
        if ins.is_jump_target:
            state.entries[offset] = None if state.raised or state.previous is None else state.previous.offset
        state.raised = False
        state.previous, state.child, state.first_child, state.expect = ins, MISSING, None, None
        state.entry, state.output, state.unpacked = None, False, None
        state.calling = None
        name = ins.opname
        if name == "CALL_FUNCTION_EX":  # f(*args, **kwargs): the function lies under the tuple (and the dict)
            state.calling = self._operand(state, offset, 2 if ins.arg & 1 else 1)
            state.expect = _code_called(state.calling)
        if not state.full:
            if name in _CALLS:
                state.expect = _code_called(self._operand(state, offset, ins.arg or 0))
            return
        if name in ("BEFORE_WITH", "SETUP_WITH"):  # with LOCK: a lock's __enter__ runs in C, no call instruction
            manager = self._operand(state, offset, 0)
            if type(manager).__module__ in ("_thread", "threading") and not self._is_fresh(manager) and \
                    self._kind(frame.f_code) == "user":
                self._refuse(f"a {type(manager).__name__} from outside the call is entered (with ...:), which a replay "
                             "would not take: it runs no Python. Take it around the jitted call instead")
        if name in ("LOAD_GLOBAL", "LOAD_NAME"):
            self._global(frame, ins.argval)
        elif name in ("LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FROM_DICT_OR_DEREF") and ins.argval in code.free:
            self._free(frame, state, ins.argval)
        elif name in _ATTRIBUTE:
            receiver = self._operand(state, offset, 0)
            if receiver is UNKNOWN and name == "LOAD_ATTR" and not _is_method_load(ins):
                self._refuse(f"the attribute .{ins.argval} is read from a value jit cannot follow")
            elif isinstance(receiver, _MUTABLE) and not (ins.argval in _PURE_WRITES and not
                                                         isinstance(receiver, np.ndarray)):
                self._contents(receiver, f"its .{ins.argval}")
        elif name == "IMPORT_FROM":
            if self._operand(state, offset, 0) is UNKNOWN:
                self._refuse(f"the name {ins.argval} is imported from a module jit cannot follow")
        elif name == "BINARY_SUBSCR":
            self._item_read(frame, state, self._operand(state, offset, 1), self._operand(state, offset, 0))
        elif name in _WRITES:
            self._write(frame, state, ins)
        elif name == "GET_ITER" and _is_iterator_from_outside(self._operand(state, offset, 0), self.outside):
            self._refuse("a loop takes items from an iterator that exists outside the call, which a replay cannot "
                         "take again")
        elif name == "MATCH_CLASS":
            subject = self._operand(state, offset, 2)
            if subject is UNKNOWN:
                self._refuse("a match statement's subject is a value jit cannot follow")
            elif not isinstance(subject, Tensor):
                self.saw_module(subject)  # its class and every attribute a pattern may read
                if isinstance(subject, _MUTABLE):
                    self._contents(subject, "a match pattern")
        elif name in _OPERATORS:
            self._operator(frame, state, ins)
            if name == "CALL_FUNCTION_EX":
                self._unpacked_call(frame, state, offset, ins)
        elif name in _CALLS:
            self._call_site(frame, state, offset, ins)

    def _operand(self, state, offset, depth):
        producer = state.code.operands(offset, depth + 1, state.entries)[depth]
        if producer is None:
            return UNKNOWN
        return state.made.get(producer[0] if producer[1] == 0 else producer, UNKNOWN)

    def _operands(self, state, offset, count):
        made = state.made
        return [UNKNOWN if p is None else made.get(p[0] if p[1] == 0 else p, UNKNOWN)
                for p in state.code.operands(offset, count, state.entries)]

    def _made(self, frame, state, ins):
        """Note the value the instruction that just ran left on the stack."""
        name, value = ins.opname, UNKNOWN
        if name in _FILLERS:
            self._filled(state, ins)
            return
        if state.child is not MISSING and name not in ("IMPORT_NAME", "IMPORT_FROM"):
            value = state.child
        elif name in ("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_CLOSURE"):
            value = frame.f_locals.get(ins.argval, UNKNOWN)
        elif name in ("LOAD_GLOBAL", "LOAD_NAME"):
            value = frame.f_globals.get(ins.argval, MISSING)
            if value is MISSING:
                value = frame.f_builtins.get(ins.argval, UNKNOWN)
        elif name == "LOAD_CONST":
            value = ins.argval
        elif name in ("BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "BUILD_CONST_KEY_MAP",
                      "LIST_TO_TUPLE"):
            value = self._built(state, ins)
        elif name == "BUILD_SLICE":  # x[a:b]: the slice, so that a view's base can be known
            parts = self._operands(state, ins.offset, ins.arg or 2)[::-1]
            if all(p is None or type(p) is int for p in parts):
                value = slice(*parts)
        elif name == "FORMAT_VALUE":  # f"{x}" of a plain value: its text, made again (a tensor's is refused)
            has_spec = (ins.arg & 0x04) == 0x04
            spec = self._operand(state, ins.offset, 0) if has_spec else ""
            shown = self._operand(state, ins.offset, 1 if has_spec else 0)
            if (type(shown) in (int, float, str, bool, type(None)) or _plain_container(shown)) and type(spec) is str:
                converted = {0: shown, 1: str(shown), 2: repr(shown), 3: ascii(shown)}.get(ins.arg & 0x03, shown)
                try:
                    value = format(converted, spec)
                except (ValueError, TypeError):
                    value = UNKNOWN
        elif name == "BUILD_STRING":
            parts = self._operands(state, ins.offset, ins.arg or 0)[::-1]
            if all(type(p) is str for p in parts):
                value = "".join(parts)
        elif name == "UNPACK_SEQUENCE":
            sequence = self._operand(state, ins.offset, 0)
            if type(sequence) in (list, tuple) and len(sequence) == ins.arg:
                for n, item in enumerate(sequence[1:], 1):
                    state.made[(ins.offset, n)] = item
                value = sequence[0] if sequence else UNKNOWN
        elif name in _ATTRIBUTE:
            receiver = self._operand(state, ins.offset, 0)
            if receiver is not UNKNOWN:
                try:
                    value = getattr(receiver, ins.argval)  # no Python ran for it (no child frame): no effect
                except AttributeError:
                    value = UNKNOWN
        elif name == "IMPORT_NAME":
            value = self._imported(frame, state, ins)
        elif name == "IMPORT_FROM":
            module = self._operand(state, ins.offset, 0)
            value = getattr(module, ins.argval, MISSING) if module is not UNKNOWN else UNKNOWN
            if value is MISSING:
                value = sys.modules.get(f"{getattr(module, '__name__', '')}.{ins.argval}", UNKNOWN)
        elif name == "BINARY_SUBSCR" and type(self._operand(state, ins.offset, 1)) is np.ndarray and \
                _basic_index(self._operand(state, ins.offset, 0)):  # a view of an array: its base says whose
            value = self._operand(state, ins.offset, 1)[self._operand(state, ins.offset, 0)]
        elif name == "BINARY_SUBSCR":
            container, key = self._operand(state, ins.offset, 1), self._operand(state, ins.offset, 0)
            if container is not UNKNOWN and key is not UNKNOWN and _hashable_plain(key) and \
                    isinstance(container, dict) and type(container).__getitem__ is dict.__getitem__:
                value = dict.get(container, key, UNKNOWN)  # (a defaultdict or Counter too; its own __missing__
                # ran as a frame of its own, whose return is the value)
            elif container is not UNKNOWN and key is not UNKNOWN and type(container) in (list, tuple, str) \
                    and _hashable_plain(key):
                try:
                    value = container[key]
                except (LookupError, TypeError):
                    value = UNKNOWN
        elif name in ("BINARY_OP", "COMPARE_OP", "IS_OP", "CONTAINS_OP"):
            left, right = self._operand(state, ins.offset, 1), self._operand(state, ins.offset, 0)
            if name == "BINARY_OP" and ins.argrepr in _IN_PLACE and type(left) in _SELF_IN_PLACE:
                value = left  # xs += ys: the same list, changed in C
            elif name == "BINARY_OP" and ins.argrepr in ("-", "|", "&", "^") and \
                    type(left) in (set, frozenset) and type(right) in (set, frozenset) and \
                    _plain_container(left) and _plain_container(right):
                value = _binary(ins.argrepr, left, right)  # {"relu", "tanh"} - {"tanh"}: a new set of values
                if type(value) is set:
                    self.fresh[id(value)] = value
            elif name == "BINARY_OP" and ins.argrepr == "%" and type(left) is str and _plain_container(right):
                try:
                    value = left % right  # "cfg %s" % cfg: text from numbers and strings alone
                except (TypeError, ValueError, KeyError):
                    value = UNKNOWN
            elif name == "IS_OP" and left is not UNKNOWN and right is not UNKNOWN:
                value = (left is right) != bool(ins.arg)
            elif (type(left) in (int, float, str, bool) or isinstance(left, np.generic)) and \
                    (type(right) in (int, float, str, bool) or isinstance(right, np.generic)):  # (np.float64 too:
                # counts[0] + 1 of an outside array, whose contents are guarded where read)
                value = _binary(ins.argrepr, left, right)
            elif name == "CONTAINS_OP" and _hashable_plain(left) and type(right) in (dict, list, tuple, set, str):
                value = (left in right) != bool(ins.arg)
        elif name == "UNARY_NOT":
            operand = self._operand(state, ins.offset, 0)
            if type(operand) in (int, float, str, bool):
                value = not operand
        elif name in ("STORE_FAST", "STORE_NAME") and state.full:
            self._maybe_fresh(frame, state, ins)
        if state.entry is not None:  # d[k] on a defaultdict, d.setdefault(k, v): an item to write through
            entry, made_here = state.entry
            got = dict.get(entry.container, entry.key, UNKNOWN)
            if got is not UNKNOWN:  # (a factory's or default's object from outside is not the call's own)
                value = got
                self.entries[id(value)] = (value, entry, made_here and not self.from_outside(value))
        elif value is UNKNOWN and state.full and (name in _CALLS or (name == "CALL_FUNCTION_EX" and
                                                                     state.unpacked is not None)):
            value = self._reader_result(frame, state, ins)
        if name in _CALLS and state.cache is not None:
            self._cached_call(state, ins)
        if value is not UNKNOWN:
            state.made[ins.offset] = value
            function = self._operand(state, ins.offset, ins.arg or 0) if name in _CALLS else None
            if name in _CALLS and state.full and (_makes_new(function, value) or _copies(function, value)) \
                    and not isinstance(value, Tensor):
                self.fresh[id(value)] = value  # a new object: writes into it are the call's own
        elif ins.offset in state.made:
            del state.made[ins.offset]
        if name in _ATTRIBUTE or name == "IMPORT_FROM":
            if state.full:
                if not (state.child is not MISSING and state.child_is_user):
                    # (a property or __getattr__ runs as a frame of its own, whose reads are guarded)
                    self._attribute_read(state, ins, value)
                else:
                    self._descriptor_read(state, ins)
            else:
                self._lookup(state, ins, value)
        elif name in ("LOAD_GLOBAL", "LOAD_NAME") and not state.full:
            self._global_lookup(frame, ins.argval, value)

    def _filled(self, state, ins):
        """A display being filled in place (``[10, 20, 30]`` is an empty list and LIST_EXTEND; ``{**meta, "loss":
        x}`` DICT_UPDATEs; a comprehension's LIST_APPEND): the same change to the copy _built made for it, so that
        what the call stores, prints or returns holds what the real one holds. A part jit cannot follow makes
        the copy unknown (a store of it is then refused, not made empty)."""
        name, depth = ins.opname, ins.arg or 0
        if name == "MAP_ADD":
            depth += 1
        producers = state.code.operands(ins.offset, depth + 1, state.entries)
        target_at = producers[depth]
        target = self._operand(state, ins.offset, depth)
        parts = [self._operand(state, ins.offset, d) for d in range(depth if name == "MAP_ADD" else 1)]
        if target is UNKNOWN or target_at is None or not self._is_fresh(target):
            return
        try:
            if any(p is UNKNOWN for p in parts):
                raise TypeError
            if name == "LIST_EXTEND":
                target.extend(parts[0])
            elif name == "SET_UPDATE":
                target.update(parts[0])
            elif name in ("DICT_UPDATE", "DICT_MERGE"):
                target.update(parts[0])
            elif name == "LIST_APPEND":
                target.append(parts[0])
            elif name == "SET_ADD":
                target.add(parts[0])
            else:  # MAP_ADD: key below value
                target[parts[1]] = parts[0]
        except (TypeError, ValueError, AttributeError):
            key = target_at[0] if target_at[1] == 0 else target_at
            state.made.pop(key, None)  # (the real one holds what this copy cannot: unknown from here on)

    def _built(self, state, ins):
        """A tuple, list, set or dict the instruction just built from values jit knows: made again (new, so
        what it holds is the call's own)."""
        name, n = ins.opname, ins.arg or 0
        if name == "LIST_TO_TUPLE":
            items = self._operand(state, ins.offset, 0)
            return tuple(items) if type(items) is list else UNKNOWN
        count = n * 2 if name == "BUILD_MAP" else n + 1 if name == "BUILD_CONST_KEY_MAP" else n
        values = self._operands(state, ins.offset, count)[::-1]
        if any(v is UNKNOWN for v in values):
            return UNKNOWN
        try:
            if name == "BUILD_MAP":
                built = dict(zip(values[::2], values[1::2], strict=True))
            elif name == "BUILD_CONST_KEY_MAP":
                built = dict(zip(values[-1], values[:-1], strict=True))
            else:
                built = {"BUILD_TUPLE": tuple, "BUILD_LIST": list, "BUILD_SET": set}[name](values)
        except TypeError:  # an unhashable key: Python raised too
            return UNKNOWN
        if type(built) is not tuple:
            self.fresh[id(built)] = built
        return built

    def _maybe_fresh(self, frame, state, ins):
        """A value made in the call (a literal list or dict, a new object) stored in a local: a write into it
        is the call's own, not an effect on the outside."""
        producer = state.code.operands(ins.offset, 1, state.entries)[0]
        if producer is None or producer[1] != 0:
            return
        producer = producer[0]
        made = state.code.instructions[state.code.index[producer]]
        fresh = made.opname in _FRESH_MAKERS
        value = frame.f_locals.get(ins.argval, MISSING)
        if made.opname in _CALLS:
            # a new object (a class called), or a new array that owns its memory and that no read from outside
            # gave (np.empty, np.zeros, a sum)
            function = self._operand(state, producer, made.arg or 0)
            fresh = _makes_new(function, value) or _copies(function, value) or \
                getattr(function, "__name__", None) == "__new__" or \
                (type(value) is np.ndarray and value.base is None and not self.from_outside(value) and
                 not self.trace.knows(value))
        if fresh and value is not MISSING:
            self.fresh[id(value)] = value
            copy = state.made.get(producer, MISSING)
            if made.opname in _FRESH_MAKERS and type(copy) is type(value) and copy is not value and \
                    type(value) in (list, dict, set):  # the real one, now that a local holds it, in place of the
                state.made[producer] = value  # copy _built made (a chained ``v = d[k] = []`` stores the real one)

    def _imported(self, frame, state, ins):
        """``import name`` or ``from name import x``: the module, as ``sys.modules`` holds it (guarded)."""
        level, fromlist = self._operand(state, ins.offset, 1), self._operand(state, ins.offset, 0)
        if not isinstance(level, int):
            return UNKNOWN
        name = ins.argval
        if level:
            package = frame.f_globals.get("__package__") or ""
            parts = package.split(".")
            base = ".".join(parts[:len(parts) - level + 1]) if level <= len(parts) else ""
            name = f"{base}.{name}" if name else base
        if not fromlist:
            name = name.partition(".")[0]
        module = sys.modules.get(name, MISSING)
        self.guards.value(("item", id(sys.modules), name), "{0}.get({1}, MISSING)", module, sys.modules, name)
        return UNKNOWN if module is MISSING else module

    # ---- reads -------------------------------------------------------------------------------------------------
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
        if isinstance(receiver, _MUTABLE) or _plain_value(receiver) or type(receiver) is tuple:
            return
        if self._was_written(receiver, name):
            return  # the step's own write, made again by each replay
        if value is UNKNOWN:
            value = MISSING
        if self._is_fresh(receiver):
            return  # an object the call made (a context manager's generator, a layer): its attributes are its own
        self._register(value)
        self.outside[id(value)] = value
        self.guards.value(("attr", id(receiver), name), "getattr({0}, {1}, MISSING)", value, receiver, name)

    def _missing_attribute(self, state, ins):
        """``cfg.loss_scale`` raised (``try: ... except AttributeError:``, ``from config import x`` in a try): the
        step read that it is missing, so it stays missing, or the call traces again."""
        receiver = self._operand(state, ins.offset, 0)
        name = ins.argval
        if receiver is UNKNOWN or isinstance(receiver, (Tensor, *_MUTABLE)) or _plain_value(receiver) or \
                self._is_fresh(receiver) or self._was_written(receiver, name) or \
                getattr(receiver, name, MISSING) is not MISSING:
            return  # (a property that raised: its own frame's reads are guarded)
        self.guards.value(("attr", id(receiver), name), "getattr({0}, {1}, MISSING)", MISSING, receiver, name)
        if ins.opname == "IMPORT_FROM" and isinstance(receiver, types.ModuleType):
            submodule = f"{receiver.__name__}.{name}"
            self.guards.add(("module", submodule), "{0}.get({1}) is {2}", sys.modules, submodule,
                            sys.modules.get(submodule))

    def _descriptor_read(self, state, ins):
        """An attribute a frame of its own made (a property's getter, a ``__getattr__``): which getter runs
        depends on the class, so the class entry is guarded (a property replaced on the class)."""
        receiver = self._operand(state, ins.offset, 0)
        if receiver is UNKNOWN or isinstance(receiver, (types.ModuleType, type)):
            return
        self.guards.add(("type", id(receiver)), "type({0}) is {1}", receiver, type(receiver))
        self._class_lookup(type(receiver), ins.argval)
        self._class_lookup(type(receiver), "__getattribute__")
        if "__getattr__" not in type(receiver).__dict__ and hasattr(receiver, "__dict__"):
            # an instance attribute of that name would now win over a property-less class entry
            self.guards.add(("noinstance", id(receiver), ins.argval), "{1} not in {0}.__dict__", receiver,
                            ins.argval)

    def _class_lookup(self, cls, name):
        self.guards.class_entry(cls, name)

    def _tensor_attribute(self, tensor, name, value):
        if callable(value) and name not in ("grad", "data"):
            self._class_lookup(type(tensor), name)  # Tensor.relu patched: the method that runs changed
        if self.trace.made(tensor):
            return  # the trace made it: what it holds is the program's, not read from outside
        if name == "grad":
            self.guards.add(("attr", id(tensor), "grad"), "{0}._grad is {1}", tensor, value)
            if isinstance(value, Tensor):
                self.trace.owns(value)
        elif name == "requires_grad":
            self.guards.add(("attr", id(tensor), name), f"{{0}}.requires_grad is {value!r}", tensor)
        if id(tensor) not in self.trace.arg_index:  # an argument, reached as one: not also read from outside
            self.trace.owns(tensor)

    def _lookup(self, state, ins, value):
        """In the library's frames: a method or function it looks up (a layer's forward, ``F.linear``,
        ``x.relu``) is guarded to be the same, so that patching it makes the next call trace again."""
        name = ins.argval
        if not _patchable(name, value):
            return
        receiver = self._operand(state, ins.offset, 0)
        if receiver is UNKNOWN:
            return
        if isinstance(receiver, Tensor):
            self._class_lookup(type(receiver), name)
        elif isinstance(receiver, (types.ModuleType, type)):
            self.guards.value(("attr", id(receiver), name), "getattr({0}, {1}, MISSING)", value, receiver, name)
        else:
            self.guards.value(("attr", id(receiver), name), "getattr({0}, {1}, MISSING)", value, receiver, name)

    def _global_lookup(self, frame, name, value):
        if _patchable(name, value):
            namespace = frame.f_globals
            if name in namespace:
                self.guards.add(("global", id(namespace), name), "{0}.get({1}, MISSING) is {2}", namespace, name,
                                value)

    def _item_read(self, frame, state, container, key):
        if container is UNKNOWN:
            self._refuse("an item is read from a value jit cannot follow")
        if isinstance(container, Tensor):  # x[1:]: Tensor.__getitem__, which a user may patch
            self._class_lookup(type(container), "__getitem__")
        if self._is_fresh(container):
            return  # made during the call: what it holds is the call's own
        if isinstance(container, dict) and type(container).__getitem__ is dict.__getitem__ and \
                _hashable_plain(key) and not self._was_written(container, key):  # a dict, defaultdict, Counter
            value = dict.get(container, key, MISSING)
            self._reached(container, "an item")
            self.guards.value(("item", id(container), key), "_dict_item({0}, {1})", value, container, key)
            if value is MISSING and not isinstance(getattr(type(container), "__missing__", None), types.FunctionType) \
                    and hasattr(type(container), "__missing__"):  # a defaultdict's factory makes the item, in C
                self._entry(frame, state, container, key, made_here=True)
                self.trace.wrote(_line(frame), operator.getitem, (container, key))
                return
            if value is MISSING and hasattr(type(container), "__missing__"):  # a Python __missing__, watched: if
                state.entry = (Entry(container, key), True)  # it stores the item, later writes go through it
            self._register(value)
            self.outside[id(value)] = value
        elif isinstance(container, _MUTABLE):
            self._contents(container, "an item of it")

    def _operator(self, frame, state, ins):
        name = ins.opname
        count = 3 if name == "BINARY_SLICE" else 2 if name in _TWO_OPERANDS else 1
        if name == "CALL_FUNCTION_EX":
            count = 3 if ins.arg & 1 else 2
        values = self._operands(state, ins.offset, count)
        if name == "BINARY_OP" and ins.argrepr in _IN_PLACE:
            self._in_place(frame, state, ins, values[1], values[0])
        if name.startswith("MATCH_") or name == "GET_LEN":
            subject = values[-1]
            if subject is UNKNOWN:
                self._refuse("a match statement's subject is a value jit cannot follow")
        for value in values:
            if isinstance(value, _MUTABLE):
                self._contents(value, name.lower())
            elif type(value) is tuple and name in ("CALL_FUNCTION_EX", "LIST_EXTEND", "SET_UPDATE"):
                for item in value:  # f(*args): what the tuple holds is handed on
                    if isinstance(item, _MUTABLE):
                        self._contents(item, "an argument")
            elif isinstance(value, Tensor):
                for dunder in _dunders(ins):
                    self._class_lookup(type(value), dunder)

    def _in_place(self, frame, state, ins, target, value):
        """``xs += ys`` on a list, set, dict, deque or bytearray from outside the call changes it in C: each replay
        makes the same change (as ``xs.__iadd__(ys)``). On an array from outside, refused: a replay would not
        write it again."""
        if target is UNKNOWN or self._is_fresh(target) or not isinstance(target, _MUTABLE) or \
                isinstance(target, Tensor):
            return
        if isinstance(target, np.ndarray):
            if not self.trace.program_array(target) or self.from_outside(target):
                self._refuse(f"{ins.argrepr} changes an array from outside the call in place, which a replay would "
                             "not do again; write with a tensor operation, or outside the jitted function")
            return
        method = getattr(target, _IN_PLACE[ins.argrepr], None)
        if method is None or not self._replayed_write(frame, state, method, [value], ins):
            self._refuse(f"{ins.argrepr} changes a {type(target).__name__} from outside the call in place, which a "
                         "replay would not do again; make the change outside the jitted function")

    def _reader_result(self, frame, state, ins):
        """getattr(obj, name), hasattr, vars: evaluated again (C, no effect) and guarded; a pure builtin
        (``len``, ``type``, ``sorted``, ``globals``, a dict's ``items``...) on values jit knows: evaluated again."""
        if state.unpacked is not None:  # f(*args, **kwargs)
            function, args, _ = state.unpacked
        else:
            argc = ins.arg or 0
            operands = self._operands(state, ins.offset, argc + 1)
            function = operands[argc] if len(operands) > argc else UNKNOWN
            args = list(reversed(operands[:argc]))
        if function is globals and not args:
            return frame.f_globals
        if function is super:  # super().forward(x), super().append(v): the method it finds is guarded as any
            return self._super(frame, args)
        if getattr(function, "__name__", None) == "__getattribute__" and isinstance(
                function, (types.MethodWrapperType, types.BuiltinMethodType)) and len(args) == 1:
            return self._attribute_builtin(getattr, [function.__self__, *args], ins)  # cfg.__getattribute__("k")
        numpy_on_values = _numpy_callable(function) and all(_plain_data(a) for a in args)
        if state.first_child is not None and not numpy_on_values:  # Python ran inside the call: evaluating it
            return UNKNOWN  # again would run it again (NumPy's own Python makes a number from numbers, no effect)
        if any(function is r for r in _READERS):
            return self._attribute_builtin(function, args, ins)
        known = all(a is not UNKNOWN and not isinstance(a, Tensor) for a in args)
        if not known or function is UNKNOWN:
            return UNKNOWN
        pure = any(function is p for p in _PURE) and bool(args)
        if not pure and type(function) is types.BuiltinMethodType and getattr(function, "__name__", "") in \
                _PURE_METHODS and type(function.__self__) in (dict, list, tuple, str, set, frozenset, bytes):
            pure = True  # ("epoch {e}".format(e=1) too: keywords are values like the rest)
        value_type = any(function is t for t in _VALUE_TYPES) or _plain_exception(function)
        if not pure and (numpy_on_values or (value_type and all(_plain_data(a) for a in args))):
            pure = True  # np.float32(lr), np.mean([0.5, 0.25]), timedelta(seconds=3): a value, no effect
        if not pure:
            return UNKNOWN
        names = self._keyword_names(state, ins)
        if self._has_keywords(state, ins) and not names:
            return UNKNOWN
        positional, keywords = _split(args, names)
        try:
            return function(*positional, **keywords)
        except Exception:
            return UNKNOWN

    def _super(self, frame, args):
        """The object ``super()`` made: zero arguments take the method's class (its ``__class__`` cell) and its
        first argument, as Python does."""
        if len(args) == 2 and UNKNOWN not in args:
            cls, obj = args
        elif not args and frame.f_code.co_argcount:
            cls, obj = frame.f_locals.get("__class__", UNKNOWN), frame.f_locals.get(frame.f_code.co_varnames[0],
                                                                                      UNKNOWN)
        else:
            return UNKNOWN
        try:
            return super(cls, obj)
        except TypeError:
            return UNKNOWN

    def _attribute_builtin(self, function, args, ins):
        if any(a is UNKNOWN for a in args) or not args:
            self._refuse(f"{function.__name__}() reads an attribute of a value jit cannot follow")
            return UNKNOWN
        self._reached(args[0], f"an attribute (through {function.__name__}())")
        if function is vars:
            self.saw_module(args[0])
            return vars(args[0])
        if len(args) < 2 or not isinstance(args[1], str):
            return UNKNOWN
        if isinstance(args[0], Tensor):
            value = getattr(args[0], args[1], MISSING)
            self._tensor_attribute(args[0], args[1], value)
            return UNKNOWN if value is MISSING and function is getattr else \
                (value is not MISSING) if function is hasattr else value
        value = getattr(args[0], args[1], MISSING)
        if not self._is_fresh(args[0]) and not self._was_written(args[0], args[1]):  # (missing too:
            self._register(value)  # getattr(config, "scale", 1.0) reads that it is not there)
            self.guards.value(("attr", id(args[0]), args[1]), "getattr({0}, {1}, MISSING)", value, args[0],
                              args[1])
        if function is hasattr:
            return value is not MISSING
        return UNKNOWN if value is MISSING else value

    def _call_site(self, frame, state, offset, ins):
        """A call from the user's code: state it cannot see is refused; a list, dict, set or array handed to
        code outside tinygrad_np is read; a write (``setattr``, ``list.append``) is made again by each replay."""
        if state.unpacked is not None:
            function, args, _ = state.unpacked
            operands = [*reversed(args), function]
            argc = len(args)
        else:
            argc = ins.arg or 0
            operands = self._operands(state, offset, argc + 1)
            function = operands[argc] if len(operands) > argc else UNKNOWN
            args = list(reversed(operands[:argc]))
        state.expect = _code_called(function)
        state.calling = function
        state.arguments = operands[:argc][::-1] if len(operands) > argc else ()
        outside_code = function is UNKNOWN or not _is_ours(function)
        if isinstance(function, type) and isinstance(_class_entry(function, "__del__")[2], types.FunctionType) and \
                self._kind(frame.f_code) == "user":
            self._refuse(f"a {function.__name__} is made, whose class has a __del__: a replay makes no objects, so "
                         "its finalizer would not run. Make it outside the jitted function")
        owner = getattr(function, "__self__", None)
        if getattr(function, "__name__", "") in _LOCKING and type(owner).__module__ in ("_thread", "threading") and \
                not self._is_fresh(owner) and self._kind(frame.f_code) == "user":  # (a library's own locks are its own)
            self._refuse(f"a lock or condition from outside the call is used ({type(owner).__name__}."
                         f"{function.__name__}()), which a replay would not take: it runs no Python. Take it around "
                         "the jitted call instead")
        if function is not UNKNOWN and outside_code:
            _refuse_hidden_state(function, args, self)
            _refuse_unreplayed_effects(function, args, self, self._keyword_names(state, ins),
                                       self._kind(frame.f_code) == "user")
        if getattr(function, "__name__", None) in _ITERATOR_METHODS and \
                _is_iterator_from_outside(getattr(function, "__self__", None), self.outside):
            self._refuse(f"{function.__name__}() takes items from an iterator that exists outside the call, which a "
                         "replay cannot take again")
        if isinstance(function, functools.partial):  # the arguments it keeps are read by C
            self._partial(function)
        if isinstance(function, functools._lru_cache_wrapper):
            recorder: list = []
            self.guards.recorders.append(recorder)
            state.cache = (function, function.cache_info(), args, recorder)
        if function is not UNKNOWN and not isinstance(function, (types.FunctionType, types.MethodType, type,
                                                                 types.BuiltinFunctionType,
                                                                 types.BuiltinMethodType, functools.partial)):
            self._class_lookup(type(function), "__call__")  # a callable object: its class's __call__ runs
            self.guards.add(("type", id(function)), "type({0}) is {1}", function, type(function))
        if (function is isinstance or function is issubclass) and len(args) == 2 and \
                any(isinstance(c, abc.ABCMeta) for c in (args[1] if type(args[1]) is tuple else (args[1],))):
            # an ABC's answer changes with register(), which changes abc's cache token
            self.guards.add(("abc registry",), "abc.get_cache_token() is {0}", abc.get_cache_token())
        called, called_args, names = _unwrapped_call(function, args, self._keyword_names(state, ins))
        if called is not function:  # partial(print, flush=True)(...), operator.call(print, ...): the call it makes
            saved = state.unpacked
            state.unpacked = (called, called_args, names)
            try:
                if self._output_call(frame, state, called, called_args, ins):
                    state.output = True
                    return
                if self._replayed_write(frame, state, called, called_args, ins):
                    return
            finally:
                state.unpacked = saved
        if self._output_call(frame, state, function, args, ins):
            state.output = True  # what it runs (a __repr__, a stream's write) each replay runs again: unwatched
            return
        if self._replayed_write(frame, state, function, args, ins):
            return
        in_c = outside_code and not isinstance(state.expect, types.CodeType)  # a Python callee's reads are watched
        if in_c and function is not UNKNOWN:
            self._watch_c_call(state, function, args)
            bound_to = getattr(function, "__self__", None)  # weight_of = weights.get, made outside: C reads weights
            if isinstance(function, (types.BuiltinMethodType, types.MethodWrapperType)) and bound_to is not None \
                    and not isinstance(bound_to, (types.ModuleType, type, Tensor)) and not self._is_fresh(bound_to):
                self._hand_over(bound_to, f"{getattr(function, '__qualname__', 'a method')}()")
            if isinstance(function, weakref.ReferenceType):  # wr(): what it refers to, or None once collected
                target = function()
                self.guards.add(("weakref", id(function)), "_weak_same({0}, {1})", function,
                                None if target is None else id(target))
            if getattr(function, "__name__", None) == "__subclasses__" and isinstance(bound_to, type):
                self.guards.add(("subclasses", id(bound_to)), "tuple({0}.__subclasses__()) == {1}", bound_to,
                                tuple(bound_to.__subclasses__()))
        for value in operands[:argc]:  # what a callee does with it (a copy, a cast, a sum) is not seen: guarded
            if _is_iterator_from_outside(value, self.outside) and not (
                    isinstance(value, io.IOBase) and isinstance(state.expect, types.CodeType)):
                # (a file handed to Python code, json.dump(obj, f): its reads and writes are watched there)
                self._refuse(f"{getattr(function, '__name__', 'a function')}() takes items from an iterator that "
                             "exists outside the call, which a replay cannot take again")
            elif outside_code and (_member(function, _TYPE_ONLY) or _member(function, _BY_DUNDER)):
                # isinstance(obj, C) reads only its class; len(obj) its __len__, str(xs) each item's __repr__
                # (Python methods, watched as they run): what the object or container holds, not what its
                # items hold
                if _plain_object(value):
                    self.guards.add(("type", id(value)), "type({0}) is {1}", value, type(value))
                elif isinstance(value, _MUTABLE) and _member(function, _BY_DUNDER):
                    self._contents(value, f"{function.__name__}()")
            elif outside_code and (_output_function(value) or (isinstance(value, functools.partial) and
                                                                 _output_function(value.func))):
                self._refuse(f"{getattr(value, '__name__', 'an output function')} is handed to "
                             f"{getattr(function, '__name__', 'a function')}(), which calls it where jit cannot see: a "
                             "replay would not make that output. Call it in a for loop instead")
            elif outside_code and _container_method(value, ()) is not None and \
                    not self._is_fresh(value.__self__):
                self._refuse(f"{value.__name__} of a container from outside the call is handed to "
                             f"{getattr(function, '__name__', 'a function')}(), which calls it where jit cannot "
                             "see: a replay would not make those writes. Call it in a for loop instead")
            elif in_c:  # code jit does not watch may read anything it reaches (abs(x): Tensor's special methods)
                self._hand_over(value, f"{getattr(function, '__name__', 'a function')}()")
            elif outside_code and isinstance(value, _MUTABLE):
                self._contents(value, f"{getattr(function, '__name__', 'a function')}()")
            elif isinstance(value, _MUTABLE):
                self._contents(value, f"{getattr(function, '__name__', 'a function')}()")

    def _watch_c_call(self, state, function, args):
        """A C function is handed containers or objects from outside the call: keep what they hold, to find out,
        once it returns, whether it wrote into them (``heapq.heappush(heap, x)``, ``bisect.insort``,
        ``struct.pack_into``), which a replay would not do again: refused (_c_wrote), whatever the function."""
        watched = []
        for value in [getattr(function, "__self__", None), *args]:
            if value is None or value is UNKNOWN or self._is_fresh(value) or isinstance(value, (
                    np.ndarray, Tensor, type, types.ModuleType, types.FunctionType)) or type(value) in _PLAIN:
                continue
            if isinstance(value, _MUTABLE):
                if isinstance(value, _BUFFERS):
                    continue  # (C reading ctypes memory and mmaps is guarded; their writes are in _effects_table)
                if len(value) <= LARGE:
                    watched.append((value, _snapshot(value)))
            elif _plain_object(value) and len(vars(value)) <= 256:
                watched.append((value, _snapshot(dict(vars(value)))))
        if watched:
            state.in_c = (function, len(self.trace.steps), watched)

    def _c_wrote(self, in_c):
        function, steps, watched = in_c
        if len(self.trace.steps) != steps:
            return  # Python it called back wrote, and each replay makes those writes again
        for value, before in watched:
            now = _snapshot(dict(vars(value)) if _plain_object(value) and not isinstance(value, _MUTABLE) else value)
            if now != before:
                self._refuse(f"{getattr(function, '__qualname__', 'a function')}() wrote into a "
                             f"{type(value).__name__} from outside the call, in C, which a replay would not do "
                             "again. Make that change outside the jitted function, or with the container's own "
                             "methods (append, update, ...), which each replay makes again")

    def _unpacked_call(self, frame, state, offset, ins):
        """``f(*args, **kwargs)``: made into the call it is (``print(*names)``, ``setattr(*spec)``,
        ``log.info(msg, *values)``), so that it is seen as that call: output made again, writes replayed, reads
        guarded. Arguments jit cannot follow leave it a call of unknown arguments (C code given them is refused
        wherever that matters)."""
        has_kwargs = bool(ins.arg & 1)
        function = self._operand(state, offset, 2 if has_kwargs else 1)
        positional = self._operand(state, offset, 1 if has_kwargs else 0)
        keywords = self._operand(state, offset, 0) if has_kwargs else {}
        if function is UNKNOWN:
            return
        if type(positional) not in (tuple, list) or not isinstance(keywords, dict) or \
                not all(type(k) is str for k in keywords):
            if _output_function(function) or _writes_through(function):
                self._refuse(f"{getattr(function, '__name__', 'a function')}() is called with *args or **kwargs jit "
                             "cannot follow; a replay makes this call again with the values it had")
            return
        state.unpacked = (function, [*positional, *keywords.values()], tuple(keywords))
        self._call_site(frame, state, offset, ins)

    def _partial(self, function):
        self._function(function.func)
        self.guards.add(("partial", id(function)), "_partial_same({0}, {1}, {2}, {3})", function, function.func,
                        _snapshot(function.args), _snapshot(function.keywords))
        for value in function.args:
            if isinstance(value, _MUTABLE):
                self._contents(value, "functools.partial")

    def _cached_call(self, state, ins):
        """A call of an lru_cache'd function just returned. A miss ran the function, watched: its reads are
        kept with the cache, for a later trace that hits. A hit: those reads are guarded again, or, if this jit
        never saw the value computed, refused."""
        wrapper, before, args, recorder = state.cache
        state.cache = None
        if recorder in self.guards.recorders:
            self.guards.recorders.remove(recorder)
        after = wrapper.cache_info()
        try:
            key = tuple(signature_value(a) for a in args)
        except TypeError:
            key = None
        reads = _cached_reads.setdefault(wrapper, {}) if key is not None else {}
        if after.misses > before.misses:  # it ran: what it read is what the cached value depends on
            if key is not None:
                reads[key] = recorder
        elif key is not None and key in reads:
            for check_key, template, constants in reads[key]:
                self.guards.add(check_key, template, *constants)
        else:
            self._refuse(f"{getattr(wrapper, '__name__', 'a cached function')}() returned a value functools."
                         "lru_cache kept from a call jit did not watch, so jit cannot know what it read. Call "
                         "it once inside the jitted function with its cache cleared first, call its __wrapped__, "
                         "or pass the value in as an argument")
        self.guards.add(("cache", id(wrapper)), "_cache_same({0}, {1}, {2})", wrapper, after.misses,
                        after.currsize)

    # ---- writes ------------------------------------------------------------------------------------------------
    def _write(self, frame, state, ins):
        """``obj.name = value``, ``container[key] = value``, a global or a closure variable assigned: into an
        object from outside the call, each replay makes the same write, with its own tensors."""
        name = ins.opname
        if name in ("STORE_ATTR", "DELETE_ATTR"):
            owner = self._operand(state, ins.offset, 0)
            value = self._operand(state, ins.offset, 1) if name == "STORE_ATTR" else MISSING
            if owner is UNKNOWN:
                self._refuse(f"the attribute .{ins.argval} is set on a value jit cannot follow")
            if self._is_fresh(owner) or (isinstance(owner, Tensor) and (self.trace.made(owner) or
                                                                        ins.argval in ("grad", "data"))):
                return
            self.guards.written.setdefault(id(owner), set()).add(ins.argval)
            if self._hooked(owner, "delattr" if name == "DELETE_ATTR" else "setattr", ins.argval):
                return  # a Python setter of the user's runs, watched: the writes it makes are recorded there
            if name == "DELETE_ATTR":
                self.trace.wrote(_line(frame), delattr, (self._owner(owner), ins.argval))
            else:
                self._record(frame, setattr, self._owner(owner), (ins.argval,), value, f".{ins.argval}")
        elif name in ("STORE_SUBSCR", "DELETE_SUBSCR"):
            key, container = self._operand(state, ins.offset, 0), self._operand(state, ins.offset, 1)
            value = self._operand(state, ins.offset, 2) if name == "STORE_SUBSCR" else MISSING
            if container is UNKNOWN or key is UNKNOWN:
                self._refuse("an item is set on a value jit cannot follow")
            if (self._is_fresh(container) and self._owner(container) is container) or isinstance(container, Tensor):
                self._after_stored(container)
                return
            self._into_argument(container)
            self.guards.changing(container)
            self.guards.written.setdefault(id(container), set()).add(key if _hashable_plain(key) else id(key))
            if self._hooked(container, "delitem" if name == "DELETE_SUBSCR" else "setitem", key):
                return  # its Python __setitem__ runs, watched: the writes it makes are recorded there
            if name == "DELETE_SUBSCR":
                self.trace.wrote(_line(frame), operator.delitem, (self._owner(container), key))
            else:
                self._record(frame, operator.setitem, self._owner(container), (key,), value, "an item")
            self._forget_entries(container, key, keep=value)
        elif name in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            namespace = frame.f_globals
            self.guards.written.setdefault(id(namespace), set()).add(ins.argval)
            if name == "DELETE_GLOBAL":
                self.trace.wrote(_line(frame), operator.delitem, (namespace, ins.argval))
            else:
                self._record(frame, operator.setitem, namespace, (ins.argval,), self._operand(state, ins.offset, 0),
                             f"the global {ins.argval}")
        elif name in ("STORE_DEREF", "DELETE_DEREF") and ins.argval in state.code.free:
            cell = state.cells.get(ins.argval)
            if cell is None or type(cell) is _Cells:
                self._refuse(f"the closure variable {ins.argval!r} belongs to a function jit cannot tell apart from "
                             "another made from the same code" if cell is not None else
                             f"the closure variable {ins.argval!r} belongs to a function jit cannot find")
            self.guards.written.setdefault(id(cell), set()).add("cell_contents")
            self._record(frame, _set_cell, cell, (), self._operand(state, ins.offset, 0) if name == "STORE_DEREF"
                         else _EMPTY, f"the closure variable {ins.argval}")
        elif name == "STORE_SLICE":
            container = self._operand(state, ins.offset, 2)
            if container is UNKNOWN:
                self._refuse("a slice is set on a value jit cannot follow")
            if not self._is_fresh(container):
                self._refuse("a slice of an object from outside the call is assigned: give the new value a name "
                             "and assign it whole")

    def _hooked(self, owner, how, name):
        """True if writing ``name`` into ``owner`` (``how``: setattr, delattr, setitem, delitem) runs Python of
        the user's or a package's that jit watches whole (a property's setter, a ``__setattr__`` or
        ``__setitem__`` override, a descriptor's ``__set__``): the writes that code makes are recorded as it runs,
        and recording the outer write too would make each replay's effects twice."""
        cls = type(owner)
        hooks = {"setattr": ("__setattr__", "fset", "__set__"), "delattr": ("__delattr__", "fdel", "__delete__"),
                 "setitem": ("__setitem__", None, None), "delitem": ("__delitem__", None, None)}[how]
        candidates = [_class_entry(cls, hooks[0])[2]]
        if hooks[1] is not None and isinstance(name, str):
            attribute = _class_entry(cls, name)[2]
            if isinstance(attribute, property):
                candidates.append(getattr(attribute, hooks[1]))
            elif attribute is not None and hasattr(type(attribute), hooks[2]):
                candidates.append(getattr(type(attribute), hooks[2]))
        return any(isinstance(f, types.FunctionType) and self._kind(f.__code__) in ("user", "other")
                   for f in candidates)

    def _after_stored(self, container):
        """A write into a list, dict or set the call made: refused once the call has stored it into an object from
        outside, since each replay stores a copy of it as it was when stored."""
        if self.stored_fresh.get(id(container)) is container:
            self._refuse(f"a {type(container).__name__} the call made is changed after it was stored into an object "
                         "from outside: each replay stores it as it was when stored. Finish it before storing it")

    def _entry(self, frame, state, container, key, made_here):
        """The instruction running gives the item ``key`` of a dict from outside, which it may make: writes into
        that item are made on each replay into the item it gives then (trace.Entry)."""
        self._into_argument(container)
        self.guards.changing(container)
        self._forget_entries(container)
        self.guards.written.setdefault(id(container), set()).add(key)
        state.entry = (Entry(container, key), made_here)

    def _forget_entries(self, container, key=MISSING, keep=MISSING):
        """The step changes the items of a dict (or one of them): an object it gave before may no longer be
        its item, so writes into that object are made into the object itself (but ``keep``, the object just
        stored there again: ``metrics["loss"] += [x]`` stores the same list)."""
        for k, (obj, entry, _) in list(self.entries.items()):
            if entry.container is container and (key is MISSING or entry.key == key) and obj is not keep:
                del self.entries[k]

    def _owner(self, obj):
        """An object written into, as a replay names it: the Entry it was reached through, else itself."""
        known = self.entries.get(id(obj))
        return known[1] if known is not None and known[0] is obj else obj

    def _into_argument(self, container):
        """A write into a list or dict from outside the call: the very object keys the program (an argument
        container is handed on as itself, so a new one on another call traces again), unless it is a copy jit
        made (it held arrays), which the caller would never see."""
        copied = self.copied_arguments.get(id(container))
        if copied is container:
            self._refuse(f"a {type(container).__name__} argument that holds NumPy arrays is written into: jit hands "
                         "the function a copy with Tensors in their place, so the write would not reach yours. Put "
                         "Tensors in it (tg.Tensor(a)), or return the value")
        self.trace.outside_ids[id(container)] = container

    def _record(self, frame, func, owner, keys, value, what):
        if value is UNKNOWN:
            self._refuse(f"{what} is set to a value jit cannot follow")
        self.trace.wrote(_line(frame), func, (owner, *keys, self._stored(value, what)))

    def _stored(self, value, what, output=False):
        """A value written into an object from outside, as the replay writes it: a list, dict or set made in
        the call is copied on each replay (eager makes a new one on each call)."""
        self._storable(value, what, output)
        known = self.entries.get(id(value))
        if known is not None and known[0] is value:  # metrics["loss"] = metrics["loss"] (after +=): the item itself
            return known[1]
        if isinstance(value, (list, dict, set)):
            if self.from_outside(value):
                return Kept(value)
            if output:  # printed as it is now: what the call does with it later is its own
                return Copied(_copy_containers(value))
            if self.stored_fresh.get(id(value)) is value:
                self._refuse(f"{what} is set to a {type(value).__name__} the call made and already stored elsewhere: "
                             "a replay would store two copies, where eager stores one object twice. Store it once")
            self.stored_fresh[id(value)] = value
            return Copied(_copy_containers(value))  # as it is now (the real one may be changed later)
        if type(value) is tuple and any(isinstance(v, (list, dict, set)) for v in value):
            return tuple(self._stored(v, what, output) for v in value)  # (LST, LST): each item as itself or a copy
        return value

    def _storable(self, value, what, output=False):
        """A value a replay may store again: a number or string; a Tensor or array (the replay's own, if the
        call made it); an object from outside the call; lists, tuples and dicts of these (made again). Output
        may also show an object the call made that holds only such values (a timedelta, a Path, a dataclass of
        numbers): the replay shows the one made while tracing, which shows the same."""
        for v in leaves_of(value):
            if _plain_value(v) or isinstance(v, (Tensor, np.ndarray, types.FunctionType, types.ModuleType, type)):
                continue
            if type(v) in (set, frozenset) and all(_plain_value(item) for item in v):
                continue  # ({"train"}: copied like a list, its members plain)
            if v is _EMPTY or not self._is_fresh(v):
                continue
            if output and _value_object(v):
                continue
            self._refuse(f"{what} of an object from outside the call is set to a {type(v).__name__} made during "
                         "the call: a replay would store the one made while tracing. Store tensors, numbers or "
                         "strings (in tuples, lists or dicts), or make the object outside the jitted function")

    def _output_call(self, frame, state, function, args, ins):
        """``print(...)``, ``log.info(...)``, ``warnings.warn(...)``, ``sys.stdout.write(...)``: output a replay
        makes again, with the values it had (the guards hold them: any change traces again). Returns True if it
        is one."""
        import warnings

        owner, name = getattr(function, "__self__", None), getattr(function, "__name__", "")
        if not _output_function(function) or (isinstance(owner, io.IOBase) and self._is_fresh(owner)):
            return False  # (a stream the call made is its own)
        if any(a is UNKNOWN for a in args):
            self._refuse(f"{name}() is given a value jit cannot follow; a replay makes this output again with the "
                         "values it had")
        positional, keywords = _split(args, self._keyword_names(state, ins))
        stored = {k: self._stored(v, f"{name}()'s argument", True) for k, v in keywords.items()}
        if function is warnings.warn or name in _LOG_CALLS:  # made again where the step made it (jit/output.py)
            if name in _LOG_CALLS and keywords.get("exc_info", name == "exception") is True:
                caught = sys.exc_info()  # log.exception(...) in the step's own except: a replay has no exception
                if caught[1] is not None and caught[1] is not self.outer_exception:  # (the caller's is the replay's)
                    stored["exc_info"] = Caught(caught)  # the one the traced call caught: the same each call
            function = At(function, traced_frames(frame, self.origin))
        self.trace.output(_line(frame), function,
                          tuple(self._stored(a, f"{name}()'s argument", True) for a in positional), stored)
        return True

    def _replayed_write(self, frame, state, function, args, ins):
        """A call that writes into an object from outside: ``setattr``/``delattr``, or a container's method
        (``history.append(loss)``). Each replay makes it again. Returns True if it is one."""
        if (function is operator.setitem or function is operator.delitem) and len(args) >= 2 and \
                not any(a is UNKNOWN for a in args):  # operator.setitem(d, k, v): d[k] = v, made in C
            container, key = args[0], args[1]
            if self._is_fresh(container) or isinstance(container, Tensor):
                return True
            self._into_argument(container) if isinstance(container, (list, dict)) else None
            self.guards.changing(container)
            self.guards.written.setdefault(id(container), set()).add(key if _hashable_plain(key) else id(key))
            if function is operator.delitem:
                self.trace.wrote(_line(frame), operator.delitem, (self._owner(container), key))
            else:
                self._record(frame, operator.setitem, self._owner(container), (key,),
                             args[2] if len(args) > 2 else UNKNOWN, "an item")
            self._forget_entries(container, key, keep=args[2] if len(args) > 2 else MISSING)
            return True
        if isinstance(function, types.MethodWrapperType) and function.__name__ in ("__setattr__", "__delattr__") \
                and not isinstance(function.__self__, type):  # super().__setattr__(name, value) in a setter
            owner = function.__self__
            if len(args) < 1 or any(a is UNKNOWN for a in args):
                self._refuse(f"{function.__name__}() writes into a value jit cannot follow")
            if not self._is_fresh(owner) and not (isinstance(owner, Tensor) and self.trace.made(owner)):
                self.guards.written.setdefault(id(owner), set()).add(args[0])
                self.trace.wrote(_line(frame), function, tuple(self._stored(a, f".{args[0]}") for a in args))
            return True
        if function is setattr or function is delattr or function is object.__setattr__:
            if len(args) < 2 or any(a is UNKNOWN for a in args):
                self._refuse(f"{function.__name__}() writes into a value jit cannot follow")
            owner, name = args[0], args[1]
            if function is not object.__setattr__ and self._hooked(owner, function.__name__, name):
                self.guards.written.setdefault(id(owner), set()).add(name)
                return True  # (its Python setter runs, watched)
            if not self._is_fresh(owner) and not (isinstance(owner, Tensor) and self.trace.made(owner)):
                self.guards.written.setdefault(id(owner), set()).add(name)
                stored = [self._stored(args[2], f".{name}")] if len(args) > 2 else []
                self.trace.wrote(_line(frame), function, (self._owner(owner), name, *stored))  # (object.__setattr__
                # as itself: setattr would run a Python __setattr__ of the owner's again, whose writes are recorded)
            return True
        if function is _count_elements and len(args) == 2:  # Counter.update(xs): it counts into the Counter in C
            owner, items = args
            if owner is UNKNOWN or not isinstance(items, (list, tuple, str, set, frozenset, dict)):
                self._refuse("Counter.update() is given values jit cannot make again (an iterator, or a value it "
                             "cannot follow); give it a list")
            if not self._is_fresh(owner):
                if isinstance(items, _MUTABLE) and not self._is_fresh(items):
                    self._contents(items, "Counter.update()")
                self._into_argument(owner)
                self.guards.changing(owner)
                self.trace.wrote(_line(frame), _count_elements, (self._owner(owner), self._stored(items, "an item")))
            return True
        bound = _container_method(function, args)
        if bound is not None:  # history.append(x), ar.extend(xs), list.append(history, x), L.__iadd__(xs)
            function, args = bound
            owner, name = function.__self__, function.__name__
            if self._is_fresh(owner) and self._owner(owner) is owner:  # (an item a lookup made: through it)
                self._after_stored(owner)
                return True
            if any(a is UNKNOWN for a in args) or self._has_keywords(state, ins):
                self._refuse(f"{name}() changes a container from outside the call with a value jit cannot follow "
                             "(or with keyword arguments)")
            for a in args:
                if isinstance(a, _MUTABLE) and not self._is_fresh(a):
                    self._contents(a, f"{name}()")
            if name in _READING_MUTATORS:  # what it returns (or whether it raises) depends on what the container
                self._contents(owner, f"{name}()")  # holds: xs.pop() after the caller changed xs
            self._into_argument(owner)
            self.guards.changing(owner)
            if isinstance(owner, dict):
                if name == "setdefault" and args and _hashable_plain(args[0]):  # writes go into what it gives
                    if not self._was_written(owner, args[0]):
                        before = dict.get(owner, args[0], MISSING)
                        self.guards.value(("item", id(owner), args[0]), "_dict_item({0}, {1})", before, owner,
                                          args[0])
                        self._entry(frame, state, owner, args[0], made_here=before is MISSING and (
                            len(args) < 2 or self._is_fresh(args[1])))
                    else:
                        self._forget_entries(owner, args[0])
                        state.entry = (Entry(owner, args[0]), True)
                elif name != "setdefault":
                    self._forget_entries(owner)
            stored = tuple(self._stored(a, "an item") for a in args)
            target = self._owner(owner)
            if target is owner:
                self.trace.wrote(_line(frame), function, stored)
            else:
                self.trace.wrote(_line(frame), call_method, (target, name, *stored))
            return True
        return False

    @staticmethod
    def _keyword_names(state, ins):
        """The keyword names of a call (3.11 and 3.12: the KW_NAMES before it); () if none or not known."""
        if state.unpacked is not None:
            return state.unpacked[2]
        i = state.code.index[ins.offset] - 1
        while i >= 0 and state.code.instructions[i].opname in ("PRECALL", "CACHE"):
            i -= 1
        if i >= 0 and state.code.instructions[i].opname == "KW_NAMES":
            names = state.code.instructions[i].argval
            if not isinstance(names, tuple):  # 3.11's dis does not resolve it: the index into co_consts
                arg = state.code.instructions[i].arg
                names = state.code.code.co_consts[arg] if isinstance(arg, int) else ()
            return names if isinstance(names, tuple) else ()
        return ()

    @staticmethod
    def _has_keywords(state, ins):
        """True for a call given keyword arguments (3.11: a KW_NAMES before it)."""
        if state.unpacked is not None:
            return bool(state.unpacked[2])
        if ins.opname in ("CALL_FUNCTION_KW", "CALL_KW"):
            return True
        i = state.code.index[ins.offset] - 1
        while i >= 0 and state.code.instructions[i].opname in ("PRECALL", "CACHE"):
            i -= 1
        return i >= 0 and state.code.instructions[i].opname == "KW_NAMES"

    def _is_fresh(self, value):
        if isinstance(value, np.ndarray) and value.base is not None:  # a view is the call's own if its base is
            base = value
            while isinstance(base, np.ndarray) and base.base is not None:
                base = base.base
            return self.fresh.get(id(base)) is base or (isinstance(base, np.ndarray) and
                                                          self.trace.program_array(base) and not
                                                          self.from_outside(base))
        return self.fresh.get(id(value)) is value

    def _was_written(self, owner, name):
        written = self.guards.written.get(id(owner))
        return written is not None and name in written

    # ---- globals, closures, containers ---------------------------------------------------------------------
    def _global(self, frame, name):
        namespace = frame.f_globals
        if self._was_written(namespace, name):
            return
        value = namespace.get(name, MISSING)
        self._register(value)
        self.outside[id(value)] = value
        self.guards.value(("global", id(namespace), name), "{0}.get({1}, MISSING)", value, namespace, name)
        if value is MISSING:
            builtins_ = frame.f_builtins
            value = builtins_.get(name, MISSING)
            self.guards.value(("global", id(builtins_), name), "{0}.get({1}, MISSING)", value, builtins_, name)

    def _free(self, frame, state, name):
        found = state.cells.get(name)
        if found is None:
            self._refuse(f"the closure variable {name!r} belongs to a function jit cannot find")
            return
        for cell in found if type(found) is _Cells else (found,):
            if self._was_written(cell, "cell_contents"):
                return
            value = _cell(cell)
            self._register(value)
            self.outside[id(value)] = value
            self.guards.value(("cell", id(cell)), "_cell({0})", value, cell)

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
        if len(cells) == 1:
            return dict(zip(code.co_freevars, next(iter(cells.values())), strict=True))
        if not cells:
            return {}
        # Several functions share this code and hold the same values now (a class defined in a function called
        # twice: two models from one factory): which one runs is not known, so a read guards every one's cell
        # (a change to any traces again), and a write is refused (_write)
        return {name: _Cells(closure[i] for closure in cells.values()) for i, name in enumerate(code.co_freevars)}

    def _contents(self, container, how):
        known = self.entries.get(id(container))
        if self._is_fresh(container) or (known is not None and known[0] is container and known[2]):
            return  # made during the call: what it holds is what the call put there
        if isinstance(container, np.ndarray) and self.trace.program_array(container):
            return  # an argument's or a made array (in an op's own forward): a replay runs that code on its own
        self._reached(container, "what a list, dict or array holds")
        if isinstance(container, np.ndarray):
            self.trace.saw_array(container)
        if not self.guards.contents(container):
            size = container.size if isinstance(container, np.ndarray) else memoryview(container).nbytes
            self._refuse(f"{how} reads an array of {size} elements that exists outside the call; "
                         "comparing it on every call would cost more than the step. Pass it as an argument, or "
                         "make it a Tensor (a Tensor's values are read where they live on every replay)")

    def _dispatched(self, names):
        """``functools.singledispatch`` chose an implementation for a class: it depends on the registry (what
        ``register()`` added), the class's MRO and ABCs' registrations, all guarded."""
        registry, cls = names.get("registry"), names.get("cls")
        if not isinstance(registry, dict) or not isinstance(cls, type):
            self._refuse("functools.singledispatch looked up an implementation jit cannot follow")
        self.guards.add(("singledispatch", id(registry), id(cls)), "_dispatch_same({0}, {1}, {2}, {3}, {4})",
                        registry, tuple(registry.items()), cls, cls.__mro__, abc.get_cache_token())

    def _class_attributes(self, cls):
        """What a class (and its bases) holds, guarded: C code reading an instance's attribute may find it there."""
        for c in cls.__mro__[:-1]:
            if c.__module__ != "builtins":
                self.saw_module(c)

    def _hand_over(self, value, how):
        """A value handed to code jit does not watch, which may read anything it reaches: through attributes and
        the lists, tuples, dicts and sets they hold (``attrgetter("a.b.c")``, ``"{0.a.b}".format``,
        ``map(len, [xs, ys])``, ``sum(ctypes_array)``), every container's contents and every object's
        attributes are guarded, however deep. Reaching more than _HANDED_OBJECTS objects is refused."""
        todo, visited, objects = [value], set(), 0
        while todo:
            v = todo.pop()
            if isinstance(v, type) and v.__module__ != "builtins" and id(v) not in visited:
                self._class_attributes(v)  # a class in a list: attrgetter reads its attributes in C
            if id(v) in visited or v is UNKNOWN or type(v) in _PLAIN or isinstance(v, (type, types.ModuleType)):
                continue
            visited.add(id(v))
            if isinstance(v, Tensor):  # its array is the program's input, read where it lives; C may call its
                for dunder in _TENSOR_DUNDERS:  # special methods (sum([x, w]) adds), which a user may patch
                    self._class_lookup(type(v), dunder)
                continue
            if isinstance(v, (types.FunctionType, types.MethodType)):
                self._register(v)
            elif isinstance(v, _MUTABLE):
                self._contents(v, how)
                if isinstance(v, (list, deque, set)):
                    todo.extend(v)
                elif isinstance(v, (dict, MutableMapping)):
                    todo.extend(v.keys())
                    todo.extend(v.values())
            elif type(v) in (tuple, frozenset):
                todo.extend(v)
            elif _slotted_object(v):  # @dataclass(slots=True): no __dict__, each slot guarded
                objects += 1
                self.guards.add(("type", id(v)), "type({0}) is {1}", v, type(v))
                self._class_attributes(type(v))
                for slot in _slots_of(type(v)):
                    value = getattr(v, slot, MISSING)
                    self.guards.value(("attr", id(v), slot), "getattr({0}, {1}, MISSING)", value, v, slot)
                    todo.append(value)
            elif _plain_object(v):
                objects += 1
                self._class_attributes(type(v))  # attrgetter("k")(obj) finds a class attribute in C too
                if objects > _HANDED_OBJECTS:
                    self._refuse(f"{how} is handed an object that reaches more than {_HANDED_OBJECTS} objects "
                                 "(through attributes, lists and dicts), any of which code jit does not watch may "
                                 "read; jit does not guard that many. Pass the values it needs instead")
                self.saw_module(v)
                todo.extend(vars(v).values())

    def saw_module(self, module):
        """Guard an object's class and every attribute: a module whose library code runs (it reads its own
        settings), an object handed to code jit does not watch. They are taken as the trace leaves them
        (``Guards.compile``), but those the step itself writes, which each replay writes again."""
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
        kwdefaults = fn.__kwdefaults__
        self.guards.add(("function", id(fn)), "_same_function({0}, {1}, {2}, {3}, {4})", fn, fn.__code__,
                        fn.__defaults__, kwdefaults, None if kwdefaults is None else _snapshot(kwdefaults))

    def _register(self, value):
        """A Tensor read from outside (alone or in a list, tuple or dict): the trace reads its array through it
        on every replay. An array: the trace notes it (an argument may be the same array). A function: its
        code and defaults are guarded."""
        if type(value) is types.FunctionType or type(value) is types.MethodType:
            self._function(value)
        for v in (value,) if isinstance(value, (Tensor, np.ndarray)) else leaves_of(value) \
                if type(value) in (list, tuple, dict) else ():
            if isinstance(v, Tensor):
                self.trace.owns(v)
            elif isinstance(v, np.ndarray):
                self.trace.saw_array(v)

    def _refuse(self, what, ins=None):
        raise JitError(f"jit: {what}, at {_where()}. A replay runs no Python, so jit must see every value the "
                       "function reads to know when a replay would be stale. Give the value a name first "
                       "(obj = ...; obj.attr), or pass it as an argument")


_EMPTY = object()  # a closure variable deleted


class _Cells(tuple):
    """The cells a closure variable may live in, when several functions share the code running (Reader._cells)."""

    __slots__ = ()


def _set_cell(cell, value):
    """A closure variable written by the step (``nonlocal x; x = ...``), made again by each replay."""
    if value is _EMPTY:
        del cell.cell_contents
    else:
        cell.cell_contents = value


def _line(frame):
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def _where():
    """The user's line being traced, and the library function it is inside, if any."""
    import linecache

    frame, inner = sys._getframe(1), None
    while frame is not None:
        kind = _code_kind(frame.f_code.co_filename)
        if kind == "user":
            break
        if kind == "other" and inner is None:
            inner = frame
        frame = frame.f_back
    if frame is None:
        return "an unknown line"
    source = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    where = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}" + (f" ({source})" if source else "")
    if inner is not None:
        module = inner.f_globals.get("__name__", "?")
        where += f", inside {module}.{inner.f_code.co_name}"
    return where


def _value_object(value, depth=0):
    """An object that is a value: an immutable one of the standard library's (a timedelta, a date, a Path, a
    Fraction), or one whose attributes hold only numbers, strings and such objects (a dataclass of settings)."""
    import datetime
    import fractions
    import pathlib

    if _plain_value(value) or isinstance(value, (datetime.timedelta, datetime.date, datetime.time,
                                                 pathlib.PurePath, fractions.Fraction)):
        return True
    if depth > 3 or isinstance(value, (Tensor, np.ndarray)):
        return False
    if type(value) in (list, tuple) and len(value) <= 64:
        return all(_value_object(v, depth + 1) for v in value)
    attributes = getattr(value, "__dict__", None)
    if type(attributes) is not dict or _slots_of(type(value)):
        return False
    return len(attributes) <= 64 and all(_value_object(v, depth + 1) for v in attributes.values())


def _value_types():
    import datetime

    return {datetime.timedelta, datetime.date, datetime.datetime, datetime.time}


_VALUE_TYPES = _value_types()


def _plain_exception(function):
    """An exception or warning class made with Python's own constructor (warn(MyWarning("..."))): a value."""
    return isinstance(function, type) and issubclass(function, BaseException) and not any(
        isinstance(_class_entry(function, name)[2], types.FunctionType) for name in ("__init__", "__new__"))


def _plain_container(value, depth=0):
    """A list, tuple, dict or set of numbers and strings (nested a little): its text is made from those alone
    (an f-string of it is made again the same way); its contents are guarded where it is read."""
    kind = type(value)
    if kind in (bool, int, float, str, type(None)):
        return True
    if depth > 3 or kind not in (list, tuple, dict, set, frozenset) or len(value) > 256:
        return False
    items = list(value.items()) if kind is dict else value
    return all(_plain_container(v, depth + 1) for item in items for v in (item if kind is dict else (item,)))


def _numpy_callable(function):
    """A NumPy function without effects that makes a value from values: a ufunc (``np.sqrt``), a scalar type
    (``np.float32``), or one of _NUMPY_VALUES (``np.mean``); not ``np.seterr``, ``np.save``, a generator's."""
    if isinstance(function, np.ufunc) or (isinstance(function, type) and issubclass(function, np.generic)):
        return True
    return getattr(function, "__module__", "") == "numpy" and getattr(function, "__name__", "") in _NUMPY_VALUES and \
        getattr(np, function.__name__, None) is function


_NUMPY_VALUES = {"mean", "sum", "std", "var", "max", "min", "amax", "amin", "median", "prod", "average",
                 "percentile", "quantile", "argmax", "argmin", "round", "around", "clip", "cumsum", "cumprod",
                 "linspace", "logspace", "arange", "array", "asarray", "isclose", "allclose", "array_equal",
                 "nanmean", "nansum", "nanmax", "nanmin", "ptp", "dot", "inner", "outer", "unique", "sort",
                 "format_float_positional", "format_float_scientific"}


def _plain_data(value, depth=0):
    """A Python number or string, or a tuple or list of them (no array, no object): cheap to hand NumPy again."""
    if type(value) in (bool, int, float, complex, str, type(None)) or isinstance(value, (np.generic, np.dtype)):
        return True
    if type(value) in (list, tuple) and depth < 3 and len(value) <= 1024:
        return all(_plain_data(v, depth + 1) for v in value)
    return False


def _code_called(function):
    """The code a call instruction runs first, if it is Python: its return is the call's value."""
    if function is UNKNOWN:
        return UNKNOWN
    if isinstance(function, functools.partial):
        return _code_called(function.func)
    if isinstance(function, functools._lru_cache_wrapper):
        return getattr(function.__wrapped__, "__code__", UNKNOWN)
    fn = getattr(function, "__func__", function)
    code = getattr(fn, "__code__", None)
    if code is not None:
        return code
    if isinstance(function, type):  # a class: its Python __new__, else its Python __init__, runs first
        for name in ("__new__", "__init__"):
            code = getattr(getattr(function, name, None), "__code__", None)
            if code is not None:
                return code
        return UNKNOWN
    call = type(function).__dict__.get("__call__") or next(
        (c.__dict__["__call__"] for c in type(function).__mro__ if "__call__" in c.__dict__), None)
    return getattr(call, "__code__", UNKNOWN) if call is not None else UNKNOWN


def _patchable(name, value):
    """A library lookup worth a guard: a Python function or method with a public name, not the engine's."""
    if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
        return False
    fn = getattr(value, "__func__", value)
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    filename = os.path.abspath(code.co_filename)
    return not (filename.startswith(_ENGINE) and filename != _TENSOR_FILE)


def _split(args, names):
    """A call's arguments as jit holds them (the keyword ones last, named by ``names``): (positional, keywords)."""
    cut = len(args) - len(names)
    return list(args[:cut]), dict(zip(names, args[cut:], strict=True))


def _unwrapped_call(function, args, names):
    """The call ``function(*args)`` (the last len(names) of args given by keyword) makes: a functools.partial's
    function with its kept arguments first, operator.call's first argument; else itself. Returns (function, args,
    keyword names) in the same form."""
    positional, keywords = _split(args, names)
    if isinstance(function, functools.partial):
        called, positional, keywords = function.func, [*function.args, *positional], {**function.keywords,
                                                                                      **keywords}
    elif function is getattr(operator, "call", None) and positional:
        called, positional = positional[0], positional[1:]
    else:
        return function, args, names
    if called is UNKNOWN or any(a is UNKNOWN for a in positional):
        return function, args, names
    return called, [*positional, *keywords.values()], tuple(keywords)


def _output_function(value):
    """print, warnings.warn and warn_explicit, a logger's output methods, a stream's write or flush, a csv
    writer's rows: output a replay makes again (Reader._output_call), but only where jit sees the call."""
    import logging
    import warnings

    name = getattr(value, "__name__", "")
    owner = getattr(value, "__self__", None)
    return value is print or value is warnings.warn or value is warnings.warn_explicit or \
        (isinstance(owner, logging.Logger) and name in _LOG_CALLS) or \
        (getattr(value, "__module__", None) == "logging" and name in _LOG_CALLS and owner is None) or \
        (isinstance(owner, io.IOBase) and name in ("write", "writelines", "flush")) or \
        (type(owner).__module__ == "_csv" and name in ("writerow", "writerows"))


def _writes_through(value):
    return value is setattr or value is delattr or value is operator.setitem or _container_method(value, ()) is not None


def _copies(function, value):
    """``xs.copy()`` of a list, dict or set: a new one, as a class call makes."""
    return isinstance(function, types.BuiltinMethodType) and function.__name__ == "copy" and \
        type(function.__self__) in (list, dict, set) and type(value) is type(function.__self__)


def _makes_new(function, value):
    """A class called, which made ``value`` anew: an instance of it, from a plain ``__new__``. Not ``type(x)``
    (x's class, which exists), nor ``super()`` (a view whose attributes are the classes'), nor a class whose
    metaclass or own Python ``__new__`` may hand back an object that exists already (an Enum's member, a cached
    singleton): their attributes are read from outside, guarded."""
    if not isinstance(function, type) or function is type or function is super or type(function) is not type or \
            not isinstance(value, function):
        return False
    return not isinstance(_class_entry(function, "__new__")[2], (types.FunctionType, staticmethod))


def _container_method(function, args):
    """``(bound method, its arguments)`` for a call that writes into a list, dict, set, deque or array.array
    through one of its methods (``_MUTATORS``), however it is spelled: ``log.append(x)``, ``ar.extend(xs)`` (a C
    method of another kind), ``L.__iadd__(xs)`` (a method-wrapper), or the class's own function given the
    container first, ``list.append(log, x)``. None for any other call."""
    name = getattr(function, "__name__", "")
    if name not in _MUTATORS:
        return None
    if isinstance(function, (types.BuiltinMethodType, types.MethodWrapperType)):
        owner = getattr(function, "__self__", None)
    elif isinstance(function, (types.MethodDescriptorType, types.WrapperDescriptorType)) and args and \
            isinstance(args[0], function.__objclass__):
        owner, function, args = args[0], function.__get__(args[0]), args[1:]
    else:
        return None
    if not isinstance(owner, _MUTABLE) or isinstance(owner, np.ndarray):
        return None
    return function, list(args)


def _hashable_plain(key):
    return _plain_value(key) and type(key) is not slice


_BINARY_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod", "**": "pow",
                 "@": "matmul", "&": "and", "|": "or", "^": "xor", "<<": "lshift", ">>": "rshift"}
_COMPARE_NAMES = {"<": ("lt", "gt"), "<=": ("le", "ge"), ">": ("gt", "lt"), ">=": ("ge", "le"), "==": ("eq", "eq"),
                  "!=": ("ne", "ne")}
_UNARY_NAMES = {"UNARY_NEGATIVE": "neg", "UNARY_POSITIVE": "pos", "UNARY_INVERT": "invert"}


_TENSOR_DUNDERS = tuple(f"__{p}{n}__" for n in _BINARY_NAMES.values() for p in ("", "r", "i")) + tuple(
    f"__{n}__" for pair in _COMPARE_NAMES.values() for n in pair) + tuple(f"__{n}__" for n in _UNARY_NAMES.values()) + (
    "__abs__", "__getitem__", "__len__", "__iter__", "__bool__", "__float__", "__int__", "__index__", "__round__")


def _dunders(ins):
    """The special methods an operator instruction may call on a Tensor operand."""
    if ins.opname == "BINARY_OP":
        symbol = ins.argrepr
        inplace = symbol.endswith("=")
        base = _BINARY_NAMES.get(symbol[:-1] if inplace else symbol)
        if base is None:
            return ()
        return ((f"__i{base}__",) if inplace else ()) + (f"__{base}__", f"__r{base}__")
    if ins.opname == "COMPARE_OP":
        pair = _COMPARE_NAMES.get(ins.argrepr)
        return tuple(f"__{n}__" for n in pair) if pair else ()
    name = _UNARY_NAMES.get(ins.opname)
    return (f"__{name}__",) if name else ()


def _basic_index(key):
    """An index that makes a view (ints, slices, None, ...): evaluating it again has no effect and copies nothing."""
    parts = key if type(key) is tuple else (key,)
    return all(type(k) in (int, slice, type(None), type(Ellipsis)) for k in parts)


def _member(function, group):
    """``function in group``, False for an unhashable callable (a ctypes function)."""
    try:
        return function in group
    except TypeError:
        return False


def _is_iterator_from_outside(value, outside):
    # the class's __next__, not hasattr: a config whose __getattr__ answers every name is no iterator
    return id(value) in outside and outside[id(value)] is value and _class_entry(type(value), "__next__")[1] \
        is not None and not isinstance(value, (Tensor, np.ndarray))


def _slots_of(cls):
    names = []
    for c in cls.__mro__:
        slots = c.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return [n for n in names if n not in ("__dict__", "__weakref__")]


def _slotted_object(value):
    """An instance of a user's class with __slots__ and no __dict__ (a dataclass with slots=True)."""
    kind = type(value)
    return not hasattr(value, "__dict__") and kind.__module__ != "builtins" and "__slots__" in kind.__dict__ and \
        not isinstance(value, (Tensor, np.ndarray, type, types.ModuleType))


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
    """An arithmetic instruction on ints, floats or strings, evaluated again (``n += 1`` on a counter)."""
    ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv, "%": operator.mod,
           "/": operator.truediv, "**": operator.pow, "<": operator.lt, "<=": operator.le, ">": operator.gt,
           ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "|": operator.or_, "&": operator.and_,
           "^": operator.xor}
    op = ops.get(symbol[:-1] if symbol.endswith("=") and symbol not in ("==", "<=", ">=", "!=") else symbol)
    if op is None:
        return UNKNOWN
    try:
        return op(left, right)
    except Exception:
        return UNKNOWN


_HIDDEN_MODULES = ("time", "secrets", "uuid", "decimal", "_decimal", "_pydecimal")
# datetime's values are values (timedelta(seconds=3), a date's arithmetic); its clocks and what reads the time
# zone or the locale are not
_DATETIME_CLOCKS = {"now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp", "astimezone", "timestamp",
                    "strftime", "__format__"}
_UNSEEDED = {np.random.default_rng, np.random.Generator, np.random.RandomState, np.random.SeedSequence,
             np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64, __import__("random").Random,
             __import__("random").SystemRandom}
_ITERATOR_METHODS = {"__next__", "send", "throw"}


def _refuse_hidden_state(function, args, reader):
    """Values no guard can hold: random numbers (a random generator's method, if the generator comes from
    outside the call or is the module's shared one: ``random.random``, ``np.random.rand``); clocks; the file
    system (``os.stat``, ``open`` to read, a stream's ``read``); ``input()``. (A generator made inside the
    call with a seed is as deterministic as the rest; one made without a seed differs between the two traces,
    which is refused.)"""
    import random

    owner = getattr(function, "__self__", None)
    module = getattr(function, "__module__", None) or ""
    name = getattr(function, "__name__", "")
    shared = (getattr(random, "_inst", None), getattr(np.random.mtrand, "_rand", None))
    generator = isinstance(owner, (random.Random, np.random.Generator, np.random.RandomState))
    # a generator from the system's entropy
    unseeded = _member(function, _UNSEEDED) and not (args and args[0] is not None)
    if (generator and (id(owner) in reader.outside or any(owner is g for g in shared))) or unseeded or \
            module in _HIDDEN_MODULES or name == "urandom" or (module == "random" and owner is None) or \
            (module in ("datetime", "_datetime") and name in _DATETIME_CLOCKS):
        reader._refuse(f"{getattr(function, '__qualname__', function)}() gives a new value on each call, which a "
                       "replay would not; draw random numbers with tg.randn or nn.Dropout (a replay draws again), "
                       "or pass the value as an argument")
    reads_files = (module in ("posix", "nt", "os") and name in _FILE_READS) or function is input or \
        (function in (open, io.open) and "r" in _mode(args)) or \
        (isinstance(owner, io.IOBase) and name in _STREAM_READS) or isinstance(function, type) and \
        issubclass(function, io.IOBase)
    if reads_files:
        reader._refuse(f"{getattr(function, '__qualname__', name)}() reads the file system or a stream, which "
                       "jit cannot guard: a replay would keep what it read while tracing. Read it outside the "
                       "jitted function and pass the value in")


def _effects_table():
    """C functions whose effect a replay would skip (it replays only array ops, bytecode writes and @replayable
    calls), and C getters of process state no guard holds: each is refused inside a jitted function."""
    import bisect
    import gc
    import heapq

    writes = {np.copyto: "writes into an array", np.put: "writes into an array", np.place: "writes into an array",
              np.putmask: "writes into an array", np.put_along_axis: "writes into an array",
              np.fill_diagonal: "writes into an array", np.set_printoptions: "sets NumPy's print options",
              np.random.seed: "seeds NumPy's global generator", np.setbufsize: "sets NumPy's buffer size",
              sys.setrecursionlimit: "sets the recursion limit", sys.setswitchinterval: "sets the switch interval",
              gc.enable: "sets the collector's state", gc.disable: "sets the collector's state",
              gc.set_threshold: "sets the collector's thresholds", type.__setattr__: "writes a class attribute",
              type.__delattr__: "deletes a class attribute"}
    for f in (heapq.heappush, heapq.heappop, heapq.heapify, heapq.heapreplace, heapq.heappushpop,
              bisect.insort, bisect.insort_left, bisect.insort_right):
        writes[f] = "changes a list in place"
    import threading
    import tracemalloc

    reads_extra: dict = {}
    for name in ("write", "pwrite", "writev", "mkdir", "makedirs", "remove", "unlink", "rename", "renames", "replace",
                 "rmdir", "removedirs", "chmod", "chown", "truncate", "ftruncate", "symlink", "link", "utime",
                 "close", "dup2", "lseek"):
        if hasattr(os, name):
            writes[getattr(os, name)] = "changes the file system or a file, which jit cannot replay"
    for f, why in ((os.umask, "sets the file-creation mask"), (sys.settrace, "sets the tracer jit itself uses"),
                   (sys.setprofile, "sets the profiler"), (threading.settrace, "sets the threads' tracer"),
                   (tracemalloc.start, "starts tracing memory"), (tracemalloc.stop, "stops tracing memory")):
        writes[f] = why
    import faulthandler
    import signal

    for name in ("sched_getaffinity", "getpriority", "getloadavg", "cpu_count", "times", "getcwd"):
        if hasattr(os, name):
            reads_more = reads_extra.setdefault("os", [])
            reads_more.append(getattr(os, name))
    reads = {os.getpid: "the process id", os.getppid: "the parent's process id", threading.get_ident: "the thread",
             threading.get_native_id: "the thread", threading.current_thread: "the thread",
             threading.active_count: "the threads running", tracemalloc.is_tracing: "whether memory is traced",
             sys.gettrace: "the tracer", sys.getprofile: "the profiler", signal.getsignal: "a signal's handler",
             faulthandler.is_enabled: "the fault handler's state",
             np.geterr: "NumPy's error state", np.getbufsize: "NumPy's buffer size",
             np.get_printoptions: "NumPy's print options", np.geterrcall: "NumPy's error callback",
             sys.getrecursionlimit: "the recursion limit", sys.getswitchinterval: "the switch interval",
             gc.isenabled: "the collector's state", gc.get_threshold: "the collector's thresholds"}
    for f in reads_extra.get("os", []):
        reads[f] = "the process's state"
    return ({id(f): (f, why) for f, why in writes.items()}, {id(f): (f, why) for f, why in reads.items()})


_EFFECTS: list = []  # [writes, reads], made on first use
_HANDED_OBJECTS = 1024  # objects reachable from one value handed to code jit does not watch, each guarded
_TYPE_ONLY = {isinstance, issubclass, type, id, callable}  # builtins that read only an object's class
# Builtins that, given an instance of a Python class, read it only through its class's dunder (``__len__``,
# ``__repr__``...): Python methods, watched as they run, or object's own, which read the class and id alone.
_BY_DUNDER = {len, iter, hash, bool, str, repr, format, ascii}

# The thread asked for by the standard library's own bookkeeping (reprlib's recursion guard in a dataclass's
# repr): refused only where the user's code asks.
_THREAD_READS = {__import__("threading").get_ident, __import__("threading").get_native_id,
                 __import__("threading").current_thread}
_LOG_CALLS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
_LOCKING = {"acquire", "__enter__", "release", "__exit__", "wait", "notify", "notify_all"}
_MMAP_EFFECTS = {"write", "write_byte", "move", "resize", "seek", "read", "read_byte", "readline", "flush", "close"}
_ARRAY_WRITERS = {"fill", "put", "itemset", "sort", "partition", "resize", "setfield", "setflags"}


def _refuse_unreplayed_effects(function, args, reader, keywords, user=True):
    """A write made by C code (np.copyto, ``a.fill``, ``out=``, heapq, ContextVar.set, the process's settings)
    happens once, while tracing: a replay runs only the array ops, bytecode writes and @replayable calls. And a
    C getter of process state (np.geterr, sys.getrecursionlimit, date.today) returns what no guard holds. Both
    are refused, naming the line; writes into arrays the call made itself are its own, and allowed."""
    import contextvars
    import datetime

    if not _EFFECTS:
        _EFFECTS.extend(_effects_table())
    writes, reads = _EFFECTS
    name = getattr(function, "__qualname__", getattr(function, "__name__", "a function"))
    known = writes.get(id(function))
    if known is not None and known[0] is function:
        target = args[0] if args else None
        if not (isinstance(target, (list, np.ndarray)) and reader._is_fresh(target)):
            reader._refuse(f"{name}() {known[1]}, which a replay would not do again; do it outside the jitted "
                           "function (or, for an array, with tensor operations inside it)")
    known = reads.get(id(function))
    if known is not None and known[0] is function and (user or not _member(function, _THREAD_READS)):
        reader._refuse(f"{name}() reads {known[1]}, which no guard holds: a replay would keep the value read while "
                       "tracing. Read it outside the jitted function and pass it in")
    owner = getattr(function, "__self__", None)
    short = getattr(function, "__name__", "")
    if isinstance(owner, type) and issubclass(owner, datetime.date) and short in ("today", "now", "utcnow"):
        reader._refuse(f"{name}() reads the clock, which gives a new value on each call: a replay would keep the "
                       "traced one. Read it outside the jitted function and pass it in")
    if isinstance(owner, np.ndarray) and short in _ARRAY_WRITERS and not reader._is_fresh(owner):
        reader._refuse(f"ndarray.{short}() writes into an array from outside the call, which a replay would not do "
                       "again; write with a tensor operation, or outside the jitted function")
    if isinstance(owner, np.ufunc) and short in ("at", "reduceat") and short == "at" and args and \
            isinstance(args[0], np.ndarray) and not reader._is_fresh(args[0]):
        reader._refuse(f"{name}() writes into an array from outside the call, which a replay would not do again; "
                       "write with a tensor operation, or outside the jitted function")
    if isinstance(owner, mmap.mmap) and short in _MMAP_EFFECTS:
        reader._refuse(f"mmap.{short}() moves or writes a memory map from outside the call, which a replay would not "
                       "do again; do it outside the jitted function (item assignment mm[i] = v is replayed)")
    if function is ctypes.memmove or function is ctypes.memset:
        reader._refuse("ctypes.memmove() and memset() write memory, which a replay would not do again; do it "
                       "outside the jitted function")
    if isinstance(owner, contextvars.ContextVar) and short == "get":
        reader._refuse("ContextVar.get() reads a context variable, whose value depends on the context the call "
                       "runs in, which no guard holds; read it outside the jitted function and pass it in")
    if isinstance(function, weakref.ref) and not isinstance(function, weakref.WeakMethod):
        referent = function()  # by id while alive (a strong reference in the guard would keep it alive)
        reader.guards.add(("weakref", id(function)), "_weak_same({0}, {1})", function,
                          None if referent is None else id(referent))
    if isinstance(owner, contextvars.ContextVar) and short in ("set", "reset"):
        reader._refuse(f"ContextVar.{short}() changes a context variable, which a replay would not do again; set it "
                       "outside the jitted function")
    if "out" in keywords and (isinstance(function, np.ufunc) or
                              (getattr(function, "__module__", None) or "").startswith("numpy")):
        out = args[len(args) - len(keywords) + keywords.index("out")] if len(args) >= len(keywords) else None
        outs = out if isinstance(out, tuple) else (out,)
        if any(o is UNKNOWN or (isinstance(o, np.ndarray) and not reader._is_fresh(o)) for o in outs):
            reader._refuse(f"{name}(..., out=) writes into an array from outside the call, which a replay would not "
                           "do again; write with a tensor operation, or outside the jitted function")
    elif isinstance(function, np.ufunc) and len(args) > function.nin and \
            any(isinstance(o, np.ndarray) and not reader._is_fresh(o) for o in args[function.nin:]):
        reader._refuse(f"{name}() with an out array writes into an array from outside the call, which a replay "
                       "would not do again; write with a tensor operation, or outside the jitted function")


def _mode(args):
    if len(args) >= 2 and isinstance(args[1], str):
        return args[1]
    return "r"


_ = (math, builtins)
