"""One SQS message -> its jobs -> their outcomes, and what the consumer does with the message.

Decided here, once: a :class:`JobError` is permanent (a failed result is
written and the message deleted), an invalid message is left for the DLQ, any
other exception is transient (the message comes back after a back-off).

Jobs are idempotent per source ETag: a job whose result already exists for the
object's current ETag is skipped (unless forced), and a result is written only
when no other worker has written one for this ETag meanwhile and the object has
not changed since (:meth:`ResultStore.write_unless_superseded`). An invalid
message gets a failure record (``failures/<message id>.json`` in the results
bucket) on its last receive before the DLQ, so the reason survives beside the
result documents.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import anyio
import structlog
from botocore.exceptions import BotoCoreError, ClientError
from structlog.contextvars import bound_contextvars

from backends import Backend, Completed
from locdetect_worker.config import Settings
from locdetect_worker.consumer import Disposition, retry_delay
from locdetect_worker.errors import JobError
from locdetect_worker.events import InvalidEvent, ObjectCreated, parse_message
from locdetect_worker.jobs import Job, job_id_for_key
from locdetect_worker.metrics import JobMetrics
from locdetect_worker.results import SCHEMA_VERSION, S3Source, failed_result, utc_now
from locdetect_worker.storage import ResultStore, made_from

log = structlog.get_logger("locdetect.jobs")

FORCE_ATTRIBUTE = "locdetect-force"
BODY_PREVIEW_BYTES = 200
FAILURE_RECORD_BODY_BYTES = 1024
FAILURES_PREFIX = "failures/"
RESULT_WRITE_TIMEOUT = 60.0  # shielded from shutdown, but not forever
_UNKNOWN = -1


class MessageHandler:
    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        store: ResultStore,
        metrics: JobMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.store = store
        self.metrics = metrics
        self.succeeded = 0
        self.failed = 0
        self.skipped = 0
        self.handed_off = 0
        self._max_receive_count: int | None = _UNKNOWN

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
                return await self._reject(message, exc, receive_count)
            if not objects:
                log.info("message_acknowledged", reason="no object creations (e.g. s3:TestEvent)")
                return Disposition.done()
            force = _attribute(message, FORCE_ATTRIBUTE) == "true"
            try:
                for created in objects:
                    await self.run_job(self.job_for(created, message, force))
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

    def job_for(self, created: ObjectCreated, message: dict[str, Any], force: bool) -> Job:
        source = S3Source(
            bucket=created.bucket,
            key=created.key,
            etag=created.etag.strip('"') if created.etag else None,
            version_id=created.version_id,
            size=created.size,
        )
        job_id = job_id_for_key(created.key, self.settings.input_prefix)
        return Job(
            job_id=job_id,
            source=source,
            message_id=message.get("MessageId"),
            force=force,
            event_time=created.event_time,
            sent_timestamp=message.get("Attributes", {}).get("SentTimestamp"),
        )

    async def run_job(self, job: Job) -> None:
        """Process one job and write its outcome; transient errors propagate."""
        with bound_contextvars(**job.log_context):
            prefix = self.settings.input_prefix
            if prefix and not job.source.key.startswith(prefix):
                log.info("job_ignored", reason=f"key is outside the input prefix {prefix!r}")
                return
            result_absent = False
            if not job.force:
                job = await self._with_etag(job)
                existing = await self.store.read(job.job_id)
                if made_from(existing, job.source):
                    self.skipped += 1
                    log.info("job_skipped", reason="a result for this object version exists")
                    return
                result_absent = existing is None
            log.info("job_started", force=job.force)
            started = time.perf_counter()
            try:
                outcome = await self.backend.process(job)
            except JobError as exc:
                outcome = Completed(failed_result(job.job_id, job.source, exc, self.backend.name))
            except Exception as exc:
                # Logged here, with the job's context; a traceback unless it is an AWS fault.
                log.warning(
                    "job_interrupted",
                    error=f"{type(exc).__name__}: {exc}",
                    exc_info=not isinstance(exc, (ClientError, BotoCoreError, OSError)),
                )
                raise
            if outcome is None:
                self.handed_off += 1
                log.info("job_handed_off", backend=self.backend.name)
                return
            with anyio.fail_after(RESULT_WRITE_TIMEOUT, shield=True):
                if job.force:
                    await self.store.write(outcome.document, outcome.overlay_png)
                else:
                    reason = await self.store.write_unless_superseded(
                        outcome.document, outcome.overlay_png, absent_before=result_absent
                    )
                    if reason:
                        self.skipped += 1
                        log.info("job_result_discarded", reason=reason)
                        return
            self._log_summary(outcome, time.perf_counter() - started)
            if self.metrics:
                self.metrics.job_finished(
                    outcome.document, event_time=job.event_time, sent_timestamp=job.sent_timestamp
                )

    async def _with_etag(self, job: Job) -> Job:
        """The job with its source ETag, read from a HEAD when the event carried none."""
        if job.source.etag:
            return job
        etag = await self.store.current_etag(job.source)
        if etag is None:
            return job  # the backend reports the missing object
        return dataclasses.replace(job, source=job.source.model_copy(update={"etag": etag}))

    async def _reject(
        self, message: dict[str, Any], error: InvalidEvent, receives: int
    ) -> Disposition:
        """An invalid message: back to the queue at once so it reaches the DLQ soon.

        On its last receive before the DLQ its failure record is written; when the
        queue has no DLQ that is the first receive, and the message is then dropped.
        """
        limit = await self._redrive_limit()
        if limit is not None and receives < limit:
            return Disposition.retry(0)
        with anyio.CancelScope(shield=True):
            await self._write_failure_record(message, error, receives)
        return Disposition.retry(0) if limit is not None else Disposition.done()

    async def _redrive_limit(self) -> int | None:
        """The queue's maxReceiveCount, read once; ``None``: no DLQ, 0: unknown for now."""
        if self._max_receive_count == _UNKNOWN:
            try:
                attributes = await self.backend.clients.sqs.get_queue_attributes(
                    QueueUrl=self.settings.queue_url, AttributeNames=["RedrivePolicy"]
                )
            except (ClientError, BotoCoreError, OSError) as exc:
                log.warning("redrive_policy_unavailable", error=str(exc))
                return 0
            policy = attributes.get("Attributes", {}).get("RedrivePolicy")
            self._max_receive_count = int(json.loads(policy)["maxReceiveCount"]) if policy else None
        return self._max_receive_count

    async def _write_failure_record(
        self, message: dict[str, Any], error: InvalidEvent, receives: int
    ) -> None:
        body = str(message.get("Body", ""))
        message_id = message.get("MessageId", "unknown")
        record = {
            "schema_version": SCHEMA_VERSION,
            "message_id": message_id,
            "status": "failed",
            "error": {"code": "invalid_event", "message": str(error)},
            "receive_count": receives,
            "queue_url": self.settings.queue_url,
            "body_bytes": len(body.encode()),
            "body_head": body.encode()[:FAILURE_RECORD_BODY_BYTES].decode(errors="replace"),
            "created_at": utc_now(),
        }
        key = f"{FAILURES_PREFIX}{message_id}.json"
        try:
            await self.store.s3.put_object(
                Bucket=self.settings.results_bucket,
                Key=key,
                Body=json.dumps(record).encode(),
                ContentType="application/json",
            )
        except (ClientError, BotoCoreError, OSError) as exc:
            log.warning("failure_record_not_written", key=key, error=str(exc))
            return
        log.info("failure_record_written", key=key, receive_count=receives)

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
