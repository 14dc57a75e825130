"""A second model on the engine: an MNIST autoencoder built from nn layers.

    python examples/mnist_autoencoder.py [--epochs N] [--quick] [--data-dir DIR] [--out DIR]

784 → 256 → 32 → 256 → 784: the encoder squeezes each digit into 32 numbers
and the decoder redraws it. Where examples/mnist_dnn.py writes its network as
raw tensor expressions, this one uses the PyTorch-style pieces: nn.Sequential,
nn.Linear, activation modules, optim.Adam, state_dict. The loss is composed
from primitive ops, mean((x̂ − x)²), so no new op or derivative was needed.
"""
import argparse
import os
import time

import numpy as np

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.data import DataLoader, load_mnist_or_sample


def build(rng, code_size=32):
    encoder = nn.Sequential(nn.Linear(784, 256, init="he", rng=rng), nn.ReLU(), nn.Linear(256, code_size, rng=rng))
    decoder = nn.Sequential(nn.Linear(code_size, 256, init="he", rng=rng), nn.ReLU(),
                            nn.Linear(256, 784, rng=rng), nn.Sigmoid())
    return nn.Sequential(encoder, decoder)


def mse(prediction, target):
    diff = prediction - target
    return (diff * diff).mean()


@tg.no_grad()
def evaluate(model, x, batch=1000):
    return float(np.mean([mse(model(tg.Tensor(x[i:i + batch])), tg.Tensor(x[i:i + batch])).item()
                          for i in range(0, len(x), batch)]))


def plot(model, x, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mnist_plots as plots  # beside this script: save_png

    with tg.no_grad():
        recon = model(tg.Tensor(x[:10])).data
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.3))
    for k in range(10):
        for row, images in enumerate((x, recon)):
            axes[row, k].imshow(images[k].reshape(28, 28), cmap="gray_r")
            axes[row, k].axis("off")
    axes[0, 0].set_title("input", fontsize=8, loc="left")
    axes[1, 0].set_title("reconstruction from 32 numbers", fontsize=8, loc="left")
    plots.save_png(fig, path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="at least 1")
    parser.add_argument("--quick", action="store_true", help="a few batches, for CI")
    parser.add_argument("--data-dir", help="folder with the four MNIST files (default: $TINYGRAD_NP_DATA, the "
                                           "cache, a download, else the bundled sample)")
    parser.add_argument("--out", help="output folder (default: runs/autoencoder-<timestamp>)")
    parser.add_argument("--no-jit", action="store_true",
                        help="run each step eagerly, op by op, instead of replaying it with tg.jit "
                        "(the same numbers, slower)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"argument --epochs: must be at least 1, got {args.epochs}")
    args.out = args.out or os.path.join("runs", "autoencoder-" + time.strftime("%Y%m%d-%H%M%S"))
    tg.reuse_freed_memory()  # each step frees and reallocates the same arrays: keep their pages (memory.py)
    x_train, _, x_test, _ = load_mnist_or_sample(args.data_dir)
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255
    rng = np.random.default_rng(0)
    model = build(rng)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(x_train, batch_size=128, shuffle=True, rng=rng)

    def step(batch):
        loss = mse(model(batch), batch)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    step = step if args.no_jit else tg.jit(step)
    print(f"test reconstruction error before training: {evaluate(model, x_test):.4f}")
    for epoch in range(1, (1 if args.quick else args.epochs) + 1):
        start = time.perf_counter()
        for i, (xb,) in enumerate(loader):  # one array: 1-tuples, as PyTorch's TensorDataset
            if args.quick and i == 20:
                break
            step(xb)
        print(f"epoch {epoch}: test reconstruction error {evaluate(model, x_test):.4f} "
              f"({time.perf_counter() - start:.1f} s)")
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "autoencoder.npz"))
    plot(model, x_test, os.path.join(args.out, "reconstructions.png"))
    print(f"wrote {args.out}/autoencoder.npz and reconstructions.png")


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
