"""The one seam where tools watch the engine: trace (see/backward_log.py), detect_anomaly
(see/anomaly.py), profile (see/profiler.py), the backward player (see/backward_player.py) and the jit (jit/trace.py);
and where func.vmap (batching.py) takes over the ops whose inputs carry a batch.

The lists are per thread, so a thread that did not ask to be watched is not. Function.apply looks at them only
when ``in_use.forward`` says some thread has a forward hook, and the backward pass chooses its
rule runner once per pass, so a watched-for engine costs nothing when nobody watches.
"""
import threading


class _Hooks(threading.local):
    forward = ()  # generator functions hook(fn, inputs, params): code before their yield runs before the op's forward,
    # ``output_array = yield`` receives its result
    backward = ()  # generator functions hook(fn, grad): code before their yield runs before the rule,
    # ``input_grads = yield`` receives what it returned (rules run on Tensors while these watch)
    passes = ()  # callables pass(tensor, grad, retain_graph, create_graph) that run Tensor.backward instead
    # (a jit trace, jit/trace.py); the newest runs it
    timed = ()  # callables record(fn, grad, input_grads, start_ns, duration_ns), after each rule of a plain pass
    # (a profiler; a jit trace, which records what each rule returned)
    vmap = None  # inside func.vmap: the thread's batching (batching.py), which Function.apply and note() hand
    # batched inputs to; None elsewhere, and while a batching rule runs its ops on whole batches


hooks = _Hooks()


def watch(hook_list, *args):
    """Start each generator hook in ``hook_list`` on ``args``: the code before its yield runs now."""
    watchers = [hook(*args) for hook in hook_list]
    for w in watchers:
        next(w)
    return watchers


def watched(cls, fn, inputs, params):
    """Function.apply's path while some thread has a forward hook or runs func.vmap: this thread's vmap takes
    an op with a batched input (returning its result), or this thread's forward hooks start watching the op.
    Returns (the batched result or None, the started hooks or None)."""
    if hooks.vmap is not None:
        batched = hooks.vmap.apply(cls, inputs, params)
        if batched is not None:
            return batched, None
    return None, (watch(hooks.forward, fn, inputs, params) if hooks.forward else None)


def finish(watchers, result):
    """Send each started hook the result, running the code after its yield."""
    for w in watchers:
        try:
            w.send(result)
        except StopIteration:
            pass


class _InUse:
    """``watching``: how many forward hooks exist and func.vmap calls run, across all threads. Function.apply
    reads its own thread's (thread-local, slower) state only when this is not 0: one read of a plain attribute
    per op when nobody watches, which saves about 1% of a 1,000-op chain."""

    __slots__ = ("watching",)

    def __init__(self):
        self.watching = 0


in_use = _InUse()
_count_lock = threading.Lock()


def add(kind, hook):
    """Add ``hook`` to this thread's ``kind`` list ("forward", "backward", "passes" or "timed")."""
    setattr(hooks, kind, getattr(hooks, kind) + (hook,))
    if kind == "forward":
        with _count_lock:
            in_use.watching += 1


def remove(kind, hook):
    """Take ``hook`` out of this thread's ``kind`` list again."""
    remaining = list(getattr(hooks, kind))
    remaining.remove(hook)
    setattr(hooks, kind, tuple(remaining))
    if kind == "forward":
        with _count_lock:
            in_use.watching -= 1
