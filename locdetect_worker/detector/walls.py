"""Ink -> wall mask: keep thick strokes and long straight lines, drop thin clutter and text.

Hatching is first closed into solid bands (sparse hatching by filling the
rows of slanted strips of paper between its strokes); an opening a little wider than
the commonest (thin-line) stroke then removes furniture, arcs, hatching
leftovers and dimension text. Long straight horizontal and vertical lines
that have a parallel partner close by, nearer than the paper on either
side, are kept whatever their width with the paper between, because thin
double-line walls and window glass close rooms too, while a lone thin line
(a dimension, a table rule), a dashed or dotted line (an edge overhead, a
hidden outline) and the corridor between two walls do not.
Walls drawn as closed outlines (at any angle) are filled. A drawing with
hardly any of these (a plain map in one-pixel lines) has no clutter to tell
apart: all its ink may be wall.
A tiled floor, a grid of small paper squares, is floor, not a wall's hatching.
Components too short to be a wall (closed letters, symbols) are dropped.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import (
    fill_runs,
    filled_pieces,
    label_boxes,
    outer_outlines,
    pieces_with_stats,
    row_edges,
    run_pixels,
)
from locdetect_worker.detector._lines import (
    dilate_packed,
    erode_line,
    erode_packed,
    open_line,
    packed,
    unpacked,
)
from locdetect_worker.detector._runs import run_pieces

HOLLOW_WIDTH = 2.5  # widest outline wall, in double-line pair gaps
USUAL_WIDTH = 2.0  # widest outline wall in a drawing whose walls are mostly not outlines
OUTLINE_SHARE = 0.5  # least pixels of outline walls wider than usual, in thick strokes' pixels
OUTLINED_WIDTH = 1.5  # outline walls wider than this (pair gaps) have mostly thin lines beside
THICK_BESIDE = 0.35  # the most of such a wall's edge that thick strokes may line
EVEN = 0.45  # most a strip's width may vary (std / mean) to be a wall's inside
LINES_ONLY = 0.1  # below this share of the ink in walls, every long line is a wall
CHAMFER_STEP = 0.955  # OpenCV's 3x3 L2 distance: the cost of a straight step
PIECE = 64  # px: sparse outline walls are measured on pieces of this many rows and column tiles
SPARSE = 16  # a component whose box is this many times its pixels is measured in pieces
CELL_WIDTH = 2.5  # widest paper between hatching strokes, in hatch gaps
CELL_LENGTH = 3  # longest paper between hatching strokes, in pair gaps (wide walls' hatching)
CELL_SLANT = 0.6  # least correlation of x and y over such paper's pixels (slanted strips)
CELL_ROW = 5  # fewest such strips side by side in a hatched wall
NETWORK_SPAN = 13  # least box diagonal of a blank strip of uneven width, in its greatest depths
BRIDGE = 5  # px: a line's breaks shorter than this are bridged
SOLID_LINE = 0.8  # least share of a line's length that is ink: less is a dashed line
LONE_BAND = 4  # px beyond the thin width from which a straight band with no partner is a wall
TILE_FILL = 0.8  # least share of its box a floor tile's paper fills (an upright rectangle)
TILE_ASPECT = 2.0  # most ratio of a floor tile's sides
TILE_ROWS = 4  # fewest rows and columns of tiles in a tiled floor


def wall_mask(
    ink: np.ndarray, thin_width: int, line_length: int, hatch_gap: int, pair_gap: int
) -> np.ndarray:
    """(H, W) ``uint8`` wall mask (1 = wall) from an (H, W) ``uint8`` ink mask.

    ``thin_width``: px width of thin lines to remove; ``line_length``: px length
    from which a paired straight line is a wall whatever its width; ``hatch_gap``: px
    spacing of hatching to fill; ``pair_gap``: px up to which two parallel thin
    lines form a double-line wall. Components shorter than ``line_length`` go.
    """
    check_mask(ink, "ink")
    if thin_width < 1 or line_length < 3 or hatch_gap < 1:
        raise ValueError(
            f"need thin_width >= 1, line_length >= 3, hatch_gap >= 1; "
            f"got {thin_width}, {line_length}, {hatch_gap}"
        )
    parts = _paper_parts(ink)
    cells = _hatch_cells(parts, CELL_WIDTH * hatch_gap, CELL_LENGTH * pair_gap, thin_width)
    solid = cv2.morphologyEx(ink | cells, cv2.MORPH_CLOSE, _disc(hatch_gap))
    thick = cv2.morphologyEx(solid, cv2.MORPH_OPEN, _disc(thin_width + 2))
    run = max(3, line_length)
    horizontal = _paired_lines(ink, run, pair_gap, thin_width)
    # numpy's transpose, and OR-ing a transposed view, cost several times OpenCV's transpose
    vertical = cv2.transpose(_paired_lines(cv2.transpose(ink), run, pair_gap, thin_width))
    hollow = _hollow_walls(
        parts,
        HOLLOW_WIDTH * pair_gap,
        hatch_gap**2,
        thick,
        OUTLINED_WIDTH * pair_gap,
        USUAL_WIDTH * pair_gap,
    )

    walls = thick | horizontal | vertical | hollow
    if np.count_nonzero(walls) < LINES_ONLY * np.count_nonzero(ink):  # only thin single lines
        walls = ink
    floors = _tiled_floors(parts, walls, pair_gap, thin_width, HOLLOW_WIDTH * pair_gap, line_length)
    if floors is not None:
        walls = walls & (1 - floors)  # not in place: walls may be the ink
    return _drop_short(walls, line_length)


class _PaperParts(NamedTuple):
    """The 4-connected paper components of an ink mask: the ink, the paper, its labels
    (0 = ink), the paper's runs along rows (each in one component), and the components'
    boxes and areas (label 0's empty: the ink's runs are not read)."""

    label_count: int
    ink: np.ndarray
    paper: np.ndarray
    labels: np.ndarray
    runs: tuple[np.ndarray, np.ndarray, np.ndarray]
    boxes: np.ndarray
    areas: np.ndarray


def _paper_parts(ink: np.ndarray) -> _PaperParts:
    paper = 1 - ink
    count, (starts, stops, pieces) = run_pieces(paper, 4)
    found = (pieces + 1).astype(np.int32)  # label 0 is the ink
    # the labels run by run: the ink's before each of the paper's, and after the last
    numbers = np.zeros(2 * starts.size + 1, np.int32)
    numbers[1::2] = found
    edges = np.column_stack([starts, stops]).ravel()
    lengths = np.diff(edges, prepend=0, append=paper.size)
    labels = np.repeat(numbers, lengths).reshape(paper.shape)
    runs = (starts, stops, found)
    areas = np.bincount(found, stops - starts, count + 1)
    boxes = label_boxes(labels, count + 1, runs)
    return _PaperParts(count + 1, ink, paper, labels, runs, boxes, areas)


def _hatch_cells(parts: _PaperParts, max_width: float, max_length: int, stroke: int) -> np.ndarray:
    """The paper between hatching strokes too far apart for the hatch closing: enclosed
    pieces of paper that are short, thin, slanted strips (between two strokes, capped by
    the wall's outlines, or a few such strips where a stroke breaks), in rows of at least
    ``CELL_ROW`` slanted the same way that only ``stroke`` px wide lines part, set to 1.

    A piece's mean width is about twice its area over its edge (its pixels beside ink).
    Rooms are wide; letters' counters, floor tiles, a basin's rim, a window's panes and the
    wedges of a spiral stair are not slanted strips: their pixels' x and y do not go
    together.
    """
    starts, stops, found = parts.runs
    small = parts.boxes[:, 2:].max(axis=1) <= max_length
    small[0] = False
    cell = small & (2 * parts.areas <= max_width * _edges(parts, small))
    slant = _slants(parts, cell)
    chosen = cell & (np.abs(slant) >= CELL_SLANT)
    if not chosen.any():
        return np.zeros(parts.labels.shape, np.uint8)
    cells = _paint_runs(np.zeros(parts.labels.shape, np.uint8), parts.runs, chosen, 1)
    # a row of cells is one piece once the strokes between them are bridged; read in the box of
    # all cells, with room for the bridging, not on the page
    bridge = stroke + 2
    left, top = parts.boxes[chosen, :2].min(axis=0) - bridge
    right, bottom = (parts.boxes[chosen, :2] + parts.boxes[chosen, 2:]).max(axis=0) + bridge
    left, top = max(0, int(left)), max(0, int(top))
    box = cells[top:bottom, left:right]
    # few pieces, mostly: filled from their outlines, not labelled px by px
    rows, stats = filled_pieces(cv2.dilate(box, np.ones((bridge, bridge), np.uint8)))
    count = len(stats)
    label, first = np.unique(found[chosen[found]], return_index=True)
    first_row, first_col = np.divmod(starts[chosen[found]][first], parts.labels.shape[1])
    # hatching runs one way: count the cells of each row slanted each way
    row = 2 * rows[first_row - top, first_col - left].astype(np.int64) + (slant[label] > 0)
    kept = np.zeros(parts.label_count, bool)
    kept[label] = np.bincount(row, minlength=2 * count)[row] >= CELL_ROW
    return _paint_runs(cells, parts.runs, chosen & ~kept, 0)


def _tiled_floors(
    parts: _PaperParts,
    walls: np.ndarray,
    max_side: int,
    stroke: int,
    widest_wall: float,
    wall_length: int,
) -> np.ndarray | None:
    """A tiled floor (a bathroom's, a kitchen's, a terrace's) set to 1, or None where there is
    none: a grid of small upright rectangles of paper, up to ``max_side`` px a side, parted by
    ``stroke`` px lines, at least ``TILE_ROWS`` rows by as many columns, with the lines
    between and around them, but not the ``walls`` lines around them that run on past the
    floor (a partition drawn with the joints' pen that borders the grid).

    Its lines are too close for the hatch closing and each has a partner nearer than a
    double-line wall's, so the floor would come out as solid wall; hatching's paper is
    slanted, a stair's treads lie in a row or two, a window's panes are few, and a grid as
    narrow as a wall (up to ``widest_wall`` px) and as long as one (``wall_length`` px) may be
    that wall's square hatching.
    """
    x, y, width, height = parts.boxes.T
    area = parts.areas
    short, long = np.minimum(width, height), np.maximum(width, height)
    tile = (short >= 2) & (long <= max_side) & (long <= TILE_ASPECT * short)
    tile &= area >= TILE_FILL * width * height
    tile[0] = False  # the ink
    # a tile of a grid has tiles one line away beside it and above or below it
    page_height, page_width = parts.labels.shape
    middle_x, middle_y = x + width // 2, y + height // 2

    def beyond(columns: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Whether the paper at these points is a tile; off the page there is none."""
        on_page = (columns >= 0) & (columns < page_width) & (rows >= 0) & (rows < page_height)
        at = parts.labels[np.clip(rows, 0, page_height - 1), np.clip(columns, 0, page_width - 1)]
        return tile[at] & on_page

    beside, above_below = np.zeros_like(tile), np.zeros_like(tile)
    for gap in (stroke, stroke + 1):  # past a line or one a pixel thicker
        beside |= beyond(x + width + gap, middle_y) | beyond(x - gap - 1, middle_y)
        above_below |= beyond(middle_x, y + height + gap) | beyond(middle_x, y - gap - 1)
    tile &= beside & above_below
    if np.count_nonzero(tile) < TILE_ROWS**2:
        return None
    # tiles one line apart are one floor, with its outer lines; read in the box of all tiles,
    # with room for the spreading (else a lone floor's size depends on other floors), not on
    # the page
    reach = stroke  # takes the outer lines; from both sides, spans joints up to twice as thick
    left, top = max(0, int(x[tile].min()) - reach), max(0, int(y[tile].min()) - reach)
    right, bottom = int((x + width)[tile].max()) + reach, int((y + height)[tile].max()) + reach
    box = (slice(top, bottom), slice(left, right))
    tiles = _paint_runs(np.zeros(parts.labels.shape, np.uint8), parts.runs, tile, 1)
    square = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    floors = cv2.dilate(tiles[box], square)
    count, labels = cv2.connectedComponents(floors, connectivity=4)
    # a floor's size in tiles: its tiles' extent and one more line over their mean pitch
    mine = labels[y[tile] - top, x[tile] - left]
    tiles_in = np.maximum(np.bincount(mine, minlength=count), 1)
    pitch_x = np.bincount(mine, width[tile] + stroke, count) / tiles_in
    pitch_y = np.bincount(mine, height[tile] + stroke, count) / tiles_in
    # from the tiles' boxes, not the grown floor's: that is cut short at the page's edge
    first_x, first_y = np.full(count, page_width), np.full(count, page_height)
    last_x, last_y = np.zeros(count, np.int64), np.zeros(count, np.int64)
    np.minimum.at(first_x, mine, x[tile])
    np.minimum.at(first_y, mine, y[tile])
    np.maximum.at(last_x, mine, (x + width)[tile])
    np.maximum.at(last_y, mine, (y + height)[tile])
    across, down = last_x - first_x + stroke, last_y - first_y + stroke
    floor = (across >= TILE_ROWS * pitch_x) & (down >= TILE_ROWS * pitch_y)
    # a strip no wider than a wall and as long may be that wall's square hatching
    floor &= (np.minimum(across, down) > widest_wall) | (np.maximum(across, down) < wall_length)
    floor[0] = False
    if not floor.any():
        return None
    tiles[box] = floor[labels].view(np.uint8)
    # a wall the grid borders stays where it runs on past the floor's grown box for a wall's
    # length as wall; a border line that runs on only into another floor's lines goes
    left_on = walls & (1 - tiles)
    for label in np.flatnonzero(floor):
        x0, y0 = max(0, int(first_x[label]) - reach), max(0, int(first_y[label]) - reach)
        x1 = min(page_width, int(last_x[label]) + reach)
        y1 = min(page_height, int(last_y[label]) + reach)
        # the bands of the grown box outside the tiles' box
        for rows in (slice(y0, int(first_y[label])), slice(int(last_y[label]), y1)):
            on = _running_on(walls[rows], left_on[rows], x0, x1, wall_length)
            tiles[rows, x0:x1] &= 1 - on
        for columns in (slice(x0, int(first_x[label])), slice(int(last_x[label]), x1)):
            on = _running_on(walls[:, columns].T, left_on[:, columns].T, y0, y1, wall_length)
            tiles[y0:y1, columns] &= 1 - on.T
    return tiles


def _running_on(
    lines: np.ndarray, beyond: np.ndarray, start: int, stop: int, length: int
) -> np.ndarray:
    """``uint8`` 1 where ``lines[:, start:stop]`` is on a row of ``lines`` that runs unbroken
    from it out of that span and on for ``length`` px of ``beyond`` (before ``start`` or from
    ``stop``), 0 elsewhere: a line longer than the span, not one that ends in it."""
    span = lines[:, start:stop] != 0
    on = np.zeros_like(span)
    if start >= length:
        before = beyond[:, start - length : start].all(axis=1, keepdims=True)
        on |= np.logical_and.accumulate(span, axis=1) & before
    if stop + length <= lines.shape[1]:
        after = beyond[:, stop : stop + length].all(axis=1, keepdims=True)
        on |= np.logical_and.accumulate(span[:, ::-1], axis=1)[:, ::-1] & after
    return on.view(np.uint8)


def _edges(parts: _PaperParts, chosen: np.ndarray) -> np.ndarray:
    """How many pixels of each ``chosen`` label have ink among their 4 neighbours (0 for the
    others): read at the few pixels of those labels, not over the page."""
    starts, stops, found = parts.runs
    picked = chosen[found]
    lengths = stops[picked] - starts[picked]
    pixels = run_pixels(starts[picked], stops[picked])
    ink = parts.ink.ravel()
    width = parts.ink.shape[1]
    column = pixels % width
    last = ink.size - 1
    touching = (
        (ink[np.maximum(pixels - 1, 0)] & (column > 0))
        | (ink[np.minimum(pixels + 1, last)] & (column < width - 1))
        | (ink[np.maximum(pixels - width, 0)] & (pixels >= width))
        | (ink[np.minimum(pixels + width, last)] & (pixels < ink.size - width))
    )
    return np.bincount(np.repeat(found[picked], lengths), touching, parts.label_count)


def _slants(parts: _PaperParts, chosen: np.ndarray) -> np.ndarray:
    """The correlation of x and y over each ``chosen`` label's pixels (0 for the others),
    summed run by run."""
    starts, stops, found = parts.runs
    picked = chosen[found]
    label = found[picked]
    row, first = np.divmod(starts[picked], parts.labels.shape[1])
    # coordinates from the label's box corner keep the sums small
    y = (row - parts.boxes[label, 1]).astype(np.float64)
    a = (first - parts.boxes[label, 0]).astype(np.float64)
    n = (stops[picked] - starts[picked]).astype(np.float64)
    b = a + n - 1  # the run's last x

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(label, values, parts.label_count)

    sum_x = n * (a + b) / 2
    sum_xx = (b * (b + 1) * (2 * b + 1) - (a - 1) * a * (2 * a - 1)) / 6
    count = np.maximum(total(n), 1)
    mean_x, mean_y = total(sum_x) / count, total(n * y) / count
    var_x = total(sum_xx) / count - mean_x**2
    var_y = total(n * y * y) / count - mean_y**2
    cov = total(y * sum_x) / count - mean_x * mean_y
    return cov / np.sqrt(np.maximum(var_x * var_y, 1e-9))


def _hollow_walls(
    parts: _PaperParts,
    max_width: float,
    speck: int,
    thick: np.ndarray,
    outlined: float,
    usual: float,
) -> np.ndarray:
    """The enclosed paper strips of an ink mask that are long, thin and evenly wide or blank.

    A wall drawn as an outline (two lines, capped at the ends) encloses a strip
    of paper as wide as the wall, the same width all along; rooms, furniture
    and letters enclose wider or stubbier holes, and a small room crowded with
    symbols leaves paper of very uneven width. Outer and inner walls of
    different widths meet in one strip of uneven width, but it spans many
    times its width and nothing is drawn inside it, while a small closed room
    is compact and holds its name or fixtures (ink of more than ``speck`` px).
    A strip wider than ``outlined`` px must be three times as long as wide and
    lie between thin lines, hardly any of the ``thick`` mask beside it: the
    paper between a solid wall and a dimension line drawn along it is as even.
    Filling such strips makes outline walls solid, at any angle. Strips wider than
    ``usual`` px are walls only in a drawing whose walls are outlines (such strips hold
    together at least ``OUTLINE_SHARE`` of the thick strokes' pixels): elsewhere they are
    a car's windows or a table's rim, drawn beside solid walls.
    """
    count, _, paper, labels, runs, boxes, pixels = parts
    long = boxes[:, 2:].max(axis=1) >= 3 * outlined
    long[0] = False  # label 0 is the ink
    # Paper around a square of it lies at least (half the side + 1) straight chamfer steps from
    # the ink: its component is too wide, with no need to measure it. Sampling the squares on a
    # grid finds most rooms, so the distance transform is needed only near the few long
    # components left.
    reach = int(max_width / 2 / CHAMFER_STEP) + 2
    # the square's erosion, by columns then rows, read only on the grid's rows, then columns
    down = erode_line(paper, 2 * reach - 1, axis=0)[::reach]
    deep = erode_line(np.ascontiguousarray(down), 2 * reach - 1, axis=1)[:, ::reach]
    wide = np.zeros(count, bool)
    wide[labels[::reach, ::reach][deep != 0]] = True
    measured = long & ~wide
    # A strip round a sheet frame has a page-sized box but few pixels: such sparse ones are
    # measured in pieces near their pixels, the others each in its box.
    sparse = measured & (np.prod(boxes[:, 2:] + 2, axis=1) > SPARSE * pixels)
    near, near_depth, deeper = _ridges_near(paper, labels, runs, sparse, reach, max_width / 2)
    boxed, boxed_depth = _ridges_in_boxes(labels, boxes, measured & ~sparse)
    on_ridge, depth = np.concatenate([near, boxed]), np.concatenate([near_depth, boxed_depth])
    strip = measured & ~deeper & _even_strips(on_ridge, depth, count, max_width)
    deepest = np.zeros(count, depth.dtype)  # numpy's fast path, with no casting
    np.maximum.at(deepest, on_ridge, depth)
    deepest = deepest.astype(np.float64)  # scaled and compared as lengths, in float64
    narrow = measured & ~deeper & (deepest <= max_width / 2)
    height, width = labels.shape
    for label in np.flatnonzero(narrow & (~strip | (deepest > outlined / 2))):
        x, y, box_width, box_height = boxes[label]
        rows = slice(max(0, y - 1), min(height, y + box_height + 1))
        cols = slice(max(0, x - 1), min(width, x + box_width + 1))
        mine = (labels[rows, cols] == label).view(np.uint8)
        if not strip[label]:
            # uneven: walls of two widths meeting, if it spans far for its width, holding nothing
            spans = np.hypot(box_width, box_height) >= NETWORK_SPAN * deepest[label]
            strip[label] = spans and _blank(mine, speck)
        if strip[label] and deepest[label] > outlined / 2:
            if max(box_width, box_height) < 6 * deepest[label]:
                strip[label] = False
                continue
            beside = cv2.dilate(mine, np.ones((3, 3), np.uint8)) - mine
            thick_beside = np.count_nonzero(beside & thick[rows, cols])
            strip[label] = thick_beside <= THICK_BESIDE * np.count_nonzero(beside)
    beyond_usual = strip & (deepest > usual / 2)
    if pixels[beyond_usual].sum() < OUTLINE_SHARE * np.count_nonzero(thick):
        strip &= ~beyond_usual
    return _paint_runs(np.zeros(labels.shape, np.uint8), runs, strip, 1)


def _blank(mine: np.ndarray, speck: int) -> bool:
    """Whether a 0/1 mask's component encloses nothing larger than ``speck`` px."""
    around = cv2.copyMakeBorder(1 - mine, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    _, _, stats = pieces_with_stats(around)
    # label 0 is the component, label 1 what lies around it (the border is all theirs)
    return bool((stats[2:, cv2.CC_STAT_AREA] <= speck).all())


def _ridges_in_boxes(
    labels: np.ndarray, boxes: np.ndarray, chosen: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, depths) of the distance ridge pixels of the ``chosen`` labels, each label's in
    raster order, from a distance transform on each one's box."""
    height, width = labels.shape
    picked = np.flatnonzero(chosen)
    depths = [np.zeros(0, np.float32)]
    # plain ints and few calls per box: most boxes are small, and each call costs as much
    for label, (x, y, box_width, box_height) in zip(
        picked.tolist(), boxes[picked].tolist(), strict=True
    ):
        rows = slice(max(0, y - 1), min(height, y + box_height + 1))
        cols = slice(max(0, x - 1), min(width, x + box_width + 1))
        # the ink nearest its pixels borders it; other paper read as ink moves neither its
        # distances nor its ridge (a diagonal neighbour lies at the least depth anyway)
        mine = (labels[rows, cols] == label).view(np.uint8)
        half = cv2.distanceTransform(mine, cv2.DIST_L2, 3)
        depths.append(half[_ridge(half)])
    counts = [len(depth) for depth in depths[1:]]
    return np.repeat(picked, counts).astype(np.int32), np.concatenate(depths)


def _ridges_near(
    paper: np.ndarray,
    labels: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray],
    chosen: np.ndarray,
    reach: int,
    depth_limit: float,
    piece: int = PIECE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, depths) of the distance ridge pixels of the ``chosen`` labels, in raster order,
    and which labels have paper deeper than ``depth_limit`` (< ``CHAMFER_STEP * (reach - 1)``).

    The distance transform runs on pieces around the chosen pixels, not the page: a strip round
    a sheet frame has a page-sized box but few pixels. A distance up to ``CHAMFER_STEP * k`` is
    set by the ink within ``k`` px (a chamfer path keeps to the box of its ends), so a piece
    that reaches ``reach`` px past the pixels it reads gives them, and their neighbours, the
    page's distances up to the limit, and a larger one only where the page's is larger too.
    Pieces are the chosen runs of ``piece`` rows, grouped where they share a column tile.
    """
    height, width = labels.shape
    starts, stops, found = runs
    picked = chosen[found]
    rows, lefts = np.divmod(starts[picked], width)
    rights = stops[picked] - 1 - rows * width
    band, first_tile, last_tile = rows // piece, lefts // piece, rights // piece
    tiles = width // piece + 1
    shape = (height // piece + 1, tiles + 1)
    opened = np.bincount(band * shape[1] + first_tile, minlength=shape[0] * shape[1])
    closed = np.bincount(band * shape[1] + last_tile + 1, minlength=shape[0] * shape[1])
    cover = (opened - closed).reshape(shape)
    held = np.cumsum(cover, axis=1)[:, :tiles] > 0
    opens = held.copy()
    opens[:, 1:] &= ~held[:, :-1]
    group = (np.cumsum(opens) - 1).reshape(held.shape)[band, first_tile]
    pieces = int(opens.sum())
    top, left = np.full(pieces, height), np.full(pieces, width)
    bottom, right = np.zeros(pieces, np.int64), np.zeros(pieces, np.int64)
    np.minimum.at(top, group, rows)
    np.maximum.at(bottom, group, rows + 1)
    np.minimum.at(left, group, lefts)
    np.maximum.at(right, group, rights + 1)
    deeper = np.zeros(len(chosen), bool)
    at, depths = [], []
    for y0, y1, x0, x1 in zip(top.tolist(), bottom.tolist(), left.tolist(), right.tolist()):
        up, down = max(0, y0 - reach), min(height, y1 + reach)
        back, ahead = max(0, x0 - reach), min(width, x1 + reach)
        half = cv2.distanceTransform(paper[up:down, back:ahead], cv2.DIST_L2, 3)
        inner = (slice(y0 - up, y1 - up), slice(x0 - back, x1 - back))
        here, depth = labels[y0:y1, x0:x1], half[inner]
        deeper[here[depth > depth_limit]] = True
        # listed along the flat piece: numpy lists a 2-D mask's pixels several times slower
        ys, xs = np.divmod(np.flatnonzero(_ridge(half, inner)), x1 - x0)
        mine = chosen[here[ys, xs]]
        at.append((ys[mine] + y0) * width + xs[mine] + x0)
        depths.append(depth[ys[mine], xs[mine]])
    flat = np.concatenate([np.zeros(0, np.int64), *at])
    order = np.argsort(flat)
    on_ridge = labels.ravel()[flat[order]]
    return on_ridge, np.concatenate([np.zeros(0, np.float32), *depths])[order], deeper


def _even_strips(
    on_ridge: np.ndarray, depth: np.ndarray, count: int, max_width: float
) -> np.ndarray:
    """Which of ``count`` labels have ridge pixels (labels ``on_ridge``, distances ``depth``,
    each label's in raster order) no deeper than ``max_width / 2`` and of even depth (label 0,
    the ink, never)."""
    radius = depth.astype(np.float64)
    points = np.maximum(np.bincount(on_ridge, minlength=count), 1)
    mean = np.bincount(on_ridge, radius, count) / points
    square = np.bincount(on_ridge, radius * radius, count) / points
    spread = np.sqrt(np.maximum(square - mean**2, 0))
    # A component's deepest pixel is on the ridge: a neighbour from another component touches
    # ink, so it lies at depth 1, the least any paper has.
    wide = np.zeros(count, bool)
    wide[on_ridge[depth > max_width / 2]] = True
    even = ~wide & (spread <= EVEN * mean)
    even[0] = False
    return even


def _ridge(
    distance: np.ndarray, inner: tuple[slice, slice] = (slice(None), slice(None))
) -> np.ndarray:
    """Where a distance transform is positive and no neighbour's is larger, in its ``inner``
    part."""
    grown = cv2.dilate(distance, np.ones((3, 3), np.uint8))[inner]
    distance = distance[inner]
    return (distance > 0) & (distance >= grown)


def _paired_lines(ink: np.ndarray, length: int, gap: int, thin_width: int) -> np.ndarray:
    """Bands between horizontal lines of ``length`` px and their nearest parallel partner.

    Down each column, the paper between two consecutive long lines is filled
    when it is at most ``gap`` px and no wider than the paper on either side:
    a wall is thinner than the rooms or corridors it parts, so a corridor
    between two double-line walls stays open. A lone line (dimension, table
    rule, sheet frame) goes unless it is ``LONE_BAND`` px wider than the thin
    lines (a hatched wall run solid) or half as wide as ``gap`` (a solid wall,
    when no thin lines set the thin width). Breaks of a few px are bridged, and every
    line is first thickened by a row each way so that a line that steps by a
    pixel (a turned scan) stays one run.
    """
    stepped = cv2.dilate(ink, np.ones((3, 1), np.uint8))
    # bridged (closed along the rows) and opened on the rows packed once, as open_line packs them
    rows = packed(stepped, axis=1)
    bridged = erode_packed(dilate_packed(rows, BRIDGE), BRIDGE)
    lines = unpacked(dilate_packed(erode_packed(bridged, length), length), 1, stepped)
    lines = _solid(lines, stepped)
    bands = _with_narrowest_gaps(lines, gap)
    across = 2 + min(thin_width + LONE_BAND, gap // 2)  # 2: the rows the thickening added
    return open_line(bands, across, axis=0)


def _solid(lines: np.ndarray, stepped: np.ndarray) -> np.ndarray:
    """The ``lines`` (0/1) less their runs along rows that are less than ``SOLID_LINE`` ink in
    ``stepped``, before breaks were bridged: a dashed or dotted line (an edge overhead, a hidden
    outline) is no wall."""
    # rows with no bridged break are solid; OpenCV's row sums find the others far sooner than
    # listing the breaks' pixels
    bridged = cv2.subtract(lines, stepped)  # 1 where a break was bridged
    breaks_per_row = cv2.reduce(bridged, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)
    rows = np.flatnonzero(breaks_per_row)
    if not rows.size:
        return lines
    line, edges = row_edges(lines[rows])
    breaks = cv2.copyMakeBorder(bridged[rows], 0, 0, 1, 1, cv2.BORDER_CONSTANT, value=0).ravel()
    starts, stops = edges[::2], edges[1::2]
    # the breaks in each run: summed from each edge to the next, every other such sum
    broken = np.add.reduceat(breaks, edges, dtype=np.int64)[::2]
    dashed = broken > (1 - SOLID_LINE) * (stops - starts)
    fill_runs(line, starts[dashed], stops[dashed], 0)
    solid = lines.copy()
    solid[rows] = line.reshape(len(rows), -1)[:, 1:-1]
    return solid


def _with_narrowest_gaps(lines: np.ndarray, gap: int) -> np.ndarray:
    """An (H, W) 0/1 mask with its runs of zeros down each column filled that lie between
    ones, are at most ``gap`` long and no longer than the runs beside them.

    A run at the column's top or foot (no ink beyond) counts as endless. Long lines lie on few
    rows: the columns are read on those rows and the row after each (paper, standing for all
    the blank rows up to the next line), turned to run along rows.
    """
    height, width = lines.shape
    kept = cv2.reduce(lines, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() != 0
    kept[1:] |= kept[:-1]
    read = np.flatnonzero(kept)  # the page's rows that the columns keep
    if not read.size:
        return lines.copy()
    # the columns read as rows, so that each column's runs' edges alternate start, end
    _, edges = row_edges(cv2.transpose(lines[read]))
    # on the page: a run of ones starts on the row read there, and ends after the row read last
    column, at = np.divmod(edges[::2], len(read) + 2)
    starts = read[at - 1]
    end_column, at = np.divmod(edges[1::2], len(read) + 2)
    ends = read[at - 2] + 1
    between = column[1:] == end_column[:-1]
    paper = np.where(between, starts[1:] - ends[:-1], np.iinfo(np.int64).max)
    before = np.concatenate(([np.iinfo(np.int64).max], paper[:-1]))
    after = np.concatenate((paper[1:], [np.iinfo(np.int64).max]))
    chosen = between & (paper <= gap) & (paper <= before) & (paper <= after)
    rows = run_pixels(ends[:-1][chosen], starts[1:][chosen])  # the rows of the gaps' pixels
    bands = lines.copy()
    bands.ravel()[rows * width + np.repeat(column[1:][chosen], paper[chosen])] = 1
    return bands


def _disc(size: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _drop_short(mask: np.ndarray, length: int) -> np.ndarray:
    """A 0/1 mask less its 8-connected pieces whose box is under ``length`` px both ways.

    A piece's outer outline, filled, covers the piece and its holes, and whatever lies in a
    hole has a smaller box, so is short too: filling the short pieces' outer outlines with
    paper clears them, for a fraction of labelling every pixel.
    """
    short = [o for o in outer_outlines(mask) if max(cv2.boundingRect(o)[2:]) < length]
    kept = mask.copy()
    cv2.drawContours(kept, short, -1, 0, cv2.FILLED)
    return kept


def _paint_runs(
    mask: np.ndarray,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray],
    chosen: np.ndarray,
    value: int,
) -> np.ndarray:
    """``mask`` with the runs of the ``chosen`` labels set to ``value``, in place."""
    starts, stops, found = runs
    picked = chosen[found]
    fill_runs(mask.ravel(), starts[picked], stops[picked], value)
    return mask
