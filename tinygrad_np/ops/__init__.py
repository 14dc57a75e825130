"""The primitive operations. Everything else in the package is composed from these.

One module a family: arithmetic, elementwise functions, reductions and
broadcasting, matrix products, shape and indexing, and losses.
"""
from .arithmetic import Add, Div, Mul, Neg, Pow, Sub
from .elementwise import Abs, Exp, Log, Relu, Sigmoid, Sqrt, Tanh
from .linalg import MatMul
from .loss import CrossEntropy, LogSoftmax
from .reduce import BroadcastTo, Max, Sum, SumTo
from .shape import Cast, Concatenate, GetItem, Reshape, ScatterAdd, Transpose

__all__ = [
    "Add", "Sub", "Mul", "Div", "Pow", "Neg",
    "Exp", "Log", "Sqrt", "Relu", "Abs", "Tanh", "Sigmoid",
    "Sum", "Max", "SumTo", "BroadcastTo",
    "MatMul",
    "Reshape", "Transpose", "GetItem", "ScatterAdd", "Concatenate", "Cast",
    "LogSoftmax", "CrossEntropy",
]
