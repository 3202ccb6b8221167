"""A local stand-in for Slack's webhook and Web API: records every POST."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

__all__ = ["SlackStandIn"]


class SlackStandIn:
    """Records every POST; answers with ``status`` and ``body`` (changeable mid-test)."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.status = 200
        self.body = b"ok"
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype:
                    body = json.loads(raw)
                else:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                standin.posts.append({"path": self.path, "headers": dict(self.headers),
                                   "body": body})
                self.send_response(standin.status)
                self.send_header("Content-Type", "application/json"
                                 if standin.body.startswith(b"{") else "text/plain")
                self.send_header("Content-Length", str(len(standin.body)))
                self.end_headers()
                self.wfile.write(standin.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def texts(self) -> list[str]:
        return [p["body"]["text"] for p in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
