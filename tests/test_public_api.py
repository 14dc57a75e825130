"""A public surface (issue 29): ``__all__`` in the package, nn, nn.functional and optim, dir() showing the API and
not the internals, and PyTorch's spellings accepted where they cost our NumPy names nothing, else refused naming
ours."""
import inspect

import numpy as np
import pytest

import tinygrad_np as tg
import tinygrad_np.nn.functional as F
from tinygrad_np import nn, optim
from tinygrad_np.function_forms import OURS

INTERNALS = {"np", "math", "note", "draw", "replayable", "Any", "annotations", "ops", "refuse_pytorch_names",
             "Tensor_", "TYPE_CHECKING", "Union", "numbers", "Callable", "Iterable", "Mapping", "bump_versions", "sys",
             "layers", "module", "containers", "recurrent", "serialization", "accept_arrays_in", "generator"}


@pytest.mark.parametrize("module", [tg, nn, F, optim], ids=["tinygrad_np", "nn", "functional", "optim"])
def test_dir_shows_the_api_not_the_internals(module):
    names = dir(module)
    assert set(module.__all__) <= set(names)
    assert not INTERNALS & set(names), INTERNALS & set(names)
    assert not [n for n in names if n.startswith("_") and n != "__version__"]
    for name in names:
        assert hasattr(module, name), name


def _defined_in(module, *packages):
    """Public classes and functions defined in ``module`` (or, for a package, its submodules under it)."""
    found = set()
    for name, value in vars(module).items():
        if name.startswith("_") or not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if any(value.__module__ == p or value.__module__.startswith(p + ".") for p in packages):
            found.add(name)
    return found


def test_every_public_class_and_function_is_in_all():
    assert _defined_in(optim, optim.__name__) <= set(optim.__all__)
    assert _defined_in(F, F.__name__) <= set(F.__all__)
    assert _defined_in(nn, nn.__name__) <= set(nn.__all__)
    for name in tg.__all__:
        assert hasattr(tg, name), name


def test_a_star_import_keeps_pythons_sum_and_abs():
    scope: dict = {}
    exec("from tinygrad_np import *", scope)  # noqa: S102
    assert "sum" not in scope and "abs" not in scope and "Tensor" in scope and "manual_seed" in scope
    assert tg.sum(np.ones(3)).item() == 3.0 and tg.abs(np.array([-2.0])).item() == 2.0


def test_pytorchs_comparison_methods_cpu_and_to_are_accepted():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tg.Tensor([1.0, 0.0, 3.0])
    for method, expected in (("eq", [True, False, True]), ("ne", [False, True, False]), ("lt", [False, False, False]),
                             ("le", [True, False, True]), ("gt", [False, True, False]), ("ge", [True, True, True])):
        out = getattr(x, method)(y)
        assert out.dtype == np.bool_ and not out.requires_grad and out.data.tolist() == expected, method
    pred, target = tg.Tensor([[1], [2]]), tg.Tensor([1, 3])
    assert pred.eq(target.reshape(pred.shape)).sum().item() == 1  # mnist/main.py's line, in our spelling
    assert x.cpu() is x and x.to("cpu") is x and x.to("cpu:0") is x
    assert x.to(np.float64).dtype == np.float64 and x.to("float16").dtype == np.float16
    x.to(np.float64).sum().backward()
    assert x.grad.dtype == np.float32
    with pytest.raises(ValueError, match="to: tinygrad_np runs on NumPy, on the CPU; there is no 'cuda' device"):
        x.to("cuda")
    with pytest.raises(TypeError, match="to: expected a NumPy dtype or 'cpu', got <object"):
        x.to(object())


def test_module_cpu_is_itself_and_cuda_is_refused_naming_ours():
    model = nn.Linear(2, 2)
    assert model.cpu() is model and model.to("cpu") is model
    with pytest.raises(RuntimeError, match=r"Linear.cuda\(\): tinygrad_np runs on NumPy, on the CPU; drop .cuda\(\)"):
        model.cuda()


def test_the_issues_spellings():
    assert tg.exp(tg.Tensor([0.0])).item() == 1.0
    assert tg.randn_like(tg.zeros(2, 3)).shape == (2, 3)
    assert tg.manual_seed(0) is not None
    assert tg.tensor([1.0]).dtype == np.float32
    assert tg.flatten(tg.zeros(2, 3)).shape == (6,)
    x = np.arange(24.0).reshape(2, 3, 4)  # torch.flatten's start_dim and end_dim, as the ported mnist/main.py uses
    assert tg.flatten(x, 1).shape == (2, 12) and tg.flatten(x, 0, 1).shape == (6, 4)
    assert tg.flatten(x, -2, -1).shape == (2, 12) and tg.flatten(tg.Tensor(3.0)).shape == (1,)
    np.testing.assert_array_equal(tg.flatten(x, 1).data, x.reshape(2, 12))
    with pytest.raises(ValueError, match="start_dim"):
        tg.flatten(x, 2, 1)
    with pytest.raises(IndexError, match="end_dim=3"):
        tg.flatten(x, 0, 3)
    with pytest.raises(TypeError, match="sum: got dim=, PyTorch's spelling"):
        tg.sum(tg.zeros(2, 3), dim=1)


@pytest.mark.parametrize("name", sorted(OURS))
def test_a_package_level_pytorch_name_we_do_not_accept_names_ours(name):
    with pytest.raises(AttributeError, match=rf"tinygrad_np has no {name} \(PyTorch's name\); use "):
        getattr(tg, name)


def test_an_unknown_package_attribute_is_the_usual_error():
    with pytest.raises(AttributeError, match="module 'tinygrad_np' has no attribute 'nonsense'"):
        getattr(tg, "nonsense")  # noqa: B009
