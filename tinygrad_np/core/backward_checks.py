"""The checks the backward pass makes on every op, and the errors it raises: each names the op and says
what to do. autograd.py calls them at one place each, so its loop stays the algorithm.

* an op whose saved arrays an earlier backward released cannot be differentiated again;
* an op whose input or output changed in place after it ran (an optimizer step before backward()) would be
  differentiated at the new values: refused, as PyTorch does;
* a rule takes (dz, z, *inputs), checked when its class is made, and returns one gradient (or None) per
  input, shaped like it, and on a recorded pass a Tensor;
* a gradient in another dtype than its input (mixed precision) is cast to the input's.
"""
import inspect

from .tensor import Tensor


def refuse_if_stale(fn, output):
    """Refuse an op that was released by an earlier backward, or whose inputs or ``output`` changed in place
    after it ran (Tensor.data)."""
    if fn.inputs is None:
        raise RuntimeError(f"backward: {fn.name} can't be differentiated again: {fn.released_because}. "
                           "Pass retain_graph=True to the first backward() to go through a graph "
                           "twice, or recompute the forward pass.")
    check_unchanged(fn, output)


def check_unchanged(fn, output):
    """Refuse to differentiate ``fn`` if its inputs or ``output`` changed in place after it ran (Tensor.data)."""
    seq = fn.seq
    if output._version > seq:
        raise modified_in_place(fn, output)
    for x in fn.inputs:
        if x._version > seq:
            raise modified_in_place(fn, x)


def modified_in_place(fn, t):
    """The error for an op whose input or output ``t`` changed after the op ran."""
    i = next((i for i, x in enumerate(fn.inputs) if x is t), None)
    what = f"input {i}" if i is not None else "its output"
    return RuntimeError(
        f"{fn.name}: {what} (shape {t.shape}) was modified in place after {fn.name} used it (an optimizer "
        "step or an assignment to .data before backward()), so its gradient would be computed at the new "
        "values. Call backward() before changing it, or recompute the forward pass after the change."
    )


def broken_contract(fn, input_grads):
    """The error for a rule that returned something other than one gradient or None per input."""
    if len(input_grads) != len(fn.inputs):
        return TypeError(f"{fn.name}.backward returned {len(input_grads)} gradients for "
                         f"{len(fn.inputs)} inputs; return one per input (None where there is none)")
    i, g = next((i, g) for i, g in enumerate(input_grads) if g is not None and not isinstance(g, Tensor))
    return TypeError(f"{fn.name}.backward returned a {type(g).__name__} for input {i} on a recorded pass, where "
                     "it is given Tensors; a rule must compute with operations Tensors have, so that "
                     "create_graph can differentiate it again")


def checked(fn, input_grads):
    """A recorded rule's result as a tuple of one Tensor or None per input, or an error naming the op."""
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(fn.inputs):
        raise broken_contract(fn, input_grads)
    for g in input_grads:
        if g is not None and not isinstance(g, Tensor):
            raise broken_contract(fn, input_grads)
    return input_grads


def fitted(fn, g, x):
    """A gradient whose dtype or shape differs from its input's: cast it (mixed precision: a gradient takes its
    input's dtype), or, for a shape, refuse the rule that returned it."""
    if g.shape != x.shape:
        raise RuntimeError(f"{fn.name}.backward returned a gradient of shape {g.shape} for an input of shape "
                           f"{x.shape}")
    return g if g.dtype == x.dtype else g.astype(x.dtype)


def check_rule_signature(cls):
    """A rule written as backward(self, dz), the form before one rule served both passes, is refused when
    its class is made: called with (dz, z, *inputs) it would fail later, with a message about arguments."""
    params = list(inspect.signature(cls.backward).parameters.values())[1:]
    if len(params) < 2 and not any(p.kind is p.VAR_POSITIONAL for p in params):
        raise TypeError(f"{cls.__name__}.backward takes ({', '.join(p.name for p in params)}); a rule takes "
                        "(dz, z, *inputs): dL/dz, the output and the inputs, all arrays on a plain backward "
                        "pass and all Tensors on a recorded one (docs/adding_an_op.md)")
