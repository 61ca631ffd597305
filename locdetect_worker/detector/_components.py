"""Labelled components read from their runs along rows, not pixel by pixel.

``scipy.ndimage.find_objects`` and the statistics of OpenCV's
``connectedComponentsWithStats`` cost several times a plain labelling. A row
of a label image holds few runs of one label, so reducing over the runs gives
the same boxes for a fraction; and a run of a mask lies in one component, so
its first pixel names it.
"""

from __future__ import annotations

import cv2
import numpy as np

SMALL_MASK = 1 << 15  # px: on a smaller mask OpenCV's own statistics cost less than the runs
# runs along a mask's rows from which its pieces' outlines are traced level by level (plans:
# up to about 10,000), counted on every RUN_SAMPLE-th row (a prime: no grid hides its runs)
MANY_RUNS, RUN_SAMPLE = 1 << 15, 17
LEVELS = 4  # pieces in holes of pieces in holes...: levels traced one by one, then the rest


def pieces_with_stats(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(count, (H, W) ``int32`` labels, (count, 5) ``int32`` stats) of a mask's 8-connected
    pieces, as ``connectedComponentsWithStats`` gives them.

    Grana's algorithm gives the same labels as OpenCV's default (Spaghetti) in about a third
    of the time on our masks. Its statistics cost twice the labelling (every background pixel
    is counted; on a page of odd height or width, more), so on a mask of ``SMALL_MASK`` px or
    more boxes and areas are read from the label image's runs instead; on a smaller one (a
    crop) numpy's calls cost more than OpenCV's counting.
    """
    if mask.size < SMALL_MASK:
        count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
            mask, 8, cv2.CV_32S, cv2.CCL_GRANA
        )
        return count, labels, stats
    count, labels = cv2.connectedComponentsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    runs = label_runs(labels)
    starts, stops, found = runs
    areas = np.bincount(found, stops - starts, count)
    stats = np.column_stack([label_boxes(labels, count, runs), areas]).astype(np.int32)
    return count, labels, stats


def outer_outlines(mask: np.ndarray) -> list[np.ndarray]:
    """The outer outlines of a mask's 8-connected pieces (a piece in another's hole has one
    too), from OpenCV's two levels of outlines, in their order (the last first px first).

    OpenCV nests the holes' outlines in time that grows with the square of their number (a
    grid of specks closed into a lattice: minutes). A hole lies between two runs of a row, so
    on a mask with ``MANY_RUNS`` runs or more along its rows (counted on every
    ``RUN_SAMPLE``-th row) the outer outlines are traced level by level instead.
    """
    sample = mask[::RUN_SAMPLE]
    if np.count_nonzero(sample[:, 1:] != sample[:, :-1]) * RUN_SAMPLE >= 2 * MANY_RUNS:
        return _outer_by_levels(mask)
    return _outer_with_holes(mask)


def _outer_with_holes(mask: np.ndarray) -> list[np.ndarray]:
    """:func:`outer_outlines` from OpenCV's two levels of outlines."""
    outlines, nesting = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    # an outer outline has no parent, a piece in another's hole neither
    return [c for c, up in zip(outlines, nesting[0, :, 3]) if up < 0] if outlines else []


def _outer_by_levels(mask: np.ndarray) -> list[np.ndarray]:
    """:func:`outer_outlines` with no hole traced: the outermost pieces' outlines, then, with
    those pieces taken out, the outermost of the rest (the pieces in their holes), and so on
    for ``LEVELS`` levels; pieces nested deeper (rings in rings: a pass over the page per
    level) are read with their holes. A piece's outline is the same whatever lies beside it."""
    count, labels = cv2.connectedComponentsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    outlines: list[np.ndarray] = []
    firsts = [np.zeros((0, 2), np.int32)]
    rest = mask
    for level in range(LEVELS + 1):
        if level < LEVELS:
            found = cv2.findContours(rest, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
        else:
            found = _outer_with_holes(rest)
        if not found:
            break
        outlines += found
        firsts.append(np.array([outline[0, 0] for outline in found]))
        traced = np.zeros(count, bool)
        traced[labels[firsts[-1][:, 1], firsts[-1][:, 0]]] = True
        rest = np.where(traced[labels], np.uint8(0), rest)
    x, y = np.concatenate(firsts).T
    return [outlines[i] for i in np.lexsort((x, y))[::-1]]


def row_edges(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flat, edges) of an (n, W) ``uint8`` block: its rows, each padded with a 0 at both ends,
    laid end to end, and the flat indices where its runs of nonzero px start and stop (the
    padding makes them alternate: start, stop, start, ...)."""
    flat = cv2.copyMakeBorder(rows, 0, 0, 1, 1, cv2.BORDER_CONSTANT, value=0).ravel()
    return flat, np.flatnonzero(flat[1:] != flat[:-1]) + 1


def filled_pieces(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((H, W) labels, (count, 5) ``int32`` stats) of a 0/1 mask's 8-connected pieces as
    :func:`pieces_with_stats` gives them, but for the background's row of stats (zeros).

    A mask of a few large pieces (a plan's walls) is labelled by filling each piece from the
    first px of its outline (its first px in raster order), in about half the time of
    labelling every px, with the areas and boxes the fills report, and renumbered as OpenCV
    numbers them. The labels are ``uint8`` then (255 marks the px not yet filled); with 255
    pieces or more, ``int32`` from :func:`pieces_with_stats`.
    """
    tops = [outline[0, 0] for outline in outer_outlines(mask)]
    if len(tops) >= 255:
        _, labels, stats = pieces_with_stats(mask)
        stats[0] = 0
        return labels, stats
    firsts = sorted((int(y), int(x)) for x, y in tops)
    labels = mask * np.uint8(255)
    stats = np.zeros((len(firsts) + 1, 5), np.int32)
    blocks = []
    fences = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)  # floodFill's own, once
    for label, (y, x) in enumerate(firsts, start=1):
        area, _, _, box = cv2.floodFill(labels, fences, (x, y), label, flags=8)
        stats[label] = [*box, area]
        # OpenCV labels 2 x 2 blocks in raster order, so a piece's number follows its first
        # block: the pair of rows its first px is on, and its leftmost px on them
        pair = labels[y & ~1 : (y | 1) + 1] == label
        blocks.append((y // 2, int(np.flatnonzero(pair.any(axis=0))[0]) // 2))
    rank = np.array(sorted(range(len(blocks)), key=blocks.__getitem__), np.int64)
    if (rank != np.arange(len(rank))).any():
        numbers = np.arange(256, dtype=np.uint8)
        numbers[rank + 1] = np.arange(1, len(rank) + 1)
        labels = cv2.LUT(labels, numbers)
        stats[1:] = stats[1:][rank]
    return labels, stats


def piece_boxes(mask: np.ndarray) -> np.ndarray:
    """(n, 4) ``int64`` [x, y, width, height] boxes of a mask's 8-connected pieces, top to
    bottom (then left to right): the boxes of their outer outlines.

    On a sparse mask a few outlines cost far less than labelling every pixel. Two levels of
    outlines list the pieces that lie in another's hole among the outer ones too.
    """
    outer = [cv2.boundingRect(outline) for outline in outer_outlines(mask)]
    if not outer:
        return np.zeros((0, 4), np.int64)
    boxes = np.array(outer, np.int64)
    return boxes[np.lexsort((boxes[:, 0], boxes[:, 1]))]


def label_runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, stops, labels) of the runs of equal labels along an (H, W) label image's rows.

    ``starts`` and ``stops`` (one past each run's last pixel) are flat indices.
    """
    # compared along the flat image (contiguous: a few times faster than row by row), then
    # every row's first pixel starts a run
    flat = labels.ravel()
    starts_here = np.empty(flat.size, bool)
    np.not_equal(flat[1:], flat[:-1], out=starts_here[1:])
    starts_here[:: labels.shape[1]] = True
    starts = np.flatnonzero(starts_here)
    return starts, np.append(starts[1:], labels.size), np.take(labels, starts)


def label_boxes(
    labels: np.ndarray,
    count: int,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(count, 4) ``int64`` [x, y, width, height] of labels 0..count-1 in an (H, W) label image.

    A label with no pixels gets width and height 0. Labels must lie in 0..count-1.
    ``runs`` are the image's :func:`label_runs`, when the caller has them already.
    """
    height, width = labels.shape
    starts, stops, found = runs if runs is not None else label_runs(labels)
    rows, lefts = np.divmod(starts, width)
    rights = stops - 1 - rows * width
    top = np.full(count, height, np.int64)
    bottom = np.full(count, -1, np.int64)
    left = np.full(count, width, np.int64)
    right = np.full(count, -1, np.int64)
    np.minimum.at(top, found, rows)
    np.maximum.at(bottom, found, rows)
    np.minimum.at(left, found, lefts)
    np.maximum.at(right, found, rights)
    sizes = np.maximum(np.stack([right - left, bottom - top], axis=1) + 1, 0)
    return np.column_stack([left, top, sizes])


def unclaimed_box(
    rooms: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray],
    chosen: np.ndarray,
    margin: int,
) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """(mask, box): the px of the regions that ``chosen`` ((count,) ``bool`` per region label)
    picks and no room of ``rooms`` ((H, W) labels, 0 = none) holds, as a ``uint8`` 0/1 mask
    over ``box``, the box round them out to ``margin`` px (inside the page); None when there is
    no such px. ``runs`` are the regions' :func:`label_runs`. Steps that read a few small
    regions work there, not over the page.
    """
    starts, stops, found = runs
    first, last = starts[chosen[found]], stops[chosen[found]]
    if not len(first):
        return None
    # painted first in the box round the chosen runs, then cut to the box round what is left
    rows, columns = np.divmod(first, rooms.shape[1])
    top, left = max(0, int(rows.min()) - margin), max(0, int(columns.min()) - margin)
    right = int((columns + last - first).max()) + margin
    around = (slice(top, int(rows.max()) + 1 + margin), slice(left, right))
    mask: np.ndarray = np.zeros(rooms[around].shape, np.uint8)
    at = (rows - top) * mask.shape[1] + columns - left
    fill_runs(mask.ravel(), at, at + last - first, 1)
    mask *= rooms[around] == 0  # a product: an assignment through a mask costs more
    if not cv2.countNonZero(mask):
        return None
    x, y, width, height = cv2.boundingRect(mask)
    first_row, first_column = max(0, y - margin), max(0, x - margin)
    box = (
        slice(top + first_row, top + y + height + margin),
        slice(left + first_column, left + x + width + margin),
    )
    return mask[first_row : y + height + margin, first_column : x + width + margin], box


def run_starts(mask: np.ndarray) -> np.ndarray:
    """Flat indices of the first pixels of the runs of nonzero pixels along a 2-D mask's rows."""
    on = (mask if mask.dtype == bool else mask != 0).ravel()
    starts = np.empty_like(on)  # on, and off to the left (along the flat mask, as label_runs)
    np.greater(on[1:], on[:-1], out=starts[1:])
    starts[:: mask.shape[1]] = on[:: mask.shape[1]]
    return np.flatnonzero(starts)


def fill_runs(flat: np.ndarray, starts: np.ndarray, stops: np.ndarray, value: int) -> None:
    """Set, in place, the pixels of the runs [starts, stops) of a flat array to ``value``."""
    flat[run_pixels(starts, stops)] = value


def run_pixels(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The flat indices of the pixels of the runs [starts, stops), run after run."""
    lengths = stops - starts
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(int(lengths.sum())) + offsets


def label_areas(
    labels: np.ndarray,
    count: int,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(count,) ``int64`` pixels of each label 0..count-1 of an (H, W) label image (labels
    must lie in 0..count-1): summed over the runs, a few times faster than counting pixels.
    ``runs`` are the image's :func:`label_runs`, when the caller has them already."""
    starts, stops, found = runs if runs is not None else label_runs(labels)
    return np.bincount(found, stops - starts, count).astype(np.int64)


def kept_labels(
    labels: np.ndarray,
    kept: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(H, W) ``int32`` labels 1..n of the labels 1..count that ``kept`` ((count,) ``bool``)
    keeps, in their order; 0 elsewhere. ``runs`` as :func:`label_areas` takes them."""
    numbers = np.zeros(len(kept) + 1, np.int32)
    numbers[1:][kept] = np.arange(1, np.count_nonzero(kept) + 1)
    return remapped(labels, numbers, runs)


def remapped(
    labels: np.ndarray,
    numbers: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(H, W) ``numbers[labels]`` of an (H, W) label image: one look-up per run, written run by
    run, a few times faster than a look-up per pixel. ``runs`` as :func:`label_areas` takes
    them."""
    starts, stops, found = runs if runs is not None else label_runs(labels)
    return np.repeat(numbers[found], stops - starts).reshape(labels.shape)
