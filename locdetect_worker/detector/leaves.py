"""Find door leaves drawn as heavy strokes, so they do not part the room they swing into.

A door leaf drawn as a thick line or a thin rectangle is read as wall: a short
stub standing square off a wall face, with its far end free. Where it stands
in a corridor it narrows the free space as much as a doorway does, and the
seeds part the corridor at every door. A leaf tells itself apart from a
short wall by its swing arc: a quarter circle of thin ink centred where the
stub meets the wall, through the stub's free end. Only stubs with that arc
are taken; the doorway itself is closed by the other steps.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector.arcs import ANGLES, ARC_COVER
from locdetect_worker.detector.jambs import Jamb, ahead_of

SOLID = 0.9  # share of a row across the stub (or across stub and flanks at its base) that is wall


def door_leaves(
    walls: np.ndarray, ink: np.ndarray, ends: list[Jamb], min_length: int, max_length: int
) -> np.ndarray:
    """(H, W) ``uint8`` mask (1) of wall stubs that are door leaves, to take out of the walls.

    ``walls`` and ``ink`` are (H, W) ``uint8`` (1 = wall / ink); ``ends`` are
    the walls' ends (``jambs.wall_ends``), the candidate free ends of leaves,
    which are ``min_length``..``max_length`` px long.
    """
    check_mask(walls, "walls")
    check_mask(ink, "ink")
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got {min_length}, {max_length}")
    thin = cv2.dilate(ink & (1 - walls), np.ones((5, 5), np.uint8))  # 2 px slack
    leaves = np.zeros_like(walls)
    for end in ends:
        length = _stub_length(walls, end, max_length)
        if length >= min_length and _has_arc(thin, end, length):
            # with its flanks and a little past its end: a speck left there parts as much
            wide = _widened(end)
            ahead_of(leaves, wide, wide.low - end.low, length)[:] = 1
    return leaves


def _widened(end: Jamb) -> Jamb:
    """The end looking back along its run, its band widened on each side by its width + 2."""
    flank = end.high - end.low + 3
    return Jamb(end.axis, -end.ahead, end.tip, end.low - flank, end.high + flank)


def _stub_length(walls: np.ndarray, end: Jamb, max_length: int) -> int:
    """How far back from ``end`` a lone stub runs before it meets a wall across it; 0 when the
    run is no stub (it is flanked by wall, or never meets one within ``max_length``)."""
    wide = _widened(end)
    flank = end.low - wide.low
    if wide.low < 0 or wide.high >= walls.shape[end.axis]:
        return 0
    band = ahead_of(walls, wide, 0, max_length + 1).astype(np.float64)
    if band.shape[1] <= max_length:
        return 0  # runs off the page
    stub = band[flank:-flank].mean(axis=0)
    sides = np.r_[band[:flank], band[-flank:]].mean(axis=0)
    base = np.flatnonzero(band.mean(axis=0) >= SOLID)
    if not len(base) or base[0] == 0:
        return 0
    length = int(base[0])
    # on average: the arc's end and anti-aliasing may stick to the free end
    lone = stub[:length].mean() >= SOLID and sides[:length].mean() <= 1 - SOLID
    return length if lone else 0


def _has_arc(thin: np.ndarray, end: Jamb, length: int) -> bool:
    """Whether a quarter circle of thin ink swings from the stub's free end to the wall, on
    either side, centred where the stub meets the wall."""
    middle = (end.low + end.high) / 2
    hinge = end.tip - end.ahead * length  # on the wall's face
    along = hinge + end.ahead * length * np.cos(ANGLES)
    height, width = thin.shape
    for side in (-1, 1):
        across = middle + side * length * np.sin(ANGLES)
        x, y = (along, across) if end.axis == 0 else (across, along)
        x, y = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)
        if x.min() < 0 or y.min() < 0 or x.max() >= width or y.max() >= height:
            continue
        if thin[y, x].mean() >= ARC_COVER:
            return True
    return False
