"""Geometry of a synthetic building: boxes, wall lines, openings, rooms, and the wall
lines of a set of rooms.

All geometry is in integer sheet pixels, axis-aligned; walls are centred on the
lines between pieces (inner walls) or lie just inside the footprint (outer walls).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def wall_segments(layout: Layout, p: LayoutParams) -> list[Segment]:
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
                free = subtract(free, max(lo, o_lo), min(hi, o_hi))
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


def subtract(intervals: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    out = []
    for a, b in intervals:
        if a < lo:
            out.append((a, min(b, lo)))
        if b > hi:
            out.append((max(a, hi), b))
    return [(a, b) for a, b in out if b > a]
