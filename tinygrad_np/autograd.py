"""Reverse-mode differentiation: walk the graph from the output back to the leaves.

A tensor's gradient is complete only once every op that consumed it has
passed its share back, so the walk must visit consumers before producers: a
topological order. Every recorded op carries a sequence number, taken when it
ran (``Function.seq``), and an op always runs after the ops that made its
inputs. So "newest first" is a topological order, and the walk is a loop over
a priority queue keyed by that number:

1. put the output in the queue, with dL/d(output);
2. pop the newest tensor; its gradient is now complete; hand it to the
   Function that made the tensor, and add what comes back to each input's
   gradient, queueing inputs seen for the first time;
3. repeat until the queue is empty. Leaves (tensors no op made) are never
   queued: each contribution goes straight into ``leaf.grad``.

No recursion, so a graph 100,000 ops deep is no problem, and no separate
sorting pass. Unless ``retain_graph=True``, each Function drops what it saved
as soon as its backward has run, so arrays are freed during the pass.
"""
import heapq

import numpy as np

from .function import anomaly_mode
from .grad_mode import set_grad_enabled
from .tensor import Tensor

# Callbacks fn(function, output_grad, input_grads) run after every op's backward:
# how trace() and detect_anomaly() watch the pass (debug.py).
observers = []


def _observer():
    if not observers:
        return None

    def notify(fn, grad, input_grads):
        for observe in list(observers):
            observe(fn, grad, input_grads)

    return notify


_RELEASED = (
    "backward through a graph that has already been released: the first backward() "
    "freed its saved arrays. Pass retain_graph=True to the first call if you need to "
    "go through the graph again, or recompute the forward pass."
)


def _as_grad(grad, like, who):
    """``grad`` (Tensor, array or number) as a Tensor shaped and typed like ``like``."""
    data = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=like.dtype)
    if data.shape != like.shape:
        raise ValueError(f"{who}: grad has shape {data.shape} but the tensor has shape {like.shape}")
    return grad if isinstance(grad, Tensor) else Tensor._make(data, False)


def _backpropagate(roots, root_grads, retain_graph, create_graph, capture=None, visit=None):
    """The backward pass.

    Without ``capture``, leaves (and tensors marked ``retain_grad``) accumulate
    into ``.grad``. With ``capture`` (a set of tensors), their gradients are
    returned in a dict instead and no ``.grad`` is touched. ``visit(fn, grad,
    input_grads)``, if given, is called after each op's backward (for tracing).
    """
    pending = {}  # tensor -> its gradient so far, for tensors waiting in the queue
    queue = []  # (-seq, tensor): newest op first
    captured = {}

    def deliver(t, g):
        if t._ctx is None:  # a leaf: nothing comes after it, so accumulate at once
            if capture is None:
                t.grad = g if t.grad is None else t.grad + g
            elif t in capture:
                captured[t] = g if t not in captured else captured[t] + g
            return
        prev = pending.get(t)
        if prev is None:
            pending[t] = g
            heapq.heappush(queue, (-t._ctx.seq, t))
        else:
            pending[t] = prev + g

    with set_grad_enabled(create_graph):
        for root, g in zip(roots, root_grads):
            deliver(root, g)
        while queue:
            t = heapq.heappop(queue)[1]
            g = pending.pop(t)
            fn = t._ctx
            if fn.inputs is None:
                raise RuntimeError(_RELEASED)
            if capture is None:
                if t._retain_grad:
                    t.grad = g if t.grad is None else t.grad + g
            elif t in capture:
                captured[t] = g
            if anomaly_mode.enabled:
                anomaly_mode.backward_of = fn  # so a NaN inside the rule is blamed on this op
                try:
                    input_grads = fn.backward(g)
                finally:
                    anomaly_mode.backward_of = None
            else:
                input_grads = fn.backward(g)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if visit is not None:
                visit(fn, g, input_grads)
            for parent, pg in zip(fn.inputs, input_grads):
                if pg is None or not parent.requires_grad:
                    continue
                pdata, gdata = parent.data, pg.data
                if gdata.shape != pdata.shape:
                    raise RuntimeError(
                        f"{fn.name}.backward returned a gradient of shape {gdata.shape} "
                        f"for an input of shape {pdata.shape}"
                    )
                if gdata.dtype != pdata.dtype:  # mixed-precision ops: the gradient takes its input's dtype
                    pg = pg.astype(pdata.dtype)
                deliver(parent, pg)
            if not retain_graph:
                fn.release()
    return captured


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
        grad = Tensor._make(np.ones(tensor.shape, dtype=tensor.dtype), False)
    grad = _as_grad(grad, tensor, "backward")
    _backpropagate([tensor], [grad], retain_graph or create_graph, create_graph, visit=_observer())


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
    captured = _backpropagate(roots, seeds, retain_graph, create_graph, capture=set(inputs), visit=_observer())
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
