"""tg.jit against what the fourth independent attack (/work/tools/jit_attack_report4.md) left open on the main of
2026-12-08 (69cf9c0): each test failed there, with a wrong answer and no error (or a refusal of a deterministic
step), and passes after its fix."""
import array
import collections
import contextlib
import dataclasses
import datetime
import io
import logging
import pathlib
import warnings

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim

X = np.ones((4, 2), np.float32)
Y = np.zeros((4, 1), np.float32)


def _model():
    tg.manual_seed(0)
    model = nn.Linear(2, 1)
    return model, optim.SGD(model.parameters(), lr=0.1)


def _train(model, opt, x, y):
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss


def _both(scenario):
    """scenario(wrap) -> what the caller saw, per call; run jitted and eagerly, the same."""
    def eager(f):
        return lambda *a: f(*(tg.Tensor(v) if isinstance(v, np.ndarray) else v for v in a))

    return scenario(tg.jit), scenario(eager)


def _lengths(d):
    return {k: len(v) for k, v in d.items()}


@pytest.mark.parametrize("kind", ["defaultdict", "setdefault"])
def test_b_defaultdict_metrics_cleared_by_the_caller(kind):
    def scenario(wrap):
        model, opt = _model()
        metrics = collections.defaultdict(list) if kind == "defaultdict" else {}

        def step(x, y):
            loss = _train(model, opt, x, y)
            if kind == "defaultdict":
                metrics["loss"].append(loss)
                metrics["lr"].append(0.1)
            else:
                metrics.setdefault("loss", []).append(loss)
                metrics.setdefault("lr", []).append(0.1)
            return loss

        j, seen, logged = wrap(step), [], 0
        for i in range(10):
            j(X, Y)
            seen.append(_lengths(metrics))
            if i % 3 == 2:
                logged += len(metrics["loss"])
                metrics.clear()
        return seen, logged

    jitted, eager = _both(scenario)
    assert jitted == eager and eager[1] == 9


@pytest.mark.parametrize("kind", ["count and read back", "item replaced after its lookup", "setdefault, swapped"])
def test_b_items_a_lookup_makes_are_written_where_eager_writes(kind):
    def scenario(wrap):
        lists, counts, plain = collections.defaultdict(list), collections.defaultdict(int), {}
        w = tg.Tensor(np.ones(2, np.float32), requires_grad=True)

        def step(x):
            loss = (w * x).sum()
            if kind == "count and read back":
                lists["loss"].append(loss)
                n = len(lists["loss"])
                counts["n"] += 1
            elif kind == "item replaced after its lookup":
                kept = lists["k"]
                lists["k"] = []
                kept.append(1)
                lists["k"].append(2)
                n = len(lists["k"])
            else:
                plain.setdefault("a", []).append(1.0)
                n = len(plain["a"])
            return loss, n

        j, seen = wrap(step), []
        for i in range(7):
            _, n = j(np.ones(2, np.float32))
            seen.append((n, _lengths(lists), dict(counts), _lengths(plain)))
            if i % 2:
                lists.clear()
                counts.clear()
                plain.clear()
            if i == 4:
                plain["a"] = [5, 6, 7]
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager


def test_b_inner_list_replaced_by_an_equal_one():
    """The caller swaps in a new, empty list each call: equal contents, another object to append to."""
    def scenario(wrap):
        model, opt = _model()
        metrics = {"loss": []}

        def step(x, y):
            loss = _train(model, opt, x, y)
            metrics["loss"].append(1.0)
            return loss

        j, seen = wrap(step), []
        for _ in range(5):
            j(X, Y)
            seen.append(list(metrics["loss"]))
            metrics["loss"] = []
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager == [[1.0]] * 5


def test_b_counter_update_cleared_after_each_step():
    def scenario(wrap):
        model, opt = _model()
        stats = collections.Counter()

        def step(x, y, phase):
            loss = _train(model, opt, x, y)
            stats.update([phase, "optimizer_steps"])
            return loss

        j, seen = wrap(step), []
        for _ in range(5):
            j(X, Y, "train")
            seen.append(dict(stats))
            stats.clear()
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager == [{"train": 1, "optimizer_steps": 1}] * 5


@pytest.mark.parametrize("write", ["array_extend", "list_iadd_by_name", "list_append_by_name",
                                   "array_append_by_name", "dict_update_by_name"])
def test_b_container_writes_through_c_are_replayed(write):
    def scenario(wrap):
        model, opt = _model()
        ar, lst, d = array.array("d"), [], {}

        def step(x, y):
            loss = _train(model, opt, x, y)
            if write == "array_extend":
                ar.extend([1.0])
            elif write == "list_iadd_by_name":
                lst.__iadd__(["b"])
            elif write == "list_append_by_name":
                list.append(lst, "c")
            elif write == "array_append_by_name":
                array.array.append(ar, 2.0)
            else:
                dict.update(d, {"k": 1})
            return loss

        j, seen = wrap(step), []
        for _ in range(5):
            j(X, Y)
            seen.append((list(ar), list(lst), dict(d)))
            del ar[:]
            lst.clear()
            d.clear()
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager and eager[0] != ([], [], {})


def _logger(fmt):
    """A logger of its own writing ``fmt`` lines into a StringIO: (the logger, the StringIO)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logging.Formatter(fmt))
    log = logging.getLogger(f"tinygrad_np.test.attack4rest{id(buf)}")
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    log.propagate = False
    return log, buf


def test_b_log_record_location_is_the_steps():
    def scenario(wrap):
        model, opt = _model()
        log, buf = _logger("%(filename)s:%(lineno)d %(funcName)s %(module)s | %(message)s")

        def train_step(x, y):
            loss = _train(model, opt, x, y)
            log.info("optimizer step done")
            return loss

        j, seen = wrap(train_step), []
        for _ in range(4):
            j(X, Y)
            seen.append(buf.getvalue().strip())
            buf.seek(0)
            buf.truncate()
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager and "train_step" in eager[0] and "test_jit_attack4_rest.py" in eager[0]


def _warn_in_helper():
    warnings.warn("the helper is deprecated", DeprecationWarning, stacklevel=2)


def test_b_warning_location_is_the_steps():
    def scenario(wrap):
        model, opt = _model()

        def train_step(x, y):
            loss = _train(model, opt, x, y)
            warnings.warn("lr schedule is deprecated", UserWarning, stacklevel=1)
            _warn_in_helper()  # stacklevel=2: the step's own line
            return loss

        j, seen = wrap(train_step), []
        for _ in range(4):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                j(X, Y)
            seen.append([(pathlib.Path(w.filename).name, w.lineno, str(w.message), w.category) for w in caught])
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager and len(eager[0]) == 2


def test_b_default_warning_filter_shows_a_warning_once_per_location():
    def scenario(wrap):
        def step(x):
            warnings.warn("shown once", UserWarning, stacklevel=1)
            return x * 2

        j = wrap(step)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            for _ in range(4):
                j(np.ones(2, np.float32))
        return [str(w.message) for w in caught]

    jitted, eager = _both(scenario)
    assert jitted == eager == ["shown once"]


def _noisy(x):
    warnings.warn("this helper is deprecated", DeprecationWarning, stacklevel=1)
    return x * 2


def test_c_catch_warnings_in_a_step_replays():
    def scenario(wrap):
        model, opt = _model()

        def step(x, y):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x = _noisy(x)
            return _train(model, opt, x, y)

        j, seen = wrap(step), []
        for _ in range(4):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                seen.append(float(j(X, Y).item()))
            seen.append(len(caught))
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager


@dataclasses.dataclass
class _Cfg:
    lr: float
    bs: int


HIST = [0.5, 0.25]


@pytest.mark.parametrize("line", [
    lambda: print("epoch {e} lr {lr}".format(e=1, lr=0.1)),
    lambda: print("lr", np.float32(0.1)),
    lambda: print("avg", np.mean(HIST)),
    lambda: print(_Cfg(0.1, 32)),
    lambda: print("eta", datetime.timedelta(seconds=3)),
    lambda: print("saving to", pathlib.Path("runs") / "exp1"),
], ids=["str.format keywords", "np.float32", "np.mean", "dataclass made in step", "timedelta", "Path"])
def test_c_printing_values_made_in_the_step_replays(line):
    def scenario(wrap):
        w = tg.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)

        def step(x):
            line()
            return (w * x).sum()

        j, seen = wrap(step), []
        for _ in range(4):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                j(np.ones(2, np.float32))
            seen.append(out.getvalue())
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager and eager[0].strip()


def test_c_catch_warnings_record_true_is_refused_naming_what_to_do():
    def step(x):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.warn("inside", UserWarning, stacklevel=1)
        return x * len(caught)

    with pytest.raises(tg.JitError, match="record=True"):
        tg.jit(step)(np.ones(2, np.float32))


def test_b_catch_warnings_leaves_the_filters_as_it_found_them():
    before = list(warnings.filters)

    def step(x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.warn("hidden", UserWarning, stacklevel=1)
        warnings.warn("shown", UserWarning, stacklevel=1)
        return x * 2

    j = tg.jit(step)
    for _ in range(4):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            j(np.ones(2, np.float32))
        assert [str(w.message) for w in caught] == ["shown"]
    assert warnings.filters == before


class _Shown:
    def __repr__(self):
        return f"<shown {_SHOWN_STATE['n']}>"


_SHOWN_STATE = {"n": 0}


def test_b_an_objects_repr_runs_again_on_each_replay(capsys):
    """print(obj) is made again by each replay, so obj.__repr__ runs again and shows what eager shows."""
    shown = _Shown()

    def step(x):
        print(shown)
        return x * 2

    j = tg.jit(step)
    for n in range(4):
        _SHOWN_STATE["n"] = n
        j(np.ones(2, np.float32))
    assert capsys.readouterr().out == "".join(f"<shown {n}>\n" for n in range(4))


def _log_from_helper(log):
    log.info("from the helper", stacklevel=2)


def test_b_log_stacklevel_names_the_frame_eager_names():
    def scenario(wrap):
        log, buf = _logger("%(funcName)s:%(lineno)d %(message)s")

        def train_step(x):
            _log_from_helper(log)
            return x * 2

        j = wrap(train_step)
        for _ in range(4):
            j(np.ones(2, np.float32))
        return buf.getvalue().splitlines()

    jitted, eager = _both(scenario)
    assert jitted == eager and eager[0].startswith("train_step:")


@pytest.mark.parametrize("write", ["heapq.heappush", "bisect.insort", "heapq.heapify", "struct.pack_into",
                                   "operator.iadd"])
def test_b_any_c_write_into_an_outside_container_is_refused(write):
    """Whatever C function writes into a container or object from outside the call, jit refuses rather than let a
    replay skip the write."""
    import bisect
    import heapq
    import operator
    import struct

    box, items, raw = [3, 1, 2], [], bytearray(4)

    def step(x):
        if write == "heapq.heappush":
            heapq.heappush(items, 1.0)
        elif write == "bisect.insort":
            bisect.insort(items, 1.0)
        elif write == "heapq.heapify":
            heapq.heapify(box)
        elif write == "struct.pack_into":
            struct.pack_into("<f", raw, 0, 1.0)
        else:
            operator.iadd(items, [1.0])
        return x * 2

    j = tg.jit(step)
    with pytest.raises(tg.JitError, match="replay would not"):
        for _ in range(4):
            j(np.ones(2, np.float32))
            items.clear()
            box[:] = [3, 1, 2]
            raw[:] = bytes(4)


def test_c_two_models_from_one_factory_are_both_jitted():
    """A class defined inside a function called twice: two forward functions share one code object and hold the
    same closure values, so jit cannot tell which one runs. It guards both closures (a change to either traces
    again), where it refused the step before."""
    def factory(scale_module):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(2, 1)

            def forward(self, x):
                return scale_module.relu(self.lin(x))

        return Net()

    def make():
        tg.manual_seed(0)
        model = factory(nn.functional)
        opt = optim.SGD(model.parameters(), lr=0.1)
        return lambda x, y: _train(model, opt, x, y)

    first, second = tg.jit(make()), tg.jit(make())
    eager_first = make()
    for _ in range(4):
        assert first(X, Y).item() == eager_first(tg.Tensor(X), tg.Tensor(Y)).item()
        second(X, Y)


def test_b_log_exception_in_the_steps_own_except_logs_the_exception_on_replays():
    """Found in review: a replay runs no try, so log.exception(...) replayed with no exception being handled logged
    "NoneType: None" where eager logs the traceback."""
    def scenario(wrap):
        log, buf = _logger("%(message)s")

        def step(x):
            try:
                int("not a number")
            except ValueError:
                log.exception("bad setting")
            return x * 2

        j = wrap(step)
        for _ in range(4):
            j(np.ones(2, np.float32))
        return [part.strip().splitlines()[-1] for part in buf.getvalue().split("bad setting")[1:]]

    jitted, eager = _both(scenario)
    assert jitted == eager and eager[0].startswith("ValueError")


@pytest.mark.parametrize("how", ["setdefault", "factory"])
def test_b_an_outside_list_a_lookup_puts_in_the_dict_stays_guarded(how):
    """Found in review: the item a lookup makes is the call's own only if the call made it; an outside list given
    as setdefault's default (or returned by a defaultdict's factory) is read through the dict where eager reads
    it, and a change to it traces again."""
    shared = [1.0]

    def scenario(wrap):
        store = {} if how == "setdefault" else collections.defaultdict(lambda: shared)

        def step(x):
            held = store.setdefault("k", shared) if how == "setdefault" else store["k"]
            return x * len(held)

        j, seen = wrap(step), []
        for n in range(5):
            shared[:] = [1.0] * (n + 1)
            seen.append(float(j(np.ones(1, np.float32)).numpy()[0]))
            store.clear()
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager == [1.0, 2.0, 3.0, 4.0, 5.0]


class _Holder:
    pass


_GLOBAL_LOG: list = []


@pytest.mark.parametrize("kind", ["global", "defaultdict item", "attribute", "local alias", "set |="])
def test_b_augmented_assignment_into_an_outside_container_is_replayed(kind):
    """Found in review: ``xs += [x]`` changes the list in C, with no call for jit to see; through a local alias
    (``log = self.log; log += [x]``) a replay silently skipped it, and the other spellings were refused."""
    def scenario(wrap):
        global _GLOBAL_LOG
        _GLOBAL_LOG = []
        metrics, holder = collections.defaultdict(list), _Holder()
        holder.items, holder.seen = [], set()

        def step(x):
            global _GLOBAL_LOG
            if kind == "global":
                _GLOBAL_LOG += [1.0]
            elif kind == "defaultdict item":
                metrics["loss"] += [1.0]
            elif kind == "attribute":
                holder.items += [1.0]
            elif kind == "local alias":
                items = holder.items
                items += [2.0]
            else:
                holder.seen |= {"train"}
            return x * 2

        j, seen = wrap(step), []
        for i in range(6):
            j(np.ones(2, np.float32))
            seen.append((list(_GLOBAL_LOG), dict(metrics), list(holder.items), set(holder.seen)))
            if i % 2:
                _GLOBAL_LOG.clear()
                metrics.clear()
                holder.items.clear()
                holder.seen.clear()
        return seen

    jitted, eager = _both(scenario)
    assert jitted == eager


def test_b_augmented_assignment_into_an_outside_array_is_refused():
    buffer = np.zeros(2)

    def step(x):
        alias = buffer
        alias += 1
        return x * 2

    with pytest.raises(tg.JitError, match="changes an array from outside the call in place"):
        tg.jit(step)(np.ones(2, np.float32))
