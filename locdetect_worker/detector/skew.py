"""How far a scan is turned from upright, from the projection profiles of its ink.

Walls run in two perpendicular directions. When the page is upright, the ink
piles up in a few rows and columns, so the row and column sums of the ink are
most uneven (largest variance); turning it away spreads them out. The angle is
found coarse to fine on a small copy of the ink, within +-``MAX_DEGREES``; the
coarsest steps on a half-size copy of that.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from locdetect_worker.detector._area import area_shrink
from locdetect_worker.detector._checks import check_mask

MAX_DEGREES = 10.0
PROFILE_SIDE = 400


def skew_angle(ink: np.ndarray) -> float:
    """Degrees (counter-clockwise, OpenCV's sense) to turn an (H, W) ``uint8`` ink mask upright."""
    check_mask(ink, "ink")
    scale = min(1.0, PROFILE_SIDE / max(ink.shape))
    small = area_shrink(ink, None, scale, means=True)
    if small.sum() < 20:
        return 0.0
    sharpness = functools.cache(functools.partial(_sharpness, small))  # angles recur
    # the 2-degree steps are told apart on a half-size copy, at a quarter of the cost
    half = (
        cv2.resize(small, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        if min(small.shape) >= 2
        else small
    )
    coarse = functools.partial(_sharpness, half)
    best = _best(coarse, np.arange(-MAX_DEGREES, MAX_DEGREES + 0.01, 2.0))
    best = _climb(sharpness, best + np.arange(-1.5, 1.51, 0.5))
    best = _climb(sharpness, best + np.arange(-0.4, 0.41, 0.1))
    upright = sharpness(0.0)
    # keep the page as it is unless turning it clearly sharpens its profiles
    return float(best) if sharpness(best) > 1.05 * upright else 0.0


def _best(sharpness: Callable[[float], float], angles: np.ndarray) -> float:
    scores = [sharpness(float(a)) for a in angles]
    return float(angles[int(np.argmax(scores))])


def _climb(sharpness: Callable[[float], float], angles: np.ndarray) -> float:
    """The sharpest of a row of ``angles`` about its middle one, climbing from the middle
    while the profiles sharpen: near the top the sharpness rises to one peak, so the turns
    past a fall (about half of the row) need not be made."""
    middle = len(angles) // 2
    best, top = middle, sharpness(float(angles[middle]))
    for way, stop in ((-1, -1), (1, len(angles))):
        for index in range(middle + way, stop, way):
            score = sharpness(float(angles[index]))
            if score < top or (score == top and way > 0):  # the first of equals, as argmax
                break
            best, top = index, score
        if best != middle:
            break
    return float(angles[best])


def _sharpness(small: np.ndarray, degrees: float) -> float:
    height, width = small.shape
    turned = small  # turned by 0 degrees, each pixel weighs its own 1 and its neighbours' 0
    if degrees:
        turn = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), degrees, 1.0)
        turned = cv2.warpAffine(small, turn, (width, height), flags=cv2.INTER_LINEAR)
    return float(turned.sum(axis=1).var() + turned.sum(axis=0).var())
