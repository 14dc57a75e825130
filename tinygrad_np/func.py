"""Functional transforms, with torch.func's names: ``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``,
``jacfwd``, ``hessian`` and ``functional_call``.

Each takes a function of Tensors (or arrays) and gives back a function, so they compose:
``jacfwd(jacrev(f))`` is a Hessian, ``grad(grad(f))`` a second derivative. They are built on the one
reverse-mode engine:

* ``vjp`` runs f, then one backward pass from a given cotangent u: uᵀJ, a row combination of the Jacobian;
* ``jvp`` is the transpose trick (reverse over reverse). The backward pass from a stand-in cotangent u,
  recorded, gives uᵀJ as a function of u, linear in u; differentiating ⟨uᵀJ, t⟩ with respect to u gives
  J t. So forward mode needs no second rule per op: each op's one ``backward`` serves. It costs a forward,
  a recorded backward and a backward through that, about 3 to 4 plain backward passes
  (docs/forward_and_reverse.md measures it);
* ``jacrev`` stacks rows from one backward per output element, ``jacfwd`` columns from one pass per input
  element, both reusing one forward (and ``jacfwd`` one recorded backward).

Nesting works by giving each transform its own inputs: a differentiated argument becomes a fresh leaf, or,
if it is already in a graph (an outer transform's input, a parameter), a recorded view of it, so the inner
transform differentiates with respect to its own argument while the outer one still sees through. While
recording is on, every gradient is computed with ``create_graph=True``; a result that turns out to depend
on nothing from outside the transform is handed back cut off from the transform's private graph, as
torch.func hands back a plain tensor.
"""
import numpy as np

from .core import autograd
from .core.grad_mode import enable_grad, is_grad_enabled
from .core.tensor import Tensor
from .factories import zeros_like
from .ops import Reshape

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "functional_call"]


# ---- the transforms -----------------------------------------------------------------------------------
def grad_and_value(f, argnums=0, has_aux=False):
    """A function returning (the gradient of f's scalar output with respect to the arguments in ``argnums``,
    f's output). With ``has_aux``, f returns (output, aux) and the function returns (gradient, (output, aux)).
    An argument may be a Tensor, an array, or a dict, list or tuple of them (parameters for functional_call);
    its gradient has the same form."""
    def wrapper(*args, **kwargs):
        call = _Call(f, args, kwargs, argnums, has_aux, "grad")
        if isinstance(call.result, tuple):
            raise RuntimeError(f"grad: f must return one Tensor (a scalar loss), got a tuple of {len(call.result)}")
        out = call.result
        if out.size != 1:
            raise RuntimeError(f"grad: f must return a one-element Tensor (a scalar loss), got shape {out.shape}; "
                               "for an output with more elements use vjp, jacrev or jacfwd")
        grads = call.gradients([out], [None])
        value = call.lowered(out)
        return call.shaped(grads), ((value, call.aux) if has_aux else value)

    return wrapper


def grad(f, argnums=0, has_aux=False):
    """A function returning the gradient of f's scalar output with respect to the arguments in ``argnums``
    (a tuple of gradients for a tuple of argnums); with ``has_aux``, (gradient, aux)."""
    both = grad_and_value(f, argnums, has_aux)

    def wrapper(*args, **kwargs):
        gradients, value = both(*args, **kwargs)
        return (gradients, value[1]) if has_aux else gradients

    return wrapper


def vjp(f, *primals, has_aux=False):
    """(f(*primals), vjp_fn): ``vjp_fn(cotangent)`` gives uᵀJ for a cotangent u shaped like the output (a tuple
    of them for a tuple of outputs), as a tuple with one gradient per primal. vjp_fn may be called again."""
    call = _Call(f, primals, {}, tuple(range(len(primals))), has_aux, "vjp")

    def vjp_fn(cotangents):
        outputs = call.outputs
        cotangents = _as_tuple(cotangents)
        if len(cotangents) != len(outputs):
            raise ValueError(f"vjp: f returned {len(outputs)} outputs but vjp_fn got {len(cotangents)} cotangents")
        seeds = []
        for i, (out, u) in enumerate(zip(outputs, cotangents, strict=True)):
            u = u if isinstance(u, Tensor) else Tensor(np.asarray(u, dtype=out.dtype))
            if u.shape != out.shape:
                raise ValueError(f"vjp: cotangent {i} has shape {u.shape} but output {i} has shape {out.shape}")
            seeds.append(u)
        return call.shaped(call.gradients(outputs, seeds, keep_graph=True), always_tuple=True)

    value = call.lowered(call.result)
    return (value, vjp_fn, call.aux) if has_aux else (value, vjp_fn)


def jvp(f, primals, tangents, has_aux=False):
    """(f(*primals), J t): the derivative of f at ``primals`` in the direction ``tangents`` (tuples, one
    tangent shaped like each primal). Computed by the transpose trick: see this module's docstring."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    call = _Call(f, primals, {}, tuple(range(len(primals))), has_aux, "jvp")
    directions = []
    for i, (x, t) in enumerate(zip(call.inputs, tangents, strict=True)):
        t = t if isinstance(t, Tensor) else Tensor(np.asarray(t, dtype=x.dtype))
        if t.shape != x.shape:
            raise ValueError(f"jvp: tangent {i} has shape {t.shape} but primal {i} has shape {x.shape}")
        directions.append(t)
    transposed = _Transposed(call)
    products = transposed.directional(directions)
    products = tuple(call.lowered(p) for p in products)
    out = call.lowered(call.result)
    jvp_out = products if isinstance(call.result, tuple) else products[0]
    return (out, jvp_out, call.aux) if has_aux else (out, jvp_out)


def jacrev(f, argnums=0, has_aux=False):
    """A function returning the Jacobian of f with respect to the arguments in ``argnums``, shaped
    output.shape + input.shape, built row by row: one backward pass per output element, one forward."""
    def wrapper(*args, **kwargs):
        call = _Call(f, args, kwargs, argnums, has_aux, "jacrev", trees=False)
        jacobians = []
        for out in call.outputs:
            rows = []
            for i in range(out.size):
                onehot = np.zeros(out.size, dtype=out.dtype)
                onehot[i] = 1
                rows.append(call.gradients([out], [Tensor(onehot.reshape(out.shape))], keep_graph=True))
            jacobians.append([_assemble([r[k] for r in rows], out.shape, x.shape)
                              for k, x in enumerate(call.inputs)])
        return call.jacobian_result(jacobians)

    return wrapper


def jacfwd(f, argnums=0, has_aux=False):
    """A function returning the Jacobian of f with respect to the arguments in ``argnums``, shaped
    output.shape + input.shape, built column by column from jvp: one pass per input element, over one
    forward and one recorded backward."""
    def wrapper(*args, **kwargs):
        call = _Call(f, args, kwargs, argnums, has_aux, "jacfwd", trees=False)
        transposed = _Transposed(call)
        jacobians = [[] for _ in call.outputs]
        for x in call.inputs:
            columns = [transposed.column(x, j) for j in range(x.size)]  # each: one tensor per output
            for o, out in enumerate(call.outputs):
                jacobians[o].append(_assemble([c[o] for c in columns], out.shape, x.shape, columns=True))
        return call.jacobian_result(jacobians)

    return wrapper


def hessian(f, argnums=0):
    """The Hessian of f's scalar output: jacfwd(jacrev(f)), forward over reverse."""
    return jacfwd(jacrev(f, argnums), argnums)


def functional_call(module, parameters_and_buffers, args, kwargs=None):
    """``module(*args, **kwargs)`` with the named tensors in ``parameters_and_buffers`` (a dict, or a tuple
    of dicts, by state_dict name) in place of the module's own, which are left untouched and are back in
    place afterwards, even if the call raises. A name the module does not have is an error. As in PyTorch, the
    swap is on the module itself: another thread calling the same module meanwhile sees the given tensors."""
    dicts = parameters_and_buffers if isinstance(parameters_and_buffers, (tuple, list)) else (parameters_and_buffers,)
    given = {}
    for d in dicts:
        for name, value in d.items():
            if name in given:
                raise ValueError(f"functional_call: {name!r} is given twice")
            given[name] = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
    slots = {}
    for name, owner, attribute in _state_slots(module):
        slots.setdefault(name, []).append((owner, attribute))
    unknown = sorted(set(given) - set(slots))
    if unknown:
        raise KeyError(f"functional_call: {type(module).__name__} has no parameter or buffer {', '.join(unknown)}")
    saved = [(owner, attribute, getattr(owner, attribute)) for name in given for owner, attribute in slots[name]]
    try:
        for name, value in given.items():
            for owner, attribute in slots[name]:
                setattr(owner, attribute, value)
        args = args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, attribute, original in saved:
            setattr(owner, attribute, original)


# ---- how a transform calls f and differentiates it ----------------------------------------------------
class _Call:
    """f called once with fresh inputs for the differentiated arguments, and what a transform needs after:
    ``inputs`` (flat), ``outputs`` (a tuple of Tensors), ``aux``, and ways to differentiate and shape."""

    def __init__(self, f, args, kwargs, argnums, has_aux, who, trees=True):
        self.has_aux = has_aux
        self.many = isinstance(argnums, tuple)  # a tuple of argnums gives a tuple of results
        self.argnums = _checked_argnums(argnums, len(args), who)
        self.create_graph = is_grad_enabled()
        # Arrays among the other arguments become (constant) Tensors too: f is written for Tensors.
        args = [Tensor(a) if isinstance(a, np.ndarray) and i not in self.argnums else a for i, a in enumerate(args)]
        self.inputs, self.rebuild = [], []
        self.stand_ins = []  # leaves a transform makes for itself (jvp's stand-in cotangents): private too
        for a in self.argnums:
            leaves, build = _flatten(args[a]) if trees else ([args[a]], lambda new: new[0])
            fresh = [_fresh_input(v, who, f"argument {a}") for v in leaves]
            args[a] = build(fresh)
            self.inputs += fresh
            self.rebuild.append((build, len(fresh)))
        with enable_grad():
            result = f(*args, **kwargs)
        self.aux = None
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError(f"{who}: with has_aux=True, f must return a tuple (output, aux), "
                                f"got {type(result).__name__}")
            result, self.aux = result
        self.result = result
        self.outputs = _as_tuple(result)
        for i, out in enumerate(self.outputs):
            if not isinstance(out, Tensor):
                raise TypeError(f"{who}: f must return a Tensor (or a tuple of Tensors); output {i} is a "
                                f"{type(out).__name__}")

    def gradients(self, outputs, seeds, keep_graph=False):
        """d(Σ seedᵢ · outputᵢ)/d(input) for every input: zeros where the outputs do not depend on it."""
        roots = [(o, s) for o, s in zip(outputs, seeds, strict=True) if o.requires_grad]
        grads = [None] * len(self.inputs)
        if roots:
            grads = autograd.grad([o for o, _ in roots], self.inputs, [s for _, s in roots],
                                  create_graph=self.create_graph, retain_graph=keep_graph or self.create_graph,
                                  allow_unused=True)
        return [zeros_like(x) if g is None else self.lowered(g) for g, x in zip(grads, self.inputs, strict=True)]

    def lowered(self, value):
        """``value`` as the caller sees it: still in the graph if it depends on a tensor from outside this
        call (an outer transform's input, a parameter f closes over), else cut off from the private graph."""
        if isinstance(value, tuple):
            return tuple(self.lowered(v) for v in value)
        if not isinstance(value, Tensor) or not value.requires_grad:
            return value
        own = {id(x) for x in self.inputs + self.stand_ins if x.op is None}
        stack, seen = [value], set()
        while stack:
            t = stack.pop()
            if id(t) in seen or id(t) in own:
                continue
            seen.add(id(t))
            if t.op is None or t.op.inputs is None:  # a leaf from outside, or a graph another pass released
                return value
            stack.extend(x for x in t.op.inputs if x.requires_grad)
        return value.detach()

    def shaped(self, flat, always_tuple=False):
        """Flat per-input gradients back in the form of the arguments: one, or a tuple for tuple argnums."""
        groups, start = [], 0
        for build, n in self.rebuild:
            groups.append(build(flat[start:start + n]))
            start += n
        return tuple(groups) if always_tuple or self.many else groups[0]

    def jacobian_result(self, jacobians):
        """[output][input] Jacobians in torch.func's form: a tuple over inputs for tuple argnums, over outputs
        for a tuple of outputs."""
        per_output = [tuple(j) if self.many else j[0] for j in jacobians]
        result = tuple(per_output) if isinstance(self.result, tuple) else per_output[0]
        return (result, self.aux) if self.has_aux else result


class _Transposed:
    """The transpose trick: one backward pass from stand-in cotangents u, recorded, gives uᵀJ as a function
    of u; differentiating it with respect to u gives J times a direction, one column or one tangent."""

    def __init__(self, call):
        self.call = call
        self.cotangents = [zeros_like(o, requires_grad=True) for o in call.outputs]
        call.stand_ins += self.cotangents
        roots = [(o, u) for o, u in zip(call.outputs, self.cotangents, strict=True) if o.requires_grad]
        self.transposed = [None] * len(call.inputs)  # uᵀJ for each input
        if roots:
            self.transposed = list(autograd.grad([o for o, _ in roots], call.inputs, [u for _, u in roots],
                                                 create_graph=True, retain_graph=True, allow_unused=True))

    def _by_cotangent(self, scalar):
        """d(scalar)/du for each stand-in cotangent u: one Jacobian-vector product per output."""
        if scalar is None or not scalar.requires_grad:
            return [zeros_like(u) for u in self.cotangents]
        grads = autograd.grad(scalar, self.cotangents, create_graph=self.call.create_graph, retain_graph=True,
                              allow_unused=True)
        return [zeros_like(u) if g is None else self.call.lowered(g)
                for g, u in zip(grads, self.cotangents, strict=True)]

    def directional(self, tangents):
        """J t for the tangents t, one per input: d⟨uᵀJ, t⟩/du."""
        terms = [(v * t).sum() for v, t in zip(self.transposed, tangents, strict=True) if v is not None]
        return self._by_cotangent(sum(terms[1:], terms[0]) if terms else None)

    def column(self, x, j):
        """The j-th column of the Jacobian with respect to input x: d(uᵀJ)[j]/du."""
        v = self.transposed[next(i for i, y in enumerate(self.call.inputs) if y is x)]
        return self._by_cotangent(None if v is None else v.reshape(-1)[j])


# ---- helpers ----------------------------------------------------------------------------------------------
def _checked_argnums(argnums, count, who):
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    if not numbers:
        raise ValueError(f"{who}: argnums is an empty tuple; name at least one argument")
    checked = []
    for a in numbers:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{who}: argnums must be an int or a tuple of ints, got {type(a).__name__} {a!r}")
        if not -count <= a < count:
            raise ValueError(f"{who}: argnums {a} is out of range for a function called with {count} positional "
                             f"argument{'s' if count != 1 else ''}")
        checked.append(int(a) % count)
    if len(set(checked)) != len(checked):
        raise ValueError(f"{who}: argnums {argnums} names an argument twice")
    return tuple(checked)


def _fresh_input(value, who, where):
    """A differentiated argument as this transform's own input: a new leaf for data; for a Tensor already in a
    graph, a recorded view of it, so that an outer transform still sees through to it."""
    if isinstance(value, Tensor) and value.requires_grad:
        with enable_grad():
            return Reshape.apply(value, shape=value.shape)
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    if data.dtype.kind != "f":
        raise TypeError(f"{who}: {where} has dtype {data.dtype}; only floating-point inputs can be differentiated")
    return Tensor(data, requires_grad=True)


def _flatten(tree):
    """The Tensors (or arrays) in a dict, list or tuple tree, and a function that builds the same tree
    around new leaves."""
    if not isinstance(tree, (dict, list, tuple)):
        return [tree], lambda new: new[0]
    keys = list(tree) if isinstance(tree, dict) else list(range(len(tree)))
    parts = [_flatten(tree[k]) for k in keys]
    leaves = [leaf for part, _ in parts for leaf in part]

    def build(new):
        built, start = [], 0
        for part, rebuild in parts:
            built.append(rebuild(new[start:start + len(part)]))
            start += len(part)
        if isinstance(tree, dict):
            return dict(zip(keys, built, strict=True))
        return list(built) if isinstance(tree, list) else tuple(built)

    return leaves, build


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _assemble(pieces, out_shape, in_shape, columns=False):
    """Jacobian pieces as one Tensor shaped output.shape + input.shape. Rows (jacrev): one per output element,
    each shaped like the input. Columns (jacfwd): one per input element, each shaped like the output."""
    from .composed import stack

    if any(p.requires_grad for p in pieces):  # a Jacobian an outer transform differentiates again
        matrix = stack([p.reshape(-1) for p in pieces])
        matrix = matrix.T if columns else matrix
    else:
        matrix = np.stack([p.data.reshape(-1) for p in pieces]) if pieces else np.zeros((0, 0))
        matrix = Tensor(matrix.T if columns else matrix)
    return matrix.reshape(out_shape + in_shape)


def _state_slots(module, prefix=""):
    """(state_dict name, owning module, attribute) for every parameter and buffer, tied ones under each name."""
    for name, _ in module._own_parameters() + module._own_buffers():
        yield prefix + name, module, name
    for name, child in module._children():
        yield from _state_slots(child, prefix + name + ".")
