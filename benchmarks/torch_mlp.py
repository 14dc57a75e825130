"""The MNIST MLP's training step in PyTorch on the CPU, when PyTorch is installed (it is optional)."""
try:
    import torch
except ImportError:  # the benchmark then compares tinygrad_np with NumPy only
    torch = None  # type: ignore[assignment]  # where PyTorch is installed, mypy types torch as its module


class TorchMLP:
    name = "pytorch"

    def __init__(self, params, lr):
        self.params = [torch.from_numpy(p.copy()).requires_grad_() for p in params]
        self.opt = torch.optim.SGD(self.params, lr=lr)

    def step(self, x, y):
        W1, b1, W2, b2 = self.params
        logits = (torch.from_numpy(x) @ W1 + b1).relu() @ W2 + b2
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return loss.item()
