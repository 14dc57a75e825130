"""Read your own handwritten digits with a network trained by mnist_dnn.py or mnist_cnn.py.

    python examples/mnist_dnn.py --out runs/mine             # train once, ~20 s
    python examples/predict.py runs/mine/model.npz my_7.png  # then ask it

Any model file whose metadata records its architecture (``nn.architecture``,
as mnist_cnn.py's model.npz and model.safetensors do) and its input
normalisation works the same way.

Draw a digit in any paint program (any colours, any size) or photograph one
on paper; several digits side by side are each read, left to right. Each
digit is made to look like an MNIST digit (``tinygrad_np.data.
digits_in_mnist_layout``: the paper's light and shadow taken away, the ink
found, thin pens thickened, light on black, fitted in a 20x20 box and centred
by mass in 28x28), normalised as the model records in its file, and
classified. For each digit this prints the digit and the three most probable,
and "unsure" when even the most probable has less than half the probability;
``--show`` also draws every digit as the network saw it. An image with no digit
on it (a blank page) is named, not guessed at, and the exit status is 1.
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np

import tinygrad_np as tg
from tinygrad_np.data import digits_in_mnist_layout, normalize, to_mnist_layout  # noqa: F401 (tests use it)

MAX_PIXELS = 60_000_000  # more than any phone camera's; past it an image is refused before it is decoded
READ_SIDE = 1024  # images are read at most this wide and tall: a 28x28 digit needs no more


def read_image(path):
    """The image at ``path`` as an array; PNG, JPEG and the other formats Pillow reads."""
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError  # Pillow comes with matplotlib (the examples extra)
    except ImportError:
        raise ModuleNotFoundError("reading images needs Pillow: pip install -e \".[examples]\"") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # our own limit, below, says more
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ValueError(f"{path}: {image.width}x{image.height} is more than {MAX_PIXELS:,} pixels; "
                                     "a photo of one digit needs far fewer: downscale it first")
                image.draft("RGB", (READ_SIDE, READ_SIDE))  # JPEG: decode at a reduced size straight away
                image = ImageOps.exif_transpose(image)  # a phone photo's "this way up"
                if max(image.size) > READ_SIDE:  # bound the memory the layout steps use
                    image.thumbnail((READ_SIDE, READ_SIDE), Image.Resampling.BOX)
                if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: convert("RGB") clips at 255
                    grey = np.asarray(image, dtype=np.float64)
                    return grey / (65535.0 if grey.max(initial=0) > 255 or image.mode != "I" else 255.0)
                transparent = "A" in image.getbands() or (image.mode == "P" and "transparency" in image.info)
                return np.asarray(image.convert("RGBA" if transparent else "RGB"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(f"{path}: more than {MAX_PIXELS:,} pixels (Pillow refuses it as a decompression bomb); "
                         "a photo of one digit needs far fewer: downscale it first") from None
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not an image") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as err:  # Pillow's errors for broken files vary
        raise ValueError(f"{path}: not an image that can be read ({err})") from None


def classify(model, mean, std, images, input_shape=(784,)):
    """Probabilities (N, 10) for 28x28 images in [0, 1], light on black, shaped as the model takes them. One image
    at a time: a model file's architecture is bounded for one example (``nn.architecture.output_shape``), and
    each digit's reading depends on it alone."""
    pixels = np.stack(images).reshape((len(images),) + tuple(input_shape)) * 255
    # A model ending in Softmax (as many PyTorch models do) gives probabilities already: a second softmax would
    # flatten them (80% read as 19.5%). Its scores are taken as they are.
    probabilities = _ends_in_softmax(model)
    with tg.no_grad():
        outputs = [model(tg.Tensor(normalize(pixels[k: k + 1], mean, std))) for k in range(len(images))]
        return np.concatenate([(out if probabilities else out.softmax(axis=1)).data for out in outputs]) \
            if len(images) else np.zeros((0, 10), np.float32)


def _ends_in_softmax(model):
    """True if the model's last layer that changes its output is a Softmax (a Sequential's, however nested):
    Identity, Dropout (in eval), Flatten and ReLU after it leave probabilities as they are."""
    def layers_of(module):
        if isinstance(module, tg.nn.Sequential):
            for layer in module.layers:
                yield from layers_of(layer)
        else:
            yield module

    for layer in reversed(list(layers_of(model))):
        if isinstance(layer, (tg.nn.Identity, tg.nn.Dropout, tg.nn.Flatten, tg.nn.ReLU)):
            continue
        return isinstance(layer, tg.nn.Softmax)
    return False


def load_any_model(path, max_parameters=None):
    """``(model, input_mean, input_std, input_shape)`` from mnist_dnn.py's model files, or from any model file
    whose metadata records its architecture as JSON (mnist_cnn.py's), its input_mean and input_std.

    A model file may come from anyone, so everything its metadata claims is checked before a model is made:
    the architecture (``nn.architecture``: every field, the nesting, the number of layers), the shape of every
    parameter it implies against the shapes the file stores (from its headers), what it gives for one image
    (the 10 scores of the digits, by ``nn.architecture.output_shape``, which also bounds the memory and work of
    the forward), and its size: at most ``max_parameters`` values (``nn.architecture.MAX_PARAMETERS`` unless
    raised), a float64 array counting twice. A file claiming a huge network is refused, not allocated. Every
    refusal is a ModelFileError (a ValueError) naming the file."""
    from mnist_dnn import load_opened_model  # beside this script

    from tinygrad_np import nn

    with nn.open_model_file(path) as model_file:  # metadata, headers and arrays, all from this one opening
        metadata = model_file.metadata()
        if metadata.get("model") == "mnist_dnn.MLP":  # load_model checks its hidden size against the stored W1
            model, mean, std = load_opened_model(model_file, max_parameters)
            return model, mean, std, (784,)
        return _load_described_model(model_file, metadata, max_parameters)


def _load_described_model(model_file, metadata, max_parameters):
    """A model whose metadata records its architecture (mnist_cnn.py's), from the opened ``model_file``."""
    from mnist_dnn import check_size, check_usable, input_normalization, stored_differences

    from tinygrad_np import nn

    where = model_file.path
    if "architecture" not in metadata:
        raise nn.ModelFileError(f"{where}: its metadata records no architecture, so the network cannot be "
                                "rebuilt; use a model.npz or model.safetensors written by mnist_dnn.py or mnist_cnn.py")
    mean, std = input_normalization(where, metadata)
    shape = _input_shape(where, metadata)
    architecture = metadata["architecture"]
    try:
        expected = nn.architecture.state_shapes(architecture)
    except ValueError as err:
        raise nn.ModelFileError(f"{where}: its metadata's architecture cannot be built: {err}") from None
    stored = model_file.stored_arrays()
    differences = stored_differences(stored, expected, "the architecture")
    if differences:
        raise nn.ModelFileError(f"{where}: its metadata's architecture does not match its weights ("
                                + "; ".join(differences) + ")")
    try:
        scores = nn.architecture.output_shape(architecture, shape)
    except ValueError as err:
        raise nn.ModelFileError(f"{where}: its metadata's architecture cannot run on a {list(shape)} image: "
                                f"{err}") from None
    if scores != (10,):
        raise nn.ModelFileError(f"{where}: its metadata's architecture gives {list(scores)} for each image, not the "
                                "10 scores of the digits 0 to 9 that predict.py reads")
    limit = check_size(where, stored, expected, max_parameters)
    rng_state = tg.get_rng_state()  # building draws fresh weights, which the file replaces: the global generator
    try:  # is left as it was, as nn.load and Module.load leave it
        model = nn.architecture.build(architecture, max_parameters=limit)  # within the bound: check_size counted it
    finally:
        tg.set_rng_state(rng_state)
    state = model_file.load(max_bytes=4 * limit, expect=expected)
    try:
        model.load_state_dict(state)
    except ValueError as err:
        raise nn.ModelFileError(f"{where}: {err}") from None
    except MemoryError:  # load_state_dict's checks and casts: nothing is changed before they are done
        raise nn.ModelFileError(f"{where}: not enough memory to load it into the model") from None
    check_usable(where, model)
    return model.eval(), mean, std, shape


def _input_shape(where, metadata):
    """The shape the model takes an image in: a JSON list of at most 4 positive whole numbers making 784."""
    text = metadata.get("input_shape", "[784]")
    try:
        shape = json.loads(text) if len(text) <= 100 else None
    except ValueError:
        shape = None
    if not (isinstance(shape, list) and 1 <= len(shape) <= 4
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
            and int(np.prod(shape, dtype=object)) == 784):
        from tinygrad_np import nn

        raise nn.ModelFileError(f"{where}: its metadata's input_shape is {text[:60]}; a 28x28 image is 784 numbers, "
                                "shaped as [784] or [1, 28, 28]")
    return tuple(shape)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="model.npz or model.safetensors written by mnist_dnn.py or mnist_cnn.py")
    parser.add_argument("images", nargs="+", metavar="image",
                        help="a PNG or JPEG of a digit, or of several side by side (read left to right)")
    parser.add_argument("--show", action="store_true", help="also show every digit as the network saw it")
    parser.add_argument("--max-parameters", type=_positive_int, default=None, metavar="N",
                        help="the most parameters a model file's architecture may claim (default: "
                             "nn.architecture.MAX_PARAMETERS, 100,000,000)")
    args = parser.parse_args(argv)

    model, mean, std, input_shape = load_any_model(args.model, args.max_parameters)
    found = []  # (path, the digits' layouts, left to right)
    for path in args.images:
        image = read_image(path)  # its errors name the file already
        try:
            found.append((path, digits_in_mnist_layout(image)))
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    layouts = [layout for _, digits in found for layout in digits]
    probabilities = classify(model, mean, std, layouts, input_shape) if layouts else np.zeros((0, 10))
    if not np.isfinite(probabilities).all():  # never "0 (0: nan%)" and exit 0: NaN fails every comparison
        raise ValueError(f"{args.model}: the network answered NaN for an image (its weights or the image's "
                         "numbers overflow); no digit can be read with this model")
    readings, blank, start = [], [], 0
    for path, digits in found:
        if not digits:  # no guess: a blank page would otherwise be read as some digit with high confidence
            print(f"{path}: no digit found (the image is blank, or its ink does not stand out of its paper)",
                  file=sys.stderr)
            blank.append(path)
            continue
        ps = probabilities[start: start + len(digits)]
        start += len(digits)
        if len(digits) > 1:
            print(f"{path}: {''.join(str(int(p.argmax())) for p in ps)}  ({len(digits)} digits, left to right)")
        for k, p in enumerate(ps):
            name = f"{path} [{k + 1} of {len(digits)}]" if len(digits) > 1 else str(path)
            print(f"{name}: {describe(p)}")
            readings.append((name, p))
    if args.show and layouts:
        show([name for name, _ in readings], layouts, probabilities)
    return 1 if blank else probabilities


def _positive_int(text):
    if not (text.isascii() and text.isdigit() and int(text) >= 1):
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


def describe(p):
    """'7  (7: 97.1%, 1: 1.8%, 2: 0.6%)': the digit and the three most probable, marked unsure below half."""
    top = np.argsort(-p, kind="stable")[:3]
    unsure = "  unsure: no digit has half the probability" if not p[top[0]] >= 0.5 else ""  # NaN: unsure
    return f"{top[0]}  (" + ", ".join(f"{d}: {100 * p[d]:.1f}%" for d in top) + ")" + unsure


def show(names, images, probabilities):
    """Every digit as the network saw it (28x28, light on black), titled with what it read."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(images), figsize=(2 * len(images), 2.4), squeeze=False)
    for ax, name, image, p in zip(axes.flat, names, images, probabilities, strict=True):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        unsure = ", unsure" if not p.max() >= 0.5 else ""
        ax.set_title(f"{os.path.basename(name)}\n{p.argmax()} ({100 * p.max():.0f}%{unsure})", fontsize=8)
        ax.axis("off")
    plt.show()


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
