"""Turning what the endpoint left in S3 into the job's result document and overlay.

The output object is the container's result document: the worker stamps it
with the job, the source and the backend and draws the overlay from the source
image in a worker process. A failure becomes ``endpoint_failed`` with the
container's typed reason (``code: message``) when there is one. Writing (or
discarding) the result is the backend's decision.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_process
import structlog
from botocore.exceptions import ClientError
from pydantic import ValidationError

from backends import Completed
from backends.sagemaker_overlay import render_source_overlay
from backends.sagemaker_records import split_s3_uri
from locdetect_worker.decode import DecodeLimits
from locdetect_worker.errors import JobError
from locdetect_worker.results import ResultDocument, S3Source, failed_result, utc_now

log = structlog.get_logger("locdetect.sagemaker")

BACKEND = "sagemaker"


class S3Objects:
    """The few object reads the SageMaker path needs, by ``s3://`` URI; absent is ``None``."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    async def get(self, uri: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        response = await self.s3.get_object(Bucket=bucket, Key=key)
        async with response["Body"] as body:
            return bytes(await body.read())

    async def get_optional(self, uri: str) -> bytes | None:
        try:
            return await self.get(uri)
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise

    async def head(self, uri: str) -> dict[str, Any] | None:
        bucket, key = split_s3_uri(uri)
        try:
            return dict(await self.s3.head_object(Bucket=bucket, Key=key))
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    async def exists(self, uri: str) -> bool:
        return await self.head(uri) is not None

    async def source(self, bucket: str, key: str) -> S3Source | None:
        """The object as a job source (current ETag and size), or ``None`` if it is gone."""
        head = await self.head(f"s3://{bucket}/{key}")
        if head is None:
            return None
        return S3Source(
            bucket=bucket,
            key=key,
            etag=str(head["ETag"]).strip('"'),
            version_id=head.get("VersionId"),
            size=head["ContentLength"],
        )


class OutcomeResults:
    """Result documents (and overlays) from outcomes; the backend decides whether to write them."""

    def __init__(self, objects: S3Objects, limits: DecodeLimits, overlay_timeout: float) -> None:
        self.objects = objects
        self.limits = limits
        self.overlay_timeout = overlay_timeout

    async def succeeded(
        self, job_id: str, source: S3Source, output_location: str, submitted_at: datetime | None
    ) -> Completed:
        """The result in the output object (a failed one if it is not a result)."""
        body = await self.objects.get(output_location)
        try:
            document = ResultDocument.model_validate_json(body)
        except ValidationError as exc:
            return self.failed(job_id, source, f"the endpoint's output is not a result: {exc}")
        timings = dict(document.timings_ms)
        if submitted_at is not None:
            elapsed = (datetime.now(UTC) - submitted_at).total_seconds()
            timings["total"] = round(elapsed * 1000, 1)
        started = time.perf_counter()
        overlay = await self._overlay(source, document) if document.status == "succeeded" else None
        if overlay is not None:
            timings["overlay"] = round((time.perf_counter() - started) * 1000, 1)
        result = document.model_copy(
            update={
                "job_id": job_id,
                "source": source,
                "backend": BACKEND,
                "timings_ms": timings,
                "created_at": utc_now(),
            }
        )
        return Completed(result, overlay)

    async def endpoint_failed(
        self, job_id: str, source: S3Source, reason: str | None, failure_location: str | None
    ) -> Completed:
        """``endpoint_failed``: the failure object's reason, else the notification's."""
        detail = reason
        if failure_location:
            body = await self.objects.get_optional(failure_location)
            if body:
                detail = failure_detail(body)
        return self.failed(job_id, source, detail or "the endpoint failed without a reason")

    def failed(
        self, job_id: str, source: S3Source, message: str, code: str = "endpoint_failed"
    ) -> Completed:
        error = JobError(code, message)  # type: ignore[arg-type]
        return Completed(failed_result(job_id, source, error, BACKEND))

    async def _overlay(self, source: S3Source, document: ResultDocument) -> bytes | None:
        """Draw the rooms on the source image in a worker process, within the detect timeout.

        The overlay is an extra: whatever goes wrong (a missing object, a crashed or
        slow worker process, a drawing bug), the rooms are stored without it.
        """
        try:
            data = await self.objects.get(f"s3://{source.bucket}/{source.key}")
            with anyio.fail_after(self.overlay_timeout):
                return await anyio.to_process.run_sync(
                    render_source_overlay, data, self.limits, document.rooms, cancellable=True
                )
        except Exception as exc:
            log.warning(
                "sagemaker_overlay_skipped", error=f"{type(exc).__name__}: {exc}", exc_info=True
            )
            return None


def failure_detail(body: bytes) -> str:
    """The container's typed error (``code: message``) from a failure object, else its text."""
    try:
        document = ResultDocument.model_validate_json(body)
    except ValidationError:
        return body.decode("utf-8", "replace")[:2000]
    if document.error is None:
        return "the endpoint reported a failure"
    return f"{document.error.code}: {document.error.message}"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
