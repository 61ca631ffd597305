"""One SQS message -> its jobs -> their outcomes, and what the consumer does with the message.

Decided here, once: a :class:`JobError` is permanent (a failed result is
written and the message deleted), an invalid message is left for the DLQ, any
other exception is transient (the message comes back after a back-off).
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import structlog
from structlog.contextvars import bound_contextvars

from backends import Backend, Completed
from locdetect_worker.config import Settings
from locdetect_worker.consumer import Disposition, retry_delay
from locdetect_worker.errors import JobError
from locdetect_worker.events import InvalidEvent, ObjectCreated, parse_message
from locdetect_worker.jobs import Job, job_id_for_key
from locdetect_worker.results import S3Source, failed_result
from locdetect_worker.storage import ResultStore

log = structlog.get_logger("locdetect.jobs")

FORCE_ATTRIBUTE = "locdetect-force"
BODY_PREVIEW_BYTES = 200


class MessageHandler:
    def __init__(self, settings: Settings, backend: Backend, store: ResultStore) -> None:
        self.settings = settings
        self.backend = backend
        self.store = store
        self.succeeded = 0
        self.failed = 0
        self.skipped = 0

    async def __call__(self, message: dict[str, Any]) -> Disposition:
        body = message.get("Body", "")
        receive_count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        with bound_contextvars(message_id=message.get("MessageId")):
            try:
                objects = parse_message(body)
            except InvalidEvent as exc:
                log.error(
                    "invalid_event",
                    error=str(exc),
                    body_head=body[:BODY_PREVIEW_BYTES],
                    receive_count=receive_count,
                )
                # Retrying cannot fix it: back to the queue at once, so it reaches the DLQ soon.
                return Disposition.retry(0)
            if not objects:
                log.info("message_acknowledged", reason="no object creations (e.g. s3:TestEvent)")
                return Disposition.done()
            force = _attribute(message, FORCE_ATTRIBUTE) == "true"
            try:
                for created in objects:
                    await self.run_job(self.job_for(created, message.get("MessageId"), force))
            except Exception as exc:
                delay = retry_delay(receive_count, self.settings.visibility_timeout)
                log.warning(
                    "job_retry_scheduled",
                    error=f"{type(exc).__name__}: {exc}",
                    retry_in_s=delay,
                    receive_count=receive_count,
                )
                return Disposition.retry(delay)
            return Disposition.done()

    def job_for(self, created: ObjectCreated, message_id: str | None, force: bool) -> Job:
        source = S3Source(
            bucket=created.bucket,
            key=created.key,
            etag=created.etag.strip('"') if created.etag else None,
            version_id=created.version_id,
            size=created.size,
        )
        job_id = job_id_for_key(created.key, self.settings.input_prefix)
        return Job(job_id=job_id, source=source, message_id=message_id, force=force)

    async def run_job(self, job: Job) -> None:
        """Process one job and write its outcome; transient errors propagate."""
        with bound_contextvars(**job.log_context):
            prefix = self.settings.input_prefix
            if prefix and not job.source.key.startswith(prefix):
                log.info("job_ignored", reason=f"key is outside the input prefix {prefix!r}")
                return
            if not job.force and await self._already_done(job):
                self.skipped += 1
                log.info("job_skipped", reason="a result for this object version already exists")
                return
            log.info("job_started", force=job.force)
            started = time.perf_counter()
            try:
                outcome = await self.backend.process(job)
            except JobError as exc:
                outcome = Completed(failed_result(job.job_id, job.source, exc, self.backend.name))
            if outcome is None:
                log.info("job_handed_off", backend=self.backend.name)
                return
            with anyio.CancelScope(shield=True):
                await self.store.write(outcome.document, outcome.overlay_png)
            self._log_summary(outcome, time.perf_counter() - started)

    async def _already_done(self, job: Job) -> bool:
        if not job.source.etag:
            return False
        existing = await self.store.read(job.job_id)
        return (
            existing is not None
            and isinstance(existing.source, S3Source)
            and existing.source.key == job.source.key
            and existing.source.etag == job.source.etag
        )

    def _log_summary(self, outcome: Completed, seconds: float) -> None:
        document = outcome.document
        if document.status == "succeeded":
            self.succeeded += 1
        else:
            self.failed += 1
        log.info(
            "job_finished",
            status=document.status,
            rooms=len(document.rooms),
            error_code=document.error.code if document.error else None,
            error=document.error.message if document.error else None,
            timings_ms=document.timings_ms,
            seconds=round(seconds, 3),
        )


def _attribute(message: dict[str, Any], name: str) -> str | None:
    value = message.get("MessageAttributes", {}).get(name)
    return value.get("StringValue") if value else None
