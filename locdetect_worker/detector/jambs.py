"""Walls -> jambs: the ends of straight wall runs that face paper, where openings start.

Doors and openings sit between wall ends. An end is found where a horizontal
(or vertical) run of wall stops and the next pixel is paper; the rows of one
ragged end (a scan, a slanted cut) are joined. Steps that bridge openings
read the paper ahead of each end through ``ahead_of``.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import row_edges


class Jamb(NamedTuple):
    """A wall run's end: ``tip`` along ``axis`` (0 = runs along x), band ``low``..``high``
    across it, and the direction ``ahead`` (+1 / -1) the opening lies in."""

    axis: int
    ahead: int
    tip: int
    low: int
    high: int


def wall_ends(walls: np.ndarray, min_run: int, thickest: int) -> list[Jamb]:
    """Ends of horizontal and vertical wall runs facing paper, less than ``thickest`` px wide.

    ``walls`` is (H, W) ``uint8`` (1 = wall); runs are at least ``min_run`` px long.
    """
    check_mask(walls, "walls")
    if min_run < 1 or thickest < 1:
        raise ValueError(f"min_run and thickest must be >= 1, got {min_run}, {thickest}")
    jambs = []
    for axis in (0, 1):
        along_rows = walls if axis == 0 else cv2.transpose(walls)
        width = along_rows.shape[1]
        run_row, run_first, run_stop = _long_runs(along_rows, min_run | 1)  # odd: centred
        for ahead in (1, -1):
            # the px ahead of the run's end is paper, not the page's edge
            inside = run_stop < width if ahead > 0 else run_first > 0
            across = run_row[inside]
            along = run_stop[inside] - 1 if ahead > 0 else run_first[inside]
            if not len(along):
                continue
            order = np.lexsort((across, along))
            across, along = across[order], along[order]
            breaks = np.flatnonzero((np.diff(along) != 0) | (np.diff(across) != 1)) + 1
            starts, stops = np.r_[0, breaks], np.r_[breaks, len(along)] - 1
            lows, highs, tips = across[starts], across[stops], along[starts]
            # pieces whose tips are more than 2 px from every tip of another group's never
            # join it: joining each group on its own keeps the open ends few
            known = np.unique(tips)
            group = np.searchsorted(known[1:][np.diff(known) > 2], tips, side="right")
            order = np.lexsort((tips, highs, lows, group))
            pieces = np.column_stack([lows, highs, tips])[order].tolist()
            cuts = [0, *(np.flatnonzero(np.diff(group[order])) + 1).tolist(), len(pieces)]
            for first, last in itertools.pairwise(cuts):
                for low, high, tip in _joined(pieces[first:last], ahead):
                    if high - low < thickest:
                        jambs.append(Jamb(axis, ahead, int(tip), int(low), int(high)))
    return jambs


def _long_runs(rows: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, first, stop) ``int64`` of the runs of nonzero px along an (H, W) ``uint8`` mask's
    rows that an opening with a ``(1, length)`` kernel (``length`` odd) keeps, from the runs'
    edges instead of two passes of morphology: runs of ``length`` px or more, and, as OpenCV
    reads beyond the page as wall while it erodes, runs from a page edge of over half as many."""
    padded = rows.shape[1] + 2
    _, edges = row_edges(rows)
    row = edges[0::2] // padded
    first = edges[0::2] - row * padded - 1
    stop = edges[1::2] - row * padded - 1
    run, left, right = stop - first, first == 0, stop == rows.shape[1]
    kept = (run >= length) | ((left | right) & (run > length // 2)) | (left & right)
    return row[kept], first[kept], stop[kept]


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


def ahead_of(mask: np.ndarray, jamb: Jamb, start: int, stop: int) -> np.ndarray:
    """A view of ``mask`` across the jamb's band, from ``start`` to ``stop`` px ahead of its tip.

    Rows are the band's rows, columns go away from the jamb; both end at the page's edges.
    """
    rows = slice(max(0, jamb.low), jamb.high + 1)
    if jamb.ahead > 0:
        first = max(0, jamb.tip + start)
        ahead = slice(first, max(first, jamb.tip + stop))
    else:
        first = max(0, jamb.tip - stop + 1)
        ahead = slice(first, max(first, jamb.tip - start + 1))
    view = mask[rows, ahead] if jamb.axis == 0 else mask[ahead, rows].T
    return view if jamb.ahead > 0 else view[:, ::-1]


def summed_area(mask: np.ndarray) -> np.ndarray:
    """The summed-area table :func:`ahead_sums` reads a mask from (to read it once for several
    looks ahead of the ends)."""
    return cv2.integral(mask, sdepth=cv2.CV_32S)


def end_table(ends: list[Jamb]) -> np.ndarray:
    """(len(ends), 5) ``int64`` rows (axis, ahead, tip, low, high) of the ends: read as one flat
    run of ints, a few times faster than numpy reading each named tuple as a sequence."""
    flat = np.fromiter(itertools.chain.from_iterable(ends), np.int64, 5 * len(ends))
    return flat.reshape(-1, 5)


def ahead_sums(
    mask: np.ndarray,
    ends: list[Jamb] | np.ndarray,
    start: int,
    stop: int,
    summed: np.ndarray | None = None,
) -> np.ndarray:
    """(len(ends), 2) ``int64``: each :func:`ahead_of` view's sum of ``mask`` and its size;
    ``ends`` as jambs or their :func:`end_table`.

    From one summed-area table (``summed``: this ``mask``'s own :func:`summed_area`, when the
    caller has it), instead of a view per end.
    """
    table = summed_area(mask) if summed is None else summed
    if table.shape != (mask.shape[0] + 1, mask.shape[1] + 1):
        raise ValueError(f"summed is {table.shape}, not the table of a {mask.shape} mask")
    rows = ends if isinstance(ends, np.ndarray) else end_table(ends)
    axis, ahead, tip, low, high = rows.T
    lengths = np.where(axis == 0, mask.shape[1], mask.shape[0])
    first = np.where(ahead > 0, tip + start, np.maximum(0, tip - stop + 1))
    last = np.where(ahead > 0, np.maximum(first, tip + stop), np.maximum(first, tip - start + 1))
    first, last = np.minimum(first, lengths), np.minimum(last, lengths)
    sums = run_box_sums(table, axis, first, last, low, high + 1)
    return np.stack([sums, (last - first) * (high + 1 - low)], axis=1).astype(np.int64)


def run_box_sums(
    table: np.ndarray,
    axis: np.ndarray,
    along: np.ndarray,
    along_stop: np.ndarray,
    across: np.ndarray,
    across_stop: np.ndarray,
) -> np.ndarray:
    """Sums over boxes from a summed-area ``table`` (``cv2.integral``), each box given along
    and across its run (``axis`` 0: the run goes along x) as half-open pixel ranges."""
    top, bottom = np.where(axis == 0, across, along), np.where(axis == 0, across_stop, along_stop)
    left, right = np.where(axis == 0, along, across), np.where(axis == 0, along_stop, across_stop)
    # flat indices into the raveled table: a few times faster than indexing by rows and columns
    flat, stride = table.ravel(), table.shape[1]
    top, bottom = top * stride, bottom * stride
    return (np.take(flat, bottom + right) - np.take(flat, top + right)) - (
        np.take(flat, bottom + left) - np.take(flat, top + left)
    )
