"""Log records and warnings a replay makes again, from where the step made them.

A replay runs the program (``<tinygrad_np.jit program>``), not the step's Python, so a logger or
``warnings.warn`` called again from it would find its caller in the program: a formatter's
``%(filename)s:%(lineno)d %(funcName)s`` would name jit's code, and the "default" warning filter, which
shows a warning once per location, would count the program's line, not the step's. ``At`` makes the same
call with the location the traced call had: the frames from the call up to the jitted function, as the
trace saw them, and beyond them the frames that call the jitted function now (``stacklevel=`` may reach
them)."""
import copy
import logging
import os
import sys
import warnings

_JIT = os.path.dirname(os.path.abspath(__file__)) + os.sep
_PROGRAM = "<tinygrad_np.jit program>"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "warn": logging.WARNING,
           "error": logging.ERROR, "exception": logging.ERROR, "critical": logging.CRITICAL,
           "fatal": logging.CRITICAL}


class Where:
    """A frame as a log record or a warning names it."""

    __slots__ = ("filename", "lineno", "name", "globals")

    def __init__(self, frame):
        code = frame.f_code
        self.filename, self.lineno, self.name, self.globals = code.co_filename, frame.f_lineno, code.co_name, \
            frame.f_globals

    def key(self):
        return (self.filename, self.lineno, self.name)


def traced_frames(frame, origin):
    """The frames from ``frame`` (the one making the call) out to the jitted function's, which ``origin`` calls."""
    found = []
    while frame is not None and frame is not origin:
        found.append(Where(frame))
        frame = frame.f_back
    return tuple(found)


def _callers_now():
    """The frames calling the jitted function on this replay, innermost first (jit's own frames skipped)."""
    frame = sys._getframe(1)
    while frame is not None and (frame.f_code.co_filename.startswith(_JIT) or frame.f_code.co_filename == _PROGRAM):
        frame = frame.f_back
    while frame is not None:
        yield Where(frame)
        frame = frame.f_back


def _frame_at(frames, stacklevel, logged=False):
    """The frame ``stacklevel`` levels out from the call (1: the frame making it). Past the outermost: None for a
    warning (warn then names sys), the outermost for a log record. A log record skips logging's own frames (a
    LoggerAdapter's), as ``Logger.findCaller`` does."""
    level, last = max(int(stacklevel), 1), None
    for where in _all(frames):
        if logged and _logging_internal(where.filename):
            continue
        level, last = level - 1, where
        if level == 0:
            return where
    return last if logged else None


def _all(frames):
    yield from frames
    yield from _callers_now()


def _logging_internal(filename):
    return os.path.normcase(filename) == os.path.normcase(logging.__file__) or \
        ("importlib" in filename and "_bootstrap" in filename)


class Caught:
    """The exception a traced call's ``log.exception(...)`` logged, caught by the step's own ``except``: a replay
    runs no ``try``, so it logs this one (the same on every call: the step's Python is deterministic). Two
    traces' are the same if they are of the same type with the same arguments."""

    __slots__ = ("info",)

    def __init__(self, info):
        self.info = info

    def __eq__(self, other):
        return type(other) is Caught and other.info[0] is self.info[0] and other.info[1].args == self.info[1].args

    __hash__ = None  # type: ignore[assignment]


class At:
    """A logger's call or ``warnings.warn``, made again by each replay as the traced call made it, at the
    location it had."""

    __slots__ = ("function", "frames")

    def __init__(self, function, frames):
        self.function, self.frames = function, frames

    def __eq__(self, other):
        return type(other) is At and other.function == self.function and \
            [f.key() for f in other.frames] == [f.key() for f in self.frames]

    __hash__ = None  # type: ignore[assignment]

    def __call__(self, *args, **kwargs):
        if self.function is warnings.warn:
            return self._warn(*args, **kwargs)
        return self._log(*args, **kwargs)

    def _warn(self, message, category=None, stacklevel=1, source=None, **kwargs):
        if kwargs:  # (skip_file_prefixes=, Python 3.12): as warn itself takes it, without the location
            return warnings.warn(message, category, stacklevel, source, **kwargs)
        if isinstance(message, Warning):
            category = message.__class__
        if category is None:
            category = UserWarning
        where = _frame_at(self.frames, stacklevel)
        if where is None:  # past the outermost frame: warn names sys, as Python does
            module_globals, filename, lineno = sys.__dict__, "sys", 1
        else:
            module_globals, filename, lineno = where.globals, where.filename, where.lineno
        registry = module_globals.setdefault("__warningregistry__", {})
        warnings.warn_explicit(message, category, filename, lineno, module_globals.get("__name__", "<string>"),
                               registry, module_globals, source)

    def _log(self, *args, **kwargs):
        logger = getattr(self.function, "__self__", None)
        name = self.function.__name__
        if not isinstance(logger, logging.Logger):  # logging.info(...): the root logger, configured if bare
            logger = logging.root
            if not logger.handlers:
                logging.basicConfig()
        if name == "log":
            level, *args = args
            if not isinstance(level, int):
                if logging.raiseExceptions:
                    raise TypeError("level must be an integer")
                return
        else:
            level = _LEVELS[name]
        if name == "exception":
            kwargs.setdefault("exc_info", True)
        if not logger.isEnabledFor(level):
            return
        msg, *rest = args
        exc_info, extra = kwargs.get("exc_info"), kwargs.get("extra")
        if type(exc_info) is Caught:
            exc_info = exc_info.info
        stack_info, stacklevel = kwargs.get("stack_info", False), kwargs.get("stacklevel", 1)
        where = _frame_at(self.frames, stacklevel, logged=True)
        filename, lineno, func = ("(unknown file)", 0, "(unknown function)") if where is None else \
            (where.filename, where.lineno, where.name)
        if exc_info:
            if isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            elif not isinstance(exc_info, tuple):
                exc_info = sys.exc_info()
        sinfo = None
        if stack_info:  # the stack as eager would show it: the traced frames, then the callers now
            frames = list(self.frames[max(int(stacklevel), 1) - 1:]) + list(_callers_now())
            sinfo = "Stack (most recent call last):\n" + "".join(
                f'  File "{f.filename}", line {f.lineno}, in {f.name}\n' for f in reversed(frames)).rstrip("\n")
        record = logger.makeRecord(logger.name, level, filename, lineno, msg, tuple(rest), exc_info, func, extra,
                                   sinfo)
        logger.handle(record)


# ---- warnings.catch_warnings() in the step --------------------------------------------------------------------
# ``with warnings.catch_warnings(): warnings.simplefilter("ignore"); ...`` in a step: the trace runs the
# manager's __enter__ and __exit__ and the filter calls unwatched (what they change is the warnings module's
# own state, put back on exit) and records them, so that each replay enters a copy of the manager at the same
# point, makes the same filter calls, and leaves it where the step left it; the warnings the replay makes in
# between meet the same filters as eager's. A replay that stops with an error leaves every manager it entered.
_entered: list = []


class Manager:
    """A ``catch_warnings`` the step made, as it was before it was entered: a replay enters a copy of it. Two
    traces' are the same if they were made with the same arguments."""

    __slots__ = ("template",)

    def __init__(self, manager):
        self.template = copy.copy(manager)

    def __eq__(self, other):
        return type(other) is Manager and type(other.template) is type(self.template) and \
            vars(other.template) == vars(self.template)

    __hash__ = None  # type: ignore[assignment]


def enter_catch(manager):
    """Enter a copy of the (not yet entered) ``catch_warnings`` the step made."""
    entered = copy.copy(manager.template)
    entered.__enter__()
    _entered.append(entered)


def exit_catch():
    _entered.pop().__exit__(None, None, None)


def leaving_managers(run):
    """``run`` (a program's replay), leaving any ``catch_warnings`` it entered if it stops with an error."""
    def replay(*args):
        depth = len(_entered)
        try:
            return run(*args)
        finally:
            while len(_entered) > depth:
                exit_catch()

    return replay
