"""Names for the types tinygrad_np's public API takes, for annotating code that uses it (as ``numpy.typing`` is
for NumPy's):

    from tinygrad_np.typing import Axis, TensorLike

    def normalised(x: Tensor, axis: Axis = -1) -> Tensor: ...

Annotations cost nothing when the engine runs: these are plain aliases, read by type checkers, and NumPy's
own typing module (``ArrayLike``, ``DTypeLike``) is imported only by them.
"""
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

    from .core.tensor import Tensor

__all__ = ["Axis", "Shape", "ShapeLike", "PadWidth", "Index", "TensorLike", "DType"]

#: An ``axis`` argument: one axis, several, or None for all of them (negative axes count from the end).
Axis = Union[int, Sequence[int], None]
#: A shape: a tuple (or list) of sizes.
Shape = Sequence[int]
#: A shape, or one size: ``reshape(2, 3)`` and ``reshape((2, 3))`` both take these.
ShapeLike = Union[int, Sequence[int]]
#: ``pad_width`` in NumPy's forms: n, (before, after), or one (before, after) per axis.
PadWidth = Union[int, Sequence[int], Sequence[Sequence[int]]]
#: Anything NumPy indexes with: ints, slices, None, Ellipsis, integer or boolean arrays or Tensors, or a tuple of them.
Index = Any
#: What an operator takes beside a Tensor: another Tensor, a number, a (nested) list or an ndarray.
TensorLike = Union["Tensor", "ArrayLike"]
#: A dtype as NumPy takes one (np.float32, "float64", ...), or None for the default.
DType = Union["DTypeLike", None]
