"""Walking a recorded graph, shared by the drawings (viz.py) and the backward player (backward_player.py).

The graph is read from the links every recorded tensor keeps to the op that made it (``tensor.op``) and that
op's inputs (``op.inputs``), so walk it before backward releases them, or call ``backward(retain_graph=True)``.
Nodes are of four kinds: ops (tensors an op made), parameters (leaves that require grad), inputs (other leaves)
and constants (0-d leaves, such as the 2 in ``2 * x``).
"""


def kind(t):
    if not t.is_leaf:
        return "op"
    if t.requires_grad:
        return "parameter"
    return "constant" if t.ndim == 0 else "input"


def inputs_of(fn):
    """The op's input tensors, or an error saying the graph was released."""
    if fn.released:
        raise RuntimeError("the graph was released by backward(); draw it first, "
                           "or call backward(retain_graph=True)")
    return fn.inputs


def walk(root):
    """Every tensor in the graph of ``root``, root first, each once; and the edges (input, consumer)."""
    nodes, edges, seen, stack = [], [], {root}, [root]
    while stack:
        t = stack.pop()
        nodes.append(t)
        fn = t.op
        if fn is None:
            continue
        for parent in inputs_of(fn):
            edges.append((parent, t))
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return nodes, edges


def labels(names):
    """``names`` as {Tensor: label}: a dict as it is, or a Module's parameters and buffers by their names."""
    if hasattr(names, "named_parameters"):
        pairs = list(names.named_parameters()) + list(names.named_buffers())
        return {t: name for name, t in pairs}
    return dict(names or {})
