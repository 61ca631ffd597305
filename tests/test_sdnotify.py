"""The sd_notify client against a real datagram socket, as systemd would listen."""

from __future__ import annotations

import os
import socket
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
