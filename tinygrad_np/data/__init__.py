"""Data: the IDX file format, MNIST (found, cached or downloaded), and batching."""
from .idx import read_idx
from .loader import DataLoader
from .mnist import MNIST_FILES, MnistNotFound, load_mnist, load_mnist_sample

__all__ = ["read_idx", "load_mnist", "load_mnist_sample", "MnistNotFound", "MNIST_FILES", "DataLoader"]
