"""Layers and models: ``Module``, the layers (PyTorch's names and parameter layouts), ``functional``
(import it as ``F``), ``init``, ``utils`` (gradient clipping), and saving and loading."""
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
from .serialization import ModelFileError, StoredArray, load, load_metadata, save, stored_arrays, stored_shapes

__all__ = [
    "Module", "Linear", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "Embedding", "Flatten", "ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU", "Sequential", "Dropout",
    "RNNCell", "LSTMCell", "GRUCell", "functional", "init", "utils", "save", "load", "stored_shapes", "stored_arrays",
    "StoredArray", "ModelFileError",
    "load_metadata", "Identity", "ModuleList", "ModuleDict", "Parameter", "Softmax", "CrossEntropyLoss", "NLLLoss",
    "MSELoss", "L1Loss", "BCEWithLogitsLoss", "ConvTranspose2d", "AdaptiveAvgPool2d", "Upsample", "architecture",
    # issue 29 (ops2)
    "Conv3d", "ConvTranspose3d", "AvgPool3d", "MaxUnpool2d",
]
__all__ += ["RNN", "LSTM", "GRU", "GroupNorm", "Dropout2d", "MultiheadAttention"]
