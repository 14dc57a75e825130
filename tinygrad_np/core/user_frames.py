"""Where the user's code is: the innermost frame outside this package, named in errors and in what the tools
report (a jit refusal, the op detect_anomaly blames). Every file under tinygrad_np/, in any folder, is library
code."""
import linecache
import os
import sys

# The package's folder, tinygrad_np/ (this file is in tinygrad_np/core/): every file under it, in any subfolder, is
# library code; the first frame outside it is the user's.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def in_library(filename):
    """True for a file of this package, in any of its folders."""
    return os.path.abspath(filename).startswith(_PACKAGE + os.sep)


def user_frame():
    """The innermost frame of the current call stack whose code is not in this package: where the user's code
    is (None if there is none)."""
    frame = sys._getframe(1)
    while frame is not None and in_library(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def user_line():
    """``file:line: source`` of the innermost frame outside this package: where the user's code is."""
    frame = user_frame()
    if frame is None:
        return "an unknown line"
    source = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    where = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
    return f"{where} ({source})" if source else where
