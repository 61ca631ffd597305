"""Close openings between two wall ends that face each other in line.

A wall that stops and starts again further along the same line leaves an
opening: a doorway whose door is not drawn, a passage the annotators close
with a virtual line, or a window drawn in thin lines. Only a pair of ends in
line, whose bands overlap, with no wall between them, is bridged; a wall end
facing the side of another wall, a corridor between parallel walls or a wide
open plan is not.
"""

from __future__ import annotations

import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector.jambs import Jamb, ahead_of

OVERLAP = 0.6  # share of the thicker end's band the two bands must share
SOLID = 0.9  # share of the band behind an end that must be wall


def facing_bridges(
    walls: np.ndarray, ends: list[Jamb], max_gap: int, min_length: int
) -> np.ndarray:
    """(H, W) ``uint8`` bridges (1) between facing wall ends up to ``max_gap`` px apart.

    ``walls`` is (H, W) ``uint8`` (1 = wall); ``ends`` are its ends
    (``jambs.wall_ends``). Each end must close a wall at least ``min_length`` px
    long: the strokes of letters and symbols kept as walls face each other too.
    """
    check_mask(walls, "walls")
    if max_gap < 1 or min_length < 1:
        raise ValueError(f"max_gap and min_length must be >= 1, got {max_gap}, {min_length}")
    ends = [end for end in ends if _behind(walls, end, min_length).mean() >= SOLID]
    backwards = {
        axis: np.array([e[2:] for e in ends if e.axis == axis and e.ahead < 0], np.int64)
        for axis in (0, 1)
    }  # (tip, low, high) rows of the ends that look back, per axis
    bridges = np.zeros_like(walls)
    for end in ends:
        others = backwards[end.axis]
        if end.ahead < 0 or not len(others):
            continue
        gaps = others[:, 0] - end.tip - 1
        lows, highs = np.maximum(others[:, 1], end.low), np.minimum(others[:, 2], end.high)
        thicker = np.maximum(others[:, 2] - others[:, 1], end.high - end.low) + 1
        facing = (gaps > 0) & (gaps <= max_gap) & (highs - lows + 1 >= OVERLAP * thicker)
        for gap, low, high in zip(gaps[facing], lows[facing], highs[facing], strict=True):
            shared = end._replace(low=int(low), high=int(high))
            if not ahead_of(walls, shared, 1, int(gap) + 1).any():
                ahead_of(bridges, shared, 1, int(gap) + 1)[:] = 1
    return bridges


def _behind(walls: np.ndarray, end: Jamb, length: int) -> np.ndarray:
    """The wall's band over ``length`` px behind its end (the end's own px first)."""
    return ahead_of(walls, end._replace(ahead=-end.ahead), 0, length)
