"""The eval harness: matching and pooling on literal arrays, and the command on a folder."""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
import pytest

from locdetect_worker.evaluation import (
    CONFIDENCE_FLOORS,
    PlanScore,
    add_eval_arguments,
    family,
    find_plans,
    iou_matrix,
    pool,
    precision_at_confidence,
    run_eval,
    score_plan,
)
from locdetect_worker.synthetic import generate_plan


def square(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.int32)


@pytest.fixture
def truth() -> np.ndarray:
    labels = np.zeros((20, 30), np.int32)
    labels[0:10, 0:10] = 3  # room labels need not be 1..n
    labels[0:10, 20:30] = 7
    return labels


def test_iou_matrix_of_exact_and_disjoint_polygons(truth):
    present = np.searchsorted([0, 3, 7], truth).astype(np.int32)
    ious = iou_matrix([square(0, 0, 9, 9), square(0, 12, 5, 18)], present)
    assert ious.shape == (2, 2)
    assert ious[0, 0] == pytest.approx(1.0) and ious[0, 1] == 0.0 and not ious[1].any()


def test_matching_is_one_to_one(truth):
    # two predictions on the same room: only one can match it
    score = score_plan("p", [square(0, 0, 9, 9), square(0, 0, 9, 8)], [0.9, 0.4], truth)
    assert (score.truth, score.predicted, score.tp) == (2, 2, 1)
    assert score.predictions == [(0.9, True), (0.4, False)]


def test_a_pair_below_the_iou_threshold_does_not_count(truth):
    half = square(0, 0, 4, 9)  # IoU 0.5 with room 3 exactly
    assert score_plan("p", [half], [1.0], truth, threshold=0.51).tp == 0
    assert score_plan("p", [half], [1.0], truth, threshold=0.5).tp == 1


def test_pooling_counts_over_the_set():
    a = PlanScore("a", truth=4, predicted=2, matched_ious=[0.8, 0.6], predictions=[])
    b = PlanScore("b", truth=2, predicted=2, matched_ious=[], predictions=[], error="boom")
    pooled = pool([a, b])
    assert (pooled.tp, pooled.truth, pooled.predicted) == (2, 6, 4)
    assert pooled.precision == pytest.approx(0.5) and pooled.recall == pytest.approx(1 / 3)
    assert pooled.f1 == pytest.approx(0.4) and pooled.mean_iou == pytest.approx(0.7)


def test_precision_rises_with_a_meaningful_confidence_floor():
    score = PlanScore("a", 3, 3, [0.9], predictions=[(0.9, True), (0.2, False), (0.6, False)])
    rows = {r["min_confidence"]: r for r in precision_at_confidence([score], (0.0, 0.5, 0.9))}
    assert rows[0.0]["predicted"] == 3 and rows[0.0]["precision"] == pytest.approx(1 / 3)
    assert rows[0.5]["predicted"] == 2 and rows[0.9]["precision"] == 1.0


def test_family_is_the_leading_letters():
    assert [family(s) for s in ("IIa_A01", "image003", "p1", "10")] == ["IIa", "image", "p", "#"]


def test_find_plans_pairs_plans_with_their_labels(tmp_path):
    for name in ("a.png", "a.gt.png", "b.jpg", "b.gt.png", "c.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p, _ in find_plans(tmp_path)] == ["a.png", "b.jpg"]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    return parser.parse_args(list(argv))


def test_eval_command_scores_a_folder_and_writes_overlays(tmp_path, capsys):
    plans = tmp_path / "plans"
    plans.mkdir()
    for seed in (4, 5):
        plan = generate_plan(
            seed, size=900, rotation_deg=0.0, wall="solid", noise=0.0, jpeg_quality=None
        )
        cv2.imwrite(str(plans / f"syn{seed}.png"), plan.image)
        cv2.imwrite(str(plans / f"syn{seed}.gt.png"), plan.labels)
    (plans / "broken.png").write_bytes(b"not an image")
    cv2.imwrite(str(plans / "broken.gt.png"), np.ones((10, 10), np.uint16))
    status = run_eval(parse(str(plans), "--json", "--overlays", str(tmp_path / "out")))
    assert status == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    rows = {row["stem"]: row for row in report["plans"]}
    assert rows["broken"]["error"] and rows["broken"]["tp"] == 0 and rows["broken"]["truth"] == 1
    assert rows["syn4"]["tp"] >= 1
    assert report["pooled"]["truth"] == sum(r["truth"] for r in rows.values())
    assert len(report["precision_at_confidence"]) == len(CONFIDENCE_FLOORS)
    assert "[3/3]" in out.err
    pictures = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert pictures == ["syn4.eval.png", "syn5.eval.png"]


def test_eval_command_prints_tables(tmp_path, capsys):
    plan = generate_plan(4, size=800)
    cv2.imwrite(str(tmp_path / "one.png"), plan.image)
    cv2.imwrite(str(tmp_path / "one.gt.png"), plan.labels)
    assert run_eval(parse(str(tmp_path))) == 0
    text = capsys.readouterr().out
    assert "one" in text and "ALL" in text and "precision at confidence" in text


def test_eval_command_fails_on_an_empty_or_missing_folder(tmp_path, capsys):
    assert run_eval(parse(str(tmp_path))) == 2
    assert run_eval(parse(str(tmp_path / "missing"))) == 2
    assert "not a directory" in capsys.readouterr().err
