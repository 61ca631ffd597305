"""A mask's pieces joined from its runs along rows, not labelled px by px.

A page holds a few ten thousand runs of ink or of paper against over a million px: a run
meets the runs of the row above that share a column with it (or touch one at a corner, for
8-connected pieces), and joining that graph of runs costs a fraction of OpenCV's labelling of
every px, which reads the same pieces (numbered alike or not). A noisy scan's many short runs
join into many small pieces, which OpenCV's labelling reads sooner.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.sparse import csgraph, csr_matrix

from locdetect_worker.detector._components import row_edges

NOISY = 25  # px a run or fewer on average: joining the runs costs more than labelling the px


def run_pieces(
    mask: np.ndarray, connectivity: int
) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(count, (starts, stops, pieces)) of an (H, W) 0/1 ``uint8`` mask: the flat starts and
    stops (one past) of its runs of ones along rows, in raster order, and the piece
    0..count-1 (its ``connectivity``-connected component, 4 or 8) that each run lies in. The
    pieces' numbering is left open: it differs between the joined runs and OpenCV's labelling."""
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    width = mask.shape[1]
    # on rows padded with a 0 at each end, a run never meets one on the next row across the
    # page's edge
    _, edges = row_edges(mask)
    starts, stops = edges[::2], edges[1::2]
    step, corner = width + 2, int(connectivity == 8)
    unpadded = 2 * (starts // step) + 1  # the pads before a run: two a row, and its row's first
    if NOISY * starts.size > mask.size:
        # Grana's algorithm is the fastest for 8-connected pieces, OpenCV's default for 4
        algorithm = cv2.CCL_GRANA if connectivity == 8 else cv2.CCL_DEFAULT
        count, labels = cv2.connectedComponentsWithAlgorithm(
            mask, connectivity, cv2.CV_32S, algorithm
        )
        first_px = starts - unpadded
        return count - 1, (first_px, stops - unpadded, labels.ravel()[first_px] - 1)
    # the runs a row above a run that meet it: from the first that stops past its start (or at
    # it, corner to corner) to the last that starts before its stop (or at it)
    first = _at_most(stops, starts - step - corner)
    above = _at_most(starts, stops - step + corner - 1) - first
    ends = np.cumsum(above)
    runs_above = np.arange(int(ends[-1]) if ends.size else 0) + np.repeat(
        first - ends + above, above
    )
    joins = csr_matrix(
        (np.ones(runs_above.size, bool), runs_above, np.r_[0, ends]),
        shape=(starts.size, starts.size),
    )
    count, pieces = csgraph.connected_components(joins, directed=False)
    return count, (starts - unpadded, stops - unpadded, pieces)


def _at_most(values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """How many of the sorted ``values`` are at most each of the sorted ``queries``: one stable
    merge of the two (values first among equals), in about half the time of a binary search
    per query."""
    order = np.argsort(np.concatenate([values, queries]), kind="stable")
    return np.flatnonzero(order >= values.size) - np.arange(queries.size)
