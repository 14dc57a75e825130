"""The engine reproduces the original notebook's hand-derived backprop to float64 precision.

The notebook keeps examples in columns: X is (784, m), W1 is (hidden, 784),
Z1 = W1·X + b1, A1 = relu(Z1), Z2 = W2·A1 + b2, A2 = softmax(Z2) over the
classes, and the loss is the mean cross-entropy over the m examples. Its
hand-derived gradients, dZ2 = A2 − Y, dW2 = dZ2·A1ᵀ/m, db2 = mean(dZ2),
dZ1 = W2ᵀ·dZ2 ∘ relu'(Z1), dW1 = dZ1·Xᵀ/m, db1 = mean(dZ1), are written out
once, in examples/backprop_walkthrough.py, which teaches from them.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinygrad_np as tg

_spec = importlib.util.spec_from_file_location(
    "backprop_walkthrough", Path(__file__).resolve().parents[1] / "examples" / "backprop_walkthrough.py")
assert _spec is not None and _spec.loader is not None
walkthrough = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(walkthrough)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_matches_hand_derived_gradients(seed):
    rng = np.random.default_rng(seed)
    m, hidden = 32, 50
    X = rng.random((784, m))
    labels = rng.integers(0, 10, m)
    W1, b1 = rng.standard_normal((hidden, 784)) * 0.05, rng.standard_normal((hidden, 1)) * 0.1
    W2, b2 = rng.standard_normal((10, hidden)) * 0.1, rng.standard_normal((10, 1)) * 0.1
    A2, hand = walkthrough.notebook_backprop(X, labels, W1, b1, W2, b2)

    # The same network as tensor expressions.
    w1, c1, w2, c2 = (tg.Tensor(a, requires_grad=True) for a in (W1, b1, W2, b2))
    loss = (w2 @ (w1 @ X + c1).relu() + c2).T.cross_entropy(labels)
    loss.backward()

    expected_loss = -np.mean(np.log(A2[labels, np.arange(m)]))
    np.testing.assert_allclose(loss.item(), expected_loss, rtol=1e-12)
    for name, ours in [("W1", w1), ("b1", c1), ("W2", w2), ("b2", c2)]:
        np.testing.assert_allclose(ours.grad.data, hand[name], rtol=1e-10, atol=1e-14, err_msg=f"d{name}")
