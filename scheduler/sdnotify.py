"""systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram per message."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

__all__ = ["notify", "ready", "status", "stopping", "watchdog", "watchdog_interval"]


def notify(message: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Send ``message`` to ``$NOTIFY_SOCKET``; True when it was sent.

    False, doing nothing, when the variable is unset (not under systemd, or not Type=notify).
    Never raises for a socket error: a missed notification must not take the daemon down; the
    watchdog will notice a daemon that truly stopped talking.
    """
    address = environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        # The abstract namespace: systemd writes its leading NUL as '@'.
        address = "\0" + address[1:]
    elif not address.startswith("/"):
        # Unset, empty, or a transport we do not speak (vsock:...).
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
    except OSError:
        return False
    return True


def ready(environ: Mapping[str, str] = os.environ) -> bool:
    """Start-up is over: systemd moves the unit from "activating" to "active"."""
    return notify("READY=1", environ)


def stopping(environ: Mapping[str, str] = os.environ) -> bool:
    """Shutdown has begun, so systemd does not take the silence that follows for a hang."""
    return notify("STOPPING=1", environ)


def watchdog(environ: Mapping[str, str] = os.environ) -> bool:
    """Still alive: resets the WatchdogSec= timer."""
    return notify("WATCHDOG=1", environ)


def status(text: str, environ: Mapping[str, str] = os.environ) -> bool:
    """One line for ``systemctl status``."""
    # A newline would start a new assignment in the datagram; keep the status a single one.
    line = " ".join(text.split())
    return notify(f"STATUS={line}", environ)


def watchdog_interval(environ: Mapping[str, str] = os.environ) -> float | None:
    """How often to call watchdog(), in seconds: half of ``$WATCHDOG_USEC``, as sd_watchdog_enabled
    advises; None when no watchdog is asked of this process.
    """
    pid = environ.get("WATCHDOG_PID", "").strip()
    if pid:
        # The watchdog is for another process (a wrapper's child, say): not ours to feed.
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", "").strip())
    except ValueError:
        return None
    if usec <= 0:
        return None
    return usec / 2 / 1_000_000
