"""The pictures the MNIST examples draw, and ``save_png``, which every example's figures go through.

Importable only: ``mnist_dnn.py`` and ``mnist_cnn.py`` call ``draw_report``
with their run's ``Results``; the other examples call ``save_png``. Each
``*_figure`` function makes one figure and returns it, so a caller can save
it, show it, or both (``--show``).
"""
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from tinygrad_np.fileio import atomic_write

MARKERS_UP_TO = 30  # epochs; beyond that the markers hide the curve


@dataclass
class Results:
    """What a classifier's training run produced, as the plots need it."""

    history: list  # one dict an epoch: epoch, train_loss, test_loss, train_accuracy, test_accuracy
    step_losses: list  # the training loss of every step
    steps_per_epoch: int
    test_images: np.ndarray  # (N, 28, 28), as shown to a person: pixels in [0, 1] or 0-255
    test_labels: np.ndarray  # (N,)
    test_probabilities: np.ndarray  # (N, 10), the softmax of the trained network's logits
    note: str = ""  # said in every title when set: "DRY RUN", "the bundled sample, not full MNIST"

    @property
    def test_predictions(self):
        return self.test_probabilities.argmax(axis=1)


def save_png(fig, path, dpi=110, close=True):
    """Write the figure as a PNG, atomically (an interrupted run never leaves half a PNG), and close it
    unless it is to be shown."""
    try:
        with atomic_write(path) as f:
            fig.savefig(f, format="png", dpi=dpi)
    finally:
        if close:
            plt.close(fig)


def draw_report(out, results, first_layer=None, seed=0, show=False):
    """Every figure of the MNIST examples, saved in the folder ``out``; shown too when ``show``.

    ``first_layer`` (784, units), when given, adds the weights figure. Returns the file names written.
    """
    rng = np.random.default_rng(seed)
    figures = {
        "loss.png": loss_figure(results),
        "accuracy.png": accuracy_figure(results),
        "prediction.png": one_prediction_figure(results, int(rng.integers(len(results.test_labels)))),
        "predictions.png": random_predictions_figure(results, rng),
        "mistakes.png": confident_mistakes_figure(results),
        "confusion_matrix.png": confusion_figure(results),
    }
    if first_layer is not None:
        figures["weights.png"] = first_layer_figure(first_layer, results.note)
    for name, fig in figures.items():
        save_png(fig, f"{out}/{name}", close=not show)
    if show:
        plt.show()
    return list(figures)


def _title(text, note):
    return f"{text}\n({note})" if note else text


def _style(history):
    return "o-" if len(history) <= MARKERS_UP_TO else "-"


def loss_figure(results):
    fig, ax = plt.subplots(layout="constrained", figsize=(7, 4))
    history = results.history
    steps = np.arange(1, len(results.step_losses) + 1) / max(results.steps_per_epoch, 1)
    ax.plot(steps, results.step_losses, lw=0.6, alpha=0.4, label="train, each step")
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], _style(history), label="train, epoch mean")
    ax.plot(epochs, [h["test_loss"] for h in history], _style(history).replace("o", "s"), label="test, end of epoch")
    ax.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log", title=_title("Loss", results.note))
    ax.legend()
    return fig


def accuracy_figure(results):
    fig, ax = plt.subplots(layout="constrained", figsize=(7, 4))
    history = results.history
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [100 * h["train_accuracy"] for h in history], _style(history), label="train (during the epoch)")
    ax.plot(epochs, [100 * h["test_accuracy"] for h in history], _style(history).replace("o", "s"), label="test")
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title=_title("Accuracy", results.note))
    ax.legend()
    return fig


def one_prediction_figure(results, k):
    """Test image ``k`` and the network's probability for each digit."""
    probabilities, label = results.test_probabilities[k], int(results.test_labels[k])
    predicted = int(probabilities.argmax())
    fig, (image_ax, bar_ax) = plt.subplots(1, 2, layout="constrained", figsize=(7, 3.2),
                                           gridspec_kw={"width_ratios": [1, 1.4]})
    image_ax.imshow(results.test_images[k], cmap="gray_r")
    image_ax.set_title(f"test image {k}, label {label}")
    image_ax.axis("off")
    colours = ["tab:gray"] * 10
    colours[predicted] = "tab:blue" if predicted == label else "tab:red"
    bar_ax.barh(range(10), probabilities, color=colours)
    bar_ax.set(yticks=range(10), xlim=(0, 1), xlabel="probability", ylabel="digit")
    bar_ax.invert_yaxis()
    bar_ax.set_title(f"predicted {predicted} ({100 * probabilities[predicted]:.1f}%)",
                     color="black" if predicted == label else "red")
    fig.suptitle(_title("One prediction", results.note))
    return fig


def _grid(images, titles, wrong, suptitle, cols=10):
    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, layout="constrained", figsize=(cols * 1.1, rows * 1.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    # the last row may have spare axes
    for ax, image, title, bad in zip(axes.flat, images, titles, wrong, strict=False):
        ax.imshow(image, cmap="Reds" if bad else "gray_r")
        ax.set_title(title, fontsize=8, color="red" if bad else "black")
    fig.suptitle(suptitle)
    return fig


def random_predictions_figure(results, rng, count=60):
    """A uniformly random sample of test digits: the mistakes among them are as common as they really are."""
    picks = np.sort(rng.choice(len(results.test_labels), min(count, len(results.test_labels)), replace=False))
    predicted, labels = results.test_predictions[picks], results.test_labels[picks]
    titles = [f"{p}" if p == t else f"{p} (is {t})" for p, t in zip(predicted, labels, strict=True)]
    wrong = predicted != labels
    return _grid(results.test_images[picks], titles, wrong,
                 _title(f"{len(picks)} test digits picked at random: predicted digit; "
                        f"{wrong.sum()} mistakes, in red", results.note))


def confident_mistakes_figure(results, count=30):
    """The mistakes the network was surest of: often a mislabelled or truly ambiguous digit."""
    predicted = results.test_predictions
    wrong = np.flatnonzero(predicted != results.test_labels)
    confidence = results.test_probabilities[wrong, predicted[wrong]]
    picks = wrong[np.argsort(-confidence, kind="stable")[:count]]
    titles = [f"{predicted[k]} {100 * results.test_probabilities[k, predicted[k]]:.0f}% (is {results.test_labels[k]})"
              for k in picks]
    return _grid(results.test_images[picks], titles, [True] * len(picks),
                 _title(f"The {len(picks)} most confident of {len(wrong)} mistakes on {len(predicted)} test digits: "
                        "predicted, its probability, the label", results.note))


def confusion_figure(results):
    """Counts in each cell; the colour is the share of the true digit's images, on a plain linear scale."""
    n = results.test_probabilities.shape[1]
    cm = np.zeros((n, n), np.int64)
    np.add.at(cm, (results.test_labels, results.test_predictions), 1)
    shares = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(layout="constrained", figsize=(6.4, 5.6))
    im = ax.imshow(100 * shares, cmap="Blues", vmin=0, vmax=100)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if shares[i, j] > 0.5 else ("red" if i != j else "black"))
    recall = np.diag(shares)
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted digit",
           yticklabels=[f"{i}: {100 * r:.1f}%" for i, r in enumerate(recall)],
           ylabel="true digit: share predicted right",
           title=_title("Confusion matrix (test): counts; mistakes in red", results.note))
    fig.colorbar(im, ax=ax, label="% of the true digit's images")
    return fig


def first_layer_figure(w1, note="", count=64):
    """Columns of W1 (784, hidden) as 28x28 images, on one colour scale: what each hidden unit looks for."""
    count = min(count, w1.shape[1])
    cols = 8
    rows = -(-count // cols)
    shown = w1[:, :count]
    lim = float(np.abs(shown).max()) or 1.0
    fig, axes = plt.subplots(rows, cols, layout="constrained", figsize=(cols * 1.1, rows * 1.1), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < count:
            im = ax.imshow(shown[:, k].reshape(28, 28), cmap="seismic", vmin=-lim, vmax=lim)
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight (red +, blue -)")
    fig.suptitle(_title(f"First-layer weights of {count} hidden units", note))
    return fig


if __name__ == "__main__":
    raise SystemExit("mnist_plots.py is a module that mnist_dnn.py and mnist_cnn.py import; "
                     "run one of those to draw the plots")
