"""Digits someone drew or photographed, laid out as MNIST's digits are, so that a network trained on MNIST
can read them.

MNIST's digits were made this way (LeCun et al.): the digit, light on a black
background, is scaled to fit a 20x20 box keeping its aspect ratio, with
anti-aliasing, and placed in a 28x28 image so that its centre of mass is the
image's centre. A network trained on them expects exactly that; a digit
drawn dark on white, filling a 500x500 canvas, or photographed small on a
page in uneven light, looks nothing like it.

Finding the digits on a page (the paper's level, the ink, the pieces that make
each digit, the page's tilt, the pen's width) is image processing, done with
scikit-image in ``page.py``; it is imported only here, when a layout is asked
for, so ``import tinygrad_np`` needs NumPy alone.
"""
import numpy as np

SIZE, BOX = 28, 20
INSTALL = "pip install scikit-image (or pip install -e \".[examples]\")"


def digits_in_mnist_layout(image: np.ndarray) -> list[np.ndarray]:
    """Every digit in ``image`` (any greyscale or RGB(A) image, a drawing or a photo of a page), left to right,
    each as a (28, 28) float32 image in [0, 1], light on black: an empty list when the page holds none.

    Steps (``page.py``): the page's tilt undone where a desk shows behind it;
    the paper's level at every pixel (light falls unevenly on a photo, shadows
    cross it); the ink, wherever it stands out of the paper's grain, dark on
    light or light on dark as the ink itself shows; its connected pieces,
    filtered by size and shape, grouped into digits; each digit's strokes
    thickened to MNIST's width if a thin pen drew it; then MNIST's layout:
    fitted in a 20x20 box keeping its aspect ratio, area-averaged, centred by
    mass in 28x28.
    """
    return [_layout(digit) for digit in _find(image)]


def to_mnist_layout(image: np.ndarray) -> np.ndarray:
    """The one digit in ``image`` as a (28, 28) float32 image in [0, 1], light on black (see
    ``digits_in_mnist_layout``). Raises ValueError if the image holds no digit, or several: it never keeps one
    of them silently."""
    digits = _find(image)
    if not digits:
        raise ValueError("no digit found: the image is blank, or its ink does not stand out of its paper")
    if len(digits) > 1:
        raise ValueError(f"found {len(digits)} digits side by side, and to_mnist_layout lays out one; "
                         "digits_in_mnist_layout gives each, left to right")
    return _layout(digits[0])


def _find(image):
    grey = _greyscale(np.asarray(image))
    if not np.isfinite(grey).all():  # a NaN would make every comparison false, and the digit vanish
        bad = np.argwhere(~np.isfinite(grey))[0]
        raise ValueError(f"the image holds NaN or infinite pixels (the first at row {bad[0]}, column {bad[1]}); "
                         "an image is finite numbers")
    return _page().find_digits(np.clip(grey, 0.0, 1.0))


def _page():
    try:
        from . import page
    except ImportError as err:
        if err.name is None or err.name.split(".")[0] not in ("skimage", "scipy"):
            raise
        raise ModuleNotFoundError(f"laying out a drawn or photographed digit needs scikit-image: {INSTALL}"
                                  ) from None
    return page


def _layout(digit) -> np.ndarray:
    """A digit found on a page (page.Digit) in MNIST's layout."""
    ink = _page().normalise_strokes(digit, BOX)
    rows, cols = np.nonzero(ink > 0.02 * ink.max())
    ink = ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    scale = BOX / max(ink.shape)
    height, width = (max(1, round(n * scale)) for n in ink.shape)
    ink = _area_resize(ink, height, width)
    ink /= ink.max()  # a faint pen averages down to grey strokes; MNIST's strokes reach full white
    return _centre_by_mass(ink).astype(np.float32)


def _greyscale(image: np.ndarray) -> np.ndarray:
    """A float64 (H, W) image: uint8 and 0..255 scaled to [0, 1], colour by ITU-R 601 luma, transparent pixels
    as the white paper behind them."""
    if image.dtype == np.uint8 or image.max(initial=0) > 1:
        image = image / 255.0
    image = image.astype(np.float64)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected a greyscale (H, W) or colour (H, W, 3 or 4) image, got shape {image.shape}")
    channels = image.shape[2]
    colour = image[..., :3] if channels >= 3 else image[..., :1]
    grey = colour @ np.array([0.299, 0.587, 0.114]) if channels >= 3 else colour[..., 0]  # ITU-R 601 luma
    if channels in (2, 4):  # alpha: a transparent pixel is the white paper behind it
        alpha = image[..., -1]
        grey = alpha * grey + (1.0 - alpha)
    return grey


def _area_weights(n_in, n_out):
    """(n_out, n_in): how much of each input pixel falls in each output pixel, rows summing to 1."""
    edges_out = np.arange(n_out + 1) * (n_in / n_out)
    left = np.maximum(edges_out[:-1, None], np.arange(n_in)[None, :])
    right = np.minimum(edges_out[1:, None], np.arange(1, n_in + 1)[None, :])
    overlap = np.clip(right - left, 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def _area_resize(image, height, width):
    """Each output pixel the average of the input area it covers: anti-aliased, for shrinking and growing."""
    return _area_weights(image.shape[0], height) @ image @ _area_weights(image.shape[1], width).T


def _centre_by_mass(digit):
    """``digit`` in a 28x28 black image, its centre of mass at pixel (14, 14), where MNIST's are (as far as it fits)."""
    height, width = digit.shape
    rows, cols = np.indices(digit.shape)
    total = digit.sum()
    centre_row, centre_col = (rows * digit).sum() / total, (cols * digit).sum() / total
    top = int(np.clip(round(SIZE / 2 - centre_row), 0, SIZE - height))
    left = int(np.clip(round(SIZE / 2 - centre_col), 0, SIZE - width))
    out = np.zeros((SIZE, SIZE))
    out[top: top + height, left: left + width] = digit
    return out
