"""Running a stand-in's HTTP server on a background thread, and stopping it cleanly."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any, TypeVar

__all__ = ["BackgroundServer", "HttpStandIn"]

S = TypeVar("S", bound="HttpStandIn")


class BackgroundServer:
    """One HTTP server served from a daemon thread; ``stop`` is safe to call twice."""

    def __init__(self) -> None:
        self.server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.server is not None

    def start(self, server: HTTPServer, name: str) -> int:
        """Serve ``server`` in the background; returns the port it listens on."""
        if self.server is not None:
            raise RuntimeError(f"the {name} is already running")
        self.server = server
        # A short poll interval makes shutdown() return promptly in tests.
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name,
                                        daemon=True)
        self._thread.start()
        return server.server_address[1]

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.server = self._thread = None


class HttpStandIn:
    """start / stop / ``with`` for a stand-in served over plain HTTP on loopback.

    Subclasses set ``title`` and ``handler_factory`` (a function of the stand-in returning its
    request handler class) and call ``HttpStandIn.__init__``. The per-endpoint counters and
    the injected latency every stand-in offers live here too."""

    title = "stand-in"
    handler_factory: Callable[[Any], type[BaseHTTPRequestHandler]]

    def __init__(self) -> None:
        self._serving = BackgroundServer()
        self.base_url = ""
        self._stats_lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._latency = 0.0
        self._in_flight = self._most_in_flight = 0

    @property
    def counters(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        with self._stats_lock:
            self._counters.clear()
            self._most_in_flight = self._in_flight

    @property
    def most_in_flight(self) -> int:
        """The most requests handled at once since the counters were reset: what shows a
        client's calls really overlapped."""
        with self._stats_lock:
            return self._most_in_flight

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._stats_lock:
            self._in_flight += 1
            self._most_in_flight = max(self._most_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._stats_lock:
                self._in_flight -= 1

    def total_requests(self) -> int:
        with self._stats_lock:
            return sum(self._counters.values())

    def set_latency(self, seconds: float) -> None:
        self._latency = max(0.0, float(seconds))

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._serving.running:
            raise RuntimeError(f"the {self.title} is already running")
        server = ThreadingHTTPServer((host, port), type(self).handler_factory(self))
        server.daemon_threads = True
        self.base_url = f"http://{host}:{self._serving.start(server, self.title)}"
        return self.base_url

    def stop(self) -> None:
        self._serving.stop()

    def __enter__(self: S) -> S:
        if not self._serving.running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
