"""Where the backward player puts each node: a layout that follows the model.

The graph is drawn bottom to top, leaves below the op that first uses them, each op one row above its highest
input, in the order the model computed things: leaves left to right in the order they were first used, each
row ordered by where its inputs are (barycentre sweeps), so edges cross less. On top of that:

* a convolution (nn.functional.conv2d: pad, unfold, a matrix product and reshapes) is one node, a conv, with
  its own rule, rather than the (C·kh·kw, N·OH·OW) matrix of windows it is computed through;
* nodes are grouped by the module that made them: exactly, when the player ran the forward pass itself
  (``play_backward(lambda: loss_fn(), names=model)`` records every module call), else by the module whose
  parameters an op reads;
* a recurrence is laid out by time step, one column per step: the steps are the calls of a module called again
  and again (a cell), or, without modules, the uses of a weight that every step reads again (W_hh).
"""
import numpy as np

SHAPE_OPS = ("reshape", "transpose", "getitem", "concatenate")
CONV_RULE = {
    "definition": "z[n, o, i, j] = Σ over c, p, q of w[o, c, p, q] · x[n, c, i·s + p, j·s + q] + b[o], a "
                  "cross-correlation of the (padded) image x with each kernel w[o]",
    "context": "",
    "statements": [
        "dL/dx[n, c, ·, ·] = Σ over o of the kernel w[o, c] laid on each window's gradient dL/dz[n, o, i, j], "
        "added back where the window came from (a transposed convolution)",
        "dL/dw[o, c, p, q] = Σ over n, i, j of dL/dz[n, o, i, j] · x[n, c, i·s + p, j·s + q]",
        "dL/db[o] = Σ over n, i, j of dL/dz[n, o, i, j]",
    ],
    "note": "nn.functional.conv2d computes it as pad, unfold (every window laid out), one matrix product with the "
            "kernels, and reshapes; the player shows those ops as this one conv, and its step as one step.",
}


class Unit:
    """One box on the page: a tensor, or a convolution's ops taken together (``members``, the output first)."""

    def __init__(self, tensor, members=None, conv_inputs=None):
        self.tensor = tensor
        self.members = members or [tensor]
        self.conv_inputs = conv_inputs  # for a conv: its inputs (x, w, b), else None: the op's own inputs

    @property
    def inputs(self):
        if self.conv_inputs is not None:
            return self.conv_inputs
        return list(self.tensor.op.inputs) if self.tensor.op is not None else []

    @property
    def seq(self):
        return self.tensor.op.seq if self.tensor.op is not None else -1


def consumers_of(nodes):
    """id(tensor) -> the tensors whose op reads it, once per read."""
    consumers = {}
    for t in nodes:
        for x in t.op.inputs if t.op is not None else ():
            consumers.setdefault(id(x), []).append(t)
    return consumers


def _only_consumer(t, consumers):
    users = consumers.get(id(t), [])
    return users[0] if len(users) == 1 else None


def _traced_back(t, consumers, through):
    """Follow ``t`` back through ops in ``through`` that nothing else reads: (the tensor reached, the ops passed)."""
    passed = []
    while t.op is not None and t.op.name in through and len(consumers.get(id(t), [])) == 1:
        passed.append(t)
        t = t.op.inputs[0]
    return t, passed


def _conv_region(product, consumers):
    """The ops of a conv2d around the matrix product ``product``: (members, output, [x, w] or [x, w, b]), or
    None when they are not a convolution's. The product's operands are the kernels (reshaped from a 4-D
    weight) and the windows: rearranged from an unfold of the (padded) image, or, when the image needs no
    gradient, an array the graph holds as it is."""
    if len(product.op.inputs) != 2:
        return None
    for windows, kernels in (product.op.inputs, product.op.inputs[::-1]):
        w, w_ops = _traced_back(kernels, consumers, ("reshape", "getitem"))
        if w.op is not None or w.ndim != 4 or not w.requires_grad or not w_ops:
            continue
        x, x_ops = _traced_back(windows, consumers, SHAPE_OPS)
        if x.op is not None and x.op.name == "unfold" and len(consumers.get(id(x), [])) == 1:
            x_ops.append(x)
            x = x.op.inputs[0]
            if x.op is not None and x.op.name == "pad" and len(consumers.get(id(x), [])) == 1:
                x_ops.append(x)
                x = x.op.inputs[0]
        elif x.op is not None:
            continue
        break
    else:
        return None
    members, t = [product] + w_ops + x_ops, product
    while True:  # the products, back into (N, out, OH, OW)
        users = consumers.get(id(t), [])
        if len(users) != 1 or users[0].op.name not in SHAPE_OPS:
            break
        t = users[0]
        members.append(t)
    inputs = [x, w]
    users = consumers.get(id(t), [])
    if len(users) == 1 and users[0].op.name == "add":
        bias = next((i for i in users[0].op.inputs if i is not t), None)
        if bias is not None and bias.op is not None and bias.op.name == "reshape" and bias.op.inputs[0].ndim == 1 \
                and bias.op.inputs[0].op is None and len(consumers.get(id(bias), [])) == 1:
            members += [bias, users[0]]
            inputs.append(bias.op.inputs[0])
            t = users[0]
    if t.ndim != 4:
        return None
    inside = {id(m) for m in members}
    for m in members:  # nothing but the output may be read from outside the conv
        if m is not t and any(id(u) not in inside for u in consumers.get(id(m), [])):
            return None
    return [t] + [m for m in members if m is not t], t, inputs


def units_of(nodes):
    """The boxes: one per tensor, except that each conv2d's ops become one. Returns (units, unit of each
    tensor's id)."""
    consumers = consumers_of(nodes)
    taken, units, unit_of = set(), [], {}
    regions = {}
    for t in nodes:
        if t.op is not None and t.op.name in ("matmul", "einsum"):
            region = _conv_region(t, consumers)
            if region is not None and not any(id(m) in taken for m in region[0]):
                members, output, inputs = region
                taken.update(id(m) for m in members)
                regions[id(output)] = Unit(output, members, inputs)
    for t in nodes:  # in walk order, the root first
        if id(t) in regions:
            unit = regions[id(t)]
        elif id(t) in taken:
            continue
        else:
            unit = Unit(t)
        for m in unit.members:
            unit_of[id(m)] = len(units)
        units.append(unit)
    return units, unit_of


def layout(units, unit_of, names, calls=None):
    """{"position": [[x, y]] per unit (slots and rows; y grows downwards, the root's row is 0), "groups": [{"label",
    "units"}], "steps": {"count", "of": [step per unit or None]}}. ``calls``: {id(op): (module path, type name,
    call number)} when the player ran the forward pass itself."""
    n = len(units)
    inputs = [[unit_of[id(x)] for x in u.inputs if id(x) in unit_of] for u in units]
    users = [[] for _ in range(n)]
    for i, ins in enumerate(inputs):
        for j in ins:
            users[j].append(i)
    order = sorted(range(n), key=lambda i: units[i].seq)  # leaves first, then ops as they ran
    rank = [0] * n
    for i in order:
        if inputs[i]:
            rank[i] = 1 + max(rank[j] for j in inputs[i])
    for i in order:  # a leaf sits just below the first op that uses it, not down with every other leaf
        if not inputs[i] and users[i]:
            rank[i] = min(rank[j] for j in users[i]) - 1
    first_use = [min(((units[j].seq, inputs[j].index(i)) for j in users[i]), default=(units[i].seq, 0))
                 for i in range(n)]
    groups, group_of = _groups(units, names, calls, users)
    steps = _steps(units, inputs, users, order, calls)
    if steps is not None:
        position = _by_step(units, inputs, users, rank, steps, first_use, group_of)
    else:
        position = _layered(n, inputs, users, rank, first_use, group_of)
    return {"position": position, "groups": groups,
            "steps": {"count": 0 if steps is None else max(s for s in steps if s is not None),
                      "of": steps if steps is not None else [None] * n}}


def _rows_in_order(rows, inputs, users, first_use, group_of, x_of):
    """Each row ordered so that edges cross less: by the mean place of the inputs (then of the users), leaves by
    first use, and a group's nodes kept side by side."""
    for _ in range(2):
        for key in sorted(rows):  # bottom to top: by where the inputs are
            row = rows[key]
            row.sort(key=lambda i: (np.mean([x_of[j] for j in inputs[i]]) if inputs[i] else first_use[i][0],
                                    first_use[i]))
            _keep_groups_together(row, group_of)
            _place(row, x_of)
        for key in sorted(rows, reverse=True):  # top to bottom: by where the users are
            row = rows[key]
            row.sort(key=lambda i: np.mean([x_of[j] for j in users[i]]) if users[i] else x_of[i])
            _keep_groups_together(row, group_of)
            _place(row, x_of)
    for key in sorted(rows):  # and a last sweep up, which leaves each op above its inputs
        row = rows[key]
        row.sort(key=lambda i: (np.mean([x_of[j] for j in inputs[i]]) if inputs[i] else x_of[i], first_use[i]))
        _keep_groups_together(row, group_of)
        _place(row, x_of)


def _keep_groups_together(row, group_of):
    placed, seen = [], {}
    for i in row:
        g = group_of.get(i)
        if g is None:
            placed.append([i])
        elif g in seen:
            seen[g].append(i)
        else:
            seen[g] = [i]
            placed.append(seen[g])
    row[:] = [i for block in placed for i in block]


def _place(row, x_of):
    for k, i in enumerate(row):
        x_of[i] = k - (len(row) - 1) / 2


def _layered(n, inputs, users, rank, first_use, group_of):
    rows = {}
    for i in range(n):
        rows.setdefault(rank[i], []).append(i)
    x_of = [0.0] * n
    _rows_in_order(rows, inputs, users, first_use, group_of, x_of)
    top = max(rank)
    return [[x_of[i], top - rank[i]] for i in range(n)]


def _by_step(units, inputs, users, rank, steps, first_use, group_of):
    """One column per time step, each laid out in rows of its own; what comes after the last step (the loss)
    in a column of its own to the right."""
    n = len(units)
    columns = {}
    for i in range(n):
        columns.setdefault(steps[i], []).append(i)
    x_of, position, left = [0.0] * n, [None] * n, 0.0
    height = 0
    order = sorted(range(n), key=lambda i: units[i].seq)
    for step in sorted(columns, key=lambda s: (s is None, s)):
        members = set(columns[step])
        local = {}  # rows within the step: what comes from an earlier step counts as given
        for i in order:
            if i in members and inputs[i]:
                local[i] = 1 + max((local[j] for j in inputs[i] if j in local), default=0)
        for i in order:
            if i in members and not inputs[i]:
                local[i] = min((local[j] for j in users[i] if j in local), default=1) - 1
        low = min(local.values())
        rows = {}
        for i in members:
            local[i] -= low
            rows.setdefault(local[i], []).append(i)
        _rows_in_order(rows, inputs, users, first_use, group_of, x_of)
        width = max(len(r) for r in rows.values())
        for i in members:
            position[i] = [left + x_of[i] + (width - 1) / 2, local[i]]
        height = max(height, max(local.values()))
        left += width + 0.6
    return [[x, height - y] for x, y in position]


def _groups(units, names, calls, users):
    """Groups of units by the module that made them: from recorded calls, or from the parameters ops read."""
    group_of, groups = {}, []
    keys = {}
    calls_of = {}  # module path -> how many calls made ops here
    if calls is not None:
        for path, _, _call in set(calls.values()):
            calls_of[path] = calls_of.get(path, 0) + 1
    for i in sorted(range(len(units)), key=lambda i: units[i].seq):  # groups in the order the model ran
        u = units[i]
        key = None
        if calls is not None:
            for m in u.members:
                if m.op is not None and id(m.op) in calls:
                    key = calls[id(m.op)]
                    break
        else:
            owners = {names[x].rsplit(".", 1)[0] for x in u.inputs if x in names and "." in names[x]}
            if len(owners) == 1 and u.tensor.op is not None:
                key = (owners.pop(), None, None)
        if key is None:
            continue
        if key not in keys:
            keys[key] = len(groups)
            path, kind, call = key
            label = path + (f" ({kind})" if kind and kind != path else "")
            label += f", call {call + 1}" if calls_of.get(path, 0) > 1 else ""
            groups.append({"label": label, "units": []})
        group_of[i] = keys[key]
        groups[keys[key]]["units"].append(i)
    if calls is None:  # a module's parameters sit in its box too, beside the ops that read them
        for i, u in enumerate(units):
            if u.tensor.op is None and u.tensor in names and users[i]:
                owner = {group_of.get(j) for j in users[i]}
                if len(owner) == 1 and None not in owner:
                    g = owner.pop()
                    group_of[i] = g
                    groups[g]["units"].append(i)
    return groups, group_of


def _steps(units, inputs, users, order, calls):
    """The time step of each unit (1, 2, ...), or None when the graph is not a recurrence."""
    n = len(units)
    marker = [0] * n  # which step a unit starts (its recurrent op), 0 for none
    if calls is not None:
        per_path = {}
        for u in units:
            op = u.tensor.op
            if op is not None and id(op) in calls:
                path, _, call = calls[id(op)]
                per_path.setdefault(path, set()).add(call)
        repeated = [p for p, c in per_path.items() if len(c) >= 2]
        if not repeated:
            return None
        path = max(repeated, key=lambda p: len(per_path[p]))
        for i, u in enumerate(units):
            op = u.tensor.op
            if op is not None and id(op) in calls and calls[id(op)][0] == path:
                marker[i] = calls[id(op)][2] + 1
        return _propagated(marker, inputs, users, order, direct=True)
    best = None
    for i, u in enumerate(units):  # a weight every step reads again: each read begins a step
        if u.tensor.op is not None or len(users[i]) < 3:
            continue
        readers = sorted(set(users[i]), key=lambda j: units[j].seq)
        count = [0] * n
        marks = set(readers)
        for j in order:
            count[j] = max((count[k] for k in inputs[j]), default=0) + (j in marks)
        if [count[j] for j in readers] == list(range(1, len(readers) + 1)) and (best is None or len(readers) >
                                                                                 len(best)):
            best = readers
    if best is None:
        return None
    for step, j in enumerate(best, 1):
        marker[j] = step
    return _propagated(marker, inputs, users, order, direct=False)


def _propagated(marker, inputs, users, order, direct):
    """Steps for every unit from the markers: an op takes the latest step among its inputs (or its own marker);
    what no step precedes (a leaf, an input slice) takes the earliest step among its users."""
    n = len(marker)
    step = [None] * n
    for i in order:
        if marker[i]:
            step[i] = marker[i] if direct else max([marker[i]] + [step[j] or 0 for j in inputs[i]])
        else:
            found = [step[j] for j in inputs[i] if step[j] is not None]
            step[i] = max(found) if found else None
    for i in reversed(order):
        if step[i] is None:
            found = [step[j] for j in users[i] if step[j] is not None]
            step[i] = min(found) if found else None
    return step
