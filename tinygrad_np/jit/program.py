"""A trace made into a program: one straight Python function of NumPy calls, and its text (jit/__init__.py).

Each op of the trace becomes one line that calls the op's own ``forward`` on
arrays; each op the backward pass visits, one line that calls its one rule
(``backward(dz, z, *inputs)``), in the order the engine visited them, with the
same sums in the same order, so a replay gives the bits eager gives. No
Tensor, Function, graph or version counter is made on the way. Calls with
effects (an optimizer's step) are made again, with that replay's values.

Before the code is written, the program runs once on the traced arrays
("dry run"): it learns which op returns a NumPy scalar or a dtype that
``Function.apply`` would fix, and which gradient the engine would cast or skip,
so the code does that fixing only on the lines that need it.
"""
import numpy as np

from ..core import autograd
from ..core.function import _keep_input_dtype
from ..core.tensor import Tensor
from .trace import ArgOf, Out, Slot, TensorOf, Value, refers


def _output(data, arrays, preserves_dtype):
    """What Function.apply does to a forward's result, on the lines the dry run found it needed."""
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    if arrays and data.dtype is not arrays[0].dtype and preserves_dtype and data.dtype.kind == "f":
        data = _keep_input_dtype(data, arrays)
    return data


def _wrap(array):
    return Tensor._make(array, False)


class Program:
    """The code of one trace. ``run(*tensors)`` replays it on a call's argument Tensors; ``text`` is what
    ``step.program()`` shows."""

    def __init__(self, trace, names=None):
        self.trace = trace
        self.labels = {slot: names[id(t)] for slot, t in trace.leaves.items() if names and id(t) in names}
        self.namespace = {"_output": _output, "_wrap": _wrap, "_grad_lock": autograd._grad_lock,
                          "_accumulated": autograd._accumulated}
        self.names = {}  # id(object) -> its name in the namespace
        self.code, self.text = [], []
        self.shown = set()  # leaf slots the text has introduced
        self.loaded = set()  # leaf slots read into a local since the last call that may have replaced them
        self.dry = {}  # slot -> array, on the dry run
        self.fns = {}  # op step index -> the Function instance the replay runs
        self.dry_fns = {}  # op step index -> the instance the dry run ran (its saved state feeds its rule there)
        with np.errstate(all="ignore"):
            self._write(trace)
        source = "def replay({}):\n".format(", ".join(f"t{i}" for i in range(len(trace.args))))
        source += "".join(f"    {line}\n" for line in self.code)
        self.source = source
        exec(compile(source, "<tinygrad_np.jit program>", "exec"), self.namespace)
        self.run = self.namespace["replay"]

    # ---- naming ---------------------------------------------------------------------------------------------
    def name(self, obj, prefix="c"):
        key = id(obj)
        if key not in self.names:
            self.names[key] = f"{prefix}{len(self.names)}"
            self.namespace[self.names[key]] = obj
        return self.names[key]

    def expr(self, value):
        """Code for a step's argument (see Trace.describe)."""
        if isinstance(value, TensorOf):
            return f"_wrap({self.slot(value)})"
        if isinstance(value, ArgOf):
            return f"t{int(value)}"
        if isinstance(value, Slot):
            return self.slot(value)
        if isinstance(value, list) and not refers(value):
            return self.name(value)  # the user's list itself: what they put in it later is what a replay reads
        if isinstance(value, (tuple, list, dict)):
            return _container(value, self.expr)
        if value is None or type(value) in (bool, int, str) or type(value) is float and np.isfinite(value):
            return repr(value)
        return self.name(value)

    def slot(self, slot):
        """The local holding slot n, reading a leaf's array from its tensor first if need be."""
        slot = int(slot)
        if slot in self.trace.leaves and slot not in self.loaded:
            self.code.append(f"v{slot} = {self.name(self.trace.leaves[slot], 'leaf')}._data")
            if slot not in self.shown:
                self.shown.add(slot)
                what = f"{self.label(slot)}.data" if slot in self.labels else "the .data of a tensor made elsewhere"
                self.text.append(f"{self.label(slot)} = {what}, read on every replay{_shape(self.trace.values[slot])}")
            self.loaded.add(slot)
        return f"v{slot}"

    def dry_value(self, value):
        """The traced value of a step's argument, for the dry run."""
        if isinstance(value, TensorOf):
            return _wrap(self.dry_slot(value))
        if isinstance(value, ArgOf):
            return self.trace.args[int(value)]
        if isinstance(value, Slot):
            return self.dry_slot(value)
        if isinstance(value, (tuple, list)):
            return type(value)(self.dry_value(v) for v in value)
        if isinstance(value, dict):
            return {k: self.dry_value(v) for k, v in value.items()}
        return value

    def dry_slot(self, slot):
        return self.dry.get(int(slot), self.trace.values[int(slot)])

    # ---- writing --------------------------------------------------------------------------------------------
    def _write(self, trace):
        read = set()
        for i, (t, slot) in enumerate(zip(trace.args, trace.input_slots, strict=True)):
            if slot not in read:  # the same array passed twice is read once
                read.add(slot)
                self.code.append(f"v{slot} = t{i}._data")
                self.text.append(f"v{slot} = argument {i}{_shape(t._data)}")
        self.text.append("# forward")
        for index, step in enumerate(trace.steps):
            getattr(self, "_" + step.kind)(index, step)
        self.code.append("return " + self._result(trace.result))

    def _op(self, index, step):
        fn = self.fns[index] = step.cls()  # the instance the replay runs
        fn.needs_input_grad = step.needs
        dry = step.cls()
        dry.needs_input_grad = step.needs
        arrays = [self.dry_slot(s) for s in step.inputs]
        raw = dry.forward(*arrays, **self.dry_value(step.params))
        self.dry_fns[index] = dry
        fixed = _output(raw, tuple(arrays), step.cls.preserves_dtype)
        self.dry[int(step.out)] = fixed
        args = [self.slot(s) for s in step.inputs] + [f"{k}={self.expr(v)}" for k, v in step.params.items()]
        call = f"{self.name(fn.forward, 'f')}({', '.join(args)})"
        if fixed is not raw:
            inputs = ", ".join(self.slot(s) for s in step.inputs)
            call = f"_output({call}, ({inputs}{',' if len(step.inputs) == 1 else ''}), {step.cls.preserves_dtype})"
        self.code.append(f"v{step.out} = {call}")
        shown = ", ".join([self.label(s) for s in step.inputs]
                          + [f"{k}={self.short(v)}" for k, v in step.params.items()])
        self.text.append(f"v{step.out} = {step.cls.name}({shown}){_shape(fixed)}")

    def _note(self, index, step):
        self.dry[int(step.out)] = self.trace.values[int(step.out)]  # the traced draw: the dry run draws nothing
        args = ", ".join(self.expr(a) for a in step.args)
        self.code.append(f"v{step.out} = {self.name(step.func, 'n')}({args})")
        what, shown = getattr(step.func, "__name__", "note"), ", ".join(self.short(a) for a in step.args)
        self.text.append(f"v{step.out} = {what}({shown}){_shape(self.dry[int(step.out)])}"
                         + ("   (random: drawn again on each replay)" if step.random else ""))

    def _call(self, index, step):
        args = [self.expr(a) for a in step.args] + [f"{k}={self.expr(v)}" for k, v in step.kwargs.items()]
        call = f"{self.name(step.func, 'call')}({', '.join(args)})"
        what = _call_text(step)
        if step.out is None:
            self.code.append(call)
            self.text.append(what)
        else:
            self.code.append(f"v{step.out} = {call}" + ("._data" if step.returns_tensor else ""))
            self.text.append(f"v{step.out} = {what}")
        self.loaded.clear()  # the call may have given a tensor a new array (p.data = ...)

    def _grad(self, index, step):
        value = "None" if step.value is None else self.expr(step.value)
        self.code.append(f"{self.expr(step.tensor)}.grad = {value}")
        self.text.append(f"{self.short(step.tensor)}.grad = {'None' if step.value is None else self.short(step.value)}")

    def _backward(self, index, step):
        """The engine's walk over the recorded graph (autograd._backpropagate), written out."""
        steps, names, pending = self.trace.steps, {}, {}  # node -> local name; node -> dry gradient
        leaves = []  # in the order their first gradient arrived: the order .grad is written in

        def gradient_name(node):
            if node not in names:
                names[node] = f"g{node[1]}" if node[0] == "op" else f"gl{len(names)}"
            return names[node]

        def contribute(node, code, value):
            first = node not in pending
            target = gradient_name(node)
            self.code.append(f"{target} = {code}" if first else f"{target} = {target} + {code}")
            pending[node] = value if first else pending[node] + value
            if first and node[0] == "leaf":
                leaves.append(node[1])
            return first

        self.text.append(f"# backward from {self.label(self._root_slot(step.root))}, at {step.line}: each op's rule, "
                         "newest op first")
        seed = self.dry_value(step.seed)
        seed_text = "1" if isinstance(step.seed, np.ndarray) and step.seed.size == 1 else self.short(step.seed)
        self.text.append(f"d{self.label(self._root_slot(step.root))} = {seed_text}")
        queue = []
        if contribute(step.root, self.expr(step.seed), seed) and step.root[0] == "op":
            queue.append(step.root[1])
        while queue:
            k = max(queue)  # the newest op: every consumer has passed its share back
            queue.remove(k)
            op, fn, dry = steps[k], self.fns[k], self.dry_fns[k]
            node = ("op", k)
            g, g_dry = names[node], pending[node]
            inputs = [self.slot(s) for s in op.inputs]
            grads = dry.backward(g_dry, self.dry[int(op.out)], *[self.dry_slot(s) for s in op.inputs])
            single = type(grads) is not tuple
            grads = (grads,) if single else grads
            if len(grads) != len(op.inputs):
                raise autograd.broken_contract(dry, grads)
            self.code.append(f"r = {self.name(fn.backward, 'b')}({g}, v{op.out}, {', '.join(inputs)})")
            passed = []
            for i, (gx, need, in_node) in enumerate(zip(grads, op.needs, op.nodes, strict=True)):
                if gx is None or not need:
                    continue
                code = "r" if single else f"r[{i}]"
                target = self.dry_slot(op.inputs[i])
                if gx.shape != target.shape:
                    raise RuntimeError(f"{op.cls.name}.backward returned a gradient of shape {gx.shape} for an "
                                       f"input of shape {target.shape}")
                if gx.dtype is not target.dtype:
                    code, gx = f"{code}.astype({self.name(target.dtype, 'dtype')})", gx.astype(target.dtype)
                if contribute(in_node, code, gx) and in_node[0] == "op":
                    queue.append(in_node[1])
                passed.append("d" + self.label(op.inputs[i]))
            inputs_shown = ", ".join(self.label(s) for s in op.inputs)
            self.text.append(f"{', '.join(passed) or '_'} = {op.cls.name}.backward(dv{op.out}, v{op.out}, "
                             f"{inputs_shown})")
        self._finish(step, leaves, names, pending, seed)
        for t in leaves:
            described, slot = step.leaves[id(t)]
            self.code.append(f"v{slot} = {self.expr(described)}._grad._data")
            self.dry[int(slot)] = self.trace.values[int(slot)]
            shown = self.short(described)
            self.text.append(f"{shown}.grad = d{shown}   (added to it if it already has one)")
        self.loaded.clear()

    def _finish(self, step, leaves, names, pending, seed):
        """The end of autograd.backward, written out: each gradient its own array (autograd._owned: the dry run
        shows which share one, since sharing is decided by the rules, not the values), then added to .grad."""
        taken = {id(seed)}
        self.code.append("with _grad_lock:")
        for t in leaves:
            g, code = pending[("leaf", t)], names[("leaf", t)]
            if id(g) in taken or (g.base is not None and not g.flags.writeable):
                g, code = g.copy(), code + ".copy()"
            taken.add(id(g))
            target = self.expr(step.leaves[id(t)][0])
            self.code.append(f"    t = {target}")
            self.code.append(f"    t._grad = _wrap({code}) if t._grad is None else _accumulated(t, _wrap({code}))")

    def label(self, slot):
        return self.labels.get(int(slot), f"v{int(slot)}")

    def short(self, value):
        """A step's argument as the program's text shows it."""
        if isinstance(value, Tensor):
            slot = self.trace.slot_of.get(id(value._data))
            if slot is not None and self.trace.leaves.get(slot) is value:
                return self.label(slot)
        if isinstance(value, (Slot, TensorOf)):
            return self.label(value)
        if isinstance(value, tuple):
            return "(" + ", ".join(self.short(v) for v in value) + ("," if len(value) == 1 else "") + ")"
        return _short(value)

    def _root_slot(self, node):
        return self.trace.steps[node[1]].out if node[0] == "op" else self.trace.slot_of[id(node[1]._data)]

    def _result(self, template):
        if isinstance(template, Out):
            slot = self.slot(template.slot)
            return f"_wrap({slot})" if template.as_tensor else slot
        if isinstance(template, Value):
            return self.expr(template.value) if template.value is not None else "None"
        if isinstance(template, (tuple, list, dict)):
            return _container(template, self._result)
        raise TypeError(f"jit: cannot return {type(template).__name__}")


def _container(value, code_of):
    """Code for a tuple, list or dict, each item's code from ``code_of``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {code_of(v)}" for k, v in value.items()) + "}"
    items = [code_of(v) for v in value]
    if isinstance(value, list):
        return "[" + ", ".join(items) + "]"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _shape(array):
    array = np.asarray(array)
    return f"   # {tuple(array.shape)} {array.dtype}"


def _call_text(step):
    """A replayed call as the text shows it: ``SGD.step()`` and the first line of SGD's doc (its update)."""
    name = getattr(step.func, "__name__", "call")
    owner = step.args[0] if step.args else None
    if owner is not None and getattr(type(owner), name, None) is not None and not isinstance(owner, (list, tuple)):
        doc = (type(owner).__doc__ or "").strip().splitlines()
        return f"{type(owner).__name__}.{name}()" + (f"   # {doc[0]}" if doc and name == "step" else "")
    return f"{name}(...)"


def _short(value):
    """A step's argument as the program's text shows it."""
    if isinstance(value, (Slot, TensorOf)):
        return f"v{int(value)}"
    if isinstance(value, ArgOf):
        return f"argument {int(value)}"
    if isinstance(value, np.ndarray):
        return f"array{tuple(value.shape)}" if value.size > 4 else np.array2string(value, separator=",")
    if isinstance(value, Tensor):
        return f"tensor{tuple(value.shape)}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    text = repr(value)
    return text if len(text) <= 30 else type(value).__name__
