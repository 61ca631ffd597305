"""Rooms -> the ones that stand apart from the rest of the drawing.

Rooms adjoin one another across a single wall, so a room's gap to its nearest
neighbour is about one wall's thickness, much the same all over a drawing. A
space set far further from every room than that lies beyond the building's
outer wall (a yard, a balcony, a strip between the outline and its dimension
lines) or in another drawing on the sheet, unless a name is written in it.

A small space with no name that borders one room at most, across no more than a
wall, is no room of its own either: a fixture's outline drawn heavily (a bath, a
car in a garage) fences it off within that room, or it is a piece of floor cut
off beyond one. A closet or a WC too small to be named lies between rooms: a
hall on one side, the rooms it serves on others.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_labels
from locdetect_worker.detector._components import label_boxes, label_runs

# rooms that meet at a door's bridge lie a px or two apart, so the walls between rooms are read
# from the upper quartile of the rooms' gaps to their nearest neighbours (the outer walls among
# them); a space further than FAR times that from every room lies beyond more than a wall (an
# attic's or a yard's outline drawn beside the plan)
QUARTILE, FAR = 75.0, 1.5


def nearest_gaps(labels: np.ndarray, count: int) -> np.ndarray:
    """(count + 1,) ``float64``: each label's distance in px to the nearest pixel of another
    label of an (H, W) ``int32`` image (0 = none), read at half size (to 2 px); ``inf`` for
    label 0 and a label alone.

    Every free pixel belongs to its nearest label; where two such cells meet, the labels lie
    the two pixels' distances (plus the step between them) apart.
    """
    check_labels(labels)
    gaps = np.full(count + 1, np.inf)
    half = np.ascontiguousarray(labels[::2, ::2])  # a gap is a wall's width: 2 px will do
    rooms = half > 0
    if not rooms.any():
        return gaps
    distance, nearest = cv2.distanceTransformWithLabels(
        (~rooms).view(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # each pixel's nearest room pixel, numbered from 1 as OpenCV numbers them: in raster order
    owner_of = np.concatenate([np.zeros(1, np.int32), half[rooms]])
    owner = np.take(owner_of, np.asarray(nearest, np.int32)).ravel()  # faster than by an array
    distance, width = distance.ravel(), half.shape[1]
    for step, along_row in ((1, True), (width, False)):  # the next px along a row, a column
        # the few cells' edges found once, then read by index: a mask would be read per array
        meet = np.flatnonzero(owner[:-step] != owner[step:])
        if along_row:
            meet = meet[meet % width != width - 1]  # not a row's last px and the next row's first
        span = 2.0 * (distance[meet] + distance[meet + step] + 1.0)
        np.minimum.at(gaps, owner[meet], span)
        np.minimum.at(gaps, owner[meet + step], span)
    gaps[0] = np.inf
    return gaps


def apart_rooms(labels: np.ndarray, count: int, min_gap: float, named: np.ndarray) -> np.ndarray:
    """(count + 1,) ``bool``: which labels 1..count of an (H, W) ``int32`` image with no name
    (``named``: (count + 1,) ``bool``) lie further than ``min_gap`` px and than ``FAR`` times
    the labels' upper quartile gap (:func:`nearest_gaps`) from every other label. A label
    alone, and label 0, are not apart; a named balcony or terrace is a room."""
    gaps = nearest_gaps(labels, count)
    known = np.isfinite(gaps)
    if not known.any():
        return np.zeros(count + 1, bool)
    typical = float(np.percentile(gaps[known], QUARTILE))
    return known & (gaps > FAR * typical) & (gaps > min_gap) & ~named


def lone_pieces(
    labels: np.ndarray, count: int, candidates: np.ndarray, max_area: int, reach: int
) -> np.ndarray:
    """(count + 1,) ``bool``: which ``candidates`` ((count + 1,) ``bool``) among the labels
    1..count of an (H, W) ``int32`` image are smaller than ``max_area`` px and have at most
    one other label within ``reach`` px (a wall's width)."""
    check_labels(labels)
    if candidates.shape != (count + 1,):
        raise ValueError(f"candidates must be one bool per label 0..{count}: {candidates.shape}")
    flagged = np.zeros(count + 1, bool)
    if not candidates[1:].any():
        return flagged
    runs = label_runs(labels)
    starts, stops, found = runs
    area = np.bincount(found, stops - starts, count + 1)
    small = candidates & (area > 0) & (area < max_area)
    small[0] = False
    if not small.any():
        return flagged
    boxes = label_boxes(labels, count + 1, runs)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    for label in np.flatnonzero(small):
        x, y, width, height = boxes[label].tolist()
        box = (
            slice(max(0, y - reach), y + height + reach),
            slice(max(0, x - reach), x + width + reach),
        )
        crop = labels[box]
        near = np.unique(crop[cv2.dilate((crop == label).view(np.uint8), disc) != 0])
        flagged[label] = np.count_nonzero((near != 0) & (near != label)) <= 1
    return flagged
