"""The primitive operations. Everything else in the package is composed from these.

One module a family: arithmetic, elementwise functions, choosing (maximum,
where), reductions and broadcasting, matrix products, shape and indexing,
sliding windows (2-D, and any number of spatial axes), losses; running
products and log-sum-exps, erf and GELU, the inverse trigonometric and the
hyperbolic functions, and the division that rounds.
"""
from .arithmetic import Add, Div, Mul, Neg, Pow, Sub
from .division import Fmod, Remainder, RoundedDivision
from .elementwise import Abs, Cos, Exp, Log, PiecewiseConstant, Relu, Sigmoid, Sin, Softplus, Sqrt, Tanh
from .linalg import Einsum, Linear, MatMul
from .loss import BinaryCrossEntropy, CrossEntropy, LogSoftmax
from .norm import BatchNorm, Normalize
from .recurrent import LSTMSequence
from .reduce import BroadcastTo, Cumsum, Max, Min, Sum, SumTo
from .scan import Cumprod, Logcumsumexp
from .select import Maximum, Minimum, Where
from .shape import Cast, Concatenate, GetItem, Pad, Reshape, ScatterAdd, Transpose
from .special import Copysign, Erf, Gelu, LogAddExp
from .trigonometric import Acos, Acosh, Asin, Asinh, Atan, Atanh, Cosh, Sinh
from .volume import VolumeFold, VolumeUnfold
from .window import Conv2d, Fold, Unfold, WindowMax

__all__ = [
    "Add", "Sub", "Mul", "Div", "Pow", "Neg",
    "Exp", "Log", "Sqrt", "Relu", "Abs", "Tanh", "Sigmoid", "Sin", "Cos", "Softplus", "Gelu", "PiecewiseConstant",
    "Maximum", "Where",
    "Sum", "Max", "SumTo", "BroadcastTo", "Cumsum",
    "MatMul", "Linear", "Einsum",
    "Reshape", "Transpose", "GetItem", "ScatterAdd", "Concatenate", "Pad", "Cast",
    "Unfold", "Fold", "WindowMax", "Conv2d",
    "VolumeUnfold", "VolumeFold",
    "LogSoftmax", "CrossEntropy", "Normalize", "BatchNorm",
    "BinaryCrossEntropy",
    # issue 29 (ops1)
    "Min", "Minimum", "Cumprod", "Logcumsumexp", "Erf", "LogAddExp", "Copysign",
    "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
    "RoundedDivision", "Remainder", "Fmod",
]
__all__ += ["LSTMSequence"]
