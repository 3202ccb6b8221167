"""Running a stand-in's HTTP server on a background thread, and stopping it cleanly."""

from __future__ import annotations

import threading
from http.server import HTTPServer

__all__ = ["BackgroundServer"]


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
