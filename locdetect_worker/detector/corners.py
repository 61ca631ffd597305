"""Rooms -> rooms parted between wall corners that face each other across them.

An open plan (a living room running into a dining room, a hall into a
corridor) is drawn as one free space, but where two wall corners stand
straight across from each other the space narrows like a wide doorway and
drafters read two rooms, parted along the line between the corners. A room
is parted there when the line runs horizontally or vertically inside it and
is shorter than the smaller part is wide (the square root of its area), and
both parts are room-sized. Drafters name every room, an L-shaped one once,
so in a drawing that names its rooms each part must hold a name of its own,
clear of the line. One wall corner facing a plain wall is not enough by its
shape (an L-shaped room has such a corner), but where the parts are named,
the wall edge carried on from the corner across the space parts two rooms, a
kitchen open to a dining room. Such a part often opens to the other along its
whole width (a dining area across the end of a living room), so that line may
be half as long again as the smaller part is wide: the two names, not the
narrowing, say there are two rooms. A corner whose edge parted a room so may
stand where three rooms meet (a kitchen and a dining room both open onto a
living room): its other edge, which the cut left on a straight outline, may
part the rest the same way, but not between a room's name and its area written
below it, the only lines of text either side, over the same columns.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_labels
from locdetect_worker.detector._components import label_boxes, label_runs
from locdetect_worker.detector.text import lines_in, lines_on

INSIDE = 0.95  # least share of a parting line's pixels inside the room
AXIS = 0.15  # most slope (across / along) of a wall edge carried on along an axis
CLEAR = 3.0  # least distance of a part's name from the parting line, in letter heights
NAMED_RATIO = 1.5  # ``most_ratio``'s multiplier for a line from one inward corner between names
REACH = 2  # most distance (px) of a parted room's corner from its part's outline, to be its own
NO_EDGES = (np.zeros((0, 2), np.int64), np.zeros((0, 2), np.int64))  # (corners, steps): none


def part_at_corners(
    labels: np.ndarray,
    min_part: int,
    tolerance: float,
    offset: float,
    most_ratio: float,
    lines: np.ndarray | None = None,
) -> np.ndarray:
    """Which room each label came from (old and new): (n,) ``int64``, 1-based; ``labels`` change
    in place.

    ``labels`` is (H, W) ``int32`` (0 = none, 1..n rooms); a parted room keeps
    its label on one part and the other part gets the next free label.
    ``tolerance`` (px) simplifies outlines before corners are read; two corners
    face each other when they are at most ``offset`` px out of line. Each part's
    outline encloses at least ``min_part`` px, and the line is at most
    ``most_ratio`` times the square root of the smaller part's area.

    Given the page's ``lines`` of text (boxes [x, y, width, height]; give them
    when the drawing names its rooms), parts must each have a name of its own:
    a line of text clear of the parting line. A room with no such pair is then
    also parted along a wall edge carried on from one inward corner across the
    room, between named parts, up to ``NAMED_RATIO`` times ``most_ratio``.
    """
    check_labels(labels)
    if min_part < 1 or tolerance <= 0 or offset < 0 or most_ratio <= 0:
        raise ValueError(
            f"need min_part >= 1, tolerance > 0, offset >= 0, most_ratio > 0; "
            f"got {min_part}, {tolerance}, {offset}, {most_ratio}"
        )
    runs = label_runs(labels)
    count = int(runs[2].max())  # the highest label, off the runs rather than every px
    origin = list(range(1, count + 1))
    boxes = label_boxes(labels, count + 1, runs).tolist()  # a part keeps its room's box
    # a corner that parted a room along one edge, between names, stands where three rooms meet
    # (a kitchen and a dining room open onto a living room): the cut straightened the outline
    # there, so the parts inherit its other edges (corners, steps, in the box)
    carried = {label: NO_EDGES for label in origin}
    pending = list(origin)
    while pending:
        label = pending.pop()
        x, y, width, height = boxes[label]
        if width == 0:
            continue
        names = None if lines is None else lines_in(lines, x, y, width, height)
        if names is not None and not len(names):
            continue  # no part can be named
        crop = labels[y : y + height, x : x + width]
        room = (crop == label).view(np.uint8)
        if cv2.countNonZero(room) < 2 * min_part:
            continue  # too small for two parts
        found = _best_part(room, min_part, tolerance, offset, most_ratio, names, carried[label])
        if found is None:
            continue
        part, edges = found
        new = len(boxes)
        crop[part] = new
        corners, steps = carried[label]
        carried[label] = carried[new] = (np.r_[corners, edges[0]], np.r_[steps, edges[1]])
        boxes.append(boxes[label])
        origin.append(origin[label - 1])
        pending += [label, new]
    return np.array(origin, np.int64)


def _best_part(
    room: np.ndarray,
    min_part: int,
    tolerance: float,
    offset: float,
    most_ratio: float,
    names: np.ndarray | None,
    inherited: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None:
    """(The smaller part (bool mask) of the best parting of a 0/1 room crop, the corner's other
    carried edges when it parted along one, for the parts to inherit), or None.

    Between two facing corners first: the parts' areas are read off the
    outline (a line between two of its points cuts it in two polygons), so
    only the chosen line is drawn; given the crop's ``names`` (lines of text),
    each part must be named. Then, given ``names``, from one corner to a plain
    wall between two named parts, also along the ``inherited`` edges (corners, steps) of the
    room the crop was parted from, whose corners still lie on its outline.
    """
    contours, _ = cv2.findContours(room, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    largest = max(contours, key=cv2.contourArea)
    outline = largest.reshape(-1, 2).astype(np.int64)
    # only the piece this outline bounds is parted (a room cut at the envelope may have others);
    # one outermost piece bounds the whole room
    if len(contours) == 1:
        piece = room
    else:
        piece = cv2.drawContours(np.zeros_like(room), [largest], -1, 1, cv2.FILLED) & room
    simple = _simplified(outline, tolerance)  # read once for both kinds of parting
    at = np.sort(_outline_index(outline, simple[0][simple[1]]))  # the inward corners
    # the pairs in triu_indices' order: the unstable sort of their ratios below breaks ties by it
    first, second = np.nonzero(np.arange(len(at))[:, None] < np.arange(len(at)))
    a, b = outline[at[first]], outline[at[second]]
    dx, dy = np.abs(b - a).T
    straight = (np.minimum(dx, dy) <= offset) & (np.maximum(dx, dy) > 2 * offset)
    first, second, a, b = first[straight], second[straight], a[straight], b[straight]
    length = np.maximum(dx, dy)[straight]
    # twice the signed area swept from the outline's start: a part's area is a difference
    following = np.concatenate([outline[1:], outline[:1]])
    swept = np.cumsum(outline[:, 0] * following[:, 1] - following[:, 0] * outline[:, 1])
    swept = np.concatenate([np.zeros(1, np.int64), swept])
    smaller = _smaller_part(swept, at[first], at[second], a, b)
    ratio = length / np.sqrt(np.maximum(smaller, 1))
    lines = None if names is None else lines_on(piece, names)
    for pair in np.argsort(ratio):
        if ratio[pair] > most_ratio:
            break
        if smaller[pair] < min_part or not _inside(piece, a[pair], b[pair]):
            continue
        part = _split(piece, a[pair], b[pair], lines)  # one name for both parts: an L room
        if part is not None:
            return part, NO_EDGES  # no corner's edge to pass on
    if lines is None or len(lines) < 2:
        return None  # a line of text each side of the edge
    corners, steps = _carried_edges(*simple)
    kept, kept_steps = _onto_outline(outline, *inherited)
    passed = np.concatenate([np.zeros(len(corners), bool), np.ones(len(kept), bool)])
    corners, steps = np.concatenate([corners, kept]), np.concatenate([steps, kept_steps])
    return _named_part(
        piece, outline, swept, corners, steps, passed, offset, min_part, most_ratio, lines
    )


def _named_part(
    piece: np.ndarray,
    outline: np.ndarray,
    swept: np.ndarray,
    corners: np.ndarray,
    steps: np.ndarray,
    passed: np.ndarray,
    offset: float,
    min_part: int,
    most_ratio: float,
    lines: np.ndarray,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None:
    """(The smaller part (bool mask) of the best parting of ``piece`` along a wall edge carried
    on from an inward corner, horizontally or vertically, to the far side, where each part
    holds a line of text of its own (``lines``: those on the piece), the corner's other edges
    (corners, steps)); or None. ``swept`` as :func:`_best_part` has it; ``corners`` and
    ``steps`` the carried edges (:func:`_carried_edges`), corners on the outline; ``passed``
    which were passed on from the room's parting (:func:`_one_label` is no pair of names)."""
    if not len(corners):
        return None
    runs = np.array([_run(piece, corner, step) for corner, step in zip(corners, steps)])
    ends = corners + runs[:, None] * steps
    # the outline sorted once for both ends of the lines
    first, second = np.split(_outline_index(outline, np.concatenate([corners, ends])), 2)
    # a line ending on a hole in the room (a pillar, a fixture) parts nothing
    kept = (second >= 0) & (runs > 2 * offset)
    first, second, starts, ends, runs, along, passed = (
        v[kept] for v in (first, second, corners, ends, runs, steps, passed)
    )
    smaller = _smaller_part(swept, first, second, starts, ends)
    ratio = runs / np.sqrt(np.maximum(smaller, 1))
    for cut in np.argsort(ratio):
        if ratio[cut] > NAMED_RATIO * most_ratio:
            break
        if smaller[cut] < min_part:
            continue
        start, end = starts[cut], ends[cut]
        if not _text_either_side(lines, start, end):
            continue  # no part can be named: no need to draw the parts
        part = _split(piece, start, end, lines)
        if part is None or (passed[cut] and _one_label(piece, part, lines, start, end)):
            continue  # unnamed, or a room's name and its area either side of a passed-on edge
        other = np.all(corners == start, axis=1) & np.any(steps != along[cut], axis=1)
        return part, (corners[other], steps[other])
    return None


def _split(
    piece: np.ndarray, start: np.ndarray, end: np.ndarray, lines: np.ndarray | None
) -> np.ndarray | None:
    """The smaller of the two largest parts (bool mask) that the line ``start``..``end`` (x, y)
    cuts a 0/1 ``piece`` into; None when it does not cut it, or, given ``lines`` of text
    (boxes), when either part lacks a name of its own."""
    line = np.zeros_like(piece)
    cv2.line(line, (int(start[0]), int(start[1])), (int(end[0]), int(end[1])), 1)
    count, parts, areas = _parts(cv2.subtract(piece, line))
    if count < 3:
        return None
    two = 1 + np.argsort(areas[1:])[::-1][:2]
    if lines is not None and not all(_part_named(parts == k, lines, start, end) for k in two):
        return None
    return parts == two[1]


def _one_label(
    piece: np.ndarray, part: np.ndarray, lines: np.ndarray, start: np.ndarray, end: np.ndarray
) -> bool:
    """Whether the horizontal line ``start``..``end`` (x, y) leaves the bool ``part`` of a 0/1
    ``piece`` and the rest one line of text (boxes) each, the two over the same columns: a
    room's name with its area written below it is one label. (Names beside each other across a
    vertical line are two rooms in a row, their names at one height.)"""
    if start[1] != end[1]:
        return False
    mine = lines_on(part.view(np.uint8), lines)
    rest = lines_on(cv2.subtract(piece, part.view(np.uint8)), lines)
    if len(mine) != 1 or len(rest) != 1:
        return False
    x, width = np.r_[mine[0, 0], rest[0, 0]], np.r_[mine[0, 2], rest[0, 2]]
    return bool(x.max() < (x + width).min())


def _parts(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(count, (H, W) ``int32`` labels, (count,) ``int32`` areas) of a 0/1 mask's 4-connected
    pieces, label 0 the background: the labels and areas of ``connectedComponentsWithStats``
    for less (OpenCV reads the stats pixel by pixel)."""
    count, parts = cv2.connectedComponents(mask, connectivity=4)
    return count, parts, np.bincount(parts.ravel(), minlength=count).astype(np.int32)


def _text_either_side(lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> bool:
    """Whether lines of text (boxes) stand on both sides of the horizontal or vertical line
    through ``start`` and ``end`` (x, y), each ``CLEAR`` letter heights from it."""
    across = 1 if start[1] == end[1] else 0
    low, size = lines[:, across], lines[:, 2 + across]
    clear = CLEAR * lines[:, 3]
    at = start[across]
    return bool(np.any(low + size <= at - clear) and np.any(low >= at + clear))


def _smaller_part(
    swept: np.ndarray, first: np.ndarray, second: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Areas of the smaller of the two polygons into which lines from outline points ``first``
    (at ``a``, (n, 2) x, y) to ``second`` (at ``b``) cut the outline; ``swept`` is twice the
    signed area swept from the outline's start to each point."""
    ends = swept[second] - swept[first]
    one = np.abs(ends + b[:, 0] * a[:, 1] - a[:, 0] * b[:, 1]) / 2  # closed by the line
    return np.minimum(one, abs(swept[-1]) / 2 - one)


def _run(mask: np.ndarray, start: np.ndarray, step: np.ndarray) -> int:
    """How many unit ``step`` (x, y) steps from ``start`` stay on the 0/1 ``mask``."""
    x, y = int(start[0]), int(start[1])
    if step[0]:
        ahead = mask[y, x + 1 :] if step[0] > 0 else mask[y, :x][::-1]
    else:
        ahead = mask[y + 1 :, x] if step[1] > 0 else mask[:y, x][::-1]
    off = np.flatnonzero(ahead == 0)
    return int(off[0]) if off.size else len(ahead)


def _part_named(part: np.ndarray, lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> bool:
    """Whether a line of text (boxes [x, y, width, height]) stands on the bool ``part``,
    at least ``CLEAR`` letter heights from the parting line ``start``..``end`` (x, y)."""
    low, high = np.minimum(start, end), np.maximum(start, end)
    x, y, width, height = lines.T
    gap_x = np.maximum.reduce([low[0] - (x + width), x - high[0], np.zeros_like(x)])
    gap_y = np.maximum.reduce([low[1] - (y + height), y - high[1], np.zeros_like(y)])
    clear = np.maximum(gap_x, gap_y) >= CLEAR * height
    return len(lines_on(part.view(np.uint8), lines[clear])) > 0


def _carried_edges(points: np.ndarray, inward: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((n, 2) corners, (n, 2) unit steps) ``int64`` (x, y): each inward corner of an outline
    (:func:`_simplified`: its ``points`` and which are ``inward``), with the horizontal or
    vertical direction in which one of its two edges runs on past it into the room."""
    # the edge coming in runs on ahead; the edge going out runs on behind the corner
    before, after = _neighbours(points)
    ahead = np.concatenate([points - before, points - after])
    corners = np.concatenate([points, points])[np.concatenate([inward, inward])]
    ahead = ahead[np.concatenate([inward, inward])]
    along = np.argmax(np.abs(ahead), axis=1)
    rows = np.arange(len(ahead))
    axial = np.abs(ahead[rows, 1 - along]) <= AXIS * np.abs(ahead[rows, along])
    steps = np.zeros_like(ahead)
    steps[rows, along] = np.sign(ahead[rows, along])
    return corners[axial], steps[axial]


def _onto_outline(
    outline: np.ndarray, corners: np.ndarray, steps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (corners, steps) of carried edges whose corner lies within ``REACH`` px of an (N, 2)
    outline, each corner moved to its nearest outline point (the cut that straightened the
    outline there left the corner on it, or a pixel off it on the cut's other side)."""
    if not len(corners):
        return corners, steps
    away = np.abs(outline[None, :, :] - corners[:, None, :]).max(axis=2)
    nearest = away.argmin(axis=1)
    near = away[np.arange(len(corners)), nearest] <= REACH
    return outline[nearest[near]], steps[near]


def _neighbours(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the point before, the point after) each point of a closed (N, 2) outline."""
    around = np.concatenate([points[-1:], points, points[:1]])
    return around[:-2], around[2:]


def _inside(room: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the straight line from ``a`` to ``b`` (x, y) runs inside the room."""
    steps = int(np.abs(b - a).max()) + 1
    x = np.rint(np.linspace(a[0], b[0], steps)).astype(np.int64)
    y = np.rint(np.linspace(a[1], b[1], steps)).astype(np.int64)
    return bool(room[y, x].mean() >= INSIDE)


def _outline_index(outline: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Where (n, 2) ``points`` first lie on an (N, 2) outline: (n,) ``int64``, -1 if not on it."""
    if not len(points):
        return np.zeros(0, np.int64)
    span = int(max(outline[:, 0].max(), points[:, 0].max())) + 1
    keys = outline[:, 1] * span + outline[:, 0]
    order = np.argsort(keys, kind="stable")
    wanted = points[:, 1] * span + points[:, 0]
    found = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
    return np.where(keys[order][found] == wanted, order[found], -1)


def _simplified(outline: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """(points (M, 2) ``int64``, which are inward corners (M,) bool) of an (N, 2) closed
    outline simplified to ``tolerance`` px."""
    simple = cv2.approxPolyDP(outline.reshape(-1, 1, 2).astype(np.int32), tolerance, True)
    points = simple.reshape(-1, 2).astype(np.int64)
    if len(points) < 4:
        return points, np.zeros(len(points), bool)
    before, after = _neighbours(points)
    incoming, outgoing = points - before, after - points
    turn = incoming[:, 0] * outgoing[:, 1] - incoming[:, 1] * outgoing[:, 0]
    orientation = np.sign(cv2.contourArea(points.astype(np.float32), oriented=True))
    # a corner turning against the outline's own sense of rotation points into the room
    return points, turn * orientation < 0
