"""Finding the handwritten digits on a page, drawn or photographed, with scikit-image (the examples extra).

``handwriting.py`` turns what this finds into MNIST's layout; it imports this module only when it is asked
for a layout, so that ``import tinygrad_np`` needs NumPy alone. The steps, each a function below:

1. the page's tilt, from the straight edges where a desk shows behind it, undone (``page_tilt``);
2. the paper's level at every pixel (``paper_level``): one level for even paper (a drawing, a scan), else a
   morphological opening or closing that keeps light and shadow broader than a pen stroke, and drops strokes;
3. how far each pixel stands from its paper (``ink_contrast``);
4. the ink: a threshold a few times the page's own grain, local because the paper level is, then each piece
   cut at a fraction of its own strength (``ink_mask``);
5. whether the ink is lighter or darker than its paper, decided by the ink (``ink_is_light``);
6. the digits: connected ink filtered by size and shape (grain, shadow edges and the desk drop out), pieces of
   one digit grouped, digits ordered left to right (``digits_in_mask``);
7. each digit's strokes thickened to MNIST's width if a pen thinner than MNIST's drew them
   (``normalise_strokes``).

The thresholds below were tuned on the photo sets of tests/photo_sets.py named ``phone`` and ``dev`` (and, in a
second round, ``sklearn`` and larger sets drawn by those generators and ``marker_photo`` from other seeds), never
on ``held_out_2``; ``held_out`` was looked at while the first round was debugged.
"""
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import ndimage
from skimage import feature, filters, measure, morphology, transform

WORK_SIDE = 1024  # a larger image is shrunk to this first: a 28x28 digit needs no more, and time stays bounded
THIN_STROKE = 1.57  # thinner than 99% of MNIST's training digits (stroke_width at 20x20): a thin pen
STROKE_WINDOW = 0.4  # a digit's strokes are at most a fifth of its height (a fat marker): a square this fraction of
# its height is wider than them
MNIST_STROKE = 2.6  # a thin pen's strokes are thickened to this at 20x20 (stroke_width's measure): MNIST's
# training digits measure 2.41 at their 25th percentile and 2.89 at their median


@dataclass
class Digit:
    """One digit found on a page: ``strength`` (its ink in [0, 1], 0 off the digit) and ``mask`` (its pixels),
    cropped to the digit, and ``box`` = (top, left, bottom, right) around it in the input image's pixels."""

    strength: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]


class Page:
    """A greyscale image (H, W) in [0, 1] and what the steps share about it, each computed once."""

    def __init__(self, grey: np.ndarray):
        self.grey = grey

    @cached_property
    def smooth(self) -> np.ndarray:
        return filters.gaussian(self.grey, sigma=1)

    @cached_property
    def noise(self) -> float:
        """The standard deviation of the image's grain (sensor noise, JPEG): Immerkaer's estimate, the mean
        absolute response to a 3x3 kernel that cancels every smooth surface and passes white noise."""
        g = self.grey
        if min(g.shape) < 3:
            return 0.0
        response = (g[:-2, :-2] + g[:-2, 2:] + g[2:, :-2] + g[2:, 2:]
                    - 2 * (g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1]) + 4 * g[1:-1, 1:-1])
        return float(np.sqrt(np.pi / 2) / 6 * np.mean(np.abs(response)))

    @cached_property
    def border(self) -> np.ndarray:
        g = self.grey
        return np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])

    @cached_property
    def even(self) -> bool:
        """Whether three quarters of the image's border have one level up to its grain, that level is the
        image's own (most of an image is its paper), and nothing inside departs from it with a soft edge: a
        drawing or a scan, even one a digit runs off; not a photo's light and shadow (a hand's shadow may stop
        short of the border), nor a page with the desk all round it."""
        paper = float(np.median(self.border))
        tolerance = max(0.03, 2.5 * self.noise)
        at_its_level = np.mean(np.abs(self.border - paper) < tolerance)  # (a digit may cross it)
        if at_its_level < 0.75 or abs(paper - float(np.median(self.grey))) >= 0.15:
            return False
        return not _soft_regions(self.grey, paper, tolerance)

    @cached_property
    def desk(self) -> np.ndarray:
        """What shows of a desk behind the page: regions much darker than the paper that reach the image's
        border and end in a sharp edge (a shadow's edge is soft: its penumbra). Empty on even paper."""
        desk = np.zeros(self.grey.shape, dtype=bool)
        if self.even:
            return desk
        smooth = filters.gaussian(self.grey, sigma=2)
        paper = float(np.percentile(smooth, 75))
        pieces = measure.label(smooth < 0.6 * paper)
        touching = set(np.concatenate([pieces[0], pieces[-1], pieces[:, 0], pieces[:, -1]]).tolist()) - {0}
        if not touching:
            return desk
        slope = filters.sobel(self.smooth)
        for label in touching:
            region = pieces == label
            edge = region & ~ndimage.binary_erosion(region)
            edge[0], edge[-1], edge[:, 0], edge[:, -1] = False, False, False, False
            step = paper - float(np.median(smooth[region]))
            if edge.any() and float(np.median(slope[edge])) > 0.09 * step:  # measured: desks 0.14+, shadows < 0.05
                desk |= region
        return desk


def _soft_regions(grey: np.ndarray, paper: float, tolerance: float) -> bool:
    """Whether a region of the image, lighter or darker than ``paper`` by more than ``tolerance`` and larger than
    half a percent of it, ends in a soft edge: light or shadow (a penumbra, a vignette), not ink (a pen's edge
    is sharp, however bold its strokes)."""
    smooth = filters.gaussian(grey, sigma=2)
    slope = filters.sobel(smooth)
    for off in (smooth < paper - tolerance, smooth > paper + tolerance):
        pieces = measure.label(off)
        for region in measure.regionprops(pieces):
            if region.area < 0.005 * grey.size:
                continue
            r0, c0, r1, c1 = region.bbox
            departure = np.abs(smooth[r0:r1, c0:c1] - paper)
            inside = pieces[r0:r1, c0:c1] == region.label
            step = float(np.median(departure[inside]))
            core = inside & (departure > step / 2)  # its edge taken halfway up the step, where a pen's is steepest
            edge = core & ~ndimage.binary_erosion(core, border_value=1)
            if edge.any() and float(np.median(slope[r0:r1, c0:c1][edge])) < 0.09 * step:  # as Page.desk's
                return True
    return False


def _stroke_width(mask: np.ndarray, centre_line: np.ndarray | None = None) -> float:
    """The width of a mask's strokes: twice the median distance from its centre line to its edge. (Area over
    centre-line length overstates a short bold stroke's: its centre line stops half a width short of each end.)"""
    line = morphology.skeletonize(mask) if centre_line is None else centre_line
    if not line.any():
        return float(max(mask.shape))
    reach = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    return 2 * float(np.median(reach[line]))


def _read(page: Page, side: int, outside: np.ndarray):
    """The digits' masks, what stands out of the grain, and the ink's strength, with the paper's level and the
    ink's polarity taken over squares ``side`` pixels wide."""
    contrast, strength = ink_contrast(page, ink_is_light(page, side), side)
    mask, soft = ink_mask(contrast)
    return digits_in_mask(mask, page.even, outside), soft, strength


def find_digits(grey: np.ndarray) -> list[Digit]:
    """The digits on ``grey`` (an (H, W) float image in [0, 1]), left to right; an empty list if none."""
    scale = min(1.0, WORK_SIDE / max(grey.shape))
    page = Page(transform.rescale(grey, scale, anti_aliasing=True) if scale < 1.0 else grey)
    unrotated = page.grey.shape
    tilt = page_tilt(page)
    outside = np.zeros(unrotated, dtype=bool)
    if tilt:  # turned straight; the corners the turn brings in are no page
        page = Page(transform.rotate(page.grey, -tilt, resize=True, mode="edge"))
        outside = transform.rotate(np.ones(unrotated), -tilt, resize=True, order=0) < 0.5
    if page.desk.any() or outside.any():  # ink within reach of the desk is the paper's edge, not writing
        outside = ndimage.binary_dilation(page.desk | outside, iterations=max(2, round(min(unrotated) / 100)))
    side = paper_window(page)
    groups, soft, strength = _read(page, side, outside)
    tallest = max((np.ptp(np.nonzero(g)[0]) + 1 for g in groups), default=0)
    if not page.even:
        # A bold digit large on the page may have strokes wider than that square: the paper's level then follows
        # the ink into them and leaves only their edges, short slivers that hide how tall the digit is. Read over
        # a square three times as wide, a digit there counts only if its strokes are wider than half the first
        # square (else the first reading saw them whole) and no wider than a marker's, a fifth of its height (a
        # shadow the wide square joins to a digit makes a blob).
        for wide in _read(page, 3 * side, outside)[0]:
            wide_height = np.ptp(np.nonzero(wide)[0]) + 1
            if side / 2 < _stroke_width(wide) <= STROKE_WINDOW / 2 * wide_height:
                tallest = max(tallest, wide_height)
    if not page.even and STROKE_WINDOW * tallest > side:
        # Digits large on the page: their strokes may be wider than the square the paper's level was taken
        # over. Read again over a square wider than any stroke of digits this tall.
        groups, soft, strength = _read(page, 2 * round(STROKE_WINDOW * tallest / 2) + 1, outside)
    digits = []
    height, width = soft.shape
    for group in groups:
        rows, cols = np.nonzero(group)
        spare = max(2, round(0.05 * max(np.ptp(rows), np.ptp(cols))))  # room for the soft edges
        top, left = max(0, rows.min() - spare), max(0, cols.min() - spare)
        bottom, right = min(height, rows.max() + spare + 1), min(width, cols.max() + spare + 1)
        own = group[top:bottom, left:right]
        edges = ndimage.binary_propagation(own, structure=np.ones((3, 3)), mask=soft[top:bottom, left:right] | own)
        ink = np.where(edges, strength[top:bottom, left:right], 0.0)
        digits.append(Digit(ink, own, _box_in_input(rows, cols, page.grey.shape, unrotated, tilt, scale)))
    return digits


# ---- 1. the page's tilt ----------------------------------------------------------------------------------------
def page_tilt(page: Page, largest: float = 15.0) -> float:
    """The page's tilt in degrees (counter-clockwise positive), from the straight edges between the paper and
    the desk (``Page.desk``); 0.0 when no desk shows. Then nothing tells the page's orientation: a digit's own
    slant is the writer's, and MNIST keeps it."""
    if min(page.grey.shape) < 64 or page.desk.sum() < 0.002 * page.desk.size:
        return 0.0
    edges = feature.canny(page.smooth, sigma=1) & (
        ndimage.binary_dilation(page.desk, iterations=2) & ~ndimage.binary_erosion(page.desk, iterations=2))
    edges[:3], edges[-3:], edges[:, :3], edges[:, -3:] = False, False, False, False  # the image's own borders
    if edges.sum() < 0.1 * min(page.grey.shape):
        return 0.0
    near_axes = np.deg2rad(np.concatenate([np.arange(-largest, largest + 0.01, 0.25),
                                           np.arange(90 - largest, 90 + largest + 0.01, 0.25)]))
    accumulator, angles, distances = transform.hough_line(edges, theta=near_axes)
    votes, peak_angles, _ = transform.hough_line_peaks(accumulator, angles, distances, num_peaks=4,
                                                       threshold=0.08 * min(page.grey.shape))
    if not len(votes):
        return 0.0
    # hough's theta is the angle of the line's normal, measured with rows pointing down: a page edge turned
    # counter-clockwise by t has its normal at -t or 90 - t
    tilts = [-((np.rad2deg(a) + 45) % 90 - 45) for a in peak_angles]
    tilt = float(np.average(tilts, weights=votes))
    return tilt if abs(tilt) >= 0.5 else 0.0  # less is within the measure's own error: no turn, no blur


def _box_in_input(rows, cols, shape, unrotated, tilt, scale):
    """The box around the pixels (rows, cols) of the deskewed working image (``shape``), in the input image's
    pixels: back through the rotation about the centres (of ``unrotated``, the working image before it), and
    the shrinking by ``scale``."""
    if tilt:
        theta = np.deg2rad(tilt)
        dr, dc = rows - (shape[0] - 1) / 2, cols - (shape[1] - 1) / 2
        rows = (unrotated[0] - 1) / 2 + dr * np.cos(theta) - dc * np.sin(theta)
        cols = (unrotated[1] - 1) / 2 + dr * np.sin(theta) + dc * np.cos(theta)
    return (max(0, int(rows.min() / scale)), max(0, int(cols.min() / scale)), int(np.ceil((rows.max() + 1) / scale)),
            int(np.ceil((cols.max() + 1) / scale)))


# ---- 2, 3. the paper's level and how far the ink stands from it ------------------------------------------------
def paper_level(page: Page, light_ink: bool, side: int) -> np.ndarray | float:
    """The paper's level at every pixel (one level for the whole page, when it is even): what the image would
    be with the ink taken away. ``side``: a square wider than any stroke (``paper_window``)."""
    if page.even:
        return float(np.median(page.border))
    # A photo's light and shadow: an opening (for light ink; a closing for dark) over a square wider than any
    # stroke keeps what is broader than the square, the paper's light and shade, and drops the strokes.
    square = morphology.footprint_rectangle((side, side), decomposition="separable")
    return morphology.opening(page.smooth, square) if light_ink else morphology.closing(page.smooth, square)


def ink_contrast(page: Page, light_ink: bool, side: int) -> tuple[np.ndarray, np.ndarray]:
    """``(contrast, strength)``: how far each pixel stands from its paper towards the ink, in the image's levels
    (signed: the grain goes both ways), and as a fraction of the way to white or black, in [0, 1]:
    (grey - paper) / (1 - paper) for light ink, (paper - grey) / paper for dark, so that ink in a shadow is as
    strong as ink in the light."""
    paper = paper_level(page, light_ink, side)
    contrast = page.grey - paper if light_ink else paper - page.grey
    room = 1.0 - paper if light_ink else paper
    return contrast, np.clip(contrast / np.maximum(room, 0.05), 0.0, 1.0)


# ---- 4. the ink ----------------------------------------------------------------------------------------------
def ink_mask(contrast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ink: pieces of the page that stand out of its grain (a weak threshold several times the grain, and
    a peak past a strong one: hysteresis, so a faint stretch of a stroke joined to a strong one is kept and a
    speck of grain on its own is not), each then cut at a third of its own peak (a local threshold: a faint
    pencil digit and a dark marker are each cut at their own level, their grey rims left out). Returns that,
    the strokes' core, and what stands out of the grain at all (the strokes with their soft edges)."""
    smooth = filters.gaussian(contrast, sigma=0.7)  # the grain averaged down; a 1 px pen line kept
    grain = 1.4826 * float(np.median(np.abs(smooth - np.median(smooth))))  # the paper's spread: most pixels
    low = max(0.03, 4 * grain)
    standing_out = smooth > low
    labels, count = ndimage.label(standing_out, structure=np.ones((3, 3)))
    if not count:
        return np.zeros(contrast.shape, dtype=bool), standing_out
    peaks = np.concatenate([[np.inf], ndimage.maximum(smooth, labels, np.arange(1, count + 1))])
    peaks[peaks < 2.5 * low] = np.inf  # too faint to be ink anywhere: the whole piece drops out
    return smooth > np.maximum(low, peaks / 3)[labels], standing_out


# ---- 5. which way the ink goes ---------------------------------------------------------------------------------
def ink_is_light(page: Page, side: int) -> bool:
    """Whether the ink is lighter than its paper, decided by the ink, never by the outermost pixels (a dark
    desk shows there in a photo, and a digit may run off a drawing). On even paper: whether the image's
    extremes lie above the paper's level or below. On a photo: whether more stands out above the local median
    or below it, over a window wider than a stroke. The median is the paper wherever ink covers less than half
    the window, so ink stands out of it and the paper between strokes does not (a top-hat, by contrast, counts
    the paper inside a small dark digit's loops as light strokes); light and shadow, broader than the window,
    count for nothing, and the desk and its edge are left out."""
    smooth = page.smooth
    if page.even:
        paper = float(np.median(page.border))
        return bool(smooth.max() - paper > paper - smooth.min())
    deviation = smooth - local_median(smooth, side)
    floor = 4 * page.noise / 3 + 0.02  # (the smoothing divides white grain by about 3)
    counted = ~ndimage.binary_dilation(page.desk, iterations=side) if page.desk.any() else True
    light = float(deviation[(deviation > floor) & counted].sum())
    dark = float(-deviation[(deviation < -floor) & counted].sum())
    return light > dark


def paper_window(page: Page) -> int:
    """The side of a square wider than the strokes of a digit of ordinary size on the page, and narrower than
    its light and shade, in pixels (``find_digits`` widens it for a digit large on the page)."""
    return 2 * max(3, round(min(page.grey.shape) / 25)) + 1


def local_median(image: np.ndarray, side: int) -> np.ndarray:
    """The median of ``image`` over a ``side``-wide square round each pixel, taken on the image shrunk so that
    the square is 9 pixels wide (a median filter's cost grows with the square's area), then grown back."""
    shrink = max(1, side // 9)
    if shrink == 1:
        return ndimage.median_filter(image, size=side, mode="nearest")
    small = transform.rescale(image, 1 / shrink, anti_aliasing=True)
    small = ndimage.median_filter(small, size=max(3, side // shrink) | 1, mode="nearest")
    return transform.resize(small, image.shape, order=1)


# ---- 6. the digits ---------------------------------------------------------------------------------------------
def digits_in_mask(mask: np.ndarray, even_paper: bool = True, outside: np.ndarray | None = None) -> list[np.ndarray]:
    """Boolean masks of the digits in ``mask``, left to right: connected pieces of ink that are tall enough and
    shaped like strokes; pieces that touch the image's border (or reach ``outside``, the desk) only when nothing
    else is there and the paper is even (a drawing that runs off its canvas; on a photo they are the desk, the
    paper's edge or a shadow's); smaller pieces near a digit (a broken stroke, a 5's detached bar) joined to
    it."""
    labels = measure.label(mask, connectivity=2)
    beyond = set(np.unique(labels[outside]).tolist()) - {0} if outside is not None else set()
    pieces = measure.regionprops(labels)
    if not pieces:
        return []
    height, width = mask.shape
    shortest = max(6, 0.04 * min(height, width))  # a digit is at least this tall
    centre_lines = {p.label: morphology.skeletonize(p.image) for p in pieces}
    length = {label: float(line.sum()) for label, line in centre_lines.items()}  # its centre line's

    def touches_border(p):
        r0, c0, r1, c1 = p.bbox
        return r0 == 0 or c0 == 0 or r1 == height or c1 == width or p.label in beyond

    def stroke_like(p):
        r0, c0, r1, c1 = p.bbox
        tall, wide = r1 - r0, c1 - c0
        if tall < shortest or wide > 3 * tall:  # too small, or a line along the page rather than a digit
            return False
        line_width = _stroke_width(p.image, centre_lines[p.label])  # (by area over length, a bold "1" is a blob)
        return line_width <= 0.4 * tall or tall >= 2.5 * wide  # strokes, not a blob (unless it is a tall "1")

    inner = [p for p in pieces if not touches_border(p)]
    candidates = [p for p in inner if stroke_like(p)] or [p for p in pieces if even_paper and stroke_like(p)]
    if not candidates:
        return []
    # Sizes compared by stroke length, not by ink: a thin "1" beside a bold "3" is as much a digit.
    longest = max(length[p.label] for p in candidates)
    tallest = max(p.bbox[2] - p.bbox[0] for p in candidates)
    mains = [p for p in candidates if length[p.label] >= 0.15 * longest and p.bbox[2] - p.bbox[0] >= 0.4 * tallest]
    groups = _group_by_columns(mains)
    boxes = [_group_box(group) for group in groups]
    for p in inner:  # a piece too small or too flat to be a digit, within reach of one: a part of it
        if p in mains or length[p.label] < 0.05 * longest:
            continue
        reach = [_overlap(p.bbox, _grown_box(box, 0.25 * (box[2] - box[0]))) for box in boxes]
        if max(reach) > 0:
            groups[int(np.argmax(reach))].append(p)
    digits = [((box[1] + box[3]) / 2, np.isin(labels, [p.label for p in group]))
              for group, box in zip(groups, boxes, strict=True)]
    return [m for _, m in sorted(digits, key=lambda d: d[0])]


def _group_by_columns(pieces):
    """Pieces whose column ranges overlap by more than half the narrower one's width: one digit each."""
    groups: list[list] = []
    for p in sorted(pieces, key=lambda p: p.bbox[1]):
        for group in groups:
            c0, c1 = min(q.bbox[1] for q in group), max(q.bbox[3] for q in group)
            if min(c1, p.bbox[3]) - max(c0, p.bbox[1]) > 0.5 * min(c1 - c0, p.bbox[3] - p.bbox[1]):
                group.append(p)
                break
        else:
            groups.append([p])
    return groups


def _group_box(group):
    return (min(p.bbox[0] for p in group), min(p.bbox[1] for p in group), max(p.bbox[2] for p in group),
            max(p.bbox[3] for p in group))


def _grown_box(box, margin):
    return (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)


def _overlap(a, b):
    """The area two boxes (top, left, bottom, right) share."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


# ---- 7. the strokes ---------------------------------------------------------------------------------------------
def stroke_width(digit: Digit) -> float:
    """The strokes' mean width in pixels, where the ink is at least half its full strength: that area over the
    length of its centre line (the measure MNIST_STROKE and THIN_STROKE were taken in, on MNIST's digits)."""
    full = float(np.percentile(digit.strength[digit.mask], 95))
    ink = digit.strength > 0.5 * full
    return float(ink.sum() / max(1, morphology.skeletonize(ink).sum()))


def normalise_strokes(digit: Digit, box_side: int = 20, detail: int = 4) -> np.ndarray:
    """The digit's ink, its strokes thickened to MNIST's width at ``box_side`` if a pen thinner than MNIST's drew
    them: then resized first so that the digit's longer side is ``detail`` times ``box_side``, for the pen to be
    placed to a quarter of a final pixel. Thicker strokes are left as written (MNIST has bold digits too), at
    their own size. The caller area-averages the result down to ``box_side``."""
    rows, cols = np.nonzero(digit.mask)
    extent = max(np.ptp(rows) + 1, np.ptp(cols) + 1)
    width = stroke_width(digit) * box_side / extent
    if width >= THIN_STROKE:
        return digit.strength
    zoom = detail * box_side / extent
    shape = tuple(max(1, round(n * zoom)) for n in digit.strength.shape)
    growing = zoom >= 1  # pixels repeated, so that area-averaging back gives them again
    ink = transform.resize(digit.strength, shape, order=0 if growing else 1, anti_aliasing=not growing)
    ink = np.clip(ink / max(1e-6, float(np.percentile(ink[ink > 0.1 * ink.max()], 90))), 0.0, 1.0)
    half = ink > 0.5  # the strokes' width measured here, at this resolution, where the pen will widen them
    now = float(half.sum() / max(1, morphology.skeletonize(half).sum()))
    pen = max(1, round((MNIST_STROKE * detail - now) / 2))  # on each side of the stroke
    return morphology.dilation(np.pad(ink, pen), morphology.disk(pen, decomposition="sequence"))


