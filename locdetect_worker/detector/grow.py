"""Seeds -> regions: flood the free space from the seeds, meeting at the narrowest places.

A watershed on the inverted distance transform of the free space: flooding
starts at room centres and two floods meet where the free space is narrowest,
which is the doorway between two rooms.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask


def grow_seeds(seeds: np.ndarray, free: np.ndarray) -> np.ndarray:
    """(H, W) ``int32`` region labels: each free pixel of ``free`` gets its seed's label.

    ``seeds`` is (H, W) ``int32`` (0 = unseeded), ``free`` (H, W) ``uint8``
    (1 = free). Free pixels no seed reaches through free space stay 0, walls are 0.
    """
    check_mask(free, "free")
    if seeds.shape != free.shape or seeds.dtype != np.int32:
        raise ValueError(f"seeds must be int32 {free.shape}, got {seeds.dtype} {seeds.shape}")
    distance = cv2.distanceTransform(free, cv2.DIST_L2, 3)
    relief = 255 - np.clip(distance * (254.0 / max(1.0, float(distance.max()))), 0, 254)
    relief = relief.astype(np.uint8)
    relief[free == 0] = 255
    # Free components without a seed are flooded by a throw-away label, so no room
    # leaks into them across a wall (walls are flooded last, at the top level).
    count, parts = cv2.connectedComponents(free, connectivity=8)
    seeded = np.zeros(count, bool)
    seeded[np.unique(parts[seeds > 0])] = True
    void = int(seeds.max()) + 1
    markers = np.where((seeds == 0) & ~seeded[parts] & (free > 0), void, seeds).astype(np.int32)
    cv2.watershed(cv2.merge([relief, relief, relief]), markers)
    markers[(markers == void) | (markers < 0) | (free == 0)] = 0
    return markers
