"""Drop the sheet frame from the walls, so the margin it encloses reads as outside.

A sheet frame is a set of straight lines running along most of the drawing's
width or height, with a blank margin inside it around the drawing. Its lines
close the margin and the title block into "rooms", so every row (and column)
of the wall mask holding one unbroken run over ``share`` of the drawing loses
that run, and whatever hangs on those runs (the title block's grid, a legend
box) goes with them: its cells are paper of the sheet, not rooms.

The margin is what tells a frame from the outer wall of a plan cropped tight
to its building, which runs as far but encloses rooms; so lines are dropped
only when :func:`frames_a_margin` finds a margin. A sheet scanned askew loses
a frame's corner past the scan's edge, and turned upright it has blank corners
besides: the margin then reaches the page's edge, and the frame's lines run
short of the page. So lines are measured against the box of what is drawn, and
:func:`stands_free` tells such a frame by what hangs on its lines: a frame
carries only its title block, a building's outer wall carries all its walls.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import fill_runs, row_edges, run_starts

FRAME_SHARE = 0.9
STRETCH = 1024  # px beside the frame lines read at once for the next piece to fill
MARGIN_SPAN = 0.85  # the free space inside a frame spans at least this share of the page
STANDING = 0.5  # least share of the walls that stands once a frame's lines and all on them go


def frames_a_margin(sealed: np.ndarray) -> bool:
    """Whether (H, W) ``uint8`` walls (1 = wall), door gaps closed, hold a frame around a margin.

    Inside a frame, free space that does not reach the sheet's edge spans
    nearly the whole page both ways: the margin around the drawing. In a plan
    cropped tight to its building the free space inside is rooms, and only a
    room filling the whole building would span that far. Such a space crosses
    the page's middle row, so only the spaces there are filled to measure them.
    """
    check_mask(sealed, "sealed")
    height, width = sealed.shape
    free = 1 - sealed
    filled = np.zeros((height + 2, width + 2), np.uint8)  # floodFill's mask has a border
    row = height // 2
    starts = run_starts(free[row : row + 1])  # a run lies in one space
    # a run at either end of the row lies in space that reaches the edge: no need to fill it
    # (most often the outside, the largest space)
    ends_at_edge = starts == starts[-1] if free[row, -1] else np.zeros(len(starts), bool)
    for x in starts[(starts > 0) & ~ends_at_edge]:
        if filled[row + 1, x + 1]:
            continue
        flags = 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
        _, _, _, (left, top, box_width, box_height) = cv2.floodFill(
            free, filled, (int(x), row), 1, flags=flags
        )
        inside = left > 0 and top > 0 and left + box_width < width and top + box_height < height
        if inside and min(box_width / width, box_height / height) >= MARGIN_SPAN:
            return True
    return False


def stands_free(walls: np.ndarray, unframed: np.ndarray) -> bool:
    """Whether at least ``STANDING`` of the (H, W) ``uint8`` walls stay in ``unframed``, their
    :func:`drop_frame_lines`, and what went spans the drawing both ways: the long lines were a
    frame around the building, not the wall of one wing of it broken off the rest."""
    total = cv2.countNonZero(walls)
    if total == 0 or cv2.countNonZero(unframed) < STANDING * total:
        return False
    _, _, width, height = cv2.boundingRect(walls)
    _, _, gone_width, gone_height = cv2.boundingRect(walls - unframed)
    return gone_width >= FRAME_SHARE * width and gone_height >= FRAME_SHARE * height


def drop_frame_lines(walls: np.ndarray, share: float = FRAME_SHARE) -> np.ndarray:
    """(H, W) ``uint8`` walls without runs longer than ``share`` of the drawing's width or height
    (the box of the walls), nor what hangs on them."""
    check_mask(walls, "walls")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share}")
    unframed = walls.copy()
    kept = _drawn(unframed)  # a view: cleared in place
    _clear_long_runs(kept, share, _counts(kept, along_rows=True))
    # a view: clears the columns in place
    _clear_long_runs(kept.T, share, _counts(kept, along_rows=False))
    frame = cv2.dilate(_drawn(walls) - kept, np.ones((3, 3), np.uint8))
    # What hangs on the long lines is filled from the kept pixels beside them: on a framed
    # sheet its title block, so this costs far less than labelling every piece of the walls.
    height, width = kept.shape
    hanging = np.zeros((height + 2, width + 2), np.uint8)  # floodFill's mask has a border
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    beside = np.flatnonzero((kept & frame).view(bool))  # 0/1 masks: a bool view is fast
    # Each fill takes a whole piece, so the px beside the lines that it took are skipped a
    # stretch at a time (read where the fill's mask, with its border, has them), not one by
    # one; a stretch, not the whole list, so that a page of many small pieces stays linear.
    bordered = beside + 2 * (beside // width) + width + 3
    taken = hanging.ravel()
    done = 0
    while done < beside.size:
        stretch = np.flatnonzero(taken[bordered[done : done + STRETCH]] == 0)
        if not stretch.size:
            done += STRETCH
            continue
        done += int(stretch[0])
        row, col = divmod(int(beside[done]), width)
        cv2.floodFill(kept, hanging, (col, row), 1, flags=flags)
        done += 1
    if beside.size:
        kept[hanging[1:-1, 1:-1] != 0] = 0
    return unframed


def _drawn(mask: np.ndarray) -> np.ndarray:
    """The view of a mask inside the box of its nonzero pixels (all of it when blank)."""
    x, y, width, height = cv2.boundingRect(mask)
    return mask[y : y + height, x : x + width] if width else mask


def _counts(mask: np.ndarray, along_rows: bool) -> np.ndarray:
    """Nonzero pixels per row (or per column) of a mask, as OpenCV sums them quickly."""
    on = (mask != 0).view(np.uint8)
    return cv2.reduce(on, 1 if along_rows else 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()


def _clear_long_runs(mask: np.ndarray, share: float, counts: np.ndarray) -> None:
    """Zero, in place, every run of ones longer than ``share`` of a row.

    ``counts`` are the nonzero pixels of each row: only the rows with enough are read, all
    together.
    """
    width = mask.shape[1]
    rows = np.flatnonzero(counts >= share * width)
    if not rows.size:
        return
    line, edges = row_edges(mask[rows])
    starts, stops = edges[::2], edges[1::2]
    long = stops - starts >= share * width
    fill_runs(line, starts[long], stops[long], 0)
    mask[rows] = line.reshape(len(rows), width + 2)[:, 1:-1]
