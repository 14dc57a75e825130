"""What the rest of the library tells a jit trace (tinygrad_np/jit/) about work it does outside the ops.

A trace records every op through the engine's forward hook. A few things
happen outside any op, and each says so here, at no cost when nothing traces:

* ``note(f, *args)``: an array made from others without an op (a comparison,
  an index copy, a check of the values, such as one_hot's label range). If it
  depends on what the trace knows, a replay runs it again, checks included.
* ``draw(f, *args)``: a random array (a dropout mask, ``randn``). A replay
  always runs it again, so each replay draws fresh values.
* ``@replayable``: a Python call that changes state (an optimizer step,
  ``zero_grad``, gradient clipping, batch norm's running statistics, an
  ``nn.init`` fill). It runs untraced, and a replay calls it again with that
  call's own values.
* ``refuse_read(tensor, what)``: a tensor's value taken into Python or NumPy
  (``.item()``, ``float()``, ``bool()``, ``.numpy()``, ``.data``, ``np.asarray``,
  ``repr()``/``str()``/an f-string). A replay could not see what Python did with
  it, so tracing refuses it, for any tensor: one the function made, or one it
  reads from outside.
* ``replayed(tensor)``: why a tensor a replay returned has no graph, for
  backward's error.

A refusal cannot be swallowed: a ``JitError`` made while a trace runs marks
the trace, and the trace raises it when the function returns, even if the
function caught it (``except Exception``). The same holds for an error raised
by the array work itself (an op, a note, a draw) that the function catches: a
replay runs no ``except`` clause, so such a function is refused.
"""
import collections
import functools
import threading

from .engine_hooks import hooks, in_use
from .user_frames import user_line


class JitError(RuntimeError):
    """Something a jit replay could not reproduce faithfully; the message says what to do instead.

    Made while a trace records, it also marks that trace as refused: catching it inside the jitted function
    does not let the trace go on (the trace raises it again when the function returns)."""

    def __init__(self, *args):
        super().__init__(*args)
        trace = current.trace
        if trace is not None:
            trace.refused(self)


class _Current(threading.local):
    trace = None  # the Trace recording in this thread; None when nothing traces, or while a trace pauses


current = _Current()


def note(func, *args):
    """``func(*args)``, an array computed without an op; a trace records it if it depends on traced arrays.
    Inside func.vmap, an argument that carries a batch is handled per example (batching.py). A check of the
    values belongs inside ``func``: a replay runs it again, so each call's values are checked."""
    trace = current.trace
    if trace is None:
        return func(*args) if not (in_use.watching and hooks.vmap is not None) else hooks.vmap.note(func, args)
    with trace.array_work(func):
        result = func(*args) if not (in_use.watching and hooks.vmap is not None) else hooks.vmap.note(func, args)
    trace.noted(func, args, result, random=False)
    return result


def draw(func, *args):
    """``func(*args)``, a random array; a trace records it so that every replay draws again. Refused inside
    func.vmap, as torch.func's default (randomness="error") refuses it."""
    if in_use.watching and hooks.vmap is not None:
        hooks.vmap.refuse_random(func)
    trace = current.trace
    if trace is None:
        return func(*args)
    trace.before_draw(args)
    with trace.paused(), trace.array_work(func):  # unwatched: each replay calls func again, reads and all
        result = func(*args)
    trace.noted(func, args, result, random=True)
    return result


def replayable(func):
    """A call with effects outside the graph: while tracing it runs untraced and joins the program, so that
    each replay makes it again with that replay's values (hyperparameters, gradients, statistics)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        trace = current.trace
        if trace is None:
            return func(*args, **kwargs)
        with trace.paused(), trace.array_work(func):
            result = func(*args, **kwargs)
        trace.called(func, args, kwargs, result)
        return result

    return wrapper


def refuse_read(tensor, what):
    """Refuse, while tracing, to hand a traced tensor's value to Python or NumPy."""
    if current.trace is not None:
        raise JitError(f"jit: {what} reads a tensor's value while tracing, at {user_line()}. A replay runs only "
                       "the recorded array operations: it would not run the Python that uses this value, and would "
                       "keep the value from the trace. Return the tensor from the jitted function and read it "
                       "outside, use tensor operations (tg.where for a choice), or run this function without jit")


def refuse_in_trace(what, why):
    """Refuse, while tracing, something a replay cannot do; ``why`` says what a replay lacks."""
    if current.trace is not None:
        raise JitError(f"jit: {what} inside a jitted function, at {user_line()}: {why}. Or run it without jit")


def refuse_assignment(tensor):
    """Refuse, while tracing, ``t.data = ...``: NumPy work on arrays is invisible to a replay."""
    refuse_in_trace(".data is assigned", "a replay runs only the recorded array operations, so this update would "
                    "happen once, while tracing. Update parameters with an optimizer from tinygrad_np.optim (its "
                    "step() is replayed), or do it outside the jitted function")


replay_results: collections.deque = collections.deque(maxlen=256)  # weak references to what replays returned
# last (a deque of weak references costs a tenth of a WeakSet on each replay; older results get the general message)


def replayed(tensor):
    """The reason backward() cannot start from ``tensor``, if a recent jit replay returned it; else None."""
    if any(r() is tensor for r in replay_results):
        return ("backward: this tensor was returned by a tg.jit replay, which runs the recorded array operations "
                "and links no graph. Call backward() inside the jitted function (its replay runs that backward "
                "pass too), or call the function without jit")
    return None
