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
    timed = ()  # callables record(fn, grad, start_ns, duration_ns), after each rule of a plain pass
    vmap = None  # inside func.vmap: the thread's batching (batching.py), which Function.apply and note() hand
    # batched inputs to; None elsewhere, and while a batching rule runs its ops on whole batches


hooks = _Hooks()


def watch(hook_list, *args):
    """Start each generator hook in ``hook_list`` on ``args``: the code before its yield runs now."""
    watchers = [hook(*args) for hook in hook_list]
    for w in watchers:
        next(w)
    return watchers


def finish(watchers, result):
    """Send each started hook the result, running the code after its yield."""
    for w in watchers:
        try:
            w.send(result)
        except StopIteration:
            pass


class _InUse:
    """How many forward hooks exist across all threads: apply reads its own thread's (thread-local, slower)
    list only when some do, which saves about 1% of a 1,000-op chain. Likewise ``vmap``: how many func.vmap
    calls are running, in any thread."""

    __slots__ = ("forward", "vmap")

    def __init__(self):
        self.forward = 0
        self.vmap = 0


in_use = _InUse()
_count_lock = threading.Lock()


def add(kind, hook):
    """Add ``hook`` to this thread's ``kind`` list ("forward", "backward", "passes" or "timed")."""
    setattr(hooks, kind, getattr(hooks, kind) + (hook,))
    if kind == "forward":
        with _count_lock:
            in_use.forward += 1


def remove(kind, hook):
    """Take ``hook`` out of this thread's ``kind`` list again."""
    remaining = list(getattr(hooks, kind))
    remaining.remove(hook)
    setattr(hooks, kind, tuple(remaining))
    if kind == "forward":
        with _count_lock:
            in_use.forward -= 1
