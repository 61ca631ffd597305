"""Results in S3: ``<results prefix><job>.json`` and ``<job>.overlay.png``.

The overlay is written first and the JSON document last, so the document's
presence means the job's outcome is durable. Results are idempotent per source
ETag: :meth:`ResultStore.has_result_for` and :meth:`ResultStore.superseded`
are the checks every backend uses before writing.
"""

from __future__ import annotations

from typing import Any

import structlog
from botocore.exceptions import ClientError
from pydantic import ValidationError

from locdetect_worker.results import ResultDocument, S3Source

log = structlog.get_logger("locdetect.storage")

MISSING_CODES = ("NoSuchKey", "404", "NoSuchBucket")


class ResultStore:
    def __init__(self, s3: Any, bucket: str, prefix: str = "results/") -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix

    def result_key(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}.json"

    def overlay_key(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}.overlay.png"

    async def write(self, document: ResultDocument, overlay_png: bytes | None = None) -> None:
        if overlay_png is not None:
            await self.s3.put_object(
                Bucket=self.bucket,
                Key=self.overlay_key(document.job_id),
                Body=overlay_png,
                ContentType="image/png",
            )
        await self.s3.put_object(
            Bucket=self.bucket,
            Key=self.result_key(document.job_id),
            Body=document.to_json().encode(),
            ContentType="application/json",
        )

    async def read(self, job_id: str) -> ResultDocument | None:
        """The stored document; ``None`` when there is none, or it is unreadable (overwrite it)."""
        try:
            response = await self.s3.get_object(Bucket=self.bucket, Key=self.result_key(job_id))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
                return None
            raise
        async with response["Body"] as body:
            content = await body.read()
        try:
            return ResultDocument.model_validate_json(content)
        except ValidationError as exc:
            log.warning("result_unreadable", job_id=job_id, error=str(exc)[:500])
            return None

    async def has_result_for(self, job_id: str, source: S3Source) -> bool:
        """Whether the stored result was made from this very object version (same ETag)."""
        if not source.etag:
            return False
        existing = await self.read(job_id)
        return (
            existing is not None
            and isinstance(existing.source, S3Source)
            and existing.source.key == source.key
            and existing.source.etag == source.etag
        )

    async def current_etag(self, source: S3Source) -> str | None:
        """The source object's ETag now, or ``None`` when it no longer exists."""
        try:
            head = await self.s3.head_object(Bucket=source.bucket, Key=source.key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
                return None
            raise
        return str(head.get("ETag", "")).strip('"') or None

    async def superseded(self, job_id: str, source: S3Source) -> str | None:
        """Why a result just computed from ``source`` must not be written, if it must not.

        Another worker already wrote the result for this object version, or the
        object changed while it was processed (its own event will produce the result).
        """
        if not source.etag:
            return None
        if await self.has_result_for(job_id, source):
            return "another worker wrote the result for this object version meanwhile"
        current = await self.current_etag(source)
        if current is not None and current != source.etag:
            return f"the object changed while it was processed (now ETag {current})"
        return None
