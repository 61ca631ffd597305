"""Blueprint bytes -> rooms and overlay: the CPU-bound part of a job.

Runs inside a detector worker process (local backend), in the inference
container and in ``locdetect-worker detect``. It takes and returns plain,
picklable values so it can cross a process boundary cheaply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from locdetect_worker.decode import DecodeLimits, decode_pages
from locdetect_worker.detector import DetectedRoom, detect_rooms
from locdetect_worker.errors import JobError
from locdetect_worker.overlay import render_overlay
from locdetect_worker.results import (
    FileSource,
    ImageInfo,
    Line,
    ResultDocument,
    Room,
    S3Source,
    detector_info,
)


@dataclass
class Analysis:
    image: ImageInfo
    rooms: list[Room]
    timings_ms: dict[str, float] = field(default_factory=dict)
    overlay_png: bytes | None = None

    def to_result(
        self,
        job_id: str,
        source: S3Source | FileSource | None,
        backend: str,
        timings_ms: dict[str, float] | None = None,
    ) -> ResultDocument:
        """The succeeded result document; ``timings_ms`` defaults to the analysis' own."""
        return ResultDocument(
            job_id=job_id,
            status="succeeded",
            source=source,
            image=self.image,
            rooms=self.rooms,
            backend=backend,
            detector=detector_info(),
            timings_ms=self.timings_ms if timings_ms is None else timings_ms,
        )


def analyse_blueprint(data: bytes, limits: DecodeLimits, overlay: bool = True) -> Analysis:
    """Decode every page, detect its rooms and (optionally) draw the overlay."""
    started = time.perf_counter()
    pages = decode_pages(data, limits)
    decoded = time.perf_counter()
    rooms: list[Room] = []
    for page_number, page in enumerate(pages, start=1):
        try:
            detected = detect_rooms(page)
        except Exception as exc:  # a detector bug on one plan must not look like a transient fault
            raise JobError(
                "detect_failed", f"page {page_number}: {type(exc).__name__}: {exc}"
            ) from exc
        rooms.extend(room_models(detected, page_number, page.shape[1], page.shape[0], len(rooms)))
    detected_at = time.perf_counter()
    first = pages[0]
    analysis = Analysis(
        image=ImageInfo(width=first.shape[1], height=first.shape[0], pages=len(pages)),
        rooms=rooms,
        timings_ms={
            "decode": _ms(decoded - started),
            "detect": _ms(detected_at - decoded),
        },
    )
    if overlay:
        analysis.overlay_png = render_overlay(pages, rooms)
        analysis.timings_ms["overlay"] = _ms(time.perf_counter() - detected_at)
    return analysis


def room_models(
    detected: list[DetectedRoom], page: int, width: int, height: int, first_index: int = 0
) -> list[Room]:
    """Schema rooms from detector output: ids, edges, boxes and areas in source pixels."""
    rooms = []
    for offset, room in enumerate(detected, start=1):
        polygon = np.asarray(room.polygon, dtype=np.int64).reshape(-1, 2)
        points = [(int(x), int(y)) for x, y in polygon]
        x0, y0 = polygon.min(axis=0)
        x1, y1 = polygon.max(axis=0)
        rooms.append(
            Room(
                id=f"room_{first_index + offset:03d}",
                page=page,
                polygon=points,
                lines=[Line(start=a, end=b) for a, b in zip(points, points[1:] + points[:1])],
                bbox=(int(x0), int(y0), int(x1), int(y1)),
                bbox_normalized=(
                    _per_mille(x0, width),
                    _per_mille(y0, height),
                    _per_mille(x1, width),
                    _per_mille(y1, height),
                ),
                area_px=round(float(cv2.contourArea(polygon.astype(np.float32))), 1),
                confidence=round(min(1.0, max(0.0, float(room.confidence))), 3),
            )
        )
    return rooms


def _per_mille(value: int, extent: int) -> int:
    return int(round(1000 * int(value) / max(1, extent)))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
