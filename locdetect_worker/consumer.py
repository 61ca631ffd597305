"""The SQS consumer: long polling, a bound on messages in flight, leases, graceful drain.

It knows nothing about blueprints: each message goes to a handler that says what
to do with it (:class:`Disposition`). The consumer keeps the message invisible
while the handler runs (one lease renewer for all messages), deletes it or
schedules its retry afterwards, and on :meth:`Consumer.stop` stops receiving,
gives in-flight messages ``shutdown_grace`` seconds to finish, and makes the
rest visible again at once.

SQS bills and throttles per request, so requests are shared where it costs
nothing: messages are received in batches once half the slots are free (while
the other half keeps the detectors busy), and deletes that fall due within
``DELETE_BATCH_WINDOW`` go out as one ``DeleteMessageBatch``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog
from botocore.exceptions import BotoCoreError, ClientError

log = structlog.get_logger("locdetect.consumer")

SQS_MAX_BATCH = 10
RECEIVE_BACKOFF_MAX = 30.0
SETTLE_TIMEOUT = 15.0  # a delete or visibility change that hangs longer is given up
DELETE_BATCH_WINDOW = 0.5  # s a finished message may wait to share a delete request


@dataclass(frozen=True)
class Disposition:
    """What to do with a handled message: delete it, or make it visible again after a delay."""

    delete: bool
    retry_after: int = 0

    @classmethod
    def done(cls) -> Disposition:
        return cls(delete=True)

    @classmethod
    def retry(cls, after: int) -> Disposition:
        return cls(delete=False, retry_after=max(0, after))


Handler = Callable[[dict[str, Any]], Awaitable[Disposition]]


@dataclass
class ConsumerStats:
    received: int = 0
    deleted: int = 0
    delete_requests: int = 0
    retried: int = 0
    released: int = 0
    in_flight: int = 0
    polls: int = 0
    last_poll_ok: bool = False


@dataclass
class _Lease:
    message_id: str
    receipt_handle: str
    renewed_at: float = field(default_factory=anyio.current_time)
    settled: bool = False  # deleted or handed back: never renew again


async def wait_for(event: anyio.Event, seconds: float) -> bool:
    """Wait for ``event`` at most ``seconds``; True if it was set."""
    with anyio.move_on_after(seconds):
        await event.wait()
    return event.is_set()


class Consumer:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        *,
        concurrency: int,
        visibility_timeout: int,
        heartbeat_interval: float,
        wait_time_seconds: int = 20,
        shutdown_grace: float = 25.0,
        on_progress: Callable[[ConsumerStats], None] | None = None,
        on_drain: Callable[[int], None] | None = None,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.concurrency = concurrency
        self.visibility_timeout = visibility_timeout
        self.heartbeat_interval = heartbeat_interval
        self.wait_time_seconds = wait_time_seconds
        self.shutdown_grace = shutdown_grace
        self.on_progress = on_progress
        self.on_drain = on_drain
        self.stats = ConsumerStats()
        self._leases: dict[str, _Lease] = {}
        self._stopping = anyio.Event()
        self._slot_freed = anyio.Event()
        self._jobs_scope: anyio.CancelScope | None = None
        # Held while a renewal batch is on the wire, so no renewal can land after a settle.
        self._renewal_lock = anyio.Lock()
        self._refill_at = max(1, concurrency // 2)
        self._deletions: list[tuple[_Lease, anyio.Event]] = []
        self._deletions_due = anyio.Event()
        self._deletions_full = anyio.Event()

    def stop(self) -> None:
        """Stop receiving and drain: in-flight messages get ``shutdown_grace`` seconds."""
        if not self._stopping.is_set():
            log.info("draining", in_flight=len(self._leases), grace_s=self.shutdown_grace)
            if self.on_drain:
                self.on_drain(len(self._leases))
        self._stopping.set()
        self._slot_freed.set()
        self._deletions_full.set()  # no batching window while draining
        if self._jobs_scope is not None:
            self._jobs_scope.deadline = min(
                self._jobs_scope.deadline, anyio.current_time() + self.shutdown_grace
            )

    def abort(self) -> None:
        """Stop now: unfinished messages are made visible again immediately."""
        self.stop()
        if self._jobs_scope is not None:
            self._jobs_scope.cancel()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> None:
        """Poll until :meth:`stop`, then return once every message is settled."""
        async with anyio.create_task_group() as services:
            services.start_soon(self._renew_leases)
            services.start_soon(self._delete_batches)
            async with anyio.create_task_group() as jobs:
                self._jobs_scope = jobs.cancel_scope
                if self._stopping.is_set():
                    jobs.cancel_scope.deadline = anyio.current_time() + self.shutdown_grace
                await self._poll(jobs)
            services.cancel_scope.cancel()
        log.info("drained", **self._stats_fields())

    async def _poll(self, jobs: anyio.abc.TaskGroup) -> None:
        failures = 0
        while not self._stopping.is_set():
            free = self.concurrency - len(self._leases)
            if free <= 0 or (self._leases and free < self._refill_at):
                self._slot_freed = anyio.Event()
                await self._slot_freed.wait()
                continue
            try:
                # Shielded: a receive cancelled mid-flight would strand whatever SQS had
                # already handed to it, invisible until its visibility timeout.
                with anyio.CancelScope(shield=True):
                    messages = await self._receive(min(SQS_MAX_BATCH, free))
            except (ClientError, BotoCoreError, OSError) as exc:
                failures += 1
                delay = min(RECEIVE_BACKOFF_MAX, 2.0 ** min(failures, 6) / 2)
                self.stats.last_poll_ok = False
                log.warning("receive_failed", error=str(exc), retry_in_s=delay, failures=failures)
                self._report_progress()
                await wait_for(self._stopping, delay)
                continue
            if failures:
                log.info("receive_recovered", after_failures=failures)
            failures = 0
            self.stats.polls += 1
            self.stats.last_poll_ok = True
            self.stats.received += len(messages)
            for message in messages:
                lease = _Lease(message["MessageId"], message["ReceiptHandle"])
                self._leases[lease.message_id] = lease
                self.stats.in_flight = len(self._leases)
                if self._stopping.is_set():
                    with anyio.move_on_after(SETTLE_TIMEOUT, shield=True):
                        await self._release(lease)
                else:
                    jobs.start_soon(self._run_message, message, lease)
            self._report_progress()

    async def _receive(self, count: int) -> list[dict[str, Any]]:
        response = await self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=self.wait_time_seconds,
            VisibilityTimeout=self.visibility_timeout,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    async def _run_message(self, message: dict[str, Any], lease: _Lease) -> None:
        try:
            disposition = await self.handler(message)
        except anyio.get_cancelled_exc_class():
            with anyio.move_on_after(SETTLE_TIMEOUT, shield=True):
                await self._release(lease)
            raise
        except Exception:
            log.exception("handler_crashed", message_id=lease.message_id)
            disposition = Disposition.retry(self.visibility_timeout)
        with anyio.move_on_after(SETTLE_TIMEOUT, shield=True):
            await self._settle(lease, disposition)

    async def _settle(self, lease: _Lease, disposition: Disposition) -> None:
        await self._stop_renewing(lease)
        try:
            if disposition.delete:
                await self._delete(lease)
            else:
                await self._change_visibility(lease, disposition.retry_after)
                self.stats.retried += 1
        except (ClientError, BotoCoreError, OSError) as exc:
            # The outcome is already durable (or the message will simply come back): log only.
            log.warning("settle_failed", message_id=lease.message_id, error=str(exc))

    async def _delete(self, lease: _Lease) -> None:
        """Delete the message in the next batch; returns once that batch was sent."""
        sent = anyio.Event()
        self._deletions.append((lease, sent))
        self._deletions_due.set()
        if len(self._deletions) >= SQS_MAX_BATCH:
            self._deletions_full.set()
        await sent.wait()

    async def _delete_batches(self) -> None:
        """Send due deletes, up to ten per request, after at most ``DELETE_BATCH_WINDOW``."""
        while True:
            await self._deletions_due.wait()
            await wait_for(self._deletions_full, DELETE_BATCH_WINDOW)
            batch = self._deletions[:SQS_MAX_BATCH]
            del self._deletions[:SQS_MAX_BATCH]
            if len(self._deletions) < SQS_MAX_BATCH and not self._stopping.is_set():
                self._deletions_full = anyio.Event()
            if not self._deletions:
                self._deletions_due = anyio.Event()
            with anyio.CancelScope(shield=True):
                await self._send_deletes([lease for lease, _ in batch])
            for _, sent in batch:
                sent.set()

    async def _send_deletes(self, leases: list[_Lease]) -> None:
        entries = [
            {"Id": str(index), "ReceiptHandle": lease.receipt_handle}
            for index, lease in enumerate(leases)
        ]
        self.stats.delete_requests += 1
        try:
            with anyio.fail_after(SETTLE_TIMEOUT):
                response = await self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url, Entries=entries
                )
        except (ClientError, BotoCoreError, OSError, TimeoutError) as exc:
            # The outcomes are already durable; the messages come back and are skipped.
            log.warning("delete_failed", count=len(leases), error=str(exc))
            return
        self.stats.deleted += len(_accepted(leases, response, "delete_refused"))

    async def _release(self, lease: _Lease) -> None:
        """Make an unfinished message visible again now, so another worker can take it."""
        await self._stop_renewing(lease)
        try:
            await self._change_visibility(lease, 0)
            self.stats.released += 1
            log.info("message_released", message_id=lease.message_id)
        except (ClientError, BotoCoreError, OSError) as exc:
            log.warning("release_failed", message_id=lease.message_id, error=str(exc))

    async def _change_visibility(self, lease: _Lease, seconds: int) -> None:
        await self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=lease.receipt_handle, VisibilityTimeout=seconds
        )

    async def _stop_renewing(self, lease: _Lease) -> None:
        """Take the lease out of renewal and wait out any renewal batch already on the wire."""
        lease.settled = True
        self._forget(lease)
        async with self._renewal_lock:
            pass

    def _forget(self, lease: _Lease) -> None:
        self._leases.pop(lease.message_id, None)
        self.stats.in_flight = len(self._leases)
        self._slot_freed.set()
        self._report_progress()

    def _report_progress(self) -> None:
        if self.on_progress:
            self.on_progress(self.stats)

    async def _renew_leases(self) -> None:
        """Every heartbeat interval, push the visibility of every message in flight forward."""
        never = anyio.Event()
        while True:
            await wait_for(never, self.heartbeat_interval)
            due = [
                lease
                for lease in list(self._leases.values())
                if anyio.current_time() - lease.renewed_at >= self.heartbeat_interval * 0.9
            ]
            for start in range(0, len(due), SQS_MAX_BATCH):
                async with self._renewal_lock:
                    await self._renew_batch(due[start : start + SQS_MAX_BATCH])
            if due:
                self._report_progress()  # a busy worker is alive even when it does not poll

    async def _renew_batch(self, leases: list[_Lease]) -> None:
        leases = [lease for lease in leases if not lease.settled]
        if not leases:
            return
        entries = [
            {
                "Id": str(index),
                "ReceiptHandle": lease.receipt_handle,
                "VisibilityTimeout": self.visibility_timeout,
            }
            for index, lease in enumerate(leases)
        ]
        try:
            response = await self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url, Entries=entries
            )
        except (ClientError, BotoCoreError, OSError) as exc:
            log.warning("lease_renewal_failed", count=len(leases), error=str(exc))
            return
        now = anyio.current_time()
        for lease in _accepted(leases, response, "lease_renewal_refused"):
            lease.renewed_at = now

    def _stats_fields(self) -> dict[str, int]:
        return {
            "received": self.stats.received,
            "deleted": self.stats.deleted,
            "retried": self.stats.retried,
            "released": self.stats.released,
        }


def _accepted(leases: list[_Lease], response: dict[str, Any], refused: str) -> list[_Lease]:
    """The leases a batch call (entry ids = list positions) succeeded for; the rest are
    logged as ``refused``."""
    failed = {entry["Id"]: entry for entry in response.get("Failed", [])}
    accepted = []
    for index, lease in enumerate(leases):
        entry = failed.get(str(index))
        if entry is None:
            accepted.append(lease)
        else:
            log.warning(refused, message_id=lease.message_id, error=entry.get("Message"))
    return accepted


def retry_delay(receive_count: int, ceiling: int) -> int:
    """Exponential back-off for transient failures: 5 s, 10 s, 20 s ... up to ``ceiling``."""
    return int(min(ceiling, 5 * math.pow(2, max(0, receive_count - 1))))
