"""``tg.checkpoint(fn, *args)``: memory traded for computation, as ``torch.utils.checkpoint``.

Backward needs what forward kept: each recorded op holds its inputs' arrays until backward has used them
(docs/how_it_works.md), so a training step's memory grows with the depth of the net. ``checkpoint(fn, x)``
runs fn, then empties what fn's ops saved for backward and the arrays of the tensors made inside fn: the
graph keeps its shape (every op, every link), but of fn's arrays only its output stays. When backward reaches
fn's output, before any of fn's ops is differentiated, fn runs again, on the same arguments, and the
recomputed arrays are put back where they were; backward then goes on through fn's ops as if nothing had
happened. So the gradients are the gradients without checkpoint, to the last bit: the same rules, run on the
same values, adding into each gradient in the same order. The price is a second forward pass of fn.

Checkpoint every k layers of an n-layer chain and the step holds n/k layer outputs plus, at most, one
segment of k layers: with k = √n memory grows as √n instead of n (docs/lessons/memory_and_recompute.md
measures it).

If fn gives a different output when run again (a random draw inside it, such as a dropout mask, or a tensor
it reads that changed in place), backward refuses, rather than return gradients of something forward did
not compute. Tensors made inside fn other than its outputs are emptied: their values read as NaN until
backward refills them. Refused too, with an error saying so: checkpoint inside a jitted function or inside
func.vmap.
"""
import weakref

import numpy as np

from .core.engine_hooks import add, hooks, in_use, remove
from .core.grad_mode import enable_grad, is_grad_enabled
from .core.jit_seam import refuse_in_trace
from .core.tensor import Tensor

__all__ = ["checkpoint"]

_STRUCTURE = ("inputs", "seq", "needs_input_grad")  # what an emptied op keeps: its place in the graph


def checkpoint(function, *args, **kwargs):
    """``function(*args, **kwargs)``, keeping none of its intermediate arrays for backward: backward runs it again
    to get them back. ``function`` returns a Tensor or a tuple of Tensors. See the module's doc."""
    refuse_in_trace("tg.checkpoint", "a replay runs the recorded array operations, and cannot run the function "
                    "again in backward")
    if in_use.watching and hooks.vmap is not None:
        raise RuntimeError("checkpoint: inside func.vmap, checkpoint is not supported; call the function directly")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    ops, made = _run(function, args, kwargs)
    result = ops.pop()
    outputs = result if isinstance(result, tuple) else (result,)
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"checkpoint: the function must return a Tensor or a tuple of Tensors; output {i} is a "
                            f"{type(out).__name__}")
    if any(out.requires_grad for out in outputs):
        _Segment(function, args, kwargs, ops, made, outputs)
        _kept_nothing(len(ops))
    return result


def _kept_nothing(count):
    """Tell any profiler watching (see/profiler.py) that the last ``count`` ops it saw keep nothing for backward
    after all: their saved arrays were just dropped. A profile's events are its own thread's, in order."""
    from .see.profiler import profile

    for hook in hooks.forward:
        owner = getattr(hook, "__self__", None)
        if isinstance(owner, profile):
            forward = [e for e in owner.events[::-1] if e["phase"] == "forward"][:count]
            for event in forward:
                event["saved_bytes"] = 0


def _run(function, args, kwargs):
    """Run function, recording; [every op it ran, in order (the recorded ones linked into the graph), result],
    and the ids of the arrays its ops made."""
    ops, made = [], set()

    def spy(fn, inputs, params):
        data = yield
        ops.append(fn)
        made.add(id(data))

    add("forward", spy)
    try:
        with enable_grad():
            result = function(*args, **kwargs)
    finally:
        remove("forward", spy)
    return ops + [result], made


class _Segment:
    """One checkpointed call, emptied after forward and refilled when backward reaches one of its outputs (a
    gradient hook on each, which the backward loop runs before going on past it)."""

    def __init__(self, function, args, kwargs, ops, made, outputs):
        self.function, self.args, self.kwargs = function, args, kwargs
        # Weakly: the hooks (and so this segment) live in the engine's hook registry until the outputs die, which
        # a reference from here would never let happen.
        self.outputs = [weakref.ref(out) for out in outputs]
        self.ops = [fn for fn in ops if fn.inputs is not None]  # the recorded ones, in the order they ran
        keep = {id(out) for out in outputs}
        self.emptied = []  # the tensors made inside fn whose arrays were dropped
        for fn in self.ops:
            for t in fn.inputs:
                if id(t._data) in made and id(t) not in keep and not _is_placeholder(t._data):
                    t._data = _placeholder(t._data)
                    self.emptied.append(t)
            saved = {k: fn.__dict__[k] for k in _STRUCTURE}
            fn.__dict__.clear()  # arrays, and whatever forward saved (softmax probabilities, masks)
            fn.__dict__.update(saved)
        self.handles = [out.register_hook(self.refill) for out in outputs if out.requires_grad]

    def refill(self, grad):
        """Run fn again and put its arrays back, before backward differentiates any of its ops."""
        if self.handles is None:
            return None
        stand_ins = [Tensor._make(a._data, a.requires_grad) if isinstance(a, Tensor) else a for a in self.args]
        ops, _ = _run(self.function, stand_ins, self.kwargs)  # stand-ins, so that this run links to nothing
        result = ops.pop()
        again = result if isinstance(result, tuple) else (result,)
        ops = [fn for fn in ops if fn.inputs is not None]
        outputs = [ref() for ref in self.outputs]
        if (len(again) != len(outputs) or len(ops) != len(self.ops)
                or any(type(a) is not type(b) for a, b in zip(ops, self.ops, strict=True))
                or any(b is not None and (a.shape != b.shape or not np.array_equal(a._data, b._data, equal_nan=True))
                       for a, b in zip(again, outputs, strict=True))):
            raise RuntimeError("checkpoint: running the function again gave a different output, or ran different "
                               "ops, than the first time (a random draw inside it, such as dropout, or a tensor it "
                               "reads that changed in place), so backward would return gradients of something "
                               "forward did not compute. Keep random draws outside the checkpointed function")
        for original, twin in zip(self.ops, ops, strict=True):
            for t, u in zip(original.inputs, twin.inputs, strict=True):
                if _is_placeholder(t._data):
                    t._data = u._data
            original.__dict__.update({k: v for k, v in twin.__dict__.items() if k not in _STRUCTURE})
        for handle in self.handles:
            handle.remove()
        self.handles = None
        return None


class _Placeholder(np.ndarray):
    """What an emptied tensor holds until backward refills it: its shape and dtype, NaN (or 0) everywhere,
    and no memory."""


def _placeholder(array):
    fill = np.array(np.nan if array.dtype.kind in "fc" else 0, dtype=array.dtype)
    return np.broadcast_to(fill, array.shape).view(_Placeholder)


def _is_placeholder(array):
    return type(array) is _Placeholder
