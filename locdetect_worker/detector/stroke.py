"""Stroke widths of ink: how thick the thin lines are, so walls can be told from them.

The distance transform of the ink, read on its ridge (local maxima), is half
the local stroke width. Thin clutter (furniture, arcs, dimensions, hatching)
dominates most drawings, so the commonest ridge width is the "thin line"
width; walls are what survives an opening a little wider than that. In a
drawing whose walls are single lines a pen or two heavier than the clutter,
the walls' many long lines can outnumber it: the clutter is then measured
off the long straight lines.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._lines import open_line


def stroke_width_histogram(ink: np.ndarray, max_width: int = 64) -> np.ndarray:
    """(max_width + 1,) ``int64`` counts of ridge pixels by stroke width (px) of an ink mask.

    ``ink`` is (H, W) ``uint8``, 1 = ink. Index w counts ridge pixels whose
    stroke is about w pixels wide (twice the distance to the paper, rounded).
    """
    check_mask(ink, "ink")
    distance = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    # 255 where no neighbour is farther from the paper, then 1 where that is on ink (positive
    # distance): OpenCV's compare and AND keep fewer page-sized temporaries than numpy's
    ridge = cv2.compare(distance, cv2.dilate(distance, np.ones((3, 3), np.uint8)), cv2.CMP_GE)
    ridge = cv2.bitwise_and(ridge, (ink != 0).view(np.uint8))
    widths = np.clip(np.rint(2 * distance[ridge.view(bool)] - 1), 1, max_width).astype(np.int64)
    return np.bincount(widths, minlength=max_width + 1)


def thin_line_width(histogram: np.ndarray) -> int:
    """The commonest stroke width in a :func:`stroke_width_histogram` (at least 1)."""
    if histogram.ndim != 1 or histogram.size < 2:
        raise ValueError(f"expected a 1-D histogram of >= 2 bins, got shape {histogram.shape}")
    if histogram[1:].sum() == 0:
        return 1
    return int(np.argmax(histogram[1:]) + 1)


def clutter_line_width(ink: np.ndarray, length: int) -> int:
    """The commonest stroke width (at least 1) of an (H, W) ``uint8`` ink mask off its straight
    horizontal and vertical lines of at least ``length`` px: that of the furniture, arcs and
    lettering, whatever the walls' lines add."""
    check_mask(ink, "ink")
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    # a line that steps by a pixel (a turned scan) stays one run, and its ragged edges go with it
    grown = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    lines = open_line(grown, length, axis=1) | open_line(grown, length, axis=0)
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    return thin_line_width(stroke_width_histogram(cv2.bitwise_and(ink, 1 - lines)))
