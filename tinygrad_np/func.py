"""Functional transforms, with torch.func's names: ``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``,
``jacrev``, ``jacfwd``, ``hessian``, ``vmap`` and ``functional_call``.

Each takes a function of Tensors (or arrays) and gives back a function, so they compose:
``jacfwd(jacrev(f))`` is a Hessian, ``grad(grad(f))`` a second derivative, ``vmap(grad(loss))`` per-example
gradients. The derivatives are built on the one reverse-mode engine:

* ``vjp`` runs f, then one backward pass from a given cotangent u: uᵀJ, a row combination of the Jacobian;
* ``jvp`` is the transpose trick (reverse over reverse). The backward pass from a stand-in cotangent u,
  recorded, gives uᵀJ as a function of u, linear in u; differentiating ⟨uᵀJ, t⟩ with respect to u gives
  J t. So forward mode needs no second rule per op: each op's one ``backward`` serves. It costs a forward,
  a recorded backward and a backward through that, about 3 to 4 plain backward passes
  (docs/forward_and_reverse.md measures it);
* ``linearize`` keeps that recorded backward pass and hands back J t as a function of t, which runs only
  the last step: f is not run again;
* ``jacrev`` stacks rows from one backward per output element, ``jacfwd`` columns from one pass per input
  element, both reusing one forward (and ``jacfwd`` one recorded backward).

``vmap`` is not a derivative: it runs f, written for one example, on a whole batch at once, each op by its
batching rule (batching.py), so the backward pass of ``vmap(grad(f))`` is one pass over the batch.

Nesting works by giving each transform its own inputs: a differentiated argument becomes a fresh leaf, or,
if it is already in a graph (an outer transform's input, a parameter), a recorded view of it, so the inner
transform differentiates with respect to its own argument while the outer one still sees through. While
recording is on, every gradient is computed with ``create_graph=True``; a result that turns out to depend
on nothing from outside the transform is handed back cut off from the transform's private graph, as
torch.func hands back a plain tensor. Inside vmap, a transform's inputs are made per-example copies (one
per example, broadcast, so nothing is copied), so that the gradient of each example's output is taken with
respect to its own copy: a per-example gradient, not the sum over the batch.
"""
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import batching
from .core import autograd
from .core.grad_mode import enable_grad, is_grad_enabled
from .core.jit_seam import refuse_in_trace
from .core.tensor import Tensor
from .factories import zeros_like
from .ops import Reshape

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call"]

Argnums = int | tuple[int, ...]


# ---- the transforms -----------------------------------------------------------------------------------
def grad_and_value(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning (the gradient of f's scalar output with respect to the arguments in ``argnums``,
    f's output). With ``has_aux``, f returns (output, aux) and the function returns (gradient, (output, aux)).
    An argument may be a Tensor, an array, or a dict, list or tuple of them (parameters for functional_call);
    its gradient has the same form. Arguments not differentiated are passed as they are, except that arrays and
    NumPy scalars become Tensors of the same dtype (integer labels stay integers)."""
    def wrapper(*args, **kwargs):
        call = _Call(f, args, kwargs, argnums, has_aux, "grad")
        if isinstance(call.result, tuple):
            raise RuntimeError(f"grad: f must return one Tensor (a scalar loss), got a tuple of {len(call.result)}")
        out = call.result
        if out.size != 1:
            raise RuntimeError(f"grad: f must return a one-element Tensor (a scalar loss), got shape {out.shape}; "
                               "for an output with more elements use vjp, jacrev or jacfwd")
        grads = call.gradients([out], [None])
        value = call.lowered_output(out)
        return call.shaped(grads), ((value, call.aux) if has_aux else value)

    return wrapper


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the gradient of f's scalar output with respect to the arguments in ``argnums``
    (a tuple of gradients for a tuple of argnums); with ``has_aux``, (gradient, aux)."""
    both = grad_and_value(f, argnums, has_aux)

    def wrapper(*args, **kwargs):
        gradients, value = both(*args, **kwargs)
        return (gradients, value[1]) if has_aux else gradients

    return wrapper


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple:
    """(f(*primals), vjp_fn): ``vjp_fn(cotangent)`` gives uᵀJ for a cotangent u shaped like the output (a tuple
    of them for a tuple of outputs), as a tuple with one gradient per primal. vjp_fn may be called again; called
    inside a vmap that began after this vjp (a batch of cotangents), it runs once per cotangent."""
    call = _Call(f, primals, {}, tuple(range(len(primals))), has_aux, "vjp")

    def vjp_fn(cotangents):
        cotangents = _as_tuple(cotangents)
        if len(cotangents) != len(call.outputs):
            raise ValueError(f"vjp: f returned {len(call.outputs)} outputs but vjp_fn got {len(cotangents)} "
                             "cotangents")
        cotangents = tuple(_as_like(u, out, "vjp", f"cotangent {i}", f"output {i}")
                           for i, (u, out) in enumerate(zip(cotangents, call.outputs, strict=True)))
        return call.per_example(lambda *us: call.shaped(call.gradients(call.outputs, us, keep_graph=True),
                                                        always_tuple=True), cotangents)

    value = call.lowered_output(call.result)
    return (value, vjp_fn, call.aux) if has_aux else (value, vjp_fn)


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False) -> tuple:
    """(f(*primals), J t): the derivative of f at ``primals`` in the direction ``tangents`` (tuples, one
    tangent shaped like each primal). Computed by the transpose trick: see this module's docstring."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    call = _Call(f, primals, {}, tuple(range(len(primals))), has_aux, "jvp")
    tangents = call.tangents(tangents, "jvp")
    products = _Transposed(call).directional(tangents)
    out = call.lowered_output(call.result)
    jvp_out = products if isinstance(call.result, tuple) else products[0]
    return (out, jvp_out, call.aux) if has_aux else (out, jvp_out)


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """(f(*primals), jvp_fn), as in torch.func and JAX: ``jvp_fn(*tangents)`` gives J t, the derivative of f at
    ``primals`` in the direction of the tangents (one shaped like each primal), as often as it is called.

    jvp_fn applies the linear map kept from this one call and does not run f again: it holds f's graph and
    the recorded backward pass u ↦ uᵀJ (the transpose trick, see this module's doc), and each call is one
    backward pass through that. The memory of both is held as long as jvp_fn is. Called inside a vmap that
    began after linearize (a batch of tangents), it runs once per tangent."""
    call = _Call(f, primals, {}, tuple(range(len(primals))), False, "linearize")
    transposed = _Transposed(call)

    def jvp_fn(*tangents):
        if len(tangents) != len(call.inputs):
            raise ValueError(f"linearize: f was linearized at {len(call.inputs)} primals but jvp_fn got "
                             f"{len(tangents)} tangents; give one tangent per primal")
        checked = tuple(_as_like(t, x, "linearize", f"tangent {i}", f"primal {i}")
                        for i, (t, x) in enumerate(zip(tangents, call.facing_inputs, strict=True)))

        def one(*ts):
            products = transposed.directional(call.tangents(ts, "linearize"))
            return products if isinstance(call.result, tuple) else products[0]

        return call.per_example(one, checked)

    return call.lowered_output(call.result), jvp_fn


def jacrev(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the Jacobian of f with respect to the arguments in ``argnums``, shaped
    output.shape + input.shape, built row by row: one backward pass per output element, one forward."""
    def wrapper(*args, **kwargs):
        call = _Call(f, args, kwargs, argnums, has_aux, "jacrev", trees=False)
        jacobians = []
        for out in call.outputs:
            physical, levels = batching.view_of(out)
            rows = []
            for i in range(out.size):
                onehot = np.zeros(out.size, dtype=out.dtype)
                onehot[i] = 1
                seed = Tensor(np.broadcast_to(onehot.reshape(out.shape), physical.shape))
                rows.append(call.gradients([out], [seed], keep_graph=True, physical_seeds=True))
            jacobians.append([call.assemble([r[k] for r in rows], out.shape, x.shape)
                              for k, x in enumerate(call.facing_inputs)])
        return call.jacobian_result(jacobians)

    return wrapper


def jacfwd(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the Jacobian of f with respect to the arguments in ``argnums``, shaped
    output.shape + input.shape, built column by column from jvp: one pass per input element, over one
    forward and one recorded backward."""
    def wrapper(*args, **kwargs):
        call = _Call(f, args, kwargs, argnums, has_aux, "jacfwd", trees=False)
        transposed = _Transposed(call)
        jacobians = [[] for _ in call.outputs]  # type: ignore[var-annotated]
        for k, x in enumerate(call.facing_inputs):
            columns = [transposed.column(k, j) for j in range(x.size)]  # each: one tensor per output
            for o, out in enumerate(call.outputs):
                jacobians[o].append(call.assemble([c[o] for c in columns], out.shape, x.shape, columns=True))
        return call.jacobian_result(jacobians)

    return wrapper


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Hessian of f's scalar output: jacfwd(jacrev(f)), forward over reverse."""
    return jacfwd(jacrev(f, argnums), argnums)


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0) -> Callable[..., Any]:
    """``func``, written for one example, run on a batch: as torch.func.vmap.

    ``in_dims`` says which axis of each argument is the batch axis: an int for every argument, or one entry
    per argument (a tuple), each an int, None (the argument is the same for every example) or, for a dict,
    list or tuple argument, a matching structure of them. ``out_dims`` says where the batch axis goes in each
    output, likewise. Every batched argument must have the same size along its batch axis. Arrays and Tensors
    can be batched; integer arrays (labels) keep their dtype.

    func runs once, on tensors that show it one example's shape and hold the whole batch; each op runs once for
    the whole batch by its batching rule, as NumPy on the batched arrays (batching.py). An op without a rule
    (or a case its rule leaves out, such as an index that differs between examples other than as an integer
    array) runs once per example and stacks the results: correct, and slower. vmap composes with every
    transform here, and with itself: ``vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)`` gives one
    gradient per example; ``vmap(vmap(f))`` maps over two axes.

    Refused, with an error saying so: a random draw inside func (as torch.func's default, randomness="error");
    reading a batched value into Python (``.item()``, ``if``, ``.numpy()``), which has no one value; calling
    ``backward()`` inside (use func.grad); a batched tensor kept and used after vmap returned.
    """
    def wrapper(*args):
        refuse_in_trace("func.vmap", "a replay runs the recorded array operations, and vmap's batching is not "
                        "one of them")
        dims = _in_dims_per_argument(in_dims, args)
        leaves = []  # (argument index, flat position, value, dim)
        flat_args = []
        for a, (arg, dim) in enumerate(zip(args, dims, strict=True)):
            values, build = _flatten(arg)
            per_leaf = _dims_per_leaf(dim, arg, len(values), a)
            flat_args.append((values, build))
            leaves += [(a, j, v, d) for j, (v, d) in enumerate(zip(values, per_leaf, strict=True)) if d is not None]
        size = _batch_size(leaves)
        level = batching.enter(size)
        try:
            new_args = []
            for a, (values, build) in enumerate(flat_args):
                values = list(values)
                for arg_index, j, v, d in leaves:
                    if arg_index == a:
                        values[j] = batching.batch(v, level, d)
                new_args.append(build(values))
            result = func(*new_args)
            return _unbatched(result, out_dims, level)
        finally:
            batching.leave(level)

    return wrapper


def functional_call(module: Any, parameters_and_buffers: Any, args: Any, kwargs: dict | None = None, *,
                    tie_weights: bool = True) -> Any:
    """``module(*args, **kwargs)`` with the named tensors in ``parameters_and_buffers`` (a dict, or a tuple
    of dicts, by state_dict name) in place of the module's own, which are left untouched and are back in
    place afterwards, even if the call raises. A name the module does not have is an error. As in PyTorch, the
    swap is on the module itself: another thread calling the same module meanwhile sees the given tensors.

    ``tie_weights`` (True, torch.func's default): a tensor the module holds under several names (a language
    model's embedding reused as its output layer) is replaced under all of them by the value given for any one
    (``dict(model.named_parameters())`` names it once), so gradients reach it through every use. Different
    values given for two tied names are refused. With False, only the names given are replaced."""
    dicts = parameters_and_buffers if isinstance(parameters_and_buffers, (tuple, list)) else (parameters_and_buffers,)
    given: dict[str, Any] = {}
    made: dict[int, tuple] = {}  # one Tensor an array, so an array given under two tied names is one value
    for d in dicts:
        for name, value in d.items():
            if name in given:
                raise ValueError(f"functional_call: {name!r} is given twice")
            if not isinstance(value, Tensor):
                value = made.setdefault(id(value), (value, Tensor(np.asarray(value))))[1]
            given[name] = value
    slots: dict[str, list] = {}
    held: dict[str, Tensor] = {}  # what the module holds under each name now
    for name, owner, attribute in _state_slots(module):
        slots.setdefault(name, []).append((owner, attribute))
        held[name] = getattr(owner, attribute)
    unknown = sorted(set(given) - set(slots))
    if unknown:
        raise KeyError(f"functional_call: {type(module).__name__} has no parameter or buffer {', '.join(unknown)}")
    if tie_weights:
        given = _tied(given, held)
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
    ``inputs`` (flat, physical: what gradients are taken for), ``facing_inputs`` (the same as f saw them),
    ``outputs`` (as f returned them), ``aux``, and ways to differentiate and shape.

    Outside vmap the physical and the facing tensors are the same. Inside, ``levels`` are the vmap levels
    running, every input is batched over all of them, and results are handed back batched likewise."""

    def __init__(self, f, args, kwargs, argnums, has_aux, who, trees=True):
        self.has_aux, self.who = has_aux, who
        self.many = isinstance(argnums, tuple)  # a tuple of argnums gives a tuple of results
        self.argnums = _checked_argnums(argnums, len(args), who)
        self.create_graph = is_grad_enabled()
        self.levels = batching.active_levels()
        self.private = set()  # ids of the leaves this call made (fresh inputs, stand-in cotangents)
        # Arrays among the other arguments become (constant) Tensors too, of their own dtype: f is written for
        # Tensors, and integer labels must stay integers.
        args = [Tensor(a, dtype=a.dtype) if isinstance(a, (np.ndarray, np.generic)) and i not in self.argnums else a
                for i, a in enumerate(args)]
        self.inputs, self.facing_inputs, self.rebuild = [], [], []
        for a in self.argnums:
            leaves, build = _flatten(args[a]) if trees else ([args[a]], lambda new: new[0])
            fresh = [self._fresh_input(v, f"argument {a}") for v in leaves]
            facing = [batching.wrap(x, self.levels) for x in fresh]
            args[a] = build(facing)
            self.inputs += fresh
            self.facing_inputs += facing
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

    def _fresh_input(self, value, where):
        """A differentiated argument as this call's own input (physical): a new leaf for data; for a Tensor
        already in a graph, a recorded view of it, so that an outer transform still sees through to it. Inside
        vmap, broadcast over every running level, one copy per example."""
        if isinstance(value, Tensor):
            physical, own = batching.view_of(value)
        else:
            data = np.asarray(value)
            physical, own = Tensor(data, dtype=data.dtype), ()
        if physical.requires_grad:
            with enable_grad():
                fresh = Reshape.apply(physical, shape=physical.shape)
                return fresh if own == self.levels else batching.broadcast_over(fresh, own, self.levels)
        if physical.dtype.kind != "f":
            raise TypeError(f"{self.who}: {where} has dtype {physical.dtype}; only floating-point inputs can be "
                            "differentiated")
        data = physical._data
        if own != self.levels:  # the copies are a broadcast view, and the leaf itself: backward stops there
            data = batching.broadcast_over(physical, own, self.levels)._data
        fresh = Tensor(data, requires_grad=True)
        self.private.add(id(fresh))
        return fresh

    def tangents(self, tangents, who):
        """Tangents (one per input, each of its facing shape) as physical tensors shaped like the inputs."""
        checked = []
        for i, (x, t) in enumerate(zip(self.inputs, tangents, strict=True)):
            t = _as_like(t, self.facing_inputs[i], who, f"tangent {i}", f"primal {i}")
            checked.append(batching.aligned_to(t, x, self.levels))
        return checked

    def gradients(self, outputs, seeds, keep_graph=False, physical_seeds=False):
        """d(Σ seedᵢ · outputᵢ)/d(input) for every input, as f saw the inputs: zeros where the outputs do not
        depend on it. A seed None is ones."""
        roots, root_seeds = [], []
        for out, seed in zip(outputs, seeds, strict=True):
            physical, levels = batching.view_of(out)
            if not physical.requires_grad:
                continue
            if seed is None:
                seed = Tensor(np.ones(physical.shape, dtype=physical.dtype))
            elif not physical_seeds:
                seed = batching.aligned_to(seed, physical, levels)
            roots.append(physical)
            root_seeds.append(seed)
        grads = [None] * len(self.inputs)
        if roots:
            grads = list(autograd.grad(roots, self.inputs, root_seeds, create_graph=self.create_graph,
                                       retain_graph=keep_graph or self.create_graph, allow_unused=True))
        return [batching.wrap(zeros_like(x) if g is None else self.lowered(g), self.levels)
                for g, x in zip(grads, self.inputs, strict=True)]

    def lowered(self, value):
        """A physical ``value`` as the caller sees it: still in the graph if it depends on a tensor from outside
        this call (an outer transform's input, a parameter f closes over), else cut off from the private graph."""
        if not isinstance(value, Tensor) or not value.requires_grad:
            return value
        stack, seen = [value], set()
        while stack:
            t = stack.pop()
            if id(t) in seen or id(t) in self.private:
                continue
            seen.add(id(t))
            if t.op is None or t.op.inputs is None:  # a leaf from outside, or a graph another pass released
                return value
            stack.extend(x for x in t.op.inputs if x.requires_grad)
        return value.detach()

    def lowered_output(self, value):
        """f's output (or a tuple of them) lowered, as f returned it (batched inside vmap)."""
        if isinstance(value, tuple):
            return tuple(self.lowered_output(v) for v in value)
        if not isinstance(value, Tensor):
            return value
        physical, levels = batching.view_of(value)
        return batching.wrap(self.lowered(physical), levels)

    def per_example(self, body, values):
        """``body(*values)``; but if the values carry vmap levels begun after this call (vjp_fn or jvp_fn called
        inside a later vmap), once per example of those, the results stacked."""
        later = tuple(level for level in batching.active_levels() if level not in self.levels)
        carried = set()
        for v in values:
            carried.update(batching.view_of(v)[1] if isinstance(v, Tensor) else ())
        later = tuple(level for level in later if level in carried)
        if not later:
            return body(*values)
        spread = [list(batching.example_slices(v, later)) if isinstance(v, Tensor) and set(later) & set(
            batching.view_of(v)[1]) == set(later) else None for v in values]
        count = int(np.prod(batching.sizes_of(later)))
        results = []
        for i in range(count):
            example = [v if s is None else s[i] for v, s in zip(values, spread, strict=True)]
            results.append(body(*example))
        first = results[0]
        if isinstance(first, tuple):
            return tuple(batching.stacked([r[j] for r in results], later, self._levels_of(first[j]))
                         for j in range(len(first)))
        return batching.stacked(results, later, self._levels_of(first))

    def _levels_of(self, value):
        return batching.view_of(value)[1]

    def shaped(self, flat, always_tuple=False):
        """Flat per-input gradients back in the form of the arguments: one, or a tuple for tuple argnums."""
        groups, start = [], 0
        for build, n in self.rebuild:
            groups.append(build(flat[start:start + n]))
            start += n
        return tuple(groups) if always_tuple or self.many else groups[0]

    def assemble(self, pieces, out_shape, in_shape, columns=False):
        """Jacobian pieces as one Tensor shaped output.shape + input.shape (over the vmap levels, inside vmap).
        Rows (jacrev): one per output element, each shaped like the input. Columns (jacfwd): one per input
        element, each shaped like the output."""
        from .composed import stack

        batch = batching.sizes_of(self.levels)
        physical = [self._over_levels(*batching.view_of(p)) for p in pieces]
        axis = len(batch) + (1 if columns else 0)
        if not physical:
            matrix = Tensor(np.zeros(batch + (0, 0)))
        elif any(p.requires_grad for p in physical):  # a Jacobian an outer transform differentiates again
            matrix = stack([p.reshape(batch + (-1,)) for p in physical], axis=axis)
        else:
            matrix = Tensor(np.stack([p._data.reshape(batch + (-1,)) for p in physical], axis=axis))
        return batching.wrap(matrix.reshape(batch + out_shape + in_shape), self.levels)

    def _over_levels(self, physical, own):
        """A physical piece over all of this call's levels (an output that does not depend on a level is
        broadcast over it)."""
        return physical if own == self.levels else batching.broadcast_over(physical, own, self.levels)

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
        self.views = [batching.view_of(o) for o in call.outputs]  # (physical, levels) of each output
        self.cotangents = [zeros_like(p, requires_grad=True) for p, _ in self.views]
        call.private.update(id(u) for u in self.cotangents)
        roots = [(p, u) for (p, _), u in zip(self.views, self.cotangents, strict=True) if p.requires_grad]
        self.transposed = [None] * len(call.inputs)  # uᵀJ for each input (physical)
        if roots:
            self.transposed = list(autograd.grad([p for p, _ in roots], call.inputs, [u for _, u in roots],
                                                 create_graph=True, retain_graph=True, allow_unused=True))

    def _by_cotangent(self, scalar):
        """d(scalar)/du for each stand-in cotangent u: one Jacobian-vector product per output, as f returned
        the outputs (batched over their levels inside vmap)."""
        if scalar is None or not scalar.requires_grad:
            grads = [None] * len(self.cotangents)
        else:
            grads = autograd.grad(scalar, self.cotangents, create_graph=self.call.create_graph, retain_graph=True,
                                  allow_unused=True)
        return [batching.wrap(zeros_like(u) if g is None else self.call.lowered(g), levels)
                for g, u, (_, levels) in zip(grads, self.cotangents, self.views, strict=True)]

    def directional(self, tangents):
        """J t for the tangents t (physical, one per input): d⟨uᵀJ, t⟩/du. Inside vmap the inner product also
        sums over the batch, which changes nothing: each example's u meets only its own t."""
        terms = [(v * t).sum() for v, t in zip(self.transposed, tangents, strict=True) if v is not None]
        return self._by_cotangent(sum(terms[1:], terms[0]) if terms else None)

    def column(self, k, j):
        """The j-th column of the Jacobian with respect to input k: d(uᵀJ)[j]/du, every example's j-th."""
        v = self.transposed[k]
        if v is None:
            return self._by_cotangent(None)
        batch = batching.sizes_of(self.call.levels)
        return self._by_cotangent(v.reshape(batch + (-1,))[(slice(None),) * len(batch) + (j,)].sum())


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


def _as_like(value, like, who, what, whose):
    """A cotangent or tangent as a Tensor of ``like``'s dtype, its (one example's) shape checked."""
    value = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=like.dtype))
    if value.shape != like.shape:
        raise ValueError(f"{who}: {what} has shape {value.shape} but {whose} has shape {like.shape}")
    return value


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


def _tied(given, held):
    """``given`` with each value also under every other name the module holds the same tensor by (torch.func's
    tie_weights=True); different values given for names of one tensor are refused."""
    names_of: dict[int, list[str]] = {}
    for name, tensor in held.items():
        names_of.setdefault(id(tensor), []).append(name)
    given = dict(given)
    for names in names_of.values():
        values = {id(given[n]): given[n] for n in names if n in given}
        if len(values) > 1:
            raise ValueError(f"functional_call: got different values for {', '.join(sorted(names))}, which the module "
                             "ties (one tensor under each name); give one of them, or pass tie_weights=False")
        if values:
            value = next(iter(values.values()))
            given.update((n, value) for n in names)
    return given


def _state_slots(module, prefix=""):
    """(state_dict name, owning module, attribute) for every parameter and buffer, tied ones under each name."""
    for name, _ in module._own_parameters() + module._own_buffers():
        yield prefix + name, module, name
    for name, child in module._children():
        yield from _state_slots(child, prefix + name + ".")


# ---- vmap's arguments and results ------------------------------------------------------------------------
def _in_dims_per_argument(in_dims, args):
    if isinstance(in_dims, (tuple, list)):
        if len(in_dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(in_dims)} entries but the function was called with "
                             f"{len(args)} positional arguments; give one entry per argument (None for an "
                             "argument that is the same for every example)")
        return list(in_dims)
    if in_dims is not None and not isinstance(in_dims, (int, np.integer)):
        raise TypeError(f"vmap: in_dims must be an int, None or a tuple of them (one per argument), got "
                        f"{type(in_dims).__name__}")
    return [in_dims] * len(args)


def _dims_per_leaf(dim, arg, count, a):
    """One in_dim for each leaf of argument ``a``: one for all of them, or from a structure matching it."""
    if dim is None or isinstance(dim, (int, np.integer)):
        return [None if dim is None else int(dim)] * count
    if isinstance(dim, (dict, list, tuple)) and isinstance(arg, (dict, list, tuple)):
        if isinstance(dim, dict) != isinstance(arg, dict) or set(_keys(dim)) != set(_keys(arg)):
            raise ValueError(f"vmap: in_dims for argument {a} does not match its structure (keys or length)")
        dims = []
        for key in _keys(arg):
            dims += _dims_per_leaf(dim[key], arg[key], len(_flatten(arg[key])[0]), a)
        return dims
    raise ValueError(f"vmap: in_dims for argument {a} is a {type(dim).__name__} but the argument is a "
                     f"{type(arg).__name__}; give an int or None, or a structure matching the argument")


def _keys(tree):
    return list(tree) if isinstance(tree, dict) else list(range(len(tree)))


def _batch_size(leaves):
    if not leaves:
        raise ValueError("vmap: no argument is batched (every in_dims entry is None, or the function takes no "
                         "Tensors); batch at least one argument")
    sizes = []
    for a, _, value, dim in leaves:
        if not isinstance(value, (Tensor, np.ndarray)):
            raise ValueError(f"vmap: in_dims {dim} for argument {a}, a {type(value).__name__}; only Tensors and "
                             "arrays can be batched (give None for this argument)")
        shape = value.shape
        if not -len(shape) <= dim < len(shape):
            raise ValueError(f"vmap: in_dims {dim} is out of range for argument {a}, of shape {tuple(shape)}")
        sizes.append(shape[dim])
    if len(set(sizes)) != 1:
        raise ValueError(f"vmap: the batched arguments have different sizes along their batch axes, {sizes}; they "
                         "must all be the same")
    if sizes[0] == 0:
        raise ValueError("vmap: the batch axis has size 0; there is no example to run the function on")
    return sizes[0]


def _unbatched(result, out_dims, level):
    if isinstance(result, (tuple, list, dict)):
        keys = _keys(result)
        if isinstance(out_dims, (tuple, list, dict)):
            if set(_keys(out_dims)) != set(keys):
                raise ValueError("vmap: out_dims does not match the structure of the function's result")
            parts = [_unbatched(result[k], out_dims[k], level) for k in keys]
        else:
            parts = [_unbatched(result[k], out_dims, level) for k in keys]
        if isinstance(result, dict):
            return dict(zip(keys, parts, strict=True))
        return type(result)(parts)
    if isinstance(result, np.ndarray):
        result = Tensor(result, dtype=result.dtype)
    if not isinstance(result, Tensor):
        raise ValueError(f"vmap: the function must return Tensors (or tuples, lists and dicts of them), got "
                         f"{type(result).__name__}")
    if not isinstance(out_dims, (int, np.integer)):
        raise ValueError(f"vmap: out_dims must be an int (or a structure of ints matching the result), got "
                         f"{out_dims!r}")
    return batching.unbatch(result, level, int(out_dims))
