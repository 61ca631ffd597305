"""The worker's lifecycle, top to bottom: open clients, check the queue, poll, drain, close.

``run_worker`` owns everything through one ``AsyncExitStack``; a task group
runs the consumer, the backend's background work and the signal watcher. The
first SIGTERM/SIGINT drains (in-flight jobs get ``shutdown_grace`` seconds, the
rest go back to the queue at once); a second one stops immediately.
"""

from __future__ import annotations

import signal
from contextlib import AsyncExitStack

import anyio
import structlog

from backends import create_backend
from locdetect_worker.aws import check_queue, open_clients
from locdetect_worker.config import Settings
from locdetect_worker.consumer import Consumer
from locdetect_worker.handler import MessageHandler
from locdetect_worker.liveness import Liveness
from locdetect_worker.metrics import JobMetrics
from locdetect_worker.storage import ResultStore

log = structlog.get_logger("locdetect.worker")


async def run_worker(
    settings: Settings,
    *,
    ready: anyio.Event | None = None,
    stop: anyio.Event | None = None,
    handle_signals: bool = True,
    metrics: bool = True,
) -> None:
    """Run the daemon until a signal or ``stop`` drains it.

    ``ready`` is set once the queue is reachable and polling starts (local mode
    and tests wait on it); ``handle_signals`` is off when an embedding program
    owns the signals; ``metrics`` prints CloudWatch EMF records on stdout.
    """
    settings.require_daemon_settings()
    async with AsyncExitStack() as stack:
        clients = await open_clients(settings, stack)
        await check_queue(clients.sqs, settings.queue_url, "LOCDETECT_QUEUE_URL")
        store = ResultStore(clients.s3, settings.results_bucket, settings.results_prefix)
        backend = await stack.enter_async_context(create_backend(settings, clients, store))
        backend.metrics = JobMetrics.from_settings(settings) if metrics else None
        handler = MessageHandler(settings, backend, store, backend.metrics)
        liveness = Liveness(settings, lambda: _counts(handler))
        stack.callback(liveness.stopped)
        consumer = Consumer(
            clients.sqs,
            settings.queue_url,
            handler,
            concurrency=settings.effective_concurrency,
            visibility_timeout=settings.visibility_timeout,
            heartbeat_interval=settings.heartbeat_interval,
            wait_time_seconds=settings.wait_time_seconds,
            shutdown_grace=settings.shutdown_grace,
            on_progress=liveness.progressed,
            on_drain=liveness.draining,
        )
        log.info(
            "worker_started",
            backend=backend.name,
            queue_url=settings.queue_url,
            results_bucket=settings.results_bucket,
            concurrency=settings.effective_concurrency,
        )
        async with anyio.create_task_group() as tasks:
            if handle_signals:
                tasks.start_soon(_watch_signals, consumer)
            if stop is not None:
                tasks.start_soon(_stop_when_set, stop, consumer)
            tasks.start_soon(backend.serve)
            if ready is not None:
                ready.set()
            await consumer.run()
            tasks.cancel_scope.cancel()
        log.info("worker_stopped", **_counts(handler))


async def _watch_signals(consumer: Consumer) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            if consumer.stopping:
                log.warning("second_signal_stopping_now", signal=signal.Signals(signum).name)
                consumer.abort()
            else:
                log.info("signal_received", signal=signal.Signals(signum).name)
                consumer.stop()


async def _stop_when_set(stop: anyio.Event, consumer: Consumer) -> None:
    await stop.wait()
    consumer.stop()


def _counts(handler: MessageHandler) -> dict[str, int]:
    return {
        "succeeded": handler.succeeded,
        "failed": handler.failed,
        "skipped": handler.skipped,
        "handed_off": handler.handed_off,
    }
