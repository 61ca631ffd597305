"""The room detector: a page image in, room polygons in source pixels out.

Steps (each a pure function in its own module): normalise the sheet to dark
ink on light paper; work at a bounded resolution; threshold; turn a skewed
scan upright; set flat grey "unknown" areas aside (no room, but a barrier);
estimate the thin-line width; keep walls; read the lines of text and drop wall
pieces that are lettering (bold names); drop the sheet frame; bridge door
gaps, doorways whose swing arc is drawn and openings between wall ends in
line; take out door leaves drawn as heavily as walls; seed rooms where the
free space's distance hills stand out (rooms part at their doors); flood the
seeds back over the free space; drop the outside, slivers, scraps (small
spaces with no name), empty shafts, unnamed strips between a dimension chain
and the building, and spaces crossed out as voids; give rooms
back the scraps that fixtures and lettering drawn as thin walls cut off, and
the small spaces with no name that lie so (a closet's or an alcove's floor); join the
pieces that no room took, a small letter's height apart, into a room when together they make
one (a bathroom whose fixtures and lettering cut its floor into pieces); cut
rooms at the building's envelope (a door swinging out closes a pocket of the
outside onto its room); part open plans between wall corners that face each
other across them, or from one corner across, when each part bears a name of
its own (by shape alone in a drawing with no names); drop a space with no name
that stands far further from every room than rooms stand from one another (a
yard, a balcony, a strip by the outline) and a small one next to one room at most (a bath
or a car drawn in it); trust a room less when no name is written in it; simplify outlines;
map them back to source pixels.
Lengths are fractions of the working page's long side, so the same drawing
gives the same rooms at any resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._components import kept_labels, label_areas, label_runs
from locdetect_worker.detector.apart import apart_rooms, lone_pieces
from locdetect_worker.detector.arcs import door_bridges
from locdetect_worker.detector.binarise import ink_mask, paper_and_ink_levels, unknown_mask
from locdetect_worker.detector.clutter import clutter_rooms
from locdetect_worker.detector.corners import part_at_corners
from locdetect_worker.detector.doors import close_door_gaps
from locdetect_worker.detector.footprint import building_footprint
from locdetect_worker.detector.frame import drop_frame_lines, frames_a_margin, stands_free
from locdetect_worker.detector.grow import grow_seeds
from locdetect_worker.detector.jambs import summed_area, wall_ends
from locdetect_worker.detector.leaves import door_leaves
from locdetect_worker.detector.model import DetectedRoom
from locdetect_worker.detector.normalise import paper_grey
from locdetect_worker.detector.openings import facing_bridges
from locdetect_worker.detector.outlines import thinly_outlined
from locdetect_worker.detector.polygons import label_polygons
from locdetect_worker.detector.resample import shrink_keeping_lines
from locdetect_worker.detector.rotate import rotate_page
from locdetect_worker.detector.scraps import absorb_pieces, absorb_scraps
from locdetect_worker.detector.seeds import block_seeds
from locdetect_worker.detector.select import select_rooms
from locdetect_worker.detector.skew import skew_angle
from locdetect_worker.detector.stroke import (
    clutter_line_width,
    stroke_width_histogram,
    thin_line_width,
)
from locdetect_worker.detector.text import named_labels, text_lines, without_text
from locdetect_worker.detector.walls import wall_mask

WORKING_SIDE = 1400
# a room's confidence without a name written in it, as a share of its score: drafters name
# rooms, and most unnamed spaces we find are yards, landings or pieces of a room
UNNAMED = 0.7
# a space with no name smaller than this many smallest rooms is a piece of the one room it lies
# a thin line from, if there is one
PIECE = 2.0


def detect_rooms(image: np.ndarray) -> list[DetectedRoom]:
    """Rooms in a plan: ``image`` is (H, W, 3) BGR or (H, W) grey ``uint8``."""
    # Each phase is a function of its own, so its page-sized temporaries are freed when it
    # returns: a lower peak keeps the allocator from handing fresh pages (page faults) to
    # every run.
    walls, ink, unknown, thin, lines, side, back, scale = _closed_walls(image)
    labels, confidences = _rooms(walls, ink, unknown, thin, lines, side)
    polygons = label_polygons(labels, tolerance=max(1.0, side / 800))
    height, width = image.shape[:2]
    rooms = []
    for polygon, confidence in zip(polygons, confidences, strict=True):
        if len(polygon) < 3:
            continue
        upright = polygon @ back[:, :2].T + back[:, 2]
        source = np.rint(upright / scale).astype(np.int64)
        source[:, 0] = np.clip(source[:, 0], 0, width - 1)
        source[:, 1] = np.clip(source[:, 1], 0, height - 1)
        rooms.append(DetectedRoom(polygon=source.astype(np.int32), confidence=float(confidence)))
    return rooms


def _closed_walls(
    image: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray, int, np.ndarray, float]:
    """(walls with door gaps, doorways and openings closed, on the upright working page; its
    ink; its flat grey unknown areas (walls too, but not drawn); the thin lines' width in px;
    its lines of text (the rooms' names); the long side of the working page before it was
    turned, which sets every length; (2, 3) map from the upright page to the working one;
    shrink scale)."""
    ink, unknown, side, back, scale = _upright_ink(image)
    thin = thin_line_width(stroke_width_histogram(ink))
    line_length = max(8, side // 15)
    # single-line walls a pen heavier than the clutter can outnumber it: the clutter's width is
    # then the thin lines', down by one pen (2 px) at most, so that door leaves stay thin lines
    if thin > 1:  # none is thinner than 1
        thin = max(thin - 2, min(thin, clutter_line_width(ink, line_length)))
    walls = wall_mask(
        ink,
        thin,
        line_length=line_length,
        hatch_gap=max(3, side // 400),
        pair_gap=max(4, side // 100),
    )
    lines = text_lines(ink, side / 200, side / 60)  # the rooms' names, read once
    walls = without_text(walls, lines)
    gap, min_run = max(4, side // 36), max(3, side // 200)
    flank = max(min_run, side // 40)  # a door's wall runs on at least half the widest door
    has_unknown = cv2.countNonZero(unknown) > 0  # rare: without it, no union with the walls

    def closed(mask: np.ndarray) -> np.ndarray:
        """The walls ``mask`` with their door gaps closed; unknown areas are never a room."""
        return close_door_gaps(mask | unknown if has_unknown else mask, gap, min_run, flank)

    unframed = drop_frame_lines(walls)
    # no line runs as long as a frame's: nothing to drop, so no need to look for a margin
    framed = not np.array_equal(unframed, walls)
    # the plan standing free of the frame's lines needs no look at the margin, nor the walls
    # closed with the frame
    if framed and stands_free(walls, unframed):
        sealed = closed(unframed)
    else:
        sealed = closed(walls)
        if framed and frames_a_margin(sealed):
            sealed = closed(unframed)
    door = max(4, side // 20)  # the widest leaf, and the widest opening between facing walls
    ends = wall_ends(sealed, min_run, thickest=door // 3)
    summed = summed_area(sealed)  # both bridges read the walls by their ends from it
    # the bridges, then the walls they bridge, joined in place: no fresh page for each union
    walls = door_bridges(sealed, ink, ends, min_gap=max(3, side // 60), max_gap=door, summed=summed)
    walls |= facing_bridges(sealed, ends, max_gap=door, min_length=side // 60, summed=summed)
    walls |= sealed
    # a leaf hinged at a wall end stands on the bridge across its doorway (0/1 masks: less is
    # and-not, in one pass)
    leaves = door_leaves(walls, ink, ends, min_length=max(3, side // 60), max_length=door)
    cv2.subtract(walls, leaves, dst=walls)
    return walls, ink, unknown, thin, lines, side, back, scale


def _upright_ink(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, float]:
    """(ink, flat grey unknown areas (not ink), side, back, scale as :func:`_closed_walls`)."""
    grey = paper_grey(image)
    grey, scale = shrink_keeping_lines(grey, WORKING_SIDE)
    side = max(grey.shape)
    levels = paper_and_ink_levels(grey)
    ink = ink_mask(grey, levels)
    back = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    angle = skew_angle(ink)
    if angle:
        grey, back = rotate_page(grey, angle)
        levels = paper_and_ink_levels(grey)
        ink = ink_mask(grey, levels)
    unknown = unknown_mask(grey, size=max(5, side // 40), levels=levels)
    cv2.subtract(ink, unknown, dst=ink)  # 0/1 masks: and-not, in one pass
    return ink, unknown, side, back, scale


def _rooms(
    walls: np.ndarray,
    ink: np.ndarray,
    unknown: np.ndarray,
    thin: int,
    lines: np.ndarray,
    side: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(room labels, confidences) of the closed walls; the rest as :func:`_closed_walls` has
    them."""
    free = 1 - walls
    min_area = max(16, int(0.002 * walls.shape[0] * walls.shape[1]))
    radii = [float(r) for r in np.unique(np.geomspace(1, side / 8, 16).round())[::-1]] + [0.0]
    seeds = block_seeds(free, radii, min_dynamic=5.0, relative=0.35)
    regions = grow_seeds(seeds, free)
    del seeds, free  # before the footprint's and selection's temporaries
    inside = building_footprint(walls, opening=max(3, side // 10))
    shaft_area = int(0.006 * walls.shape[0] * walls.shape[1])  # a few times the smallest room
    runs = label_runs(regions)  # read once for the selection and the steps after it
    labels, confidences = select_rooms(
        regions,
        walls,
        inside,
        ink,
        min_area,
        min_width=side / 60,
        shaft_area=shaft_area,
        lines=lines,
        runs=runs,
    )
    # a scrap lies a thin wall's width from its room: a line pair that the hatch closing fused
    reach = max(2, side // 350)
    labels = absorb_scraps(labels, regions, reach=reach, max_area=min_area, runs=runs)
    # small and with no name: a closet's or an alcove's floor
    count = len(confidences)
    named = named_labels(labels, lines, count)
    labels = absorb_pieces(labels, regions, named, reach, int(PIECE * min_area), runs=runs)
    # a small room whose fixtures and lettering cut its floor into pieces too small for rooms
    labels, joined = clutter_rooms(
        labels,
        regions,
        walls,
        inside,
        count,
        max(2, side // 200),
        min_area,
        side / 60,
        runs=runs,
    )
    confidences = np.concatenate([confidences, joined])
    count = len(confidences)
    joined_runs = label_runs(labels)  # read once for the areas and the renumbering
    kept = label_areas(labels, count + 1, joined_runs)[1:] > 0
    if not kept.all():
        labels, confidences = kept_labels(labels, kept, joined_runs), confidences[kept]
    labels *= inside  # a room that leaked out through its entrance ends at the envelope
    # names stand in the rooms, not only in a title block or a legend: part between names
    named = named_labels(labels, lines, len(confidences))
    parted = part_at_corners(
        labels,
        min_part=4 * min_area,
        tolerance=side / 300,
        offset=side / 100,
        most_ratio=1.0,
        lines=lines if named[1:].any() else None,  # else by shape alone
    )
    if not np.array_equal(parted, np.arange(1, len(confidences) + 1)):  # else as they were
        confidences = confidences[parted - 1]
        named = named_labels(labels, lines, len(confidences))
    # far from every other room and with no name: a yard, a balcony, a strip by the outline;
    # bounded by thin lines only and with no name: the next house or the plot drawn beside the
    # plan (no need to measure when every room bears a name)
    if not named[1:].all():
        count = len(confidences)
        # grey unknown space is no thick wall (rare: without it, the walls as they are)
        strokes = cv2.subtract(walls, unknown) if cv2.countNonZero(unknown) else walls
        wall_reach = max(3, side // 100)  # a wall's width
        outlined = thinly_outlined(labels, count, strokes, ~named, thin, wall_reach)
        # under a shaft's size, with no name, and next to one room at most: a fixture in that
        # room, or a piece of its floor (each read on its own: those dropped already need not)
        dropped = outlined | lone_pieces(labels, count, ~named & ~outlined, shaft_area, wall_reach)
        if (~named & ~dropped)[1:].any():  # only a space with no name stands apart
            dropped |= apart_rooms(labels, count, side / 110, named)
        kept = ~dropped[1:]
        if not kept.all():
            labels, confidences = kept_labels(labels, kept), confidences[kept]
            named = named[np.r_[True, kept]]
    return labels, np.where(named[1:], confidences, UNNAMED * confidences)
