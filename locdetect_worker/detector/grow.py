"""Seeds -> regions: flood the free space from the seeds, one step at a time.

OpenCV's watershed floods by the colour difference between neighbours. On a
picture that is black in free space and white on walls, every step inside
free space costs nothing, so each free pixel goes to the seed that reaches it
first through free space (a geodesic nearest seed), and walls are crossed
last. Free components without a seed are marked as void first, so no room
spills into them across a wall.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import run_starts


def grow_seeds(seeds: np.ndarray, free: np.ndarray) -> np.ndarray:
    """(H, W) ``int32`` region labels: each free pixel gets the label of its nearest seed.

    ``seeds`` is (H, W) ``int32`` (0 = unseeded), ``free`` (H, W) ``uint8``
    exactly 0/1 (1 = free: labels are multiplied by it). Free pixels that reach
    no seed, walls and the one-pixel lines where two floods meet are 0.
    """
    check_mask(free, "free")
    if seeds.shape != free.shape or seeds.dtype != np.int32:
        raise ValueError(f"seeds must be int32 {free.shape}, got {seeds.dtype} {seeds.shape}")
    # Everything is built one pixel larger than the page: watershed needs a labelled border.
    # Temporaries are let go before the flood: a lower peak saves fresh pages (page faults).
    padded = cv2.copyMakeBorder(free, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    inner = (slice(1, -1), slice(1, -1))
    markers = cv2.copyMakeBorder(seeds, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    markers[inner] *= free  # in place: a page-sized temporary costs more than the product
    void = int(seeds.max()) + 1
    markers[_reached(padded, markers) == 1] = void
    walls_white = cv2.threshold(padded, 0, 255, cv2.THRESH_BINARY_INV)[1]
    relief = cv2.cvtColor(walls_white, cv2.COLOR_GRAY2BGR)
    del padded, walls_white
    cv2.watershed(relief, markers)
    del relief
    regions = np.ascontiguousarray(markers[inner])
    del markers
    # rooms only: not the void, the lines where floods meet (-1) or walls
    np.multiply(regions, cv2.bitwise_and(cv2.inRange(regions, 1, void - 1), free), out=regions)
    return regions


def _reached(padded: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """(H + 2, W + 2) ``uint8``: 2 on the free space (``padded`` != 0) that the seeds
    (``markers`` > 0) reach, 1 on the rest of it (void), 0 on walls.

    Flood fills: a run of seed pixels along a row lies in one space, and a seed mostly in one,
    so fill from one run of each seed, then from any run still left.
    """
    reached = (padded != 0).view(np.uint8)
    filled = np.zeros((reached.shape[0] + 2, reached.shape[1] + 2), np.uint8)  # floodFill's own
    width = reached.shape[1]
    pending = run_starts(markers > 0)  # padded pixels
    _, one_each = np.unique(markers.ravel()[pending], return_index=True)
    for start in pending[one_each]:
        if reached.ravel()[start] == 1:
            row, col = divmod(int(start), width)
            cv2.floodFill(reached, filled, (col, row), 2, flags=4)
    pending = pending[reached.ravel()[pending] == 1]
    while pending.size:
        row, col = divmod(int(pending[0]), width)
        cv2.floodFill(reached, filled, (col, row), 2, flags=4)
        pending = pending[reached.ravel()[pending] == 1]
    return reached
