"""A model's architecture as JSON, and the model rebuilt from it: what a saved model file needs besides its weights.

``describe(model)`` gives a plain dict (``json.dumps`` it into a file's metadata) for an ``nn.Sequential``
of the layers below, nested Sequentials included; ``build(spec)`` makes the same model again, with fresh
weights that ``load_state_dict`` then replaces, name for name. JSON, never pickle: a file's metadata is
read, not run.

A spec comes from a file someone handed you, so ``build`` checks all of it before it makes anything: every
field of every layer (its type, its range), the nesting (at most ``MAX_DEPTH`` Sequentials deep), the number of
layers (at most ``MAX_LAYERS``), and the number of values the model would hold (at most ``max_parameters``,
``MAX_PARAMETERS`` unless raised). Each refusal is a ValueError naming the field, as ``layers[3].in_features``.
``state_shapes(spec)`` gives the shape of every parameter and buffer the model would have, making nothing, so
that a loader can compare them with a file's stored tensors first. ``output_shape(spec, input_shape)`` follows
an input through the layers, making nothing: it refuses a layer that could not take what reaches it, and a
model whose forward would make an array of more than ``max_activation`` values for one example
(``MAX_ACTIVATION``) or do more than ``max_operations`` multiply-adds (``MAX_OPERATIONS``), so that a tiny
file cannot ask inference for gigabytes (a padding of 8,000) or hours.
"""
import math
from typing import Any

from . import layers, serialization
from .containers import Identity, Softmax
from .module import Module

MAX_PARAMETERS = 100_000_000  # parameters and buffers together: 400 MB of float32. build(max_parameters=) raises it
MAX_DEPTH = 16  # Sequentials within Sequentials
MAX_LAYERS = 10_000  # layers in all, Sequentials included: each costs time to build and to run
MAX_ACTIVATION = 10_000_000  # values in any one array a forward makes for one example (40 MB of float32)
MAX_OPERATIONS = 10_000_000_000  # multiply-adds of a forward, for one example (about a second)
MAX_POOL_WINDOWS = 10_000  # AdaptiveAvgPool2d windows computed one at a time, in all (each ~30 us of Python)
_LARGEST_SIZE = 2**31 - 1  # any one size, channel count or kernel side

# layer class -> the constructor arguments that describe it (each read back from the attribute of that name)
_ARGUMENTS: dict[type, tuple[str, ...]] = {
    layers.Linear: ("in_features", "out_features", "bias"),
    layers.Conv2d: ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"),
    layers.MaxPool2d: ("kernel_size", "stride", "padding", "dilation"),
    layers.AvgPool2d: ("kernel_size", "stride", "padding"),
    layers.AdaptiveAvgPool2d: ("output_size",),
    layers.BatchNorm1d: ("num_features", "eps", "momentum", "affine", "track_running_stats", "bias"),
    layers.BatchNorm2d: ("num_features", "eps", "momentum", "affine", "track_running_stats", "bias"),
    layers.LayerNorm: ("normalized_shape", "eps", "elementwise_affine", "bias"),
    layers.Flatten: ("start_dim", "end_dim"),
    layers.LeakyReLU: ("negative_slope",),
    layers.Dropout: ("p",),
    Softmax: ("dim",),
    layers.GELU: ("approximate",),
    layers.ReLU: (), layers.Tanh: (), layers.Sigmoid: (), layers.SiLU: (), Identity: (),
}
_BY_NAME = {cls.__name__: cls for cls in _ARGUMENTS}
_KNOWN = f"Sequential, {', '.join(sorted(_BY_NAME))}"


def describe(model: Module) -> dict[str, Any]:
    """``model`` (an nn.Sequential of the layers above, or one of them) as a JSON-ready dict. Refused: what
    ``build`` could not make again as it is: a subclass with a forward of its own, a layer used twice, a
    parameter shared by two layers (build makes them apart, and the first training step would tell)."""
    used = [id(t) for _, t in _all_parameters(model)]
    if len(set(used)) != len(used):
        raise ValueError("describe: a parameter is shared by two layers (tied weights, or one layer used twice): "
                         "an architecture records layers apart, so build would untie them")
    return _describe(model)


def _all_parameters(model):
    """(layer, parameter) for every parameter of every layer, a shared one as often as it is used."""
    if isinstance(model, layers.Sequential):
        for layer in model.layers:
            yield from _all_parameters(layer)
    else:
        for name in ("weight", "bias"):
            t = getattr(model, name, None)
            if t is not None and not callable(t):
                yield model, t


def _describe(model: Module) -> dict[str, Any]:
    if isinstance(model, layers.Sequential):
        if type(model) is not layers.Sequential:
            raise ValueError(f"describe: {type(model).__name__} is a subclass of Sequential (its forward may not be "
                             "the layers in order), which an architecture cannot record; use nn.Sequential")
        return {"type": "Sequential", "layers": [_describe(layer) for layer in model.layers]}
    cls = type(model)
    if cls not in _ARGUMENTS:
        raise ValueError(f"describe: {cls.__name__} is not a layer an architecture can record (known: {_KNOWN})")
    return {"type": cls.__name__, **{name: _plain(_argument(model, name)) for name in _ARGUMENTS[cls]}}


def build(spec: dict[str, Any] | str, max_parameters: int = MAX_PARAMETERS) -> Module:
    """The model ``describe`` described (a dict, or its JSON text), with fresh weights: made only after all of
    ``spec`` is checked, and only if its parameters and buffers hold at most ``max_parameters`` values."""
    spec = _parsed(spec)
    shapes = state_shapes(spec)
    total = sum(math.prod(shape) for shape in shapes.values())
    if total > max_parameters:
        raise ValueError(f"build: the architecture's parameters and buffers hold {total:,} values, more than "
                         f"max_parameters={max_parameters:,}; if that is meant, pass a larger max_parameters")
    return _construct(spec)


def state_shapes(spec: dict[str, Any] | str) -> dict[str, tuple[int, ...]]:
    """The name and shape of every parameter and buffer of the model ``spec`` describes, in ``state_dict``
    order, with all of ``spec`` checked and nothing made."""
    shapes: dict[str, tuple[int, ...]] = {}
    _check(_parsed(spec), "", "", 0, shapes, [0])
    return shapes


def output_shape(spec: dict[str, Any] | str, input_shape: tuple[int, ...] | list[int],
                 max_activation: int = MAX_ACTIVATION, max_operations: int = MAX_OPERATIONS) -> tuple[int, ...]:
    """The shape of what the model ``spec`` describes gives for one example of ``input_shape`` (both without
    the batch axis), in eval mode, with all of ``spec`` checked and nothing made. Refused, naming the layer:
    one that cannot take what reaches it (a Linear of other in_features, a Conv2d of other channels, a kernel
    larger than its padded input), an array of more than ``max_activation`` values that a layer's forward would
    make (its output, its padded input, a convolution's unfolded windows), more than ``max_operations``
    multiply-adds in all, and more than MAX_POOL_WINDOWS AdaptiveAvgPool2d windows computed one at a time."""
    spec = _parsed(spec)
    state_shapes(spec)  # every field checked first
    if not (isinstance(input_shape, (tuple, list)) and 1 <= len(input_shape) <= 8
            and all(_is_int(n) and 1 <= n <= _LARGEST_SIZE for n in input_shape)):
        raise ValueError(f"output_shape: input_shape must be 1 to 8 whole numbers from 1, got {_short(input_shape)}")
    flow = _Flow(max_activation, max_operations)
    shape = (1, *input_shape)
    flow.array("the architecture", "input", shape)
    return _forward(spec, "", shape, flow)[1:]


def _parsed(spec):
    if isinstance(spec, str):
        try:
            spec = serialization.json_without_repeats(spec)
        except serialization.RepeatedKey as err:
            raise ValueError(f"build: the architecture names {err.args[0]!r} twice in one object (JSON readers "
                             "differ on which one counts)") from None
        except RecursionError:
            raise ValueError("build: the architecture nests deeper than Python's JSON reader follows") from None
        except ValueError as err:  # JSONDecodeError, and a number of more digits than Python converts
            raise ValueError(f"build: the architecture is not valid JSON ({err})") from None
    return spec


def _check(spec, where, prefix, depth, shapes, count):
    """Check one layer's spec (at ``where``, as ``layers[2]``), adding its state's shapes under ``prefix``;
    ``count[0]`` counts the layers seen."""
    name = where or "the architecture"
    count[0] += 1
    if count[0] > MAX_LAYERS:
        raise ValueError(f"build: the architecture has more than {MAX_LAYERS:,} layers, its Sequentials counted "
                         f"(MAX_LAYERS); {name} is one too many")
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"build: {name} must be a dict with a 'type', got {_short(spec)}")
    kind = spec["type"]
    if kind == "Sequential":
        if depth >= MAX_DEPTH:
            raise ValueError(f"build: {name} nests Sequentials deeper than {MAX_DEPTH} levels")
        unknown = set(spec) - {"type", "layers"}
        if unknown:
            raise ValueError(f"build: {name}: Sequential takes no {', '.join(sorted(map(str, unknown)))}")
        if "layers" not in spec:  # describe always writes it: a spec without it was not written by describe
            raise ValueError(f"build: {_at(where, 'layers')} is missing (an empty Sequential is \"layers\": [])")
        children = spec["layers"]
        if not isinstance(children, list):
            raise ValueError(f"build: {_at(where, 'layers')} must be a list of layers, got {_short(children)}")
        for i, child in enumerate(children):
            _check(child, f"{_at(where, 'layers')}[{i}]", f"{prefix}{i}.", depth + 1, shapes, count)
        return
    if not isinstance(kind, str) or kind not in _BY_NAME:
        raise ValueError(f"build: {name}: unknown layer type {_short(kind)} (known: {_KNOWN})")
    unknown = set(spec) - {"type"} - set(_ARGUMENTS[_BY_NAME[kind]])
    if unknown:
        raise ValueError(f"build: {name}: {kind} takes no {', '.join(sorted(map(str, unknown)))}")
    field = _Fields(spec, where)
    for shape_name, shape in _LAYER_STATE[kind](field):
        shapes[prefix + shape_name] = shape


_REQUIRED = object()


class _Fields:
    """One layer's arguments, each read with its check; a refusal names the field."""

    def __init__(self, spec, where):
        self.spec, self.where = spec, where

    def _refuse(self, key, requirement):
        value = self.spec[key]
        raise ValueError(f"build: {_at(self.where, key)} must be {requirement}, got {_short(value)}")

    def _get(self, key, default):
        if key not in self.spec:
            if default is _REQUIRED:
                raise ValueError(f"build: {_at(self.where, key)} is missing")
            return default
        return self.spec[key]

    def size(self, key, default=_REQUIRED, smallest=1):
        value = self._get(key, default)
        if not (_is_int(value) and smallest <= value <= _LARGEST_SIZE):
            self._refuse(key, f"a whole number from {smallest} to {_LARGEST_SIZE:,}")
        return value

    def pair(self, key, default=_REQUIRED, smallest=1, allow_none=False):
        """An int, or a list of 2 ints, each at least ``smallest`` (a kernel's sides, a stride)."""
        value = self._get(key, default)
        if value is None and allow_none:
            return None
        values = value if isinstance(value, list) else [value, value]
        if not (len(values) == 2 and all(_is_int(v) and smallest <= v <= _LARGEST_SIZE for v in values)):
            self._refuse(key, f"a whole number from {smallest} to {_LARGEST_SIZE:,}, or a list of 2 of them"
                         + (", or null" if allow_none else ""))
        return values

    def shape(self, key):
        """LayerNorm's normalized_shape: a positive int or a list of 1 to 8 of them."""
        value = self._get(key, _REQUIRED)
        values = value if isinstance(value, list) else [value]
        if not (1 <= len(values) <= 8 and all(_is_int(v) and 1 <= v <= _LARGEST_SIZE for v in values)):
            self._refuse(key, f"a whole number from 1 to {_LARGEST_SIZE:,}, or a list of 1 to 8 of them")
        return tuple(values)

    def flag(self, key, default=True):
        value = self._get(key, default)
        if not isinstance(value, bool):
            self._refuse(key, "true or false")
        return value

    def number(self, key, default, low=-math.inf, high=math.inf, positive=False, allow_none=False):
        value = self._get(key, default)
        if value is None and allow_none:
            return None
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
              and low <= value <= high and (value > 0 or not positive))
        if not ok:
            self._refuse(key, ("a positive" if positive else "a") + " finite number"
                         + (f" from {low} to {high}" if math.isfinite(low) and math.isfinite(high) else "")
                         + (", or null" if allow_none else ""))
        return value

    def axis(self, key, default):
        value = self._get(key, default)
        if not (_is_int(value) and -64 <= value < 64):
            self._refuse(key, "an axis, a whole number from -64 to 63")
        return value

    def padding(self, key):
        value = self._get(key, 0)
        if isinstance(value, str):
            if value not in ("same", "valid"):
                self._refuse(key, "'same', 'valid', a whole number from 0, or a list of 2 of them")
            return value
        return self.pair(key, 0, smallest=0)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _at(where, key):
    return f"{where}.{key}" if where else key


def _linear(f):
    inputs, outputs = f.size("in_features"), f.size("out_features")
    return [("weight", (outputs, inputs))] + ([("bias", (outputs,))] if f.flag("bias") else [])


def _conv2d(f):
    inputs, outputs, groups = f.size("in_channels"), f.size("out_channels"), f.size("groups", 1)
    kernel = f.pair("kernel_size")
    stride, padding = f.pair("stride", 1), f.padding("padding")
    f.pair("dilation", 1)
    if padding == "same" and stride != [1, 1]:
        raise ValueError(f"build: {_at(f.where, 'padding')} is 'same', which needs stride 1 (as PyTorch), and "
                         f"stride is {f.spec.get('stride')}")
    if inputs % groups or outputs % groups:
        raise ValueError(f"build: {_at(f.where, 'groups')} is {groups}, which in_channels {inputs} and out_channels "
                         f"{outputs} must both divide into")
    return [("weight", (outputs, inputs // groups, *kernel))] + ([("bias", (outputs,))] if f.flag("bias") else [])


def _max_pool(f):
    _avg_pool(f)
    f.pair("dilation", 1)
    return []


def _avg_pool(f):
    kernel, padding = f.pair("kernel_size"), f.pair("padding", 0, smallest=0)
    f.pair("stride", None, allow_none=True)
    if any(p > k // 2 for p, k in zip(padding, kernel, strict=True)):  # F's rule (PyTorch's): no window of padding
        raise ValueError(f"build: {_at(f.where, 'padding')} is {f.spec['padding']}, more than half the kernel "
                         f"size {f.spec['kernel_size']}")
    return []


def _adaptive_avg_pool(f):
    f.pair("output_size")
    return []


def _batch_norm(f):
    n = f.size("num_features")
    f.number("eps", 1e-5, positive=True), f.number("momentum", 0.1, 0.0, 1.0, allow_none=True)
    affine, tracked, bias = f.flag("affine"), f.flag("track_running_stats"), f.flag("bias")  # (bias: PyTorch's
    # keyword; a description written before it was recorded has one whenever it is affine)
    return (([("weight", (n,))] + ([("bias", (n,))] if bias else []) if affine else [])
            + ([("running_mean", (n,)), ("running_var", (n,)), ("num_batches_tracked", ())] if tracked else []))


def _layer_norm(f):
    shape = f.shape("normalized_shape")
    f.number("eps", 1e-5, positive=True)
    bias = f.flag("bias")
    return ([("weight", shape)] + ([("bias", shape)] if bias else [])) if f.flag("elementwise_affine") else []


def _flatten(f):
    f.axis("start_dim", 1), f.axis("end_dim", -1)
    return []


def _leaky_relu(f):
    # Bounded so that slope·x stays finite in float32 for any x a model's activations reach (1e308 is inf there,
    # and every negative pre-activation became -inf); real slopes are below 1, PReLU's learnt ones a few units.
    f.number("negative_slope", 0.01, low=-1000.0, high=1000.0)
    return []


def _gelu(f):
    # A description written before GELU had its exact form has no "approximate": its GELU was the tanh one.
    if f._get("approximate", "tanh") not in ("none", "tanh"):
        f._refuse("approximate", "'none' or 'tanh'")
    return []


def _dropout(f):
    f.number("p", 0.5, 0.0, 1.0)
    return []


def _softmax(f):
    f.axis("dim", -1)
    return []


def _stateless(f):
    return []


# layer name -> its checks, giving the (name, shape) of each parameter and buffer it would have
_LAYER_STATE = {
    "Linear": _linear, "Conv2d": _conv2d, "MaxPool2d": _max_pool, "AvgPool2d": _avg_pool,
    "AdaptiveAvgPool2d": _adaptive_avg_pool, "BatchNorm1d": _batch_norm, "BatchNorm2d": _batch_norm,
    "LayerNorm": _layer_norm, "Flatten": _flatten, "LeakyReLU": _leaky_relu, "Dropout": _dropout,
    "Softmax": _softmax, "ReLU": _stateless, "Tanh": _stateless, "Sigmoid": _stateless, "GELU": _gelu,
    "SiLU": _stateless, "Identity": _stateless,
}


def _construct(spec):
    """The model of a checked spec."""
    if spec["type"] == "Sequential":
        return layers.Sequential(*(_construct(layer) for layer in spec.get("layers", [])))
    arguments = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "type"}
    if spec["type"] == "GELU":
        arguments.setdefault("approximate", "tanh")  # described before the exact form existed (see _gelu)
    return _BY_NAME[spec["type"]](**arguments)


def _argument(layer, name):
    if name == "bias":  # recorded as whether the layer has one
        return layer.bias is not None
    if name in ("affine", "elementwise_affine"):
        return layer.weight is not None
    return getattr(layer, name)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


# ---- following an input through the layers: what a forward would make, and how much work it is -----------------
class _Flow:
    """The bounds of one ``output_shape`` walk and what it has counted so far."""

    def __init__(self, max_activation, max_operations):
        self.max_activation, self.max_operations = max_activation, max_operations
        self.operations = self.windows = 0

    def array(self, where, what, shape):
        values = math.prod(shape)
        if values > self.max_activation:
            raise ValueError(f"output_shape: {where or 'the architecture'}: its {what} would hold {values:,} values "
                             f"for one example (shape {shape[1:]}), more than max_activation="
                             f"{self.max_activation:,}")

    def work(self, where, operations):
        self.operations += operations
        if self.operations > self.max_operations:
            raise ValueError(f"output_shape: {where or 'the architecture'}: the forward would take more than "
                             f"max_operations={self.max_operations:,} multiply-adds for one example")


def _forward(spec, where, shape, flow):
    """The (batch of one) shape that ``spec``'s layer gives for an input of ``shape``, each array counted."""
    kind = spec["type"]
    if kind == "Sequential":
        for i, child in enumerate(spec["layers"]):
            shape = _forward(child, f"{_at(where, 'layers')}[{i}]", shape, flow)
        return shape
    name = f"{where or 'the architecture'} ({kind})"

    def refuse(reason):
        raise ValueError(f"output_shape: {name} {reason}; its input is {shape[1:]} for each example")

    if kind in ("Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d") and len(shape) != 4:
        refuse("takes images, (channels, height, width) for each example")
    if kind == "Linear":
        if shape[-1] != spec["in_features"]:
            refuse(f"takes {spec['in_features']} features on its input's last axis")
        out = shape[:-1] + (spec["out_features"],)
        flow.work(name, math.prod(shape) * spec["out_features"])
    elif kind in ("Conv2d", "MaxPool2d", "AvgPool2d"):
        out = _windows(spec, name, shape, flow, refuse)
    elif kind == "AdaptiveAvgPool2d":
        oh, ow = _two(spec["output_size"])
        out = shape[:2] + (oh, ow)
        height, width = shape[2:]
        if height % oh or width % ow:  # computed one window at a time (F.adaptive_avg_pool2d)
            flow.windows += oh * ow
            if flow.windows > MAX_POOL_WINDOWS:
                refuse(f"would compute {flow.windows:,} windows one at a time, more than MAX_POOL_WINDOWS="
                       f"{MAX_POOL_WINDOWS:,} (an output_size that divides the input's is pooled at once)")
        flow.work(name, math.prod(shape) * 4)
    elif kind in ("BatchNorm1d", "BatchNorm2d"):
        if (kind == "BatchNorm1d" and len(shape) not in (2, 3)) or shape[1] != spec["num_features"]:
            refuse(f"takes {spec['num_features']} channels on axis 1 of " + (
                "(channels,) or (channels, length)" if kind == "BatchNorm1d" else "(channels, height, width)"))
        if not spec.get("track_running_stats", True) and math.prod(shape[2:]) < 2:
            refuse("normalizes by the batch's own statistics (track_running_stats is false), and one example has "
                   "a single value per channel: it cannot be run on one example")
        out = shape
    elif kind == "LayerNorm":
        normalized = tuple(spec["normalized_shape"]) if isinstance(spec["normalized_shape"], list) else (
            spec["normalized_shape"],)
        if len(normalized) >= len(shape):  # it would run on a batch of one only
            refuse(f"normalizes the last axes {normalized}, the batch's axis among them")
        if shape[len(shape) - len(normalized):] != normalized:
            refuse(f"normalizes the last axes {normalized}")
        out = shape
    elif kind == "Flatten":
        start, end = spec.get("start_dim", 1), spec.get("end_dim", -1)
        if not (-len(shape) <= start < len(shape) and -len(shape) <= end < len(shape)):
            refuse(f"flattens axes {start} to {end}, of an input of {len(shape)} axes with the batch's")
        start, end = start % len(shape), end % len(shape)
        if start > end:
            refuse(f"flattens from axis {start} to axis {end}, which comes before it")
        if start == 0 and end > 0:  # it would mix the examples of a batch
            refuse(f"flattens axes {start} to {end}, the batch's axis among them")
        out = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    elif kind == "Softmax":
        if not -len(shape) <= spec.get("dim", -1) < len(shape):
            refuse(f"takes the softmax along axis {spec.get('dim', -1)}, of an input of {len(shape)} axes with the "
                   "batch's")
        if spec.get("dim", -1) % len(shape) == 0:  # as a Flatten over the batch's axis: it would mix the examples
            refuse(f"takes the softmax along axis {spec.get('dim', -1)}, the batch's, which mixes the examples")
        out = shape
    else:  # elementwise: the activations, Dropout (nothing in eval), Identity
        out = shape
    flow.array(name, "output", out)
    flow.work(name, math.prod(out) * _ELEMENTWISE_COST.get(_cost_kind(spec), 1))
    return out


# What one element of an elementwise layer costs, in multiply-adds of a matrix product, measured on this project's
# machine (2026-12-08: exact GELU's erf 1,200, Sigmoid 300, tanh GELU and Softmax 63, ReLU 19, Tanh 12): an
# array pass costs far more than a multiply-add inside BLAS, so a chain of them must count as such (a 197 KB file
# of 993 exact GELUs over 10M values took 3 minutes a digit under a bound that counted them at 1).
_PER_GROUP_COST = 280_000  # a grouped Conv2d's per-group overhead, in multiply-adds (measured: 28 µs a group)
_ELEMENTWISE_COST = {"GELU": 1200, "GELU tanh": 64, "Sigmoid": 300, "Softmax": 64, "LogSoftmax": 64, "ReLU": 20,
                     "Tanh": 20, "LeakyReLU": 20, "ELU": 64, "SiLU": 300, "Softplus": 300, "Dropout": 20,
                     "Identity": 1, "Flatten": 1}


def _cost_kind(spec):
    if spec["type"] == "GELU" and spec.get("approximate", "none") == "tanh":
        return "GELU tanh"
    return spec["type"]


def _windows(spec, name, shape, flow, refuse):
    """Conv2d's and the pools' output shape, with their padded input and unfolded windows counted."""
    kind = spec["type"]
    kernel = _two(spec["kernel_size"])
    stride = kernel if kind != "Conv2d" and spec.get("stride") is None else _two(spec.get("stride", 1))
    dilation = _two(spec.get("dilation", 1))
    padding = spec.get("padding", 0)
    channels = shape[1]
    if kind == "Conv2d":
        if channels != spec["in_channels"]:
            refuse(f"takes {spec['in_channels']} channels")
        if padding == "same":
            padded = tuple(size + d * (k - 1) for size, d, k in zip(shape[2:], dilation, kernel, strict=True))
        else:
            pad = (0, 0) if padding == "valid" else _two(padding)
            padded = tuple(size + 2 * p for size, p in zip(shape[2:], pad, strict=True))
    else:
        padded = tuple(size + 2 * p for size, p in zip(shape[2:], _two(padding), strict=True))
    if padded != shape[2:]:
        flow.array(name, "padded input", shape[:2] + padded)
    sizes = tuple((size - d * (k - 1) - 1) // s + 1
                  for size, k, s, d in zip(padded, kernel, stride, dilation, strict=True))
    if min(sizes) < 1:
        refuse(f"has a kernel reaching {[d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]}, more than "
               f"its padded input's {list(padded)}")
    window = kernel[0] * kernel[1]
    flow.array(name, "unfolded windows", (1, channels, *sizes, window))
    if kind == "Conv2d":
        out_channels = spec["out_channels"]
        groups = spec.get("groups", 1)
        # F.conv2d makes one product per group: each costs about 28 µs however small, which is 280,000 of this
        # bound's multiply-adds (a second is 1e10); 980 layers of 100,000 one-channel groups took 17 minutes
        flow.work(name, out_channels * channels // groups * window * math.prod(sizes) +
                  (_PER_GROUP_COST * groups if groups > 1 else 0))
        return (shape[0], out_channels, *sizes)
    flow.work(name, channels * window * math.prod(sizes))
    return (shape[0], channels, *sizes)


def _two(value):
    return tuple(value) if isinstance(value, list) else (value, value)
