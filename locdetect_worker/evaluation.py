"""``locdetect-worker eval DIR``: room accuracy of the detector against label images.

Every plan ``<stem>.<ext>`` in DIR with a ``<stem>.gt.png`` beside it (16-bit,
0 = no room, k = room k) is decoded, detected and scored: predicted polygons
are rasterised, matched one-to-one to ground-truth rooms by Hungarian
assignment on mask IoU, and a pair counts when IoU >= the threshold (0.5).
Counts are pooled over the set (precision = TP / predicted, recall = TP / truth),
so a plan the detector fails on counts all its rooms as missed. The
precision-at-confidence table shows whether the detector's confidence means
something: precision should rise with the confidence floor.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from locdetect_worker.decode import DecodeLimits, decode_pages
from locdetect_worker.detector import detect_rooms
from locdetect_worker.errors import JobError

PLAN_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".pdf")
CONFIDENCE_FLOORS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)
OVERLAY_WIDTH = 2400


@dataclass
class PlanScore:
    """One plan's counts; ``predictions`` holds (confidence, matched) per predicted room."""

    stem: str
    truth: int
    predicted: int
    matched_ious: list[float] = field(default_factory=list)
    predictions: list[tuple[float, bool]] = field(default_factory=list)
    detect_ms: float = 0.0
    error: str | None = None

    @property
    def tp(self) -> int:
        return len(self.matched_ious)


@dataclass(frozen=True)
class Pooled:
    plans: int
    truth: int
    predicted: int
    tp: int
    precision: float
    recall: float
    f1: float
    mean_iou: float


def find_plans(directory: Path) -> list[tuple[Path, Path]]:
    """(plan, label image) pairs in ``directory``, sorted; plans without labels are skipped."""
    pairs = []
    for path in sorted(directory.iterdir()):
        name = path.name.lower()
        if name.endswith(".gt.png") or path.suffix.lower() not in PLAN_SUFFIXES:
            continue
        truth = path.with_name(path.name[: -len(path.suffix)] + ".gt.png")
        if truth.is_file():
            pairs.append((path, truth))
    return pairs


def read_labels(path: Path) -> np.ndarray:
    """A label image as an integer (H, W) array: 0 = no room, k = room k."""
    labels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if labels is None:
        raise ValueError(f"{path}: not a readable image")
    if labels.ndim == 3:
        labels = labels[:, :, 0]
    return labels.astype(np.int32)


def iou_matrix(polygons: list[np.ndarray], truth: np.ndarray) -> np.ndarray:
    """(P, R) mask IoU of each polygon against each room 1..R of an (H, W) label image."""
    rooms = int(truth.max())
    sizes = np.bincount(truth.ravel(), minlength=rooms + 1)
    height, width = truth.shape
    ious = np.zeros((len(polygons), rooms), np.float64)
    for index, polygon in enumerate(polygons):
        points = np.asarray(polygon, np.int32).reshape(-1, 2)
        x0, y0 = np.clip(points.min(axis=0), 0, [width - 1, height - 1])
        x1, y1 = np.clip(points.max(axis=0), 0, [width - 1, height - 1])
        mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
        cv2.fillPoly(mask, [points - [x0, y0]], 1)
        inside = mask.astype(bool)
        area = int(inside.sum())
        if area == 0:
            continue
        overlap = np.bincount(truth[y0 : y1 + 1, x0 : x1 + 1][inside], minlength=rooms + 1)[1:]
        union = area + sizes[1:] - overlap
        ious[index] = overlap / np.maximum(union, 1)
    return ious


def score_plan(
    stem: str,
    polygons: list[np.ndarray],
    confidences: list[float],
    truth: np.ndarray,
    threshold: float = 0.5,
) -> PlanScore:
    """Hungarian matching of predicted polygons to the rooms of an (H, W) label image."""
    present = [k for k in np.unique(truth) if k > 0]
    relabelled = np.searchsorted(np.array([0, *present]), truth).astype(np.int32)
    ious = iou_matrix(polygons, relabelled)
    score = PlanScore(stem=stem, truth=len(present), predicted=len(polygons))
    matched = np.zeros(len(polygons), bool)
    if ious.size:
        rows, cols = linear_sum_assignment(ious, maximize=True)
        for row, col in zip(rows, cols):
            if ious[row, col] >= threshold:
                matched[row] = True
                score.matched_ious.append(float(ious[row, col]))
    score.predictions = [(float(c), bool(m)) for c, m in zip(confidences, matched)]
    return score


def pool(scores: Iterable[PlanScore]) -> Pooled:
    """Set-level precision, recall, F1 and mean IoU of matched rooms."""
    scores = list(scores)
    truth = sum(s.truth for s in scores)
    predicted = sum(s.predicted for s in scores)
    ious = [iou for s in scores for iou in s.matched_ious]
    tp = len(ious)
    precision = tp / predicted if predicted else 0.0
    recall = tp / truth if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    mean_iou = float(np.mean(ious)) if ious else 0.0
    return Pooled(len(scores), truth, predicted, tp, precision, recall, f1, mean_iou)


def precision_at_confidence(
    scores: Iterable[PlanScore], floors: tuple[float, ...] = CONFIDENCE_FLOORS
) -> list[dict[str, float]]:
    """For each floor: how many predictions have confidence >= floor and how many are right."""
    predictions = [p for s in scores for p in s.predictions]
    rows = []
    for floor in floors:
        kept = [matched for confidence, matched in predictions if confidence >= floor]
        rows.append(
            {
                "min_confidence": floor,
                "predicted": len(kept),
                "tp": int(sum(kept)),
                "precision": sum(kept) / len(kept) if kept else 0.0,
            }
        )
    return rows


def family(stem: str) -> str:
    """A plan's family for the per-family table: its leading letters ("IIa_A01" -> "IIa")."""
    match = re.match(r"[A-Za-z]+", stem)
    return match.group(0) if match else "#"


def evaluate_plan(
    plan: Path, truth_path: Path, threshold: float, overlays: Path | None
) -> PlanScore:
    """Decode, detect and score one plan (page 1); failures score as all rooms missed."""
    stem = plan.name[: -len(plan.suffix)]
    truth = read_labels(truth_path)
    try:
        image = decode_pages(plan.read_bytes(), DecodeLimits())[0]
        if image.shape[:2] != truth.shape:
            raise ValueError(f"plan is {image.shape[:2]} but its labels are {truth.shape}")
        started = time.perf_counter()
        rooms = detect_rooms(image)
        elapsed = (time.perf_counter() - started) * 1000
    except (JobError, ValueError, cv2.error) as exc:
        truth_rooms = int((np.unique(truth) > 0).sum())
        return PlanScore(stem, truth_rooms, 0, error=f"{type(exc).__name__}: {exc}")
    polygons = [room.polygon for room in rooms]
    score = score_plan(stem, polygons, [room.confidence for room in rooms], truth, threshold)
    score.detect_ms = round(elapsed, 1)
    if overlays is not None:
        picture = side_by_side(image, polygons, [m for _, m in score.predictions], truth)
        cv2.imwrite(str(overlays / f"{stem}.eval.png"), picture)
    return score


def side_by_side(
    image: np.ndarray, polygons: list[np.ndarray], matched: list[bool], truth: np.ndarray
) -> np.ndarray:
    """Predictions (green = matched, red = unmatched) beside the ground truth rooms, BGR uint8."""
    scale = min(1.0, OVERLAY_WIDTH / 2 / image.shape[1])
    base = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    left, right = base.copy(), base.copy()
    fill = left.copy()
    for polygon, ok in zip(polygons, matched):
        points = (np.asarray(polygon, np.float64) * scale).round().astype(np.int32)
        cv2.fillPoly(fill, [points], (60, 200, 60) if ok else (60, 60, 230))
    cv2.addWeighted(fill, 0.45, left, 0.55, 0, dst=left)
    for polygon in polygons:
        points = (np.asarray(polygon, np.float64) * scale).round().astype(np.int32)
        cv2.polylines(left, [points], True, (0, 0, 0), 1, cv2.LINE_AA)
    small = cv2.resize(truth, (base.shape[1], base.shape[0]), interpolation=cv2.INTER_NEAREST)
    palette = np.random.default_rng(7).integers(60, 255, (int(truth.max()) + 1, 3)).astype(np.uint8)
    inside = small > 0
    right[inside] = (0.5 * right[inside] + 0.5 * palette[small[inside]]).astype(np.uint8)
    return np.hstack([left, np.full((base.shape[0], 8, 3), 255, np.uint8), right])


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``eval`` sub-command's arguments."""
    parser.add_argument("directory", type=Path, help="folder of plans with <stem>.gt.png labels")
    parser.add_argument("--json", action="store_true", help="print one JSON document, not tables")
    parser.add_argument(
        "--overlays", type=Path, metavar="OUT", help="write prediction/truth pictures here"
    )
    parser.add_argument("--iou", type=float, default=0.5, help="IoU for a match (default 0.5)")
    parser.add_argument("--jobs", type=int, default=1, help="plans in parallel (default 1)")
    parser.add_argument("--only", metavar="REGEX", help="evaluate only plans whose stem matches")


def run_eval(args: argparse.Namespace) -> int:
    """Evaluate, print the report; exit status 0, or 2 when there is nothing to evaluate."""
    if not args.directory.is_dir():
        print(f"eval: {args.directory} is not a directory", file=sys.stderr)
        return 2
    pairs = find_plans(args.directory)
    if args.only:
        pairs = [(p, t) for p, t in pairs if re.search(args.only, p.name[: -len(p.suffix)])]
    if not pairs:
        print(f"eval: no plan with a <stem>.gt.png beside it in {args.directory}", file=sys.stderr)
        return 2
    if args.overlays is not None:
        args.overlays.mkdir(parents=True, exist_ok=True)
    scores = _evaluate_all(pairs, args.iou, args.overlays, max(1, args.jobs))
    report = {
        "iou_threshold": args.iou,
        "plans": [_plan_row(s) for s in scores],
        "families": {name: asdict(pool(group)) for name, group in _by_family(scores).items()},
        "pooled": asdict(pool(scores)),
        "precision_at_confidence": precision_at_confidence(scores),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_tables(report)
    return 0


def _evaluate_all(
    pairs: list[tuple[Path, Path]], threshold: float, overlays: Path | None, jobs: int
) -> list[PlanScore]:
    plans, truths = [p for p, _ in pairs], [t for _, t in pairs]
    extra = ([threshold] * len(pairs), [overlays] * len(pairs))
    scores: list[PlanScore] = []
    with ProcessPoolExecutor(jobs) as executor:
        results = (
            executor.map(evaluate_plan, plans, truths, *extra)
            if jobs > 1
            else map(evaluate_plan, plans, truths, *extra)
        )
        for index, score in enumerate(results, start=1):
            scores.append(score)
            status = score.error or f"{score.tp}/{score.truth} rooms, {score.predicted} predicted"
            print(f"[{index}/{len(pairs)}] {score.stem}: {status}", file=sys.stderr, flush=True)
    return scores


def _by_family(scores: list[PlanScore]) -> dict[str, list[PlanScore]]:
    groups: dict[str, list[PlanScore]] = {}
    for score in scores:
        groups.setdefault(family(score.stem), []).append(score)
    return groups


def _plan_row(score: PlanScore) -> dict[str, object]:
    single = pool([score])
    return {
        "stem": score.stem,
        "truth": score.truth,
        "predicted": score.predicted,
        "tp": score.tp,
        "precision": single.precision,
        "recall": single.recall,
        "f1": single.f1,
        "mean_iou": single.mean_iou,
        "detect_ms": score.detect_ms,
        "error": score.error,
    }


def _print_tables(report: dict) -> None:
    print(
        f"{'plan':<28} {'truth':>5} {'pred':>5} {'tp':>4} {'P':>6} {'R':>6} {'F1':>6} "
        f"{'mIoU':>6} {'ms':>7}"
    )
    for row in report["plans"]:
        print(
            f"{row['stem']:<28} {row['truth']:>5} {row['predicted']:>5} {row['tp']:>4} "
            f"{row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1']:>6.3f} "
            f"{row['mean_iou']:>6.3f} {row['detect_ms']:>7.0f}"
            + (f"  {row['error']}" if row["error"] else "")
        )
    print()
    print(
        f"{'family':<12} {'plans':>5} {'truth':>5} {'pred':>5} {'tp':>4} {'P':>6} {'R':>6} "
        f"{'F1':>6} {'mIoU':>6}"
    )
    for name, fam in [*report["families"].items(), ("ALL", report["pooled"])]:
        print(
            f"{name:<12} {fam['plans']:>5} {fam['truth']:>5} {fam['predicted']:>5} "
            f"{fam['tp']:>4} {fam['precision']:>6.3f} {fam['recall']:>6.3f} {fam['f1']:>6.3f} "
            f"{fam['mean_iou']:>6.3f}"
        )
    print()
    print(f"precision at confidence (IoU >= {report['iou_threshold']}):")
    print(f"{'conf >=':>8} {'pred':>6} {'tp':>6} {'P':>6}")
    for row in report["precision_at_confidence"]:
        print(
            f"{row['min_confidence']:>8.2f} {row['predicted']:>6} {row['tp']:>6} "
            f"{row['precision']:>6.3f}"
        )
