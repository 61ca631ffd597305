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


def grow_seeds(seeds: np.ndarray, free: np.ndarray) -> np.ndarray:
    """(H, W) ``int32`` region labels: each free pixel gets the label of its nearest seed.

    ``seeds`` is (H, W) ``int32`` (0 = unseeded), ``free`` (H, W) ``uint8``
    (1 = free). Free pixels that reach no seed, walls and the one-pixel lines
    where two floods meet are 0.
    """
    check_mask(free, "free")
    if seeds.shape != free.shape or seeds.dtype != np.int32:
        raise ValueError(f"seeds must be int32 {free.shape}, got {seeds.dtype} {seeds.shape}")
    count, parts = cv2.connectedComponents(free, connectivity=4)
    seeded = np.zeros(count, bool)
    seeded[parts[(seeds > 0) & (free > 0)]] = True
    void = int(seeds.max()) + 1
    markers = np.where((free > 0) & ~seeded[parts], void, np.where(free > 0, seeds, 0))
    markers = cv2.copyMakeBorder(markers.astype(np.int32), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    relief = cv2.copyMakeBorder((1 - free) * 255, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=255)
    cv2.watershed(cv2.merge([relief, relief, relief]), markers)
    regions = markers[1:-1, 1:-1]
    regions[(regions == void) | (regions < 0) | (free == 0)] = 0
    return np.ascontiguousarray(regions)
