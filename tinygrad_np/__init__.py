"""tinygrad_np: a small autograd engine on NumPy.

    >>> import tinygrad_np as tg
    >>> x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.numpy()
    array([2., 4., 6.], dtype=float32)
"""
import sys

# composed, reductions, pointwise, integer, pytorch_spellings and gradient_hooks attach methods to Tensor
# (x.softmax(), x.sort(), x.erf(), x % y, x.size(0), x.register_hook)
from . import composed, func, integer, ops, pointwise, pytorch_spellings, reductions  # noqa: F401
from .composed import minimum, stack
from .core import autograd, gradient_hooks  # noqa: F401
from .core import tensor as _tensor
from .core.autograd import grad
from .core.function import Function
from .core.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .core.tensor import Tensor
from .factories import (
    arange,
    empty,
    eye,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randn_like,
    tensor,
    uniform,
    zeros,
    zeros_like,
)
from .function_forms import FUNCTION_FORMS
from .function_forms import OURS as _OURS

# PyTorch's function forms (tg.exp(x)), re-exported by name but kept out of __all__ (see function_forms.py)
from .function_forms import (
    abs as abs,
)
from .function_forms import (
    argmax as argmax,
)
from .function_forms import (
    cos as cos,
)
from .function_forms import (
    exp as exp,
)
from .function_forms import (
    flatten as flatten,
)
from .function_forms import (
    log as log,
)
from .function_forms import (
    log_softmax as log_softmax,
)
from .function_forms import (
    matmul as matmul,
)
from .function_forms import (
    mean as mean,
)
from .function_forms import (
    permute as permute,
)
from .function_forms import (
    relu as relu,
)
from .function_forms import (
    reshape as reshape,
)
from .function_forms import (
    sigmoid as sigmoid,
)
from .function_forms import (
    sin as sin,
)
from .function_forms import (
    softmax as softmax,
)
from .function_forms import (
    sqrt as sqrt,
)
from .function_forms import (
    squeeze as squeeze,
)
from .function_forms import (
    sum as sum,
)
from .function_forms import (
    tanh as tanh,
)
from .function_forms import (
    unsqueeze as unsqueeze,
)
from .generators import get_rng_state, manual_seed, set_rng_state
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .jit import JitError, jit
from .memory import reuse_freed_memory
from .numpy_functions import argwhere, concatenate, einsum, maximum, meshgrid, take_along_axis, where
from .recompute import checkpoint
from .reductions import std_mean
from .see import viz
from .see.anomaly import AnomalyError, detect_anomaly
from .see.backward_log import trace
from .see.profiler import profile
from .threads import apply_default as _apply_default_threads
from .threads import blas_description, get_num_threads, set_num_threads

# Tensor's methods call the ops and the backward pass, which import Tensor: they are bound here, once all exist
# (no module runs an op while it is imported).
_tensor._ops, _tensor._autograd = ops, autograd

# ``import tinygrad_np.viz`` (and ``from tinygrad_np.viz import draw``) keeps working now that it lives in see/.
sys.modules[__name__ + ".viz"] = viz

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "tensor", "zeros", "ones", "randn", "randn_like", "uniform", "full", "eye", "arange",
    "zeros_like", "ones_like", "full_like", "concatenate", "stack",
    "maximum", "minimum", "where", "take_along_axis", "einsum", "meshgrid", "argwhere",
    "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "manual_seed", "get_rng_state", "set_rng_state",
    "gradcheck", "gradgradcheck", "GradcheckError",
    "trace", "detect_anomaly", "AnomalyError", "profile", "viz", "func", "reuse_freed_memory", "jit", "JitError",
    "set_num_threads", "get_num_threads", "blas_description",
    "checkpoint",
    "empty", "rand", "randint", "normal", "linspace", "std_mean",
]  # the function forms (tg.exp, tg.sum, ...) are left out, so that a star import keeps Python's sum and abs


_apply_default_threads()  # one BLAS thread unless the environment says otherwise (threads.py says why)


def __getattr__(name):
    """A PyTorch name we spell the NumPy way gets an error that names ours."""
    if name in _OURS:
        raise AttributeError(f"tinygrad_np has no {name} (PyTorch's name); use {_OURS[name]}")
    raise AttributeError(f"module 'tinygrad_np' has no attribute {name!r}")


def __dir__():
    """The public API (``__all__``, the function forms and the subpackages imported so far), not the modules'
    internals."""
    loaded = [name for name in ("nn", "optim", "data") if name in globals()]
    return sorted({*__all__, *FUNCTION_FORMS, *loaded, "__version__"})
