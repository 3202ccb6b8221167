"""What ``billing-sync emulator salesforce --port N --dir D`` runs."""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from .server import SalesforceStandIn

__all__ = ["connection_lines", "serve"]


def connection_lines(standin: SalesforceStandIn, token: str) -> list[str]:
    return [
        f"login_url: {standin.login_url}",
        f"instance_url: {standin.instance_url}",
        f"username: {standin.username}",
        f"client_id: {standin.client_id}",
        f"client_secret: {standin.client_secret}",
        f"private_key_file: {standin.private_key_file}",
        f"ca_file: {standin.ca_file}",
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
    standin = SalesforceStandIn(workdir)
    standin.start(host=host, port=port)
    try:
        for line in connection_lines(standin, standin.issue_token()):
            print(line, file=out)
        out.flush()
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0
