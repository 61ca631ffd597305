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
    for end, length in zip(ends, _stub_lengths(walls, ends, max_length), strict=True):
        if length >= min_length and _has_arc(thin, end, int(length)):
            # with its flanks and a little past its end: a speck left there parts as much
            flank = end.high - end.low + 3
            wide = Jamb(end.axis, -end.ahead, end.tip, end.low - flank, end.high + flank)
            ahead_of(leaves, wide, -flank, int(length))[:] = 1
    return leaves


def _stub_lengths(walls: np.ndarray, ends: list[Jamb], max_length: int) -> np.ndarray:
    """(len(ends),) how far back from each end a lone stub runs before it meets a wall across
    it; 0 when the run is no stub (flanked by wall, or meeting none within ``max_length``).

    The run is read one px-wide slice at a time, across its band widened on each side by
    its width + 2 px, from one summed-area table for every end at once.
    """
    table = cv2.integral(walls, sdepth=cv2.CV_32S)
    axis, ahead, tip, low, high = np.array(ends, np.int64).reshape(-1, 5).T[:, :, None]
    flank = high - low + 3
    along = tip - ahead * np.arange(max_length + 1)  # (ends, slices)
    size = np.where(axis == 0, walls.shape[1], walls.shape[0])
    fits = (low - flank >= 0) & (high + flank < np.where(axis == 0, *walls.shape))
    fits &= (along >= 0).all(axis=1, keepdims=True) & (along < size).all(axis=1, keepdims=True)
    along = np.clip(along, 0, size - 1)

    def summed(first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Wall px of each slice between ``first`` and ``last`` (inclusive) across the run."""
        first, last = np.maximum(first, 0), np.maximum(last, 0)  # off the page: no stub
        x0 = np.where(axis == 0, along, first)
        x1 = np.where(axis == 0, along, last) + 1
        y0 = np.where(axis == 0, first, along)
        y1 = np.where(axis == 0, last, along) + 1
        y1, x1 = np.minimum(y1, walls.shape[0]), np.minimum(x1, walls.shape[1])
        return table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]

    band = high - low + 1
    stub_px, whole_px = summed(low, high), summed(low - flank, high + flank)
    stub, sides = stub_px / band, (whole_px - stub_px) / (2 * flank)
    base = whole_px >= SOLID * (band + 2 * flank)
    length = np.where(base.any(axis=1), base.argmax(axis=1), 0)
    before = np.arange(max_length + 1) < length[:, None]
    count = np.maximum(length, 1)
    # on average: the arc's end and anti-aliasing may stick to the free end
    lone = ((stub * before).sum(axis=1) >= SOLID * count) & (
        (sides * before).sum(axis=1) <= (1 - SOLID) * count
    )
    return np.where(fits[:, 0] & lone, length, 0)


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
