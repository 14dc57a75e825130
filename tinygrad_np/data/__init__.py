"""Data: the IDX file format, MNIST (found, cached or downloaded, else a bundled sample), a digit of your own
laid out as MNIST's are, a list of names; and PyTorch's data utilities: Dataset, TensorDataset, DataLoader,
transforms for images held as arrays (``data.transforms``), make_grid / save_image, and torchvision's
``datasets.MNIST``."""
from . import datasets, transforms
from .dataset import Dataset, TensorDataset
from .handwriting import digits_in_mnist_layout, to_mnist_layout
from .idx import read_idx
from .images import make_grid, save_image
from .loader import DataLoader, default_collate
from .mnist import (
                    MNIST_FILES,
                    MNIST_MEAN,
                    MNIST_STD,
                    MnistData,
                    MnistNotFound,
                    load_mnist,
                    load_mnist_or_sample,
                    load_mnist_sample,
                    normalize,
)
from .names import load_names

__all__ = ["read_idx", "load_mnist", "load_mnist_sample", "load_mnist_or_sample", "MnistData", "MnistNotFound",
           "MNIST_FILES", "MNIST_MEAN", "MNIST_STD", "normalize", "DataLoader", "load_names",
           "to_mnist_layout", "digits_in_mnist_layout", "Dataset", "TensorDataset", "default_collate", "transforms",
           "make_grid", "save_image", "datasets"]
