"""Region masks -> simplified polygons, rectilinear where the walls are.

The outline is simplified (Douglas-Peucker) with a tolerance of about a wall's
half thickness, then every edge within a few degrees of horizontal or vertical
is snapped to it, so rooms drawn with axis-aligned walls come out as clean
rectilinear polygons while slanted walls keep their angle.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_labels
from locdetect_worker.detector._components import label_boxes, label_runs

SNAP_DEGREES = 8.0


def label_polygons(labels: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """One (N, 2) ``int32`` (x, y) polygon per label 1..max of an (H, W) ``int32`` image.

    A label with no pixels gives an empty (0, 2) array. ``tolerance`` is the
    simplification distance in px.
    """
    check_labels(labels)
    polygons = []
    runs = label_runs(labels)  # read once for the highest label and the boxes
    boxes = label_boxes(labels, int(runs[2].max()) + 1, runs)
    for label in range(1, len(boxes)):
        x0, y0, box_width, box_height = boxes[label]
        if box_width == 0:
            polygons.append(np.zeros((0, 2), np.int32))
            continue
        mask = np.zeros((box_height + 2, box_width + 2), np.uint8)
        mask[1:-1, 1:-1] = labels[y0 : y0 + box_height, x0 : x0 + box_width] == label
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        contour = max(contours, key=cv2.contourArea)
        simple = cv2.approxPolyDP(contour, tolerance, True).reshape(-1, 2).astype(np.float64)
        points = snap_rectilinear(simple) + [x0 - 1, y0 - 1]
        polygons.append(np.rint(points).astype(np.int32))
    return polygons


def snap_rectilinear(points: np.ndarray, degrees: float = SNAP_DEGREES) -> np.ndarray:
    """(N, 2) ``float64`` polygon with near-axis edges made exactly horizontal or vertical."""
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be (N, 2), got {points.shape}")
    n = len(points)
    if n < 3:
        return points.copy()
    following = np.roll(points, -1, axis=0)
    delta = following - points
    angle = np.degrees(np.arctan2(np.abs(delta[:, 1]), np.abs(delta[:, 0])))
    horizontal = angle <= degrees
    vertical = angle >= 90 - degrees
    mid = (points + following) / 2
    snapped = points.copy()
    for i in range(n):  # vertex i joins edge i-1 (incoming) and edge i (outgoing)
        for edge in (i - 1, i):
            if horizontal[edge]:
                snapped[i, 1] = mid[edge, 1]
            elif vertical[edge]:
                snapped[i, 0] = mid[edge, 0]
    return snapped
