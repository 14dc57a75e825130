"""Layers and models: ``Module``, the layers (PyTorch's names and parameter layouts), ``functional``
(import it as ``F``), ``init``, ``utils`` (gradient clipping), and saving and loading."""
from ..numpy_inputs import accept_arrays_in
from . import architecture, functional, init, utils
from .attention import MultiheadAttention
from .containers import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Identity,
    L1Loss,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    Parameter,
    Softmax,
)
from .layers import (
    GELU,
    AdaptiveAvgPool2d,
    AvgPool2d,
    AvgPool3d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose2d,
    ConvTranspose3d,
    Dropout,
    Dropout2d,
    Embedding,
    Flatten,
    GroupNorm,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    MaxUnpool2d,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Tanh,
    Upsample,
)
from .module import Module
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .serialization import (
    ModelFile,
    ModelFileError,
    StoredArray,
    load,
    load_metadata,
    load_with_metadata,
    open_model_file,
    save,
    stored_arrays,
    stored_shapes,
)

# Every function in F.__all__ takes ndarrays where it takes Tensors (numpy_inputs.py). Done here, once functional
# is whole, so that a function added anywhere in it is covered as soon as it is in F.__all__.
accept_arrays_in(functional)

__all__ = [
    "Module", "Linear", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "Embedding", "Flatten", "ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU", "Sequential", "Dropout",
    "RNNCell", "LSTMCell", "GRUCell", "functional", "init", "utils", "save", "load", "stored_shapes", "stored_arrays",
    "StoredArray", "ModelFileError", "load_with_metadata",
    "load_metadata", "Identity", "ModuleList", "ModuleDict", "Parameter", "Softmax", "CrossEntropyLoss", "NLLLoss",
    "MSELoss", "L1Loss", "BCEWithLogitsLoss", "ConvTranspose2d", "AdaptiveAvgPool2d", "Upsample", "architecture",
    # issue 29 (ops2)
    "Conv3d", "ConvTranspose3d", "AvgPool3d", "MaxUnpool2d",
]
__all__ += ["open_model_file", "ModelFile"]
__all__ += ["RNN", "LSTM", "GRU", "GroupNorm", "Dropout2d", "MultiheadAttention"]


def __dir__() -> list[str]:
    """The public API, ``__all__``, not the modules the layers live in."""
    return sorted(__all__)
