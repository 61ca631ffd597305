"""Close doorways whose door is drawn: a swing arc centred on a jamb, as wide as the opening.

A doorway wider than the generic gap closing is still unmistakable when its
door is drawn: a quarter circle of thin ink, centred on the hinge at a wall
end, whose radius is the leaf's width. A single leaf may hang on either
jamb; a double door draws one arc from each jamb. Only such openings are
bridged, so wide openings without a door (a living room into its dining area)
stay open.

Every end of a straight wall run that faces paper is a candidate jamb; arcs
of every radius from ``min_gap`` to ``max_gap`` are looked for on both sides
of the wall. The bridge continues the wall's band from the jamb across the
leaf's width to the first wall or ink that closes it (the other jamb).
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask

ARC_COVER = 0.75  # share of an arc's samples that must lie on thin ink
PIECE_COVER = 0.6  # and of each third of it: a straight leaf covers only part of an arc
EMPTY = 0.3  # most ink the circles around an arc and its swing area may hold
ARC_SPAN = (0.2, 1.37)  # radians of the quarter circle sampled (its ends touch walls or leaf)
ANGLES = np.linspace(*ARC_SPAN, 15)
REACH = 0.25  # how far past the leaf's width (in widths) the far jamb may stand


class Jamb(NamedTuple):
    """A wall run's end: ``tip`` along ``axis`` (0 = runs along x), band ``low``..``high``
    across it, and the direction ``ahead`` (+1 / -1) the opening lies in."""

    axis: int
    ahead: int
    tip: int
    low: int
    high: int


def door_bridges(
    walls: np.ndarray, ink: np.ndarray, min_gap: int, max_gap: int, min_run: int
) -> np.ndarray:
    """(H, W) ``uint8`` bridges (1) across doorways ``min_gap``..``max_gap`` px wide with a door.

    ``walls`` and ``ink`` are (H, W) ``uint8`` masks (1 = wall / ink); jambs are
    ends of straight wall runs at least ``min_run`` px long.
    """
    check_mask(walls, "walls")
    check_mask(ink, "ink")
    if walls.shape != ink.shape:
        raise ValueError(f"walls {walls.shape} and ink {ink.shape} differ in shape")
    if not 2 <= min_gap <= max_gap or min_run < 1:
        raise ValueError(f"need 2 <= min_gap <= max_gap, min_run >= 1; got {min_gap}, {max_gap}")
    thin = cv2.dilate(ink & (1 - walls), np.ones((5, 5), np.uint8))  # 2 px slack
    radii = np.arange(min_gap, max_gap + 1, 2, dtype=np.float64)  # thin ink has that slack
    jambs = [
        jamb
        for jamb in _jambs(walls, min_run, max_gap // 3)
        if not _band(walls, jamb, 1, min_gap + 1).any()  # closed again: no doorway here
    ]
    bridges = np.zeros_like(walls)
    for jamb, width in zip(jambs, _door_widths(thin, jambs, radii), strict=True):
        stop = _far_jamb(walls, jamb, width) if width else 0
        if stop:
            _band(bridges, jamb, 1, stop)[:] = 1
    return bridges


def _jambs(walls: np.ndarray, min_run: int, thickest: int) -> list[Jamb]:
    """Ends of horizontal and vertical wall runs facing paper, less than ``thickest`` px wide."""
    jambs = []
    head, tail = slice(1, None), slice(None, -1)
    odd = min_run | 1  # an even kernel's anchor would shift the runs by a px
    for axis, kernel in ((0, (1, odd)), (1, (odd, 1))):
        runs = cv2.morphologyEx(walls, cv2.MORPH_OPEN, np.ones(kernel, np.uint8))
        for ahead, here, there in ((1, tail, head), (-1, head, tail)):
            cut, seen = ((slice(None), here), (slice(None), there)) if axis == 0 else (here, there)
            ends = np.zeros_like(runs)
            ends[cut] = runs[cut] & (1 - walls[seen])  # the next px ahead is paper
            points = cv2.findNonZero(ends)  # (x, y) pairs, far cheaper than np.nonzero
            if points is None:
                continue
            columns, rows = points.reshape(-1, 2).T
            along, across = (columns, rows) if axis == 0 else (rows, columns)
            order = np.lexsort((across, along))
            across, along = across[order], along[order]
            breaks = np.flatnonzero((np.diff(along) != 0) | (np.diff(across) != 1)) + 1
            starts, stops = np.r_[0, breaks], np.r_[breaks, len(along)] - 1
            pieces = sorted(zip(across[starts], across[stops], along[starts], strict=True))
            for low, high, tip in _joined(pieces, ahead):
                if high - low < thickest:
                    jambs.append(Jamb(axis, ahead, int(tip), int(low), int(high)))
    return jambs


def _joined(pieces: list[tuple[int, int, int]], ahead: int) -> list[tuple[int, int, int]]:
    """(low, high, tip) pieces of ends, sorted, with the pieces of one ragged end joined.

    A piece that touches or overlaps the band of an earlier one, with a tip at
    most 2 px off, belongs to the same end, which keeps its forward-most tip.
    """
    done: list[tuple[int, int, int]] = []
    open_: list[tuple[int, int, int]] = []
    for low, high, tip in pieces:
        still = []
        for group in open_:
            if group[1] + 1 < low:
                done.append(group)  # sorted by low: nothing later touches it
            elif abs(group[2] - tip) <= 2:
                low, high = min(low, group[0]), max(high, group[1])
                tip = max(group[2] * ahead, tip * ahead) * ahead
            else:
                still.append(group)
        open_ = [*still, (low, high, tip)]
    return done + open_


def _band(mask: np.ndarray, jamb: Jamb, start: int, stop: int) -> np.ndarray:
    """A view of ``mask`` across the jamb's band, from ``start`` to ``stop`` px ahead of its tip.

    Rows are the band's rows, columns go away from the jamb.
    """
    rows = slice(jamb.low, jamb.high + 1)
    if jamb.ahead > 0:
        ahead = slice(jamb.tip + start, max(jamb.tip + start, jamb.tip + stop))
    else:
        first = max(0, jamb.tip - stop + 1)
        ahead = slice(first, max(first, jamb.tip - start + 1))
    view = mask[rows, ahead] if jamb.axis == 0 else mask[ahead, rows].T
    return view if jamb.ahead > 0 else view[:, ::-1]


def _door_widths(thin: np.ndarray, jambs: list[Jamb], radii: np.ndarray) -> list[float]:
    """Per jamb: the width of the doorway ahead of it if a door's arc is drawn there, else 0.

    Tried for a door swinging to either side of the wall: a double door (two
    arcs), a leaf hinged on this jamb and one hinged on the far jamb. The
    opening itself must be clear of thin ink: an arc whose radius runs along
    a drawn leaf belongs to a doorway across the other radius.
    """
    if not jambs:
        return []
    pad = int(4 * radii[-1]) + 8
    flat = cv2.copyMakeBorder(thin, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0).ravel()
    stride = thin.shape[1] + 2 * pad
    table = np.array(jambs, np.int64) + [0, 0, pad, pad, pad]
    axis, ahead = table[:, 0, None, None, None], table[:, 1, None, None, None]
    tip = table[:, 2, None, None, None] + ahead  # the first free px ahead
    faces = np.stack([table[:, 3] - 1, table[:, 4] + 1], axis=1)[:, :, None, None]
    side = np.array([-1, 1])[None, :, None, None]
    shift = np.array([0, 1, 2])[None, None, :, None]  # hinge here, far, double's far
    turn = np.array([1, -1, -1])[None, None, :, None]
    r = radii.astype(np.int64)[None, None, None, :]
    shape = (len(jambs), 2, 3, len(radii))
    step_along, step_across = np.where(axis == 0, 1, stride), np.where(axis == 0, stride, 1)
    centre = (tip + ahead * shift * r) * step_along + faces * step_across
    # one sample's offset from the centre: ahead * turn along the wall, side across it
    direction = ahead * turn * step_along, side * step_across
    along, across = (np.broadcast_to(d, shape).ravel() for d in direction)
    centre, sizes = np.broadcast_to(centre, shape).ravel(), np.broadcast_to(r, shape).ravel()

    def cover(radius: np.ndarray, keep: np.ndarray, angles: np.ndarray, pieces: int) -> np.ndarray:
        """(candidates, pieces) share of each piece of the arcs' samples on thin ink."""
        du = np.rint(radius[:, None] * np.cos(angles)).astype(np.int64)
        dv = np.rint(radius[:, None] * np.sin(angles)).astype(np.int64)
        index = centre[keep, None] + du * along[keep, None] + dv * across[keep, None]
        return flat[index].reshape(len(keep), pieces, len(angles) // pieces).mean(axis=2)

    keep = np.arange(len(sizes))
    for angles, pieces in ((ANGLES[[5, 10]], 1), (ANGLES[::3], 1), (ANGLES, 3)):
        share = cover(sizes[keep], keep, angles, pieces)  # cheap looks first: most fail
        keep = keep[(share.mean(axis=1) >= ARC_COVER) & (share.min(axis=1) >= PIECE_COVER)]
    for ring in (lambda r: r - 3 - r / 8, lambda r: r + 3 + r / 8, lambda r: r / 2):
        keep = keep[cover(ring(sizes[keep]), keep, ANGLES, 1)[:, 0] <= EMPTY]  # text: every circle
    arcs = np.zeros(np.prod(shape), bool)
    arcs[keep] = True
    arcs = arcs.reshape(shape)
    widths = [0.0] * len(jambs)
    for index in np.flatnonzero(arcs.any(axis=(1, 2, 3))):
        for near, far, pair in arcs[index]:
            for w in (*(2 * radii[near & pair])[::-1], *radii[near | far][::-1]):
                if not widths[index] and _clear(thin, jambs[index], float(w)):
                    widths[index] = float(w)
    return widths


def _clear(thin: np.ndarray, jamb: Jamb, width: float) -> bool:
    """Whether no row of the opening's band is mostly thin ink (a leaf lying along it)."""
    band = _band(thin, jamb, 1 + int(0.15 * width), 1 + int(0.85 * width))
    return band.size > 0 and float(band.mean(axis=1).max()) < 0.5


def _far_jamb(walls: np.ndarray, jamb: Jamb, width: float) -> int:
    """How far ahead the bridge runs: to the other jamb, the first wall across most of the
    band near the leaf's width; 0 when there is none (an arc in furniture, a car)."""
    start = 1 + int(0.75 * width)
    band = _band(walls, jamb, start, 2 + int((1 + REACH) * width))
    hits = np.flatnonzero(2 * band.sum(axis=0) >= band.shape[0])
    return start + int(hits[0]) if len(hits) else 0
