"""Whether operations are being recorded for backward.

Recording is on by default. ``no_grad`` turns it off (for evaluation and for
optimizer updates); the engine also turns it off while running backward rules,
unless ``create_graph=True`` asks for the backward pass itself to be recorded.
The flag is thread-local, so one thread evaluating under ``no_grad`` does not
stop another from training.
"""
import functools
import threading


class _State(threading.local):
    enabled = True  # class attribute: the default every new thread starts from


_state = _State()


def is_grad_enabled():
    """True when new operations are recorded into the graph."""
    return _state.enabled


class set_grad_enabled:
    """Context manager (and decorator) that sets recording to ``mode``.

    Works as a decorator too: each call of the decorated function gets its own
    save-and-restore, so nested and recursive uses are safe.
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self._saved = []

    def __enter__(self):
        self._saved.append(_state.enabled)
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._saved.pop()
        return False

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """Turn recording off: ``with no_grad(): ...`` or ``@no_grad()``."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Turn recording back on inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)
