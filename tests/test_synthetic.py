"""Synthetic plans: deterministic, exact ground truth, options honoured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from locdetect_worker.synthetic import draw_style, generate_plan
from locdetect_worker.synthetic.geometry import OUTSIDE, Box, LayoutParams
from locdetect_worker.synthetic.layout import make_layout
from locdetect_worker.synthetic.walls import rasterise

SMALL = {"size": 1200}
CLEAN = {"noise": 0.0, "jpeg_quality": None, "rotation_deg": 0.0, "colour": "white"}


def _touching_pairs(labels: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of different rooms whose pixels touch (8-neighbourhood)."""
    pairs = set()
    h, w = labels.shape
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = labels[: h - dy, max(0, -dx) : w - max(0, dx)]
        b = labels[dy:, max(0, dx) : w - max(0, -dx) if dx < 0 else w]
        b = b[:, : a.shape[1]]
        touch = (a > 0) & (b > 0) & (a != b)
        pairs.update(zip(a[touch].tolist(), b[touch].tolist()))
    return pairs


def test_same_seed_same_plan_and_other_seed_another():
    a, b = generate_plan(11, **SMALL), generate_plan(11, **SMALL)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert a.style == b.style
    c = generate_plan(12, **SMALL)
    assert a.image.shape != c.image.shape or not np.array_equal(a.labels, c.labels)


@pytest.mark.parametrize("seed", range(5))
def test_overriding_one_option_keeps_the_others(seed):
    base = draw_style(seed)
    changed = draw_style(seed, wall="double" if base["wall"] != "double" else "solid")
    assert {k: v for k, v in base.items() if k != "wall"} == {
        k: v for k, v in changed.items() if k != "wall"
    }
    derived = {"size", "building_m", "scale_px_per_m"}  # these follow the sheet size
    smaller = draw_style(seed, size=1000)
    assert {k: v for k, v in base.items() if k not in derived} == {
        k: v for k, v in smaller.items() if k not in derived
    }


@pytest.mark.parametrize("seed", range(6))
def test_types_and_every_room_present(seed):
    plan = generate_plan(seed, **SMALL)
    assert plan.image.dtype == np.uint8 and plan.image.ndim == 3 and plan.image.shape[2] == 3
    assert plan.labels.dtype == np.uint16 and plan.labels.shape == plan.image.shape[:2]
    assert plan.rooms >= 1
    assert set(np.unique(plan.labels).tolist()) == set(range(plan.rooms + 1))


@pytest.mark.parametrize("seed", range(4))
def test_rooms_are_whole_separated_by_walls_and_at_least_two_metres_wide(seed):
    plan = generate_plan(seed, **SMALL)
    assert _touching_pairs(plan.labels) == set()
    scale = plan.style["scale_px_per_m"]
    for k in range(1, plan.rooms + 1):
        room = np.pad((plan.labels == k).astype(np.uint8), 1)
        assert cv2.connectedComponents(room, connectivity=4)[0] == 2, f"room {k} is split"
        half_width = cv2.distanceTransform(room, cv2.DIST_L2, 5).max()
        assert half_width >= 0.95 * scale, f"room {k} is narrower than ~2 m"


@pytest.mark.parametrize("wall", ["solid", "hatched", "double"])
def test_labels_are_paper_when_rooms_hold_no_drawing(wall):
    plan = generate_plan(
        3,
        wall=wall,
        doors=False,
        windows=True,
        furniture=False,
        text=False,
        stairs=False,
        roof=False,
        pen=2.5,  # thick strokes must still stay inside the walls
        **SMALL,
        **CLEAN,
    )
    inside = plan.labels > 0
    assert inside.sum() > 0.1 * inside.size
    assert (plan.image[inside] == 255).all()


@pytest.mark.parametrize("seed", range(4))
def test_rooms_are_bounded_by_ink_except_at_openings(seed):
    plan = generate_plan(seed, **SMALL, **CLEAN)
    grey = cv2.cvtColor(plan.image, cv2.COLOR_BGR2GRAY)
    for k in range(1, plan.rooms + 1):
        room = (plan.labels == k).astype(np.uint8)
        ring = cv2.dilate(room, np.ones((3, 3), np.uint8)).astype(bool) & ~room.astype(bool)
        assert (grey[ring] < 128).mean() > 0.6, f"room {k} is not enclosed by walls"


def test_rotation_rotates_the_labels_with_the_image():
    straight = generate_plan(8, **SMALL, **{**CLEAN, "rotation_deg": 0.0})
    tilted = generate_plan(8, **SMALL, **{**CLEAN, "rotation_deg": 4.0})
    assert tilted.rooms == straight.rooms
    assert set(np.unique(tilted.labels).tolist()) == set(range(tilted.rooms + 1))
    assert _touching_pairs(tilted.labels) == set()
    for k in range(1, straight.rooms + 1):  # nearest-neighbour keeps every area
        before, after = (straight.labels == k).sum(), (tilted.labels == k).sum()
        assert abs(int(after) - int(before)) < 0.03 * before + 50
    # the labels follow the drawing: room pixels stay on the paper, not on walls
    grey = cv2.cvtColor(tilted.image, cv2.COLOR_BGR2GRAY)
    core = cv2.erode((tilted.labels > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (grey[core] > 128).mean() > 0.9


def test_style_options_are_honoured():
    plan = generate_plan(
        2,
        size=1500,
        aspect=1.5,
        scale_px_per_m=60.0,
        colour="blue",
        **{k: v for k, v in CLEAN.items() if k != "colour"},
    )
    assert max(plan.image.shape[:2]) == 1500 and plan.image.shape[1] > plan.image.shape[0]
    assert plan.style["scale_px_per_m"] == 60.0 and plan.style["colour"] == "blue"
    b, _, r = plan.image.reshape(-1, 3).mean(axis=0)
    assert b > r + 50  # a blue sheet
    solid = generate_plan(2, wall="solid", **SMALL, **CLEAN)
    double = generate_plan(2, wall="double", **SMALL, **CLEAN)
    assert (solid.image < 128).sum() > (double.image < 128).sum()
    framed = generate_plan(2, frame=True, **SMALL, **CLEAN)
    bare = generate_plan(2, frame=False, dimensions=False, **SMALL, **CLEAN)
    edge = int(0.03 * min(framed.image.shape[:2]))
    assert (framed.image[:edge] < 128).any() and not (bare.image[:edge] < 128).any()
    noisy = generate_plan(2, noise=10.0, jpeg_quality=40, **SMALL)
    assert len(np.unique(noisy.image)) > 50


def test_invalid_options_are_refused():
    with pytest.raises(TypeError, match="unknown style"):
        generate_plan(1, walls="solid")
    with pytest.raises(ValueError, match="wall"):
        generate_plan(1, wall="dotted")


@pytest.mark.parametrize("seed", range(20))
def test_every_room_is_reachable_through_doors(seed):
    rng = np.random.default_rng(seed)
    params = LayoutParams(scale=40.0, room_area_m2=12.0, outer_px=10, inner_px=5)
    layout = make_layout(rng, Box(0, 0, 900, 640), params, "L" if seed % 2 else "rect", True, True)
    reached, frontier = {OUTSIDE}, [OUTSIDE]
    while frontier:
        here = frontier.pop()
        for door in layout.doors:
            s = door.segment
            for a, b in ((s.low, s.high), (s.high, s.low)):
                if a == here and b not in reached:
                    reached.add(b)
                    frontier.append(b)
    assert reached == set(range(len(layout.rooms) + 1))
    assert any(door.segment.outer for door in layout.doors)


def test_set_script_writes_plans_and_16_bit_labels(tmp_path):
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "make_synthetic_set.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            str(tmp_path),
            "--count",
            "2",
            "--seed",
            "7",
            "--max-side",
            "1000",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["plans"] == 2
    for seed in (7, 8):
        image = cv2.imread(str(tmp_path / f"syn_{seed}.png"), cv2.IMREAD_COLOR)
        labels = cv2.imread(str(tmp_path / f"syn_{seed}.gt.png"), cv2.IMREAD_UNCHANGED)
        expected = generate_plan(seed, size=min(1000, draw_style(seed)["size"]))
        assert labels.dtype == np.uint16 and np.array_equal(labels, expected.labels)
        assert np.array_equal(image, expected.image)


def test_door_gaps_belong_to_no_room_and_hold_no_wall():
    rng = np.random.default_rng(3)
    params = LayoutParams(scale=40.0, room_area_m2=12.0, outer_px=10, inner_px=5)
    layout = make_layout(rng, Box(20, 20, 920, 660), params, "L", True, True)
    drawn = rasterise(layout, (700, 960), params.outer_px, params.inner_px)
    assert layout.doors
    for door in layout.doors:
        s = door.segment
        line = s.at - 1 if s.high == OUTSIDE else s.at  # a pixel line inside the wall band
        gap = (slice(door.lo, door.hi), line) if s.vertical else (line, slice(door.lo, door.hi))
        assert not drawn.labels[gap].any() and not drawn.mask[gap].any()
        beside = door.lo - 2  # the wall goes on right next to the gap
        jamb = (beside, line) if s.vertical else (line, beside)
        assert drawn.mask[jamb] and drawn.labels[jamb] == 0


def test_roof_hip_lines_over_rooms_are_dashed():
    """Hips and ridge are above the cut plane: drawn dashed, never as solid lines that would
    cut a room into closed triangles no plan reader would call rooms."""
    plan = generate_plan(
        0,
        roof=True,
        footprint="rect",
        doors=False,
        furniture=False,
        text=False,
        stairs=False,
        **SMALL,
        **CLEAN,
    )
    ink = (cv2.cvtColor(plan.image, cv2.COLOR_BGR2GRAY) < 128) & (plan.labels > 0)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    assert ink.sum() > 5 * plan.style["scale_px_per_m"], "this seed draws hips across the rooms"
    longest = int(stats[1:, cv2.CC_STAT_WIDTH : cv2.CC_STAT_HEIGHT + 1].max())
    assert longest < 0.5 * plan.style["scale_px_per_m"]


@pytest.mark.parametrize(
    ("seed", "wall", "degrees"),
    [(4, "solid", 0.0), (5, "hatched", 2.0), (6, "double", 0.0), (6, "double", -4.5)],
)
def test_without_doors_each_room_is_sealed_by_its_own_ink(seed, wall, degrees):
    """The labels agree with the drawing, skewed or not: with no door gaps, every room's edge
    touches ink all round, and no closed paper region holds two rooms (a wall missing)."""
    plan = generate_plan(
        seed,
        wall=wall,
        doors=False,
        footprint="L",
        **SMALL,
        **{**CLEAN, "rotation_deg": degrees},
    )
    ink = (cv2.cvtColor(plan.image, cv2.COLOR_BGR2GRAY) < 200).astype(np.uint8)
    near_ink = cv2.dilate(ink, np.ones((3, 3), np.uint8)).astype(bool)
    _, regions = cv2.connectedComponents(1 - ink, connectivity=4)
    for k in range(1, plan.rooms + 1):
        room = (plan.labels == k).astype(np.uint8)
        ring = cv2.dilate(room, np.ones((3, 3), np.uint8)).astype(bool) & ~room.astype(bool)
        assert near_ink[ring].all(), f"room {k} is not closed by drawn walls"
    paper = (regions > 0) & (plan.labels > 0)
    pairs = np.unique(np.stack([regions[paper], plan.labels[paper]]), axis=1)
    assert len(np.unique(pairs[0])) == pairs.shape[1], "a closed region holds two rooms"
