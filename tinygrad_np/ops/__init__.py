"""The primitive operations. Everything else in the package is composed from these.

One module a family: arithmetic, elementwise functions, choosing (maximum,
where), reductions and broadcasting, matrix products, shape and indexing,
sliding windows (2-D, and any number of spatial axes), and losses.
"""
from .arithmetic import Add, Div, Mul, Neg, Pow, Sub
from .elementwise import Abs, Cos, Exp, Gelu, Log, PiecewiseConstant, Relu, Sigmoid, Sin, Softplus, Sqrt, Tanh
from .linalg import Einsum, Linear, MatMul
from .loss import BinaryCrossEntropy, CrossEntropy, LogSoftmax
from .norm import Normalize
from .recurrent import LSTMSequence
from .reduce import BroadcastTo, Cumsum, Max, Sum, SumTo
from .select import Maximum, Where
from .shape import Cast, Concatenate, GetItem, Pad, Reshape, ScatterAdd, Transpose
from .volume import VolumeFold, VolumeUnfold
from .window import Fold, Unfold, WindowMax

__all__ = [
    "Add", "Sub", "Mul", "Div", "Pow", "Neg",
    "Exp", "Log", "Sqrt", "Relu", "Abs", "Tanh", "Sigmoid", "Sin", "Cos", "Softplus", "Gelu", "PiecewiseConstant",
    "Maximum", "Where",
    "Sum", "Max", "SumTo", "BroadcastTo", "Cumsum",
    "MatMul", "Linear", "Einsum",
    "Reshape", "Transpose", "GetItem", "ScatterAdd", "Concatenate", "Pad", "Cast",
    "Unfold", "Fold", "WindowMax",
    "VolumeUnfold", "VolumeFold",
    "LogSoftmax", "CrossEntropy", "Normalize",
    "BinaryCrossEntropy",
]
__all__ += ["LSTMSequence"]
