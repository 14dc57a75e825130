"""From the notebook's hand-derived backprop to the engine, step by step.

    python examples/backprop_walkthrough.py [--quick] [--data-dir DIR] [--out DIR]

1. The original notebook's two-layer network, examples in columns:
       Z1 = W1·X + b1,  A1 = relu(Z1),  Z2 = W2·A1 + b2,  A2 = softmax(Z2)
   with its hand-derived gradients
       dZ2 = A2 − Y,  dW2 = dZ2·A1ᵀ/m,  db2 = mean(dZ2),
       dZ1 = W2ᵀ·dZ2 ∘ relu'(Z1),  dW1 = dZ1·Xᵀ/m,  db1 = mean(dZ1)
   computed beside the engine's, which agree to float64 precision.
2. The same network grown to three layers with tanh. By hand, every formula
   must be derived again; the engine needs only the new forward expression.
   A hand derivation that writes tanh' as 1 − tan² (the notebook's slip)
   looks plausible and is wrong: gradcheck catches it.
3. The graph of the loss, drawn.
"""
import argparse
import os

import numpy as np

import tinygrad_np as tg
from tinygrad_np import viz
from tinygrad_np.data import load_mnist_or_sample


def load_columns(data_dir, m, rng):
    """m random training images as columns (784, m) in [0, 1], and their labels."""
    data = load_mnist_or_sample(data_dir)
    x, y = data.x_train, data.y_train
    rows = rng.choice(len(x), m, replace=False)
    return x[rows].reshape(m, -1).T / 255.0, y[rows]


def section(title):
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}")


def notebook_backprop(X, labels, W1, b1, W2, b2):
    """The notebook's forward pass and hand-derived gradients, examples in columns.

    Returns the softmax output A2 and the gradients of the mean cross-entropy
    as a dict {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}.
    """
    m = X.shape[1]
    Y = np.eye(10)[labels].T  # one-hot, (10, m)
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
    return A2, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def two_layers(X, labels, rng, hidden):
    section("1. The notebook's two-layer network: hand-derived gradients vs the engine")
    W1, b1 = rng.standard_normal((hidden, 784)) * 0.05, np.zeros((hidden, 1))
    W2, b2 = rng.standard_normal((10, hidden)) * 0.05, np.zeros((10, 1))
    _, hand = notebook_backprop(X, labels, W1, b1, W2, b2)

    # The engine: write the forward pass, call backward.
    w1, c1, w2, c2 = (tg.Tensor(a, requires_grad=True) for a in (W1, b1, W2, b2))
    loss = (w2 @ (w1 @ X + c1).relu() + c2).T.cross_entropy(labels)
    loss.backward()

    print(f"m = {X.shape[1]} images, hidden = {hidden}, loss = {loss.item():.6f}")
    print(f"{'gradient':<10}{'shape':>14}{'max |hand - engine|':>24}{'max |hand|':>14}")
    for name, engine in [("W1", w1), ("b1", c1), ("W2", w2), ("b2", c2)]:
        print(f"{'d' + name:<10}{str(hand[name].shape):>14}{np.abs(hand[name] - engine.grad.data).max():>24.3e}"
              f"{np.abs(hand[name]).max():>14.3e}")
    return W1, b1, W2, b2


def three_layers(X, labels, rng, hidden):
    section("2. Three layers with tanh: the engine needs no new derivation")
    m = X.shape[1]
    Y = np.eye(10)[labels].T
    shapes = [(hidden, 784), (hidden, 1), (hidden, hidden), (hidden, 1), (10, hidden), (10, 1)]
    params = [rng.standard_normal(s) * (0.05 if s[1] != 1 else 0.1) for s in shapes]

    def forward(X, labels, W1, b1, W2, b2, W3, b3):
        h1 = (W1 @ X + b1).tanh()
        h2 = (W2 @ h1 + b2).tanh()
        return (W3 @ h2 + b3).T.cross_entropy(labels)

    def by_hand(W1, b1, W2, b2, W3, b3, tanh_prime):
        """Backprop derived by hand for the three-layer net; tanh_prime(Z, A) is the derivative used."""
        Z1 = W1 @ X + b1
        A1 = np.tanh(Z1)
        Z2 = W2 @ A1 + b2
        A2 = np.tanh(Z2)
        Z3 = W3 @ A2 + b3
        P = np.exp(Z3 - Z3.max(0)) / np.exp(Z3 - Z3.max(0)).sum(0)
        dZ3 = P - Y
        dW3, db3 = dZ3 @ A2.T / m, dZ3.mean(1, keepdims=True)
        dZ2 = (W3.T @ dZ3) * tanh_prime(Z2, A2)
        dW2, db2 = dZ2 @ A1.T / m, dZ2.mean(1, keepdims=True)
        dZ1 = (W2.T @ dZ2) * tanh_prime(Z1, A1)
        dW1, db1 = dZ1 @ X.T / m, dZ1.mean(1, keepdims=True)
        return [dW1, db1, dW2, db2, dW3, db3]

    tensors = [tg.Tensor(p, requires_grad=True) for p in params]
    forward(X, labels, *tensors).backward()
    right = by_hand(*params, tanh_prime=lambda Z, A: 1 - A ** 2)
    wrong = by_hand(*params, tanh_prime=lambda Z, A: 1 - np.tan(Z) ** 2)  # the notebook's slip
    print("The engine's gradients against two hand derivations:")
    print(f"{'param':<6}{'|engine - hand, 1-tanh²|':>28}{'|engine - hand, 1-tan²|':>28}")
    for name, t, r, w in zip(["W1", "b1", "W2", "b2", "W3", "b3"], tensors, right, wrong, strict=True):
        print(f"{name:<6}{np.abs(t.grad.data - r).max():>28.3e}{np.abs(t.grad.data - w).max():>28.3e}")

    # gradcheck: the engine against central differences, on a slice small enough to
    # difference element by element (50 pixels, 4 hidden units, 3 images).
    X_small, labels_small = X[:50, :3], labels[:3]
    W1, b1, W2, b2, W3, b3 = params
    small = [W1[:4, :50], b1[:4], W2[:4, :4], b2[:4], W3[:, :4], b3]
    tg.gradcheck(lambda *p: forward(X_small, labels_small, *p), small)
    print("\ngradcheck of the engine on the three-layer net (4 hidden units, 3 images): passed")

    class HandWithTan(tg.Function):
        """tanh with the hand-derived (wrong) derivative 1 - tan²(x)."""

        def forward(self, x):
            return np.tanh(x)

        def backward(self, dz, z, x):
            return dz * (1 - np.tan(np.asarray(x)) ** 2)

    try:
        tg.gradcheck(lambda x: HandWithTan.apply(x), [np.linspace(-1.5, 1.5, 7)])
    except tg.GradcheckError as err:
        print(f"gradcheck of tanh with 1 - tan² as its derivative: caught\n  {err}")
    return tensors


def draw_graph(X, labels, params, out):
    section("3. The graph of the two-layer loss")
    W1, b1, W2, b2 = (tg.Tensor(p, requires_grad=True) for p in params)
    x = tg.Tensor(X)
    loss = (W2 @ (W1 @ x + b1).relu() + b2).T.cross_entropy(labels)
    names = {W1: "W1", b1: "b1", W2: "W2", b2: "b2", x: "X"}
    viz.retain_grads(loss)  # keep every intermediate gradient, so the picture shows their norms
    loss.backward(retain_graph=True)
    viz.print_graph(loss, names=names)
    os.makedirs(out, exist_ok=True)
    path = viz.draw(loss, os.path.join(out, "two_layer_graph.svg"), names=names)
    print(f"drawn to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 images and 16 hidden units instead of 256 and 64, "
                        "for CI")
    parser.add_argument("--data-dir", help="folder with the four MNIST files (default: $TINYGRAD_NP_DATA, the "
                                           "cache, a download, else the bundled sample)")
    parser.add_argument("--out", default=os.path.join("runs", "walkthrough"),
                        help="folder for the drawn graph of the loss (default: %(default)s)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    m, hidden = (32, 16) if args.quick else (256, 64)
    X, labels = load_columns(args.data_dir, m, rng)
    params = two_layers(X, labels, rng, hidden)
    three_layers(X, labels, rng, hidden)
    draw_graph(X, labels, params, args.out)


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
