"""Regions -> rooms: drop the outside, slivers and scraps; score the rest.

A room is enclosed: most of its outline runs along walls, it does not reach
the sheet's edge, it is not a thin sliver (a gap inside a double-line wall)
and it fills a fair share of its rotated bounding box. A space crossed out by
a drawn X (two diagonals from wall to wall, crossing half-way) is a void by
drafting convention (a shaft, a stair or lift well, a space open to the floor
below), not a room. So is a small space with nothing drawn or written in it
(no name, no area, no fixture, no door leaf): a shaft or a duct. A space too
small for a room is one still when a name is written in it. A named space
under two least rooms that is long and shallow is a row of wardrobes along a
wall, named as cupboards are (a closet one walks into is compact), though the
same space with no name is kept. A long, thin strip with no name is not a room
either: the paper between a dimension chain and the outer wall, closed by the
chain's ticks (a corridor is wider, and named). A space walled mostly by lines
apart from the building's walls (a title block's cell, a legend box, a compass,
the margin inside a sheet frame that a turned scan left whole) is part of the
sheet, not a room. The confidence grows with how enclosed and how compact a
room is.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import (
    filled_pieces,
    label_boxes,
    label_runs,
    remapped,
)
from locdetect_worker.detector.footprint import max_pool_half
from locdetect_worker.detector.text import named_labels

# A crossing-out X, as shares of the diagonal of the space's box: the shortest stroke
# (spaces are rarely rectangles, the X spans the main part), the longest break in a
# stroke (labels and dimensions sit on it), how far short of the outline a stroke may stop
X_STROKE, X_BREAK, X_REACH = 0.4, 0.1, 0.1
X_MIDDLE = 0.2  # strokes cross this near their middles (share of their lengths)
X_CENTRE = 0.2  # and this near the space's centre of mass (share of the diagonal)
X_SKEW = 12.0  # degrees: at most this unlike mirror images (a rectangle's diagonals are)
X_OFF_AXIS = 15.0  # degrees: the least a diagonal stroke lies off both axes
# Strokes may cross anywhere along both when ink lies along this share of each: walls that
# part a void under one X leave each part crossed from wall to wall off its strokes' middles,
# and a drawn line (not a chain of fixtures' curves and lettering that the line search links)
# is solid
X_DRAWN = 0.9
# The X test's quick first look, at half size on the space's own ink: how much shorter and
# more broken its strokes may be and how many degrees further from the diagonal, so the look
# misses no X the full test finds
SCREEN_STROKE, SCREEN_BREAK, SCREEN_ANGLE = 0.7, 1.5, 10.0
NAMED = 0.5  # least area of a room with a name of its own, in the smallest room's area
OFF_BUILDING = 0.5  # least share of a room's walls around it that are the building's
PIECE_SHARE = 0.25  # a piece of the walls this share of the largest one's size is the building's
INSIDE = 0.6  # least share of a room inside the building's footprint
EMPTY = 0.003  # most ink, as a share of its area, that a space with nothing in it shows (specks)
# an unnamed space whose box is this many times as long as wide, and narrower than this many
# least room widths, is a strip (a corridor is wider)
STRIP_LENGTH, STRIP_WIDTH = 6.0, 2.0
# a named space smaller than this many smallest rooms, its box this many times as long as wide,
# is built-in furniture (wardrobes as deep as a hanger, along a wall): a closet one walks into
# is compact
WARDROBE_AREA, WARDROBE_LENGTH = 2.0, 3.5


def select_rooms(
    regions: np.ndarray,
    walls: np.ndarray,
    inside: np.ndarray,
    ink: np.ndarray,
    min_area: int,
    min_width: float,
    shaft_area: int,
    lines: np.ndarray | None = None,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Kept room labels and their confidences.

    ``regions`` (H, W) ``int32`` labels (0 = none), ``walls`` (H, W) ``uint8``,
    ``inside`` (H, W) ``uint8`` building footprint: a room lies mostly inside;
    ``ink`` (H, W) ``uint8``, all strokes (an X drawn across a space is thin).
    Returns ((H, W) ``int32`` labels renumbered 1..n, (n,) ``float64`` in 0..1).
    Rooms smaller than ``min_area`` px or thinner than ``min_width`` px go, and so do empty
    spaces smaller than ``shaft_area`` px. Given the page's ``lines`` of text (boxes [x, y,
    width, height]), a space at least ``NAMED`` times ``min_area`` with one in it (a WC's or a
    cupboard's name) stays; a named space smaller than ``WARDROBE_AREA`` times ``min_area``
    and ``WARDROBE_LENGTH`` times as long as wide (wardrobes) goes, and so does an unnamed
    strip narrower than ``STRIP_WIDTH`` times ``min_width`` and ``STRIP_LENGTH`` times as
    long (the paper between a dimension chain and the outer wall, closed by its ticks).
    ``runs`` are the regions' :func:`label_runs`, when the caller has them already.
    """
    check_mask(walls, "walls")
    check_mask(inside, "inside")
    check_mask(ink, "ink")
    if regions.shape != walls.shape or regions.dtype != np.int32:
        raise ValueError(
            f"regions must be int32 {walls.shape}, got {regions.dtype} {regions.shape}"
        )
    height, width = regions.shape
    confidences = []
    pad = 3
    runs = runs if runs is not None else label_runs(regions)
    boxes = label_boxes(regions, int(runs[2].max()) + 1, runs)  # every label starts a run
    numbers = np.zeros(len(boxes), np.int32)  # each kept region's room number, 0 for the rest
    pieces, building = _building_walls(walls)
    named = (
        np.zeros(len(boxes), bool)
        if lines is None
        else named_labels(regions, lines, len(boxes) - 1)
    )
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
        if area < min_area and (area < NAMED * min_area or not named[label]):
            continue  # too small, unless named (a WC, a cupboard)
        if cv2.countNonZero(cv2.bitwise_and(inside[box], mask)) < INSIDE * area:
            continue
        if area < shaft_area and cv2.countNonZero(cv2.bitwise_and(ink[box], mask)) <= EMPTY * area:
            continue  # a shaft or a duct
        across = min(box_width, box_height)
        if (
            across < STRIP_WIDTH * min_width
            and max(box_width, box_height) >= STRIP_LENGTH * across
            and not named[label]
        ):
            continue  # between a dimension chain and the building
        if (
            named[label]
            and area < WARDROBE_AREA * min_area
            and max(box_width, box_height) >= WARDROBE_LENGTH * across
        ):
            continue  # a row of wardrobes along a wall, its name written in
        score = room_score(mask, walls[box], area, min_width)
        if score <= 0 or _off_building(mask, pieces[box], building):
            continue  # not a room, or walled by a title block, a legend, a compass
        if not _crossed_out(mask, ink[box]):
            confidences.append(score)
            numbers[label] = len(confidences)
    # rooms are whole regions: renumbered run by run, not painted room by room
    return remapped(regions, numbers, runs), np.array(confidences, np.float64)


def _building_walls(walls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((H, W) labels of the walls' 8-connected pieces (:func:`filled_pieces`), 0 = none;
    (n,) ``bool``: which labels are the building's).

    The largest piece is, and so is any other inside its box (a closet standing free in a
    room) or at least ``PIECE_SHARE`` of its size (walls broken by a scan), unless its box
    holds the largest's (a sheet frame around it).
    """
    labels, stats = filled_pieces(walls)
    count = len(stats)
    if count < 2:
        return labels, np.zeros(count, bool)
    area = stats[:, cv2.CC_STAT_AREA]
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = x + stats[:, cv2.CC_STAT_WIDTH], y + stats[:, cv2.CC_STAT_HEIGHT]
    main = 1 + int(np.argmax(area[1:]))
    around = (x <= x[main]) & (y <= y[main]) & (right >= right[main]) & (bottom >= bottom[main])
    within = (x >= x[main]) & (y >= y[main]) & (right <= right[main]) & (bottom <= bottom[main])
    chosen = (within | (area >= PIECE_SHARE * area[main])) & ~around
    chosen[0], chosen[main] = False, True
    return labels, chosen


def _off_building(mask: np.ndarray, pieces: np.ndarray, building: np.ndarray) -> bool:
    """Whether most of the walls around a region (0/1 crop) belong to no piece of the building
    (``pieces``: the crop of the walls' piece labels; ``building``: which are the building's).

    A one-px ring reads the length of outline along each piece, whatever its walls' width.
    """
    ring = cv2.subtract(cv2.dilate(mask, np.ones((3, 3), np.uint8)), mask)
    around = pieces[(ring != 0) & (pieces != 0)]
    return bool(np.count_nonzero(building[around]) < OFF_BUILDING * len(around))


def room_score(mask: np.ndarray, walls: np.ndarray, area: float, min_width: float) -> float:
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


def _crossed_out(mask: np.ndarray, ink: np.ndarray) -> bool:
    """Whether two diagonal strokes cross the space (``mask``, 0/1 ``uint8`` crop; ``ink`` the
    same crop) as an X: mirror-image slopes, crossing near both middles (or anywhere along both
    solid strokes: a part of a larger void), each from wall to wall.
    """
    _, _, box_width, box_height = cv2.boundingRect(mask)
    diagonal = float(np.hypot(box_width, box_height))
    if not _diagonals_both_ways(mask, ink, diagonal):
        return False
    strokes = cv2.bitwise_and(ink, cv2.dilate(mask, np.ones((5, 5), np.uint8)))
    found = cv2.HoughLinesP(
        strokes,
        1,
        np.pi / 180,
        threshold=int(X_STROKE * diagonal / 2),
        minLineLength=X_STROKE * diagonal,
        maxLineGap=max(3, int(X_BREAK * diagonal)),
    )
    if found is None:
        return False
    rising: list[tuple[np.ndarray, np.ndarray, float]] = []
    falling: list[tuple[np.ndarray, np.ndarray, float]] = []
    for segment in found.reshape(-1, 4).astype(np.float64):
        start, end = segment[:2], segment[2:]
        angle = np.degrees(np.arctan2(end[1] - start[1], end[0] - start[0])) % 180
        if X_OFF_AXIS < angle % 90 < 90 - X_OFF_AXIS:
            if _ends_at_walls(mask, start, end, X_REACH * diagonal):
                (rising if angle < 90 else falling).append((start, end - start, angle))
    if not rising or not falling:
        return False  # most spaces: no need for their centre
    moments = cv2.moments(mask, binaryImage=True)
    centre = np.array([moments["m10"], moments["m01"]]) / moments["m00"]
    near = cv2.dilate(ink, np.ones((3, 3), np.uint8))  # a slanted line's steps
    for start, along, angle in rising:
        for other, other_along, other_angle in falling:
            if abs(angle - (180 - other_angle)) > X_SKEW:
                continue
            cross = along[0] * other_along[1] - along[1] * other_along[0]
            between = other - start
            at = (between[0] * other_along[1] - between[1] * other_along[0]) / cross
            other_at = (between[0] * along[1] - between[1] * along[0]) / cross
            off_centre = float(np.hypot(*(start + at * along - centre)))
            if off_centre >= X_CENTRE * diagonal:
                continue  # a cupboard's X at one side
            if abs(at - 0.5) < X_MIDDLE and abs(other_at - 0.5) < X_MIDDLE:
                return True
            if 0 < at < 1 and 0 < other_at < 1:
                if _drawn(near, start, along) and _drawn(near, other, other_along):
                    return True
    return False


def _diagonals_both_ways(mask: np.ndarray, ink: np.ndarray, diagonal: float) -> bool:
    """Whether long strokes rise and fall through the space at half size: a quick look that
    spares most spaces (no X) the full test, which reads every stroke at full size, walls'
    edges included, at several times the cost."""
    half = max_pool_half(cv2.bitwise_and(ink, mask))
    length = SCREEN_STROKE * X_STROKE * diagonal / 2
    found = cv2.HoughLinesP(
        half,
        1,
        np.pi / 180,
        threshold=int(length / 2),
        minLineLength=length,
        maxLineGap=max(3, int(SCREEN_BREAK * X_BREAK * diagonal / 2)),
    )
    if found is None:
        return False
    start_x, start_y, end_x, end_y = found.reshape(-1, 4).astype(np.float64).T
    angle = np.degrees(np.arctan2(end_y - start_y, end_x - start_x)) % 180
    off = np.abs(angle - 90)  # 0 upright, 90 flat
    slanted = (off > X_OFF_AXIS - SCREEN_ANGLE) & (off < 90 - X_OFF_AXIS + SCREEN_ANGLE)
    return bool((slanted & (angle < 90)).any() and (slanted & (angle > 90)).any())


def _drawn(near: np.ndarray, start: np.ndarray, along: np.ndarray) -> bool:
    """Whether ink (``near``: the ink grown a px) lies along ``X_DRAWN`` of the stroke from
    ``start`` on by ``along``."""
    count = int(np.hypot(*along)) + 1
    x, y = np.rint(start + np.linspace(0.0, 1.0, count)[:, None] * along).astype(np.int64).T
    return bool(np.count_nonzero(near[y, x]) >= X_DRAWN * count)


def _ends_at_walls(mask: np.ndarray, start: np.ndarray, end: np.ndarray, reach: float) -> bool:
    """Whether the stroke start..end, carried on ``reach`` px past each end, leaves the space."""
    height, width = mask.shape
    unit = (end - start) / max(1e-9, float(np.hypot(*(end - start))))
    steps = np.arange(int(reach) + 1)[:, None] * unit
    for points in (start - steps, end + steps):
        x, y = np.rint(points).astype(np.int64).T
        outside = (x < 0) | (y < 0) | (x >= width) | (y >= height)
        if not outside.any() and mask[y, x].all():
            return False
    return True
