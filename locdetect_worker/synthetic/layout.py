"""Room layout of a synthetic plan: footprint, recursive splitting, doors and windows.

All geometry is in integer sheet pixels, axis-aligned; walls are centred on the
lines between pieces (inner walls) or lie just inside the footprint (outer
walls). Rooms are unions of rectangular pieces (rectangles, L shapes), and the
door graph is a spanning tree from the outside so every room is reachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

OUTSIDE = 0


@dataclass(frozen=True)
class Box:
    """Half-open pixel rectangle [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Segment:
    """A wall line: ``vertical`` at x=``at`` (else horizontal at y=``at``) over [lo, hi).

    ``low``/``high`` are the room ids on the lower / higher coordinate side (0 = outside).
    """

    vertical: bool
    at: int
    lo: int
    hi: int
    low: int
    high: int
    thickness: int  # px across the line

    @property
    def length(self) -> int:
        return self.hi - self.lo

    @property
    def outer(self) -> bool:
        return OUTSIDE in (self.low, self.high)


@dataclass(frozen=True)
class Opening:
    """A door or window in ``segment`` over [lo, hi); a door's leaves swing into room ``into``."""

    segment: Segment
    lo: int
    hi: int
    into: int = OUTSIDE
    hinge_low: bool = True
    leaves: int = 1  # 0: a plain opening, 2: a double door


@dataclass
class Room:
    pieces: list[Box]
    kind: str = "room"


@dataclass
class Layout:
    footprint: list[Box]
    rooms: list[Room]  # room id k is rooms[k - 1]
    thick_lines: frozenset[tuple[bool, int]] = frozenset()  # (vertical, at) of bearing walls
    segments: list[Segment] = field(default_factory=list)
    doors: list[Opening] = field(default_factory=list)
    windows: list[Opening] = field(default_factory=list)


@dataclass(frozen=True)
class LayoutParams:
    scale: float  # px per metre
    room_area_m2: float
    outer_px: int
    inner_px: int

    @property
    def min_room(self) -> int:
        # interior >= ~2.1 m even between an outer wall and an inner one
        return int(round(2.2 * self.scale)) + self.outer_px

    @property
    def thick_px(self) -> int:
        return max(self.inner_px, int(round(0.8 * self.outer_px)))

    @property
    def clearance(self) -> int:
        return self.outer_px + int(round(0.12 * self.scale))


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
    layout.segments = _segments(layout, params)
    lines = sorted({(s.vertical, s.at) for s in layout.segments if not s.outer})
    if lines and rng.random() < 0.4:  # one or two thicker, load-bearing inner walls
        picks = rng.choice(len(lines), size=min(len(lines), int(rng.integers(1, 3))), replace=False)
        layout.thick_lines = frozenset(lines[int(i)] for i in picks)
        layout.segments = _segments(layout, params)
    if doors:
        _connect(rng, layout, params)
    if windows:
        layout.windows = _windows(rng, layout, params)
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


def _segments(layout: Layout, p: LayoutParams) -> list[Segment]:
    """Every wall line between two rooms, or between a room and the outside."""
    pieces = [(k, box) for k, room in enumerate(layout.rooms, start=1) for box in room.pieces]
    segments = []
    for k, box in pieces:
        for vertical, at, lo, hi, outward in (
            (True, box.x0, box.y0, box.y1, -1),
            (True, box.x1, box.y0, box.y1, 1),
            (False, box.y0, box.x0, box.x1, -1),
            (False, box.y1, box.x0, box.x1, 1),
        ):
            free = [(lo, hi)]
            for other_k, other in pieces:
                if other is box:
                    continue
                o_at = (
                    (other.x0 if outward > 0 else other.x1)
                    if vertical
                    else (other.y0 if outward > 0 else other.y1)
                )
                o_lo, o_hi = (other.y0, other.y1) if vertical else (other.x0, other.x1)
                if o_at != at or min(hi, o_hi) <= max(lo, o_lo):
                    continue
                free = _subtract(free, max(lo, o_lo), min(hi, o_hi))
                if other_k != k and outward > 0:  # each shared line once, from its low side
                    thick = (vertical, at) in layout.thick_lines
                    segments.append(
                        Segment(
                            vertical,
                            at,
                            max(lo, o_lo),
                            min(hi, o_hi),
                            k,
                            other_k,
                            p.thick_px if thick else p.inner_px,
                        )
                    )
            for f_lo, f_hi in free:
                low, high = (k, OUTSIDE) if outward > 0 else (OUTSIDE, k)
                segments.append(Segment(vertical, at, f_lo, f_hi, low, high, p.outer_px))
    return segments


def _subtract(intervals: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    out = []
    for a, b in intervals:
        if a < lo:
            out.append((a, min(b, lo)))
        if b > hi:
            out.append((max(a, hi), b))
    return [(a, b) for a, b in out if b > a]


def _connect(rng: np.random.Generator, layout: Layout, p: LayoutParams) -> None:
    """Doors along a random spanning tree from the outside, plus a few extra ones.

    A room that no door can reach (every shared wall too short) is merged into
    its best-connected neighbour and the search starts again.
    """
    while True:
        inner_w = int(round(rng.uniform(0.8, 0.95) * p.scale))
        entry_w = int(round(rng.uniform(0.95, 1.2) * p.scale))
        usable = [
            s
            for s in layout.segments
            if s.length >= (entry_w if s.outer else inner_w) + 2 * p.clearance
        ]
        tree = _spanning_tree(rng, len(layout.rooms), usable, layout.rooms)
        reached = {OUTSIDE} | {room for s in tree for room in (s.low, s.high)}
        missing = [k for k in range(1, len(layout.rooms) + 1) if k not in reached]
        if not missing:
            break
        _absorb(layout, missing[0], p)
    chosen = list(tree)
    entrances = 1 if rng.random() < 0.7 else 2
    for s in usable:
        if s in chosen or (s.outer and sum(t.outer for t in chosen) >= entrances):
            continue
        corridor = any(layout.rooms[k - 1].kind == "corridor" for k in (s.low, s.high) if k)
        pair_used = any({t.low, t.high} == {s.low, s.high} for t in chosen)
        odds = 0.3 if s.outer else (0.8 if corridor else 0.12)
        if not pair_used and rng.random() < odds:
            chosen.append(s)
    layout.doors = []
    for s in chosen:  # tree doors first: those are needed, extra ones may yield
        for attempt in range(8):
            door = _door(rng, s, entry_w if s.outer else inner_w, p)
            clash = any(_swing_clash(door, other, p) for other in layout.doors)
            if not clash:
                layout.doors.append(door)
                break
            if attempt == 7 and s in tree:  # keep the room reachable: an opening, no leaf
                layout.doors.append(replace(door, leaves=0))


def _swing_clash(a: Opening, b: Opening, p: LayoutParams) -> bool:
    """Whether two doors' swing squares (both sides of their walls) would overlap."""
    boxes = []
    for door in (a, b):
        s, reach = door.segment, door.hi - door.lo + p.outer_px
        across = (s.at - reach, s.at + reach)
        along = (door.lo - p.inner_px, door.hi + p.inner_px)
        boxes.append((across, along) if s.vertical else (along, across))
    (ax, ay), (bx, by) = boxes
    return ax[0] < bx[1] and bx[0] < ax[1] and ay[0] < by[1] and by[0] < ay[1]


def _spanning_tree(
    rng: np.random.Generator, count: int, usable: list[Segment], rooms: list[Room]
) -> list[Segment]:
    """Randomised Prim from the outside: one entrance, then inside doors, corridors first."""
    reached, tree = {OUTSIDE}, []
    while len(reached) <= count:
        frontier = [s for s in usable if (s.low in reached) != (s.high in reached)]
        inner = [s for s in frontier if not s.outer]
        pool = inner if inner and len(reached) > 1 else frontier
        if not pool:
            break
        weights = np.array(
            [
                3.0 if any(rooms[k - 1].kind == "corridor" for k in (s.low, s.high) if k) else 1.0
                for s in pool
            ]
        )
        pick = pool[int(rng.choice(len(pool), p=weights / weights.sum()))]
        tree.append(pick)
        reached.update((pick.low, pick.high))
    return tree


def _absorb(layout: Layout, room_id: int, p: LayoutParams) -> None:
    """Merge room ``room_id`` into the neighbour it shares the longest wall with."""
    shared = [s for s in layout.segments if room_id in (s.low, s.high) and not s.outer]
    if not shared:
        raise RuntimeError("a room without neighbours cannot be made reachable")
    best = max(shared, key=lambda s: s.length)
    other = best.high if best.low == room_id else best.low
    layout.rooms[other - 1].pieces.extend(layout.rooms[room_id - 1].pieces)
    if layout.rooms[room_id - 1].kind == "corridor":
        layout.rooms[other - 1].kind = "corridor"
    del layout.rooms[room_id - 1]
    layout.segments = _segments(layout, p)


def _door(rng: np.random.Generator, s: Segment, width: int, p: LayoutParams) -> Opening:
    """A door gap, usually near one end of the wall; entrances are sometimes double doors,
    inner doors sometimes plain openings without a leaf."""
    leaves = 1
    if s.outer and rng.random() < 0.3 and s.length >= 2.2 * width + 2 * p.clearance:
        leaves, width = 2, int(1.6 * width)
    elif not s.outer and rng.random() < 0.12:
        leaves = 0
    lo_limit, hi_limit = s.lo + p.clearance, s.hi - p.clearance - width
    roll = rng.random()
    if roll < 0.7:  # against the corner, hinged on that side
        start = lo_limit if roll < 0.35 else hi_limit
        hinge_low = start == lo_limit
    else:
        start = int(rng.uniform(lo_limit, hi_limit + 1))
        hinge_low = bool(rng.random() < 0.5)
    if OUTSIDE in (s.low, s.high):
        into = s.high if s.low == OUTSIDE else s.low
    else:
        into = s.low if rng.random() < 0.5 else s.high
    return Opening(s, start, start + width, into=into, hinge_low=hinge_low, leaves=leaves)


def _windows(rng: np.random.Generator, layout: Layout, p: LayoutParams) -> list[Opening]:
    """Windows in the outer walls, clear of doors and wall junctions."""
    windows = []
    for s in layout.segments:
        if not s.outer or rng.random() < 0.15:
            continue
        free = [(s.lo + p.clearance, s.hi - p.clearance)]
        for door in layout.doors:
            if door.segment == s:
                free = _subtract(free, door.lo - p.clearance, door.hi + p.clearance)
        for a, b in free:
            room = b - a
            count = 2 if room >= 7 * p.scale else 1
            span = room // count
            for n in range(count):
                width = int(min(span - 0.4 * p.scale, rng.uniform(0.9, 2.2) * p.scale))
                if width < 0.6 * p.scale:
                    continue
                start = a + n * span + (span - width) // 2
                windows.append(Opening(s, start, start + width))
    return windows
