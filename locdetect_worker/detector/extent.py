"""How big the building is on the sheet, so lengths can follow the drawing, not the paper.

A small house on a large sheet has small rooms and narrow doors in page
terms. The building's outer walls are usually one connected piece, the
largest of the wall mask, so its bounding box gives the drawing's size;
it is clamped to a share of the page so a stray fragment cannot shrink it.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask

MIN_SHARE = 0.3


def building_extent(walls: np.ndarray) -> int:
    """Long side in px of the largest wall component of an (H, W) ``uint8`` wall mask.

    At least ``MIN_SHARE`` of the page's long side (the whole side when there are no walls).
    """
    check_mask(walls, "walls")
    side = max(walls.shape)
    count, _, stats, _ = cv2.connectedComponentsWithStats(walls, connectivity=8)
    if count < 2:
        return side
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    extent = int(max(stats[largest, cv2.CC_STAT_WIDTH], stats[largest, cv2.CC_STAT_HEIGHT]))
    return max(extent, int(np.ceil(MIN_SHARE * side)))
