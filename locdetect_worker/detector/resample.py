"""Shrink a page to the working resolution without losing its thinnest lines.

Plain area averaging turns a one-pixel line on a large sheet into a faint
grey smear that no threshold keeps. Taking the darkest pixel of each block
first (a grey erosion as wide as the shrink factor) keeps every line at
least one working pixel wide and mostly dark, but only when the factor is
whole: shrunk by 2.9, a line can fall across two blocks and keep a third
of its darkness in each. So each working pixel is the mean of that and of
the darkest pixel of its own block, which keeps every line at least half
as dark as drawn, while texture and lines' widths stay as the erosion
gives them.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._area import area_shrink
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
    height, width = grey.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    darkest = cv2.transpose(_block_minima(cv2.transpose(_block_minima(grey, size[1])), size[0]))
    block = int(np.floor(1.0 / scale))
    eroded = cv2.erode(grey, np.ones((block, block), np.uint8)) if block >= 2 else grey
    area = area_shrink(eroded, size)
    return cv2.addWeighted(darkest, 0.5, area, 0.5, 0), scale


def _block_minima(grey: np.ndarray, count: int) -> np.ndarray:
    """(count, W): the darkest px down each column of each of ``count`` even blocks of rows.

    The blocks start at floor(i * H / count), so they are ``n`` or ``n + 1`` rows long: one
    erosion anchored at a block's first row reads ``n`` of them, and the block's last row
    completes the longer ones (in the shorter ones it is one of those ``n``).
    """
    height = grey.shape[0]
    starts = np.floor(np.arange(count + 1) * height / count).astype(np.int64)
    starts[-1] = height
    shortest = int(np.diff(starts).min())
    run = cv2.erode(grey, np.ones((shortest, 1), np.uint8), anchor=(0, 0)) if shortest > 1 else grey
    return cv2.min(np.take(run, starts[:-1], axis=0), np.take(grey, starts[1:] - 1, axis=0))
