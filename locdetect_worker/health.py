"""Liveness through a heartbeat file: the daemon writes it, ``locdetect-worker health`` reads it.

A container health check (or an operator) runs in a separate process, so the
daemon leaves evidence of progress on disk: a small JSON file rewritten
atomically each time its loop completes a poll or a job. The check passes only
when that evidence is younger than ``settings.health_max_age``, so a wedged
loop, a stuck event loop or a dead daemon all fail it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locdetect_worker.config import Settings


class Heartbeat:
    """Writes the heartbeat file; at most once per ``min_interval`` seconds."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.min_interval = min_interval
        self._clock = clock
        self._last: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Heartbeat:
        return cls(settings.health_file)

    def beat(self, **status: Any) -> bool:
        """Record progress now, with optional JSON-able status fields (e.g. job counts).

        Returns False when skipped because the previous beat was too recent.
        Raises ``OSError`` when the file cannot be written: a health check that can
        never pass is a deployment error worth failing loudly on.
        """
        now = self._clock()
        if self._last is not None and now - self._last < self.min_interval:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"at": now, "pid": os.getpid(), **status}))
        os.replace(tmp, self.path)
        self._last = now
        return True

    def clear(self) -> None:
        """Remove the file on a clean shutdown, so a stopped worker is not reported healthy."""
        self.path.unlink(missing_ok=True)
        self._last = None


def check(settings: Settings, now: float | None = None) -> tuple[bool, str]:
    """Is the daemon's loop making progress? ``(ok, one-line message)`` for the CLI."""
    path = Path(settings.health_file)
    limit = settings.health_max_age
    try:
        beat = json.loads(path.read_text())
        at = float(beat["at"])
    except FileNotFoundError:
        return False, f"unhealthy: no heartbeat at {path} (worker not running or not polled yet)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"unhealthy: unreadable heartbeat at {path}: {exc}"
    age = max(0.0, (time.time() if now is None else now) - at)
    if age > limit:
        return False, f"unhealthy: last heartbeat {age:.0f}s ago (limit {limit:g}s) at {path}"
    extra = "".join(f", {k}={v}" for k, v in beat.items() if k not in ("at", "pid"))
    return True, f"ok: last heartbeat {age:.1f}s ago, pid {beat.get('pid')}{extra}"
