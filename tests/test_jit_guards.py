"""tg.jit never replays a stale answer: every route by which a step can read something that changed between calls,
each compared with eager. The routes are issue 27's; each of these failed on the main of 2026-12-06."""
import jit_helpers
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim


def _twice(f, *args):
    """Three calls: two trace, one replays."""
    for _ in range(3):
        out = f(*args)
    return out


# ---- 1. a tensor without a gradient, given new .data --------------------------------------------------------------
def test_a_tensor_without_a_gradient_given_new_data_is_read_again():
    keep = tg.Tensor(np.ones(4, np.float32))
    f = tg.jit(lambda x: tg.where(keep > 0.5, x, 0.0).sum())
    x = np.arange(4, dtype=np.float32)
    assert _twice(f, x).item() == 6.0
    keep.data = np.zeros(4, np.float32)
    assert f(x).item() == 0.0  # eager gives 0.0
    keep.data = np.array([1, 0, 1, 0], np.float32)
    assert f(x).item() == 2.0


# ---- 2. a NumPy index array the step closes over, changed in place ------------------------------------------------
def test_an_index_array_changed_in_place_is_read_again():
    idx = np.array([0, 2])
    f = tg.jit(lambda x: x[idx] * 1.0)
    x = np.arange(8.0).reshape(4, 2)
    _twice(f, x)
    idx[:] = [1, 3]
    np.testing.assert_array_equal(f(x).data, x[[1, 3]])


def test_indices_for_take_along_axis_changed_in_place_are_read_again():
    order = np.array([[1, 0, 2], [2, 1, 0]])
    f = tg.jit(lambda x: tg.take_along_axis(x, order, axis=1) * 1.0)
    x = np.arange(6.0).reshape(2, 3)
    _twice(f, x)
    order[:] = [[2, 2, 2], [0, 0, 0]]
    np.testing.assert_array_equal(f(x).data, np.take_along_axis(x, order, axis=1))


# ---- 3. an integer NumPy array used as an operand, changed in place ----------------------------------------------
def test_an_integer_array_used_as_an_operand_changed_in_place_is_read_again():
    weights = np.array([1, 2, 3])
    f = tg.jit(lambda x: (x * weights).sum())
    x = np.ones(3, np.float32)
    assert _twice(f, x).item() == 6.0
    weights[:] = [10, 20, 30]
    assert f(x).item() == 60.0


def test_a_float_array_used_as_an_operand_changed_in_place_is_read_again():
    weights = np.array([1.0, 2.0, 3.0], np.float32)
    f = tg.jit(lambda x: (x * weights).sum())
    x = np.ones(3, np.float32)
    _twice(f, x)
    weights *= 10
    assert f(x).item() == 60.0


# ---- 4. a global read by a helper function the step calls ---------------------------------------------------------
def test_a_global_a_helper_in_another_module_reads_is_guarded():
    f = tg.jit(lambda x: jit_helpers.scaled(x).sum())
    x = np.ones(3, np.float32)
    try:
        assert _twice(f, x).item() == 6.0
        jit_helpers.SCALE = 5.0
        assert f(x).item() == 15.0
    finally:
        jit_helpers.SCALE = 2.0


def test_a_closure_of_a_helper_function_is_guarded():
    factor = [3.0]

    def outer():
        scale = factor[0]

        def helper(x):
            return x * scale

        def set_scale(new):
            nonlocal scale
            scale = new
        return helper, set_scale

    helper, set_scale = outer()
    f = tg.jit(lambda x: helper(x).sum())
    x = np.ones(2, np.float32)
    assert _twice(f, x).item() == 6.0
    set_scale(10.0)
    assert f(x).item() == 20.0


# ---- 5. requires_grad changed on a parameter -------------------------------------------------------------------
def _two_layers(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU(), nn.Linear(4, 2, rng=rng))


@pytest.mark.parametrize("flip", ["freeze", "unfreeze"])
def test_requires_grad_changed_on_a_parameter_trains_as_eager(flip):
    x, y = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32), np.array([0, 1, 1, 0, 1])
    results = []
    for jit in (False, True):
        model = _two_layers()
        opt = optim.SGD(model.parameters(), lr=0.1)  # every parameter, frozen or not: step() skips a None grad
        if flip == "unfreeze":
            model.layers[0].weight.requires_grad = False

        def step(x, y):
            loss = model(x).cross_entropy(y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss

        step = tg.jit(step) if jit else step
        for i in range(6):
            if i == 3:
                model.layers[0].weight.requires_grad = flip == "unfreeze"
            step(x, y) if jit else step(tg.Tensor(x), y)
        results.append(model.layers[0].weight._data.copy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], _two_layers().layers[0].weight._data)  # it trained at some point


# ---- 6. a model called through a method --------------------------------------------------------------------------
class Encoder(nn.Module):
    def __init__(self):
        self.fc = nn.Linear(3, 2, rng=np.random.default_rng(0))
        self.scale = 1.0

    def encode(self, x):
        return self.fc(x) * self.scale

    def forward(self, x):
        return self.encode(x)


@pytest.mark.parametrize("call", ["encode", "forward"])
def test_a_model_called_through_a_method_is_guarded(call):
    model = Encoder()
    f = tg.jit((lambda x: model.encode(x)) if call == "encode" else (lambda x: model.forward(x)))
    x = np.ones((2, 3), np.float32)
    with tg.no_grad():
        _twice(f, x)
        model.fc = nn.Linear(3, 2, rng=np.random.default_rng(7))  # a replaced layer
        np.testing.assert_array_equal(f(x).data, model.fc(tg.Tensor(x)).data)
        model.scale = 3.0  # a changed attribute
        np.testing.assert_array_equal(f(x).data, (model.fc(tg.Tensor(x)) * 3.0).data)


def test_a_library_model_called_through_forward_is_guarded():
    model = nn.Sequential(nn.Linear(3, 2, rng=np.random.default_rng(0)), nn.Dropout(0.0))
    f = tg.jit(lambda x: model.forward(x))
    x = np.ones((2, 3), np.float32)
    with tg.no_grad():
        _twice(f, x)
        model.layers[1].p = 1.0
        np.testing.assert_array_equal(f(x).data, np.zeros((2, 2), np.float32))


# ---- the two smaller ones ------------------------------------------------------------------------------------------
def test_profile_around_a_jitted_step_records_its_ops():
    w = tg.Tensor(np.ones(3, np.float32), requires_grad=True)

    @tg.jit
    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss

    x = np.ones(3, np.float32)
    _twice(step, x)
    with tg.profile() as prof:
        step(x)
    phases = {(e["op"], e["phase"]) for e in prof.events}
    assert {("mul", "forward"), ("sum", "forward"), ("mul", "backward")} <= phases
    assert step.eager_calls == 1


def test_backward_on_what_a_replay_returned_blames_jit_not_no_grad():
    w = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    f = tg.jit(lambda x: (x * w).sum())
    out = _twice(f, np.ones(3, np.float32))
    with pytest.raises(RuntimeError, match=r"returned by a tg\.jit replay.*inside the jitted function") as err:
        out.backward()
    assert "no_grad" not in str(err.value)


# ---- what cannot be seen is refused, naming the line ---------------------------------------------------------------
def test_reading_the_values_of_a_tensor_from_outside_into_python_is_refused():
    keep = tg.Tensor(np.ones(3, np.float32))
    with pytest.raises(tg.JitError, match=r"\.numpy\(\) reads a tensor's value while tracing.*test_jit_guards"):
        tg.jit(lambda x: x * float(keep.numpy().sum()))(np.ones(3, np.float32))


def test_python_random_numbers_are_refused_naming_the_line():
    import random

    with pytest.raises(tg.JitError, match=r"random\(\) gives a new value on each call.*test_jit_guards\.py:\d+"):
        tg.jit(lambda x: x * 2.0 if random.random() < 2 else x)(np.ones(3, np.float32))


def test_an_attribute_of_a_value_jit_cannot_follow_is_refused_naming_the_line():
    class Config:
        scale = 2.0

    configs = {"a": Config()}
    f = tg.jit(lambda x: x * next(iter(configs.values())).scale)
    with pytest.raises(tg.JitError, match=r"attribute \.scale is read from a value jit cannot follow.*test_jit_g"):
        f(np.ones(3, np.float32))


# ---- more routes: properties, class attributes, getattr, dict configs, a function's defaults ----------------------
class Settings:
    factor = 2.0  # a class attribute

    def __init__(self):
        self._scale = 3.0
        self.table = {"shift": 1.0}

    @property
    def scale(self):
        return self._scale


def test_properties_class_attributes_getattr_and_dict_items_are_guarded():
    settings = Settings()
    name = "factor"
    f = tg.jit(lambda x: (x * settings.scale + settings.table["shift"]) * getattr(settings, name) * Settings.factor)
    x = np.ones(2, np.float32)
    expected = lambda: (np.ones(2) * settings._scale + settings.table["shift"]) * Settings.factor ** 2  # noqa: E731
    assert np.allclose(_twice(f, x).data, expected())
    settings._scale = 5.0  # read through the property's own frame
    assert np.allclose(f(x).data, expected())
    settings.table["shift"] = -1.0  # a dict changed in place
    assert np.allclose(f(x).data, expected())
    Settings.factor = 0.5  # a class attribute, read through the instance and through the class
    try:
        assert np.allclose(f(x).data, expected())
    finally:
        Settings.factor = 2.0


def test_a_library_property_read_by_the_step_is_guarded():
    w = tg.Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    f = tg.jit(lambda x: x * opt.lr)  # Optimizer.lr: a property of the library's
    x = np.ones(2, np.float32)
    _twice(f, x)
    opt.lr = 0.5
    np.testing.assert_array_equal(f(x).data, np.full(2, 0.5, np.float32))


def test_a_functions_defaults_and_code_are_guarded():
    def helper(x, scale=2.0):
        return x * scale

    def other(x, scale=2.0):
        return x - scale

    f = tg.jit(lambda x: helper(x).sum())
    x = np.ones(2, np.float32)
    assert _twice(f, x).item() == 4.0
    helper.__defaults__ = (10.0,)
    assert f(x).item() == 20.0
    helper.__code__ = other.__code__
    assert f(x).item() == (1.0 - 10.0) * 2


def test_an_array_handed_to_a_library_function_that_copies_it_is_guarded():
    counts = np.array([1, 0, 2])  # integers: Tensor() makes a float32 copy
    f = tg.jit(lambda x: x * tg.Tensor(counts))
    x = np.arange(3, dtype=np.float32)
    _twice(f, x)
    counts[:] = [0, 1, 0]
    np.testing.assert_array_equal(f(x).data, x * counts)


def test_a_list_given_to_tensor_inside_the_step_is_guarded():
    values = [1.0, 2.0]
    f = tg.jit(lambda x: x * tg.Tensor(values))
    x = np.ones(2, np.float32)
    _twice(f, x)
    values[0] = 7.0
    np.testing.assert_array_equal(f(x).data, np.array([7.0, 2.0], np.float32))


def test_an_iterator_from_outside_the_call_is_refused_naming_the_line():
    import itertools

    counter = itertools.count()
    with pytest.raises(tg.JitError, match=r"next\(\) takes items from an iterator.*test_jit_guards\.py:\d+"):
        tg.jit(lambda x: x * 2.0 if next(counter) < 3 else x)(np.ones(2, np.float32))

    def numbers():
        yield from range(10)

    source = numbers()

    def loop(x):
        for n in source:
            return x * float(n)

    with pytest.raises(tg.JitError, match=r"a loop takes items from an iterator.*test_jit_guards\.py:\d+"):
        tg.jit(loop)(np.ones(2, np.float32))


def test_an_object_handed_to_code_jit_does_not_watch_has_every_attribute_guarded():
    import operator

    settings = Settings()
    read_scale = operator.attrgetter("_scale")  # C code reading an attribute: jit cannot see which
    f = tg.jit(lambda x: x * read_scale(settings))
    x = np.ones(2, np.float32)
    _twice(f, x)
    settings._scale = 9.0
    np.testing.assert_array_equal(f(x).data, np.full(2, 9.0, np.float32))


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
@pytest.mark.parametrize("wrap", [tg.Tensor, tg.tensor, lambda t: t.detach()], ids=["Tensor", "tensor", "detach"])
def test_a_tensor_made_in_the_step_from_a_tensor_read_from_outside_reads_it_again(dtype, wrap):
    # Tensor(w) shares w's array: a replay must read what w holds then (a new .data, an in-place change), not
    # the array the wrapper held while tracing
    counts = tg.Tensor(np.array([1, 2, 3], dtype))
    f = tg.jit(lambda x: x * wrap(counts))
    x = np.ones(3, np.float32)
    _twice(f, x)
    counts.data = np.array([4, 5, 6], dtype)
    np.testing.assert_array_equal(f(x).data, np.array([4, 5, 6], np.float32))
    counts.data[...] = 7
    np.testing.assert_array_equal(f(x).data, np.full(3, 7, np.float32))


def test_python_reading_what_a_replayed_call_changes_is_refused_naming_the_line():
    w = tg.Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    schedule = optim.StepLR(opt, step_size=1, gamma=0.5)

    def step(x):
        (w * x).sum().backward()
        opt.step()
        schedule.step()  # called again by each replay: it changes opt's learning rate
        return x * opt.lr  # eager reads the new rate; a replay would keep the traced one

    with pytest.raises(tg.JitError, match=r"\.lr is read after .*step\(\), which each replay calls again.*"
                                          r"test_jit_guards\.py:\d+"):
        tg.jit(step)(np.ones(2, np.float32))


def test_reading_the_learning_rate_before_the_replayed_calls_is_guarded():
    w = tg.Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def step(x):
        scaled = x * opt.lr
        (w * x).sum().backward()
        opt.step()
        opt.zero_grad()
        return scaled

    f = tg.jit(step)
    x = np.ones(2, np.float32)
    _twice(f, x)
    opt.lr = 0.3
    np.testing.assert_array_equal(f(x).data, np.full(2, 0.3, np.float32))


def test_the_arguments_a_partial_keeps_are_guarded():
    import functools

    scaled = functools.partial(lambda x, s: x * s, s=2.0)
    f = tg.jit(lambda x: scaled(x))
    x = np.ones(2, np.float32)
    _twice(f, x)
    scaled.keywords["s"] = 5.0
    np.testing.assert_array_equal(f(x).data, np.full(2, 5.0, np.float32))
