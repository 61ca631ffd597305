"""Shrink a page to the working resolution without losing its thinnest lines.

Plain area averaging turns a one-pixel line on a large sheet into a faint
grey smear that no threshold keeps. Taking the darkest pixel of each block
first (a grey erosion as wide as the shrink factor) keeps every line at
least one working pixel wide and mostly dark.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask


def shrink_keeping_lines(grey: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """(grey at most ``max_side`` px on its long side, scale factor <= 1).

    ``grey`` is (H, W) ``uint8`` with dark ink; returned unchanged (scale 1)
    when it is already small enough.
    """
    check_mask(grey, "grey")
    if max_side < 16:
        raise ValueError(f"max_side must be >= 16, got {max_side}")
    scale = min(1.0, max_side / max(grey.shape))
    if scale == 1.0:
        return grey, 1.0
    block = int(np.floor(1.0 / scale))
    darkest = cv2.erode(grey, np.ones((block, block), np.uint8)) if block >= 2 else grey
    height, width = grey.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(darkest, size, interpolation=cv2.INTER_AREA), scale
