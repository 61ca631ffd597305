"""Grey page -> ink mask, robust to grey paper, JPEG noise and grey fill.

The threshold sits between the paper level and the darkest ink level (both
from percentiles), so a light-grey "unknown" fill or scan shading is paper,
and a faded scan still gives its lines.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._lines import dilate_box, dilate_line, erode_box, erode_line

SAMPLE_PIXELS = 250_000
MIN_CONTRAST = 40  # grey levels between ink and paper; less is a blank page
SPARSE_INK = 10_000  # a page with under 1 / SPARSE_INK of its pixels dark is blank
GREY_LEVELS = np.arange(256)  # thresholds are applied to these once, then looked up per pixel


def ink_mask(grey: np.ndarray, levels: tuple[float, float] | None = None) -> np.ndarray:
    """(H, W) ``uint8`` mask, 1 = ink, of an (H, W) ``uint8`` grey page with dark ink.

    ``levels`` are the page's :func:`paper_and_ink_levels`, when the caller has them already.
    """
    check_mask(grey, "grey")
    paper, dark = levels or paper_and_ink_levels(grey)
    if paper - dark < MIN_CONTRAST:  # a blank or nearly uniform page: nothing is ink
        return np.zeros_like(grey)
    threshold = dark + 0.7 * (paper - dark)
    return cv2.LUT(grey, (GREY_LEVELS < threshold).astype(np.uint8))


def paper_and_ink_levels(grey: np.ndarray) -> tuple[float, float]:
    """(paper, darkest ink) grey levels: the 90th and 0.5th percentiles of a ~250k px sample.

    On a sparse drawing (under 0.5 % ink, say a thin-walled map) the 0.5th
    percentile is still paper, so the ink level is then read among the pixels
    clearly darker than the paper, if there are any.
    """
    step = max(1, int(np.ceil(np.sqrt(grey.size / SAMPLE_PIXELS))))
    sample = grey[::step, ::step]
    paper, dark = _percentiles(sample, [90, 0.5])
    if paper - dark < MIN_CONTRAST:
        darker = sample[sample < paper - MIN_CONTRAST]
        if darker.size * SPARSE_INK >= sample.size:
            dark = np.percentile(darker, 0.5)
    return float(paper), float(dark)


def _percentiles(sample: np.ndarray, percents: list[float]) -> np.ndarray:
    """``np.percentile(sample, percents)`` of ``uint8`` values, read from their histogram.

    Each percentile lies between two neighbours in sorted order; when they are equal (nearly
    always, with a quarter million pixels in 256 levels) it is their value, whichever way it
    is interpolated, and numpy's partial sort is not needed.
    """
    counts = cv2.calcHist([sample], [0], None, [256], [0, 256]).ravel()
    ranks = np.cumsum(counts, dtype=np.int64)
    at = (sample.size - 1) * (np.asarray(percents) / 100)  # where numpy's linear method reads
    below = np.floor(at).astype(np.int64)
    values = np.searchsorted(ranks, below, side="right")
    if np.array_equal(
        values, np.searchsorted(ranks, np.minimum(below + 1, sample.size - 1), side="right")
    ):
        return values.astype(np.float64)
    return np.asarray(np.percentile(sample, percents))


def unknown_mask(
    grey: np.ndarray, size: int, levels: tuple[float, float] | None = None
) -> np.ndarray:
    """(H, W) ``uint8`` mask, 1 = flat mid-grey area at least ``size`` px across.

    Building maps paint unexplored space grey: it is neither ink (walls) nor
    paper (floor). Mid-grey pixels count only where a ``size`` square of them
    fits, so anti-aliased line edges and hatching stay out. ``levels`` as for
    :func:`ink_mask`.
    """
    check_mask(grey, "grey")
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    paper, dark = levels or paper_and_ink_levels(grey)
    if paper - dark < MIN_CONTRAST:
        return np.zeros_like(grey)
    low, high = dark + 0.3 * (paper - dark), paper - 0.15 * (paper - dark)
    levels_mid = ((GREY_LEVELS > low) & (GREY_LEVELS < high)).astype(np.uint8)
    if not _may_hold_square(grey, levels_mid, size):
        return np.zeros_like(grey)
    mid = cv2.LUT(grey, levels_mid)
    cores = erode_box(mid, size)  # an opening, whose second half some pages can skip
    return dilate_box(cores, size) if cores.any() else cores


def _may_hold_square(grey: np.ndarray, levels: np.ndarray, size: int) -> bool:
    """False when no ``size`` square of the grey ``levels`` (a look-up table to 0/1) fits on
    the page, the page's edge reading as such grey (as the erosion reads it); True when one
    may, read on a few rows and columns only.

    Such a square crosses one of every size-th row or, at the page's foot, the last row, on a
    run at least as long as the square is wide about its middle column; and one of every
    size-th column (or the last) likewise. So near a crossing of such a row and column
    (within half a square each way) a run is centred along the row and one down the column:
    most pages have none (a grey line or a strip of anti-aliased edge runs one way only).
    """
    height, width = grey.shape
    rows = np.r_[0:height:size, height - 1]
    cols = np.r_[0:width:size, width - 1]
    along = erode_line(cv2.LUT(grey[rows], levels), size, axis=1)
    if not along.any():
        return False
    down = erode_line(cv2.LUT(grey[:, cols], levels), size, axis=0)
    # a middle column or row within half a square (either way) of the crossing
    reach = 2 * (size // 2) + 1
    return bool(
        (dilate_line(along, reach, axis=1)[:, cols] & dilate_line(down, reach, axis=0)[rows]).any()
    )
