"""tinygrad_np: a small autograd engine on NumPy.

    >>> import tinygrad_np as tg
    >>> x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.numpy()
    array([2., 4., 6.], dtype=float32)
"""
import sys

# composed, pytorch_spellings and gradient_hooks attach methods to Tensor (x.softmax(), x.size(0), x.register_hook)
from . import composed, func, ops, pytorch_spellings  # noqa: F401
from .composed import minimum, stack
from .core import autograd, gradient_hooks  # noqa: F401
from .core import tensor as _tensor
from .core.autograd import grad
from .core.function import Function
from .core.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .core.tensor import Tensor
from .factories import arange, eye, full, full_like, ones, ones_like, randn, uniform, zeros, zeros_like
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .jit import JitError, jit
from .memory import reuse_freed_memory
from .numpy_functions import argwhere, concatenate, einsum, maximum, meshgrid, take_along_axis, where
from .recompute import checkpoint
from .see import viz
from .see.anomaly import AnomalyError, detect_anomaly
from .see.backward_log import trace
from .see.profiler import profile

# Tensor's methods call the ops and the backward pass, which import Tensor: they are bound here, once all exist
# (no module runs an op while it is imported).
_tensor._ops, _tensor._autograd = ops, autograd

# ``import tinygrad_np.viz`` (and ``from tinygrad_np.viz import draw``) keeps working now that it lives in see/.
sys.modules[__name__ + ".viz"] = viz

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "zeros", "ones", "randn", "uniform", "full", "eye", "arange", "zeros_like", "ones_like",
    "full_like", "concatenate", "stack",
    "maximum", "minimum", "where", "take_along_axis", "einsum", "meshgrid", "argwhere",
    "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError",
    "trace", "detect_anomaly", "AnomalyError", "profile", "viz", "func", "reuse_freed_memory", "jit", "JitError",
    "checkpoint",
]


_PYTORCH_NAMES = {"cat": "concatenate", "clamp": "Tensor.clip", "tensor": "Tensor", "from_numpy": "Tensor"}


def __getattr__(name):
    """A PyTorch name we spell the NumPy way gets an error that names ours."""
    if name in _PYTORCH_NAMES:
        raise AttributeError(f"tinygrad_np has no {name} (PyTorch's name); use {_PYTORCH_NAMES[name]}")
    raise AttributeError(f"module 'tinygrad_np' has no attribute {name!r}")
