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
from locdetect_worker.detector.jambs import Jamb, ahead_of, ahead_sums, end_table

OVERLAP = 0.6  # share of the thicker end's band the two bands must share
SOLID = 0.9  # share of the band behind an end that must be wall


def facing_bridges(
    walls: np.ndarray,
    ends: list[Jamb],
    max_gap: int,
    min_length: int,
    summed: np.ndarray | None = None,
) -> np.ndarray:
    """(H, W) ``uint8`` bridges (1) between facing wall ends up to ``max_gap`` px apart.

    ``walls`` is (H, W) ``uint8`` (1 = wall); ``ends`` are its ends
    (``jambs.wall_ends``); ``summed`` its ``jambs.summed_area``, when the caller has it. Each
    end must close a wall at least ``min_length`` px long: the strokes of letters and symbols
    kept as walls face each other too.
    """
    check_mask(walls, "walls")
    if max_gap < 1 or min_length < 1:
        raise ValueError(f"max_gap and min_length must be >= 1, got {max_gap}, {min_length}")
    # the wall's band over min_length px behind each end (the end's own px first)
    table = end_table(ends)
    behind = ahead_sums(walls, table * [1, -1, 1, 1, 1], 0, min_length, summed)
    with np.errstate(invalid="ignore"):  # an empty band: nan, never solid
        solid = behind[:, 0] / behind[:, 1] >= SOLID
    table = table[solid]
    bridges = np.zeros(walls.shape, np.uint8)  # zeroed pages, mapped only where written
    for axis in (0, 1):
        # every pair of an end looking forward and one looking back on this axis at once
        on_axis = table[table[:, 0] == axis]
        forward = on_axis[:, 1] > 0
        tips, lows, highs = on_axis[forward, 2:].T[:, :, None]  # (tip, low, high) down the rows
        back_tips, back_lows, back_highs = on_axis[~forward, 2:].T[:, None, :]  # and across
        gaps = back_tips - tips - 1
        shared_lows, shared_highs = np.maximum(back_lows, lows), np.minimum(back_highs, highs)
        thicker = np.maximum(back_highs - back_lows, highs - lows) + 1
        facing = (
            (gaps > 0) & (gaps <= max_gap) & (shared_highs - shared_lows + 1 >= OVERLAP * thicker)
        )
        for mine, theirs in zip(*np.nonzero(facing), strict=True):
            tip, gap = int(tips[mine, 0]), int(gaps[mine, theirs])
            shared = Jamb(
                axis, 1, tip, int(shared_lows[mine, theirs]), int(shared_highs[mine, theirs])
            )
            if not ahead_of(walls, shared, 1, gap + 1).any():
                ahead_of(bridges, shared, 1, gap + 1)[:] = 1
    return bridges
