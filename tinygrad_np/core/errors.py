"""The errors ops raise where NumPy and PyTorch name the same mistake differently.

NumPy raises ValueError for an axis out of range or shapes that do not fit; PyTorch raises IndexError for the
first and RuntimeError for the second. Each class here derives from both, so ``except ValueError`` (what
tinygrad_np raised before, and NumPy's habit) and ``except RuntimeError`` (a PyTorch user's habit) both catch
it. NumPy's own ``AxisError`` derives from ValueError and IndexError in the same way.
"""


class AxisError(ValueError, IndexError):
    """An axis out of range for the tensor (NumPy: ValueError; PyTorch: IndexError)."""


class ArgumentError(ValueError, RuntimeError):
    """An argument the op cannot take: shapes that do not fit, an axis named twice, clip with no bound, a
    rounding mode that does not exist (NumPy: ValueError; PyTorch: RuntimeError)."""


class ArgumentTypeError(TypeError, RuntimeError):
    """An argument of a kind the op cannot take: a float tensor to a bitwise op, indices of another rank
    (Python and NumPy: TypeError; PyTorch: RuntimeError)."""


class IndexOutOfRange(IndexError, RuntimeError):
    """An index past the end of an axis, found in an index array (NumPy: IndexError; PyTorch's gather:
    RuntimeError)."""


class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """An integer divided by zero: NumPy would return 0 with a warning, a wrong number; PyTorch raises a
    RuntimeError ("ZeroDivisionError"). Python's ZeroDivisionError and PyTorch's RuntimeError both catch it."""
