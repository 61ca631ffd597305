"""Rasterising a layout: the exact room labels, the wall mask, doors and windows.

The labels are derived from the same masks that are inked, so the ground
truth is exact by construction: a room is its pieces minus every wall pixel,
and door and window openings (cut out of the walls) belong to no room.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from locdetect_worker.synthetic.geometry import OUTSIDE, Box, Layout, Opening, Segment


@dataclass(frozen=True)
class Walls:
    labels: np.ndarray  # uint16 (H, W): room interiors
    mask: np.ndarray  # bool (H, W): wall material left after cutting openings
    blocked: list[Box]  # door swing and approach areas that furniture must keep clear


def rasterise(layout: Layout, shape: tuple[int, int], outer_px: int, inner_px: int) -> Walls:
    """Labels and wall mask of ``layout`` on a sheet of ``shape`` (H, W)."""
    height, width = shape
    rooms = np.zeros(shape, np.uint16)
    for k, room in enumerate(layout.rooms, start=1):
        for b in room.pieces:
            rooms[b.y0 : b.y1, b.x0 : b.x1] = k
    wall = np.zeros(shape, bool)
    # outer walls: the footprint minus its erosion, computed on the building's box only
    x0 = min(b.x0 for b in layout.footprint) - 2
    y0 = min(b.y0 for b in layout.footprint) - 2
    x1 = max(b.x1 for b in layout.footprint) + 2
    y1 = max(b.y1 for b in layout.footprint) + 2
    inside = (rooms[y0:y1, x0:x1] > 0).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * outer_px + 1, 2 * outer_px + 1))
    wall[y0:y1, x0:x1] = (inside > 0) & (cv2.erode(inside, kernel) == 0)
    for s in layout.segments:
        if not s.outer:  # ends reach into the crossing walls, which are at least inner_px thick
            near, far = _band(s)
            reach = min(s.thickness, inner_px)
            _fill(wall, s.vertical, near, far, s.lo - reach // 2, s.hi + reach - reach // 2)
    wall &= rooms > 0  # inner walls end at the outside face of the outer wall
    labels = np.where(wall, np.uint16(0), rooms)
    blocked = []
    for door in layout.doors:
        near, far = _band(door.segment)
        _fill(wall, door.segment.vertical, near, far, door.lo, door.hi, value=False)
        blocked.extend(_door_zones(door))
    for window in layout.windows:
        near, far = _band(window.segment)
        _fill(wall, window.segment.vertical, near, far, window.lo, window.hi, value=False)
    return Walls(labels=labels, mask=wall, blocked=blocked)


def _band(s: Segment) -> tuple[int, int]:
    """The wall's extent across its line, [a, b) in the perpendicular coordinate: outer
    walls lie inside the footprint, inner walls are centred on their line."""
    if s.low == OUTSIDE:
        return s.at, s.at + s.thickness
    if s.high == OUTSIDE:
        return s.at - s.thickness, s.at
    return s.at - s.thickness // 2, s.at + s.thickness - s.thickness // 2


def _fill(
    mask: np.ndarray, vertical: bool, a: int, b: int, lo: int, hi: int, value: bool = True
) -> None:
    """Set the wall band [a, b) across the line x [lo, hi) along it to ``value``."""
    if vertical:
        mask[lo:hi, a:b] = value
    else:
        mask[a:b, lo:hi] = value


def _faces(door: Opening) -> tuple[int, int]:
    """The first free coordinate on each side of the door's wall (low side, high side)."""
    a, b = _band(door.segment)
    return a - 1, b


def _door_zones(door: Opening) -> list[Box]:
    """The square the leaf sweeps and the square in front of the door on the other side."""
    low_face, high_face = _faces(door)
    size = door.hi - door.lo
    zones = []
    for face, direction in ((low_face, -1), (high_face, 1)):
        near, far = sorted((face, face + direction * size))
        if door.segment.vertical:
            zones.append(Box(near, door.lo, far + 1, door.hi))
        else:
            zones.append(Box(door.lo, near, door.hi, far + 1))
    return zones


def draw_door(ink: np.ndarray, door: Opening, thickness: int) -> None:
    """Each leaf: a line from its hinge, perpendicular to the wall, and a quarter swing arc."""
    s = door.segment
    low_face, high_face = _faces(door)
    direction = -1 if door.into == s.low else 1
    face = low_face if direction < 0 else high_face
    if door.leaves == 2:
        middle = (door.lo + door.hi) // 2
        leaves = [(door.lo, middle), (door.hi - 1, middle)]
    elif door.leaves == 1:
        leaves = [(door.lo, door.hi) if door.hinge_low else (door.hi - 1, door.lo)]
    else:
        leaves = []
    for hinge_along, free_along in leaves:
        size = abs(free_along - hinge_along)

        def point(along: int, across: int) -> tuple[int, int]:
            return (across, along) if s.vertical else (along, across)

        hinge = point(hinge_along, face)
        leaf_end = point(hinge_along, face + direction * size)
        jamb = point(free_along, face)
        cv2.line(ink, hinge, leaf_end, 255, thickness + 1, cv2.LINE_AA)
        start = math.degrees(math.atan2(leaf_end[1] - hinge[1], leaf_end[0] - hinge[0]))
        end = math.degrees(math.atan2(jamb[1] - hinge[1], jamb[0] - hinge[0]))
        if end - start > 180:
            end -= 360
        elif start - end > 180:
            start -= 360
        cv2.ellipse(ink, hinge, (size, size), 0, start, end, 255, thickness, cv2.LINE_AA)


def draw_window(ink: np.ndarray, window: Opening, thickness: int) -> None:
    """Thin lines across the opening, kept inside the wall band: both faces and the glass."""
    a, b = _band(window.segment)
    depth = b - a
    stroke = max(1, min(thickness, depth // 4))
    rows = [a, b - stroke]
    if depth >= 6 * stroke:
        rows += [a + depth // 3, a + 2 * depth // 3]
    else:
        rows.append(a + (depth - stroke) // 2)
    for row in rows:
        if window.segment.vertical:
            ink[window.lo : window.hi, row : row + stroke] = 255
        else:
            ink[row : row + stroke, window.lo : window.hi] = 255


def ink_walls(
    ink: np.ndarray, wall: np.ndarray, style: str, line: int, spacing: int, fill: int = 0
) -> None:
    """Ink the wall mask: ``solid`` fill, ``hatched`` outline + diagonals, ``double`` outline
    (with a ``fill`` 0..255 grey between the lines)."""
    if style == "solid":
        ink[wall] = 255
        return
    ys, xs = np.nonzero(wall)
    if ys.size == 0:
        return
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    w = wall[y0:y1, x0:x1].astype(np.uint8)
    kernel = np.ones((2 * line + 1, 2 * line + 1), np.uint8)
    inner = cv2.erode(cv2.copyMakeBorder(w, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0), kernel)
    outline = (w > 0) & (inner[1:-1, 1:-1] == 0)
    strokes = outline
    if fill:
        ink[y0:y1, x0:x1][w > 0] = fill
    if style == "hatched":
        hatch = np.zeros_like(w)
        height, width = w.shape
        for c in range(spacing - (x0 + y0) % spacing, width + height, spacing):
            cv2.line(hatch, (c, 0), (c - height, height), 1, line)
        strokes = outline | ((w > 0) & (hatch > 0))
    ink[y0:y1, x0:x1][strokes] = 255
