"""The pictures the MNIST examples draw, and ``save_png``, which every example's plots go through.
Each function writes one PNG, atomically."""
import matplotlib.pyplot as plt
import numpy as np

from tinygrad_np.fileio import atomic_write


def save_png(fig, path, dpi=110):
    """Write the figure as a PNG, atomically, and close it (every example's plots go through here)."""
    try:
        with atomic_write(path) as f:  # an interrupted run never leaves half a PNG
            fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)


def loss_curves(step_losses, history, steps_per_epoch, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(step_losses) + 1) / max(steps_per_epoch, 1)
    ax.plot(steps, step_losses, lw=0.6, alpha=0.5, label="per step")
    ax.plot([h["epoch"] for h in history], [h["train_loss"] for h in history], "o-", label="epoch mean")
    ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="Training loss", yscale="log")
    ax.legend()
    save_png(fig, path)


def accuracy_curves(history, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [100 * h["train_accuracy"] for h in history], "o-", label="train")
    ax.plot(epochs, [100 * h["test_accuracy"] for h in history], "s-", label="test")
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    ax.legend()
    save_png(fig, path)


def one_prediction(image, true, predicted, path):
    fig, ax = plt.subplots(figsize=(3, 3.4))
    ax.imshow(image, cmap="gray")
    ax.set_title(f"label {true}, predicted {predicted}", color="black" if true == predicted else "red")
    ax.axis("off")
    save_png(fig, path)


def prediction_grid(images, true, predicted, path, rows=6, cols=10):
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.25))
    for ax, image, t, p in zip(axes.flat, images, true, predicted):
        wrong = t != p
        ax.imshow(image, cmap="Reds" if wrong else "gray_r")
        ax.set_title(f"{p}" + (f" (is {t})" if wrong else ""), fontsize=8, color="red" if wrong else "black")
        ax.axis("off")
    for ax in axes.flat[len(images):]:
        ax.axis("off")
    fig.suptitle("Test predictions (mistakes in red)")
    save_png(fig, path)


def confusion(cm, path):
    fig, ax = plt.subplots(figsize=(6, 5.4))
    im = ax.imshow(np.log1p(cm), cmap="Blues")
    n = len(cm)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 3 else "black")
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true", title="Confusion matrix (test)")
    fig.colorbar(im, ax=ax, label="log(1 + count)")
    save_png(fig, path)


def first_layer_weights(w1, path, count=64):
    """Columns of W1 (784, hidden) shown as 28x28 images: what each hidden unit looks for."""
    count = min(count, w1.shape[1])
    cols = 8
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1))
    for k, ax in enumerate(np.atleast_1d(axes).flat):
        ax.axis("off")
        if k < count:
            w = w1[:, k].reshape(28, 28)
            lim = np.abs(w).max() or 1.0
            ax.imshow(w, cmap="seismic", vmin=-lim, vmax=lim)
    fig.suptitle(f"First-layer weights of {count} hidden units")
    save_png(fig, path, dpi=80)
