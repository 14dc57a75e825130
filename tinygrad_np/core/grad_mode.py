"""Whether operations are being recorded for backward.

Recording is on by default. ``no_grad`` turns it off (for evaluation and for
optimizer updates); the engine also turns it off while running backward rules,
unless ``create_graph=True`` asks for the backward pass itself to be recorded.
The flag is thread-local, so one thread evaluating under ``no_grad`` does not
stop another from training.

As in PyTorch: ``no_grad`` and ``enable_grad`` change the mode when their
block is entered; ``set_grad_enabled(mode)`` changes it at once, so it also
works as a plain call; all three work as decorators, with or without
parentheses for the first two, and on generator functions.
"""
import functools
import inspect
import threading


class _State(threading.local):
    enabled = True  # class attribute: the default every new thread starts from


_state = _State()


def is_grad_enabled():
    """True when new operations are recorded into the graph."""
    return _state.enabled


class _GradMode:
    """Sets recording to ``self.mode`` inside a ``with`` block or a decorated function, then restores it."""

    mode = True

    def __new__(cls, *args):
        # Bare ``@no_grad``: the class is called with the function itself.
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self):
        # A stack, not one slot: the same object may be entered again before it exits (recursion).
        self._saved = getattr(self, "_saved", [])
        self._saved.append(_state.enabled)
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._saved.pop()
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"{type(self).__name__}: used as a decorator on {type(func).__name__}, not a function")
        mode = self.mode
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(func, mode)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with _Mode(mode):
                return func(*args, **kwargs)

        return wrapper


class _Mode(_GradMode):
    def __init__(self, mode):
        self.mode = mode


def _wrap_generator(func, mode):
    """Each resumption of the generator runs in ``mode``; the caller's mode is back in force between them."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with _Mode(mode):
                value = next(gen)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    with _Mode(mode):
                        gen.close()
                    raise
                except BaseException as err:  # thrown in by the caller: pass it on inside the mode
                    with _Mode(mode):
                        value = gen.throw(err)
                else:
                    with _Mode(mode):
                        value = gen.send(sent)
        except StopIteration as stop:
            return stop.value

    return wrapper


class no_grad(_GradMode):
    """Turn recording off: ``with no_grad(): ...``, ``@no_grad()`` or ``@no_grad``."""

    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """Set recording to ``mode`` now: ``set_grad_enabled(False)`` switches it off until switched back.

    Used as ``with set_grad_enabled(mode): ...`` the previous mode comes back
    at the end of the block; used as a decorator, the mode applies to each
    call of the function (and the call that made the decorator changes nothing).
    """

    def __init__(self, mode):
        self.mode = bool(mode)
        self._previous = _state.enabled
        _state.enabled = self.mode

    def __enter__(self):
        self._saved = getattr(self, "_saved", [])
        self._saved.append(self._previous)  # what was in force before the constructor switched it
        self._previous = self.mode
        _state.enabled = self.mode
        return self

    def __call__(self, func):
        _state.enabled = self._previous  # undo the switch the constructor made: a decorator acts per call
        return super().__call__(func)
