"""Close door gaps and narrow openings along walls, without bridging across rooms.

A door is a gap in a straight wall run. Closing only the horizontal wall
pieces horizontally (and the vertical ones vertically) bridges such gaps up
to ``gap`` px, while two parallel walls facing each other across a corridor
are never joined, because a vertical wall has no horizontal extent to close.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._lines import dilate_packed, erode_packed, packed, unpacked


def close_door_gaps(walls: np.ndarray, gap: int, min_run: int, min_flank: int) -> np.ndarray:
    """(H, W) ``uint8`` walls with collinear gaps of up to ``gap`` px bridged.

    ``walls`` is (H, W) ``uint8`` (1 = wall); only straight wall runs at least
    ``min_run`` px long take part, so text and stubs do not sprout bridges, and
    a bridge must lie within ``gap`` px of a run at least ``min_flank`` px long
    in its line: a door sits in a wall, while short strokes in line (lettering,
    a fixture's outline, the thickness of a wall across) lie inside a room.
    """
    check_mask(walls, "walls")
    if gap < 1 or min_run < 1 or min_flank < min_run:
        raise ValueError(
            f"need gap, min_run >= 1 and min_flank >= min_run, got {gap}, {min_run}, {min_flank}"
        )
    closed = walls.copy()
    for axis in (1, 0):
        lines = packed(walls, axis)  # lines stay packed until the bridges are known
        # opened (OpenCV opens an even run a px aside, so the pieces join the walls)
        pieces = dilate_packed(erode_packed(lines, min_run), min_run)
        # the flank runs (opened) grown by 2 * gap + 1: one dilation by both lengths (the
        # odd one keeps the anchors adding up)
        near = dilate_packed(erode_packed(lines, min_flank), min_flank + 2 * gap)
        bridged = erode_packed(dilate_packed(pieces, gap + 1), gap + 1)  # closed
        added = cv2.bitwise_or(pieces, cv2.bitwise_and(bridged, near))
        cv2.bitwise_or(closed, unpacked(added, axis, walls), closed)
    return closed
