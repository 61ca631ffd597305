"""OpenCV's area-averaging shrink (``INTER_AREA``), as two sparse matrix products.

For a factor that is not whole OpenCV weighs the source pixels one by one, at about half
again the cost of the same sums as sparse products. The weights are OpenCV's (its table of
each target pixel's source pixels and their shares), added in its order and in single
precision, along the rows first and then down the columns, so the results are the same to
the bit.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np
from scipy import sparse

EDGE = 1e-3  # OpenCV's least share of a pixel cut by a cell's edge that counts
BAND = 128  # source rows shrunk along the rows at a time


def area_shrink(
    image: np.ndarray, size: tuple[int, int] | None, factor: float = 0.0, means: bool = False
) -> np.ndarray:
    """An (H, W) ``uint8`` or ``float32`` image shrunk as ``cv2.resize(image, size, fx=factor,
    fy=factor, interpolation=cv2.INTER_AREA)`` gives it: to ``size`` = (width, height), no
    larger than (W, H), or when that is None by ``factor`` (<= 1). ``means``: a ``uint8`` image's
    ``float32`` means, as the resize of its ``float32`` copy gives them (the copy is made only
    when the factor is whole or 1)."""
    height, width = image.shape
    if size is None:
        # OpenCV rounds the size half to even, and then shrinks by the factor as given
        across_factor = down_factor = factor
        target = (round(width * factor), round(height * factor))
    else:
        across_factor, down_factor, target = size[0] / width, size[1] / height, size
    if target == (width, height):
        return image.astype(np.float32) if means else image.copy()  # whatever the factor
    if _whole(across_factor) and _whole(down_factor):  # OpenCV's fast path, for whole factors
        given = image.astype(np.float32) if means else image
        return cv2.resize(given, size, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    across = _weights(width, target[0], across_factor)
    down = _weights(height, target[1], down_factor)
    # Along the rows, a band of them at a time, turned so that each product reads whole rows
    # (source columns); the bands' temporaries stay small, in cache and off fresh pages.
    rows = np.empty((height, target[0]), np.float32)
    for top in range(0, height, BAND):
        columns = cv2.transpose(image[top : top + BAND]).astype(np.float32, copy=False)
        rows[top : top + BAND] = cv2.transpose(np.ascontiguousarray(across @ columns))
    mean = np.asarray(down @ rows, np.float32)
    # rounded half to even and saturated, as OpenCV writes bytes
    return mean if means or image.dtype != np.uint8 else cv2.convertScaleAbs(mean)


def _whole(factor: float) -> bool:
    """Whether OpenCV reads a shrink by ``factor`` as by a whole number."""
    scale = 1.0 / factor
    return abs(scale - round(scale)) < sys.float_info.epsilon


def _weights(source: int, target: int, factor: float) -> sparse.csr_matrix:
    """(target, source) ``float32`` shares of each source pixel in each target pixel's cell,
    shrinking by ``factor``, as OpenCV's area table has them, each row's in source order."""
    scale = 1.0 / factor
    first = np.arange(target) * scale
    last = first + scale
    cell = np.minimum(scale, source - first)
    whole_last = np.minimum(np.floor(last).astype(np.int64), source - 1)
    whole_first = np.minimum(np.ceil(first).astype(np.int64), whole_last)
    head = whole_first - first > EDGE
    tail = last - whole_last > EDGE
    wholes = whole_last - whole_first
    # each row: the pixel cut by the cell's start, the whole ones, the one cut by its end
    counts = head + wholes + tail
    row = np.repeat(np.arange(target), counts)
    offset = np.arange(row.size) - np.repeat(np.cumsum(counts) - counts, counts)
    column = whole_first[row] - head[row] + offset
    share = 1.0 / cell[row]
    starts_cut = head[row] & (offset == 0)
    ends_cut = tail[row] & (offset == counts[row] - 1)
    share[starts_cut] = (whole_first - first)[row[starts_cut]] / cell[row[starts_cut]]
    cut = np.minimum(np.minimum(last - whole_last, 1.0), cell)[row[ends_cut]]
    share[ends_cut] = cut / cell[row[ends_cut]]
    indptr = np.concatenate(([0], np.cumsum(counts)))
    return sparse.csr_matrix((share.astype(np.float32), column, indptr), shape=(target, source))
