"""Room layout of a synthetic plan: footprint, recursive splitting into rooms.

Rooms are unions of rectangular pieces (rectangles, L shapes) cut from a
rectangular or L-shaped footprint; doors and windows come from ``openings``.
"""

from __future__ import annotations

import numpy as np

from locdetect_worker.synthetic import openings
from locdetect_worker.synthetic.geometry import Box, Layout, LayoutParams, Room, wall_segments


def make_layout(
    rng: np.random.Generator,
    area: Box,
    params: LayoutParams,
    shape: str,
    doors: bool,
    windows: bool,
) -> Layout:
    """A building inside ``area``: footprint ``shape`` ("rect" or "L"), rooms, doors, windows."""
    footprint = _footprint(rng, area, params, shape)
    leaves: list[Room] = []
    for part in footprint:
        leaves.extend(_split(rng, part, params, depth=0, axis=None, corridors=[0]))
    layout = Layout(footprint=footprint, rooms=_merge_l_rooms(rng, leaves))
    layout.segments = wall_segments(layout, params)
    lines = sorted({(s.vertical, s.at) for s in layout.segments if not s.outer})
    if lines and rng.random() < 0.4:  # one or two thicker, load-bearing inner walls
        picks = rng.choice(len(lines), size=min(len(lines), int(rng.integers(1, 3))), replace=False)
        layout.thick_lines = frozenset(lines[int(i)] for i in picks)
        layout.segments = wall_segments(layout, params)
    if doors:
        openings.connect(rng, layout, params)
    if windows:
        layout.windows = openings.windows(rng, layout, params)
    return layout


def _footprint(rng: np.random.Generator, area: Box, p: LayoutParams, shape: str) -> list[Box]:
    """One rectangle, or an L as two rectangles cut along the notch's inner corner."""
    lo_w, lo_h = min(area.width, 2 * p.min_room), min(area.height, 2 * p.min_room)
    width = int(rng.uniform(max(lo_w, 0.85 * area.width), area.width + 1))
    height = int(rng.uniform(max(lo_h, 0.85 * area.height), area.height + 1))
    x0 = area.x0 + (area.width - width) // 2
    y0 = area.y0 + (area.height - height) // 2
    whole = Box(x0, y0, x0 + width, y0 + height)
    if shape != "L" or width < 2 * p.min_room or height < 2 * p.min_room:
        return [whole]
    notch_w = int(np.clip(rng.uniform(0.3, 0.5) * width, p.min_room, width - p.min_room))
    notch_h = int(np.clip(rng.uniform(0.3, 0.5) * height, p.min_room, height - p.min_room))
    right, bottom = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
    cx = whole.x1 - notch_w if right else whole.x0 + notch_w
    cy = whole.y1 - notch_h if bottom else whole.y0 + notch_h
    if rng.random() < 0.5:  # cut vertically at cx: one full-height part, one shortened
        full = (
            Box(whole.x0, whole.y0, cx, whole.y1)
            if right
            else Box(cx, whole.y0, whole.x1, whole.y1)
        )
        xa, xb = (cx, whole.x1) if right else (whole.x0, cx)
        short = Box(xa, whole.y0, xb, cy) if bottom else Box(xa, cy, xb, whole.y1)
    else:  # cut horizontally at cy
        full = (
            Box(whole.x0, whole.y0, whole.x1, cy)
            if bottom
            else Box(whole.x0, cy, whole.x1, whole.y1)
        )
        ya, yb = (cy, whole.y1) if bottom else (whole.y0, cy)
        short = Box(whole.x0, ya, cx, yb) if right else Box(cx, ya, whole.x1, yb)
    return [full, short]


def _split(
    rng: np.random.Generator,
    box: Box,
    p: LayoutParams,
    depth: int,
    axis: str | None,
    corridors: list[int],
) -> list[Room]:
    """Guillotine splitting into rooms of about ``room_area_m2``, sometimes with a corridor."""
    target = p.room_area_m2 * p.scale**2 * rng.uniform(0.6, 1.5)
    can_x, can_y = box.width >= 2 * p.min_room, box.height >= 2 * p.min_room
    if box.width * box.height < 1.4 * target or not (can_x or can_y):
        return [Room([box])]
    corridor_w = int(round(rng.uniform(2.0, 2.4) * p.scale)) + p.inner_px
    long_x = box.width >= box.height
    long_side, short_side = (box.width, box.height) if long_x else (box.height, box.width)
    if (
        depth <= 1
        and corridors[0] < 1
        and long_side >= 9 * p.scale
        and short_side >= 2 * p.min_room + corridor_w
        and rng.random() < 0.45
    ):
        corridors[0] += 1
        offset = int(rng.uniform(p.min_room, short_side - p.min_room - corridor_w + 1))
        if long_x:  # a horizontal corridor across the full width
            a, c = box.y0 + offset, box.y0 + offset + corridor_w
            parts = [Box(box.x0, box.y0, box.x1, a), Box(box.x0, c, box.x1, box.y1)]
            hall = Box(box.x0, a, box.x1, c)
        else:
            a, c = box.x0 + offset, box.x0 + offset + corridor_w
            parts = [Box(box.x0, box.y0, a, box.y1), Box(c, box.y0, box.x1, box.y1)]
            hall = Box(a, box.y0, c, box.y1)
        across = "x" if long_x else "y"  # rooms off the corridor are cut across it
        rooms = [Room([hall], kind="corridor")]
        for part in parts:
            rooms.extend(_split(rng, part, p, depth + 1, across, corridors))
        return rooms
    if axis is None or not (can_x if axis == "x" else can_y) or rng.random() < 0.2:
        prefer_x = long_x if rng.random() < 0.8 else not long_x
        axis = "x" if (prefer_x and can_x) or not can_y else "y"
    if axis == "x":
        cut = int(rng.uniform(box.x0 + p.min_room, box.x1 - p.min_room + 1))
        halves = [Box(box.x0, box.y0, cut, box.y1), Box(cut, box.y0, box.x1, box.y1)]
    else:
        cut = int(rng.uniform(box.y0 + p.min_room, box.y1 - p.min_room + 1))
        halves = [Box(box.x0, box.y0, box.x1, cut), Box(box.x0, cut, box.x1, box.y1)]
    child_axis = axis if rng.random() < 0.3 else None
    return [
        room for half in halves for room in _split(rng, half, p, depth + 1, child_axis, corridors)
    ]


def _merge_l_rooms(rng: np.random.Generator, rooms: list[Room]) -> list[Room]:
    """Join a few pairs of neighbouring rooms into L-shaped rooms."""
    if len(rooms) < 4 or rng.random() < 0.35:
        return rooms
    wanted = int(rng.integers(1, 3))
    merged: set[int] = set()
    result = list(rooms)
    for i in rng.permutation(len(rooms)):
        for j in rng.permutation(len(rooms)):
            if wanted == 0 or i in merged or j in merged or i == j:
                continue
            a, b = rooms[i], rooms[j]
            if a.kind != "room" or b.kind != "room" or not _forms_l(a.pieces[0], b.pieces[0]):
                continue
            result[i] = Room(a.pieces + b.pieces)
            result[j] = Room([])
            merged.update((int(i), int(j)))
            wanted -= 1
    return [room for room in result if room.pieces]


def _forms_l(a: Box, b: Box) -> bool:
    """Two boxes that touch along part of an edge, flush at exactly one end."""
    if a.x1 == b.x0 or b.x1 == a.x0:
        lo, hi = max(a.y0, b.y0), min(a.y1, b.y1)
        return hi > lo and (a.y0 == b.y0) != (a.y1 == b.y1)
    if a.y1 == b.y0 or b.y1 == a.y0:
        lo, hi = max(a.x0, b.x0), min(a.x1, b.x1)
        return hi > lo and (a.x0 == b.x0) != (a.x1 == b.x1)
    return False
