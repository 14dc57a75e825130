"""Data: the IDX file format, MNIST (found, cached or downloaded, else a bundled sample), a digit of your own
laid out as MNIST's are, a list of names, and batching."""
from .handwriting import digits_in_mnist_layout, to_mnist_layout
from .idx import read_idx
from .loader import DataLoader
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
           "to_mnist_layout", "digits_in_mnist_layout"]
