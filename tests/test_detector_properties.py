"""Properties of the detector on generated plans: contract, no overlaps, rooms found, invariance."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from locdetect_worker.detector import DetectedRoom, detect_rooms
from locdetect_worker.evaluation import score_plan
from locdetect_worker.synthetic import generate_plan

# Clean drawings: solid walls, no clutter, upright. Varied ones add every distractor.
CLEAN = dict(
    size=1200, wall="solid", colour="white", rotation_deg=0.0, noise=0.0, jpeg_quality=None,
    furniture=False, text=False, dimensions=False, stairs=False, terrace=False, notes=False,
    roof=False, frame=False,
)


def rasterised(rooms: list[DetectedRoom], shape: tuple[int, int]) -> np.ndarray:
    """(R, H, W) bool masks of the rooms' polygons."""
    masks = np.zeros((len(rooms), *shape), np.uint8)
    for mask, room in zip(masks, rooms, strict=True):
        cv2.fillPoly(mask, [room.polygon], 1)
    return masks.astype(bool)


@pytest.mark.parametrize("seed", range(6))
def test_output_honours_the_contract_on_varied_plans(seed):
    plan = generate_plan(seed, size=1000)
    height, width = plan.image.shape[:2]
    rooms = detect_rooms(plan.image)
    for room in rooms:
        assert room.polygon.dtype == np.int32 and room.polygon.ndim == 2
        assert room.polygon.shape[1] == 2 and len(room.polygon) >= 3
        assert (room.polygon[:, 0] >= 0).all() and (room.polygon[:, 0] < width).all()
        assert (room.polygon[:, 1] >= 0).all() and (room.polygon[:, 1] < height).all()
        assert 0.0 <= room.confidence <= 1.0


@pytest.mark.parametrize("seed", range(4))
def test_no_room_overlaps_another(seed):
    plan = generate_plan(seed, size=1000)
    masks = rasterised(detect_rooms(plan.image), plan.image.shape[:2])
    areas = masks.sum(axis=(1, 2))
    for i in range(len(masks)):
        for j in range(i + 1, len(masks)):
            shared = np.logical_and(masks[i], masks[j]).sum()
            # outlines are simplified, so neighbours may share a thin strip, never a room
            assert shared <= 0.05 * min(areas[i], areas[j]), (i, j, shared)


@pytest.mark.parametrize("seed", [4, 5])
def test_every_room_of_a_clean_plan_is_found(seed):
    plan = generate_plan(seed, **CLEAN)
    rooms = detect_rooms(plan.image)
    score = score_plan("clean", [r.polygon for r in rooms], [r.confidence for r in rooms],
                       plan.labels.astype(np.int32))
    assert score.tp == plan.rooms
    assert score.predicted == plan.rooms


def test_most_rooms_of_clean_plans_are_found():
    found = total = 0
    for seed in range(6):
        plan = generate_plan(seed, **CLEAN)
        rooms = detect_rooms(plan.image)
        score = score_plan("clean", [r.polygon for r in rooms], [r.confidence for r in rooms],
                           plan.labels.astype(np.int32))
        found, total = found + score.tp, total + plan.rooms
    assert found >= 0.7 * total  # 50 of 65 with detector 2.0.0


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_quarter_turn_does_not_change_the_count(seed):
    plan = generate_plan(seed, **CLEAN)
    turned = np.ascontiguousarray(np.rot90(plan.image))
    assert len(detect_rooms(turned)) == len(detect_rooms(plan.image))


@pytest.mark.parametrize("seed", [2, 4, 5])
def test_scale_does_not_change_the_count(seed):
    plan = generate_plan(seed, **CLEAN)
    larger = cv2.resize(plan.image, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)
    assert len(detect_rooms(larger)) == len(detect_rooms(plan.image))


def test_an_inverted_sheet_gives_the_same_rooms():
    plan = generate_plan(4, **CLEAN)
    assert len(detect_rooms(255 - plan.image)) == len(detect_rooms(plan.image)) == plan.rooms


def test_a_blank_page_has_no_rooms():
    assert detect_rooms(np.full((300, 400, 3), 255, np.uint8)) == []
    assert detect_rooms(np.zeros((300, 400), np.uint8)) == []


def test_a_bad_image_is_refused_with_its_shape():
    with pytest.raises(ValueError, match=r"\(5, 5, 2\)"):
        detect_rooms(np.zeros((5, 5, 2), np.uint8))
