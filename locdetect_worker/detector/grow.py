"""Seeds -> regions: give each free pixel to the nearest seed it can reach.

Seeds are room cores cut just below the doorway level, so most free pixels
left between them are nearest to their own room's core. A pixel whose
nearest core lies behind a wall would join a piece not connected to that
core: such pieces are given up and offered again, in a few rounds, to the
nearest of the regions grown so far, which is then the room they open into.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from locdetect_worker.detector._checks import check_mask

ROUNDS = 4


def grow_seeds(seeds: np.ndarray, free: np.ndarray) -> np.ndarray:
    """(H, W) ``int32`` region labels: each free pixel of ``free`` gets a reachable seed's label.

    ``seeds`` is (H, W) ``int32`` (0 = unseeded), ``free`` (H, W) ``uint8``
    (1 = free). Free pixels that reach no seed stay 0, walls are 0.
    """
    check_mask(free, "free")
    if seeds.shape != free.shape or seeds.dtype != np.int32:
        raise ValueError(f"seeds must be int32 {free.shape}, got {seeds.dtype} {seeds.shape}")
    regions = np.where(free > 0, seeds, 0).astype(np.int32)
    for _ in range(ROUNDS):
        open_ = (free > 0) & (regions == 0)
        if not regions.any() or not open_.any():
            break
        _, nearest = cv2.distanceTransformWithLabels(
            (regions == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        lookup = np.zeros(int(nearest.max()) + 1, np.int32)
        lookup[nearest[regions > 0]] = regions[regions > 0]
        offered = np.where(open_, lookup[nearest], regions).astype(np.int32)
        regions = _keep_connected(offered, regions)
    return regions


def _keep_connected(offered: np.ndarray, held: np.ndarray) -> np.ndarray:
    """``offered`` with every piece of a label that touches none of its ``held`` pixels cleared."""
    for label, found in enumerate(ndimage.find_objects(offered), start=1):
        if found is None:
            continue
        count, pieces = cv2.connectedComponents((offered[found] == label).astype(np.uint8), 4)
        if count <= 2:
            continue
        anchored = np.zeros(count, bool)
        anchored[np.unique(pieces[held[found] == label])] = True
        anchored[0] = True
        offered[found][~anchored[pieces]] = 0
    return offered
