"""LeNet-5's training step (batch 64, 1x28x28: conv 6@5x5, pool, conv 16@5x5, pool, 120, 84, 10) in
tinygrad_np and, when it is installed, in PyTorch on the CPU, from the same initial weights."""
import numpy as np

import tinygrad_np as tg
from tinygrad_np import nn, optim


def tinygrad_lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5, rng=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120, rng=2), nn.ReLU(), nn.Linear(120, 84, rng=3), nn.ReLU(),
        nn.Linear(84, 10, rng=4))


class TinygradLeNet:
    name = "tinygrad_np"

    def __init__(self, state, lr):
        self.model = tinygrad_lenet()
        self.model.load_state_dict(state)
        self.opt = optim.SGD(self.model.parameters(), lr=lr)

    def step(self, x, y):
        loss = self.model(tg.Tensor(x)).cross_entropy(y)
        loss.backward()
        self.opt.step()
        self.opt.zero_grad()
        return loss.item()


class TinygradJitLeNet(TinygradLeNet):
    """The same step, replayed by tg.jit after two traced calls."""

    name = "tinygrad_np jit"

    def __init__(self, state, lr):
        from tinygrad_mlp import jitted_step  # beside this file

        super().__init__(state, lr)
        self.jitted = jitted_step(lambda x, y: self.model(x).cross_entropy(y), self.opt)

    def step(self, x, y):
        return self.jitted(x, y).item()


class TorchLeNet:
    name = "pytorch"

    def __init__(self, state, lr):
        import torch
        from torch import nn as tnn

        self.torch = torch
        self.model = tnn.Sequential(
            tnn.Conv2d(1, 6, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(256, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
        self.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)

    def step(self, x, y):
        torch = self.torch
        loss = torch.nn.functional.cross_entropy(self.model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return loss.item()


def initial_state():
    return tinygrad_lenet().state_dict()


def mnist_like_batch(rng, batch=64):
    """A batch of real MNIST digits when TINYGRAD_NP_DATA is set, else random images."""
    import os

    folder = os.environ.get("TINYGRAD_NP_DATA")
    if folder:
        from tinygrad_np.data import load_mnist, normalize

        images, labels = load_mnist(folder)[:2]
        rows = rng.choice(len(images), batch, replace=False)
        x = normalize(images[rows])[:, None]
        return x, labels[rows].astype(np.int64)
    return rng.standard_normal((batch, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, batch).astype(np.int64)
