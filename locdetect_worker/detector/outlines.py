"""Rooms -> the ones outlined by thin lines only: a neighbouring building or a plot.

Walls are drawn heavier than the thin lines of fixtures, dimensions and outlines, so even a
plan whose partitions are single lines bounds each room with some heavy wall. A space with
no name that thin lines bound almost all round is an outline drawn for context beside the
plan (the next house, the plot, a roof), not a room.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_labels

# most share of the typical wall's thickness along rooms' edges that the strokes along an
# unnamed room's edge reach: thinner is an outline, not a wall
THIN = 0.4
NEIGHBOURS = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.uint8)  # a pixel's four, not itself


def thinly_outlined(
    labels: np.ndarray,
    count: int,
    walls: np.ndarray,
    candidates: np.ndarray,
    thin: int,
    reach: int,
) -> np.ndarray:
    """(count + 1,) ``bool``: which ``candidates`` ((count + 1,) ``bool``) among the labels
    1..count of an (H, W) ``int32`` image are bounded by wall strokes of ``walls`` ((H, W)
    ``uint8``) less than ``THIN`` times as thick as the rooms' walls are (the median over the
    labels) and no more than a few ``thin`` px lines thick (their pixels lie within two thin
    lines of the floor), a stroke's thickness read within ``reach`` px of the room.

    Both, as a plan's partitions may be much thinner than its outer walls, yet drawn as
    walls, several lines thick."""
    check_labels(labels)
    flagged = np.zeros(count + 1, bool)
    if count < 2 or not candidates[1:].any():
        return flagged
    depths = _edge_depths(labels, count, walls, reach)
    thinner = (depths < THIN * float(np.median(depths))) & (depths <= 2 * thin)
    flagged[1:] = candidates[1:] & thinner
    return flagged


def _edge_depths(labels: np.ndarray, count: int, walls: np.ndarray, reach: int) -> np.ndarray:
    """(count,) ``float64``: for each label 1..count, the median over the wall pixels along its
    edge of the depth (city-block distance to the floor) of the deepest wall pixel within
    ``reach`` px (in a square): half the thickness of the wall there; 0 for a label no wall
    touches."""
    # read in the box round the rooms, with room for the strokes within reach
    rooms = (labels != 0).view(np.uint8)
    x, y, width, height = cv2.boundingRect(rooms)
    pad = 2 * reach + 1
    box = (slice(max(0, y - pad), y + height + pad), slice(max(0, x - pad), x + width + pad))
    labels, walls, rooms = labels[box], walls[box], rooms[box]
    depth = cv2.distanceTransform(walls, cv2.DIST_L1, 3, dstType=cv2.CV_8U)
    square = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1))
    deepest = cv2.dilate(depth, square)
    # the few wall pixels with a room among their four neighbours, and the label of each
    # neighbour (none past the box's edge)
    edge = cv2.dilate(rooms, NEIGHBOURS) & walls
    # listed along the flat mask: numpy finds a 2-D mask's pixels several times slower
    rows, cols = np.divmod(np.flatnonzero(edge.view(bool)), edge.shape[1])
    owners, values = [], []
    for step_row, step_col in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        row, col = rows + step_row, cols + step_col
        inside = (row >= 0) & (row < labels.shape[0]) & (col >= 0) & (col < labels.shape[1])
        owner = np.zeros(len(rows), labels.dtype)
        owner[inside] = labels[row[inside], col[inside]]
        along = owner != 0
        owners.append(owner[along])
        values.append(deepest[rows[along], cols[along]])
    owner = np.concatenate(owners)
    value = np.concatenate(values)
    order = np.lexsort((value, owner))
    sizes = np.bincount(owner, minlength=count + 1)[1:]
    starts = np.cumsum(sizes) - sizes
    depths = np.zeros(count, np.float64)
    touched = sizes > 0
    depths[touched] = value[order][(starts + (sizes - 1) // 2)[touched]]
    return depths
