"""Drawings outside the building: eaves, a terrace, a north arrow, notes.

Eaves and terraces are the hard ones for a detector: closed shapes bounded by
the building's wall and thin lines, that are not rooms (their label stays 0).
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.synthetic.annotate import FONT, dashed_line, overlaps, put_lines
from locdetect_worker.synthetic.geometry import OUTSIDE, Box, Layout

_NOTES = [
    "NOTES:",
    "ALL DIMENSIONS IN CM",
    "DO NOT SCALE FROM THIS DRAWING",
    "CHECK ALL DIMENSIONS ON SITE",
    "WALLS 20 CM UNLESS NOTED",
]


def draw_terrace(
    rng: np.random.Generator,
    ink: np.ndarray,
    layout: Layout,
    free: Box,
    keep_out: list[Box],
    scale: float,
    line: int,
) -> Box | None:
    """A deck on the bottom or right side of the building, inside ``free``; its box or None."""
    sides = [s for s in layout.segments if s.high == OUTSIDE and s.length >= 2.5 * scale]
    for index in rng.permutation(len(sides)):
        s = sides[int(index)]
        depth = int(rng.uniform(1.2, 2.4) * scale)
        lo = s.lo + int(rng.uniform(0, 0.3) * s.length)
        hi = s.hi - int(rng.uniform(0, 0.3) * s.length)
        if s.vertical:
            box = Box(s.at, lo, s.at + depth, hi)
        else:
            box = Box(lo, s.at, hi, s.at + depth)
        inside = free.x0 <= box.x0 and box.x1 <= free.x1 and free.y0 <= box.y0 and box.y1 <= free.y1
        if not inside or overlaps(box, keep_out) or _hits_building(layout, box):
            continue
        cv2.rectangle(ink, (box.x0, box.y0), (box.x1 - 1, box.y1 - 1), 255, line)
        step = max(4, int(0.15 * scale))
        if rng.random() < 0.6:  # deck boards, across the depth
            for at in range(step, (box.height if s.vertical else box.width), step):
                if s.vertical:
                    cv2.line(ink, (box.x0, box.y0 + at), (box.x1 - 1, box.y0 + at), 255, 1)
                else:
                    cv2.line(ink, (box.x0 + at, box.y0), (box.x0 + at, box.y1 - 1), 255, 1)
        else:
            put_lines(
                ink,
                [str(rng.choice(["TERRACE", "BALCON", "DECK"]))],
                ((box.x0 + box.x1) // 2, (box.y0 + box.y1) // 2),
                0.2 * scale,
                int(0.8 * box.width),
                line,
            )
        return box
    return None


def draw_roof_line(
    rng: np.random.Generator, ink: np.ndarray, layout: Layout, offset: int, line: int
) -> Box:
    """The eaves: the footprint's outline pushed ``offset`` px outwards, solid or dashed,
    with dashed hip lines over the rooms sometimes. Returns the box it spans."""
    x0 = min(b.x0 for b in layout.footprint) - offset - 2
    y0 = min(b.y0 for b in layout.footprint) - offset - 2
    x1 = max(b.x1 for b in layout.footprint) + offset + 2
    y1 = max(b.y1 for b in layout.footprint) + offset + 2
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for part in layout.footprint:
        mask[part.y0 - y0 : part.y1 - y0, part.x0 - x0 : part.x1 - x0] = 1
    grown = cv2.dilate(mask, np.ones((2 * offset + 1, 2 * offset + 1), np.uint8))
    contours, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    corners = [(int(x) + x0, int(y) + y0) for x, y in contours[0].reshape(-1, 2)]
    dashed = rng.random() < 0.5
    dash = max(6, 2 * offset // 3)
    for a, b in zip(corners, corners[1:] + corners[:1]):
        if dashed:
            dashed_line(ink, a, b, dash, line)
        else:
            cv2.line(ink, a, b, 255, line)
    if len(corners) == 4 and rng.random() < 0.5:  # a hipped roof over a rectangle
        # hips and ridge lie above the cut plane, over the rooms: overhead lines are dashed
        (ax, ay), (bx, by) = corners[0], corners[2]
        half = min(bx - ax, by - ay) // 2
        ridge = [(ax + half, ay + half), (bx - half, by - half)]
        for corner in corners:
            near = min(ridge, key=lambda r: abs(r[0] - corner[0]) + abs(r[1] - corner[1]))
            dashed_line(ink, corner, near, dash, line)
        dashed_line(ink, ridge[0], ridge[1], dash, line)
    return Box(x0, y0, x1, y1)


def _hits_building(layout: Layout, box: Box) -> bool:
    """True when ``box`` overlaps any room piece (touching the wall line is fine)."""
    return overlaps(box, [b for room in layout.rooms for b in room.pieces])


def draw_north_arrow(ink: np.ndarray, centre: tuple[int, int], radius: int, line: int) -> None:
    """A circle with an arrow and an N."""
    x, y = centre
    cv2.circle(ink, centre, radius, 255, line, cv2.LINE_AA)
    tip, tail = (x, y - radius), (x, y + radius)
    triangle = np.array([tip, (x - radius // 3, y + radius // 3), (x, y)], np.int32)
    cv2.fillPoly(ink, [triangle], 255, cv2.LINE_AA)
    cv2.line(ink, tip, tail, 255, line, cv2.LINE_AA)
    font_scale = radius / 40
    cv2.putText(
        ink, "N", (x - radius // 4, y - radius - 6), FONT, font_scale, 255, line, cv2.LINE_AA
    )


def draw_notes(
    rng: np.random.Generator,
    ink: np.ndarray,
    corner: tuple[int, int],
    height_px: float,
    line: int,
    max_lines: int,
) -> None:
    """Up to ``max_lines`` lines of general notes, their bottom left at ``corner``."""
    count = min(max_lines, int(rng.integers(2, len(_NOTES) + 1)))
    font_scale = height_px / 22.0
    x, y = corner
    for text in reversed(_NOTES[:count]):
        cv2.putText(ink, text, (x, y), FONT, font_scale, 255, line, cv2.LINE_AA)
        y -= int(height_px * 1.8)
