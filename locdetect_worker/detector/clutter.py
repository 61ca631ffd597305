"""Small rooms crowded with fixtures and lettering: pieces of floor that join into a room.

A bathroom's fixtures, a kitchen's counters, and a name or a table of figures written small
come out of the wall step as walls when they are drawn heavily, and they cut a small room's
floor into pieces each too small for a room, so that none is kept. Pieces that lie within
a small letter's height of one another, and that no room took, are one room with the ink
between them when together they are room-sized and enclosed, the ink covers little of the
joined floor, one piece is its main floor, and it is no strip: a row of closets, a stair's
treads or a shaft beside a room lie in a narrow strip, are parted by walls that fill more of
it, or are many like pieces (so are the four triangles of a shaft's X drawn heavily).
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._components import (
    label_areas,
    label_boxes,
    label_runs,
    unclaimed_box,
)
from locdetect_worker.detector.select import INSIDE, STRIP_WIDTH, room_score

# least share of a joined room's pieces that its largest holds: fixtures cut pieces off a main
# floor, where a stair's treads cut it into many like pieces
MAIN = 1 / 3
CLUTTER = 0.15  # most share of a joined room's floor that its clutter (walls) covers


def clutter_rooms(
    rooms: np.ndarray,
    regions: np.ndarray,
    walls: np.ndarray,
    inside: np.ndarray,
    count: int,
    reach: int,
    min_area: int,
    min_width: float,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(room labels with the joined rooms added after the others (``rooms`` itself when none
    joins), (m,) ``float64`` scores of the m joined rooms).

    ``rooms`` (H, W) ``int32`` kept room labels, numbered up to ``count`` (some may have no
    pixels left); ``regions`` (H, W) ``int32`` the free-space regions they were chosen from;
    ``walls`` and ``inside`` (the building's footprint) (H, W) ``uint8``. Regions
    smaller than ``min_area`` px that no room holds join across ``reach`` px; a joined room
    holds at least ``min_area`` px of them, ``MAIN`` of them in one, and is at least
    ``STRIP_WIDTH`` times ``min_width`` px across. ``runs``: the regions' :func:`label_runs`,
    when already read.
    """
    starts, stops, found = runs if runs is not None else label_runs(regions)
    area = np.bincount(found, stops - starts)
    small = area < min_area
    small[0] = False  # walls
    if area[small].sum() < min_area:  # too little floor in pieces, taken or not: no page read
        return rooms, np.zeros(0, np.float64)
    # the pieces are read in the box round them, out to the closing's margin, not over the page
    cropped = unclaimed_box(rooms, (starts, stops, found), small, margin=reach + 1)
    if cropped is None or cv2.countNonZero(cropped[0]) < min_area:
        return rooms, np.zeros(0, np.float64)
    pieces, box = cropped
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach | 1, reach | 1))
    free = (rooms[box] == 0).view(np.uint8)
    joined = cv2.morphologyEx(pieces, cv2.MORPH_CLOSE, disc) & free
    total, groups = cv2.connectedComponents(joined, connectivity=4)
    # boxes and areas read from the groups' runs: OpenCV's statistics of 4-connected pieces
    # cost several times their labelling
    group_runs = label_runs(groups)
    boxes = label_boxes(groups, total, group_runs)
    stats = np.column_stack([boxes, label_areas(groups, total, group_runs)])
    own = np.bincount(groups[pieces != 0], minlength=total)
    out = rooms  # copied for the first joined room: most pages join none
    scores: list[float] = []
    page_height, page_width = rooms.shape
    top, left = box[0].start, box[1].start
    for group in np.flatnonzero(own >= min_area):
        gx, gy, group_width, group_height, area = stats[group]
        if min(group_width, group_height) < STRIP_WIDTH * min_width:
            continue
        right, bottom = left + gx + group_width, top + gy + group_height
        if left + gx == 0 or top + gy == 0 or right == page_width or bottom == page_height:
            continue  # reaches the sheet's edge: the outside
        # the group padded by a few px, in the box and on the page
        near = (
            slice(max(0, gy - 3), gy + group_height + 3),
            slice(max(0, gx - 3), gx + group_width + 3),
        )
        here = (
            slice(top + near[0].start, top + near[0].stop),
            slice(left + near[1].start, left + near[1].stop),
        )
        mask = (groups[near] == group).view(np.uint8)
        held = np.bincount(regions[here][(mask & pieces[near]) != 0])
        if held.max() < MAIN * own[group]:
            continue
        if cv2.countNonZero(mask & walls[here]) > CLUTTER * area:
            continue
        if cv2.countNonZero(mask & inside[here]) < INSIDE * area:
            continue
        score = room_score(mask, walls[here], float(area), min_width)
        if score > 0:
            if out is rooms:
                out = rooms.copy()
            scores.append(score)
            out[here][mask != 0] = count + len(scores)
    return out, np.array(scores, np.float64)
