"""The systemd notification protocol (sd_notify), spoken directly over a datagram socket.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET`` and, with ``WatchdogSec=``,
``WATCHDOG_USEC``/``WATCHDOG_PID``. Each notification is one ``KEY=value`` line per
field in a single datagram. Outside systemd (containers, tests, a shell) the
notifier is a no-op, so the daemon calls it unconditionally. Sending never raises:
a worker must not die because its supervisor went away.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


class Notifier:
    """Send ``READY=1``, ``WATCHDOG=1``, ``STATUS=...`` and ``STOPPING=1`` to systemd."""

    def __init__(self, socket_path: str | None, watchdog_usec: int | None = None) -> None:
        self._address = _socket_address(socket_path) if socket_path else None
        self._watchdog_usec = watchdog_usec

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """Read ``NOTIFY_SOCKET`` and the watchdog variables (meant for this process only)."""
        env = os.environ if environ is None else environ
        usec: int | None = None
        pid = env.get("WATCHDOG_PID")
        if (not pid or pid == str(os.getpid())) and env.get("WATCHDOG_USEC", "").isdigit():
            usec = int(env["WATCHDOG_USEC"]) or None
        return cls(env.get("NOTIFY_SOCKET") or None, usec)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between ``WATCHDOG=1`` pings: half the timeout, as systemd recommends."""
        return self._watchdog_usec / 2_000_000 if self._watchdog_usec else None

    def ready(self, status: str | None = None) -> bool:
        """The daemon is serving: call once, after the first successful poll."""
        return self.send(READY="1", STATUS=status)

    def watchdog(self) -> bool:
        """The main loop is alive: call on every loop iteration (cheap; one datagram)."""
        return self.send(WATCHDOG="1")

    def status(self, text: str) -> bool:
        """Free-form status shown by ``systemctl status``, e.g. job counts."""
        return self.send(STATUS=text)

    def stopping(self, status: str | None = None) -> bool:
        """The daemon started draining: call when shutdown begins."""
        return self.send(STOPPING="1", STATUS=status)

    def send(self, **fields: str | None) -> bool:
        """Send one notification; ``None`` fields are left out. True if it was delivered."""
        if self._address is None:
            return False
        lines = [f"{key}={value}" for key, value in fields.items() if value is not None]
        payload = "\n".join(line.replace("\n", " ") for line in lines).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                sock.sendto(payload, self._address)
        except OSError:
            return False
        return True


def _socket_address(path: str) -> str | bytes:
    """``@name`` is Linux's abstract namespace: a leading NUL byte instead of a file."""
    if path.startswith("@"):
        return b"\0" + path[1:].encode()
    return path
