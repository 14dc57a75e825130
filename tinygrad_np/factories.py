"""New tensors made from nothing but a shape: zeros, ones and random samples."""
import numpy as np

from .arguments import shape_arg
from .tensor import Tensor


def zeros(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.zeros(shape_arg(shape, "zeros"), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.ones(shape_arg(shape, "ones"), dtype=dtype), requires_grad=requires_grad)


def randn(*shape, rng=None, dtype=np.float32, requires_grad=False):
    """Standard normal samples. ``rng``: a numpy Generator, a seed, or None for fresh entropy."""
    data = np.random.default_rng(rng).standard_normal(shape_arg(shape, "randn"), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad)


def uniform(*shape, low=0.0, high=1.0, rng=None, dtype=np.float32, requires_grad=False):
    """Samples uniform on [low, high). ``rng``: a numpy Generator, a seed, or None."""
    data = np.random.default_rng(rng).uniform(low, high, shape_arg(shape, "uniform")).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)
