"""Doors and windows: a door tree from the outside so every room is reachable, plus
windows in the outer walls.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from locdetect_worker.synthetic.geometry import (
    OUTSIDE,
    Layout,
    LayoutParams,
    Opening,
    Room,
    Segment,
    subtract,
    wall_segments,
)


def connect(rng: np.random.Generator, layout: Layout, p: LayoutParams) -> None:
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
    layout.segments = wall_segments(layout, p)


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


def windows(rng: np.random.Generator, layout: Layout, p: LayoutParams) -> list[Opening]:
    """Windows in the outer walls, clear of doors and wall junctions."""
    windows = []
    for s in layout.segments:
        if not s.outer or rng.random() < 0.15:
            continue
        free = [(s.lo + p.clearance, s.hi - p.clearance)]
        for door in layout.doors:
            if door.segment == s:
                free = subtract(free, door.lo - p.clearance, door.hi + p.clearance)
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
