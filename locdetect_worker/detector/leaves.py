"""Find door leaves drawn as heavy strokes, so they do not part the room they swing into.

A door leaf drawn as a thick line or a thin rectangle is read as wall: a short
stub standing square off a wall face, with its far end free. Where it stands
in a corridor it narrows the free space as much as a doorway does, and the
seeds part the corridor at every door. A leaf tells itself apart from a
short wall by its swing arc: a quarter circle of ink centred where the stub
meets the wall, through the stub's free end. Only stubs with that arc are
taken, with the quarter disc they sweep (a heavy pen draws the arc as wall
too); the doorway itself is closed by the other steps. A leaf's free end is
often ragged (its arc joins it, a turned page steps it), so a stub is read
across its whole width, not just the piece of its end that was found.
"""

from __future__ import annotations

import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector.arcs import ANGLES, ARC_COVER
from locdetect_worker.detector.jambs import Jamb, ahead_of, end_table, run_box_sums, summed_area

SOLID = 0.9  # share of a row across the stub (or across stub and flanks at its base) that is wall
SLACK = 3  # px added to a stub's width to read past its own ragged edges (flanks, probes)
_WINDOW = np.arange(-2, 3)  # offsets of the px within 2 px of an arc's sample, either way


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
    leaves = np.zeros(walls.shape, np.uint8)  # zeroed pages, mapped only where a leaf is
    table = _whole_bands(walls, ends, reach=max_length // 3)
    lengths = _stub_lengths(walls, table, max_length)
    for index in np.flatnonzero(lengths >= min_length):  # only stubs long enough to be leaves
        end, length = Jamb(*table[index].tolist()), int(lengths[index])
        side = _arc_side(ink, end, length)
        if side:
            # with its flanks and a little past its end: a speck left there parts as much
            flank = end.high - end.low + SLACK
            wide = Jamb(end.axis, -end.ahead, end.tip, end.low - flank, end.high + flank)
            ahead_of(leaves, wide, -flank, length)[:] = 1
            _sweep(leaves, end, length, flank, side)
    return leaves


def _whole_bands(walls: np.ndarray, ends: list[Jamb], reach: int) -> np.ndarray:
    """The ends (``end_table`` rows) with each band widened to the whole run across it a
    little back from its tip.

    A leaf's free end is ragged where its arc joins it or a turned page steps it, so its
    end comes in pieces, each as wide as a few of its px: the stub test would read the rest
    of the leaf beside such a piece as a wall flanking it. A band stays as it was when it
    would widen past ``reach`` px on either side (a wall's end), or when wall lies across the
    widened band as far past the tip as the band is wide (a wall that a leaf stands along); the
    probe back from the tip lies as far as the band was wide before. Both add ``SLACK`` px to
    clear the leaf's own ragged end.
    """
    axis, ahead, tip, low, high = end_table(ends).T
    middle = (low + high) // 2
    # px in an unbroken run of wall from the middle, towards lower and higher across
    wall = _across(walls, axis, tip - ahead * (high - low + SLACK), middle, reach)
    below = np.cumprod(wall[:, reach::-1], axis=1).sum(axis=1)
    above = np.cumprod(wall[:, reach:], axis=1).sum(axis=1)
    wide_low = np.minimum(low, middle - below + 1)
    wide_high = np.maximum(high, middle + above - 1)
    past = _across(walls, axis, tip + ahead * (wide_high - wide_low + SLACK), middle, reach)
    offsets = np.arange(-reach, reach + 1)
    inside = (middle[:, None] + offsets >= wide_low[:, None]) & (
        middle[:, None] + offsets <= wide_high[:, None]
    )
    whole = (below > 0) & (below <= reach) & (above <= reach) & ~(past & inside).any(axis=1)
    low, high = np.where(whole, wide_low, low), np.where(whole, wide_high, high)
    # the pieces of one end may widen to one band: marking its leaf twice marks the same px
    return np.column_stack([axis, ahead, tip, low, high])


def _across(
    walls: np.ndarray, axis: np.ndarray, along: np.ndarray, middle: np.ndarray, reach: int
) -> np.ndarray:
    """(n, 2 * reach + 1) ``bool``: wall px across each run at ``along``, ``middle`` +- ``reach``
    (off the page: none)."""
    height, width = walls.shape
    across = middle[:, None] + np.arange(-reach, reach + 1)
    vertical = axis[:, None] != 0
    x = np.where(vertical, across, along[:, None])
    y = np.where(vertical, along[:, None], across)
    on_page = (x >= 0) & (y >= 0) & (x < width) & (y < height)
    at = np.clip(y, 0, height - 1) * width + np.clip(x, 0, width - 1)  # flat: a faster read
    return on_page & (np.take(walls.ravel(), at) != 0)


def _sweep(leaves: np.ndarray, end: Jamb, length: int, reach: int, side: int) -> None:
    """Mark the quarter disc the leaf sweeps, ``reach`` px past its length: its arc, when
    drawn as heavily as walls, closes a pocket and pinches the room as the leaf does."""
    radius = length + reach
    hinge = end.tip - end.ahead * length  # the first px of the wall it stands on
    middle = (end.low + end.high) // 2
    d_along, d_across = np.mgrid[1 : radius + 1, 0 : radius + 1]
    inside = d_along**2 + d_across**2 <= radius**2
    along = hinge + end.ahead * d_along[inside]
    across = middle + side * d_across[inside]
    x, y = (along, across) if end.axis == 0 else (across, along)
    height, width = leaves.shape
    keep = (x >= 0) & (y >= 0) & (x < width) & (y < height)
    leaves[y[keep], x[keep]] = 1


def _stub_lengths(walls: np.ndarray, ends: np.ndarray, max_length: int) -> np.ndarray:
    """(len(ends),) how far back from each end (``end_table`` rows) a lone stub runs before it
    meets a wall across it; 0 when the run is no stub (flanked by wall, or meeting none within
    ``max_length``).

    The run is read one px-wide slice at a time, across its band widened on each side by
    its width + ``SLACK`` - 1 px, from one summed-area table for every end at once.
    """
    table = summed_area(walls)
    axis, ahead, tip, low, high = ends.T[:, :, None]
    flank = high - low + SLACK
    along = tip - ahead * np.arange(max_length + 1)  # (ends, slices)
    height, width = walls.shape
    size = np.choose(axis, [width, height])  # the page's length along each run
    across_size = np.choose(axis, [height, width])  # and across it
    fits = (low - flank >= 0) & (high + flank < across_size)
    fits &= (along >= 0).all(axis=1, keepdims=True) & (along < size).all(axis=1, keepdims=True)
    along = np.clip(along, 0, size - 1)

    def summed(first: np.ndarray, last: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Wall px of each slice between ``first`` and ``last`` (inclusive) across the run,
        for the ends (indices: ``which``) they are given for."""
        first, last = np.maximum(first, 0), np.maximum(last, 0)  # off the page: no stub
        last = np.minimum(last + 1, across_size[which])
        return run_box_sums(table, axis[which], along[which], along[which] + 1, first, last)

    band = high - low + 1
    every = np.arange(len(ends))
    whole_px = summed(low - flank, high + flank, every)
    base = whole_px >= SOLID * (band + 2 * flank)
    length = np.where(base.any(axis=1), base.argmax(axis=1), 0)
    # a stub fits on the page and meets a wall across it: the rest need no more reading
    some = np.flatnonzero(fits[:, 0] & (length > 0))
    band, flank, length, whole_px = band[some], flank[some], length[some], whole_px[some]
    stub_px = summed(low[some], high[some], some)
    stub, sides = stub_px / band, (whole_px - stub_px) / (2 * flank)
    before = np.arange(max_length + 1) < length[:, None]
    # on average: the arc's end and anti-aliasing may stick to the free end
    lone = ((stub * before).sum(axis=1) >= SOLID * length) & (
        (sides * before).sum(axis=1) <= (1 - SOLID) * length
    )
    lengths = np.zeros(len(ends), np.int64)
    lengths[some[lone]] = length[lone]
    return lengths


def _arc_side(ink: np.ndarray, end: Jamb, length: int) -> int:
    """The side (-1 / 1 across the stub) a quarter circle of ink swings to from the stub's
    free end to the wall, centred where the stub meets the wall; 0 when there is none.

    A sample is on the arc when ink lies within 2 px of it (a 5 x 5 window), read at the
    samples only: few stubs are long enough to test, so dilating the page costs more.
    """
    middle = (end.low + end.high) / 2
    hinge = end.tip - end.ahead * length  # on the wall's face
    along = hinge + end.ahead * length * np.cos(ANGLES)
    height, width = ink.shape
    for side in (-1, 1):
        across = middle + side * length * np.sin(ANGLES)
        x, y = (along, across) if end.axis == 0 else (across, along)
        x, y = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)
        if x.min() < 0 or y.min() < 0 or x.max() >= width or y.max() >= height:
            continue
        # the window clipped to the page: its clipped px lie in it too
        rows = np.clip(y[:, None, None] + _WINDOW[:, None], 0, height - 1)
        cols = np.clip(x[:, None, None] + _WINDOW, 0, width - 1)
        if ink[rows, cols].any(axis=(1, 2)).mean() >= ARC_COVER:
            return side
    return 0
