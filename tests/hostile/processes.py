"""Real worker processes for fault tests: their JSON log, their memory, and ways to kill them."""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import anyio
import cv2
import numpy as np

from locdetect_worker.config import Settings
from tests.conftest import worker_subprocess


class WorkerProcess:
    """``locdetect-worker run`` in its own process group, its log collected as it comes."""

    def __init__(self, settings: Settings) -> None:
        self.process = worker_subprocess(settings, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def events(self) -> list[dict[str, Any]]:
        parsed = []
        for line in list(self.lines):
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return parsed

    def logged(self, event: str, **fields: Any) -> dict[str, Any] | None:
        for entry in self.events:
            if entry.get("event") == event and all(
                str(value) in str(entry.get(name)) for name, value in fields.items()
            ):
                return entry
        return None

    async def wait_for_log(self, event: str, within: float = 60, **fields: Any) -> dict[str, Any]:
        with anyio.fail_after(within):
            while (entry := self.logged(event, **fields)) is None:
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"worker exited before {event!r}:\n{self.log}")
                await anyio.sleep(0.05)
        return entry

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        """SIGKILL the worker and its detector processes, as a lost machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    async def terminate(self, within: float = 60) -> int:
        """SIGTERM the worker (not its children: the daemon stops those) and wait for its exit."""
        self.process.send_signal(signal.SIGTERM)
        with anyio.fail_after(within):
            return await anyio.to_thread.run_sync(self.process.wait)

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()
        self._reader.join(timeout=5)

    def tree_rss(self) -> int:
        """Resident memory of the worker and every descendant, in bytes."""
        return sum(_rss(pid) for pid in _tree(self.process.pid))


def _tree(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return pids


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@functools.cache
def slow_plan(side: int = 6000) -> bytes:
    """A big noisy grid plan that keeps a detector busy for several seconds."""
    image = np.full((side, side, 3), 255, np.uint8)
    for offset in range(300, side - 300, 900):
        cv2.line(image, (offset, 300), (offset, side - 300), (0, 0, 0), 30)
        cv2.line(image, (300, offset), (side - 300, offset), (0, 0, 0), 30)
    image[::7, ::11] = 0
    return cv2.imencode(".png", image)[1].tobytes()
