"""The engine reproduces the original notebook's hand-derived backprop to float64 precision.

The notebook keeps examples in columns: X is (784, m), W1 is (hidden, 784),
Z1 = W1·X + b1, A1 = relu(Z1), Z2 = W2·A1 + b2, A2 = softmax(Z2) over the
classes, and the loss is the mean cross-entropy over the m examples.
"""
import numpy as np
import pytest

import tinygrad_np as tg


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_matches_hand_derived_gradients(seed):
    rng = np.random.default_rng(seed)
    m, n_in, hidden, classes = 32, 784, 50, 10
    X = rng.random((n_in, m))
    labels = rng.integers(0, classes, m)
    Y = np.eye(classes)[labels].T  # one-hot, (10, m)
    W1, b1 = rng.standard_normal((hidden, n_in)) * 0.05, rng.standard_normal((hidden, 1)) * 0.1
    W2, b2 = rng.standard_normal((classes, hidden)) * 0.1, rng.standard_normal((classes, 1)) * 0.1

    # The notebook's forward and backward, by hand.
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2
    A2 = np.exp(Z2 - Z2.max(0)) / np.exp(Z2 - Z2.max(0)).sum(0)
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = dZ2.mean(axis=1, keepdims=True)
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.mean(axis=1, keepdims=True)

    # The same network as tensor expressions.
    w1, c1, w2, c2 = (tg.Tensor(a, requires_grad=True) for a in (W1, b1, W2, b2))
    logits = w2 @ (w1 @ X + c1).relu() + c2
    loss = logits.T.cross_entropy(labels)
    loss.backward()

    expected_loss = -np.mean(np.log(A2[labels, np.arange(m)]))
    np.testing.assert_allclose(loss.item(), expected_loss, rtol=1e-12)
    for name, ours, theirs in [("W1", w1, dW1), ("b1", c1, db1), ("W2", w2, dW2), ("b2", c2, db2)]:
        np.testing.assert_allclose(ours.grad.data, theirs, rtol=1e-10, atol=1e-14, err_msg=f"d{name}")
