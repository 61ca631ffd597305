"""The heartbeat file and the check behind ``locdetect-worker health``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from locdetect_worker.config import Settings
from locdetect_worker.health import Heartbeat, check


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _settings(path: Path, max_age: float = 120.0) -> Settings:
    return Settings(health_file=str(path), health_max_age=max_age)


def test_fresh_heartbeat_is_healthy_and_reports_status(tmp_path: Path) -> None:
    path = tmp_path / "run" / "health"
    Heartbeat(path, clock=Clock(1000.0)).beat(in_flight=2, succeeded=7)
    ok, message = check(_settings(path), now=1030.0)
    assert ok, message
    assert "30.0s ago" in message and "in_flight=2" in message and "succeeded=7" in message


def test_stale_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "health"
    Heartbeat(path, clock=Clock(1000.0)).beat()
    ok, message = check(_settings(path, max_age=60), now=1061.0)
    assert not ok
    assert "61s ago" in message and "limit 60s" in message


def test_missing_or_garbage_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "health"
    ok, message = check(_settings(path))
    assert not ok and "no heartbeat" in message
    path.write_text("{not json")
    ok, message = check(_settings(path))
    assert not ok and "unreadable" in message
    path.write_text(json.dumps({"pid": 1}))
    assert check(_settings(path))[0] is False


def test_beats_are_throttled_and_each_write_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "health"
    clock = Clock(1000.0)
    heartbeat = Heartbeat(path, min_interval=1.0, clock=clock)
    assert heartbeat.beat(n=1)
    clock.now = 1000.5
    assert not heartbeat.beat(n=2)
    assert json.loads(path.read_text())["n"] == 1
    clock.now = 1001.0
    assert heartbeat.beat(n=3)
    assert json.loads(path.read_text()) == {"at": 1001.0, "pid": os.getpid(), "n": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["health"]


def test_clear_makes_a_stopped_worker_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "health"
    heartbeat = Heartbeat(path)
    heartbeat.beat()
    assert check(_settings(path))[0]
    heartbeat.clear()
    assert not check(_settings(path))[0]
    heartbeat.beat()
    assert check(_settings(path))[0]


def test_cli_health_exit_code_follows_the_heartbeat(tmp_path: Path) -> None:
    """What the Docker HEALTHCHECK and the ECS health check run."""
    path = tmp_path / "health"
    env = {**os.environ, "LOCDETECT_HEALTH_FILE": str(path), "LOCDETECT_HEALTH_MAX_AGE": "60"}
    command = [sys.executable, "-m", "locdetect_worker.cli", "health"]
    missing = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no heartbeat" in missing.stderr
    Heartbeat(path).beat(in_flight=1)
    fresh = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0 and fresh.stdout.startswith("ok"), fresh.stderr
