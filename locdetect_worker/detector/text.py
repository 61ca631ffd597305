"""Ink -> the lines of text written on a plan (room names and areas).

Letters are small ink components of about one height, side by side; at a
working resolution neighbouring capitals often touch and read as one wide
component, so a line of text is a row of components of a letter's height,
each no denser than a letter, joined across gaps narrower than a letter,
that runs about twice as long as it is high or more (a two-letter name, a
WC's, counts). Furniture is larger, door sills and leaves are thinner, walls
are long and solid. Bold letters fill most of their box and come out of the
wall step as walls: the wall pieces that stand in a line of text are dropped.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import (
    fill_runs,
    label_boxes,
    piece_boxes,
    pieces_with_stats,
)
from locdetect_worker.detector._runs import run_pieces

FILL = 0.9  # most share of its box a glyph (a letter or touching letters, bold ones too) fills
GAP = 0.6  # widest gap between glyphs of one line, in the highest letter height asked for
LONG = 1.8  # least length of a line of text, in its height
ON = 0.3  # least share of a line's box on a space for the line to stand on (name) that space
WRITTEN = 0.7  # least share of a wall piece's pixels in lines of text for the piece to be text


def text_lines(ink: np.ndarray, low: float, high: float) -> np.ndarray:
    """(n, 4) ``int64`` boxes [x, y, width, height] of the horizontal lines of text in an
    (H, W) ``uint8`` ink mask whose letters are ``low`` to ``high`` px high."""
    check_mask(ink, "ink")
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high, got {low}, {high}")
    count, runs = run_pieces(ink, 8)
    starts, stops, found = runs
    # boxes and areas from the runs alone (the mask gives the boxes only the page's shape)
    _, _, width, height = label_boxes(ink, count, runs).T
    area = np.bincount(found, stops - starts, count)
    glyph = (height >= low) & (height <= high) & (area <= FILL * width * height)
    if not glyph.any():
        return np.zeros((0, 4), np.int64)
    gap = max(1, int(GAP * high))
    # the glyphs' few runs painted, each run on for ``gap`` px (a dilation along the rows), with
    # room on the right for the run-on past a line's last glyph, even at the page's edge
    page_height, page_width = ink.shape
    joined = np.zeros((page_height, page_width + gap), np.uint8)
    picked = glyph[found]
    shift = starts[picked] // page_width * gap  # each row starts gap px further on
    first, last = starts[picked] + shift, stops[picked] + shift + gap
    # runs that overlap once run on are painted as one (their starts are in raster order)
    reach = np.maximum.accumulate(last)
    opens = np.r_[True, first[1:] > reach[:-1]]
    closes = np.r_[opens[1:], True]
    fill_runs(joined.ravel(), first[opens], reach[closes], 1)
    boxes = piece_boxes(joined)
    boxes[:, 2] -= gap  # the painting ran on past the last glyph
    tall = boxes[:, 3]
    return boxes[(tall >= low) & (tall <= high) & (boxes[:, 2] >= LONG * tall)]


def without_text(walls: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """A 0/1 ``walls`` mask without its pieces that lie near a line of text (boxes [x, y, width,
    height]), within its height of its box, and mostly (``WRITTEN``) on the box.

    Bold letters read as thick strokes, and a long word's tops and bottoms as a pair of long
    lines: such a piece stands alone in its room, while a wall that a name touches runs on.
    Each line is read in its own small crop: labelling the page costs several times more.
    """
    kept = walls
    page_height, page_width = walls.shape
    for x, y, width, height in lines.tolist():
        if not cv2.countNonZero(walls[y : y + height, x : x + width]):
            continue  # no wall on the line's box: none is text (most names stand clear)
        top, left = max(0, y - height), max(0, x - height)
        bottom, right = min(page_height, y + 2 * height), min(page_width, x + width + height)
        crop = walls[top:bottom, left:right]
        count, labels, stats = pieces_with_stats(crop)
        on_box = labels[y - top : y - top + height, x - left : x - left + width]
        inside = np.bincount(on_box.ravel(), minlength=count)
        ends_x = stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH]
        ends_y = stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT]
        # a piece that reaches the crop's edge runs on beyond it
        within = (
            (stats[:, cv2.CC_STAT_LEFT] > 0)
            & (stats[:, cv2.CC_STAT_TOP] > 0)
            & (ends_x < right - left)
            & (ends_y < bottom - top)
        )
        text = within & (inside >= WRITTEN * stats[:, cv2.CC_STAT_AREA])
        text[0] = False
        if text.any():
            if kept is walls:
                kept = walls.copy()
            kept[top:bottom, left:right][text[labels]] = 0
    return kept


def lines_on(mask: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """The lines of text (boxes [x, y, width, height]) that stand on a 0/1 ``mask`` (``ON`` of
    each box)."""
    on = [
        cv2.countNonZero(mask[y : y + height, x : x + width]) >= ON * width * height
        for x, y, width, height in lines.tolist()
    ]
    return lines[np.array(on, bool)] if on else lines


def named_labels(labels: np.ndarray, lines: np.ndarray, count: int) -> np.ndarray:
    """(count + 1,) ``bool``: which labels 0..count of an (H, W) ``int32`` label image have a
    line of text (boxes [x, y, width, height]) standing on them (``ON`` of its box)."""
    named = np.zeros(count + 1, bool)
    for x, y, width, height in lines.tolist():
        # counted, not sorted (a few labels); a label counts with at least a px on the box
        pixels = np.bincount(labels[y : y + height, x : x + width].ravel(), minlength=count + 1)
        named |= pixels >= max(ON * width * height, 1)
    named[0] = False
    return named


def lines_in(lines: np.ndarray, x: int, y: int, width: int, height: int) -> np.ndarray:
    """The lines of text (boxes [x, y, width, height]) wholly inside the box ``x``, ``y``,
    ``width``, ``height``, in the box's own coordinates (to read a crop's names)."""
    inside = (
        (lines[:, 0] >= x)
        & (lines[:, 1] >= y)
        & (lines[:, 0] + lines[:, 2] <= x + width)
        & (lines[:, 1] + lines[:, 3] <= y + height)
    )
    return lines[inside] - np.array([x, y, 0, 0], lines.dtype)
