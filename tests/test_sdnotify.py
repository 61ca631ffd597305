"""The sd_notify client against a real datagram socket, as systemd would listen."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from locdetect_worker.sdnotify import Notifier


def _receive(sock: socket.socket) -> dict[str, str]:
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.split("\n"))


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket and the NOTIFY_SOCKET value that names it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        path = str(tmp_path / "notify.sock")
        sock.bind(path)
        env_value = path
    else:
        name = f"locdetect-test-{uuid.uuid4().hex}"
        sock.bind(b"\0" + name.encode())
        env_value = "@" + name
    sock.settimeout(5)
    with sock:
        yield sock, env_value


def test_lifecycle_messages_arrive_in_order(listener: tuple[socket.socket, str]) -> None:
    sock, env_value = listener
    notifier = Notifier.from_env({"NOTIFY_SOCKET": env_value})
    assert notifier.enabled

    assert notifier.ready(status="polling; 0 jobs done")
    assert _receive(sock) == {"READY": "1", "STATUS": "polling; 0 jobs done"}
    assert notifier.watchdog()
    assert _receive(sock) == {"WATCHDOG": "1"}
    assert notifier.status("3 in flight, 10 succeeded, 1 failed")
    assert _receive(sock) == {"STATUS": "3 in flight, 10 succeeded, 1 failed"}
    assert notifier.stopping(status="draining 3 jobs")
    assert _receive(sock) == {"STOPPING": "1", "STATUS": "draining 3 jobs"}


def test_a_newline_in_a_status_cannot_inject_a_field(listener: tuple[socket.socket, str]) -> None:
    sock, env_value = listener
    Notifier(env_value).status("bad\nREADY=1")
    assert _receive(sock) == {"STATUS": "bad READY=1"}


def test_without_notify_socket_it_is_a_no_op() -> None:
    notifier = Notifier.from_env({})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog_interval is None


def test_a_vanished_supervisor_does_not_raise(tmp_path: Path) -> None:
    notifier = Notifier(str(tmp_path / "gone.sock"))
    assert notifier.watchdog() is False


def test_watchdog_interval_is_half_the_timeout_for_this_process_only() -> None:
    mine = {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "90000000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier.from_env(mine).watchdog_interval == 45.0
    unpinned = {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000"}
    assert Notifier.from_env(unpinned).watchdog_interval == 15.0
    other = {**mine, "WATCHDOG_PID": str(os.getpid() + 1)}
    assert Notifier.from_env(other).watchdog_interval is None


UNIT = Path(__file__).resolve().parent.parent / "deploy" / "locdetect-worker.service"
ENV_EXAMPLE = UNIT.with_name("worker.env.example")


def _directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_unit_is_a_notify_service_with_watchdog_restart_and_sandbox() -> None:
    unit = _directives(UNIT.read_text())
    for key, value in {
        "Type": "notify",
        "NotifyAccess": "main",
        "Restart": "on-failure",
        "KillMode": "mixed",
        "KillSignal": "SIGTERM",
        "DynamicUser": "yes",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
    }.items():
        assert unit[key] == [value], key
    assert unit["EnvironmentFile"] == ["/etc/locdetect/worker.env"]
    assert "AF_UNIX" in unit["RestrictAddressFamilies"][0], "sd_notify needs AF_UNIX"
    env = dict(item.split("=", 1) for item in unit["Environment"])
    assert int(unit["TimeoutStopSec"][0]) >= float(env["LOCDETECT_SHUTDOWN_GRACE"]) + 10
    assert int(unit["WatchdogSec"][0]) >= float(env["LOCDETECT_HEALTH_MAX_AGE"])
    assert env["LOCDETECT_HEALTH_FILE"].startswith("/run/" + unit["RuntimeDirectory"][0] + "/")


def test_unit_and_env_example_set_only_real_settings() -> None:
    from locdetect_worker.config import Settings

    unit = _directives(UNIT.read_text())
    names = [item.split("=", 1)[0] for item in unit["Environment"]]
    names += [
        line.lstrip("#").split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.lstrip("#").startswith("LOCDETECT_")
    ]
    assert names
    fields = {n.removeprefix("LOCDETECT_").lower() for n in names}
    assert fields <= set(Settings.model_fields), fields - set(Settings.model_fields)


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # verify checks that ExecStart exists: point it at this environment's console script.
    script = Path(sys.executable).with_name("locdetect-worker")
    executable = script if script.exists() else Path(sys.executable)
    text = UNIT.read_text().replace("/opt/locdetect/bin/locdetect-worker", str(executable))
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    result = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
