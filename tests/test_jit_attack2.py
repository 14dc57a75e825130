"""tg.jit against the second attack report (/work/tools/jit_attack_report2.md): each route it found to a replay
that differs from eager without an error now replays eager's bits, traces again, or is refused naming the line.
Each test is written from the attacker's reproducer in /work/scratch/attack_jit2/ (named after its file); each
failed on the main of 2026-12-08."""
import numpy as np
import pytest

import tinygrad_np as tg


def _bits(t):
    a = np.asarray(t._data if isinstance(t, tg.Tensor) else t)
    return a.dtype.str, a.shape, a.tobytes()


# ---- D. arguments ------------------------------------------------------------------------------------------------
def test_b_shared_array_args_two_tensors_over_one_array_stay_two_inputs():
    def f(a, b):
        (a * b).sum().backward()
        return a.grad * 1.0

    j = tg.jit(f)
    for i in range(4):
        arr = np.arange(3.0) + i
        a, a2 = tg.Tensor(arr.copy(), requires_grad=True), tg.Tensor(arr.copy(), requires_grad=True)
        assert _bits(j(a, a.detach())) == _bits(f(a2, a2.detach()))  # the stop-gradient pattern
        b, b2 = tg.Tensor(arr, requires_grad=True), tg.Tensor(arr, requires_grad=True)
        assert _bits(j(b, tg.Tensor(arr))) == _bits(f(b2, tg.Tensor(arr)))
    assert j.traces == 2  # both forms are one signature: a Tensor that requires grad, and one over its array


def test_b_argument_tensor_state_grad_presence_and_leafness_are_keyed():
    def f_grad_is_none(x):
        return x * 2 if x.grad is None else x * 3

    def f_is_leaf(x):
        return x * (2.0 if x.is_leaf else 3.0)

    j = tg.jit(f_grad_is_none)
    for i in range(4):
        x = tg.Tensor(np.ones(2), requires_grad=True)
        if i >= 2:
            x.grad = tg.Tensor(np.full(2, 5.0))
        assert _bits(j(x)) == _bits(f_grad_is_none(x))
    j = tg.jit(f_is_leaf)
    for i in range(4):
        x = tg.Tensor(np.ones(2), requires_grad=True)
        x = x * 1.0 if i >= 2 else x
        assert _bits(j(x)) == _bits(f_is_leaf(x))


def test_b_argument_tensor_state_a_non_leaf_argument_after_leaves_is_refused_not_replayed():
    def f(x):
        (x * x).sum().backward()
        return x * 1.0

    j = tg.jit(f)
    for i in range(2):
        j(tg.Tensor(np.full(2, 2 * (i + 1.0)), requires_grad=True))
    a = tg.Tensor(np.full(2, 3.0), requires_grad=True)
    with pytest.raises(tg.JitError, match=r"test_jit_attack2\.py:\d+.*not a leaf.*detach"):
        j(a * 2)


def test_c_nonleaf_argument_keyerror_is_a_jit_error_naming_the_line():
    def g(x):
        (x * x).sum().backward()
        return x * 1.0

    a = tg.Tensor(np.full(2, 1.0), requires_grad=True)
    with pytest.raises(tg.JitError, match=r"backward at test_jit_attack2\.py:\d+.*not a leaf"):
        tg.jit(g)(a * 2)
    j = tg.jit(lambda x: x * 2.0)  # a non-leaf argument with no backward through it is fine
    for _ in range(3):
        b = tg.Tensor(np.full(2, 1.0), requires_grad=True) * 3
        assert _bits(j(b)) == _bits(b * 2.0)


def test_b_array_arg_unchecked_array_arguments_convert_as_tg_tensor_does():
    def g(x):
        return (x * x).sum(axis=0)

    def h(x):
        return (x + 1).sum()

    for fn, make in [(g, lambda: np.asmatrix(np.arange(4.0).reshape(2, 2))),
                     (h, lambda: np.ma.masked_array(np.arange(4.0), mask=[0, 1, 0, 1]))]:
        j = tg.jit(fn)
        for _ in range(3):
            a = make()
            assert _bits(j(a)) == _bits(fn(tg.Tensor(a)))
    with pytest.raises(TypeError, match="complex"):
        tg.Tensor(np.array([1j, 2.0]))
    with pytest.raises(TypeError, match="complex"):
        tg.jit(lambda x: (x * x).sum())(np.array([1j, 2.0]))
    j = tg.jit(g)  # a program traced with plain arrays, then a matrix of the same shape and dtype
    for i in range(4):
        a = np.arange(4.0).reshape(2, 2)
        a = np.asmatrix(a) if i >= 2 else a
        assert _bits(j(a)) == _bits(g(tg.Tensor(a)))
