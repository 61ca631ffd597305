"""Close doorways whose door is drawn: a swing arc centred on a jamb, as wide as the opening.

A doorway wider than the generic gap closing is still unmistakable when its
door is drawn: a quarter circle of thin ink, centred on the hinge at a wall
end, whose radius is the leaf's width. A single leaf may hang on either
jamb; a double door draws one arc from each jamb. Only such openings are
bridged, so wide openings without a door (a living room into its dining area)
stay open.

Every end of a straight wall run that faces paper (``jambs.wall_ends``) is a
candidate jamb unless a wall closes it again within ``min_gap``; arcs of
every radius from ``min_gap`` to ``max_gap`` are looked for on both sides of
the wall. The bridge continues the wall's band from the jamb across the
leaf's width to the first wall or ink that closes it (the other jamb).
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector.jambs import Jamb, ahead_of, ahead_sums, end_table

ARC_COVER = 0.75  # share of an arc's samples that must lie on thin ink
PIECE_COVER = 0.6  # and of each third of it: a straight leaf covers only part of an arc
EMPTY = 0.3  # most ink the circles around an arc and its swing area may hold
ARC_SPAN = (0.2, 1.37)  # radians of the quarter circle sampled (its ends touch walls or leaf)
ANGLES = np.linspace(*ARC_SPAN, 15)
REACH = 0.25  # how far past the leaf's width (in widths) the far jamb may stand


def door_bridges(
    walls: np.ndarray,
    ink: np.ndarray,
    ends: list[Jamb],
    min_gap: int,
    max_gap: int,
    summed: np.ndarray | None = None,
) -> np.ndarray:
    """(H, W) ``uint8`` bridges (1) across doorways ``min_gap``..``max_gap`` px wide with a door.

    ``walls`` and ``ink`` are (H, W) ``uint8`` masks (1 = wall / ink); ``ends``
    are the walls' ends (``jambs.wall_ends``), the candidate jambs; ``summed`` the walls'
    ``jambs.summed_area``, when the caller has it.
    """
    check_mask(walls, "walls")
    check_mask(ink, "ink")
    if walls.shape != ink.shape:
        raise ValueError(f"walls {walls.shape} and ink {ink.shape} differ in shape")
    if not 2 <= min_gap <= max_gap:
        raise ValueError(f"need 2 <= min_gap <= max_gap, got {min_gap}, {max_gap}")
    # ink off the walls (0/1 masks: and-not as one subtraction), with 2 px slack (in place)
    thin = cv2.subtract(ink, walls)
    cv2.dilate(thin, np.ones((5, 5), np.uint8), dst=thin)
    radii = np.arange(min_gap, max_gap + 1, 2, dtype=np.float64)  # thin ink has that slack
    closed = ahead_sums(walls, ends, 1, min_gap + 1, summed)[:, 0]
    jambs = [end for end, wall in zip(ends, closed, strict=True) if not wall]
    bridges = np.zeros(walls.shape, np.uint8)  # zeroed pages, mapped only where written
    for jamb, width in zip(jambs, _door_widths(thin, jambs, radii), strict=True):
        stop = _far_jamb(walls, jamb, width) if width else 0
        if stop:
            ahead_of(bridges, jamb, 1, stop)[:] = 1
    return bridges


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
    # zeroed pages: the margin's are mapped only where a sample falls
    padded = np.zeros((thin.shape[0] + 2 * pad, thin.shape[1] + 2 * pad), np.uint8)
    padded[pad:-pad, pad:-pad] = thin
    flat = padded.ravel()
    stride = thin.shape[1] + 2 * pad
    table = end_table(jambs) + [0, 0, pad, pad, pad]
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
    middle = np.broadcast_to(centre, shape)
    centre, sizes = middle.ravel(), np.broadcast_to(r, shape).ravel()

    def cover(
        radius: np.ndarray,
        centre: np.ndarray,
        along: np.ndarray,
        across: np.ndarray,
        angles: np.ndarray,
        pieces: int,
    ) -> np.ndarray:
        """(..., pieces) share of each piece of the arcs' samples on thin ink; the arcs' radii,
        centres and directions broadcast together."""
        du = np.rint(radius[..., None] * np.cos(angles)).astype(np.int64)
        dv = np.rint(radius[..., None] * np.sin(angles)).astype(np.int64)
        samples = flat[centre[..., None] + du * along[..., None] + dv * across[..., None]]
        return samples.reshape(*samples.shape[:-1], pieces, len(angles) // pieces).mean(axis=-1)

    # cheap looks first: most fail. The first, two samples, passes only where both lie on thin
    # ink (ARC_COVER of two): one sample of every candidate, broadcast over (jamb, side, hinge,
    # radius) rather than gathered, then the other of those on ink; the closer looks only the
    # few left.
    first = cover(r, middle, *direction, ANGLES[[5]], 1).ravel()
    keep = np.flatnonzero(first >= ARC_COVER)
    second = cover(sizes[keep], centre[keep], along[keep], across[keep], ANGLES[[10]], 1)
    keep = keep[second[:, 0] >= ARC_COVER]
    for angles, pieces in ((ANGLES[::3], 1), (ANGLES, 3)):
        share = cover(sizes[keep], centre[keep], along[keep], across[keep], angles, pieces)
        keep = keep[(share.mean(axis=1) >= ARC_COVER) & (share.min(axis=1) >= PIECE_COVER)]
    for ring in (lambda r: r - 3 - r / 8, lambda r: r + 3 + r / 8, lambda r: r / 2):
        circle = cover(ring(sizes[keep]), centre[keep], along[keep], across[keep], ANGLES, 1)
        keep = keep[circle[:, 0] <= EMPTY]  # text: every circle
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
    band = ahead_of(thin, jamb, 1 + int(0.15 * width), 1 + int(0.85 * width))
    return band.size > 0 and float(band.mean(axis=1).max()) < 0.5


def _far_jamb(walls: np.ndarray, jamb: Jamb, width: float) -> int:
    """How far ahead the bridge runs: to the other jamb, the first wall across most of the
    band near the leaf's width; 0 when there is none (an arc in furniture, a car)."""
    start = 1 + int(0.75 * width)
    band = ahead_of(walls, jamb, start, 2 + int((1 + REACH) * width))
    hits = np.flatnonzero(2 * band.sum(axis=0) >= band.shape[0])
    return start + int(hits[0]) if len(hits) else 0
