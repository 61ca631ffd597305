"""Regions -> rooms: drop the outside, slivers and scraps; score the rest.

A room is enclosed: most of its outline runs along walls, it does not reach
the sheet's edge, it is not a thin sliver (a gap inside a double-line wall)
and it fills a fair share of its rotated bounding box. The confidence grows
with how enclosed and how compact a room is.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import label_boxes


def select_rooms(
    regions: np.ndarray, walls: np.ndarray, inside: np.ndarray, min_area: int, min_width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Kept room labels and their confidences.

    ``regions`` (H, W) ``int32`` labels (0 = none), ``walls`` (H, W) ``uint8``,
    ``inside`` (H, W) ``uint8`` building footprint: a room lies mostly inside.
    Returns ((H, W) ``int32`` labels renumbered 1..n, (n,) ``float64`` in 0..1).
    Rooms smaller than ``min_area`` px or thinner than ``min_width`` px go.
    """
    check_mask(walls, "walls")
    check_mask(inside, "inside")
    if regions.shape != walls.shape or regions.dtype != np.int32:
        raise ValueError(
            f"regions must be int32 {walls.shape}, got {regions.dtype} {regions.shape}"
        )
    height, width = regions.shape
    kept = np.zeros(regions.shape, np.int32)
    confidences = []
    pad = 3
    boxes = label_boxes(regions, int(regions.max()) + 1)
    for label in np.flatnonzero(boxes[1:, 2]) + 1:
        x, y, box_width, box_height = boxes[label]
        rows, cols = slice(y, y + box_height), slice(x, x + box_width)
        if rows.start == 0 or cols.start == 0 or rows.stop == height or cols.stop == width:
            continue  # reaches the sheet's edge: the outside
        if rows.stop - rows.start > 0.9 * height and cols.stop - cols.start > 0.9 * width:
            continue  # spans the sheet: the margin inside a frame
        # every test reads a crop around the region, not the whole page
        box = (
            slice(max(0, rows.start - pad), rows.stop + pad),
            slice(max(0, cols.start - pad), cols.stop + pad),
        )
        here = regions[box] == label
        mask = here.view(np.uint8)
        area = cv2.countNonZero(mask)
        if area < min_area or cv2.countNonZero(cv2.bitwise_and(inside[box], mask)) < 0.6 * area:
            continue
        score = _room_score(mask, walls[box], area, min_width)
        if score > 0:
            confidences.append(score)
            kept[box][here] = len(confidences)
    return kept, np.array(confidences, np.float64)


def _room_score(mask: np.ndarray, walls: np.ndarray, area: float, min_width: float) -> float:
    """0 for a non-room, else a 0..1 confidence from enclosure and compactness.

    ``mask`` is the region (0/1 ``uint8``) in a crop padded by a few px, ``walls`` the same crop.
    """
    ring = cv2.subtract(cv2.dilate(mask, np.ones((5, 5), np.uint8)), mask)
    around = cv2.countNonZero(ring)
    enclosed = cv2.countNonZero(cv2.bitwise_and(walls, ring)) / around if around else 0.0
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea)
    (_, _), (w, h), _ = cv2.minAreaRect(contour)
    outline = max(1.0, cv2.contourArea(contour))
    if min(w, h) < min_width or area / max(1.0, w * h) < 0.3 or area / outline < 0.5:
        return 0.0  # a sliver, a scrap, or a ring around other things (a sheet margin)
    if enclosed < 0.35:
        return 0.0
    solidity = area / max(1.0, cv2.contourArea(cv2.convexHull(contour)))
    boxed = area / max(1.0, w * h)  # 1 for a rectangle, whatever its angle
    return float(np.clip(enclosed * (0.2 + 0.4 * solidity + 0.4 * boxed), 0.0, 1.0))
