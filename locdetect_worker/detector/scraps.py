"""Rooms take back the scraps of themselves that fixtures and lettering cut off.

A bath's rim, a counter's front edge, a label's box or a pipe drawn along a
wall are thin lines close together, and they come out of the wall step as thin
walls. The free space they fence off (a bath's inside, the floor behind a
counter) is too small to be a room and is dropped, so the room it belongs to
comes out short of its real outline. A scrap that lies within a thin line of
one room, and of no other, is part of that room: it joins the room together
with the ink between them. Scraps beside two rooms, or beyond a thicker wall,
stay out, so neighbouring rooms never merge. A small kept space with no name
that lies so (a closet's or an alcove's floor, the floor behind a counter) is
such a piece of its room too.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._components import (
    label_areas,
    label_runs,
    remapped,
    unclaimed_box,
)


def absorb_scraps(
    rooms: np.ndarray,
    regions: np.ndarray,
    reach: int,
    max_area: int,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(H, W) ``int32`` room labels, each grown by the scraps only it reaches: a new array, or
    ``rooms`` itself when no scrap joins (a page-sized copy spared).

    ``rooms`` (H, W) ``int32`` kept room labels (0 = none, fewer than 65535 rooms);
    ``regions`` (H, W) ``int32`` the free-space regions they were chosen from (0 = wall or no
    region). A region no room kept, smaller than ``max_area`` px, whose pixels within ``reach``
    px of a room all see the same one room, joins it, and so do the wall pixels that lie within
    ``reach`` px of both the room and the scrap and of no other room. ``runs`` are the
    regions' :func:`label_runs`, when the caller has them already.
    """
    for name, array in (("rooms", rooms), ("regions", regions)):
        if array.ndim != 2 or array.dtype != np.int32 or array.shape != rooms.shape:
            raise ValueError(f"{name} must be int32 {rooms.shape}, got {array.dtype} {array.shape}")
    if reach < 1:
        raise ValueError(f"reach must be >= 1, got {reach}")
    starts, stops, found = runs if runs is not None else label_runs(regions)
    area = np.bincount(found, stops - starts).astype(np.int64)
    small = area < max_area
    small[0] = False  # walls
    # the scraps are read in the box round them, out to where their rooms can be seen from
    # them, not over the page
    cropped = unclaimed_box(rooms, (starts, stops, found), small, margin=2 * reach)
    if cropped is None:
        return rooms
    scrap_here, box = cropped[0] != 0, cropped[1]
    here, pieces_here = rooms[box], regions[box]
    # only the rooms in the box are read, not a page-wide maximum
    count = int(here.max())
    if count == 0:
        return rooms
    if count >= np.iinfo(np.uint16).max:
        raise ValueError(f"at most 65534 rooms, got {count}")  # 16-bit labels below
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    # over each pixel's neighbourhood, the highest and the lowest room label (none: 0 for both;
    # less one, 0 wraps round above all labels, so the erosion skips it)
    labels = here.astype(np.uint16)
    highest = cv2.dilate(labels, kernel)
    lowest = cv2.erode(labels - np.uint16(1), kernel) + np.uint16(1)
    near = scrap_here & (highest > 0)
    pieces = pieces_here[near]
    seen = highest[near].astype(np.int64)
    # a scrap is taken when every pixel of it that sees a room sees the same one room
    sees = np.bincount(pieces, minlength=area.size)
    owner = np.rint(np.bincount(pieces, seen, area.size) / np.maximum(sees, 1)).astype(np.int64)
    other = (seen != owner[pieces]) | (lowest[near] != highest[near])
    taken = (sees > 0) & (np.bincount(pieces, other, area.size) == 0)
    # the scraps' px are few: read and written by their indices, not through box-sized masks
    scrap_px = np.divmod(np.flatnonzero(scrap_here), scrap_here.shape[1])
    joins = tuple(axis[taken[pieces_here[scrap_px]]] for axis in scrap_px)
    if not len(joins[0]):
        return rooms  # and no wall between a room and a scrap either
    grown = rooms.copy()
    here = grown[box]
    joined = owner[pieces_here[joins]]
    here[joins] = joined
    # the walls between a room and its scraps: near both, and near no other room (a wall near
    # no room, highest and lowest 0, keeps its 0); read within reach (the kernel's) of the
    # joined px only
    rows, columns = joins
    joining = (
        slice(max(0, int(rows.min()) - reach), int(rows.max()) + reach + 1),
        slice(max(0, int(columns.min()) - reach), int(columns.max()) + reach + 1),
    )
    owners = np.zeros(labels[joining].shape, np.uint16)
    owners[rows - joining[0].start, columns - joining[1].start] = joined
    high = highest[joining]
    between = (pieces_here[joining] == 0) & (high == lowest[joining])
    between &= cv2.dilate(owners, kernel) == high
    here[joining][between] = high[between]
    return grown


def absorb_pieces(
    rooms: np.ndarray,
    regions: np.ndarray,
    named: np.ndarray,
    reach: int,
    max_area: int,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(H, W) ``int32`` room labels where each room under ``max_area`` px with no name
    (``named``: (count + 1,) ``bool``, label 0 first) joins the one room it lies within
    ``reach`` px of, whole, as a scrap would (:func:`absorb_scraps`); a piece that no one
    room takes stays a room. Labels keep their numbers: a piece taken leaves its label with
    no pixels; ``rooms`` itself comes back when no room is such a piece. ``runs`` as
    :func:`absorb_scraps` takes them."""
    rooms_runs = label_runs(rooms)  # read once for the count, the areas and the marking
    count = int(rooms_runs[2].max())
    if named.shape != (count + 1,):
        raise ValueError(f"named must be one bool per label 0..{count}, got {named.shape}")
    pieces = (label_areas(rooms, count + 1, rooms_runs) < max_area) & ~named
    pieces[0] = False
    if not pieces.any():  # most pages: spare the page-sized copies below
        return absorb_scraps(rooms, regions, reach, max_area, runs)
    marked = remapped(rooms, pieces, rooms_runs)
    # a piece goes whole: as one region, with the scraps it took and the ink between them
    whole = np.where(marked, int(regions.max(initial=0)) + rooms, regions).astype(np.int32)
    grown = absorb_scraps(np.where(marked, 0, rooms).astype(np.int32), whole, reach, max_area)
    left = marked & (grown == 0)
    grown[left] = rooms[left]
    return grown
