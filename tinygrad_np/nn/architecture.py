"""A model's architecture as JSON, and the model rebuilt from it: what a saved model file needs besides its weights.

``describe(model)`` gives a plain dict (``json.dumps`` it into a file's metadata) for an ``nn.Sequential``
of the layers below, nested Sequentials included; ``build(spec)`` makes the same model again, with fresh
weights that ``load_state_dict`` then replaces, name for name. JSON, never pickle: a file's metadata is
read, not run. A layer not listed is refused, named.
"""
import json

from . import layers
from .containers import Identity, Softmax

# layer class -> the constructor arguments that describe it (each read back from the attribute of that name)
_ARGUMENTS = {
    layers.Linear: ("in_features", "out_features", "bias"),
    layers.Conv2d: ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"),
    layers.MaxPool2d: ("kernel_size", "stride", "padding", "dilation"),
    layers.AvgPool2d: ("kernel_size", "stride", "padding"),
    layers.AdaptiveAvgPool2d: ("output_size",),
    layers.BatchNorm1d: ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    layers.BatchNorm2d: ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    layers.LayerNorm: ("normalized_shape", "eps", "elementwise_affine"),
    layers.Flatten: ("start_dim", "end_dim"),
    layers.LeakyReLU: ("negative_slope",),
    layers.Dropout: ("p",),
    Softmax: ("dim",),
    layers.ReLU: (), layers.Tanh: (), layers.Sigmoid: (), layers.GELU: (), layers.SiLU: (), Identity: (),
}
_BY_NAME = {cls.__name__: cls for cls in _ARGUMENTS}


def describe(model):
    """``model`` (an nn.Sequential of the layers above, or one of them) as a JSON-ready dict."""
    if isinstance(model, layers.Sequential):
        return {"type": "Sequential", "layers": [describe(layer) for layer in model.layers]}
    cls = type(model)
    if cls not in _ARGUMENTS:
        raise ValueError(f"describe: {cls.__name__} is not a layer an architecture can record (known: "
                         f"Sequential, {', '.join(sorted(_BY_NAME))})")
    return {"type": cls.__name__, **{name: _plain(_argument(model, name)) for name in _ARGUMENTS[cls]}}


def build(spec):
    """The model ``describe`` described (a dict, or its JSON text), with fresh weights."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as err:
            raise ValueError(f"build: the architecture is not valid JSON ({err})") from None
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"build: expected a dict with a 'type', got {str(spec)[:80]!r}")
    kind = spec["type"]
    if kind == "Sequential":
        return layers.Sequential(*(build(layer) for layer in spec.get("layers", [])))
    cls = _BY_NAME.get(kind)
    if cls is None:
        raise ValueError(f"build: unknown layer type {kind!r} (known: Sequential, {', '.join(sorted(_BY_NAME))})")
    arguments = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "type"}
    unknown = set(arguments) - set(_ARGUMENTS[cls])
    if unknown:
        raise ValueError(f"build: {kind} takes no {', '.join(sorted(unknown))}")
    return cls(**arguments)


def _argument(layer, name):
    if name == "bias":  # recorded as whether the layer has one
        return layer.bias is not None
    if name in ("affine", "elementwise_affine"):
        return layer.weight is not None
    return getattr(layer, name)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
