"""The primitive operations. Everything else in the package is composed from these.

One module a family: arithmetic, elementwise functions, choosing (maximum,
where), reductions and broadcasting, matrix products, shape and indexing,
sliding windows, and losses.
"""
from .arithmetic import Add, Div, Mul, Neg, Pow, Sub
from .elementwise import Abs, Cos, Exp, Gelu, Log, PiecewiseConstant, Relu, Sigmoid, Sin, Softplus, Sqrt, Tanh
from .linalg import Einsum, Linear, MatMul
from .loss import CrossEntropy, LogSoftmax
from .norm import Normalize
from .recurrent import LSTMSequence
from .reduce import BroadcastTo, Cumsum, Max, Sum, SumTo
from .select import Maximum, Where
from .shape import Cast, Concatenate, GetItem, Pad, Reshape, ScatterAdd, Transpose
from .window import Fold, Unfold, WindowMax

__all__ = [
    "Add", "Sub", "Mul", "Div", "Pow", "Neg",
    "Exp", "Log", "Sqrt", "Relu", "Abs", "Tanh", "Sigmoid", "Sin", "Cos", "Softplus", "Gelu", "PiecewiseConstant",
    "Maximum", "Where",
    "Sum", "Max", "SumTo", "BroadcastTo", "Cumsum",
    "MatMul", "Linear", "Einsum",
    "Reshape", "Transpose", "GetItem", "ScatterAdd", "Concatenate", "Pad", "Cast",
    "Unfold", "Fold", "WindowMax",
    "LogSoftmax", "CrossEntropy", "Normalize",
]
__all__ += ["LSTMSequence"]
