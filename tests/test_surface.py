"""A surface a user can find: every public Tensor attribute and every ``F`` function has a docstring of its own,
which ``help()`` shows; every op states its derivative there; the Tensor class docstring indexes, by module,
every method attached from another module."""
import ast
import inspect
import pydoc
import re
from pathlib import Path

import pytest

import tinygrad_np as tg
import tinygrad_np.nn.functional as F
import tinygrad_np.typing as tinygrad_np_typing
from tinygrad_np import Tensor

# Public Tensor attributes that are not ops (no value to differentiate), so their docstrings need no derivative.
NOT_OPS = {"data", "grad", "shape", "ndim", "dtype", "size", "requires_grad", "op", "retains_grad", "is_leaf",
           "numpy", "item", "numel", "dim", "backward", "bump_version", "retain_grad", "requires_grad_",
           "register_hook"}
STATES_A_DERIVATIVE = re.compile(r"d/d|dL/d|derivative|gradient")


def own_docstring(owner, name):
    """The docstring ``owner.name`` has of its own (not one inherited from a base class or a wrapped type)."""
    value = vars(owner)[name]
    if isinstance(value, property):
        return value.__doc__ or (value.fget.__doc__ if value.fget else None)
    if type(value).__name__ == "member_descriptor":  # a slot: its doc is the value in the __slots__ dict
        return owner.__slots__.get(name) if isinstance(owner.__slots__, dict) else None
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    return value.__doc__


def public_tensor_attributes():
    return sorted(name for name in vars(Tensor) if not name.startswith("_"))


def origin(name):
    """The module that defined the Tensor attribute ``name``."""
    value = vars(Tensor)[name]
    function = value.fget if isinstance(value, property) else value
    return getattr(function, "__module__", Tensor.__module__)


def test_every_public_tensor_attribute_has_a_docstring_of_its_own():
    names = public_tensor_attributes()
    assert len(names) > 100  # the methods attached from other modules are there too
    missing = [name for name in names if not (own_docstring(Tensor, name) or "").strip()]
    assert missing == []


def test_every_op_method_states_its_derivative():
    ops = [name for name in public_tensor_attributes() if name not in NOT_OPS and callable(vars(Tensor)[name])
           or name == "T"]
    silent = [name for name in ops if not STATES_A_DERIVATIVE.search(own_docstring(Tensor, name) or "")]
    assert silent == []
    assert {"sum", "max", "exp", "reshape", "softmax", "mean", "tan", "floor"} <= set(ops)


def test_operators_state_their_derivative_too():
    for name in ("__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__neg__", "__matmul__", "__getitem__"):
        assert STATES_A_DERIVATIVE.search(own_docstring(Tensor, name) or ""), name


def test_help_shows_a_methods_own_docstring():
    x = tg.ones(2, 3)
    for method, words in ((x.sum, "broadcast back"), (x.softmax, "log_softmax"), (x.size, "PyTorch"),
                          (x.register_hook, "backward")):
        text = pydoc.render_doc(method, renderer=pydoc.plaintext)
        assert words in text, (method, text)
    page = pydoc.render_doc(Tensor, renderer=pydoc.plaintext)
    assert "The Function that made this tensor" in page  # a slot's doc, from the __slots__ dict


def index_of_attached_methods():
    """{module: names} from the class docstring's bullets ``* module (what): name name ...``."""
    doc = inspect.cleandoc(Tensor.__doc__)
    bullets = re.findall(r"^\* (\S+) \(([^)]*)\): (.*?)(?=^\* |\Z)", doc, re.MULTILINE | re.DOTALL)
    assert bullets, "the Tensor docstring has no index of attached methods"
    index = {}
    for module, _what, names in bullets:
        index.setdefault(module, []).extend(names.split())
    return index


def test_the_class_docstring_indexes_every_attached_method_by_module():
    attached = {}
    for name in public_tensor_attributes():
        if origin(name) != Tensor.__module__:
            attached.setdefault(origin(name), []).append(name)
    assert set(attached) == {"tinygrad_np.composed", "tinygrad_np.pytorch_spellings",
                             "tinygrad_np.core.gradient_hooks", "tinygrad_np.reductions", "tinygrad_np.pointwise",
                             "tinygrad_np.integer"}
    index = index_of_attached_methods()
    for module in attached.keys() | index.keys():
        listed = index.get(module, [])
        assert len(listed) == len(set(listed)), f"{module}: a name listed twice"
        assert sorted(listed) == sorted(attached.get(module, [])), module


def test_the_index_check_sees_a_newly_attached_method():
    def frobnicate(x):
        """x, frobnicated.   d/dx = 1."""
        return x

    frobnicate.__module__ = "tinygrad_np.composed"
    Tensor.frobnicate = frobnicate
    try:
        with pytest.raises(AssertionError, match="tinygrad_np.composed"):
            test_the_class_docstring_indexes_every_attached_method_by_module()
    finally:
        del Tensor.frobnicate
    test_the_class_docstring_indexes_every_attached_method_by_module()


def f_functions():
    """Every public function of tinygrad_np.nn.functional: those in __all__ and any other defined there."""
    defined = {name for name, value in vars(F).items() if not name.startswith("_") and inspect.isfunction(value)
               and value.__module__ == F.__name__}
    return sorted(defined | set(F.__all__))


def test_every_functional_function_has_a_docstring_that_states_its_derivative():
    names = f_functions()
    assert {"relu", "softmax", "conv2d", "linear", "cross_entropy", "pad"} <= set(names)
    assert set(names) <= set(F.__all__), "a public F function missing from F.__all__"
    missing = [name for name in names if not (getattr(F, name).__doc__ or "").strip()]
    assert missing == []
    silent = [name for name in names if name != "one_hot"
              and not STATES_A_DERIVATIVE.search(getattr(F, name).__doc__)]
    assert silent == []


def test_help_on_a_functional_activation_is_its_own():
    text = pydoc.render_doc(F.relu, renderer=pydoc.plaintext)
    assert "max(x, 0)" in text and "d/dx" in text


def stub_signatures():
    """{name: [(parameter, kind, default)]} of tinygrad_np/typing.py's AttachedMethods, read from its source (the
    class exists for type checkers only), and the names declared as properties."""
    tree = ast.parse(Path(tinygrad_np_typing.__file__).read_text())
    stub = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == "AttachedMethods")
    signatures, properties = {}, set()
    for f in stub.body:
        if not isinstance(f, ast.FunctionDef):
            continue
        if any(isinstance(d, ast.Name) and d.id == "property" for d in f.decorator_list):
            properties.add(f.name)
        args = f.args
        defaults = [None] * (len(args.args) - len(args.defaults)) + [ast.literal_eval(d) for d in args.defaults]
        params = [(a.arg, "POSITIONAL_OR_KEYWORD", d) for a, d in zip(args.args, defaults, strict=True)][1:]
        if args.vararg:
            params.append((args.vararg.arg, "VAR_POSITIONAL", None))
        params += [(a.arg, "KEYWORD_ONLY", None if d is None else ast.literal_eval(d))
                   for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
        if args.kwarg:
            params.append((args.kwarg.arg, "VAR_KEYWORD", None))
        signatures[f.name] = params
    return signatures, properties


def runtime_signature(function):
    parameters = list(inspect.signature(function).parameters.values())[1:]  # x (self) dropped
    return [(p.name, p.kind.name, None if p.default is inspect.Parameter.empty else p.default) for p in parameters]


def attached_operators():
    """The operators (``__mod__``, ``__and__``, ...) attached from other modules: declared for type checkers too."""
    return {name for name, value in vars(Tensor).items() if name.startswith("__") and callable(value)
            and getattr(value, "__module__", Tensor.__module__) not in (Tensor.__module__, "builtins")}


def test_type_checkers_see_every_attached_method_with_its_own_signature():
    signatures, properties = stub_signatures()
    refused = {name for name in public_tensor_attributes() if origin(name) == "tinygrad_np.pytorch_spellings"
               and isinstance(vars(Tensor)[name], property) and name != "size"}
    attached = {name for name in public_tensor_attributes() if origin(name) != Tensor.__module__} - refused
    attached |= attached_operators()
    assert {"__mod__", "__and__", "__invert__"} <= attached
    assert set(signatures) == attached  # every attached method declared, the refused spellings left out
    for name in attached:
        value = vars(Tensor)[name]
        if isinstance(value, property):
            assert name in properties, name
            continue
        assert signatures[name] == runtime_signature(value), name


def test_at_run_time_tensor_derives_from_object_alone():
    assert Tensor.__bases__ == (object,) and Tensor.__mro__ == (Tensor, object)
