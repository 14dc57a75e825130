"""Optimizers and learning-rate schedules.

Each optimizer updates ``p.data`` in place from ``p.grad`` and keeps its
state (momentum buffers, moment estimates) as arrays beside the parameters.
The update rules follow PyTorch's formulations, written out in each docstring.
"""
import math

import numpy as np



class Optimizer:
    weight_decay = 0.0  # L2 penalty λ: the gradient becomes g + λw before the update rule sees it
    decoupled = False  # True when the rule applies weight decay itself (AdamW), not through g

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimize")
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: lr must be positive, got {lr}")
        self.lr = lr
        self.state = [{} for _ in self.params]

    def zero_grad(self):
        """Clear every parameter's gradient (backward accumulates into .grad)."""
        for p in self.params:
            p._grad = None  # None always passes the .grad setter's shape check: skip it

    def step(self):
        # Arrays only (the underscored fields behind .grad and .data, read once a step each), so
        # nothing here is recorded: no need for no_grad().
        for p, state in zip(self.params, self.state):
            grad = p._grad
            if grad is not None:
                g = grad._data
                if self.weight_decay and not self.decoupled:
                    g = g + self.weight_decay * p._data  # a new array: p.grad is left as it was
                self.update(p._data, g, state)
                p.bump_version()  # a graph built before this step can no longer be differentiated

    def update(self, w, g, state):
        """Update the array ``w`` in place, given its gradient ``g`` and this parameter's ``state``."""
        raise NotImplementedError


class SGD(Optimizer):
    """g ← g + λw;  b ← μb + g (b = g at the first step);  g ← g + μb (Nesterov) or b;  w ← w − lr·g."""

    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def update(self, w, g, state):
        if self.momentum:
            buf = state.get("momentum")
            if buf is None:
                buf = state["momentum"] = g.copy()
            else:
                buf *= self.momentum
                buf += g
            g = g + self.momentum * buf if self.nesterov else buf
        # w -= lr * g, with lr * g written into a buffer kept from step to step instead of a new array.
        step = state.get("scratch")
        if step is None:
            step = state["scratch"] = np.empty_like(w)
        np.multiply(g, self.lr, out=step, casting="same_kind")
        w -= step


class Adam(Optimizer):
    """g ← g + λw;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
    w ← w − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay = eps, weight_decay

    def update(self, w, g, state):
        if self.decoupled and self.weight_decay:
            w *= 1 - self.lr * self.weight_decay
        if not state:
            state.update(t=0, m=np.zeros_like(w), v=np.zeros_like(w))
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        denom = np.sqrt(v / (1 - self.beta2 ** t))
        denom += self.eps
        w -= (self.lr / (1 - self.beta1 ** t)) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: w ← w(1 − lr·λ) before the Adam step, g untouched."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """g ← g + λw;  v ← αv + (1−α)g²;  u = g / (√v + ε);  b ← μb + u (with momentum) ;  w ← w − lr·(b or u)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.alpha, self.eps, self.momentum, self.weight_decay = alpha, eps, momentum, weight_decay

    def update(self, w, g, state):
        if not state:
            state["v"] = np.zeros_like(w)
            if self.momentum:
                state["momentum"] = np.zeros_like(w)
        v = state["v"]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        u = g / (np.sqrt(v) + self.eps)
        if self.momentum:
            buf = state["momentum"]
            buf *= self.momentum
            buf += u
            u = buf
        w -= self.lr * u


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs. Call ``step()`` once per epoch."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base_lr, self.epoch = optimizer.lr, 0

    def step(self):
        self.epoch += 1
        self.optimizer.lr = self.base_lr * self.gamma ** (self.epoch // self.step_size)


class CosineLR:
    """lr = min_lr + (base_lr − min_lr)(1 + cos(π·epoch / total)) / 2. Call ``step()`` once per epoch."""

    def __init__(self, optimizer, total_epochs, min_lr=0.0):
        self.optimizer, self.total, self.min_lr = optimizer, total_epochs, min_lr
        self.base_lr, self.epoch = optimizer.lr, 0

    def step(self):
        self.epoch = min(self.epoch + 1, self.total)
        cos = (1 + math.cos(math.pi * self.epoch / self.total)) / 2
        self.optimizer.lr = self.min_lr + (self.base_lr - self.min_lr) * cos
