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
    paper); the paper's level subtracted and the ink stretched to [0, 1]: where
    the border shows uneven paper (a photo's light falls unevenly, shadows
    cross the page), the level is estimated at every pixel and the ink found by
    a threshold chosen from the image (Otsu's); then only the digit's connected
    ink is kept, so that specks of grain and shadows at the edges drop out;
    cropping to it; area-averaging into a 20x20 box, keeping the aspect ratio;
    centring by mass in 28x28. Raises ValueError if there is no ink.
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
    border = _border(grey)
    if np.percentile(border, 90) - np.percentile(border, 10) > 0.08:  # uneven paper: a photo's light and shadow
        grey = np.clip(grey - _local_paper(grey), 0.0, None)
        grey, threshold = grey / grey.max(), None  # (ink >= 0.1 here: grey.max() > 0)
    else:  # even paper (a drawing, a scan): its one level, from the border
        grey, threshold = np.clip((grey - paper) / ink, 0.0, 1.0), 0.1
    digit_mask = _digit_ink(grey, threshold)
    grey = np.where(_grown(digit_mask), grey, 0.0)  # the digit's ink and its anti-aliased rim; nothing else
    rows, cols = np.nonzero(digit_mask)
    digit = grey[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    scale = BOX / max(digit.shape)
    height, width = (max(1, round(n * scale)) for n in digit.shape)
    digit = _area_resize(digit, height, width)
    digit /= digit.max()  # a thin pen averages down to grey strokes; MNIST's strokes reach full white
    return _centre_by_mass(digit).astype(np.float32)


def _local_paper(grey):
    """The paper's level at every pixel (light on dark now: paper is the low side), following light that falls
    unevenly and shadow bands: a morphological opening (a minimum, then a maximum, over a square an eighth of
    the shorter side) removes every stroke narrower than that square and keeps what is broader."""
    size = max(3, min(grey.shape) // 8) | 1
    return _filter(_filter(grey, size, np.min), size, np.max)


def _filter(image, size, reduce):
    """``reduce`` (np.min or np.max) over a size x size square around each pixel, edges extended."""
    from numpy.lib.stride_tricks import sliding_window_view

    half = size // 2
    padded = np.pad(image, half, mode="edge")
    rows = reduce(sliding_window_view(padded, size, axis=0), axis=-1)
    return reduce(sliding_window_view(rows, size, axis=1), axis=-1)


def _otsu(values):
    """Otsu's threshold: the level that best splits ``values`` (in [0, 1]) into two classes, by the largest
    between-class variance over a 256-bin histogram."""
    counts, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    weights = counts / max(1, counts.sum())
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(weights)
    mean_below = np.cumsum(weights * centres)
    total_mean = mean_below[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * below - mean_below) ** 2 / (below * (1 - below))
    between[~np.isfinite(between)] = 0.0
    return float(centres[int(np.argmax(between))])


def _digit_ink(grey, threshold=None):
    """The digit's ink: pixels above ``threshold`` (None: Otsu's, and at least 0.1), in the connected pieces
    that make the digit: the heaviest piece, and every piece at least a tenth as heavy that lies near it.
    Specks of grain and shadows that touch the image's edge are dropped."""
    if threshold is None:
        threshold = max(0.1, _otsu(grey[grey > 0.02]) if (grey > 0.02).any() else 0.1)
    mask = grey > threshold
    factor = -(-max(mask.shape) // 300)  # pieces found on a mask at most 300 pixels a side: fast at any size
    if factor > 1:
        height, width = -(-mask.shape[0] // factor) * factor, -(-mask.shape[1] // factor) * factor
        padded = np.zeros((height, width), dtype=bool)
        padded[:mask.shape[0], :mask.shape[1]] = mask
        blocks = padded.reshape(height // factor, factor, width // factor, factor)
        keep = _digit_pieces(blocks.any(axis=(1, 3)), blocks.mean(axis=(1, 3)))  # weighed by their ink
        return mask & np.repeat(np.repeat(keep, factor, axis=0), factor, axis=1)[:mask.shape[0], :mask.shape[1]]
    return _digit_pieces(mask, grey)


def _digit_pieces(mask, grey):
    """The pieces of ``mask`` that make the digit (see _digit_ink), weighed by ``grey``."""
    labels, count = _components(mask)
    if count <= 1:
        return mask
    mass = np.bincount(labels.ravel(), weights=grey.ravel(), minlength=count + 1)
    mass[0] = 0
    height, width = grey.shape
    boxes = {}
    for k in range(1, count + 1):
        r, c = np.nonzero(labels == k)
        boxes[k] = (r.min(), r.max(), c.min(), c.max())
    edge = {k for k, (r0, r1, c0, c1) in boxes.items() if r0 == 0 or c0 == 0 or r1 == height - 1 or c1 == width - 1}
    candidates = [k for k in range(1, count + 1) if k not in edge] or list(range(1, count + 1))
    main = max(candidates, key=lambda k: mass[k])
    r0, r1, c0, c1 = boxes[main]
    margin_r, margin_c = (r1 - r0 + 1) // 2, (c1 - c0 + 1) // 2
    keep = [k for k in candidates if mass[k] >= 0.1 * mass[main] and boxes[k][0] <= r1 + margin_r
            and boxes[k][1] >= r0 - margin_r and boxes[k][2] <= c1 + margin_c and boxes[k][3] >= c0 - margin_c]
    return np.isin(labels, keep)


def _components(mask):
    """Connected pieces of ``mask`` (8-neighbours): (labels, count), 0 for background. A flood fill over the
    mask's pixels only, so it costs what the ink costs."""
    labels = np.zeros(mask.shape, dtype=np.int64)
    height, width = mask.shape
    count = 0
    for start in zip(*np.nonzero(mask), strict=True):
        if labels[start]:
            continue
        count += 1
        labels[start] = count
        stack = [start]
        while stack:
            r, c = stack.pop()
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < height and 0 <= cc < width and mask[rr, cc] and not labels[rr, cc]:
                        labels[rr, cc] = count
                        stack.append((rr, cc))
    return labels, count


def _grown(mask, steps=2):
    """``mask`` grown by ``steps`` pixels in every direction: the kept ink with its soft edges."""
    grown = mask.copy()
    for _ in range(steps):
        g = grown.copy()
        g[1:] |= grown[:-1]
        g[:-1] |= grown[1:]
        g[:, 1:] |= grown[:, :-1]
        g[:, :-1] |= grown[:, 1:]
        grown = g
    return grown


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
