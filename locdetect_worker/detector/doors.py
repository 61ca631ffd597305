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
from locdetect_worker.detector._lines import close_line, dilate_line, erode_line


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
    for axis, run in ((1, (1, min_run)), (0, (min_run, 1))):
        pieces = cv2.morphologyEx(walls, cv2.MORPH_OPEN, np.ones(run, np.uint8))
        cv2.bitwise_or(closed, pieces, closed)  # OpenCV opens an even run a px aside
        # the flank runs (opened) grown by 2 * gap + 1: one dilation by both lengths (the
        # odd one keeps the anchors adding up)
        near = dilate_line(erode_line(walls, min_flank, axis), min_flank + 2 * gap, axis)
        cv2.bitwise_or(closed, cv2.bitwise_and(close_line(pieces, gap + 1, axis), near), closed)
    return closed
