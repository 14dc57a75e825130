"""Reverse-mode differentiation: walk the graph from the output back to the leaves.

1. ``topological_order`` lists every tensor that needs a gradient, each one
   before the tensors it was computed from. It is iterative (an explicit
   stack), so a graph 100,000 ops deep does not hit Python's recursion limit.
2. ``_backpropagate`` visits them in that order. Each tensor's gradient is
   complete when it is visited, because everything computed from it came
   earlier. It hands the gradient to the Function that made the tensor and
   adds what comes back to that Function's inputs' gradients.
3. Unless ``retain_graph=True``, each Function drops what it saved as soon as
   its backward has run, so the arrays are freed during the pass, not after.
"""
import numpy as np

from .grad_mode import set_grad_enabled
from .tensor import Tensor

_RELEASED = (
    "backward through a graph that has already been released: the first backward() "
    "freed its saved arrays. Pass retain_graph=True to the first call if you need to "
    "go through the graph again, or recompute the forward pass."
)


def topological_order(roots):
    """Tensors requiring grad reachable from ``roots``, each before the tensors it was computed from."""
    postorder, seen = [], set()
    stack = [(r, False) for r in roots]
    while stack:
        t, children_done = stack.pop()
        if children_done:
            postorder.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        fn = t._ctx
        if fn is not None:
            if fn.inputs is None:
                raise RuntimeError(_RELEASED)
            for parent in fn.inputs:
                if parent.requires_grad and id(parent) not in seen:
                    stack.append((parent, False))
    postorder.reverse()  # reversed DFS postorder of a DAG is a topological order
    return postorder


def _as_grad(grad, like, who):
    """``grad`` (Tensor, array or number) as a Tensor shaped and typed like ``like``."""
    data = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=like.dtype)
    if data.shape != like.shape:
        raise ValueError(f"{who}: grad has shape {data.shape} but the tensor has shape {like.shape}")
    return grad if isinstance(grad, Tensor) else Tensor._make(data, False)


def _backpropagate(roots, root_grads, retain_graph, create_graph, capture=None):
    """The backward pass. With ``capture`` (ids of tensors) the gradients of those
    tensors are returned in a dict and no ``.grad`` is touched; without it, leaves
    (and tensors marked ``retain_grad``) accumulate into ``.grad``."""
    order = topological_order(roots)
    grads = {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = g if id(r) not in grads else grads[id(r)] + g
    captured = {}
    with set_grad_enabled(create_graph):
        for i, t in enumerate(order):
            order[i] = None  # let this tensor go once it is done with
            g = grads.pop(id(t), None)
            if g is None:
                continue
            fn = t._ctx
            if capture is not None:
                if id(t) in capture:
                    captured[id(t)] = g
            elif fn is None or t._retain_grad:
                t.grad = g if t.grad is None else t.grad + g
            if fn is None:
                continue
            input_grads = fn.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for parent, pg in zip(fn.inputs, input_grads):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent.shape:
                    raise RuntimeError(
                        f"{fn.name}.backward returned a gradient of shape {pg.shape} "
                        f"for an input of shape {parent.shape}"
                    )
                if pg.dtype != parent.dtype:  # mixed-precision ops: the gradient takes its input's dtype
                    pg = pg.astype(parent.dtype)
                key = id(parent)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg
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
    _backpropagate([tensor], [grad], retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple of Tensors.

    Like ``torch.autograd.grad``: nothing is accumulated into ``.grad``.
    ``grad_outputs`` gives dL/d(output) for each output (omit it for scalars).
    An input the outputs do not depend on raises an error, or gives None with
    ``allow_unused=True``. ``retain_graph`` defaults to ``create_graph``.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
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
    captured = _backpropagate(roots, seeds, retain_graph, create_graph, capture={id(x) for x in inputs})
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(id(x))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)
