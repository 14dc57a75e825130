"""Make tinygrad_np/data/mnist_sample.npz, the offline sample, from the real MNIST files.

    python scripts/make_mnist_sample.py ../shared/data/mnist

Takes a class-balanced random draw (fixed seed) of 2,000 training and 1,000
test images, so the sample is repeatable and every digit is represented.
"""
import argparse

import numpy as np

from tinygrad_np.data.mnist import SAMPLE_PATH, load_mnist
from tinygrad_np.fileio import atomic_write


def balanced_draw(labels, count, rng):
    per_class = count // 10
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    args = parser.parse_args()
    x_train, y_train, x_test, y_test = load_mnist(args.data_dir)
    rng = np.random.default_rng(0)
    train = balanced_draw(y_train, 2000, rng)
    test = balanced_draw(y_test, 1000, rng)
    with atomic_write(SAMPLE_PATH) as f:
        np.savez_compressed(f, x_train=x_train[train], y_train=y_train[train],
                            x_test=x_test[test], y_test=y_test[test])
    print(f"wrote {SAMPLE_PATH} ({SAMPLE_PATH.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
