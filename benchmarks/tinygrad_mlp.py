"""The MNIST MLP's training step in tinygrad_np: the same expressions as examples/mnist_dnn.py."""
import tinygrad_np as tg
from tinygrad_np import optim


class TinygradMLP:
    name = "tinygrad_np"

    def __init__(self, params, lr):
        self.W1, self.b1, self.W2, self.b2 = (tg.Tensor(p.copy(), requires_grad=True) for p in params)
        self.opt = optim.SGD([self.W1, self.b1, self.W2, self.b2], lr=lr)

    def step(self, x, y):
        logits = (tg.Tensor(x) @ self.W1 + self.b1).relu() @ self.W2 + self.b2
        loss = logits.cross_entropy(y)
        loss.backward()
        self.opt.step()
        self.opt.zero_grad()
        return loss.item()
