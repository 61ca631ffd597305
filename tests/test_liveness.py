"""The running daemon tells systemd and the health check that it is alive, and when it stops."""

import os
import signal
import socket
import subprocess
import sys

import anyio

from tests.conftest import worker_settings, worker_subprocess


def _health(health_file):
    env = dict(os.environ, LOCDETECT_HEALTH_FILE=str(health_file))
    return subprocess.run(
        [sys.executable, "-m", "locdetect_worker.cli", "health"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_daemon_speaks_sd_notify_and_keeps_the_health_file(stack, tmp_path):
    notify_path = str(tmp_path / "notify.sock")
    health_file = tmp_path / "health.json"
    assert _health(health_file).returncode == 1  # nothing running yet
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(notify_path)
        sock.settimeout(30)
        settings = worker_settings(stack, health_file=str(health_file))
        process = worker_subprocess(settings, env_extra={"NOTIFY_SOCKET": notify_path})
        try:
            messages = []
            while not any("READY=1" in m for m in messages):
                messages.append((await anyio.to_thread.run_sync(sock.recv, 4096)).decode())
            assert "in flight" in messages[-1] and "succeeded" in messages[-1]
            while not any("WATCHDOG=1" in m for m in messages[1:]):
                messages.append((await anyio.to_thread.run_sync(sock.recv, 4096)).decode())
            assert _health(health_file).returncode == 0
            process.send_signal(signal.SIGTERM)
            while not any("STOPPING=1" in m for m in messages):
                messages.append((await anyio.to_thread.run_sync(sock.recv, 4096)).decode())
            output, _ = await anyio.to_thread.run_sync(process.communicate, None)
            assert process.returncode == 0, output.decode()
        finally:
            if process.poll() is None:
                process.kill()
    assert not health_file.exists()  # a stopped worker is not healthy
    assert _health(health_file).returncode == 1
