"""A digit someone drew or photographed, laid out as MNIST's digits are, so that a network trained on MNIST
can read it.

MNIST's digits were made this way (LeCun et al.): the digit, light on a black
background, is scaled to fit a 20x20 box keeping its aspect ratio, with
anti-aliasing, and placed in a 28x28 image so that its centre of mass is the
image's centre. A network trained on them expects exactly that; a digit
drawn dark on white, filling a 500x500 canvas, looks nothing like it.
"""
import numpy as np

SIZE, BOX = 28, 20


def to_mnist_layout(image):
    """One digit in any greyscale or RGB(A) image -> a (28, 28) float32 image in [0, 1], light on black.

    Steps: greyscale (transparent pixels count as white paper); inversion
    when the border, the paper, is lighter than half (a dark digit on light
    paper); the paper's level subtracted and the ink stretched to [0, 1];
    cropping to the ink; area-averaging into a 20x20 box, keeping the aspect
    ratio; centring by mass in 28x28. Raises ValueError if there is no ink.
    """
    grey = _greyscale(np.asarray(image))
    if not np.isfinite(grey).all():  # a NaN would make every comparison below false, and the digit vanish
        bad = np.argwhere(~np.isfinite(grey))[0]
        raise ValueError(f"to_mnist_layout: the image holds NaN or infinite pixels (the first at row {bad[0]}, "
                         f"column {bad[1]}); an image is finite numbers")
    paper = float(np.median(_border(grey)))
    if paper > 0.5:  # dark ink on light paper: MNIST is the other way round
        grey, paper = 1.0 - grey, 1.0 - paper
    ink = grey.max() - paper
    if ink < 0.1:
        raise ValueError("no digit found: the image is blank, or its ink is as light as its paper")
    grey = np.clip((grey - paper) / ink, 0.0, 1.0)
    rows, cols = np.nonzero(grey > 0.1)  # the ink; fainter pixels are paper noise or shadow
    digit = grey[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    scale = BOX / max(digit.shape)
    height, width = (max(1, round(n * scale)) for n in digit.shape)
    digit = _area_resize(digit, height, width)
    digit /= digit.max()  # a thin pen averages down to grey strokes; MNIST's strokes reach full white
    return _centre_by_mass(digit).astype(np.float32)


def _greyscale(image):
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


def _border(grey):
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


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
