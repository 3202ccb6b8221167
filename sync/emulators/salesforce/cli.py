"""What ``billing-sync emulator salesforce --port N --dir D`` runs."""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from .server import SalesforceEmulator

__all__ = ["connection_lines", "serve"]


def connection_lines(emu: SalesforceEmulator, token: str) -> list[str]:
    return [
        f"login_url: {emu.login_url}",
        f"instance_url: {emu.instance_url}",
        f"username: {emu.username}",
        f"client_id: {emu.client_id}",
        f"client_secret: {emu.client_secret}",
        f"private_key_file: {emu.private_key_file}",
        f"ca_file: {emu.ca_file}",
        f"access_token: {token}",
    ]


def serve(
    port: int,
    workdir: str | os.PathLike,
    *,
    host: str = "127.0.0.1",
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run the stand-in until ``stop`` is set or Ctrl-C; prints one ``name: value`` a line.

    The credentials printed belong to this throwaway local org only.
    """
    out = out or sys.stdout
    emu = SalesforceEmulator(workdir)
    emu.start(host=host, port=port)
    try:
        for line in connection_lines(emu, emu.issue_token()):
            print(line, file=out)
        out.flush()
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0
