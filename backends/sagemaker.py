"""The SageMaker backend: hand each job to an async inference endpoint, finish it on its outcome.

``process`` calls ``InvokeEndpointAsync`` with the blueprint's S3 URI and a
stable InferenceId, then writes the pending marker; the consumer deletes the
event message after that, so a crash before the marker leaves the event to be
redelivered. ``serve`` runs two loops until cancelled: the outcome listener
(notifications from the endpoint's SNS topics, through the outcomes queue) and
the sweeper (markers past their deadline: resolve from the output or failure
object, re-invoke a bounded number of times, or fail with ``endpoint_timeout``).
Every path writes the result with :class:`~locdetect_worker.storage.ResultStore`
(unless a newer object version or another worker superseded it) and only then
removes the marker, so a crash anywhere is repaired by a retry. A message or a
marker that cannot be finished is logged and left alone: it never stops the loops.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import structlog
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from pydantic import ValidationError
from structlog.contextvars import bound_contextvars

from backends import Backend, Completed
from backends.sagemaker_records import (
    Marker,
    Outcome,
    inference_id_for,
    parse_outcome,
    split_s3_uri,
)
from backends.sagemaker_results import OutcomeResults, S3Objects, error_code
from locdetect_worker.aws import check_queue
from locdetect_worker.decode import DecodeLimits, content_type_for
from locdetect_worker.jobs import Job, job_id_for_key
from locdetect_worker.results import S3Source

if TYPE_CHECKING:
    from anyio.abc import ObjectReceiveStream

    from locdetect_worker.aws import AwsClients
    from locdetect_worker.config import Settings
    from locdetect_worker.storage import ResultStore

log = structlog.get_logger("locdetect.sagemaker")

DEADLINE_MARGIN = 300.0
_RETRYABLE_CODES = {
    "ThrottlingException",
    "Throttling",
    "ServiceUnavailable",
    "InternalFailure",
    "RequestTimeout",
}


class SageMakerBackend(Backend):
    name: ClassVar[str] = "sagemaker"

    # Hand-off retries on throttling and 5xx, on top of botocore's own.
    submit_attempts: ClassVar[int] = 6
    backoff_base: ClassVar[float] = 0.5
    backoff_cap: ClassVar[float] = 20.0
    # Overdue markers resolved at once by one sweep.
    sweep_workers: ClassVar[int] = 8

    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        store: ResultStore,
        *,
        deadline: float | None = None,
    ) -> None:
        """``deadline``: seconds from an invocation until the sweeper acts on it.

        By default the request TTL plus the invocation timeout plus a margin: a
        request may legitimately wait that long while the endpoint scales up from zero.
        """
        super().__init__(settings, clients, store)
        if clients.sagemaker_runtime is None:
            raise ValueError("the sagemaker backend needs a sagemaker-runtime client")
        self.runtime = clients.sagemaker_runtime
        if deadline is None:
            deadline = settings.sagemaker_request_ttl + settings.sagemaker_invocation_timeout
            deadline += DEADLINE_MARGIN
        self.deadline = deadline
        self.objects = S3Objects(clients.s3)
        limits = DecodeLimits(
            max_pixels=settings.max_image_pixels, max_pdf_pages=settings.max_pdf_pages
        )
        self.results = OutcomeResults(self.objects, limits, settings.detect_timeout)
        self._closing = anyio.Event()
        self._resolving: dict[str, anyio.Lock] = {}

    async def __aenter__(self) -> SageMakerBackend:
        """Fail start-up with a clear message when the outcomes queue cannot be reached."""
        await check_queue(
            self.clients.sqs, self.settings.outcomes_queue_url, "LOCDETECT_OUTCOMES_QUEUE_URL"
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()

    # -- hand-off -----------------------------------------------------------------------

    async def process(self, job: Job) -> Completed | None:
        content_type = content_type_for(job.source.key)
        inference_id = inference_id_for(job.source)
        existing = await self._read_marker(self._marker_key(inference_id))
        attempt = 1
        if existing is not None and not job.force:
            # A redelivered event for a job in hand: another attempt only once it is
            # overdue, and within the bound the sweeper keeps (which fails it after that).
            attempt = existing.attempt + 1
            if existing.deadline > _now() or attempt > self.settings.sagemaker_max_attempts:
                log.info(
                    "sagemaker_already_pending",
                    job_id=job.job_id,
                    inference_id=inference_id,
                    attempt=existing.attempt,
                )
                return None
        await self._submit(
            job.job_id, job.source, inference_id, content_type, attempt=attempt, force=job.force
        )
        return None

    async def _submit(
        self,
        job_id: str,
        source: S3Source,
        inference_id: str,
        content_type: str,
        attempt: int,
        force: bool,
    ) -> Marker:
        input_location = f"s3://{source.bucket}/{source.key}"
        response = await self._invoke(
            EndpointName=self.settings.sagemaker_endpoint,
            InputLocation=input_location,
            InferenceId=inference_id,
            ContentType=content_type,
            Accept="application/json",
            RequestTTLSeconds=self.settings.sagemaker_request_ttl,
            InvocationTimeoutSeconds=self.settings.sagemaker_invocation_timeout,
        )
        now = _now()
        marker = Marker(
            inference_id=inference_id,
            job_id=job_id,
            source=source,
            content_type=content_type,
            attempt=attempt,
            submitted_at=now,
            deadline=now + timedelta(seconds=self.deadline),
            input_location=input_location,
            output_location=response["OutputLocation"],
            failure_location=response.get("FailureLocation"),
            force=force,
        )
        await self.clients.s3.put_object(
            Bucket=self.settings.results_bucket,
            Key=self._marker_key(inference_id),
            Body=marker.model_dump_json().encode(),
            ContentType="application/json",
        )
        log.info("sagemaker_submitted", job_id=job_id, inference_id=inference_id, attempt=attempt)
        return marker

    async def _invoke(self, **params: Any) -> dict[str, Any]:
        """InvokeEndpointAsync, backing off on throttling and 5xx; other errors propagate."""
        for attempt in range(1, self.submit_attempts + 1):
            try:
                return await self.runtime.invoke_endpoint_async(**params)
            except (ClientError, ConnectionError, HTTPClientError) as exc:
                if attempt == self.submit_attempts or not _retryable(exc):
                    raise
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.0)
                log.warning(
                    "sagemaker_invoke_retry",
                    attempt=attempt,
                    delay=round(delay, 2),
                    error=str(exc),
                    inference_id=params["InferenceId"],
                )
                await anyio.sleep(delay)
        raise AssertionError("unreachable")

    # -- background work ------------------------------------------------------------------

    async def serve(self) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._listen)
            group.start_soon(self._sweep_periodically)

    async def _listen(self) -> None:
        """Receive outcome notifications; each message is handled on its own."""
        queue_url = self.settings.outcomes_queue_url
        failures = 0
        while True:
            try:
                response = await self.clients.sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=self.settings.wait_time_seconds,
                )
            except (ClientError, BotoCoreError, OSError) as exc:
                failures += 1
                delay = min(self.backoff_cap, self.backoff_base * 2 ** min(failures - 1, 16))
                log.warning(
                    "outcomes_receive_failed",
                    error=f"{type(exc).__name__}: {exc}",
                    failures=failures,
                    delay=delay,
                )
                with anyio.move_on_after(delay):
                    await self._closing.wait()
                continue
            failures = 0
            async with anyio.create_task_group() as group:
                for message in response.get("Messages", []):
                    group.start_soon(self._handle_message, message)

    async def _handle_message(self, message: dict[str, Any]) -> None:
        """Finish one notification and delete it. Never raises (cancellation aside).

        An invalid notification is never ours to finish: it is dropped, loudly. One
        that fails otherwise stays in the queue, comes back after its visibility
        timeout and ends in the queue's DLQ if it keeps failing.
        """
        with bound_contextvars(message_id=message.get("MessageId")):
            try:
                outcome = parse_outcome(message["Body"])
                context = self._outcome_context(outcome) if outcome is not None else {}
            except ValueError as exc:
                log.error("outcome_invalid", error=str(exc)[:500])
                outcome, context = None, {}
            except Exception:
                log.exception("outcome_failed")
                return
            with bound_contextvars(**context):
                if outcome is not None:
                    try:
                        await self.apply_outcome(outcome)
                    except Exception:
                        log.exception("outcome_failed")
                        return
                try:
                    await self.clients.sqs.delete_message(
                        QueueUrl=self.settings.outcomes_queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                    )
                except Exception as exc:  # finished anyway: a redelivery is a duplicate
                    log.warning("outcome_delete_failed", error=f"{type(exc).__name__}: {exc}")

    def _outcome_context(self, outcome: Outcome) -> dict[str, str]:
        """The job a notification is about, for the log lines of its handling."""
        bucket, key = split_s3_uri(outcome.requestParameters.inputLocation)
        return {
            "job_id": job_id_for_key(key, self.settings.input_prefix),
            "bucket": bucket,
            "key": key,
            "inference_id": outcome.inferenceId,
        }

    async def apply_outcome(self, outcome: Outcome) -> None:
        """Write the job's result from one notification. Idempotent and order-tolerant."""
        async with self._exclusive(outcome.inferenceId):
            await self._apply_outcome(outcome)

    async def _apply_outcome(self, outcome: Outcome) -> None:
        marker = await self._read_marker(self._marker_key(outcome.inferenceId))
        if marker is not None:
            job_id, source = marker.job_id, marker.source
        else:
            found = await self._unmarked_job(outcome)
            if found is None:
                return
            job_id, source = found
        if outcome.responseParameters is not None and outcome.invocationStatus == "Completed":
            output_location = outcome.responseParameters.outputLocation
            submitted_at = marker.submitted_at if marker else None
            completed = await self.results.succeeded(job_id, source, output_location, submitted_at)
        else:
            failure_location = marker.failure_location if marker else None
            completed = await self.results.endpoint_failed(
                job_id, source, outcome.failureReason, failure_location
            )
        await self._finish(completed, marker)

    async def _finish(self, completed: Completed, marker: Marker | None) -> None:
        """Write the result unless it is superseded, then remove the marker.

        A job with a marker is checked here (a late outcome of an older object
        version, or a result another worker wrote meanwhile, must not overwrite the
        stored one); one without was checked by :meth:`_unmarked_job`.
        """
        document = completed.document
        with anyio.CancelScope(shield=True):  # a half-written result helps nobody
            reason = None
            if marker is not None and not marker.force:
                reason = await self.store.superseded(marker.job_id, marker.source)
            if reason:
                log.info("job_result_discarded", job_id=document.job_id, reason=reason)
            else:
                await self.store.write(document, completed.overlay_png)
                log.info(
                    "sagemaker_result",
                    job_id=document.job_id,
                    status=document.status,
                    rooms=len(document.rooms),
                    code=document.error.code if document.error else None,
                )
                if self.metrics is not None:
                    self.metrics.job_finished(document, event_time=None)
        if marker is not None:
            await self._delete_marker(marker.inference_id)

    async def _unmarked_job(self, outcome: Outcome) -> tuple[str, S3Source] | None:
        """The job of a notification without a marker, unless it is a duplicate or stale.

        No marker means the job was resolved already (a duplicate, or a late
        outcome after a re-invocation) or the notification beat the marker's
        write. The input object and the stored result tell which.
        """
        bucket, key = split_s3_uri(outcome.requestParameters.inputLocation)
        source = await self.objects.source(bucket, key)
        if source is None or inference_id_for(source) != outcome.inferenceId:
            log.info("outcome_stale", inference_id=outcome.inferenceId)
            return None
        job_id = job_id_for_key(key, self.settings.input_prefix)
        existing = await self.store.read(job_id)
        if (
            existing is not None
            and isinstance(existing.source, S3Source)
            and inference_id_for(existing.source) == outcome.inferenceId
            and not (existing.status == "failed" and outcome.invocationStatus == "Completed")
        ):
            log.info("outcome_duplicate", job_id=job_id, inference_id=outcome.inferenceId)
            return None
        return job_id, source

    # -- the sweeper ------------------------------------------------------------------------

    async def _sweep_periodically(self) -> None:
        while not self._closing.is_set():
            try:
                await self.sweep()
            except Exception:  # S3 trouble: try again next round
                log.exception("sweep_failed")
            with anyio.move_on_after(self.settings.sagemaker_sweep_interval):
                await self._closing.wait()

    async def sweep(self) -> None:
        """Act on every marker past its deadline, ``sweep_workers`` markers at a time.

        A marker written less than ``deadline`` ago is not read at all, so a large
        backlog waiting for an endpoint to scale up costs one listing per sweep; the
        overdue ones are fed to a fixed pool of tasks, however many there are.
        """
        now = _now()
        fresh_after = now - timedelta(seconds=self.deadline)
        send, receive = anyio.create_memory_object_stream[str]()
        paginator = self.clients.s3.get_paginator("list_objects_v2")
        async with anyio.create_task_group() as group:
            async with receive:
                for _ in range(self.sweep_workers):
                    group.start_soon(self._sweep_markers, receive.clone(), now)
            async with send:
                async for page in paginator.paginate(
                    Bucket=self.settings.results_bucket, Prefix=self.settings.pending_prefix
                ):
                    for item in page.get("Contents", []):
                        if item["LastModified"] <= fresh_after:
                            await send.send(item["Key"])

    async def _sweep_markers(self, keys: ObjectReceiveStream[str], now: datetime) -> None:
        async with keys:
            async for key in keys:
                await self._sweep_marker(key, now)

    async def _sweep_marker(self, key: str, now: datetime) -> None:
        """Resolve one overdue marker; a failure is logged and left for the next sweep."""
        try:
            marker = await self._read_marker(key)
        except Exception:
            log.exception("sweep_marker_failed", marker=key)
            return
        if marker is None or marker.deadline > now:
            return
        context = {
            "job_id": marker.job_id,
            "bucket": marker.source.bucket,
            "key": marker.source.key,
            "inference_id": marker.inference_id,
        }
        with bound_contextvars(**context):
            try:
                async with self._exclusive(marker.inference_id):
                    current = await self._read_marker(key)  # resolved or renewed meanwhile?
                    if current is not None and current.deadline <= now:
                        await self._sweep_overdue(current)
            except Exception:  # one bad marker must not stop the sweep
                log.exception("sweep_marker_failed")

    async def _sweep_overdue(self, marker: Marker) -> None:
        log.warning("sagemaker_overdue", attempt=marker.attempt)
        if await self.objects.exists(marker.output_location):
            completed = await self.results.succeeded(
                marker.job_id, marker.source, marker.output_location, marker.submitted_at
            )
        elif marker.failure_location and await self.objects.exists(marker.failure_location):
            completed = await self.results.endpoint_failed(
                marker.job_id, marker.source, None, marker.failure_location
            )
        elif marker.attempt < self.settings.sagemaker_max_attempts:
            await self._submit(
                marker.job_id,
                marker.source,
                marker.inference_id,
                marker.content_type,
                attempt=marker.attempt + 1,
                force=marker.force,
            )
            return
        else:
            message = (
                f"no outcome from endpoint {self.settings.sagemaker_endpoint!r} after "
                f"{marker.attempt} attempt(s) of {self.deadline:g} s each"
            )
            completed = self.results.failed(
                marker.job_id, marker.source, message, "endpoint_timeout"
            )
        await self._finish(completed, marker)

    @asynccontextmanager
    async def _exclusive(self, inference_id: str) -> AsyncIterator[None]:
        """One resolution per inference id at a time in this worker (duplicates arrive together)."""
        lock = self._resolving.setdefault(inference_id, anyio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and not lock.statistics().tasks_waiting:
                self._resolving.pop(inference_id, None)

    # -- markers ---------------------------------------------------------------------------

    def _marker_key(self, inference_id: str) -> str:
        return f"{self.settings.pending_prefix}{inference_id}.json"

    async def _read_marker(self, key: str) -> Marker | None:
        body = await self.objects.get_optional(f"s3://{self.settings.results_bucket}/{key}")
        if body is None:
            return None
        try:
            return Marker.model_validate_json(body)
        except ValidationError as exc:
            log.error("marker_invalid", key=key, error=str(exc))
            return None

    async def _delete_marker(self, inference_id: str) -> None:
        await self.clients.s3.delete_object(
            Bucket=self.settings.results_bucket, Key=self._marker_key(inference_id)
        )


def _retryable(exc: Exception) -> bool:
    if not isinstance(exc, ClientError):
        return True
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(exc) in _RETRYABLE_CODES or status >= 500


def _now() -> datetime:
    return datetime.now(UTC)
