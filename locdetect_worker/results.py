"""The result document (GUIDE.md section 2) and the helpers that build it.

These models are the public contract: ``results/<job>.json``, the output of
``locdetect-worker detect`` and the body the inference container returns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from locdetect_worker.errors import ErrorCode, JobError

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class S3Source(_Model):
    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None


class FileSource(_Model):
    path: str


class ImageInfo(_Model):
    width: int
    height: int
    pages: int


class Line(_Model):
    start: tuple[int, int]
    end: tuple[int, int]


class Room(_Model):
    id: str
    page: int
    polygon: list[tuple[int, int]]
    lines: list[Line]
    bbox: tuple[int, int, int, int]
    bbox_normalized: tuple[int, int, int, int]
    area_px: float
    confidence: float = Field(ge=0.0, le=1.0)


class ErrorInfo(_Model):
    code: ErrorCode
    message: str


class DetectorInfo(_Model):
    name: str
    version: str


class ResultDocument(_Model):
    schema_version: int = SCHEMA_VERSION
    job_id: str
    status: Literal["succeeded", "failed"]
    source: S3Source | FileSource | None
    image: ImageInfo | None = None
    rooms: list[Room] = Field(default_factory=list)
    error: ErrorInfo | None = None
    backend: str
    detector: DetectorInfo
    timings_ms: dict[str, float] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: utc_now())

    def to_json(self) -> str:
        return self.model_dump_json()


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def detector_info() -> DetectorInfo:
    from locdetect_worker.detector import DETECTOR_NAME, DETECTOR_VERSION

    return DetectorInfo(name=DETECTOR_NAME, version=DETECTOR_VERSION)


def failed_result(
    job_id: str,
    source: S3Source | FileSource | None,
    error: JobError,
    backend: str,
    timings_ms: dict[str, float] | None = None,
) -> ResultDocument:
    return ResultDocument(
        job_id=job_id,
        status="failed",
        source=source,
        error=ErrorInfo(code=error.code, message=error.message),
        backend=backend,
        detector=detector_info(),
        timings_ms=timings_ms or {},
    )
