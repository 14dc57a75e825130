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


class TinygradLinearMLP:
    """The same network built from nn.Linear layers (one fused linear op each, PyTorch's weight layout)."""

    name = "tinygrad_np nn.Linear"

    def __init__(self, params, lr):
        from tinygrad_np import nn

        W1, b1, W2, b2 = params
        self.layers = [nn.Linear(*W1.shape), nn.Linear(*W2.shape)]
        self.layers[0].load_state_dict({"weight": W1.T, "bias": b1})
        self.layers[1].load_state_dict({"weight": W2.T, "bias": b2})
        self.opt = optim.SGD([p for layer in self.layers for p in layer.parameters()], lr=lr)

    def step(self, x, y):
        first, second = self.layers
        loss = second(first(tg.Tensor(x)).relu()).cross_entropy(y)
        loss.backward()
        self.opt.step()
        self.opt.zero_grad()
        return loss.item()


class TinygradJitMLP(TinygradMLP):
    """The same step as TinygradMLP, replayed by tg.jit: traced on its first two calls, then the program."""

    name = "tinygrad_np jit"

    def __init__(self, params, lr):
        super().__init__(params, lr)
        self.jitted = jitted_step(lambda x, y: ((x @ self.W1 + self.b1).relu() @ self.W2 + self.b2).cross_entropy(y),
                                  self.opt)

    def step(self, x, y):
        return self.jitted(x, y).item()


def jitted_step(loss_of, opt):
    """The benchmarks' training step under tg.jit: the loss ``loss_of(x, y)``, backward, ``opt`` steps and
    zeroes the gradients; returns the loss (a Tensor)."""
    def step(x, y):
        loss = loss_of(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    return tg.jit(step)
