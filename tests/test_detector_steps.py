"""Unit tests of the detector's pure steps on tiny literal arrays."""

from __future__ import annotations

import functools
import itertools

import cv2
import numpy as np
import pytest
from scipy import ndimage

from locdetect_worker.detector import _components as components_module
from locdetect_worker.detector import _runs as _runs_module
from locdetect_worker.detector import binarise as binarise_module
from locdetect_worker.detector import frame as frame_module
from locdetect_worker.detector import grow as grow_module
from locdetect_worker.detector import select as select_module
from locdetect_worker.detector import skew as skew_module
from locdetect_worker.detector import text as text_module
from locdetect_worker.detector import walls as walls_module
from locdetect_worker.detector._area import area_shrink
from locdetect_worker.detector._components import (
    LEVELS,
    MANY_RUNS,
    _outer_by_levels,
    fill_runs,
    filled_pieces,
    kept_labels,
    label_areas,
    label_boxes,
    label_runs,
    outer_outlines,
    piece_boxes,
    pieces_with_stats,
    remapped,
    run_starts,
    unclaimed_box,
)
from locdetect_worker.detector._lines import (
    close_box,
    dilate_box,
    dilate_line,
    erode_box,
    erode_line,
    open_line,
)
from locdetect_worker.detector._runs import run_pieces
from locdetect_worker.detector.apart import apart_rooms, lone_pieces, nearest_gaps
from locdetect_worker.detector.arcs import ARC_COVER, door_bridges
from locdetect_worker.detector.binarise import ink_mask, unknown_mask
from locdetect_worker.detector.clutter import clutter_rooms
from locdetect_worker.detector.corners import _best_part, part_at_corners
from locdetect_worker.detector.doors import close_door_gaps
from locdetect_worker.detector.footprint import building_footprint, doubled, max_pool_half
from locdetect_worker.detector.frame import drop_frame_lines, frames_a_margin, stands_free
from locdetect_worker.detector.grow import grow_seeds
from locdetect_worker.detector.jambs import (
    Jamb,
    _long_runs,
    ahead_of,
    ahead_sums,
    end_table,
    summed_area,
    wall_ends,
)
from locdetect_worker.detector.leaves import door_leaves
from locdetect_worker.detector.normalise import paper_grey
from locdetect_worker.detector.openings import facing_bridges
from locdetect_worker.detector.outlines import thinly_outlined
from locdetect_worker.detector.polygons import label_polygons, snap_rectilinear
from locdetect_worker.detector.resample import shrink_keeping_lines
from locdetect_worker.detector.rotate import rotate_page
from locdetect_worker.detector.scraps import absorb_pieces, absorb_scraps
from locdetect_worker.detector.seeds import block_seeds, room_seeds
from locdetect_worker.detector.select import select_rooms
from locdetect_worker.detector.skew import _climb, skew_angle
from locdetect_worker.detector.stroke import (
    clutter_line_width,
    stroke_width_histogram,
    thin_line_width,
)
from locdetect_worker.detector.text import lines_in, named_labels, text_lines, without_text
from locdetect_worker.detector.walls import wall_mask


def box_walls(height: int, width: int, thickness: int) -> np.ndarray:
    """A closed rectangular outline of walls, uint8 1 = wall."""
    walls = np.zeros((height, width), np.uint8)
    walls[:thickness], walls[-thickness:] = 1, 1
    walls[:, :thickness], walls[:, -thickness:] = 1, 1
    return walls


def test_paper_grey_inverts_a_dark_sheet_and_keeps_a_light_one():
    light = np.full((4, 4), 250, np.uint8)
    light[1, 1] = 0
    dark = 255 - light
    assert paper_grey(light)[1, 1] == 0
    assert paper_grey(dark)[1, 1] == 0 and paper_grey(dark)[0, 0] == 250


def test_paper_grey_reads_white_lines_on_a_blue_sheet_as_dark_ink():
    sheet = np.zeros((8, 8, 3), np.uint8)
    sheet[:] = (160, 60, 20)  # BGR blue paper
    sheet[4, :] = (255, 255, 255)  # a white line
    grey = paper_grey(sheet)
    assert grey[4].max() < grey[0].min()


def test_paper_grey_keeps_full_contrast_when_lines_are_a_small_share_of_a_blue_sheet():
    sheet = np.zeros((100, 100, 3), np.uint8)
    sheet[:] = (160, 60, 20)  # BGR blue paper
    sheet[50, :] = (255, 255, 255)  # 1 % of the pixels are lines
    grey = paper_grey(sheet)
    assert int(grey[0, 0]) - int(grey[50, 0]) > 150  # the red channel: 20 vs 255


@pytest.mark.parametrize("bad", [np.zeros((3, 3), np.float32), np.zeros((3, 3, 4), np.uint8)])
def test_paper_grey_names_the_shape_it_refuses(bad):
    with pytest.raises(ValueError, match=r"\(3, 3"):
        paper_grey(bad)


def test_ink_mask_keeps_dark_strokes_and_ignores_light_grey_fill():
    grey = np.full((6, 6), 255, np.uint8)
    grey[0, :] = 0
    grey[3, :] = 200  # light shading
    ink = ink_mask(grey)
    assert ink[0].all() and not ink[3].any() and ink.dtype == np.uint8


def test_ink_mask_of_a_blank_page_is_empty():
    assert not ink_mask(np.full((5, 5), 240, np.uint8)).any()


def test_stroke_widths_separate_a_thin_line_from_a_thick_bar():
    ink = np.zeros((30, 40), np.uint8)
    ink[3, 2:38] = 1  # 1 px line, long
    ink[10:17, 2:38] = 1  # 7 px bar
    histogram = stroke_width_histogram(ink)
    assert thin_line_width(histogram) == 1
    assert histogram[5:9].sum() > 0


def test_clutter_width_is_measured_off_the_long_lines_of_single_line_walls():
    ink = np.zeros((120, 120), np.uint8)
    for at in range(10, 120, 25):  # a grid of single-line walls, 4 px wide
        ink[at : at + 4, :] = 1
        ink[:, at : at + 4] = 1
    for x in range(16, 110, 25):  # a short 1 px stroke (an arc, a fixture) in each cell
        ink[20:30, x] = 1
    assert thin_line_width(stroke_width_histogram(ink)) == 3  # the walls outnumber the clutter
    assert clutter_line_width(ink, length=40) == 1


def test_clutter_width_takes_the_walls_ragged_edges_with_them():
    """Specks along a scanned wall's edges are the wall's, not clutter 1 px wide."""
    ink = np.zeros((160, 160), np.uint8)
    for at in range(10, 160, 30):  # single-line walls 5 px wide
        ink[at : at + 5, :] = 1
        ink[:, at : at + 5] = 1
        ink[at - 2 : at, 1:160:4] = 1  # ragged edges: a 2 px speck every 4 px
        ink[1:160:4, at - 2 : at] = 1
    for x in range(20, 150, 30):  # fixtures drawn 3 px wide
        ink[18:34, x : x + 3] = 1
    assert clutter_line_width(ink, length=40) == 3


def test_clutter_width_refuses_a_non_positive_length():
    with pytest.raises(ValueError, match="length must be >= 1, got 0"):
        clutter_line_width(np.zeros((4, 4), np.uint8), 0)


def test_thin_line_width_refuses_a_non_histogram():
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        thin_line_width(np.zeros((2, 2)))


def test_wall_mask_keeps_thick_strokes_and_drops_thin_lines_and_specks():
    ink = np.zeros((40, 60), np.uint8)
    ink[5:11, 5:55] = 1  # thick wall
    ink[25, 5:55] = 1  # a lone thin line (a dimension)
    ink[30:34, 30:33] = 1  # a speck (a closed letter)
    walls = wall_mask(ink, thin_width=1, line_length=20, hatch_gap=3, pair_gap=6)
    assert walls[5:11, 10:50].all()
    assert not walls[25].any()
    assert not walls[30:34, 30:33].any()


def test_wall_mask_keeps_a_double_line_wall():
    ink = np.zeros((30, 60), np.uint8)
    ink[10, 5:55] = 1
    ink[15, 5:55] = 1
    walls = wall_mask(ink, thin_width=1, line_length=20, hatch_gap=2, pair_gap=6)
    assert walls[10:16, 20:40].all()


def test_wall_mask_fills_two_double_line_walls_but_not_the_corridor_between():
    ink = np.zeros((40, 60), np.uint8)
    for row in (8, 13, 21, 26):  # two walls 4 px thick, a 7 px corridor between
        ink[row, 5:55] = 1
    walls = wall_mask(ink, thin_width=1, line_length=20, hatch_gap=1, pair_gap=10)
    assert walls[8:14, 10:50].all() and walls[21:27, 10:50].all()
    assert not walls[15:20, 10:50].any()


def test_wall_mask_keeps_a_double_line_wall_whose_lines_step_by_a_pixel():
    ink = np.zeros((30, 80), np.uint8)
    for start in range(5, 75, 14):  # a turned scan: each line drops a row every 14 px
        step = (start - 5) // 14 % 2
        ink[10 + step, start : start + 14] = 1
        ink[16 + step, start : start + 14] = 1
    walls = wall_mask(ink, thin_width=1, line_length=30, hatch_gap=1, pair_gap=8)
    assert walls[12:16, 10:70].all()


def test_wall_mask_leaves_a_tiled_floor_as_floor_but_not_a_stair_of_two_rows():
    ink = np.zeros((160, 160), np.uint8)
    ink[:8], ink[-8:], ink[:, :8], ink[:, -8:] = 1, 1, 1, 1  # a room's solid walls
    ink[30:110:5, 30:110] = 1  # tiles 4 px a side (a bathroom's floor), 1 px joints
    ink[30:110, 30:110:5] = 1
    ink[30, 30:111], ink[30:111, 110] = 1, 1
    ink[125:136:5, 30:110] = 1  # a stair of two rows of treads as small
    ink[125:136, 30:110:5] = 1
    walls = wall_mask(ink, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    assert walls[:8].all() and walls[:, :8].all()
    assert not walls[34:106, 34:106].any()
    assert walls[126:135, 40:100].all()


def test_wall_mask_leaves_a_floor_of_joints_a_pixel_thicker_than_thin_lines_as_floor():
    ink = np.zeros((160, 160), np.uint8)
    ink[:8], ink[-8:], ink[:, :8], ink[:, -8:] = 1, 1, 1, 1
    for at in range(30, 120, 10):  # 8 px tiles parted by 2 px joints
        ink[at : at + 2, 30:112] = 1
        ink[30:112, at : at + 2] = 1
    walls = wall_mask(ink, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    assert not walls[34:108, 34:108].any()


def test_wall_mask_keeps_a_stair_of_three_rows_wider_than_a_wall_as_wall():
    """Three rows of treads: wider than a wall, so not its hatching, but under four rows."""
    ink = np.zeros((200, 200), np.uint8)
    ink[:8], ink[-8:], ink[:, :8], ink[:, -8:] = 1, 1, 1, 1
    ink[130:164:11, 30:153] = 1
    ink[130:164, 30:153:11] = 1
    walls = wall_mask(ink, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    assert walls[131:163, 40:140].all()


def _tile_grid(ink: np.ndarray, top: int, left: int, rows: int, columns: int, cell: int) -> tuple:
    """Draws a grid of ``cell`` px squares parted by 1 px lines; returns its box's slices."""
    pitch = cell + 1
    bottom, right = top + rows * pitch + 1, left + columns * pitch + 1
    ink[top:bottom:pitch, left:right] = 1
    ink[top:bottom, left:right:pitch] = 1
    return slice(top, bottom), slice(left, right)


def test_wall_mask_finds_a_tiled_floor_of_four_by_four_alone_or_beside_another():
    ink = np.zeros((160, 160), np.uint8)
    ink[:8], ink[-8:], ink[:, :8], ink[:, -8:] = 1, 1, 1, 1
    rows, columns = _tile_grid(ink, 20, 20, 4, 4, 8)  # 37 px a side, wider than any wall
    inside = slice(rows.start + 1, rows.stop - 1), slice(columns.start + 1, columns.stop - 1)
    alone = wall_mask(ink, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    _tile_grid(ink, 90, 90, 6, 6, 8)  # another floor elsewhere on the page
    beside = wall_mask(ink, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    assert not alone[inside].any()
    assert np.array_equal(alone[rows, columns], beside[rows, columns])


def test_wall_mask_keeps_a_wall_hatched_with_a_square_grid_but_not_tiled_floors_beside():
    ink = np.zeros((240, 300), np.uint8)
    ink[:8], ink[-8:], ink[:, :8], ink[:, -8:] = 1, 1, 1, 1
    wall = _tile_grid(ink, 8, 140, 45, 5, 4)  # a 26 px wall, 5 squares across its hatching
    floor = _tile_grid(ink, 150, 200, 6, 6, 8)  # a tiled floor in the room beside
    patch = _tile_grid(ink, 40, 8, 4, 4, 4)  # as narrow as a wall but shorter than one,
    ink[40:62:5, 8:70] = 1  # its joints running on past a fixture's edge
    walls = wall_mask(ink, thin_width=1, line_length=40, hatch_gap=3, pair_gap=12)
    assert walls[wall].all()
    for rows, columns in (floor, patch):
        assert not walls[rows.start + 1 : rows.stop - 1, columns.start + 1 : columns.stop - 1].any()


def test_wall_mask_keeps_a_double_line_wall_that_borders_a_tiled_floor():
    ink = np.zeros((160, 200), np.uint8)
    ink[:8], ink[-8:], ink[:, :8], ink[:, -8:] = 1, 1, 1, 1
    ink[:, 100] = ink[:, 106] = 1  # a double-line partition, its left line the grid's border
    rows, columns = _tile_grid(ink, 40, 46, 6, 6, 8)
    walls = wall_mask(ink, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    assert walls[rows, 100:107].all()
    assert not walls[rows.start + 1 : rows.stop - 1, columns.start + 1 : columns.stop - 1].any()
    across = np.zeros((200, 160), np.uint8)  # the same, the partition along the rows
    across[:8], across[-8:], across[:, :8], across[:, -8:] = 1, 1, 1, 1
    across[100, :] = across[106, :] = 1
    rows, columns = _tile_grid(across, 46, 40, 6, 6, 8)
    walls = wall_mask(across, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    assert walls[100:107, columns].all()


def test_wall_mask_drops_a_tiled_floor_border_that_runs_on_only_into_another_floor():
    ink = np.zeros((200, 160), np.uint8)
    ink[:8], ink[-8:], ink[:, :8], ink[:, -8:] = 1, 1, 1, 1
    upper = _tile_grid(ink, 30, 40, 6, 6, 8)
    lower = _tile_grid(ink, 90, 40, 6, 6, 8)  # parted from the upper one by a bench's 4 px
    ink[30:145, 40] = 1  # one border line down both
    walls = wall_mask(ink, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    assert not walls[upper[0], 40].any() and not walls[lower[0], 40].any()


def test_wall_mask_finds_a_tiled_floor_cut_by_the_page_edge():
    ink = np.zeros((120, 120), np.uint8)
    for line in range(8, 44, 9):  # four by four tiles of 8 px, their outer lines off the page
        ink[:36, line] = ink[line, :36] = 1
    ink[60:, 60] = ink[60, 60:] = 1  # a long wall elsewhere, so that not every line is one
    ink[66:, 66] = ink[66, 66:] = 1
    walls = wall_mask(ink, thin_width=1, line_length=13, hatch_gap=3, pair_gap=10)
    assert not walls[:36, :36].any()


def test_wall_mask_does_not_pair_a_dashed_line_with_a_solid_one():
    ink = np.zeros((40, 80), np.uint8)
    ink[10, 5:75] = 1  # a solid line (a counter's front)
    for start in range(5, 75, 6):  # a dashed line 5 px beside it (an edge overhead): 4 on, 2 off
        ink[15, start : start + 4] = 1
    ink[25, 5:75] = 1  # the same pair with both lines solid is a double-line wall
    ink[30, 5:75] = 1
    walls = wall_mask(ink, thin_width=1, line_length=20, hatch_gap=1, pair_gap=8)
    assert not walls[11:15, 10:70].any()
    assert walls[25:31, 10:70].all()


def test_rotate_page_keeps_a_one_pixel_line_whole():
    grey = np.full((100, 200), 255, np.uint8)
    grey[5:35, 5:35] = 0  # a black block sets the ink level
    grey[60, 10:190] = 120  # a fine line, grey as a shrunk page leaves it
    turned, _ = rotate_page(grey, 1.5)
    ink = ink_mask(turned)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    assert count == 3 and stats[1:, cv2.CC_STAT_WIDTH].max() >= 175


def test_close_door_gaps_bridges_a_gap_in_a_wall_but_not_a_corridor():
    walls = np.zeros((30, 60), np.uint8)
    walls[5:8, 0:25] = 1
    walls[5:8, 33:60] = 1  # an 8 px door gap in a horizontal wall
    walls[12:30, 20:23] = 1
    walls[12:30, 30:33] = 1  # two vertical walls 7 px apart: a corridor
    closed = close_door_gaps(walls, gap=10, min_run=4, min_flank=12)
    assert closed[5:8, 25:33].all()
    assert not closed[12:30, 23:30].any()


def test_close_door_gaps_bridges_only_where_a_long_wall_runs_on():
    walls = np.zeros((60, 80), np.uint8)
    walls[5:7, 10:16] = 1
    walls[5:7, 22:28] = 1  # two short strokes in line: lettering, not a wall
    walls[20:23, 0:40] = 1
    walls[20:23, 46:52] = 1  # a door between a long wall and a short stub
    walls[50:56, 0:80] = 1  # a thick wall, and above it a short upright stroke of a fixture
    walls[36:44, 60:62] = 1
    closed = close_door_gaps(walls, gap=10, min_run=4, min_flank=20)
    assert closed[20:23, 40:46].all()
    assert not closed[5:7, 17:22].any()  # the ends of runs may grow a px (OpenCV's anchor)
    assert not closed[45:50, 60:62].any()
    loose = close_door_gaps(walls, gap=10, min_run=4, min_flank=4)  # what every run used to do
    assert loose[5:7, 16:22].all() and loose[44:50, 60:62].all()


def doorway(width: int = 40) -> np.ndarray:
    """A horizontal wall (rows 58..63) with an opening of ``width`` px from column 41 on."""
    walls = np.zeros((120, 160), np.uint8)
    walls[58:64, :41] = 1
    walls[58:64, 41 + width :] = 1
    return walls


def doors_in(walls: np.ndarray, ink: np.ndarray) -> np.ndarray:
    return door_bridges(walls, ink, wall_ends(walls, 5, 16), min_gap=10, max_gap=50)


@pytest.mark.parametrize("min_run", [5, 6])
def test_wall_ends_face_both_ways_along_both_axes(min_run):
    walls = doorway()
    assert set(wall_ends(walls, min_run, 16)) == {Jamb(0, 1, 40, 58, 63), Jamb(0, -1, 81, 58, 63)}
    turned = wall_ends(np.ascontiguousarray(walls.T), min_run, 16)
    assert set(turned) == {Jamb(1, 1, 40, 58, 63), Jamb(1, -1, 81, 58, 63)}


def test_wall_ends_are_not_found_where_walls_run_off_the_page():
    walls = np.zeros((40, 60), np.uint8)
    walls[10:14, 30:] = 1  # off the right side: the next px in memory opens the next row
    walls[20:24, :25] = 1  # off the left side
    walls[:, 45:48] = 1  # off the top and the bottom, crossing the first wall
    ends = wall_ends(walls, 5, 16)
    assert set(ends) == {Jamb(0, -1, 30, 10, 13), Jamb(0, 1, 24, 20, 23)}


@pytest.mark.parametrize("length", [1, 3, 5, 7, 9])
def test_long_runs_are_the_runs_an_opening_along_rows_keeps(length):
    rng = np.random.default_rng(length)
    masks = [np.zeros((3, 4), np.uint8), np.ones((1, 1), np.uint8), np.ones((2, 3), np.uint8)]
    masks += [(rng.random(rng.integers(1, 30, 2)) < p).view(np.uint8) for p in (0.5, 0.9) * 20]
    for mask in masks:
        opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
        padded = np.pad(opened, ((0, 0), (1, 1)))
        rows, cols = np.nonzero(padded[:, 1:] != padded[:, :-1])
        expected = [rows[0::2], cols[0::2], cols[1::2]]  # row, first px, one past the last
        assert all(np.array_equal(a, b) for a, b in zip(_long_runs(mask, length), expected))


@pytest.mark.parametrize(
    "ends", [[], [Jamb(1, -1, 0, 3, 3)], [Jamb(0, 1, 7, -2, 4), Jamb(1, -1, 1 << 40, 0, 9)]]
)
def test_end_table_is_the_ends_as_rows(ends):
    table = end_table(ends)
    assert table.dtype == np.int64
    assert np.array_equal(table, np.array(ends, np.int64).reshape(-1, 5))


def test_ahead_sums_equal_the_views_ahead_of_ends_up_to_the_page_sides():
    rng = np.random.default_rng(3)
    mask = (rng.random((30, 45)) < 0.3).view(np.uint8)
    ends = [
        Jamb(int(axis), int(ahead), int(tip), int(low), int(low + width))
        for axis, ahead, low, width in zip(
            rng.integers(0, 2, 200),
            rng.choice([-1, 1], 200),
            rng.integers(0, 25, 200),
            rng.integers(0, 5, 200),
            strict=True,
        )
        for tip in [int(rng.integers(0, 45 if axis == 0 else 30))]
    ]
    for start, stop in ((1, 8), (0, 20), (3, 3)):
        views = [ahead_of(mask, end, start, stop) for end in ends]
        expected = [(int(view.sum()), view.size) for view in views]
        assert ahead_sums(mask, ends, start, stop).tolist() == [list(e) for e in expected]
        read_once = ahead_sums(mask, end_table(ends), start, stop, summed_area(mask))
        assert read_once.tolist() == [list(e) for e in expected]
    with pytest.raises(ValueError, match="not the table"):  # another mask's table
        ahead_sums(mask, ends, 1, 8, summed_area(mask.T))


def test_an_arcs_first_look_needs_both_its_samples_on_ink():
    """door_bridges reads the first look's second sample only where the first lies on ink:
    right while one sample of two falls short of ARC_COVER."""
    assert 0.5 < ARC_COVER <= 1.0


def test_door_bridges_close_a_wide_doorway_whose_swing_arc_is_drawn():
    walls = doorway()
    ink = walls.copy()
    cv2.ellipse(ink, (41, 57), (39, 39), 0, 270, 360, 1, 1)  # arc hinged on the left jamb
    cv2.line(ink, (41, 57), (41, 18), 1, 1)  # the open leaf
    bridges = doors_in(walls, ink)
    assert bridges[58:64, 41:81].all()
    assert bridges[:58].sum() == 0 and bridges[64:].sum() == 0
    assert doors_in(walls, walls.copy()).sum() == 0


def test_door_bridges_close_a_double_door_and_a_leaf_hinged_on_the_far_jamb():
    walls = doorway()
    double = walls.copy()
    cv2.ellipse(double, (41, 64), (19, 19), 0, 0, 90, 1, 1)  # both leaves swing down
    cv2.ellipse(double, (80, 64), (19, 19), 0, 90, 180, 1, 1)
    assert doors_in(walls, double)[58:64, 41:81].all()
    far = walls.copy()
    cv2.ellipse(far, (80, 57), (39, 39), 0, 180, 270, 1, 1)
    assert doors_in(walls, far)[58:64, 41:81].all()


def test_door_bridges_ignore_hatching_a_leaf_along_the_opening_and_an_arc_without_a_far_wall():
    walls = doorway()
    hatched = walls.copy()
    for start in range(-120, 160, 3):
        cv2.line(hatched, (start, 54), (start + 54, 0), 1, 1)  # hatching covers every circle
    assert doors_in(walls, hatched).sum() == 0
    leaf = walls.copy()
    cv2.ellipse(leaf, (41, 57), (39, 39), 0, 270, 360, 1, 1)
    cv2.line(leaf, (42, 57), (80, 57), 1, 1)  # the arc's other radius lies along the wall
    assert doors_in(walls, leaf).sum() == 0
    alone = doorway(width=200)  # no wall closes the far side: a curve in furniture or a car
    cv2.ellipse(alone, (41, 57), (39, 39), 0, 270, 360, 1, 1)
    assert doors_in(doorway(width=200), alone).sum() == 0


def test_door_leaves_take_a_stub_with_its_swing_arc_but_not_a_bare_stub_or_a_wall():
    walls = np.zeros((120, 160), np.uint8)
    walls[58:64] = 1  # a wall across the page
    walls[28:58, 40:45] = 1  # a stub standing on it, 30 px long
    walls[:58, 120:125] = 1  # a wall meeting it, longer than a leaf
    ink = walls.copy()
    bare = door_leaves(walls, ink, wall_ends(walls, 5, 16), min_length=10, max_length=50)
    assert bare.sum() == 0
    cv2.ellipse(ink, (42, 57), (30, 30), 0, 270, 360, 1, 1)  # the leaf's swing
    leaves = door_leaves(walls, ink, wall_ends(walls, 5, 16), min_length=10, max_length=50)
    assert leaves[28:58, 40:45].all()
    assert not leaves[58:].any() and not leaves[:, 100:].any()


def test_door_leaves_take_a_swing_arc_read_as_wall_with_its_leaf():
    walls = np.zeros((120, 160), np.uint8)
    walls[58:64] = 1
    walls[28:58, 40:45] = 1  # the leaf
    cv2.ellipse(walls, (42, 57), (30, 30), 0, 270, 360, 1, 2)  # its swing, read as wall
    leaves = door_leaves(walls, walls.copy(), wall_ends(walls, 5, 16), min_length=10, max_length=50)
    assert leaves[28:58, 40:45].all()
    assert leaves[:58][walls[:58] == 1].all()  # the arc too: it pinches the room as much
    assert not leaves[58:].any()


def test_door_leaves_take_a_leaf_whose_free_end_comes_in_pieces():
    walls = np.zeros((120, 160), np.uint8)
    walls[58:64] = 1
    walls[28:58, 40:42] = 1  # the leaf, its free end stepped where its arc joins it
    walls[24:58, 42:45] = 1
    ink = walls.copy()
    cv2.ellipse(ink, (42, 57), (31, 31), 0, 270, 360, 1, 1)
    leaves = door_leaves(walls, ink, wall_ends(walls, 5, 16), min_length=10, max_length=50)
    assert leaves[28:58, 40:45].all()
    assert not leaves[58:].any()


def test_door_leaves_keep_a_wall_that_a_leaf_stands_along():
    walls = np.zeros((120, 160), np.uint8)
    walls[58:64] = 1
    walls[:58, 40:42] = 1  # a wall, running on past the leaf's free end
    walls[28:58, 42:45] = 1  # the leaf, drawn open along it
    ink = walls.copy()
    cv2.ellipse(ink, (43, 57), (30, 30), 0, 270, 360, 1, 1)
    leaves = door_leaves(walls, ink, wall_ends(walls, 5, 16), min_length=10, max_length=50)
    assert leaves.sum() == 0


def test_facing_bridges_join_walls_in_line_only():
    walls = doorway()
    assert facing_bridges(walls, wall_ends(walls, 5, 16), max_gap=50, min_length=10)[
        58:64, 41:81
    ].all()
    assert (
        facing_bridges(walls, wall_ends(walls, 5, 16), max_gap=30, min_length=10).sum() == 0
    )  # too wide
    offset = doorway()
    offset[58:64, 81:] = 0
    offset[70:76, 81:] = 1  # the other wall runs on a parallel line: a corridor's mouth
    assert facing_bridges(offset, wall_ends(offset, 5, 16), max_gap=50, min_length=10).sum() == 0
    side = doorway()
    side[58:64, 81:] = 0
    side[20:100, 81:87] = 1  # the end faces the side of a wall, not another end
    assert facing_bridges(side, wall_ends(side, 5, 16), max_gap=50, min_length=10).sum() == 0
    letters = np.zeros((120, 160), np.uint8)
    letters[58:64, 30:38] = 1
    letters[58:64, 60:68] = 1  # two strokes of text in line: too short to be walls
    assert facing_bridges(letters, wall_ends(letters, 5, 16), max_gap=50, min_length=10).sum() == 0


def test_footprint_is_what_the_border_cannot_reach():
    walls = box_walls(20, 20, 2)
    walls[0:2, 8:11] = 0  # an entrance gap
    inside = building_footprint(np.pad(walls, 5), opening=5)
    assert inside[15, 15] == 1 and inside[1, 1] == 0


def test_seeds_split_two_rooms_joined_by_a_narrow_door():
    free = np.zeros((20, 41), np.uint8)
    free[2:18, 2:19] = 1
    free[2:18, 22:39] = 1
    free[9:12, 19:22] = 1  # a 3 px doorway
    radii = [8.0, 6.0, 4.0, 3.0, 2.0, 1.0, 0.0]
    seeds = room_seeds(free, radii, min_dynamic=2.0, relative=0.2)
    assert seeds.dtype == np.int32
    assert len(np.unique(seeds[seeds > 0])) == 2
    assert seeds[10, 10] != seeds[10, 30]


def test_seeds_weigh_hills_alike_whatever_the_radii_type():
    """A hill standing just at the relative bar: float32 radii must not round it below."""
    free = np.zeros((80, 140), np.uint8)
    free[5:32, 5:32] = 1  # a small room
    free[5:57, 70:122] = 1  # a big room
    free[14:34, 30:72] = 1  # a wide opening between them
    radii = [30.0, 25.0, 22.5, 20.0, 17.5, 15.75, 14.0, 12.5, 11.0, 8.75, 6.0, 4.0, 2.0, 1.0, 0.0]
    wide = room_seeds(free, radii, min_dynamic=0.0, relative=0.3)
    narrow = room_seeds(free, [np.float32(r) for r in radii], min_dynamic=0.0, relative=0.3)
    assert wide.max() == 2
    assert np.array_equal(narrow, wide)


def test_seeds_keep_one_room_whole():
    free = np.zeros((20, 30), np.uint8)
    free[2:18, 2:28] = 1
    seeds = room_seeds(free, [8.0, 4.0, 2.0, 0.0], min_dynamic=2.0, relative=0.2)
    assert len(np.unique(seeds[seeds > 0])) == 1


@pytest.mark.parametrize("shape", [(40, 82), (41, 83)])
def test_block_seeds_seed_each_room_in_the_blocks_it_frees(shape):
    """Seeds per 2 x 2 block, as the flood takes them: one per room, none in a block of wall."""
    free = np.zeros(shape, np.uint8)
    free[4:36, 4:38] = 1
    free[4:36, 44:78] = 1
    free[18:23, 38:44] = 1  # a 5 px doorway
    seeds = block_seeds(free, [16.0, 12.0, 8.0, 6.0, 4.0, 2.0, 0.0], 4.0, 0.2)
    assert seeds.shape == ((shape[0] + 1) // 2, (shape[1] + 1) // 2) and seeds.dtype == np.int32
    assert seeds[10, 10] == 1 and seeds[10, 30] == 2 and set(np.unique(seeds)) == {0, 1, 2}
    assert not seeds[
        cv2.dilate(free, np.ones((2, 2), np.uint8), anchor=(0, 0))[::2, ::2] == 0
    ].any()
    regions = grow_seeds(seeds, free)
    assert (regions[5:35, 5:37] == 1).all() and (regions[5:35, 45:77] == 2).all()


def test_seeds_refuse_increasing_radii():
    with pytest.raises(ValueError, match="decreasing"):
        room_seeds(np.ones((4, 4), np.uint8), [1.0, 2.0], 1.0, 0.2)


def test_grow_fills_each_room_from_its_seed_and_not_across_walls():
    free = 1 - box_walls(10, 21, 1)
    free[:, 10] = 0  # a dividing wall
    seeds = np.zeros((5, 11), np.int32)  # one per 2 x 2 block
    seeds[2, 2], seeds[2, 7] = 1, 2
    regions = grow_seeds(seeds, free.astype(np.uint8))
    assert set(np.unique(regions[1:-1, 1:10])) == {1}
    assert set(np.unique(regions[1:-1, 11:20])) == {2}
    assert not regions[:, 10].any()


def test_grow_leaves_free_space_that_no_seed_reaches_empty():
    free = 1 - box_walls(10, 21, 1)
    free[:, 10] = 0  # a dividing wall; the right room has no seed
    seeds = np.zeros((5, 11), np.int32)
    seeds[2, 2] = 1
    regions = grow_seeds(seeds, free.astype(np.uint8))
    assert set(np.unique(regions[1:-1, 1:10])) == {1}
    assert not regions[:, 10:].any()


def test_grow_gives_a_free_block_no_flood_reached_a_neighbours_label():
    """The watershed leaves a free block shut in by walls and a line where floods meet without
    a label: its free px take a neighbour's, as those of a block that holds a wall do."""
    free = np.ones((5, 5), np.uint8)
    free[2, 1] = free[4, 2] = 0
    seeds = np.array([[0, 1, 3], [0, 0, 0], [2, 0, 0]], np.int32)
    coarse, walled = grow_module._flood(seeds, grow_module._free_blocks(free)[0])
    assert coarse[2, 2] == 0 and walled[2, 2]  # the last block: free, and no flood reached it
    assert grow_seeds(seeds, free)[4, 4] == 1


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 3), (7, 9), (8, 6), (57, 81)])
def test_free_blocks_are_each_blocks_minimum_and_maximum_past_odd_edges_free(shape):
    free = (np.random.default_rng(shape[1]).random(shape) < 0.8).astype(np.uint8)
    height, width = shape
    padded = np.pad(free, ((0, height % 2), (0, width % 2)), constant_values=1)
    kernel = np.ones((2, 2), np.uint8)  # each px's block
    blocks, some_free = grow_module._free_blocks(free)
    assert blocks.dtype == np.uint8 and some_free.dtype == bool
    np.testing.assert_array_equal(blocks, cv2.erode(padded, kernel, anchor=(0, 0))[::2, ::2])
    np.testing.assert_array_equal(some_free, cv2.dilate(padded, kernel, anchor=(0, 0))[::2, ::2])


def test_reached_marks_seeded_space_two_void_space_one_and_walls_zero():
    free = 1 - box_walls(10, 21, 1)
    free[:, 10] = 0
    padded = np.pad(free.astype(np.uint8), 1)
    markers = np.zeros(padded.shape, np.int32)
    markers[6, 5] = 3  # a seed in the left room
    reached = grow_module._reached(padded, markers)
    assert (reached[2:10, 2:11] == 2).all() and (reached[2:10, 12:21] == 1).all()
    assert not reached[padded == 0].any()


def test_select_drops_the_region_reaching_the_edge_and_keeps_the_room():
    walls = np.pad(box_walls(30, 30, 2), 4)
    regions = np.where(walls == 1, 0, 2).astype(np.int32)
    regions[6:32, 6:32] = 1  # the room inside; 2 is the outside
    inside = np.zeros_like(walls)
    inside[4:34, 4:34] = 1
    labels, confidence = select_rooms(
        regions, walls, inside, walls, min_area=20, min_width=3, shaft_area=0
    )
    assert labels.max() == 1 and (labels == 1).sum() == 26 * 26
    assert confidence.shape == (1,) and 0.5 < confidence[0] <= 1.0


def test_select_drops_spaces_walled_apart_from_the_building_but_keeps_its_broken_walls():
    walls = np.zeros((120, 200), np.uint8)
    walls[30:90, 40:130] = box_walls(60, 90, 4)
    walls[30:90, 84:86] = 1  # the building: two rooms, its walls in two pieces of like size
    walls[30:90, 88:90] = 1  # (a scan broke them along the slit between these)
    walls[30:34, 86:88] = walls[86:90, 86:88] = 0
    walls[45:57, 50:62] = box_walls(12, 12, 1)  # a closet standing free in the left room
    walls[100:114, 160:180] = box_walls(14, 20, 1)  # a title block's cell, a compass
    walls[2:118, 2:198] |= box_walls(116, 196, 1)  # a sheet frame around it all
    _, regions = cv2.connectedComponents(1 - walls, connectivity=4)
    regions[:, 100:][regions[:, 100:] == regions[5, 5]] = regions.max() + 1  # the margin, in two
    inside = np.ones_like(walls)  # the frame seals the margin: nothing reaches the edge
    labels, _ = select_rooms(
        regions.astype(np.int32), walls, inside, walls, min_area=20, min_width=3, shaft_area=0
    )
    assert labels.max() == 3
    assert labels[70, 60] and labels[60, 110] and labels[50, 55]  # the rooms and the closet


def test_part_at_corners_parts_an_open_plan_between_facing_corners_only():
    def open_plan():
        plan = np.zeros((80, 120), np.int32)
        plan[10:70, 10:110] = 1
        plan[10:25, 58:62] = 0  # two wall stubs, their corners facing each other across the room
        plan[55:70, 58:62] = 0
        return plan

    plan = open_plan()
    assert part_at_corners(plan, 500, 1.0, 2.0, 1.0).tolist() == [1, 1]
    left, right = np.unique(plan[12:68, 12:56]), np.unique(plan[12:68, 64:108])
    assert len(left) == len(right) == 1 and {left[0], right[0]} == {1, 2}
    wide = open_plan()  # the 30 px line is more than half as long as the 48 px wide parts
    assert part_at_corners(wide, 500, 1.0, 2.0, 0.5).tolist() == [1]
    assert set(np.unique(wide)) == {0, 1}
    ell = np.zeros((80, 120), np.int32)
    ell[10:70, 10:60] = 1
    ell[10:35, 60:110] = 1  # an L: its one inner corner faces a plain wall
    assert part_at_corners(ell, 500, 1.0, 2.0, 1.0).tolist() == [1]
    assert set(np.unique(ell)) == {0, 1}


def two_spaces_with_strokes(strokes: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, ...]:
    """(regions, walls, inside, ink): two 60 x 90 px spaces side by side (labels 1 and 2); thin
    ``strokes`` (x0, y0, x1, y1) drawn in the left one with a label breaking them mid-way."""
    walls = np.zeros((80, 200), np.uint8)
    walls[5:75, 5:105] = box_walls(70, 100, 5)
    walls[5:75, 100:195] = box_walls(70, 95, 5)
    regions = np.zeros(walls.shape, np.int32)
    regions[10:70, 10:100], regions[10:70, 105:190] = 1, 2
    ink = walls.copy()
    for x0, y0, x1, y1 in strokes:
        cv2.line(ink, (x0, y0), (x1, y1), 1, 1)
    ink[37:43, 52:58] = 0  # a label or dimension written over the strokes
    return regions, walls, np.ones_like(walls), ink


@pytest.mark.parametrize(
    ("strokes", "both"),
    [
        ([(10, 10, 99, 69), (10, 69, 99, 10)], True),  # an X: the full test must see it
        ([(10, 10, 99, 69)], False),  # one diagonal: spared the full test
        ([(10, 40, 99, 40), (55, 10, 55, 69)], False),  # a cross along the axes
    ],
)
def test_the_x_tests_first_look_finds_strokes_rising_and_falling(strokes, both):
    regions, _, _, ink = two_spaces_with_strokes(strokes)
    mask = (regions == 1).view(np.uint8)
    assert select_module._diagonals_both_ways(mask, ink, float(np.hypot(90, 60))) == both


def test_select_drops_a_space_crossed_out_by_an_x_and_keeps_its_neighbour():
    regions, walls, inside, ink = two_spaces_with_strokes([(10, 10, 99, 69), (10, 69, 99, 10)])
    labels, _ = select_rooms(regions, walls, inside, ink, min_area=20, min_width=3, shaft_area=0)
    assert labels.max() == 1 and (labels[10:70, 105:190] == 1).all() and not labels[:, :100].any()
    runs = label_runs(regions)  # given, the regions' runs are not read again: the same rooms
    again, _ = select_rooms(regions, walls, inside, ink, 20, 3, shaft_area=0, runs=runs)
    assert np.array_equal(again, labels)


def test_select_drops_a_part_of_a_larger_void_that_its_x_crosses_off_the_middle():
    # the X of a void running on 30 px up through the wall crosses this part a quarter of the
    # way along each stroke, 15 px from its centre of mass
    regions, walls, inside, ink = two_spaces_with_strokes([(10, 69, 69, 10), (40, 10, 99, 69)])
    labels, _ = select_rooms(regions, walls, inside, ink, min_area=20, min_width=3, shaft_area=0)
    assert labels.max() == 1 and (labels[10:70, 105:190] == 1).all()
    ink[:, 3:100:6] = ink[:, 4:100:6] = ink[:, 5:100:6] = 0  # the same strokes broken every 6 px
    ink |= walls  # (a chain of curves' and letters' pieces that the line search links)
    labels, _ = select_rooms(regions, walls, inside, ink, min_area=20, min_width=3, shaft_area=0)
    assert labels.max() == 2


@pytest.mark.parametrize(
    "strokes",
    [
        [],
        [(10, 10, 99, 69)],  # one diagonal: a ramp or a pipe
        [(10, 10, 99, 69), (10, 69, 40, 49)],  # two strokes not crossing as an X
        [(30, 30, 60, 50), (30, 50, 60, 30)],  # a small X (a fixture) that reaches no wall
        [(80, 10, 80, 69), (80, 10, 99, 69), (80, 69, 99, 10)],  # a cupboard's X at one side
    ],
)
def test_select_keeps_a_space_whose_strokes_are_no_crossing_out(strokes):
    regions, walls, inside, ink = two_spaces_with_strokes(strokes)
    labels, _ = select_rooms(regions, walls, inside, ink, min_area=20, min_width=3, shaft_area=0)
    assert labels.max() == 2


def test_select_drops_a_small_space_with_nothing_in_it_as_a_shaft():
    regions, walls, inside, ink = two_spaces_with_strokes([])  # 90 x 60 and 85 x 60 px
    ink[38:42, 130:160] = 1  # the right space's name
    labels, _ = select_rooms(regions, walls, inside, ink, min_area=20, min_width=3, shaft_area=6000)
    assert labels.max() == 1 and (labels[10:70, 105:190] == 1).all()
    labels, _ = select_rooms(regions, walls, inside, ink, min_area=20, min_width=3, shaft_area=5000)
    assert labels.max() == 2  # empty, but larger than a shaft


def test_select_drops_a_long_thin_unnamed_strip_but_not_a_named_or_a_wider_one():
    walls = np.zeros((100, 140), np.uint8)
    cv2.rectangle(walls, (5, 5), (134, 94), 1, 2)
    walls[15:17, 5:135] = 1  # the strip (rows 7-14, 127 px long) above the room
    regions = np.zeros(walls.shape, np.int32)
    regions[7:15, 7:133] = 1
    regions[17:93, 7:133] = 2
    inside = np.zeros_like(walls)
    inside[5:95, 5:135] = 1

    def kept(min_width: float, lines: np.ndarray | None = None) -> int:
        labels, _ = select_rooms(
            regions, walls, inside, walls, 20, min_width, shaft_area=0, lines=lines
        )
        return int(labels.max())

    no_names = np.zeros((0, 4), np.int64)
    assert kept(5, no_names) == 1  # 8 px: less than two least widths
    assert kept(5, np.array([[20, 8, 30, 6]])) == 2  # named
    assert kept(4, no_names) == 2  # two least widths wide: a corridor


@pytest.mark.parametrize(("length", "rooms"), [(44, 2), (52, 1)])
def test_select_drops_an_unnamed_strip_from_six_times_as_long_as_wide(length, rooms):
    walls = np.zeros((100, 140), np.uint8)
    cv2.rectangle(walls, (5, 5), (134, 94), 1, 2)
    walls[15:17, 5:135] = 1
    walls[7:15, 7 + length : 9 + length] = 1  # the strip (8 px wide) ends at a wall
    regions = np.zeros(walls.shape, np.int32)
    regions[7:15, 7 : 7 + length] = 1  # 5.5 and 6.5 times as long as wide
    regions[17:93, 7:133] = 2
    inside = np.zeros_like(walls)
    inside[5:95, 5:135] = 1
    no_names = np.zeros((0, 4), np.int64)
    labels, _ = select_rooms(regions, walls, inside, walls, 20, 5, shaft_area=0, lines=no_names)
    assert int(labels.max()) == rooms


@pytest.mark.parametrize(
    ("width", "length", "rooms"),
    [(8, 40, 1), (16, 20, 2), (8, 60, 2)],  # wardrobes; a closet; a strip of 2.4 least rooms
)
def test_select_drops_a_small_named_space_as_long_and_shallow_as_wardrobes(width, length, rooms):
    walls = np.zeros((100, 140), np.uint8)
    cv2.rectangle(walls, (5, 5), (134, 94), 1, 2)
    walls[7 + width : 9 + width, 5:135] = 1  # the wall in front of the space
    walls[7 : 7 + width, 7 + length : 9 + length] = 1  # its end
    regions = np.zeros(walls.shape, np.int32)
    regions[7 : 7 + width, 7 : 7 + length] = 1  # 320 px (1.6 least rooms) or 480 px
    regions[9 + width : 93, 7:133] = 2
    inside = np.zeros_like(walls)
    inside[5:95, 5:135] = 1
    name = np.array([[10, 8, 12, width - 2]])
    labels, _ = select_rooms(regions, walls, inside, walls, 200, 3, shaft_area=0, lines=name)
    assert int(labels.max()) == rooms


def test_label_polygons_give_rectangles_in_pixel_coordinates():
    labels = np.zeros((20, 30), np.int32)
    labels[2:10, 3:20] = 1
    labels[12:18, 5:25] = 2
    polygons = label_polygons(labels, tolerance=1.0)
    assert [p.dtype for p in polygons] == [np.int32, np.int32]
    first = polygons[0]
    assert (first.min(axis=0) == [3, 2]).all() and (first.max(axis=0) == [19, 9]).all()
    assert len(first) == 4


def test_snap_rectilinear_straightens_near_axis_edges_only():
    points = np.array([[0, 0], [10, 0.5], [10.4, 10], [0, 9.6]], float)
    snapped = snap_rectilinear(points)
    assert snapped[0, 1] == snapped[1, 1] and snapped[2, 1] == snapped[3, 1]
    assert snapped[1, 0] == snapped[2, 0]
    slanted = np.array([[0, 0], [20, 10], [40, 0], [40, 30], [0, 30]], float)
    assert snap_rectilinear(slanted)[1].tolist() == [20, 10]  # the 27-degree edges keep their angle


def test_shrinking_keeps_a_one_pixel_line_dark():
    grey = np.full((400, 400), 255, np.uint8)
    grey[200, :] = 0
    small, scale = shrink_keeping_lines(grey, 100)
    assert scale == 0.25 and small.shape == (100, 100)
    assert small.min() < 100  # a plain area average would leave 191


@pytest.mark.parametrize("column", range(40, 46))
def test_shrinking_by_an_uneven_factor_keeps_a_one_pixel_line_at_least_half_dark(column):
    # 1000 -> 350 px: blocks are 2 or 3 px, so wherever the line falls in one, it must tell
    grey = np.full((100, 1000), 250, np.uint8)
    grey[:, column] = 0
    small, _ = shrink_keeping_lines(grey, 350)
    assert small[10:-10].min(axis=1).max() <= 125


@pytest.mark.parametrize(
    ("shape", "size"),
    [((37, 53), (19, 31)), ((300, 211), (200, 90)), ((90, 60), (45, 30)), ((50, 40), (40, 17))],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_area_shrink_is_opencvs_to_the_bit(shape, size, dtype):
    # uneven factors (the weights and their order must be OpenCV's), whole ones, and one side kept
    image = np.random.default_rng(sum(shape)).integers(0, 256, shape).astype(dtype)
    expected = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    shrunk = area_shrink(image, size)
    assert shrunk.dtype == expected.dtype
    np.testing.assert_array_equal(shrunk, expected)


@pytest.mark.parametrize("factor", [0.2857, 0.5, 1 / 3, 0.77])
def test_area_shrink_by_a_factor_gives_a_masks_means_as_opencv(factor):
    ink = (np.random.default_rng(7).random((141, 200)) < 0.1).astype(np.uint8)
    expected = cv2.resize(
        ink.astype(np.float32), None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA
    )
    np.testing.assert_array_equal(area_shrink(ink, None, factor, means=True), expected)


def test_shrinking_leaves_a_small_page_alone():
    grey = np.full((50, 60), 255, np.uint8)
    small, scale = shrink_keeping_lines(grey, 100)
    assert scale == 1.0 and small is grey


@pytest.mark.parametrize("ink", [0.0, 0.004, 0.05, 0.5, 1.0])
def test_levels_read_from_the_histogram_are_numpys_percentiles(ink):
    rng = np.random.default_rng(5)
    grey = np.where(rng.random((301, 207)) < ink, rng.integers(0, 90, (301, 207)), 247)
    grey = grey.astype(np.uint8)
    if ink == 1.0:  # few pixels, all different: a percentile falls between two of them
        grey = rng.permutation(np.arange(0, 240, 20, dtype=np.uint8)).reshape(3, 4)
    for percents in ([90, 0.5], [0.5], [50], [100, 0]):
        expected = np.percentile(grey[::2, ::3], percents)
        np.testing.assert_array_equal(
            binarise_module._percentiles(grey[::2, ::3], percents), expected
        )


def test_unknown_mask_takes_flat_grey_areas_but_not_lines_or_paper():
    grey = np.full((60, 60), 255, np.uint8)
    grey[5:25, 5:25] = 128  # unexplored space on a building map
    grey[40, 5:55] = 128  # a grey line: too thin to be an area
    grey[45:50, 5:55] = 0  # a black wall
    unknown = unknown_mask(grey, size=5)
    assert unknown[5:25, 5:25].all()
    assert unknown.sum() == 400


@pytest.mark.parametrize("top", [0, 3, 52, 80, 82])
def test_unknown_mask_finds_grey_bands_wherever_they_lie_as_the_full_opening(top):
    # every 35th of 100 rows is read first: a band at the foot, shorter than the square, is
    # found through the page's edge, from the last row only
    grey = np.full((100, 90), 255, np.uint8)
    grey[90:, 80:] = 0  # the ink level
    grey[top : top + 20, 10:60] = 128
    unknown = unknown_mask(grey, size=35)
    mid = (grey == 128).view(np.uint8)
    np.testing.assert_array_equal(unknown, dilate_box(erode_box(mid, 35), 35))
    assert unknown.any() == (top in (0, 80, 82))


@pytest.mark.parametrize("size", [4, 5, 12, 13])
def test_unknown_mask_equals_the_full_opening_for_grey_squares_strips_and_corners(size):
    # squares cut by the page's edges and corners, and strips a px too thin one way or the
    # other: the rows and columns read first must never miss a square, even or odd
    rng = np.random.default_rng(size)
    for _ in range(40):
        grey = np.full((61, 47), 255, np.uint8)
        for _ in range(3):
            height, width = rng.integers(1, 2 * size, 2)
            top, left = rng.integers(-size, 61, 1)[0], rng.integers(-size, 47, 1)[0]
            grey[max(0, top) : max(0, top + height), max(0, left) : max(0, left + width)] = 128
        grey[58:, 40:] = 0  # the ink level: over 0.5 % of the page
        mid = (grey == 128).view(np.uint8)
        np.testing.assert_array_equal(
            unknown_mask(grey, size=size), dilate_box(erode_box(mid, size), size)
        )
    grey = np.full((61, 47), 255, np.uint8)
    grey[1 : 1 + size, 1 : 1 + size] = 128  # one square just past the first row read
    grey[58:, 40:] = 0
    assert unknown_mask(grey, size=size).sum() == size * size


def test_unknown_mask_refuses_a_zero_size():
    with pytest.raises(ValueError, match="size"):
        unknown_mask(np.zeros((4, 4), np.uint8), size=0)


def test_drop_frame_lines_opens_a_frame_and_keeps_the_building():
    walls = box_walls(100, 100, 2)  # the sheet frame
    walls[30:70, 30:70] = box_walls(40, 40, 3)  # a building well inside it
    kept = drop_frame_lines(walls)
    assert not kept[:2].any() and not kept[:, :2].any()
    assert (kept[30:70, 30:70] == walls[30:70, 30:70]).all()


@pytest.mark.parametrize("stretch", [1, 2, 1024])  # px beside the lines read at once
def test_drop_frame_lines_takes_the_title_block_hanging_on_the_frame(stretch, monkeypatch):
    monkeypatch.setattr(frame_module, "STRETCH", stretch)
    walls = box_walls(100, 100, 2)  # the sheet frame
    walls[75:98, 60:62] = 1  # the title block's left edge, standing on the frame
    walls[75:77, 60:98] = 1  # its top edge, reaching the frame
    walls[85:87, 60:98] = 1  # a row line: closed cells between frame and block
    walls[80, 93:98] = 1  # a stub on the frame's right line, between the block's rows
    walls[20:60, 20:60] = box_walls(40, 40, 3)  # the building, clear of the frame
    kept = drop_frame_lines(walls)
    assert not kept[70:, 55:].any()
    assert (kept[20:60, 20:60] == walls[20:60, 20:60]).all()


def test_a_frame_is_told_from_a_building_cropped_tight():
    framed = box_walls(100, 100, 2)
    framed[30:70, 30:70] = box_walls(40, 40, 3)  # a building well inside the frame
    cropped = box_walls(100, 100, 3)  # the building's outer wall is the page's border
    cropped[48:52, :] = cropped[:, 48:52] = 1  # four rooms
    assert frames_a_margin(framed)
    assert not frames_a_margin(cropped)


def test_a_frame_askew_with_a_corner_lost_is_told_by_the_building_standing_free():
    walls = np.zeros((140, 160), np.uint8)
    walls[20:120, 20:140] = box_walls(100, 120, 1)  # the frame, blank paper round it
    walls[20:40, 20] = walls[20, 20:45] = 0  # its corner lost past the scan's edge
    walls[50:90, 50:100] = box_walls(40, 50, 3)  # the building
    walls[50:90, 73:76] = 1  # two rooms
    kept = drop_frame_lines(walls)  # its lines span the drawing, not 90% of the page
    assert not kept[:, 119:].any() and not kept[119:].any()
    assert (kept[50:90, 50:100] == walls[50:90, 50:100]).all()
    assert not frames_a_margin(walls)  # the margin reaches the page's edge at the lost corner
    assert stands_free(walls, kept)
    building = np.zeros((140, 160), np.uint8)
    building[20:120, 20:140] = box_walls(100, 120, 4)  # an outer wall spanning the drawing
    building[20:120, 78:82] = building[68:72, 20:140] = 1  # four rooms hang on it
    assert not stands_free(building, drop_frame_lines(building))
    wings = np.zeros((140, 160), np.uint8)
    wings[20:120, 20:50] = box_walls(100, 30, 2)  # a long wing spanning the drawing's height
    wings[60:120, 60:140] = box_walls(60, 80, 4)  # the main block, its walls broken off it
    unwinged = drop_frame_lines(wings)
    assert not unwinged[:, :50].any() and unwinged[60:120, 60:140].all(axis=0).any()
    assert not stands_free(wings, unwinged)
    assert not stands_free(np.zeros_like(wings), np.zeros_like(wings))  # nothing drawn


@pytest.mark.parametrize("degrees", [0.0, 3.3, -7.6])
def test_skew_angle_turns_a_tilted_plan_upright(degrees):
    ink = np.zeros((700, 1000), np.uint8)
    for x0, y0, x1, y1 in ((100, 100, 900, 600), (100, 100, 450, 350), (450, 350, 900, 600)):
        cv2.rectangle(ink, (x0, y0), (x1, y1), 1, 6)  # walls of three rooms
    turn = cv2.getRotationMatrix2D((500.0, 350.0), degrees, 1.0)
    tilted = cv2.warpAffine(ink, turn, (1000, 700), flags=cv2.INTER_NEAREST)
    assert skew_angle(tilted) == pytest.approx(-degrees, abs=0.15)


def test_skew_sharpness_upright_is_that_of_the_page_turned_by_nothing():
    # the upright page is read as it is, not turned: the same values, to the bit
    small = np.random.default_rng(3).random((57, 80)).astype(np.float32) * 9
    turned = cv2.warpAffine(
        small, cv2.getRotationMatrix2D((40.0, 28.5), 0.0, 1.0), (80, 57), flags=cv2.INTER_LINEAR
    )
    expected = float(turned.sum(axis=1).var() + turned.sum(axis=0).var())
    assert skew_module._sharpness(small, 0.0) == expected


@pytest.mark.parametrize("peak", [0, 2, 4, 6, 8])
def test_skew_climb_finds_a_rows_single_peak_turning_fewer_angles(peak):
    angles = np.arange(-0.4, 0.41, 0.1)
    heights = -np.abs(np.arange(9) - peak)  # rises to one peak, at either end or inside
    turned: list[float] = []

    def sharpness(angle: float) -> float:
        turned.append(angle)
        return float(heights[int(np.argmin(np.abs(angles - angle)))])

    assert _climb(sharpness, angles) == angles[peak]
    assert len(turned) <= abs(peak - 4) + 3 < len(angles)  # the turns past a fall are not made


def test_max_pool_half_keeps_a_one_pixel_line():
    mask = np.zeros((7, 9), np.uint8)
    mask[3, :] = 1
    pooled = max_pool_half(mask)
    assert pooled.shape == (4, 5)
    assert pooled[1].all() and pooled.sum() == 5


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 9), (8, 6), (57, 81)])
def test_max_pool_half_is_each_blocks_maximum(shape):
    mask = np.random.default_rng(shape[1]).integers(0, 2, shape).astype(np.uint8)
    grown = cv2.dilate(mask, np.ones((2, 2), np.uint8), anchor=(0, 0))  # each px's block
    np.testing.assert_array_equal(max_pool_half(mask), grown[::2, ::2])


@pytest.mark.parametrize(
    "dtype, low, top", [(np.uint8, 0, 2), (np.uint8, 0, 256), (np.int32, -(2**31), 2**31 - 1)]
)
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 9), (8, 6), (57, 81)])
def test_doubled_is_the_nearest_resize_of_the_half_size_image(shape, dtype, low, top):
    height, width = shape
    half = np.random.default_rng(width).integers(low, top, ((height + 1) // 2, (width + 1) // 2))
    half = half.astype(dtype)
    expected = cv2.resize(half, (width, height), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(doubled(half, height, width), expected)


def test_wall_mask_fills_a_slanted_outline_wall_but_not_a_room():
    ink = np.zeros((200, 200), np.uint8)
    strip = cv2.boxPoints(((100, 60), (140, 8), 30.0)).astype(np.int32)
    cv2.polylines(ink, [strip], True, 1)  # a wall drawn as a closed outline, at 30 degrees
    cv2.rectangle(ink, (40, 110), (160, 190), 1)  # a room drawn with thin lines
    walls = wall_mask(ink, thin_width=1, line_length=20, hatch_gap=1, pair_gap=10)
    assert walls[60, 100] == 1  # the middle of the outline wall
    assert not walls[130:170, 60:140].any()  # the room stays free


def outline_walls_page(framed: bool) -> np.ndarray:
    """Ink (uint8, 1 = ink) with two outline walls, a room, a stubby symbol and, if ``framed``,
    a double-line sheet frame whose inside strip has a page-sized box."""
    ink = np.zeros((300, 400), np.uint8)
    for centre, size, angle in (((100, 60), (140, 8), 30.0), ((300, 80), (10, 120), 0.0)):
        strip = cv2.boxPoints((centre, size, angle)).astype(np.int32)
        cv2.polylines(ink, [strip], True, 1)  # walls drawn as closed outlines
    cv2.rectangle(ink, (40, 150), (360, 280), 1)  # a room
    cv2.rectangle(ink, (150, 200), (200, 215), 1)  # a stubby hole (a symbol)
    if framed:  # a thin strip round the page: its box is the whole page
        cv2.rectangle(ink, (2, 2), (397, 297), 1)
        cv2.rectangle(ink, (7, 7), (392, 292), 1)
    return ink


def outline_of(shape: np.ndarray) -> np.ndarray:
    """The one-pixel outline of a 0/1 mask, as ink."""
    return shape - cv2.erode(shape, np.ones((3, 3), np.uint8), borderValue=0)


def test_wall_mask_fills_outline_walls_of_two_widths_that_meet_but_not_a_named_one():
    shape = np.zeros((240, 360), np.uint8)
    shape[20:40, 20:340] = 1  # an outer wall 18 px wide inside its outline
    for x in (60, 140, 220):
        shape[40:200, x : x + 5] = 1  # inner walls 3 px wide running into it
    ink = outline_of(shape)
    walls = wall_mask(ink, thin_width=1, line_length=200, hatch_gap=3, pair_gap=14)
    assert walls[22:38, 30:330].all() and walls[60:190, 61:64].all()
    named = ink.copy()
    named[27:33, 200:204] = 1  # a name written inside: a small closed room, not a wall
    walls = wall_mask(named, thin_width=1, line_length=200, hatch_gap=3, pair_gap=14)
    assert not walls[22:38, 150:190].any()


def test_wall_mask_fills_a_wide_outline_wall_but_not_the_paper_beside_a_solid_wall():
    shape = np.zeros((200, 300), np.uint8)
    shape[20:46, 20:280] = 1  # an outer wall 24 px wide inside its outline: 1.7 pair gaps
    ink = outline_of(shape)
    walls = wall_mask(ink, thin_width=1, line_length=100, hatch_gap=3, pair_gap=14)
    assert walls[22:44, 30:270].all()
    ink = np.zeros((200, 300), np.uint8)
    ink[100:110, 20:280] = 1  # a solid wall
    ink[134, 20:280] = 1  # a dimension line along it, 24 px off
    ink[110:134, 20] = ink[110:134, 279] = 1  # and its end ticks
    walls = wall_mask(ink, thin_width=1, line_length=100, hatch_gap=3, pair_gap=14)
    assert walls[100:110, 30:270].all() and not walls[112:132, 30:270].any()


def page_wide_ridge(paper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distance transform, ridge mask) of a whole page's paper."""
    half = cv2.distanceTransform(paper, cv2.DIST_L2, 3)
    return half, (half > 0) & (half >= cv2.dilate(half, np.ones((3, 3), np.uint8)))


@pytest.mark.parametrize("framed", [False, True])
def test_hollow_walls_measured_in_boxes_and_pieces_equal_the_page_wide_reading(framed):
    ink = outline_walls_page(framed)
    paper = 1 - ink
    count, labels = cv2.connectedComponents(paper, connectivity=4)
    half, ridge = page_wide_ridge(paper)
    boxes = label_boxes(labels, count)
    long = boxes[:, 2:].max(axis=1) >= 3 * 12.0
    page_wide = long & walls_module._even_strips(labels[ridge], half[ridge], count, 12.0)
    expected = np.isin(labels, np.flatnonzero(page_wide)).view(np.uint8)
    no_thick = np.zeros_like(ink)
    hollow = walls_module._hollow_walls(
        walls_module._paper_parts(ink), 12.0, 9, no_thick, 12.0, 12.0
    )
    assert np.array_equal(hollow, expected)
    assert expected[60, 100] == 1 and expected[80, 300] == 1 and expected[10:290, 5].all() == framed


def test_hollow_walls_wider_than_usual_only_where_outlines_are_the_walls():
    ink = np.zeros((200, 260), np.uint8)
    cv2.rectangle(ink, (20, 20), (221, 37), 1, 1)  # an outline wall 16 px wide inside
    thick = np.zeros_like(ink)

    def hollow() -> bool:
        walls = walls_module._hollow_walls(
            walls_module._paper_parts(ink), 20.0, 9, thick, 20.0, 12.0
        )
        return bool(walls[28, 100])

    assert hollow()  # the drawing's walls are outlines
    thick[60:160, 60:160] = 1  # solid walls, more than twice the strip's pixels
    assert not hollow()


@pytest.mark.parametrize("piece", [3, 16, 64])
def test_ridges_read_in_pieces_equal_the_page_wide_ones_up_to_the_depth_limit(piece):
    paper = 1 - outline_walls_page(framed=True)
    count, labels = cv2.connectedComponents(paper, connectivity=4)
    half, ridge = page_wide_ridge(paper)
    chosen = np.arange(count) % 2 == 1  # pieces hold other labels' paper too
    on_ridge, depth, deeper = walls_module._ridges_near(
        paper, labels, label_runs(labels), chosen, reach=8, depth_limit=6.0, piece=piece
    )
    deepest = np.zeros(count)
    np.maximum.at(deepest, labels.ravel(), half.ravel())
    assert np.array_equal(deeper[chosen], deepest[chosen] > 6.0)
    assert deeper.any() and not deeper.all()
    shallow = chosen & (deepest <= 6.0)  # below the limit, every distance is the page's
    expected = ridge & shallow[labels]
    assert np.array_equal(on_ridge[shallow[on_ridge]], labels[expected])
    assert np.array_equal(depth[shallow[on_ridge]], half[expected])


AWKWARD_MASKS = [
    np.zeros((5, 7), np.uint8),  # empty
    np.ones((5, 7), np.uint8),  # full
    np.eye(6, dtype=np.uint8),  # a diagonal line: ones touching only at corners
    np.eye(6, dtype=np.uint8)[::-1].copy(),
    1 - np.eye(6, dtype=np.uint8),  # two pieces touching at corners across the diagonal
    np.pad(np.ones((1, 1), np.uint8), 1),  # one px
    np.pad(np.zeros((1, 1), np.uint8), 1, constant_values=1),  # a ring round one px
    (np.random.default_rng(5).random((1, 40)) < 0.5).astype(np.uint8),  # one row
    (np.random.default_rng(6).random((40, 1)) < 0.5).astype(np.uint8),  # one column
    (np.random.default_rng(7).random((61, 83)) < 0.45).astype(np.uint8),
    (np.random.default_rng(8).random((64, 64)) < 0.6).astype(np.uint8),
]


@pytest.mark.parametrize("noisy", [0, 10**9])  # joined from the runs, or labelled by OpenCV
@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("mask", AWKWARD_MASKS)
def test_run_pieces_part_a_mask_as_opencvs_labelling(mask, connectivity, noisy, monkeypatch):
    monkeypatch.setattr(_runs_module, "NOISY", noisy)
    count, (starts, stops, pieces) = run_pieces(mask, connectivity)
    expected_count, expected = cv2.connectedComponents(mask, connectivity=connectivity)
    runs = label_runs(expected)
    on = runs[2] != 0  # the runs of ones, each in one piece
    assert starts.tolist() == runs[0][on].tolist() and stops.tolist() == runs[1][on].tolist()
    # the same pieces, numbered alike or not
    pairs = {(int(a), int(b)) for a, b in zip(pieces, runs[2][on], strict=True)}
    assert count == expected_count - 1 == len(pairs)
    assert len({a for a, _ in pairs}) == len({b for _, b in pairs}) == count
    assert set(pieces.tolist()) == set(range(count))


@pytest.mark.parametrize("seed", range(4))
def test_counts_at_most_from_a_merge_equal_a_binary_search_per_query(seed):
    rng = np.random.default_rng(seed)
    empty = np.zeros(0, np.int64)
    cases = [(empty, empty), (empty, np.array([3])), (np.array([3]), empty)]
    for _ in range(50):
        # few distinct values: equal values and queries, and several of each
        values, queries = (np.sort(rng.integers(-3, 9, int(rng.integers(0, 12)))) for _ in "vq")
        cases.append((values, queries))
    for values, queries in cases:
        expected = np.searchsorted(values, queries, side="right")
        assert _runs_module._at_most(values, queries).tolist() == expected.tolist()


def test_run_pieces_refuse_other_connectivities():
    with pytest.raises(ValueError, match="connectivity"):
        run_pieces(np.zeros((3, 3), np.uint8), 6)


@pytest.mark.parametrize("ink", AWKWARD_MASKS)
@pytest.mark.parametrize("noisy", [0, 10**9])
def test_paper_parts_equal_opencvs_4_connected_labelling_of_the_paper(ink, noisy, monkeypatch):
    monkeypatch.setattr(_runs_module, "NOISY", noisy)
    parts = walls_module._paper_parts(ink)
    count, expected = cv2.connectedComponents(1 - ink, connectivity=4)
    assert parts.label_count == count
    assert np.array_equal(parts.labels == 0, ink != 0)
    pairs = np.unique(np.stack([parts.labels.ravel(), expected.ravel()]), axis=1)
    # the same parts, numbered alike or not
    assert pairs.shape[1] == len(np.unique(expected)) == len(np.unique(parts.labels))
    runs = label_runs(parts.labels)
    paper = runs[2] != 0
    assert [a.tolist() for a in parts.runs] == [a[paper].tolist() for a in runs]
    assert np.array_equal(parts.boxes[1:], label_boxes(parts.labels, count)[1:])
    areas = np.bincount(parts.labels.ravel(), minlength=count)
    assert np.array_equal(parts.areas[1:], areas[1:])


def test_paper_edges_read_at_the_chosen_labels_equal_the_page_wide_count():
    ink = (np.random.default_rng(3).random((60, 80)) < 0.45).astype(np.uint8)
    ink[0, :] = 0  # paper along the page's edges: beyond them is no ink
    ink[:, -1] = 0
    parts = walls_module._paper_parts(ink)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    near_ink = cv2.dilate(ink, cross) & parts.paper
    expected = np.bincount(parts.labels[near_ink != 0], minlength=parts.label_count)
    chosen = np.arange(parts.label_count) % 3 != 0
    edges = walls_module._edges(parts, chosen)
    assert np.array_equal(edges[chosen], expected[chosen]) and not edges[~chosen].any()


def test_ink_mask_finds_the_lines_of_a_sparse_drawing():
    grey = np.full((400, 400), 250, np.uint8)
    grey[200, 50:350] = 0  # one thin wall: 0.2 % of the page
    ink = ink_mask(grey)
    assert ink[200, 50:350].all() and ink.sum() == 300


def test_label_boxes_match_scipy_find_objects_and_absent_labels_are_empty():
    labels = np.random.default_rng(0).integers(0, 6, (40, 50)).astype(np.int32)
    labels[labels == 3] = 0
    boxes = label_boxes(labels, 6)
    for label, found in enumerate(ndimage.find_objects(labels, max_label=5), start=1):
        x, y, width, height = boxes[label]
        if found is None:
            assert width == 0 and height == 0
        else:
            rows, cols = found
            assert (y, y + height, x, x + width) == (rows.start, rows.stop, cols.start, cols.stop)


@pytest.mark.parametrize(
    "shape", [(40, 50), (41, 51), (200, 200), (201, 200), (200, 201), (201, 201)]
)
def test_pieces_with_stats_match_opencv(shape):
    """Boxes and areas of large masks are read from runs, not from OpenCV: the same labels and
    stats as OpenCV's, which small masks take."""
    mask = (np.random.default_rng(2).random(shape) < 0.4).astype(np.uint8)
    mask[-1, :] = mask[:, -1] = 1  # pieces on the last row and column
    count, labels, stats = pieces_with_stats(mask)
    want_count, want_labels, want_stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    assert count == want_count
    assert np.array_equal(labels, want_labels)
    assert np.array_equal(stats, want_stats) and stats.dtype == np.int32


@pytest.mark.parametrize("share", [0.05, 0.3, 0.6])
def test_filled_pieces_are_opencvs_labels_and_stats_few_pieces_or_many(share):
    """Few pieces are filled from their outlines (uint8 labels), many labelled: the same."""
    rng = np.random.default_rng(int(share * 100))
    for shape in ((40, 50), (41, 51), (90, 120)):
        mask = (rng.random(shape) < share).astype(np.uint8)
        mask[-1, :] = mask[:, 0] = 1  # pieces on the edges
        mask[10:30, 10:30] = 1
        mask[14:26, 14:26] = 0
        mask[18:22, 18:22] = 1  # a piece in another's hole
        count, want_labels, want_stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        labels, stats = filled_pieces(mask)
        assert labels.dtype == (np.uint8 if count <= 255 else np.int32)
        assert np.array_equal(labels, want_labels)
        assert np.array_equal(stats[1:], want_stats[1:]) and not stats[0].any()
    assert filled_pieces(np.zeros((5, 6), np.uint8))[1].shape == (1, 5)


def _ccomp_outer(mask):
    outlines, nesting = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return [c for c, up in zip(outlines, nesting[0, :, 3]) if up < 0] if outlines else []


def _same_outlines(got, want):
    return len(got) == len(want) and all(np.array_equal(a, b) for a, b in zip(got, want))


def test_outer_outlines_by_levels_are_opencvs_outer_ones_in_its_order():
    rng = np.random.default_rng(7)
    masks = [np.zeros((5, 6), np.uint8), np.ones((1, 1), np.uint8), np.ones((4, 1), np.uint8)]
    masks += [(rng.random(rng.integers(1, 50, 2)) < p).view(np.uint8) for p in (0.3, 0.6) * 20]
    rings = np.zeros((100, 110), np.uint8)
    for inset in range(0, 48, 2):  # pieces in holes in pieces in holes, off the page edges too
        rings[inset : 100 - inset, inset : 110 - inset] = inset % 4 == 0
    assert (rings[50, :55] != rings[50, 1:56]).sum() > 2 * LEVELS  # deeper than traced alone
    masks += [rings, rings[:40, :50]]
    for mask in masks:
        assert _same_outlines(_outer_by_levels(mask), _ccomp_outer(mask))


def test_outer_outlines_of_a_lattice_of_many_holes_come_level_by_level(monkeypatch):
    lattice = np.ones((500, 500), np.uint8)
    lattice[1::3, 1::2] = 0  # a hole for every speck: their nesting would cost the square
    lattice[100:103, 100:103] = [[0, 0, 0], [0, 1, 0], [0, 0, 0]]  # a piece in a hole
    assert np.count_nonzero(lattice[:, 1:] != lattice[:, :-1]) >= 2 * MANY_RUNS
    want = _ccomp_outer(lattice)

    def nest_no_holes(mask):
        raise AssertionError("a lattice's holes were nested")

    monkeypatch.setattr(components_module, "_outer_with_holes", nest_no_holes)
    assert _same_outlines(outer_outlines(lattice), want)


@pytest.mark.parametrize("seed", range(6))
def test_unclaimed_box_is_the_chosen_free_px_cropped_round_them(seed):
    """The chosen regions' px that no room holds, in the box round them out to the margin,
    cut at the page edges: the same as masking the page and cropping it."""
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(3, 40, 2))
    regions = rng.integers(0, 6, shape).astype(np.int32)
    rooms = np.where(rng.random(shape) < 0.3, regions, 0).astype(np.int32)
    chosen = rng.random(6) < 0.5
    margin = int(rng.integers(0, 4))
    want = (chosen[regions] & (rooms == 0)).astype(np.uint8)
    got = unclaimed_box(rooms, label_runs(regions), chosen, margin)
    if not want.any():
        assert got is None
        return
    mask, box = got
    ys, xs = np.nonzero(want)
    assert box == (
        slice(max(0, ys.min() - margin), ys.max() + 1 + margin),
        slice(max(0, xs.min() - margin), xs.max() + 1 + margin),
    )
    assert np.array_equal(mask, want[box]) and mask.dtype == np.uint8


def test_unclaimed_box_crops_round_a_small_region_and_stops_at_the_page_edge():
    regions = np.zeros((40, 40), np.int32)
    regions[10:14, 20:25] = 1
    regions[0:3, 37:40] = 2
    rooms = np.zeros((40, 40), np.int32)
    runs = label_runs(regions)
    mask, box = unclaimed_box(rooms, runs, np.array([False, True, False]), 3)
    assert box == (slice(7, 17), slice(17, 28))
    assert np.array_equal(mask, (regions[box] == 1).view(np.uint8))
    mask, box = unclaimed_box(rooms, runs, np.array([False, False, True]), 3)
    assert (box[0].start, box[1].start) == (0, 34) and mask.shape == (6, 6)  # cut at the edges
    assert unclaimed_box(rooms, runs, np.zeros(3, bool), 3) is None  # none chosen
    rooms[regions == 1] = 5
    assert unclaimed_box(rooms, runs, np.array([False, True, False]), 3) is None  # all held


def test_piece_boxes_are_the_pieces_boxes_with_pieces_in_holes_too():
    mask = (np.random.default_rng(3).random((40, 60)) < 0.2).astype(np.uint8)
    mask[5:20, 40:55] = 1
    mask[7:18, 42:53] = 0  # a ring
    mask[11:13, 46:48] = 1  # and a piece in its hole
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes = sorted(map(tuple, piece_boxes(mask).tolist()))
    assert boxes == sorted(map(tuple, stats[1:, :4].tolist())) and len(boxes) == count - 1
    assert piece_boxes(np.zeros((4, 4), np.uint8)).shape == (0, 4)


def test_label_runs_stay_in_their_row_and_fill_back_into_the_image():
    labels = np.random.default_rng(1).integers(0, 3, (30, 40)).astype(np.int32)
    starts, stops, found = label_runs(labels)
    assert ((stops - 1) // 40 == starts // 40).all()
    rebuilt = np.zeros_like(labels)
    for value in (1, 2):
        fill_runs(rebuilt.ravel(), starts[found == value], stops[found == value], value)
    assert np.array_equal(rebuilt, labels)


@pytest.mark.parametrize("shape", [(30, 40), (1, 7), (7, 1)])
def test_run_read_areas_and_remaps_equal_pixel_by_pixel_ones(shape):
    """Areas and look-ups are read once per run: the same as per pixel, absent labels too."""
    labels = np.random.default_rng(4).integers(0, 5, shape).astype(np.int32)
    labels[labels == 3] = 0
    assert label_areas(labels, 6).tolist() == np.bincount(labels.ravel(), minlength=6).tolist()
    numbers = np.array([0.5, 2.0, -1.0, 7.0, 3.0])
    assert np.array_equal(remapped(labels, numbers), numbers[labels])
    kept = np.array([True, False, True, True])
    assert np.array_equal(kept_labels(labels, kept), np.array([0, 1, 0, 2, 3])[labels])


def test_run_starts_are_the_first_pixels_of_each_run_of_a_row():
    mask = np.array([[1, 1, 0, 1], [1, 0, 0, 1], [0, 1, 1, 1]], np.uint8)
    assert run_starts(mask).tolist() == [0, 3, 4, 7, 9]


@pytest.mark.parametrize("first", [1, 2, 5, 8, 35])
def test_two_line_dilations_are_one_of_both_lengths_when_the_second_is_odd(first):
    """close_door_gaps grows its opened flank runs in one dilation (anchors add up)."""
    rng = np.random.default_rng(first)
    for _ in range(20):
        height, width = (int(side) for side in rng.integers(1, 60, 2))
        mask = (rng.random((height, width)) < rng.random() / 4).astype(np.uint8)
        for second, axis in itertools.product((1, 7, 79), (0, 1)):
            twice = dilate_line(dilate_line(mask, first, axis), second, axis)
            assert np.array_equal(twice, dilate_line(mask, first + second - 1, axis))


def _line_kernel(length: int, axis: int) -> np.ndarray:
    return np.ones((1, length) if axis else (length, 1), np.uint8)


@pytest.mark.parametrize("min_run", [3, 4])
def test_close_door_gaps_on_packed_lines_equals_opencv_morphology(min_run):
    """The bridges are worked out on packed lines: the same walls as OpenCV's morphology."""
    rng = np.random.default_rng(min_run)
    for _ in range(20):
        height, width = (int(side) for side in rng.integers(20, 70, 2))
        walls = (rng.random((height, width)) < rng.random() / 2).astype(np.uint8)
        gap, flank = int(rng.integers(1, 9)), min_run + int(rng.integers(0, 12))
        want = walls.copy()
        for axis in (1, 0):
            line = functools.partial(_line_kernel, axis=axis)
            pieces = cv2.morphologyEx(walls, cv2.MORPH_OPEN, line(min_run))
            near = cv2.dilate(
                cv2.morphologyEx(walls, cv2.MORPH_OPEN, line(flank)), line(2 * gap + 1)
            )
            bridged = cv2.morphologyEx(pieces, cv2.MORPH_CLOSE, line(gap + 1))
            want |= pieces | (bridged & near)
        assert np.array_equal(close_door_gaps(walls, gap, min_run, flank), want)


@pytest.mark.parametrize("length", [1, 2, 5, 8, 13, 33, 60])
def test_line_morphology_equals_opencv_on_random_masks_of_any_length(length):
    rng = np.random.default_rng(length)
    for _ in range(20):
        height, width = (int(side) for side in rng.integers(1, 45, 2))
        mask = (rng.random((height, width)) < rng.random()).astype(np.uint8)
        for axis, shape in ((1, (1, length)), (0, (length, 1))):
            kernel = np.ones(shape, np.uint8)
            opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
            assert np.array_equal(open_line(mask, length, axis), opened)
            assert np.array_equal(dilate_line(mask, length, axis), cv2.dilate(mask, kernel))
            assert np.array_equal(erode_line(mask, length, axis), cv2.erode(mask, kernel))
        square = np.ones((length, length), np.uint8)
        assert np.array_equal(erode_box(mask, length), cv2.erode(mask, square))
        assert np.array_equal(dilate_box(mask, length), cv2.dilate(mask, square))
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, square)
        assert np.array_equal(close_box(mask, length), closed)


def test_ahead_of_stops_at_the_page_edges():
    mask = np.zeros((20, 20), np.uint8)
    # a band reaching 3 px above the page, looking from 3 px behind a tip 2 px from the left edge
    ahead_of(mask, Jamb(0, 1, 2, -3, 4), -3, 6)[:] = 1
    expected = np.zeros_like(mask)
    expected[0:5, 0:8] = 1
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("shape", [(1, 300), (300, 1)])
def test_skew_of_a_page_one_pixel_thin_is_none(shape):
    ink = np.zeros(shape, np.uint8)
    ink[tuple(slice(100, 200) if n > 1 else slice(None) for n in shape)] = 1
    assert skew_angle(ink) == 0.0


def test_part_at_corners_parts_the_open_plan_not_a_detached_piece_of_the_room():
    plan = np.zeros((80, 200), np.int32)
    plan[10:70, 10:110] = 1
    plan[10:25, 58:62] = 0  # two wall stubs, their corners facing each other across the room
    plan[55:70, 58:62] = 0
    plan[10:70, 130:190] = 1  # a piece of the same room elsewhere (cut off at the envelope)
    origin = part_at_corners(plan, min_part=200, tolerance=1.0, offset=2, most_ratio=1.0)
    np.testing.assert_array_equal(origin, [1, 1])
    assert set(np.unique(plan[10:70, 130:190])) == {1}  # the detached piece stays with its room
    assert (plan[10:70, 62:110] == 1).all() and (plan[30:50, 10:50] == 2).all()


def test_absorb_scraps_gives_a_room_back_what_a_thin_line_cut_off_but_never_merges_rooms():
    # Two rooms side by side behind a 4 px wall; a bath's rim (1 px) fences a scrap off the
    # left room, and a scrap beyond the thick wall and one beside both rooms stay out.
    walls = box_walls(30, 50, 3)
    walls[:, 24:28] = 1  # the wall between the rooms
    walls[3:12, 10] = walls[11, 3:10] = 1  # the rim: a thin line round the bath's corner
    regions = np.zeros(walls.shape, np.int32)
    regions[3:-3, 11:24] = regions[12:-3, 3:11] = 1
    regions[3:11, 3:10] = 3  # the bath
    regions[3:-3, 28:-3] = 2
    regions[26:27, 24:28] = 4  # a gap in the wall between the rooms: beside both
    walls[26:27, 24:28] = 0
    rooms = np.where(regions <= 2, regions, 0).astype(np.int32)
    grown = absorb_scraps(rooms, regions, reach=2, max_area=200)
    assert (grown[3:11, 3:10] == 1).all() and (grown[3:11, 10] == 1).all()
    assert (grown[26, 24:28] == 0).all()
    assert (grown[:, 24:28] == 0).all() and (grown[3:-3, 28:-3] == 2).all()
    assert (grown[walls.astype(bool) & (rooms == 0)] != 2).all()
    assert (rooms[3:11, 3:10] == 0).all()  # the rooms given are left as they were
    # a scrap as large as a room, or one beyond more than the reach of wall, stays out: with
    # nothing to join, the rooms given come back, not a copy
    assert absorb_scraps(rooms, regions, reach=2, max_area=50) is rooms
    walls[3:12, 8:11] = walls[9:12, 3:11] = 1
    regions[3:12, 8:11] = regions[9:12, 3:11] = 0
    assert (absorb_scraps(rooms, regions, reach=2, max_area=200)[3:9, 3:8] == 0).all()


@pytest.mark.parametrize("pad", [(0, 0, 0, 0), (9, 0, 0, 9), (0, 9, 9, 0), (2, 3, 5, 7)])
def test_absorb_scraps_reads_scraps_the_same_anywhere_on_the_page(pad):
    """Scraps are read in a box round the small regions: the same result, page edge or not,
    with the regions' runs given or read."""
    regions = np.zeros((30, 50), np.int32)
    regions[3:-3, 11:24] = regions[12:-3, 3:11] = 1
    regions[3:11, 3:10] = 3  # a bath a 1 px rim cuts off room 1, by the page's corner
    regions[3:-3, 28:-3] = 2
    regions[20:27, 44:47] = 4  # a closet by room 2
    rooms = np.where(regions <= 2, regions, 0).astype(np.int32)
    want = absorb_scraps(rooms, regions, reach=2, max_area=200)
    assert (want[3:11, 3:10] == 1).all() and (want[20:27, 44:47] == 2).all()
    top, bottom, left, right = pad
    moved_rooms, moved_regions = (
        cv2.copyMakeBorder(a, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
        for a in (rooms, regions)
    )
    for runs in (None, label_runs(moved_regions)):
        grown = absorb_scraps(moved_rooms, moved_regions, reach=2, max_area=200, runs=runs)
        assert np.array_equal(grown[top : top + 30, left : left + 50], want)


def write_word(ink: np.ndarray, x: int, y: int, letters: int = 4) -> None:
    """Draw a row of hollow 6 x 8 px letters at (x, y) on ``ink``."""
    for k in range(letters):
        cv2.rectangle(ink, (x + 9 * k, y), (x + 9 * k + 5, y + 7), 1, 1)


def test_text_lines_finds_a_row_of_letters_not_a_block_a_stroke_or_a_lone_letter():
    ink = np.zeros((60, 120), np.uint8)
    write_word(ink, 10, 10)
    ink[30:38, 10:45] = 1  # a solid block as long as the word
    ink[50:52, 10:90] = 1  # a long thin stroke
    cv2.rectangle(ink, (80, 10), (85, 17), 1, 1)  # a lone letter
    write_word(ink, 60, 30, letters=2)  # a short name (WC)
    np.testing.assert_array_equal(text_lines(ink, 5, 12), [[10, 10, 33, 8], [60, 30, 15, 8]])


def write_bold_word(ink: np.ndarray, x: int, y: int, letters: int = 6) -> None:
    """Draw a row of 6 x 8 px letters with 2 px strokes (0.83 of their boxes) at (x, y)."""
    for k in range(letters):
        ink[y : y + 8, x + 9 * k : x + 9 * k + 6] = 1
        ink[y + 2 : y + 6, x + 9 * k + 2 : x + 9 * k + 4] = 0


def test_text_lines_read_a_slash_touching_at_corners_as_one_glyph():
    ink = np.zeros((30, 70), np.uint8)
    for k in range(8):  # a row of eight 1 px slashes, each 8 px high
        for i in range(8):
            ink[10 + i, 10 + 7 * k + 7 - i] = 1
    assert text_lines(ink, 5, 12).tolist() == [[10, 10, 57, 8]]


def test_text_lines_finds_a_row_of_bold_letters():
    ink = np.zeros((30, 80), np.uint8)
    write_bold_word(ink, 10, 10)
    np.testing.assert_array_equal(text_lines(ink, 5, 12), [[10, 10, 51, 8]])


@pytest.mark.parametrize("seed", range(4))
def test_text_lines_run_on_glyph_by_glyph_as_a_dilation_along_the_rows(seed):
    # words packed tight, also against the page's right edge and foot, and the odd blob: the
    # lines equal those of the glyphs painted whole and dilated along the rows
    rng = np.random.default_rng(seed)
    ink = np.zeros((90, 130), np.uint8)
    for _ in range(14):
        write_word(
            ink, int(rng.integers(0, 125)), int(rng.integers(0, 85)), int(rng.integers(1, 6))
        )
    for _ in range(4):
        x, y = rng.integers(0, 120), rng.integers(0, 80)
        ink[y : y + rng.integers(2, 12), x : x + rng.integers(2, 12)] = 1
    low, high = 5, 12
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    width, height, area = stats[:, 2], stats[:, 3], stats[:, 4]
    glyph = (height >= low) & (height <= high) & (area <= text_module.FILL * width * height)
    glyph[0] = False
    gap = max(1, int(text_module.GAP * high))
    glyphs = cv2.copyMakeBorder(glyph[labels].view(np.uint8), 0, 0, 0, gap, cv2.BORDER_CONSTANT)
    joined = cv2.dilate(glyphs, np.ones((1, gap + 1), np.uint8), anchor=(gap, 0))
    boxes = piece_boxes(joined)
    boxes[:, 2] -= gap
    tall = boxes[:, 3]
    expected = boxes[(tall >= low) & (tall <= high) & (boxes[:, 2] >= text_module.LONG * tall)]
    np.testing.assert_array_equal(text_lines(ink, low, high), expected)


def test_without_text_drops_a_bold_name_read_as_wall_but_not_a_wall_it_touches():
    ink = np.zeros((60, 120), np.uint8)
    write_bold_word(ink, 10, 10)  # stands alone: text
    ink[40:50, 5:115] = 1  # a wall
    write_bold_word(ink, 40, 32)  # a name standing on the wall: one piece with it
    walls = ink.copy()
    kept = without_text(walls, text_lines(ink, 5, 12))
    assert not kept[5:25].any()
    np.testing.assert_array_equal(kept[25:], walls[25:])


def test_part_at_corners_parts_at_one_corner_only_between_named_parts():
    def ell() -> np.ndarray:
        plan = np.zeros((100, 160), np.int32)
        plan[10:90, 10:80] = 1  # a tall space
        plan[10:50, 80:150] = 1  # and an arm off its upper right: one inward corner
        return plan

    ink = np.zeros((100, 160), np.uint8)
    write_word(ink, 15, 60)  # a name in the tall space
    one_name = ell()
    assert part_at_corners(one_name, 500, 1.0, 2.0, 1.0, text_lines(ink, 5, 12)).tolist() == [1]
    write_word(ink, 110, 25)  # and one in the arm
    plan = ell()
    assert part_at_corners(plan, 500, 1.0, 2.0, 1.0, text_lines(ink, 5, 12)).tolist() == [1, 1]
    assert len(np.unique(plan[12:88, 12:78])) == 1 and len(np.unique(plan[12:48, 82:148])) == 1
    assert plan[30, 40] != plan[30, 120]  # parted where the arm meets the tall space
    no_text = ell()
    assert part_at_corners(no_text, 500, 1.0, 2.0, 1.0).tolist() == [1]


def test_part_at_corners_parts_a_named_part_open_along_its_whole_width_at_one_corner():
    def open_plan() -> np.ndarray:
        plan = np.zeros((120, 140), np.int32)
        plan[10:60, 30:130] = 1  # a dining area 100 x 50 px
        plan[60:110, 10:130] = 1  # open along its whole width to a wider living room below
        return plan

    ink = np.zeros((120, 140), np.uint8)
    write_word(ink, 60, 25)  # the dining area's name
    write_word(ink, 60, 90)  # the living room's
    lines = text_lines(ink, 5, 12)
    plan = open_plan()  # the 100 px line is 1.4 times the square root of the dining area
    assert part_at_corners(plan, 500, 1.0, 2.0, 1.0, lines).tolist() == [1, 1]
    assert len(np.unique(plan[12:58, 32:128])) == 1 and len(np.unique(plan[62:108, 12:128])) == 1
    assert plan[30, 80] != plan[80, 80]
    no_names = open_plan()  # by its shape alone an L, one room
    assert part_at_corners(no_names, 500, 1.0, 2.0, 1.0).tolist() == [1]


def spaces_round_a_corner(width: int = 180) -> np.ndarray:
    """(180, width) ``int32``: one space, 160 px high, round a wall block whose corner at
    (90, 90) faces three parts of it."""
    plan = np.zeros((180, width), np.int32)
    plan[10:170, 10 : width - 10] = 1
    plan[90:170, 90 : width - 10] = 0
    return plan


def test_part_at_corners_parts_again_along_the_other_edge_of_a_corner_that_parted():
    ink = np.zeros((180, 180), np.uint8)
    for x, y in ((25, 45), (115, 45), (25, 120)):  # each space named: a living room, a dining
        write_word(ink, x, y)  # room and a kitchen, open onto one another
    lines = text_lines(ink, 5, 12)
    plan = (
        spaces_round_a_corner()
    )  # one cut leaves an 80 x 160 px rectangle with no corner of its own
    assert part_at_corners(plan, 500, 3.0, 2.0, 1.0, lines).tolist() == [1, 1, 1]
    assert len({plan[50, 50], plan[50, 130], plan[130, 50]}) == 3
    two_names = spaces_round_a_corner()  # the kitchen unnamed: part of the living room
    ink[120:128] = 0
    assert part_at_corners(two_names, 500, 3.0, 2.0, 1.0, text_lines(ink, 5, 12)).tolist() == [1, 1]


def test_part_at_corners_passes_on_only_the_other_edge_of_the_corner_that_parted():
    plan = spaces_round_a_corner().astype(np.uint8)  # one inward corner, its two edges carried
    ink = np.zeros((180, 180), np.uint8)
    for x, y in ((25, 45), (115, 45), (25, 120)):
        write_word(ink, x, y)
    none = np.zeros((0, 2), np.int64)
    found = _best_part(plan, 500, 3.0, 2.0, 1.0, text_lines(ink, 5, 12), (none, none))
    assert found is not None
    part, (corners, steps) = found
    assert part[130, 50] and not part[50, 50]  # parted along the edge running left
    assert corners.tolist() == [[89, 90]] and steps.tolist() == [[0, -1]]  # not that one again


def test_part_at_corners_passes_on_no_edge_between_a_name_and_its_area():
    def parted(left: tuple[tuple[int, int], tuple[int, int]]) -> list[int]:
        ink = np.zeros((180, 210), np.uint8)
        for x, y in ((130, 45), *left):  # a dining room named right of the corner
            write_word(ink, x, y)
        return part_at_corners(
            spaces_round_a_corner(210), 500, 3.0, 2.0, 1.0, text_lines(ink, 5, 12)
        ).tolist()

    # left of the corner, one room named with its area below the name, over the same columns
    assert parted(((25, 40), (25, 120))) == [1, 1]
    assert parted(((15, 40), (50, 120))) == [1, 1, 1]  # two names apart: a kitchen too
    # two lines on one side: not one name and its area, the edge passed on parts them
    assert parted(((25, 25), (25, 55), (25, 120))) == [1, 1, 1]


def test_select_keeps_a_small_space_whose_name_runs_on_past_its_walls():
    regions, walls, inside, ink = two_spaces_with_strokes([])  # the right one x 105..189
    small = 6000  # both spaces are smaller than the smallest room, not half as small
    runs_on = np.array([[165, 30, 33, 8]])  # an area figure wider than the space's end
    labels, _ = select_rooms(
        regions, walls, inside, ink, small, min_width=3, shaft_area=0, lines=runs_on
    )
    assert labels.max() == 1 and (labels[10:70, 105:190] == 1).all()
    mostly_beyond = np.array([[186, 30, 33, 8]])  # a word beside the space, not on it
    labels, _ = select_rooms(
        regions, walls, inside, ink, small, min_width=3, shaft_area=0, lines=mostly_beyond
    )
    assert labels.max() == 0


def test_select_keeps_a_space_below_the_smallest_room_when_it_bears_a_name():
    regions, walls, inside, ink = two_spaces_with_strokes([])  # 90 x 60 and 85 x 60 px
    write_word(ink, 130, 30)  # the right space's name
    small = 6000  # both spaces are smaller than the smallest room, not half as small
    labels, _ = select_rooms(regions, walls, inside, ink, small, min_width=3, shaft_area=0)
    assert labels.max() == 0
    labels, _ = select_rooms(
        regions, walls, inside, ink, small, min_width=3, shaft_area=0, lines=text_lines(ink, 5, 12)
    )
    assert labels.max() == 1 and (labels[10:70, 105:190] == 1).all()
    labels, _ = select_rooms(
        regions,
        walls,
        inside,
        ink,
        2 * small,
        min_width=3,
        shaft_area=0,
        lines=text_lines(ink, 5, 12),
    )
    assert labels.max() == 0  # named, but less than half the smallest room


def test_named_labels_marks_the_spaces_a_line_of_text_stands_on():
    labels = np.zeros((40, 60), np.int32)
    labels[:, :30], labels[:, 30:] = 1, 2
    labels[30:, 50:] = 3
    # one line on 1; one 80% on 3 and 20% on 2 (less than ON: it does not name 2)
    lines = np.array([[5, 5, 20, 6], [48, 34, 10, 2]])
    assert named_labels(labels, lines, 4).tolist() == [False, True, False, True, False]
    assert not named_labels(labels, np.zeros((0, 4), np.int64), 3).any()
    # a box past the page's edge is read where it lies on it; an empty one names nothing
    edge = np.array([[50, 35, 12, 6], [10, 10, 0, 5]])
    assert named_labels(labels, edge, 4).tolist() == [False, False, False, True, False]


def test_part_at_corners_parts_between_facing_corners_only_when_each_part_is_named():
    def open_plan() -> np.ndarray:
        plan = np.zeros((100, 200), np.int32)
        plan[10:90, 10:190] = 1
        plan[10:35, 98:102] = 0  # two wall stubs whose corners face each other across the room
        plan[65:90, 98:102] = 0
        return plan

    ink = np.zeros((100, 200), np.uint8)
    write_word(ink, 15, 45)  # a name in the left part only: one L-shaped or open room
    one_name = open_plan()
    assert part_at_corners(one_name, 500, 1.0, 2.0, 1.0, text_lines(ink, 5, 12)).tolist() == [1]
    write_word(ink, 140, 45)  # and one in the right part: two rooms
    plan = open_plan()
    assert part_at_corners(plan, 500, 1.0, 2.0, 1.0, text_lines(ink, 5, 12)).tolist() == [1, 1]
    assert plan[50, 50] != plan[50, 150]
    unnamed_drawing = open_plan()  # no ink given: parted by shape alone
    assert part_at_corners(unnamed_drawing, 500, 1.0, 2.0, 1.0).tolist() == [1, 1]


def test_text_lines_finds_a_name_that_ends_at_the_right_edge_of_a_crop():
    ink = np.zeros((30, 40), np.uint8)
    write_word(ink, 24, 10, letters=2)  # a WC's name ending 1 px from the crop's right edge
    np.testing.assert_array_equal(text_lines(ink, 5, 23), [[24, 10, 15, 8]])


def test_lines_in_keeps_the_lines_wholly_inside_a_box_in_its_coordinates():
    lines = np.array([[10, 10, 20, 5], [5, 10, 20, 5], [40, 40, 10, 5]])
    np.testing.assert_array_equal(lines_in(lines, 8, 8, 30, 10), [[2, 2, 20, 5]])


def test_absorb_scraps_gives_no_wall_that_another_room_is_near():
    # room 1 | a 3 px wall | room 2, which has a scrap fenced off by a 1 px rim beside the wall
    regions = np.zeros((20, 31), np.int32)
    regions[:, :10] = 1
    regions[:, 13:] = 2
    regions[4:11, 13:17] = 0  # the rim round the scrap
    regions[5:10, 13:16] = 3  # the scrap, 4 px from room 1
    rooms = np.where(regions <= 2, regions, 0).astype(np.int32)
    grown = absorb_scraps(rooms, regions, reach=2, max_area=50)
    assert (grown[5:10, 13:16] == 2).all()  # the scrap joins room 2
    assert grown[5, 12] == grown[9, 12] == 2  # wall near the scrap and room 2 only joins too
    assert (grown[:, 10:12] == 0).all()  # the wall room 1 is near stays wall


def row_of_rooms_and_a_yard() -> np.ndarray:
    """Three rooms 2 px apart (one wall) and a fourth space 12 px beyond the last one."""
    labels = np.zeros((20, 80), np.int32)
    labels[2:18, 2:14], labels[2:18, 16:28], labels[2:18, 30:42] = 1, 2, 3
    labels[2:18, 54:66] = 4
    return labels


def test_nearest_gaps_measure_each_label_to_its_nearest_neighbour():
    gaps = nearest_gaps(row_of_rooms_and_a_yard(), 4)
    assert gaps[0] == np.inf
    np.testing.assert_allclose(gaps[1:4], 2, atol=2)  # read at half size: to 2 px
    np.testing.assert_allclose(gaps[4], 12, atol=2)
    alone = np.zeros((10, 10), np.int32)
    alone[2:8, 2:8] = 1
    assert nearest_gaps(alone, 1).tolist() == [np.inf, np.inf]


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 30), (30, 2), (23, 31)])
def test_nearest_gaps_read_every_pair_of_neighbouring_cells_on_narrow_pages(shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    for _ in range(5):
        labels = rng.integers(0, 4, shape).astype(np.int32) * (rng.random(shape) < 0.3)
        half = np.ascontiguousarray(labels[::2, ::2])
        want = np.full(4, np.inf)
        if half.any():  # each px and its right and lower neighbours, as masks
            distance, nearest = cv2.distanceTransformWithLabels(
                (half == 0).view(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
            )
            owner = np.concatenate([[0], half[half > 0]])[nearest]
            for first, second, near, far in (
                (owner[:, :-1], owner[:, 1:], distance[:, :-1], distance[:, 1:]),
                (owner[:-1], owner[1:], distance[:-1], distance[1:]),
            ):
                meet = first != second
                span = 2.0 * (near[meet] + far[meet] + 1.0)
                np.minimum.at(want, first[meet], span)
                np.minimum.at(want, second[meet], span)
            want[0] = np.inf
        assert np.array_equal(nearest_gaps(labels, 3), want)


def test_nearest_gaps_do_not_join_a_rows_last_px_to_the_next_rows_first():
    labels = np.zeros((6, 16), np.int32)
    labels[0, 14] = 1  # on the half grid: the first row's last px
    labels[2, 0] = 2  # and the second row's first
    gaps = nearest_gaps(labels, 2)
    assert gaps[1] == gaps[2] > 10


def test_opencv_numbers_each_zero_pixel_in_raster_order_as_nearest_gaps_reads_them():
    mask = (np.random.default_rng(5).random((37, 53)) < 0.7).astype(np.uint8)
    _, nearest = cv2.distanceTransformWithLabels(
        mask, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    assert nearest[mask == 0].tolist() == list(range(1, np.count_nonzero(mask == 0) + 1))


def test_apart_rooms_flags_an_unnamed_space_far_beyond_the_walls_between_rooms():
    labels = row_of_rooms_and_a_yard()
    unnamed = np.zeros(5, bool)
    assert apart_rooms(labels, 4, 6, unnamed).tolist() == [False, False, False, False, True]
    assert not apart_rooms(labels, 4, 16, unnamed).any()  # not beyond a thick wall
    named = np.array([False, False, False, False, True])  # a named terrace is a room
    assert not apart_rooms(labels, 4, 6, named).any()
    labels[(labels == 2) | (labels == 3)] = 0  # two spaces 40 px apart: no walls to compare
    assert not apart_rooms(labels, 4, 6, unnamed).any()


def test_apart_rooms_flags_a_space_half_again_beyond_the_walls_between_rooms():
    """Five rooms 8 px apart and a space 14 px beyond them: beyond one wall and a strip."""
    labels = np.zeros((20, 130), np.int32)
    for room in range(5):
        labels[2:18, 2 + 20 * room : 14 + 20 * room] = room + 1
    labels[2:18, 108:120] = 6
    assert apart_rooms(labels, 6, 6, np.zeros(7, bool)).tolist() == [False] * 6 + [True]
    labels[labels == 6] = 0
    labels[2:18, 104:116] = 6  # 10 px beyond: about one wall
    assert not apart_rooms(labels, 6, 6, np.zeros(7, bool)).any()


def test_lone_pieces_flags_a_small_unnamed_space_next_to_one_room_only():
    """Rooms 1 and 4 a wall apart; a bath (2) outlined within room 1, 3 px from it; a closet (3)
    between the two rooms, 2 px from each."""
    labels = np.zeros((40, 60), np.int32)
    labels[2:38, 2:25] = 1
    labels[8:18, 8:18] = 0  # the bath's rim
    labels[10:16, 10:16] = 2
    labels[2:38, 36:58] = 4
    labels[20:28, 27:34] = 3
    unnamed = np.ones(5, bool)
    assert lone_pieces(labels, 4, unnamed, 100, 3).tolist() == [False, False, True, False, False]
    assert not lone_pieces(labels, 4, unnamed, 30, 3).any()  # too large for a piece
    named = np.array([False, True, False, True, True])  # a name written in the bath: a room
    assert not lone_pieces(labels, 4, named, 100, 3).any()
    labels[labels == 4] = 0  # the closet now opens onto room 1 alone
    assert lone_pieces(labels, 4, unnamed, 100, 3).tolist() == [False, False, True, True, False]


def test_lone_pieces_reads_neighbours_on_every_side_and_flags_a_space_with_none():
    labels = np.zeros((40, 60), np.int32)
    labels[2:20, 2:25] = 1
    labels[22:38, 27:34] = 2
    labels[12:20, 27:34] = 3  # a closet 2 px from room 1 on its left and room 2 below it
    labels[2:8, 45:55] = 4  # a space with no room near it
    flagged = lone_pieces(labels, 4, np.ones(5, bool), 100, 3)
    assert flagged.tolist() == [False, False, False, False, True]


def two_walled_rooms_and_an_outline(wall: int, outline: int) -> tuple[np.ndarray, np.ndarray]:
    """(labels, walls): rooms 1 and 2 within ``wall`` px walls, and space 3 beyond room 2's
    right wall closed on its other sides by an ``outline`` px line."""
    walls = np.zeros((60 + 2 * wall, 220), np.uint8)
    labels = np.zeros(walls.shape, np.int32)
    walls[:, : 3 * wall + 100] = 1
    bottom = wall + 60
    labels[wall:bottom, wall : wall + 50] = 1
    labels[wall:bottom, 2 * wall + 50 : 2 * wall + 100] = 2
    right = 3 * wall + 100
    walls[wall - outline : wall, right : right + 70 + outline] = 1
    walls[bottom : bottom + outline, right : right + 70 + outline] = 1
    walls[wall - outline : bottom + outline, right + 70 : right + 70 + outline] = 1
    labels[wall:bottom, right : right + 70] = 3
    walls[labels != 0] = 0
    return labels, walls


def test_thinly_outlined_flags_an_unnamed_space_bounded_by_thin_lines_not_by_walls():
    labels, walls = two_walled_rooms_and_an_outline(wall=12, outline=2)
    unnamed = np.ones(4, bool)
    assert thinly_outlined(labels, 3, walls, unnamed, 1, 12).tolist() == [False] * 3 + [True]
    named = np.array([False, True, True, False])  # the outline's space bears a name: a room
    assert not thinly_outlined(labels, 3, walls, named, 1, 12).any()
    labels, walls = two_walled_rooms_and_an_outline(wall=12, outline=12)  # walled all round
    assert not thinly_outlined(labels, 3, walls, unnamed, 1, 12).any()
    labels, walls = two_walled_rooms_and_an_outline(wall=2, outline=2)  # a plan of thin lines
    assert not thinly_outlined(labels, 3, walls, unnamed, 1, 12).any()


def test_thinly_outlined_keeps_a_room_within_partitions_much_thinner_than_the_outer_walls():
    """Partitions 6 px thick against 20 px walls: under THIN of them, yet walls, not lines."""
    labels, walls = two_walled_rooms_and_an_outline(wall=20, outline=6)
    assert not thinly_outlined(labels, 3, walls, np.ones(4, bool), 1, 14).any()
    labels, walls = two_walled_rooms_and_an_outline(wall=20, outline=2)
    assert thinly_outlined(labels, 3, walls, np.ones(4, bool), 1, 14)[3]


def test_absorb_pieces_gives_a_room_a_small_space_a_thin_line_cut_off_but_keeps_walled_ones():
    # room 1 | a 1 px line | space 2 (140 px) | a 4 px wall | space 3 (160 px)
    rooms = np.zeros((20, 40), np.int32)
    rooms[:, :20], rooms[:, 21:28], rooms[:, 32:] = 1, 2, 3
    unnamed = np.zeros(4, bool)
    grown = absorb_pieces(rooms, rooms, unnamed, reach=2, max_area=200)
    assert (grown[:, :28] == 1).all()  # space 2 and the line join room 1
    assert (grown[:, 32:] == 3).all()  # no room within reach of space 3: it stays a room
    assert (grown[:, 28:32] == 0).all()
    assert (absorb_pieces(rooms, rooms, unnamed, reach=2, max_area=100) == rooms).all()  # large
    named = np.array([False, False, True, False])  # space 2 bears a name
    assert (absorb_pieces(rooms, rooms, named, reach=2, max_area=200) == rooms).all()


def _cluttered_room(line: int, step: int, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(walls, regions) of a 100 px square room walled 5 px thick, its floor cut by clutter
    lines ``line`` px thick every ``step`` px each way (the first ``first`` px in, else
    ``step``): each piece a region of its own."""
    walls = np.ones((100, 100), np.uint8)
    walls[5:95, 5:95] = 0
    for at in range(5 + (first or step), 95 - line, step):
        walls[at : at + line, 5:95] = 1
        walls[5:95, at : at + line] = 1
    _, regions = cv2.connectedComponents(1 - walls, connectivity=4)
    return walls, regions.astype(np.int32)


def test_clutter_rooms_join_the_pieces_of_a_small_room_that_clutter_cut_up():
    # a main floor of 3,600 px and three pieces its fixtures cut off
    walls, regions = _cluttered_room(line=2, step=45, first=60)
    rooms, inside = np.zeros_like(regions), np.ones_like(walls)
    joined, scores = clutter_rooms(rooms, regions, walls, inside, 0, 3, 4000, 10)
    assert len(scores) == 1 and scores[0] > 0
    assert (joined[regions > 0] == 1).all()  # every piece
    assert (joined[65:67, 10:40] == 1).all()  # and the clutter between them
    assert (joined[:5] == 0).all() and (joined[:, 95:] == 0).all()  # not the walls round it


@pytest.mark.parametrize(
    "line, step, min_width",
    [
        (6, 45, 10),  # pieces parted by walls thicker than the reach: closets in a row
        (2, 8, 10),  # clutter over much of the floor: a stair's treads, a shaft's grid
        (2, 30, 10),  # nine like pieces, none a main floor: a stair's treads
        (2, 45, 50),  # narrower than a strip may be: a corridor's pieces
    ],
)
def test_clutter_rooms_leave_walled_pieces_treads_and_strips_apart(line, step, min_width):
    walls, regions = _cluttered_room(line, step)
    rooms, inside = np.zeros_like(regions), np.ones_like(walls)
    joined, scores = clutter_rooms(rooms, regions, walls, inside, 0, 3, 2500, min_width)
    assert len(scores) == 0 and (joined == 0).all()


def test_clutter_rooms_leave_a_shaft_crossed_out_by_a_heavy_x_apart():
    walls = np.zeros((300, 300), np.uint8)
    cv2.rectangle(walls, (100, 100), (200, 200), 1, 6)
    cv2.line(walls, (103, 103), (197, 197), 1, 4)
    cv2.line(walls, (103, 197), (197, 103), 1, 4)
    _, regions = cv2.connectedComponents(1 - walls, connectivity=4)
    inside = np.zeros_like(walls)
    inside[90:211, 90:211] = 1
    rooms = np.zeros(walls.shape, np.int32)
    joined, scores = clutter_rooms(
        rooms, regions.astype(np.int32), walls, inside, 0, 10, 5600, 33.3
    )
    assert len(scores) == 0 and (joined == 0).all()  # four like triangles: a void


def test_clutter_rooms_leave_pieces_a_room_holds():
    walls, regions = _cluttered_room(line=2, step=45)
    rooms = np.where(regions == 1, 1, 0).astype(np.int32)  # one piece a room kept
    joined, scores = clutter_rooms(rooms, regions, walls, np.ones_like(walls), 1, 3, 2500, 10)
    assert len(scores) == 1 and (joined[regions == 1] == 1).all()
    assert (joined[regions > 1] == 2).all()  # the other three join, round the kept room


def test_clutter_rooms_number_joined_rooms_after_every_room_even_an_emptied_one():
    walls, regions = _cluttered_room(line=2, step=45, first=60)
    rooms = np.zeros_like(regions)  # rooms 1 and 2 were kept, then taken by their neighbours
    joined, scores = clutter_rooms(rooms, regions, walls, np.ones_like(walls), 2, 3, 4000, 10)
    assert len(scores) == 1 and (joined[regions > 0] == 3).all()


def test_absorb_pieces_moves_a_piece_whole_with_the_scrap_it_took():
    # room 1 | line | piece 2: its own region, a line and a scrap it took (region 3)
    rooms = np.zeros((20, 40), np.int32)
    rooms[:, :20], rooms[:, 21:] = 1, 2
    regions = np.zeros((20, 40), np.int32)
    regions[:, :20], regions[:, 21:30], regions[:, 31:] = 1, 2, 3
    grown = absorb_pieces(rooms, regions, np.zeros(3, bool), reach=2, max_area=400)
    assert (grown == 1).all()  # no stray bit of the piece is left behind as a room


def narrowest_gaps_column_by_column(lines: np.ndarray, gap: int) -> np.ndarray:
    """The bands of :func:`walls._with_narrowest_gaps`, read plainly down each column."""
    bands = lines.copy()
    for column in range(lines.shape[1]):
        on = np.r_[0, lines[:, column], 0]
        edges = np.flatnonzero(np.diff(on)) - 1  # runs of ones: [start, end] pairs, padded
        starts, ends = edges[::2] + 1, edges[1::2] + 1
        papers = [int(starts[i + 1] - ends[i]) for i in range(len(starts) - 1)]
        for i, paper in enumerate(papers):
            before = papers[i - 1] if i > 0 else np.inf
            after = papers[i + 1] if i + 1 < len(papers) else np.inf
            if paper <= gap and paper <= before and paper <= after:
                bands[ends[i] : starts[i + 1], column] = 1
    return bands


@pytest.mark.parametrize("seed", range(6))
def test_narrowest_gaps_read_on_the_lines_rows_equal_the_column_by_column_reading(seed):
    # lines on a few rows, some adjacent (thick lines), at the page's top and foot too
    rng = np.random.default_rng(seed)
    lines = np.zeros((70, 40), np.uint8)
    for row in rng.choice(70, size=12, replace=False).tolist() + [0, 69]:
        left = int(rng.integers(0, 30))
        lines[row, left : left + int(rng.integers(5, 40))] = 1
    for gap in (3, 8):
        expected = narrowest_gaps_column_by_column(lines, gap)
        np.testing.assert_array_equal(walls_module._with_narrowest_gaps(lines, gap), expected)
    blank = np.zeros((5, 6), np.uint8)
    assert not walls_module._with_narrowest_gaps(blank, 3).any()
