"""The reference: the MNIST MLP's training step written by hand in NumPy.

Same math as the tinygrad_np and PyTorch versions: logits = relu(x W1 + b1) W2 + b2,
mean cross-entropy, backprop by hand, plain SGD. Vectorised the obvious way,
with the in-place updates a careful NumPy programmer would write.
"""
import numpy as np


class NumpyMLP:
    name = "numpy"

    def __init__(self, params, lr):
        self.W1, self.b1, self.W2, self.b2 = (p.copy() for p in params)
        self.lr = lr

    def step(self, x, y):
        n = len(x)
        rows = np.arange(n)
        z1 = x @ self.W1
        z1 += self.b1
        a1 = np.maximum(z1, 0)
        logits = a1 @ self.W2
        logits += self.b2
        # softmax and the cross-entropy gradient (p - onehot) / n
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1
        p /= n
        dW2 = a1.T @ p
        db2 = p.sum(axis=0)
        da1 = p @ self.W2.T
        da1 *= z1 > 0
        dW1 = x.T @ da1
        db1 = da1.sum(axis=0)
        for w, g in ((self.W1, dW1), (self.b1, db1), (self.W2, dW2), (self.b2, db2)):
            w -= self.lr * g
        return loss
