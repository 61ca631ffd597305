"""Free space -> room seeds, by eroding until rooms come apart at their doors.

Rooms joined by open doors or openings are one free-space component; eroding
it (thresholding its distance transform at growing radii) cuts the narrow
necks first. A component is kept as a seed as soon as it is no larger than a
room can be, so closed rooms are seeded at once and open ones when their
doorway closes, without knowing the door width. Whatever is still too large
when erosion ends (the outside of the building) gives no seed.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask


def room_seeds(free: np.ndarray, min_area: int, max_area: int, radii: list[int]) -> np.ndarray:
    """(H, W) ``int32`` seed labels (0 = none, 1..n) of an (H, W) ``uint8`` free-space mask.

    A seed is a component of the free space eroded by one of ``radii``
    (increasing, px) whose area lies in [``min_area``, ``max_area``] px at the
    radius where it first does; pixels within a seed are not eroded further.
    """
    check_mask(free, "free")
    if min_area < 1 or max_area < min_area or not radii or sorted(radii) != list(radii):
        raise ValueError(f"need 1 <= min_area <= max_area and increasing radii, got "
                         f"{min_area}, {max_area}, {radii}")
    distance = cv2.distanceTransform(free, cv2.DIST_L2, 3)
    seeds = np.zeros(free.shape, np.int32)
    count = 0
    remaining = free.astype(bool)
    for radius in radii:
        core = (remaining & (distance > radius)).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=4)
        areas = stats[:, cv2.CC_STAT_AREA]
        keep = (areas >= min_area) & (areas <= max_area)
        keep[0] = False
        if not keep.any():
            continue
        numbering = np.zeros(n, np.int32)
        numbering[keep] = np.arange(count + 1, count + 1 + int(keep.sum()), dtype=np.int32)
        fresh = numbering[labels]
        seeds = np.where(fresh > 0, fresh, seeds)
        count += int(keep.sum())
        remaining &= fresh == 0
    return seeds
