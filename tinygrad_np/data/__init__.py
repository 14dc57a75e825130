"""Data: the IDX file format, MNIST (found, cached or downloaded), a list of names, and batching."""
from .idx import read_idx
from .loader import DataLoader
from .mnist import MNIST_FILES, MnistNotFound, load_mnist, load_mnist_sample
from .names import load_names

__all__ = ["read_idx", "load_mnist", "load_mnist_sample", "MnistNotFound", "MNIST_FILES", "DataLoader", "load_names"]
