"""no_grad, enable_grad and set_grad_enabled behave as in PyTorch: as blocks, calls and decorators."""
import numpy as np
import pytest

import tinygrad_np as tg


def recorded(x):
    return (x * 2).requires_grad


@pytest.fixture
def x():
    return tg.Tensor(np.ones(2), requires_grad=True)


def test_no_grad_on_a_generator_records_nothing_it_yields(x):
    @tg.no_grad()
    def doubles(t, n):
        for _ in range(n):
            t = t * 2
            yield t

    outputs = list(doubles(x, 3))
    assert [o.requires_grad for o in outputs] == [False, False, False]
    assert tg.is_grad_enabled()


def test_between_yields_the_callers_mode_is_in_force(x):
    @tg.no_grad()
    def gen():
        yield tg.is_grad_enabled()
        yield tg.is_grad_enabled()

    g = gen()
    assert next(g) is False
    assert tg.is_grad_enabled() and recorded(x)  # the caller, between two resumptions
    assert next(g) is False


def test_a_generator_gets_what_is_sent_and_thrown_in():
    @tg.no_grad()
    def echo():
        received = yield "ready"
        try:
            yield received
        except KeyError:
            yield "caught inside, grad " + str(tg.is_grad_enabled())

    g = echo()
    assert next(g) == "ready"
    assert g.send("hello") == "hello"
    assert g.throw(KeyError("k")) == "caught inside, grad False"
    g.close()
    assert tg.is_grad_enabled()


def test_set_grad_enabled_as_a_plain_call_switches_the_mode(x):
    try:
        tg.set_grad_enabled(False)
        assert not tg.is_grad_enabled() and not recorded(x)
        tg.set_grad_enabled(True)
        assert recorded(x)
    finally:
        tg.set_grad_enabled(True)


def test_set_grad_enabled_as_a_block_restores_the_mode(x):
    with tg.set_grad_enabled(False):
        assert not recorded(x)
        with tg.set_grad_enabled(True):
            assert recorded(x)
        assert not recorded(x)
    assert recorded(x)


def test_set_grad_enabled_as_a_decorator_acts_per_call_only(x):
    @tg.set_grad_enabled(False)
    def f(t):
        return recorded(t)

    assert tg.is_grad_enabled(), "making the decorator must not switch the mode"
    assert f(x) is False and tg.is_grad_enabled()


def test_bare_no_grad_decorator_works(x):
    @tg.no_grad
    def f(t):
        return t * 2

    assert not f(x).requires_grad and tg.is_grad_enabled()
    assert f.__name__ == "f"


def test_enable_grad_inside_no_grad(x):
    with tg.no_grad():
        with tg.enable_grad():
            assert recorded(x)
        assert not recorded(x)


def test_the_mode_comes_back_after_an_exception(x):
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            raise ZeroDivisionError
    assert tg.is_grad_enabled()
