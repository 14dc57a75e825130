"""Reverse-mode differentiation: walk the graph from the output back to the leaves.

A tensor's gradient is complete once every op that consumed it has passed
its share back, so consumers are visited before producers. Ops are numbered
as they run (``Function.seq``) and an op always runs after the ops that made
its inputs, so "newest first" is such an order: the walk is a loop over a
priority queue keyed by that number. No recursion, no separate sort.
See docs/how_it_works.md.

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

import numpy as np

from .grad_mode import _state
from .tensor import Tensor, changes


class _Hooks(threading.local):
    backward = ()  # generator functions hook(fn, grad): code before their yield runs before the rule,
    # ``input_grads = yield`` receives what it returned (debug.py's trace and detect_anomaly)


hooks = _Hooks()
_grad_lock = threading.Lock()  # .grad is read, added to and written back: one thread at a time


def _as_grad(grad, like, who):
    """``grad`` (Tensor, array or number) as a Tensor shaped and typed like ``like``."""
    data = grad._data if isinstance(grad, Tensor) else np.asarray(grad, dtype=like.dtype)
    if data.shape != like.shape:
        raise ValueError(f"{who}: grad has shape {data.shape} but the tensor has shape {like.shape}")
    return grad if isinstance(grad, Tensor) else Tensor._make(data, False)


def check_unchanged(fn, output):
    """Refuse to differentiate ``fn`` if its inputs or ``output`` changed in place after it ran (Tensor.data)."""
    seq = fn.seq
    if output._version > seq:
        raise _modified_in_place(fn, output)
    for x in fn.inputs:
        if x._version > seq:
            raise _modified_in_place(fn, x)


def _modified_in_place(fn, t):
    """The error for an op whose input or output ``t`` changed after the op ran."""
    i = next((i for i, x in enumerate(fn.inputs) if x is t), None)
    what = f"input {i}" if i is not None else "its output"
    return RuntimeError(
        f"{fn.name}: {what} (shape {t.shape}) was modified in place after {fn.name} used it (an optimizer "
        "step or an assignment to .data before backward()), so its gradient would be computed at the new "
        "values. Call backward() before changing it, or recompute the forward pass after the change."
    )


def _broken_contract(fn, input_grads, rule="backward"):
    """The error for a backward rule that returned something other than one Tensor or None per input."""
    if len(input_grads) != len(fn.inputs):
        return TypeError(f"{fn.name}.{rule} returned {len(input_grads)} gradients for "
                         f"{len(fn.inputs)} inputs; return one per input (None where there is none)")
    i, g = next((i, g) for i, g in enumerate(input_grads) if g is not None and not isinstance(g, Tensor))
    return TypeError(f"{fn.name}.backward returned a {type(g).__name__} for input {i}; "
                     "backward must return Tensors (or None), computed with Tensor operations")


def _run_watched(fn, grad, active_hooks):
    """fn.backward(grad) with the thread's backward hooks around it (see ``_Hooks``)."""
    watchers = [hook(fn, grad) for hook in active_hooks]
    for w in watchers:
        next(w)
    try:
        input_grads = fn.backward(grad)
    except BaseException:
        for w in watchers:
            w.close()
        raise
    for w in watchers:
        try:
            w.send(input_grads)
        except StopIteration:
            pass
    return input_grads


def _backpropagate(roots, root_grads, retain_graph, create_graph, capture=None):
    """The backward pass: returns {tensor: gradient} for the leaves (and tensors that retain their gradient),
    or, with ``capture`` (a set of tensors), for exactly those tensors.

    Two lanes through the same loop. Recording the pass (create_graph) or
    watching it (trace, detect_anomaly) runs every op's ``backward``, the rule
    in Tensor operations. A plain backward runs ``backward_arrays`` where an op
    has one: the same rule on NumPy arrays, with no Tensor or graph machinery
    around each step; gradients then travel as arrays and become Tensors at
    the end.
    """
    pending = {}  # tensor -> its gradient so far, for tensors waiting in the queue
    queue = []  # (-seq, tensor): newest op first
    finished = {}  # tensor -> its complete gradient, for the caller to store or return
    active_hooks = hooks.backward
    arrays = not create_graph and not active_hooks

    previous_mode = _state.enabled
    _state.enabled = create_graph
    visited = []
    # The seeds are the first contributions; after that, each op's rule gives its inputs theirs.
    fn, contributions = None, zip(roots, [g._data for g in root_grads] if arrays else root_grads)
    try:
        while True:
            for parent, pg in contributions:  # accumulate: add each contribution to its tensor's gradient
                if pg is None or not parent.requires_grad:
                    continue
                data = pg if arrays else pg._data
                expected = parent._data
                if data.dtype is not expected.dtype or data.shape != expected.shape:
                    pg = _fitted(fn, pg, data, parent, arrays)
                if parent.op is None:  # a leaf: its gradient is final
                    if capture is None or parent in capture:
                        finished[parent] = finished[parent] + pg if parent in finished else pg
                elif parent in pending:
                    pending[parent] = pending[parent] + pg
                else:  # the first contribution to a tensor an op made: it joins the queue
                    pending[parent] = pg
                    heappush(queue, (-parent.op.seq, parent))
            if not queue:
                break
            t = heappop(queue)[1]
            g = pending.pop(t)
            fn = t.op
            if fn.inputs is None:  # fn.released, read directly: this runs for every op
                raise RuntimeError(f"backward: {fn.name} can't be differentiated again: {fn.released_because}. "
                                   "Pass retain_graph=True to the first backward() to go through a graph "
                                   "twice, or recompute the forward pass.")
            if t.retains_grad if capture is None else t in capture:
                finished[t] = g
            if changes.newest > fn.seq:  # something changed in place after fn ran: was it one of fn's?
                check_unchanged(fn, t)
            if arrays:
                input_grads = fn.backward_arrays(g)
                if input_grads is NotImplemented:  # this op states its rule in Tensor operations only
                    input_grads = _checked(fn, fn.backward(Tensor._make(g, False)), as_arrays=True)
                elif type(input_grads) is not tuple:
                    input_grads = (input_grads,)
                if len(input_grads) != len(fn.inputs):  # zip would silently drop the inputs left over
                    raise _broken_contract(fn, input_grads, "backward_arrays")
            else:
                input_grads = _checked(fn, _run_watched(fn, g, active_hooks) if active_hooks else fn.backward(g))
            contributions = zip(fn.inputs, input_grads)
            if not retain_graph:
                fn.release()  # contributions keeps the inputs it needs
                visited.append(fn)
    except BaseException as err:
        for fn in visited:  # their arrays are gone: say why, for whoever tries this graph again
            fn.released_because = (f"an earlier backward() stopped part-way with {type(err).__name__} "
                                   "and had already freed its saved arrays; no .grad was changed")
        raise
    finally:
        _state.enabled = previous_mode
    return _owned(finished, root_grads) if arrays else finished


def _fitted(fn, pg, data, parent, arrays):
    """A gradient whose dtype or shape differs from its input's: cast it (mixed precision: a gradient takes its
    input's dtype), or, for a shape, refuse the rule that returned it."""
    expected = parent._data
    if data.shape != expected.shape:
        raise RuntimeError(f"{fn.name}.backward returned a gradient of shape {data.shape} "
                           f"for an input of shape {parent.shape}")
    if data.dtype == expected.dtype:
        return pg
    return data.astype(expected.dtype) if arrays else pg.astype(expected.dtype)


def _owned(finished, seeds):
    """The gradient arrays as Tensors, each array its own: a .grad must not share memory with another.

    A rule may hand the same array to two inputs (Add does), pass on the
    caller's seed gradient, or return a read-only broadcast view (Sum does);
    a user clipping one gradient in place must not change another, or the
    array they passed to backward() (``seeds``, the Tensors backward started
    from). The second holder of an array gets a copy.
    """
    owned, taken = {}, set()
    for seed in seeds:
        taken.add(id(seed._data))
    for t, g in finished.items():
        key = id(g)
        if key in taken or (g.base is not None and not g.flags.writeable):  # only views can be read-only
            g = g.copy()
            key = id(g)
        taken.add(key)
        owned[t] = Tensor._make(g, False)
    return owned


def _checked(fn, input_grads, as_arrays=False):
    """A rule's result as a tuple of one Tensor (or its array) or None per input, or an error naming the op."""
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(fn.inputs):
        raise _broken_contract(fn, input_grads)
    for g in input_grads:
        if g is not None and not isinstance(g, Tensor):
            raise _broken_contract(fn, input_grads)
    if as_arrays:
        return tuple(None if g is None else g._data for g in input_grads)
    return input_grads


def backward(tensor, grad=None, retain_graph=False, create_graph=False):
    """See ``Tensor.backward``."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad: none of the tensors it was "
            "computed from has requires_grad=True, or it was computed under no_grad()"
        )
    if grad is None:
        if tensor.size != 1:
            raise RuntimeError(
                f"backward: grad can be omitted only for a scalar output; this one has shape "
                f"{tensor.shape}, so pass grad= of that shape (e.g. ones for a sum)"
            )
        # np.array(1) is a quarter of np.ones(()) in time, and backward() of a scalar loss runs every step
        seed = np.array(1, dtype=tensor.dtype) if tensor.ndim == 0 else np.ones(tensor.shape, dtype=tensor.dtype)
        grad = Tensor._make(seed, False)
    else:
        grad = _as_grad(grad, tensor, "backward")
    finished = _backpropagate([tensor], [grad], retain_graph or create_graph, create_graph)
    with _grad_lock:  # the pass succeeded: now, and only now, every .grad changes
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
    roots, seeds = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            continue  # contributes nothing to any input
        if g is None:
            if out.size != 1:
                raise RuntimeError(f"grad: output {i} has shape {out.shape}; pass grad_outputs for it")
            g = np.ones(out.shape, dtype=out.dtype)
        roots.append(out)
        seeds.append(_as_grad(g, out, f"grad: output {i}"))
    if retain_graph is None:
        retain_graph = create_graph
    captured = _backpropagate(roots, seeds, retain_graph, create_graph, capture=set(inputs))
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(x)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)
