"""A trace made into a program: one straight Python function of NumPy calls, and its text (jit/__init__.py).

Trace, then guards, then program: this is the program.

* Each ``OpStep`` becomes one line that calls the op's own ``forward`` on
  arrays, and ``function.as_output`` where ``Function.apply`` would fix the
  result (a NumPy scalar, a dtype): a first run on the traced arrays says where.
* Each ``BackwardStep`` becomes the rules the engine ran, in the order it ran
  them (``fn.backward(dz, z, *inputs)``), each gradient summed into the one
  before it for the same tensor, cast where the engine cast it
  (``backward_checks.fitted``), then the engine's own ``_owned`` and
  ``_write_grads`` put them in ``.grad``. The same calls in the same order give
  eager's bits.
* Each ``NoteStep`` and ``CallStep`` is made again; each ``GradStep`` assigns.

Arrays come from their ``Source`` (trace.py): arguments, the Tensors they live
in (read again after any call that may have replaced them), arrays the user
holds (by reference), or the step that made them. No Tensor, Function, graph or
version counter is made on the way, except the Tensors the function returns.

The text is what ``step.program()`` prints: the same lines, with the program's
names, each rule with the derivative its op's docstring states, a gradient used
twice summed with ``+=``.
"""
import inspect
import re

import numpy as np

from ..core import autograd
from ..core.backward_checks import fitted
from ..core.function import as_output
from ..core.jit_seam import JitError
from ..core.tensor import Tensor
from .output import enter_catch, leaving_managers
from .trace import (
    ArgOf,
    Argument,
    BackwardStep,
    CallStep,
    Copied,
    GradStep,
    Held,
    Made,
    NoteStep,
    OpStep,
    Out,
    ReadThrough,
    Slot,
    TensorOf,
    Value,
    _constant,
    _copy_containers,
    emit,
    owner_first,
    refers,
    store,
    walk,
)


def _wrap(array):
    return Tensor._make(array, False)


def _drop(fn):
    """Let go of what an op's forward saved for its rule, once the rule has run, but not the arrays it keeps from
    replay to replay (kept_...) or which inputs need a gradient (set once, when the program is written)."""
    saved = fn.__dict__
    for key in [k for k in saved if k != "needs_input_grad" and not k.startswith("kept_")]:
        del saved[key]


class ShapeChanged(Exception):
    """A replay met a value whose shape depends on the data (a boolean mask's selection, np.nonzero) of another
    shape than the traced call's: what the program holds about it (a mean's divisor, a broadcast) would be stale.
    Raised before the replay has made any effect (jit/__init__.py then tries another program or traces), or,
    after one, as a JitError."""

    def __init__(self, line, effect):
        super().__init__(line)
        self.line, self.effect = line, effect


def _shape_changed(line, effect):
    raise ShapeChanged(line, effect)


def data_shaped(step, trace):
    """A step whose output's shape the data may decide, not its inputs' shapes: an index with an array in it
    (``x[mask]``, ``x[idx]``), an array made outside ops (``np.flatnonzero(m)``, ``argwhere``, scatter's
    winning places), a user's own op (its forward runs again on each replay, and may read what jit does not
    guard). Checked on every replay, whoever reads the shape: a mean's divisor, ``len(sel)`` in the step."""
    if isinstance(step, OpStep):
        return (step.cls.name == "getitem" and not _constant(step.params)) or \
            not step.cls.__module__.startswith("tinygrad_np.")
    return isinstance(step, NoteStep) and isinstance(trace.values[int(step.out)], np.ndarray)


def _one(grads):
    """A one-input rule may return its gradient alone or in a tuple; the engine takes both (autograd._run_plain)."""
    return grads[0] if type(grads) is tuple else grads


class Program:
    """The code of one trace. ``run(*tensors)`` replays it on a call's argument Tensors; ``text`` is what
    ``step.program()`` shows."""

    def __init__(self, trace, names=None):
        self.trace = trace
        self.labels = {}
        for slot, source in enumerate(trace.sources):
            if isinstance(source, ReadThrough) and names and id(source.tensor) in names:
                self.labels[slot] = names[id(source.tensor)]
        self.saves = set()  # op steps whose forward saved arrays on its instance, for its rule
        self.namespace = {"_copy_containers": _copy_containers,
                          "_wrap": _wrap, "_one": _one, "_as_output": as_output, "_fitted": fitted, "_drop": _drop,
                          "_owned": autograd._owned, "_write_grads": autograd._write_grads,
                          "_shape_changed": _shape_changed}
        self.names = {}  # id(object) -> its name in the namespace
        self.code, self.text = [], []
        self.shown = set()  # slots the text has introduced
        self.loaded = set()  # slots read from their Tensor since the last call that may have replaced them
        self.fns = {}  # op step index -> the Function instance the replay runs
        self.counts = {"ops": 0, "passes": 0, "rules": 0, "notes": 0, "calls": []}
        self.effect = None  # the first step made so far that the outside sees (a write, a draw, a backward pass)
        self.wrapped = set()  # slots whose Tensor the replay has made (w<slot>)
        with np.errstate(all="ignore"):
            self._write(trace)
        last_drop = {line: i for i, line in enumerate(self.code) if line.startswith("_drop(")}
        self.code = [line for i, line in enumerate(self.code)  # after an op's last rule only (retain_graph)
                     if not line.startswith("_drop(") or last_drop[line] == i]
        self.code = released_at_last_use(self.code)
        source = "def replay({}):\n".format(", ".join(f"t{i}" for i in range(len(trace.args))))
        source += "".join(f"    {line}\n" for line in self.code)
        self.source = source
        exec(compile(source, "<tinygrad_np.jit program>", "exec"), self.namespace)
        self.run = self.namespace["replay"]
        if any(isinstance(s, CallStep) and s.func is emit and s.args and s.args[0] is enter_catch
               for s in trace.steps):  # a replay that stops with an error leaves the step's catch_warnings
            self.run = leaving_managers(self.run)
        if trace.caught_at is not None:  # the step catches errors around its array work: a replay cannot
            self.run = _saying_why(self.run, trace.caught_at)
        _forget_made_values(trace)


    # ---- naming ---------------------------------------------------------------------------------------------
    def name(self, obj, prefix="c"):
        key = id(obj)
        if key not in self.names:
            self.names[key] = f"{prefix}{len(self.names)}"
            self.namespace[self.names[key]] = obj
        return self.names[key]

    def expr(self, value):
        """Code for a described value (trace.describe)."""
        def one(v):
            if type(v) is Copied:  # made new by each replay, with that replay's tensors
                return _Code(f"_copy_containers({self.expr(v.value)})")
            if isinstance(v, TensorOf):
                return _Code(self._tensor(v))
            if isinstance(v, ArgOf):
                return _Code(f"t{int(v)}")
            if isinstance(v, Slot):
                return _Code(self.slot(v))
            if v is None or type(v) in (bool, int, str) or (type(v) is float and np.isfinite(v)):
                return _Code(repr(v))
            return _Code(self.name(v))

        if isinstance(value, list) and not refers(value):
            return self.name(value)  # the user's list itself: what they put in it later is what a replay reads
        return _code_of(walk(value, one), self.name)

    def slot(self, slot):
        """The local holding slot n, reading it from where it lives first if need be."""
        slot = int(slot)
        source = self.trace.sources[slot]
        if isinstance(source, ReadThrough) and slot not in self.loaded:
            self.code.append(f"v{slot} = {self.name(source.tensor, 'leaf')}._data")
            self.loaded.add(slot)
            if id(self.trace.values[slot]) in self.trace.owners or slot in self.labels:
                self._introduce(slot, f"{self.label(slot)}.data" if slot in self.labels else
                                "the .data of a tensor from outside the call", "read on every replay")
            else:
                self._introduce(slot, "a constant", "made from Python values the guards hold")
        elif isinstance(source, Held) and slot not in self.loaded:
            self.code.append(f"v{slot} = {self.name(source.array, 'held')}")
            self.loaded.add(slot)
            self._introduce(slot, "an array the function reads", "used as it is then, by reference")
        return f"v{slot}"

    def _introduce(self, slot, what, how):
        if slot not in self.shown:
            self.shown.add(slot)
            self.text.append(f"{self.label(slot)} = {what}, {how}{_shape(self.trace.values[slot])}")

    def label(self, slot):
        return self.labels.get(int(slot), f"v{int(slot)}")

    def short(self, value):
        """A described value as the text shows it."""
        def one(v):
            if isinstance(v, (Slot, TensorOf)):
                return _Code(self.label(v))
            if isinstance(v, Tensor):
                for slot, source in enumerate(self.trace.sources):
                    if isinstance(source, ReadThrough) and source.tensor is v:
                        return _Code(self.label(slot))
            return _Code(_short(v))
        return _code_of(walk(value, one), self.name)

    # ---- writing --------------------------------------------------------------------------------------------
    def _write(self, trace):
        for slot, source in enumerate(trace.sources):
            if isinstance(source, Argument) and trace.input_slots[source.index] == slot:
                self.code.append(f"v{slot} = t{source.index}._data")
                self.shown.add(slot)
                self.text.append(f"v{slot} = argument {source.index}{_shape(trace.values[slot])}")
        self.text.append("# forward")
        for index, step in enumerate(trace.steps):
            if isinstance(step, OpStep):
                self._op(index, step)
            elif isinstance(step, NoteStep):
                self._note(step)
            elif isinstance(step, CallStep):
                self._call(step)
            elif isinstance(step, GradStep):
                self._grad(step)
            elif isinstance(step, BackwardStep):
                self._backward(step)
            if self.effect is None and (isinstance(step, (CallStep, GradStep, BackwardStep)) or
                                        (isinstance(step, NoteStep) and step.random)):
                self.effect = getattr(step, "line", "a backward pass")
        self.code.append("return " + self._result(trace.result))

    def _op(self, index, step):
        self.counts["ops"] += 1
        fn = self.fns[index] = step.cls()  # the instance the replay runs: its forward keeps what its rule needs
        fn.needs_input_grad = step.needs
        arrays = tuple(self.trace.values[int(s)] for s in step.inputs)
        if step.cls.__module__.startswith("tinygrad_np."):  # the library's own op: run once more, to see what
            first = step.cls()  # its forward returns and keeps
            first.needs_input_grad = step.needs
            raw = first.forward(*arrays, **walk(step.params, self._traced))
            if any(isinstance(v, np.ndarray) for k, v in vars(first).items() if not k.startswith("kept_")):
                self.saves.add(index)
        else:  # a user's op: its forward may print, count or draw, which eager does once a call (so: not again)
            raw = self.trace.values[int(step.out)]
            self.saves.add(index)
        inputs = [self.slot(s) for s in step.inputs]
        params = [f"{k}={self.expr(v)}" for k, v in step.params.items()]
        call = f"{self.name(fn.forward, 'f')}({', '.join(inputs + params)})"
        if type(raw) is not np.ndarray or (arrays and raw.dtype is not arrays[0].dtype) or \
                not step.cls.__module__.startswith("tinygrad_np."):  # a user's op: its dtype may depend on a flag
            call = f"_as_output({self.name(step.cls, 'op')}, {call}, ({', '.join(inputs)}{',' * (len(inputs) == 1)}))"
        self.code.append(f"v{step.out} = {call}")
        if data_shaped(step, self.trace):
            self._shape_check(step.out, step.line)
        self.shown.add(int(step.out))
        shown = ", ".join([self.label(s) for s in step.inputs]
                          + [f"{k}={self.short(v)}" for k, v in step.params.items()])
        self.text.append(f"{self.label(step.out)} = {step.cls.name}({shown}){_shape(self.trace.values[int(step.out)])}")

    def _tensor(self, slot):
        """The Tensor around slot's array, made once per replay: stored into a history and returned, it is one
        object, as eager's is (``record = {"loss": loss}; history.append(record); return loss``)."""
        name = f"w{int(slot)}"
        if int(slot) not in self.wrapped:
            self.wrapped.add(int(slot))
            self.code.append(f"{name} = _wrap({self.slot(slot)})")
        return name

    def _shape_check(self, slot, line):
        """After a value whose shape its data decide: the traced shape, or the replay stops (ShapeChanged)."""
        value = self.trace.values[int(slot)]
        if not isinstance(value, np.ndarray):
            return
        shape = value.shape
        self.code.append(f"if v{slot}.shape != {shape!r}: _shape_changed({line!r}, {self.effect!r})")

    def _traced(self, value):
        """A described value as it was while tracing (for the first run of an op's forward)."""
        if isinstance(value, TensorOf):
            return _wrap(self.trace.values[int(value)])
        if isinstance(value, ArgOf):
            return self.trace.args[int(value)]
        if isinstance(value, Slot):
            return self.trace.values[int(value)]
        return value

    def _note(self, step):
        self.counts["notes"] += 1
        args = ", ".join(self.expr(a) for a in step.args)
        self.code.append(f"v{step.out} = {self.name(step.func, 'n')}({args})")
        if data_shaped(step, self.trace):
            self._shape_check(step.out, step.line)
        self.shown.add(int(step.out))
        for i, part in enumerate(step.parts):
            if part is not None:
                self.code.append(f"v{part} = v{step.out}[{i}]")
                self.shown.add(int(part))
        what, shown = getattr(step.func, "__name__", "note"), ", ".join(self.short(a) for a in step.args)
        self.text.append(f"v{step.out} = {what}({shown}){_shape(self.trace.values[int(step.out)])}"
                         + ("   (random: drawn again on each replay)" if step.random else ""))

    def _call(self, step):
        args = [self.expr(a) for a in step.args] + [f"{k}={self.expr(v)}" for k, v in step.kwargs.items()]
        if step.func is store and len(step.args) >= 2 and owner_first(step.args[0]):
            args[1] = self.name(step.args[1])  # the object written into itself (expr would rebuild a dict)
        call = f"{self.name(step.func, 'call')}({', '.join(args)})"
        what = _call_text(step)
        self.counts["calls"].append(what.split("   #")[0])
        if step.out is None:
            self.code.append(call)
            self.text.append(what)
        else:
            self.code.append(f"v{step.out} = {call}" + ("._data" if step.returns_tensor else ""))
            self.shown.add(int(step.out))
            self.text.append(f"v{step.out} = {what}")
        self.loaded.clear()  # the call may have given a tensor a new array (p.data = ...)

    def _grad(self, step):
        value = "None" if step.value is None else self.expr(step.value)
        self.code.append(f"{self.expr(step.tensor)}.grad = {value}")
        self.text.append(f"{self.short(step.tensor)}.grad = {'None' if step.value is None else self.short(step.value)}")

    def _backward(self, step):
        """The rules the engine ran, in its order (trace.BackwardStep), then its own end of the pass."""
        self.counts["passes"] += 1
        steps, names, shown = self.trace.steps, {}, {}  # node -> its gradient's local and its name in the text
        root = self.label(step.root_slot)
        self.text.append(f"# backward from {root}, at {step.line}: the rules the engine ran, newest op first")
        seed_code = self.expr(step.seed) if not isinstance(step.seed, np.ndarray) else self.name(step.seed, "seed")
        names[step.root] = f"g{int(step.root_slot)}"
        shown[step.root] = "d" + root
        self.code.append(f"{names[step.root]} = {seed_code}")
        seed_text = "1" if isinstance(step.seed, np.ndarray) and step.seed.size == 1 else self.short(step.seed)
        self.text.append(f"d{root} = {seed_text}")
        for rule in step.rules:
            self.counts["rules"] += 1
            op, fn = steps[rule.op], self.fns[rule.op]
            inputs = [self.slot(s) for s in op.inputs]
            call = f"{self.name(fn.backward, 'b')}({names[('op', rule.op)]}, v{op.out}, {', '.join(inputs)})"
            self.code.append(f"r = _one({call})" if len(op.inputs) == 1 else f"r = {call}")
            if rule.op in self.saves:  # what its forward saved goes now, as eager's release() lets it go
                self.code.append(f"_drop({self.name(fn, 'fn')})")
            targets, extra, formulas = [], [], _formulas(op.cls)
            for c in rule.contributions:
                value = "r" if len(op.inputs) == 1 else f"r[{c.position}]"
                x = op.inputs[c.position]
                if c.fitted:
                    value = f"_fitted({self.name(fn, 'fn')}, {value}, {self.slot(x)})"
                first = c.node not in names
                if first:
                    names[c.node] = f"g{int(x)}" if c.node[0] == "op" else f"gl{c.node[1]}"
                    shown[c.node] = "d" + self.label(x)
                    self.code.append(f"{names[c.node]} = {value}")
                else:
                    self.code.append(f"{names[c.node]} = {names[c.node]} + {value}")
                formula = formulas.get(c.position)
                if formula is not None:
                    formula = _rename(formula, op, self.label, shown[('op', rule.op)])
                targets.append((shown[c.node], first, formula))
            inputs_shown = ", ".join(self.label(s) for s in op.inputs)
            rule_text = f"{op.cls.name}.backward({shown[('op', rule.op)]}, {self.label(op.out)}, {inputs_shown})"
            self.text.extend(_rule_text(targets, rule_text, extra))
        finished = ", ".join(f"{self.expr(described)}: {names[('leaf', number)]}"
                             for number, described, _ in step.leaves)
        if step.leaves:
            seed_tensor = f"_wrap({names[step.root]})" if step.root[0] == "leaf" else f"_wrap({seed_code})"
            self.code.append(f"_write_grads(_owned({{{finished}}}, ({seed_tensor},)))")
        for _, described, slot in step.leaves:
            self.code.append(f"v{slot} = {self.expr(described)}._grad._data")
            self.shown.add(int(slot))
            name = self.short(described)
            self.text.append(f"{name}.grad += d{name}   (or = d{name}, if it has none)")
        self.loaded.clear()

    def _result(self, template):
        def one(v):
            if isinstance(v, Out):
                if v.as_tensor and not v.copied:
                    return _Code(self._tensor(v.slot))
                slot = self.slot(v.slot) + (".copy()" if v.copied else "")
                return _Code(f"_wrap({slot})" if v.as_tensor else slot)
            if isinstance(v, Value) and isinstance(v.value, (list, dict)):
                return _Code(self.name(v.value))  # a list or dict from outside the call: that very one
            if isinstance(v, Value):
                return _Code(self.expr(v.value) if v.value is not None else "None")
            return _Code(self.expr(v))
        return _code_of(walk(template, one), self.name)


def _saying_why(replay, line):
    """The replay of a step that catches errors of its array work (a try/except at ``line``): an error raised in
    a replay is one eager would have caught there and gone on from, which a replay (no Python) cannot; say so."""
    def run(*tensors):
        try:
            return replay(*tensors)
        except Exception as error:
            raise JitError(f"jit: a replay raised {type(error).__name__} ({error}) in array work that the step runs "
                           f"inside a try/except (at {line}): eager would have caught it and run the except: block, "
                           "which a replay cannot. The step's effects up to the error may have been made. Check the "
                           "condition before the array work, or run this step without jit") from error

    return run


def _forget_made_values(trace):
    """The arrays the traced call made, kept by the trace only for their shapes and dtypes from now on: a
    zero-stride stand-in each, so that a program does not hold a whole step's activations and gradients for as
    long as it lives (on the residual CNN, 200 MB). The arrays a replay reads from outside stay as they are."""
    for slot, source in enumerate(trace.sources):
        value = trace.values[slot]
        if isinstance(source, Made) and isinstance(value, np.ndarray) and value.strides != (0,) * value.ndim:
            trace.values[slot] = np.broadcast_to(np.zeros((), value.dtype), value.shape)


# ---- memory: each array let go at its last use --------------------------------------------------------------------
_LOCAL = re.compile(r"(?<![\w.])(v\d+|g\d+|gl\d+|r)(?!\w)")  # the program's locals: slots, gradients, a rule's result
_ASSIGNED = re.compile(r"^(v\d+|g\d+|gl\d+|r) = (.*)$")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def released_at_last_use(code):
    """The program's lines with ``del`` after each local's last use.

    Eager frees an intermediate as soon as backward has passed through the op
    that saved it; a straight-line function keeps every local to its end, so a
    replay would hold the whole step's activations and gradients at once (1.9
    times eager's peak on a residual CNN) and fault in that many fresh pages.
    A backward walk over the lines finds, for each line, the locals no later
    line reads before assigning them again; they are deleted right after it.
    Only the local goes: an array still held elsewhere (a .grad, a returned
    value, a Tensor from outside) lives on.
    """
    reads, writes = [], []
    for line in code:
        plain = _QUOTED.sub("''", line)
        assigned = _ASSIGNED.match(plain)
        target, rest = (assigned.group(1), assigned.group(2)) if assigned else (None, plain)
        reads.append(set(_LOCAL.findall(rest)))
        writes.append({target} if target else set())
    dead_after = [()] * len(code)
    live: set = set()
    for i in range(len(code) - 1, -1, -1):
        dead_after[i] = sorted((reads[i] | writes[i]) - live)
        live = (live - writes[i]) | reads[i]
    defined: set = set()
    out = []
    for i, line in enumerate(code):
        out.append(line)
        defined |= writes[i]
        gone = [name for name in dead_after[i] if name in defined]
        if gone and i < len(code) - 1:
            out.append("del " + ", ".join(gone))
            defined -= set(gone)
    return out


class _Code(str):
    """A piece of code, among the items of a container being written as code."""


def _code_of(value, name):
    """Code for a value whose leaves are _Code: tuples (named ones as their class, which ``name`` puts in the
    program's namespace), lists and dicts written around them."""
    if isinstance(value, _Code):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_code_of(v, name)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)):
        items = [_code_of(v, name) for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        if hasattr(type(value), "_fields"):  # a named tuple (sort's values, indices): rebuilt as its own class
            return f"{name(type(value))}({', '.join(items)})"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return repr(value)


def _rule_text(targets, rule_text, extra):
    """A rule as the text shows it: ``dx, dy = rule(...)   # dx = ..., dy = ...``; a gradient that adds to
    one its tensor already has (a weight used twice) reads ``dW += ...``."""
    if not targets:
        return [f"_ = {rule_text}"]
    if len(targets) == 1:
        name, first, formula = targets[0]
        op = "=" if first else "+="
        return [f"{name} {op} {rule_text}" + (f"   # {name} {op} {formula}" if formula else "")]
    lines, names, notes = [], [], []
    for i, (name, first, formula) in enumerate(targets):
        local = name if first else f"{name}_{i}"
        names.append(local)
        if formula:
            notes.append(f"{local} = {formula}")
        if not first:
            lines.append(f"{name} += {local}   (its tensor is used again: the gradients add up)")
    return [f"{', '.join(names)} = {rule_text}" + (f"   # {', '.join(notes)}" if notes else "")] + lines


_FORMULAS: dict = {}  # op class -> its formulas


def _formulas(cls):
    """{input position: its gradient's formula} from the op's docstring ("dL/dx = dL/dz * [x > 0]")."""
    if cls in _FORMULAS:
        return _FORMULAS[cls]
    doc = " ".join(line.strip() for line in (cls.__doc__ or "").splitlines())
    params = [p.name for p in inspect.signature(cls.forward).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
    found = {}
    for name, formula in re.findall(r"dL/d(\w+)\s*=\s*(.+?)(?=,\s*dL/d|\s{2,}|\.\s|;|\.$|$)", doc):
        formula = formula.strip().rstrip(",.")
        if name in params and params.index(name) not in found and formula:
            found[params.index(name)] = (formula, params)
    _FORMULAS[cls] = found
    return found


def _rename(formula, op, label, dz):
    """A docstring's formula in the program's names: its inputs, its output z, and dL/dz."""
    text, params = formula
    names = {p: label(s) for p, s in zip(params, op.inputs, strict=False)}
    names["z"] = label(op.out)
    text = text.replace("dL/dz", "\0")
    text = re.sub(r"(?<![A-Za-z0-9_/])(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z0-9_])",
                  lambda m: names[m.group(1)], text)
    return text.replace("\0", dz)


def _shape(value):
    if isinstance(value, tuple):
        return "   # (" + ", ".join(_shape(v)[5:] for v in value) + ")"
    array = np.asarray(value)
    return f"   # {tuple(array.shape)} {array.dtype}"


def _call_text(step):
    """A replayed call as the text shows it: ``SGD.step()`` and the first line of SGD's doc (its update)."""
    if step.func is emit and step.args:  # output: print(...), info(...), write(...)
        return f"{getattr(step.args[0], '__name__', 'output')}(...)"
    name = getattr(step.func, "__name__", "call")
    owner = step.args[0] if step.args else None
    if owner is not None and getattr(type(owner), name, None) is not None and not isinstance(owner, (list, tuple)):
        doc = (type(owner).__doc__ or "").strip().splitlines()
        return f"{type(owner).__name__}.{name}()" + (f"   # {doc[0]}" if doc and name == "step" else "")
    return f"{name}(...)"


def _short(value):
    if isinstance(value, ArgOf):
        return f"argument {int(value)}"
    if isinstance(value, np.ndarray):
        return f"array{tuple(value.shape)}" if value.size > 4 else np.array2string(value, separator=",")
    if isinstance(value, Tensor):
        return f"tensor{tuple(value.shape)}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    text = repr(value)
    return text if len(text) <= 30 else type(value).__name__


__all__ = ["Program", "Made"]
