"""Walls -> the building's footprint: what the outside cannot reach.

Entrances, windows drawn thin and gaps between wall ends let the outside
leak into rooms. Closing the walls with a kernel about as wide as the widest
such opening seals the envelope; whatever free space is still connected to
the sheet's edge is outside, and so is free space spanning nearly the whole
sheet both ways (the margin inside a sheet frame). The sealing is used only
to decide what is inside: rooms keep their own outlines.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import run_starts
from locdetect_worker.detector._lines import close_box

# per dtype that doubled() takes: its bits unsigned, the type twice as wide and the factor that
# repeats a value in it
_TWICE = {
    np.dtype(np.uint8): (np.uint8, np.uint16, np.uint16(257)),
    np.dtype(np.int32): (np.uint32, np.uint64, np.uint64(2**32 + 1)),
}


def building_footprint(walls: np.ndarray, opening: int) -> np.ndarray:
    """(H, W) ``uint8`` mask, 1 = inside the building envelope (walls included).

    ``walls`` is (H, W) ``uint8`` (1 = wall); ``opening`` is the widest gap in
    the envelope, in px, to seal.
    """
    check_mask(walls, "walls")
    if opening < 1:
        raise ValueError(f"opening must be >= 1, got {opening}")
    # Only a coarse answer is needed: work on a half-size copy (a block is a wall if any of
    # it is, so thin walls survive). Separable square kernels seal corners a bit more.
    height, width = walls.shape
    small = max_pool_half(walls)
    side = max(1, opening // 2)
    sealed = close_box(small, side)
    padded = cv2.copyMakeBorder(1 - sealed, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    # Flood fills mark the outside 2 and other spaces 3: the space along the border spans the
    # sheet, and any other space that does crosses the middle row.
    cv2.floodFill(padded, None, (0, 0), 2, flags=4)
    row = padded.shape[0] // 2
    for x in run_starts(padded[row : row + 1] == 1):  # a run lies in one space
        if padded[row, x] != 1:
            continue
        _, _, _, (_, _, box_width, box_height) = cv2.floodFill(
            padded, None, (int(x), row), 3, flags=4
        )
        if box_width > 0.9 * padded.shape[1] and box_height > 0.9 * padded.shape[0]:
            cv2.floodFill(padded, None, (int(x), row), 2, flags=4)
    inside = (padded[1:-1, 1:-1] != 2).view(np.uint8)
    return doubled(inside, height, width)


def max_pool_half(mask: np.ndarray) -> np.ndarray:
    """(ceil(H/2), ceil(W/2)) ``uint8``: each 2x2 block's maximum of an (H, W) 0/1 mask."""
    upper, lower = block_pairs(mask, pad=0)  # a block of paper past an odd edge
    return (upper | lower).astype(bool).view(np.uint8)


def block_pairs(mask: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """(ceil(H/2), ceil(W/2)) ``uint16`` each, of an (H, W) ``uint8`` mask (past an odd edge
    padded with ``pad``): each 2x2 block's upper pair of px read as one number, and its lower
    pair. OR-ed or AND-ed, they reduce whole rows in order, several times sooner than a
    dilation or a minimum read every other px."""
    height, width = mask.shape
    if height % 2 or width % 2:
        mask = cv2.copyMakeBorder(mask, 0, height % 2, 0, width % 2, cv2.BORDER_CONSTANT, value=pad)
    pairs = np.ascontiguousarray(mask).view(np.uint16)
    return pairs[0::2], pairs[1::2]


def doubled(half: np.ndarray, height: int, width: int) -> np.ndarray:
    """(height, width): each px of an (ceil(height/2), ceil(width/2)) ``uint8`` mask or
    ``int32`` labels as a 2x2 block (as OpenCV's nearest resize gives it, several times
    sooner)."""
    rows, cols = half.shape
    if (rows, cols) != ((height + 1) // 2, (width + 1) // 2):
        raise ValueError(
            f"a {height} x {width} page doubles a half of {(height + 1) // 2} x "
            f"{(width + 1) // 2}, got {rows} x {cols}"
        )
    unsigned, wider, twice = _TWICE[half.dtype]
    # a value's bits and their copy side by side are one number of twice the width: the value
    # times 2**bits + 1 lays each px twice along the row
    wide = (half.view(unsigned).astype(wider) * twice).view(half.dtype)
    blocks = np.empty((rows, 2, 2 * cols), half.dtype)
    blocks[:] = wide[:, None, :]  # and each row twice
    full = blocks.reshape(2 * rows, 2 * cols)
    return full if full.shape == (height, width) else np.ascontiguousarray(full[:height, :width])
