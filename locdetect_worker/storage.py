"""Results in S3: ``<results prefix><job>.json`` and ``<job>.overlay.png``.

The overlay is written first and the JSON document last, so the document's
presence means the job's outcome is durable. Results are idempotent per source
ETag: :meth:`ResultStore.has_result_for` and :meth:`ResultStore.superseded`
are the checks every backend uses before writing. When no result existed as a
job started, :meth:`ResultStore.write_unless_superseded` writes with
``If-None-Match: *`` instead of reading the result again: S3 itself then tells
whether another writer came first.
"""

from __future__ import annotations

from typing import Any

import structlog
from botocore.exceptions import ClientError
from pydantic import ValidationError

from locdetect_worker.results import ResultDocument, S3Source

log = structlog.get_logger("locdetect.storage")

MISSING_CODES = ("NoSuchKey", "404", "NoSuchBucket")
# S3's answers to a conditional write that lost: the object exists (412), or a
# concurrent conditional write to the same key is in progress (409).
CONDITION_LOST_CODES = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


class ResultConflict(Exception):
    """A write meant for a missing result found one there: another writer came first."""


class ResultStore:
    def __init__(self, s3: Any, bucket: str, prefix: str = "results/") -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix

    def result_key(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}.json"

    def overlay_key(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}.overlay.png"

    async def write(
        self,
        document: ResultDocument,
        overlay_png: bytes | None = None,
        *,
        only_if_absent: bool = False,
    ) -> None:
        """Overlay first, document last; ``only_if_absent``: raise :class:`ResultConflict`
        rather than replace an existing overlay or document."""
        condition = {"IfNoneMatch": "*"} if only_if_absent else {}
        try:
            if overlay_png is not None:
                await self.s3.put_object(
                    Bucket=self.bucket,
                    Key=self.overlay_key(document.job_id),
                    Body=overlay_png,
                    ContentType="image/png",
                    **condition,
                )
            await self.s3.put_object(
                Bucket=self.bucket,
                Key=self.result_key(document.job_id),
                Body=document.to_json().encode(),
                ContentType="application/json",
                **condition,
            )
        except ClientError as exc:
            if only_if_absent and _error_code(exc) in CONDITION_LOST_CODES:
                raise ResultConflict(str(exc)) from None
            raise

    async def write_unless_superseded(
        self, document: ResultDocument, overlay_png: bytes | None, *, absent_before: bool
    ) -> str | None:
        """Write a result computed from ``document.source`` unless it is superseded.

        Returns why it was not written, or ``None``. ``absent_before``: no result
        existed when the job started; the write is then conditional, so only the
        source object needs checking, and the full check runs only when another
        writer came first.
        """
        source = document.source
        if not isinstance(source, S3Source):
            await self.write(document, overlay_png)
            return None
        if absent_before:
            reason = await self.source_changed(source)
            if reason:
                return reason
            try:
                await self.write(document, overlay_png, only_if_absent=True)
                return None
            except ResultConflict:
                log.info("result_written_meanwhile", job_id=document.job_id)
        reason = await self.superseded(document.job_id, source)
        if reason is None:
            await self.write(document, overlay_png)
        return reason

    async def read(self, job_id: str) -> ResultDocument | None:
        """The stored document; ``None`` when there is none, or it is unreadable (overwrite it)."""
        try:
            response = await self.s3.get_object(Bucket=self.bucket, Key=self.result_key(job_id))
        except ClientError as exc:
            if _error_code(exc) in MISSING_CODES:
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
        return made_from(await self.read(job_id), source) if source.etag else False

    async def current_etag(self, source: S3Source) -> str | None:
        """The source object's ETag now, or ``None`` when it no longer exists."""
        try:
            head = await self.s3.head_object(Bucket=source.bucket, Key=source.key)
        except ClientError as exc:
            if _error_code(exc) in MISSING_CODES:
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
        return await self.source_changed(source)

    async def source_changed(self, source: S3Source) -> str | None:
        """Why a result from ``source`` is stale: the object changed since it was read."""
        if not source.etag:
            return None
        current = await self.current_etag(source)
        if current is not None and current != source.etag:
            return f"the object changed while it was processed (now ETag {current})"
        return None


def made_from(document: ResultDocument | None, source: S3Source) -> bool:
    """Whether ``document`` is the result of this very object version (same key and ETag).

    Never for a source without an ETag: its version is unknown.
    """
    return (
        bool(source.etag)
        and document is not None
        and isinstance(document.source, S3Source)
        and document.source.key == source.key
        and document.source.etag == source.etag
    )


def _error_code(exc: ClientError) -> str | None:
    return exc.response.get("Error", {}).get("Code")
