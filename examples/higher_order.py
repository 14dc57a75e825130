"""Derivatives of derivatives: Hessian-vector products, a Newton step, a gradient penalty.

    python examples/higher_order.py [--quick] [--data-dir DIR]

``backward(create_graph=True)`` / ``tg.grad(..., create_graph=True)`` record
the backward pass as a graph of its own, so a gradient can be differentiated
again. Each result here is checked against central differences.
"""
import argparse

import numpy as np

import tinygrad_np as tg
from tinygrad_np.data import load_mnist_or_sample, normalize


def mnist_batch(data_dir, n, rng):
    data = load_mnist_or_sample(data_dir)
    x, y = data.x_train, data.y_train
    rows = rng.choice(len(x), n, replace=False)
    return normalize(x[rows].reshape(n, -1)).astype(np.float64), y[rows]


def hessian_vector_product(loss_fn, params, vs):
    """H·v for the Hessian of loss_fn at params: the gradient of <∇loss, v>."""
    grads = tg.grad(loss_fn(*params), params, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vs, strict=True))
    return [h.data for h in tg.grad(dot, params)]


def gradients(loss_fn, arrays):
    params = [tg.Tensor(a, requires_grad=True) for a in arrays]
    return [g.data for g in tg.grad(loss_fn(*params), params)]


def hvp_of_mnist_loss(x, y, hidden, rng):
    print("1. Hessian-vector product of the MNIST MLP's loss")

    def loss_fn(W1, b1, W2, b2):
        return ((x @ W1 + b1).tanh() @ W2 + b2).cross_entropy(y)

    arrays = [rng.standard_normal((784, hidden)) * 0.05, np.zeros(hidden),
              rng.standard_normal((hidden, 10)) * 0.1, np.zeros(10)]
    vs = [rng.standard_normal(a.shape) for a in arrays]
    hv = hessian_vector_product(loss_fn, [tg.Tensor(a, requires_grad=True) for a in arrays], vs)
    # Central difference of the gradient along v: (∇L(w + εv) − ∇L(w − εv)) / 2ε ≈ H·v.
    eps = 1e-5
    plus = gradients(loss_fn, [a + eps * v for a, v in zip(arrays, vs, strict=True)])
    minus = gradients(loss_fn, [a - eps * v for a, v in zip(arrays, vs, strict=True)])
    numerical = [(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)]
    error = max(np.abs(h - n).max() for h, n in zip(hv, numerical, strict=True))
    scale = max(np.abs(n).max() for n in numerical)
    print(f"   {sum(a.size for a in arrays)} parameters, {len(y)} images: "
          f"max |Hv − finite differences| = {error:.2e} (largest entry {scale:.2e})")
    return error / scale


def newton_on_logistic_regression(rng, steps):
    print("2. Newton's method on logistic regression (full Hessian from Hessian-vector products)")
    n, d = 200, 4
    X = rng.standard_normal((n, d))
    true_w = np.array([1.5, -2.0, 0.5, 1.0])
    labels = (rng.random(n) < 1 / (1 + np.exp(-X @ true_w))).astype(np.float64)
    lam = 0.1

    def loss_fn(w):
        # -(y log p + (1 - y) log(1 - p)) with p = sigmoid(z) is softplus(z) - y z: written as log(p) it overflows to
        # inf once a logit passes about 37 (p rounds to 1 and log(1 - p) = log 0), and so does its gradient
        z = tg.Tensor(X) @ w
        nll = (z.softplus() - labels * z).mean()
        return nll + lam / 2 * (w * w).sum()

    w = np.zeros(d)
    worst = 0.0
    for step in range(steps):
        wt = tg.Tensor(w, requires_grad=True)
        loss = loss_fn(wt)
        (g,) = tg.grad(loss, [wt], create_graph=True)
        hessian = np.stack([tg.grad(g, [wt], grad_outputs=tg.Tensor(e), retain_graph=True)[0].data
                            for e in np.eye(d)])
        # the Hessian against central differences of the gradient
        eps = 1e-5
        numeric = np.stack([(gradients(loss_fn, [w + eps * e])[0] - gradients(loss_fn, [w - eps * e])[0]) / (2 * eps)
                            for e in np.eye(d)])
        worst = max(worst, np.abs(hessian - numeric).max())
        print(f"   step {step}: loss {loss.item():.12f}  |gradient| {np.linalg.norm(g.data):.2e}")
        w = w - np.linalg.solve(hessian, g.data)
    print(f"   max |Hessian − finite differences| over the steps: {worst:.2e}")
    z = tg.Tensor(np.array(40.0))  # a confident logit on an example labelled 0
    with np.errstate(divide="ignore"):
        naive = -np.log(1 - 1 / (1 + np.exp(-40.0)))
    print(f"   a logit of 40 labelled 0 costs {z.softplus().item():.1f} as softplus(z) - y z; written as "
          f"-log(1 - sigmoid(z)) it is {naive}")
    return worst, np.linalg.norm(gradients(loss_fn, [w])[0])


def gradient_penalty(rng):
    print("3. A gradient penalty: d/dw of |∂f/∂x|², as in WGAN-GP and input-gradient regularisers")
    x = rng.standard_normal((5, 3))
    W = rng.standard_normal((3, 4))

    def penalty(w):
        xt = tg.Tensor(x, requires_grad=True)
        f = (xt @ w).tanh().sum()
        (dx,) = tg.grad(f, [xt], create_graph=True)
        return (dx * dx).sum()

    wt = tg.Tensor(W, requires_grad=True)
    penalty(wt).backward()
    tg.gradcheck(penalty, [W])  # raises if the analytic gradient disagrees with central differences
    print(f"   penalty {penalty(tg.Tensor(W)).item():.6f}; its gradient in W (|.| = "
          f"{np.linalg.norm(wt.grad.data):.4f}) agrees with central differences (gradcheck passed)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="16 images, 8 Hessian-vector checks and 4 Newton steps instead of 128, 32 and 6, for CI")
    parser.add_argument("--data-dir", help="folder with the four MNIST files (default: $TINYGRAD_NP_DATA, the "
                                           "cache, a download, else the bundled sample)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x, y = mnist_batch(args.data_dir, 16 if args.quick else 128, rng)
    relative = hvp_of_mnist_loss(x, y, 8 if args.quick else 32, rng)
    hessian_error, final_grad = newton_on_logistic_regression(rng, 4 if args.quick else 6)
    gradient_penalty(rng)
    ok = relative < 1e-5 and hessian_error < 1e-6 and final_grad < 1e-8
    print("all checks passed" if ok else "A CHECK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
