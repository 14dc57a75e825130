"""Reverse-mode differentiation: walk the graph from the output back to the leaves.

A tensor's gradient is complete once every op that consumed it has passed
its share back, so consumers are visited before producers. Ops are numbered
as they run (``Function.seq``) and an op always runs after the ops that made
its inputs, so "newest first" is such an order: the walk is a loop over a
priority queue keyed by that number. No recursion, no separate sort.
See docs/how_it_works.md. The checks each op passes on the way (released
graphs, in-place changes, the rule's contract) are in backward_checks.py.

Two promises the loop keeps:
* all or nothing: leaves' gradients are collected first and written to
  ``.grad`` only once the whole pass has succeeded, under a lock, so a rule
  that raises changes no ``.grad`` and threads sharing a leaf lose no update;
* no stale values: an op whose input was changed in place after it ran
  (an optimizer step before ``backward``) is refused, not differentiated at
  the new value.
"""
import threading
from heapq import heappop, heappush
from operator import attrgetter
from time import perf_counter_ns

import numpy as np

from .backward_checks import broken_contract, checked, fitted, refuse_if_stale
from .engine_hooks import finish, hooks, watch
from .grad_mode import _state
from .gradient_hooks import registry, run_hooks
from .jit_seam import refuse_in_trace, replayed
from .tensor import Tensor, changes

_grad_lock = threading.Lock()  # .grad is read, added to and written back: one thread at a time
_retains_grad = attrgetter("retains_grad")  # which gradients of ops' outputs backward() keeps


def _as_grad(grad, like, who):
    """``grad`` (Tensor, array or number) as a Tensor shaped and typed like ``like``."""
    data = grad._data if isinstance(grad, Tensor) else np.asarray(grad, dtype=like.dtype)
    if data.shape != like.shape:
        raise ValueError(f"{who}: grad has shape {data.shape} but the tensor has shape {like.shape}")
    return grad if isinstance(grad, Tensor) else Tensor._make(data, False)


def _backpropagate(roots, seeds, run_rule, keep, retain_graph, recording):
    """The backward pass. Returns {tensor: its gradient} for every leaf reached and every tensor that ``keep``
    says to keep. ``run_rule`` runs an op's rule on arrays or on Tensors; the loop is the same for both."""
    pending, queue, finished = {}, [], {}  # gradients so far; (-seq, tensor), newest op first; kept gradients
    fn, contributions = None, zip(roots, seeds, strict=True)  # the seeds are the first contributions
    with _Guarded(recording) as freed:
        while True:
            _accumulate(contributions, fn, pending, queue)
            if not queue:
                if registry:  # some tensor has a gradient hook (gradient_hooks.py): the leaves' run here
                    pending = {t: run_hooks(t, g) for t, g in pending.items()}
                finished.update(pending)  # all that is left are the leaves' gradients
                return finished
            t = heappop(queue)[1]  # the newest op's output: every consumer has passed its share back
            fn, g = t.op, pending.pop(t)
            if registry:  # some tensor has a gradient hook (gradient_hooks.py)
                g = run_hooks(t, g)
            if fn.inputs is None or changes.newest > fn.seq:  # released, or something changed in place since
                refuse_if_stale(fn, t)
            if keep(t):
                finished[t] = g
            contributions = zip(fn.inputs, run_rule(fn, g, t), strict=True)
            if not retain_graph:
                fn.release()  # contributions holds the inputs it still needs
                freed.append(fn)


def _accumulate(contributions, fn, pending, queue):
    """Add each (tensor, gradient) that ``fn``'s rule returned to the tensor's gradient so far, in the tensor's
    dtype. With its first, a tensor an op made joins the queue; a leaf's waits in ``pending`` to the end."""
    for x, gx in contributions:
        if gx is None or not x.requires_grad:
            continue
        if gx.dtype is not x._data.dtype or gx.shape != x._data.shape:
            gx = fitted(fn, gx, x)
        if x in pending:
            pending[x] = pending[x] + gx
        else:
            pending[x] = gx
            if x.op is not None:
                heappush(queue, (-x.op.seq, x))


def _run_plain(fn, g, t):
    saved = fn.arrays
    # The second speed trick (see Function.apply): one and two inputs spelled out. A call with *saved builds
    # a tuple and takes CPython's slow path: 5% of a 1,000-op mul chain, 0.2% of the batch-32 MNIST step.
    if len(saved) == 2:
        grads = fn.backward(g, t._data, saved[0], saved[1])
    elif len(saved) == 1:
        grads = fn.backward(g, t._data, saved[0])
    else:
        grads = fn.backward(g, t._data, *saved)
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(saved):  # zip would silently drop the inputs left over
        raise broken_contract(fn, grads)
    return grads


def _run_recorded(fn, g, t):
    return checked(fn, fn.backward(g, t, *fn.inputs))


def _run_watched(fn, g, t):
    """The rule on Tensors, with the thread's backward hooks around it (engine_hooks.py)."""
    watchers = watch(hooks.backward, fn, g)
    try:
        grads = _run_recorded(fn, g, t)
    except BaseException:
        for w in watchers:
            w.close()  # each hook's cleanup runs now, not whenever the traceback lets go of it
        raise
    finish(watchers, grads)
    return grads


def _run_timed(fn, g, t):
    """The plain rule, timed for the thread's profilers (see/profiler.py), and shown with what it returned to a
    jit trace (jit/trace.py), which records the rules the engine ran."""
    start = perf_counter_ns()
    grads = _run_plain(fn, g, t)
    for record in hooks.timed:
        record(fn, g, grads, start, perf_counter_ns() - start)
    return grads


class _Guarded:
    """Around one backward pass: recording switched on only for create_graph, and put back after; and if the
    pass fails part-way, the ops whose saved arrays it had freed (``freed``) are told why, for whoever tries
    this graph again. A class rather than two @contextmanager blocks, which cost 3 µs a backward (1% of the
    batch-32 MNIST step); this costs 0.5."""

    def __init__(self, create_graph):
        self.recording, self.freed = create_graph, []

    def __enter__(self):
        self.previous, _state.enabled = _state.enabled, self.recording
        return self.freed

    def __exit__(self, kind, err, traceback):
        _state.enabled = self.previous
        for fn in self.freed if err is not None else ():
            fn.released_because = (f"an earlier backward() stopped part-way with {kind.__name__} "
                                    "and had already freed its saved arrays; no .grad was changed")


def _run_backward(roots, seeds, retain_graph, create_graph, capture=None):
    """Choose, once, how each rule runs and which gradients to keep, then run the pass: {tensor: gradient
    Tensor} for the leaves and the tensors that retain their gradient, or, with ``capture``, for those."""
    run_rule = (_run_watched if hooks.backward else _run_recorded if create_graph else
                _run_timed if hooks.timed else _run_plain)
    keep = capture.__contains__ if capture is not None else _retains_grad
    # On a plain or timed pass gradients travel as arrays, and become Tensors at the end.
    as_arrays = run_rule is _run_plain or run_rule is _run_timed
    finished = _backpropagate(roots, [s._data for s in seeds] if as_arrays else seeds, run_rule, keep,
                              retain_graph, create_graph)
    if capture is not None:
        finished = {t: g for t, g in finished.items() if t in capture}
    return _owned(finished, seeds) if as_arrays else finished


def _owned(finished, seeds):
    """The gradient arrays as Tensors, each array its own: a .grad must not share memory with another.

    A rule may hand the same array to two inputs (Add does), pass on the
    caller's seed gradient, or return a read-only broadcast view (Sum does);
    a user clipping one gradient in place must not change another, or the
    array they passed to backward() (``seeds``, the Tensors backward started
    from). The second holder of an array gets a copy. A rule that built a
    Tensor on a plain pass gets its array taken: nothing was recorded.
    """
    owned, taken = {}, set()
    for seed in seeds:
        taken.add(id(seed._data))
    for t, g in finished.items():
        if isinstance(g, Tensor):
            g = g._data
        key = id(g)
        if key in taken or (g.base is not None and not g.flags.writeable):  # only views can be read-only
            g = g.copy()
            key = id(g)
        taken.add(key)
        owned[t] = Tensor._make(g, False)
    return owned


def backward(tensor, grad=None, retain_graph=False, create_graph=False):
    """See ``Tensor.backward``."""
    if hooks.passes:  # a jit trace runs the pass itself, and records it (jit/trace.py)
        return hooks.passes[-1](tensor, grad, retain_graph, create_graph)
    if not tensor.requires_grad:
        raise RuntimeError(replayed(tensor) or "backward: this tensor does not require grad: none of the tensors "
                           "it was computed from has requires_grad=True, or it was computed under no_grad()")
    seed = _seed(tensor, grad, "backward", "grad=")
    _write_grads(_run_backward([tensor], [seed], retain_graph or create_graph, create_graph))


def _write_grads(finished):
    """The pass succeeded: now, and only now, every .grad changes (a jit replay ends its passes here too)."""
    with _grad_lock:
        for t, g in finished.items():
            t._grad = g if t._grad is None else _accumulated(t, g)


def _accumulated(t, g):
    if t._grad.shape != t.shape:  # .grad is checked on assignment; this catches writes around the check
        raise RuntimeError(f"backward: {t.shape} tensor has a .grad of shape {t._grad.shape}")
    return t._grad + g


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple of Tensors.

    Like ``torch.autograd.grad``: nothing is accumulated into ``.grad``.
    ``grad_outputs`` gives dL/d(output) for each output (omit it for scalars).
    An input the outputs do not depend on raises an error, or gives None with
    ``allow_unused=True``. ``retain_graph`` defaults to ``create_graph``.
    """
    refuse_in_trace("tg.grad (or a tinygrad_np.func transform, which calls it)", "a replay records the "
                    "backward passes that write .grad, not gradients returned as values, so it would return the "
                    "traced gradient every time. Call loss.backward() inside the jitted function and read .grad")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) does not require grad")
    roots = [out for out in outputs if out.requires_grad]  # the others contribute nothing
    seeds = [_seed(out, g, f"grad: output {i}", "grad_outputs")
             for i, (out, g) in enumerate(zip(outputs, grad_outputs, strict=True)) if out.requires_grad]
    retain_graph = create_graph if retain_graph is None else retain_graph
    captured = _run_backward(roots, seeds, retain_graph, create_graph, capture=set(inputs))
    for i, x in enumerate(inputs):
        if x not in captured and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
    return tuple(captured.get(x) for x in inputs)


def _seed(out, g, who, argument):
    """dL/d(out) as a Tensor: the one given, or 1 for a one-element output."""
    if g is not None:
        return _as_grad(g, out, who)
    if out.size != 1:
        raise RuntimeError(f"{who}: {argument} can be omitted only for a scalar output; this one has shape "
                           f"{out.shape}, so pass {argument} of that shape (e.g. ones for a sum)")
    return Tensor._make(np.array(1, dtype=out.dtype).reshape(out.shape), False)
