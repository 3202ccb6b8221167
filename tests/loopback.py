"""A one-off HTTP handler served on loopback for a test: a proxy, a misbehaving server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standins.serving import BackgroundServer

__all__ = ["serve"]


@contextlib.contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` while ``handler`` answers there."""
    background = BackgroundServer()
    port = background.start(ThreadingHTTPServer(("127.0.0.1", 0), handler), handler.__name__)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        background.stop()
