"""Telling supervisors the worker is alive: the health file, sd_notify and a progress line.

Progress means a successful poll or a settled message; a failed poll is not
progress, so a worker that cannot reach SQS goes unhealthy after
``health_max_age`` and systemd's watchdog restarts it.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import structlog

from locdetect_worker.config import Settings
from locdetect_worker.consumer import ConsumerStats
from locdetect_worker.health import Heartbeat
from locdetect_worker.sdnotify import Notifier

log = structlog.get_logger("locdetect.worker")

PROGRESS_LOG_INTERVAL = 60.0


class Liveness:
    def __init__(self, settings: Settings, counts: Callable[[], dict[str, int]]) -> None:
        """``counts`` gives the job counters (succeeded, failed, ...) for status lines."""
        self.heartbeat = Heartbeat.from_settings(settings)
        self.notifier = Notifier.from_env()
        self.counts = counts
        self._ready = False
        self._logged_at = 0.0

    def progressed(self, stats: ConsumerStats) -> None:
        """Called by the consumer after each poll and each settled message."""
        if not stats.last_poll_ok:
            return
        counts = self.counts()
        status = f"{stats.in_flight} in flight, " + ", ".join(
            f"{count} {name}" for name, count in counts.items()
        )
        if not self._ready:
            self._ready = True
            self.notifier.ready(status)
        try:
            self.heartbeat.beat(in_flight=stats.in_flight, received=stats.received, **counts)
        except OSError as exc:  # the health check will fail; the jobs must not
            log.error("health_file_not_written", path=str(self.heartbeat.path), error=str(exc))
        self.notifier.send(WATCHDOG="1", STATUS=status)
        now = anyio.current_time()
        if now - self._logged_at >= PROGRESS_LOG_INTERVAL and stats.received:
            self._logged_at = now
            log.info("progress", in_flight=stats.in_flight, received=stats.received, **counts)

    def draining(self, in_flight: int) -> None:
        self.notifier.stopping(f"draining {in_flight} job(s) in flight")

    def stopped(self) -> None:
        """A stopped worker must not look healthy."""
        self.heartbeat.clear()
