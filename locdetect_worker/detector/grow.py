"""Seeds -> regions: flood the free space from the seeds, one step at a time.

OpenCV's watershed floods by the colour difference between neighbours. On a
picture that is black in free space and white on walls, every step inside
free space costs nothing, so each free pixel goes to the seed that reaches it
first through free space (a geodesic nearest seed), and walls are crossed
last. Free components without a seed are marked as void first, so no room
spills into them across a wall.

The flood's cost grows with the pixels it labels, so it runs on a grid twice as
coarse (a block is free when all of it is; seeds are given per block), and each
pixel takes its block's label. Free pixels in blocks that hold a wall (beside
walls, in gaps narrower than a block) take a neighbour's label, up to
``FILL_STEPS`` px deep, and the lines where floods meet come out two px wide:
rooms' outlines move by a px or so, at half the cost.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import run_starts
from locdetect_worker.detector.footprint import block_pairs, doubled

FILL_STEPS = 2  # px that labels reach into the free pixels of blocks that hold a wall
_BLOCK_ROWS, _BLOCK_COLS = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])  # a block's 4 px


def grow_seeds(seeds: np.ndarray, free: np.ndarray) -> np.ndarray:
    """(H, W) ``int32`` region labels: each free pixel gets the label of its nearest seed.

    ``seeds`` is (ceil(H / 2), ceil(W / 2)) ``int32``, a label (0 = unseeded) per 2 x 2 block
    of the page (:func:`seeds.block_seeds`), ``free`` (H, W) ``uint8`` exactly 0/1 (1 = free;
    labels lie on free pixels only). Free pixels that reach no seed, walls and the lines where
    two floods meet are 0.
    """
    check_mask(free, "free")
    height, width = free.shape
    blocks, some_free = _free_blocks(free)
    if seeds.shape != blocks.shape or seeds.dtype != np.int32:
        raise ValueError(f"seeds must be int32 {blocks.shape}, got {seeds.dtype} {seeds.shape}")
    coarse, walled = _flood(seeds, blocks)
    # each pixel takes its block's label, on a page with two rows of 0 above and below (flat
    # offsets to a pixel's neighbours never leave it); every label lies on free pixels then
    size = (2 * blocks.shape[1], 2 * blocks.shape[0] + 4)
    padded = cv2.copyMakeBorder(coarse, 1, 1, 0, 0, cv2.BORDER_CONSTANT, value=0)
    labels = doubled(padded, size[1], size[0])
    # the free pixels of walled blocks, read block by block: few blocks hold both (a padded
    # block past an odd edge may be read too: its padding lies off the page)
    block_rows, block_cols = np.divmod(np.flatnonzero(walled & some_free), blocks.shape[1])
    rows = (2 * block_rows[:, None] + _BLOCK_ROWS).ravel()
    cols = (2 * block_cols[:, None] + _BLOCK_COLS).ravel()
    inside = (rows < height) & (cols < width)
    rows, cols = rows[inside], cols[inside]
    pending = np.take(free, rows * width + cols) != 0  # a flat look-up: sooner
    rows, cols = rows[pending], cols[pending]
    _fill_from_neighbours(labels, (rows + 2) * size[0] + cols, cols)
    return np.ascontiguousarray(labels[2 : 2 + height, :width])


def _free_blocks(free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((ceil(H / 2), ceil(W / 2)) ``uint8``: 1 where all of a 2 x 2 block of an (H, W) 0/1 mask
    is free; ``bool``: where some of it is), an odd page's last blocks padded with free px."""
    upper, lower = block_pairs(free, pad=1)
    return ((upper & lower) == 0x0101).view(np.uint8), (upper | lower) != 0


def _fill_from_neighbours(labels: np.ndarray, pending: np.ndarray, cols: np.ndarray) -> None:
    """Give, in place, the ``pending`` pixels (flat indices into ``labels``, in columns
    ``cols``) the highest label among their four neighbours, where one is above 0,
    ``FILL_STEPS`` times over; the first and last rows of ``labels`` are 0 and never pending."""
    stride = labels.shape[1]
    flat = labels.ravel()
    # a pixel in the first or last column has no neighbour on that side: read 0 (the first px)
    left = np.where(cols > 0, pending - 1, 0)
    right = np.where(cols < stride - 1, pending + 1, 0)
    for _ in range(FILL_STEPS):
        around = np.maximum(
            np.maximum(flat[left], flat[right]),
            np.maximum(flat[pending - stride], flat[pending + stride]),
        )
        taken = around > 0
        flat[pending[taken]] = around[taken]
        kept = ~taken
        pending, left, right = pending[kept], left[kept], right[kept]


def _flood(seeds: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((H, W) ``int32``: the rooms of one watershed of ``seeds`` over ``free``, on free pixels,
    0 on the lines where floods meet, walls, void and free pixels no flood reached; (H, W)
    ``bool``: where it is 0 but for the lines, the blocks whose free pixels take a
    neighbour's label)."""
    # Everything is built one pixel larger than the grid: watershed needs a labelled border.
    # Temporaries are let go before the flood: a lower peak saves fresh pages (page faults).
    # Masks are applied by products (an assignment through a mask costs several times more),
    # but for void: few px.
    padded = cv2.copyMakeBorder(free, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    inner = (slice(1, -1), slice(1, -1))
    markers = cv2.copyMakeBorder(seeds, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    markers[inner] *= free  # in place: a grid-sized temporary costs more than the product
    void = int(seeds.max()) + 1
    markers[_reached(padded, markers) == 1] = void  # no seed lies in void
    walls_white = cv2.threshold(padded, 0, 255, cv2.THRESH_BINARY_INV)[1]
    relief = cv2.cvtColor(walls_white, cv2.COLOR_GRAY2BGR)
    del padded, walls_white
    cv2.watershed(relief, markers)
    del relief
    flooded = markers[inner]
    walled = (free == 0) | (flooded == void)
    regions = np.maximum(flooded, 0)
    regions *= ~walled
    # a free pixel that no flood reached (shut in by walls and the lines) takes a label too
    walled |= flooded == 0
    return regions, walled


def _reached(padded: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """(H + 2, W + 2) ``uint8``: 2 on the free space (``padded`` != 0) that the seeds
    (``markers`` > 0) reach, 1 on the rest of it (void), 0 on walls.

    Flood fills: a run of seed pixels along a row lies in one space, and a seed mostly in one,
    so fill from one run of each seed, then from any run still left.
    """
    reached = (padded != 0).view(np.uint8)
    filled = np.zeros((reached.shape[0] + 2, reached.shape[1] + 2), np.uint8)  # floodFill's own
    width = reached.shape[1]
    pending = run_starts(markers > 0)  # padded pixels
    _, one_each = np.unique(markers.ravel()[pending], return_index=True)
    for start in pending[one_each]:
        if reached.ravel()[start] == 1:
            row, col = divmod(int(start), width)
            cv2.floodFill(reached, filled, (col, row), 2, flags=4)
    pending = pending[reached.ravel()[pending] == 1]
    while pending.size:
        row, col = divmod(int(pending[0]), width)
        cv2.floodFill(reached, filled, (col, row), 2, flags=4)
        pending = pending[reached.ravel()[pending] == 1]
    return reached
