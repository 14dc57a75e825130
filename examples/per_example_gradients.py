"""Per-example gradients three ways, checked against each other and timed: a loop of func.grad, func.vmap of
func.grad, and the outer-product trick for nn.Linear layers.

    python examples/per_example_gradients.py [--quick] [--examples 64] [--rounds 9]

The model is the MNIST MLP (784-128-10, ReLU) on 64 random images. Times are this thread's CPU time with BLAS
pinned to one thread, the three ways taking turns within every round; the table gives each way's median, and
each ratio is the median of the per-round ratios. docs/lessons/per_example_gradients.md quotes its output.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads its BLAS: one thread, so that CPU time is the work done

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import tinygrad_np as tg  # noqa: E402
from tinygrad_np import func, nn  # noqa: E402
from tinygrad_np.nn import functional as F  # noqa: E402


def mlp(rng, hidden=128):
    return nn.Sequential(nn.Linear(784, hidden, rng=rng), nn.ReLU(), nn.Linear(hidden, 10, rng=rng))


def example_loss(model):
    """One example's loss, as a function of the parameters: what func.grad differentiates."""
    def loss(params, x, y):
        return F.cross_entropy(func.functional_call(model, params, (x.unsqueeze(0),)), y.unsqueeze(0))
    return loss


def by_a_loop(model, params, x, y):
    """func.grad once per example: a forward and a backward pass each."""
    grad = func.grad(example_loss(model))
    per_example = [grad(params, x[i], y[i]) for i in range(len(x))]
    return {name: np.stack([g[name].data for g in per_example]) for name in params}


def by_vmap(model, params, x, y):
    """func.vmap of func.grad: one forward and one backward pass over the batch, each op by its batching rule."""
    grads = func.vmap(func.grad(example_loss(model)), in_dims=(None, 0, 0))(params, x, y)
    return {name: g.data for name, g in grads.items()}


def by_outer_products(model, params, x, y):
    """One ordinary forward and backward pass of the summed loss, keeping the gradient at each Linear's output:
    example i's rows are dL_i/dz_i, since example i's loss depends on row i only; a Linear's weight gradient
    for example i is then the outer product dL_i/dz_i ⊗ x_i of that row and the layer's input row, and its bias
    gradient the row itself. Exact, and for Linear layers only."""
    inputs, outputs = {}, {}
    h = tg.Tensor(x)
    for i, layer in enumerate(model.layers):
        if isinstance(layer, nn.Linear):
            inputs[i] = h
            h = layer(h)
            outputs[i] = h.retain_grad()
        else:
            h = layer(h)
    F.cross_entropy(h, y, reduction="sum").backward()
    grads = {}
    for i in inputs:
        rows = outputs[i].grad.data
        grads[f"{i}.weight"] = np.einsum("no,ni->noi", rows, inputs[i].data)
        grads[f"{i}.bias"] = rows
    for p in model.parameters():
        p.grad = None
    return grads


WAYS = {"loop of grad": by_a_loop, "vmap(grad)": by_vmap, "outer products": by_outer_products}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few examples and rounds: checks, not timings")
    parser.add_argument("--examples", type=int, default=64,
                        help="how many examples get a gradient each (the batch size; default 64)")
    parser.add_argument("--rounds", type=int, default=9,
                        help="interleaved timing rounds; each ratio is the median over them (default 9)")
    args = parser.parse_args(argv)
    count, rounds = (8, 2) if args.quick else (args.examples, args.rounds)
    rng = np.random.default_rng(0)
    model = mlp(rng)
    params = {name: p.data for name, p in model.named_parameters()}
    x = rng.standard_normal((count, 784)).astype(np.float32)
    y = rng.integers(0, 10, count)
    results = {name: way(model, params, x, y) for name, way in WAYS.items()}
    reference = results["loop of grad"]
    worst = max(float(np.abs(r[k] - reference[k]).max()) for r in results.values() for k in reference)
    print(f"{count} examples, {sum(p.size for p in params.values())} parameters each: the three ways agree to "
          f"{worst:.1e} (largest entry {max(float(np.abs(g).max()) for g in reference.values()):.2f})")
    times = {name: [] for name in WAYS}
    for _ in range(rounds):
        for name, way in WAYS.items():
            start = time.thread_time()
            way(model, params, x, y)
            times[name].append(time.thread_time() - start)
    loop = np.array(times["loop of grad"])
    print(f"{'way':<18}{'ms':>9}{'loop / this':>14}")
    for name in WAYS:
        ratio = float(np.median(loop / np.array(times[name])))
        print(f"{name:<18}{1e3 * np.median(times[name]):>9.2f}{ratio:>14.1f}")
    return {name: float(np.median(loop / np.array(times[name]))) for name in WAYS}, worst


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
