"""The HTTP server and the ``RecurlyStandIn`` object tests, benchmarks and the CLI drive."""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from standins.serving import HttpStandIn

from .accounts import AccountRoutes
from .api import Api, Handler
from .billing import Billing
from .bodies import parse_body
from .catalog import CatalogRoutes
from .clock import WallClock
from .errors import ACCEPTABLE, API_VERSION, RecurlyError, rate_limited
from .limits import Faults, RateLimiter
from .seed import seed_bulk
from .store import Store
from .subscriptions import SubscriptionRoutes

__all__ = ["RecurlyStandIn", "serve_forever"]

LATEST = ("application/vnd.recurly.latest", "application/vnd.recurly.latest+json")


class Router:
    def __init__(self, routes: list[tuple[str, str, Handler]]) -> None:
        self._table: dict[tuple[str, int], list[tuple[list[str], str, Handler]]] = {}
        for method, template, fn in routes:
            segs = template.strip("/").split("/")
            self._table.setdefault((method, len(segs)), []).append((segs, template, fn))

    def match(self, method: str, path: str) -> tuple[str, Handler, list[str]] | None:
        segs = path.strip("/").split("/")
        best = None
        for tsegs, template, fn in self._table.get((method, len(segs)), ()):
            args = []
            for t, s in zip(tsegs, segs, strict=True):
                if t.startswith("{"):
                    if not s:
                        break
                    args.append(unquote(s))
                elif t != s:
                    break
            else:  # literal segments beat placeholders (/coupon_redemptions/active)
                if best is None or len(args) < len(best[2]):
                    best = (template, fn, args)
        return best

    def templates(self, path: str) -> set[str]:
        segs = path.strip("/").split("/")
        return {m for (m, n), rows in self._table.items() if n == len(segs)
                for t, _, _ in rows
                if all(a.startswith("{") or a == b for a, b in zip(t, segs, strict=True))}


class RecurlyStandIn(HttpStandIn):
    title = "Recurly stand-in"

    """A local stand-in for the Recurly API v2021-02-25 (see the package docstring)."""

    def __init__(self, api_key: str = "standin-recurly-private-key", *, seed: int = 0,
                 rate_limit_mode: str = "sandbox",
                 enforce_rate_limit: bool = False) -> None:  # fmt: skip
        self.api_key = api_key
        self.clock = WallClock()
        self.store = Store(seed)
        self.billing = Billing(self.store)
        self.api = Api(self.store, self.clock, self.billing)
        accounts = AccountRoutes(self.api)
        routes: list[tuple[str, str, Handler]] = []
        for group in (accounts, CatalogRoutes(self.api), SubscriptionRoutes(self.api, accounts)):
            routes.extend(group.routes())
        self.router = Router(routes)
        self.lock = threading.RLock()
        self.limiter = RateLimiter(rate_limit_mode, enforce_rate_limit)
        self.faults = Faults()
        HttpStandIn.__init__(self)

    # lifecycle -----------------------------------------------------------------------------

    def sdk_client(self) -> Any:
        """A ``recurly.Client`` talking to this stand-in over plain http (see the package
        docstring: the SDK has no base-URL option, so its private connection is swapped)."""
        import http.client

        import recurly

        client = recurly.Client(self.api_key)
        host, port = urlsplit(self.base_url).hostname, urlsplit(self.base_url).port
        client._BaseClient__conn = http.client.HTTPConnection(host, port, timeout=10)
        return client

    # controls ------------------------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 429, path: str = "*") -> None:
        """The next ``n`` requests matching ``path`` (a glob over the path, the route template,
        or either prefixed with the method) answer ``status`` (429, 500 or 503)."""
        self.faults.add(n, status, path)

    def set_rate_limit(self, mode: str = "sandbox", enforce: bool = True) -> None:
        self.limiter.configure(mode, enforce)

    def fail_payments(self, account: str, fail: bool = True) -> None:
        """Decline every charge for ``account`` (an id or ``code-...``) from now on."""
        with self.lock:
            acct = self.api.account(account)
            (self.store.fail_payments.add if fail else self.store.fail_payments.discard)(acct["id"])

    def seed_bulk(self, accounts: int = 10_000, subscriptions: int = 10_000,
                  seed: int = 1) -> list[str]:  # fmt: skip
        with self.lock:
            return seed_bulk(self.store, self.billing, self.clock.now(), accounts,
                             subscriptions, seed)  # fmt: skip

    def now(self) -> int:
        return self.clock.now()

    def set_time(self, ts: int) -> None:
        """Freeze the clock at ``ts`` and apply every transition now due."""
        with self.lock:
            self.clock.set(ts)
            self.billing.run(ts)

    def advance_time(self, seconds: int) -> int:
        with self.lock:
            now = self.clock.advance(seconds)
            self.billing.run(now)
            return now

    # requests ------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        if self._latency:
            time.sleep(self._latency)
        url = urlsplit(target)
        with self.lock:
            request_id = self.store.request_id()
        out = {"X-Request-Id": request_id, "Recurly-Version": f"recurly.{API_VERSION}"}
        route_method = "GET" if method == "HEAD" else method
        matched = self.router.match(route_method, url.path)
        template = matched[0] if matched else url.path
        with self._stats_lock:
            key = f"{method} {template}"
            self._counters[key] = self._counters.get(key, 0) + 1
        allowed, limit_headers = self.limiter.hit(method, self.clock.now())
        out.update(limit_headers)
        try:
            fault = self.faults.take(method, url.path, template)
            if fault == 429 or not allowed:
                raise rate_limited(limit_headers)
            if fault == 500:
                raise RecurlyError(500, "internal_server_error",
                                   "An internal server error has occurred.")  # fmt: skip
            if fault == 503:
                raise RecurlyError(503, "service_not_available",
                                   "The service is temporarily unavailable. Please try again.")
            self._authenticate(headers)
            accept = headers.get("accept", "")
            if accept not in ACCEPTABLE + LATEST:
                raise RecurlyError(406, "invalid_api_version",
                                   "That accept header isn't in the format we use to specify "
                                   "an API version. Try one of these instead:",
                                   extra={"acceptable_accept_headers": list(ACCEPTABLE)})
            if matched is None:
                if self.router.templates(url.path):
                    raise RecurlyError(405, "bad_request",
                                       f"{method} is not allowed on {url.path}")  # fmt: skip
                raise RecurlyError(404, "not_found", f"The requested URL {url.path} was not "
                                   "found on this server.")  # fmt: skip
            if body and "application/json" not in headers.get("content-type", ""):
                raise RecurlyError(400, "invalid_content_type",
                                   "Request bodies must be sent as application/json")
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            parsed = parse_body(body)
            _, fn, args = matched
            with self.lock:
                self.api.head = method == "HEAD"
                result = fn(query, parsed, *args)
            if method == "HEAD":
                if not isinstance(result, tuple):
                    raise RecurlyError(405, "bad_request", "HEAD is only allowed on lists")
                out["Recurly-Total-Records"] = str(result[1])
                return 200, out, b""
            return (201 if method == "POST" else 200), out, json.dumps(result).encode()
        except RecurlyError as err:
            out.update(err.headers)
            return err.status, out, json.dumps(err.body()).encode()
        except Exception:  # a bug in the stand-in: answer like Recurly's 500, show the trace
            traceback.print_exc(file=sys.stderr)
            err = RecurlyError(500, "internal_server_error",
                               "An internal server error has occurred.")
            return 500, out, json.dumps(err.body()).encode()

    def _authenticate(self, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        if not auth.startswith("Basic "):
            raise RecurlyError(401, "unauthorized",
                               "Please provide a valid API key using HTTP Basic authentication "
                               "with the key as the username.")  # fmt: skip
        try:
            user = base64.b64decode(auth[6:]).decode().partition(":")[0]
        except ValueError:
            user = ""
        if user != self.api_key:
            raise RecurlyError(401, "unauthorized", "The API key provided is not valid.")

    def admin(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """``/_standin/...``: counters, faults, latency and the clock over HTTP (never counted)."""
        p = json.loads(body or b"{}")
        if method == "GET" and path == "/_standin/counters":
            return 200, {"counters": self.counters, "total": self.total_requests()}
        if method == "POST" and path == "/_standin/reset_counters":
            self.reset_counters()
            return 200, {"ok": True}
        if method == "POST" and path == "/_standin/fail_next":
            self.fail_next(int(p.get("n", 1)), int(p.get("status", 429)), p.get("path", "*"))
            return 200, {"ok": True}
        if method == "POST" and path == "/_standin/latency":
            self.set_latency(float(p.get("seconds", 0)))
            return 200, {"ok": True}
        if method == "POST" and path == "/_standin/advance_time":
            return 200, {"now": self.advance_time(int(p.get("seconds", 0)))}
        if method == "POST" and path == "/_standin/fail_payments":
            self.fail_payments(p["account"], bool(p.get("fail", True)))
            return 200, {"ok": True}
        return 404, {"error": {"message": f"Unknown stand-in control {method} {path}"}}


def _make_handler(emu: RecurlyStandIn) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the SDK reuses one connection
        # One write per answer, sent at once: headers and body in separate small segments
        # meet the client's delayed ACK and cost ~40 ms a request.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            body = self._body()
            if self.path.startswith("/_standin/"):
                status, obj = emu.admin(self.command, urlsplit(self.path).path, body)
                self._reply(status, {}, json.dumps(obj).encode())
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out, payload = emu.handle(self.command, self.path, headers, body)
            self._reply(status, out, payload, head=self.command == "HEAD")

        def _body(self) -> bytes:
            # The SDK sends an empty dict body ({} is falsy, so never JSON-encoded) and
            # http.client then streams it chunked: read chunked bodies as Recurly does.
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, headers: dict[str, str], payload: bytes,
                   head: bool = False) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if not head:
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _Handler


def serve_forever(port: int = 12112, out: Callable[[str], Any] = print, *,
                  host: str = "127.0.0.1", api_key: str = "standin-recurly-private-key",
                  until: threading.Event | None = None) -> None:  # fmt: skip
    """What ``billing-sync emulator recurly --port N`` runs: serve until interrupted (or
    until ``until`` is set, for tests)."""
    emu = RecurlyStandIn(api_key=api_key)
    url = emu.start(host, port)
    out(f"Recurly stand-in (API {API_VERSION}) listening on {url}")
    out(f"API key: {api_key}")
    try:
        (until or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()



# The handler is built from the stand-in, so it is attached once both exist.
RecurlyStandIn.handler_factory = staticmethod(_make_handler)
