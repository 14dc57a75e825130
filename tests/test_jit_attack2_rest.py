"""tg.jit against what the second attack report (/work/tools/jit_attack_report2.md) left open after
tests/test_jit_attack2.py, and what closing it found. Each test failed on the main of 2026-12-08 (a873014):

* values C code reads that no bytecode shows: a ctypes array's or an mmap's bytes, an attribute chain deeper
  than three objects, lists inside a list made in the call, NumPy's print options read by an f-string or ``%``;
* misleading refusals of deterministic steps: a NumPy RuntimeWarning (taken for a file read), an object made
  by a class called with ``**kwargs`` (its ``__init__``'s writes taken for the outside's), a ``del`` of a
  global, functools.singledispatch's first call per class;
* a write into a dict from outside the call (``D["a"] = 5``, ``global G; G = 7`` next to a changing global):
  replayed into a copy of the dict, so the caller's dict kept its old value (a stale replay, no error).
"""
import ctypes
import functools
import json
import mmap
import operator

import numpy as np
import pytest

import tinygrad_np as tg


def _ones():
    return tg.Tensor(np.ones(2, np.float32))


def _agree(f, change, calls=5, change_at=2):
    """Call the jitted f and f itself on the same input, changing the world before call ``change_at``: the
    answers must be bit for bit the same on every call (a refusal fails the test)."""
    j = tg.jit(f)
    for i in range(calls):
        if i == change_at:
            change()
        got, want = j(_ones()).numpy(), f(_ones()).numpy()
        assert got.tobytes() == want.tobytes(), f"call {i}: jit {got} eager {want}"
    return j


# ---- what C code reads -------------------------------------------------------------------------------------------
def test_ctypes_array_contents_read_by_a_builtin_are_guarded():
    buf = (ctypes.c_int * 3)(1, 1, 1)
    j = _agree(lambda x: x * sum(buf), lambda: buf.__setitem__(0, 5))
    assert j.traces >= 2  # the change made it trace again


def test_mmap_contents_read_by_a_builtin_are_guarded():
    mm = mmap.mmap(-1, 4)
    mm[:] = bytes([1, 2, 3, 4])
    _agree(lambda x: x * max(mm[:]), lambda: mm.__setitem__(0, 9))
    _agree(lambda x: x * bytes(mm)[0], lambda: mm.__setitem__(0, 7))


def test_attribute_chains_of_any_depth_handed_to_c_are_guarded():
    class Node:
        pass

    root = cur = Node()
    for _ in range(6):
        cur.child = Node()
        cur = cur.child
    cur.k = 1

    def change():
        cur.k = 100000

    _agree(lambda x: x * operator.attrgetter("child.child.child.child.child.child.k")(root), change)
    cur.k = 1
    _agree(lambda x: x * len("{0.child.child.child.child.child.child.k}".format(root)), change)


def test_lists_inside_a_list_made_in_the_call_are_guarded_when_handed_to_c():
    xs, ys = [1, 2], [3]
    _agree(lambda x: x * sum(map(len, [xs, ys])), lambda: ys.append(4))


def test_an_object_reaching_too_many_objects_handed_to_c_is_refused():
    class Node:
        def __init__(self, k):
            self.k = k

    many = Node(0)
    many.items = [Node(i) for i in range(2000)]
    j = tg.jit(lambda x: x * len(str(operator.attrgetter("items")(many))))
    with pytest.raises(tg.JitError, match="reaches more than"):
        j(_ones())


def test_numpy_print_options_are_guarded_for_f_strings_and_percent():
    a = np.array([1.123456789, 2.0])
    before = np.get_printoptions()
    try:
        _agree(lambda x: x * len(f"{a}"), lambda: np.set_printoptions(precision=2))
        np.set_printoptions(**before)
        _agree(lambda x: x * len("%s" % (a,)), lambda: np.set_printoptions(precision=3))
        np.set_printoptions(**before)
        _agree(lambda x: x * len("".join(map(str, a))), lambda: np.set_printoptions(legacy="1.25"))
    finally:
        np.set_printoptions(**before)


# ---- deterministic steps no longer refused -----------------------------------------------------------------------
def test_a_numpy_runtime_warning_inside_the_step_is_not_a_file_read():
    a = np.array([0.0, 1.0])

    def f(x):
        return x * tg.Tensor(np.reciprocal(a) * 0 + 2)

    with np.errstate(divide="warn"), pytest.warns(RuntimeWarning):
        j = _agree(f, lambda: None, calls=3)
    assert j.traces == 2


def test_an_object_made_with_keyword_arguments_inside_the_step_is_the_calls_own():
    class Cfg:
        def __init__(self):
            self.k = 1

    cfg = Cfg()
    j = _agree(lambda x: x * len(json.dumps(vars(cfg), default=vars)), lambda: setattr(cfg, "k", 12345))
    assert j.traces >= 2


def test_singledispatch_first_call_per_class_is_followed_and_register_traces_again():
    class Thing:
        pass

    thing = Thing()

    @functools.singledispatch
    def scale(v):
        return 3.0

    j = _agree(lambda x: x * scale(thing), lambda: scale.register(Thing, lambda v: 2.0))
    assert j(_ones()).numpy().tolist() == [2.0, 2.0]


# ---- writes into dicts from outside are made into those dicts -------------------------------------------------------
D = {"a": 0}
G = 0


def _writes(x):
    global G
    D["a"] = 5
    G = 7
    return x * 2


COUNTER = 0


def test_writes_into_an_outside_dict_and_a_global_are_replayed_into_them():
    global G, COUNTER
    j = tg.jit(_writes)
    for i in range(5):
        D["a"], G = 0, 0
        COUNTER = i  # a global of this module that changes between calls: not something the step reads
        j(_ones())
        assert (D["a"], G) == (5, 7), f"call {i}"
    assert j.traces == 2


def test_del_of_a_global_the_caller_sets_again_is_replayed():
    namespace = {}
    exec("import tinygrad_np as tg\nTMP = 1\ndef f(x):\n    global TMP\n    del TMP\n    return x * 2\n", namespace)
    j = tg.jit(namespace["f"])
    for i in range(4):
        namespace["TMP"] = i
        j(_ones())
        assert "TMP" not in namespace, f"call {i}"
    assert j.traces == 2


def test_len_of_an_object_holding_many_objects_is_not_refused_and_follows_its_len():
    class Sample:
        def __init__(self, i):
            self.i = i

    class Dataset:
        def __init__(self, n):
            self.items = [Sample(i) for i in range(n)]

        def __len__(self):
            return len(self.items)

    data = Dataset(3000)  # more objects than a value handed to C may reach: len() reads only __len__ and the list
    j = _agree(lambda x: x * len(data), lambda: data.items.append(Sample(0)))
    assert j.traces >= 2
