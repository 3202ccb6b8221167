"""The HTTP server and the ``StripeStandIn`` object tests, benchmarks and the demo drive."""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from ..serving import HttpStandIn
from .api import Api
from .billing import Billing, BillingSettings
from .catalog import CatalogRoutes
from .clock import WallClock
from .customers import CustomerRoutes
from .errors import StripeError
from .events import EventRoutes
from .invoices import InvoiceRoutes
from .items import SubscriptionItemRoutes
from .objects import API_VERSION
from .params import parse_form
from .ratelimit import RateLimiter
from .seed import seed_bulk
from .store import Store
from .subscriptions import SubscriptionRoutes
from .testclocks import TestClockRoutes

__all__ = ["StripeStandIn", "serve_forever"]

Handler = Callable[..., dict[str, Any]]


class Router:
    def __init__(self, routes: list[tuple[str, str, Handler]]) -> None:
        self._table: dict[tuple[str, int], list[tuple[list[str], str, Handler]]] = {}
        for method, template, fn in routes:
            segs = template.strip("/").split("/")
            self._table.setdefault((method, len(segs)), []).append((segs, template, fn))

    def match(self, method: str, path: str) -> tuple[str, Handler, list[str]] | None:
        segs = path.strip("/").split("/")
        for tsegs, template, fn in self._table.get((method, len(segs)), ()):
            args = []
            for t, s in zip(tsegs, segs, strict=True):
                if t.startswith("{"):
                    if not s:
                        break
                    args.append(s)
                elif t != s:
                    break
            else:
                return template, fn, args
        return None


class StripeStandIn(HttpStandIn):
    title = "Stripe stand-in"

    """A local stand-in for the Stripe API (see the package docstring).

    ``retries_exhausted`` is the account setting for a subscription whose payment retries ran
    out: "canceled" (Stripe's default) or "unpaid". ``retry_days`` are the days after the
    first failed payment at which Stripe retries.
    """

    def __init__(
        self,
        api_key: str = "sk_test_standin",
        *,
        retries_exhausted: str = "canceled",
        retry_days: tuple[int, ...] = (3, 7, 14),
        seed: int = 0,
    ) -> None:
        if retries_exhausted not in ("canceled", "unpaid"):
            raise ValueError("retries_exhausted must be 'canceled' or 'unpaid'")
        self.api_key = api_key
        self.wall = WallClock()
        self.store = Store(seed)
        self.billing = Billing(self.store, self.wall, BillingSettings(retry_days,
                                                                      retries_exhausted))
        api = Api(self.store, self.billing)
        routes: list[tuple[str, str, Handler]] = []
        for group in (CatalogRoutes(api), CustomerRoutes(api), SubscriptionRoutes(api),
                      SubscriptionItemRoutes(api), InvoiceRoutes(api), TestClockRoutes(api),
                      EventRoutes(api)):  # fmt: skip
            routes.extend(group.routes())
        self.router = Router(routes)
        self.lock = threading.RLock()
        self._faults: list[int] = []  # statuses for the next calls, consumed in order
        self._limiter: RateLimiter | None = None
        self._idempotent: dict[tuple[str, str], tuple[int, bytes]] = {}
        HttpStandIn.__init__(self)

    # lifecycle -----------------------------------------------------------------------------

    # benchmarks and faults -----------------------------------------------------------------
    def fail_next(self, n: int, status: int = 429, *, after: int = 0) -> None:
        """The next ``n`` calls after the next ``after`` answer ``status``."""
        if status not in (429, 500):
            raise ValueError("status must be 429 or 500")
        with self._stats_lock:
            self._faults = [0] * after + [status] * n

    def set_rate_limit(self, per_second: int | None = 25, per_endpoint: int = 25,
                       clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        """Enforce Stripe's rate limits (test mode: 25 a second, 25 per endpoint) on the
        limiter's own ``clock``; ``None`` turns them off (the default)."""
        with self._stats_lock:
            self._limiter = None if per_second is None else RateLimiter(
                per_second, per_endpoint, clock)  # fmt: skip

    def seed_bulk(self, customers: int = 10_000, subscriptions: int = 12_000, seed: int = 1,
                  *, events: bool = False, span_days: int = 365) -> list[str]:  # fmt: skip
        """Bulk data created over the last ``span_days``; ``events`` adds the matching
        ``customer.created`` / ``customer.subscription.created`` events (only the last 30
        days of them are listable, as with any event)."""
        if span_days < 1:
            raise ValueError("span_days must be at least 1")
        with self.lock:
            log = self.billing.events if events else None
            collecting = gc.isenabled()
            gc.disable()  # tens of thousands of new dicts: no point in scanning them midway
            try:
                return seed_bulk(self.store, self.wall.now(), customers, subscriptions, seed,
                                 log=log, span=span_days * 86_400)  # fmt: skip
            finally:
                if collecting:
                    gc.enable()

    # events --------------------------------------------------------------------------------
    def set_default_api_version(self, version: str) -> None:
        """The account's default API version, used to render the payload of new events
        (``data.object``); requests still speak only the pinned version."""
        with self.lock:
            self.billing.events.set_api_version(version)

    @property
    def default_api_version(self) -> str:
        return self.billing.events.api_version

    def delay_next_events(self, n: int, seconds: int | None = None) -> None:
        """The next ``n`` events keep their true ``created`` but lists leave them out until
        the wall clock reaches ``created + seconds`` (``None``: until released)."""
        with self.lock:
            self.billing.events.delay_next(n, seconds)

    def release_late_events(self) -> int:
        """Make every delayed event visible now; returns how many were still hidden."""
        with self.lock:
            return self.billing.events.release()

    # time for objects not on a test clock --------------------------------------------------
    def now(self) -> int:
        return self.wall.now()

    def set_time(self, ts: int) -> None:
        """Freeze the stand-in's wall clock at ``ts`` and apply every transition now due."""
        with self.lock:
            self.wall.set(ts)
            self._run_wall()

    def advance_time(self, seconds: int) -> int:
        with self.lock:
            now = self.wall.advance(seconds)
            self._run_wall()
            return now

    def _run_wall(self) -> None:
        subs = (s for s in self.store.data["subscription"].values() if s["test_clock"] is None)
        self.billing.request_id = self.billing.idempotency_key = None
        self.billing.run(list(subs), self.wall.now())

    # request handling (called from the HTTP threads) ---------------------------------------
    def _count(self, key: str) -> int | None:
        with self._stats_lock:
            self._counters[key] = self._counters.get(key, 0) + 1
            return self._faults.pop(0) if self._faults else None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        with self.in_flight():
            return self._handle(method, target, headers, body)

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes
                ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        if self._latency:
            time.sleep(self._latency)
        url = urlsplit(target)
        with self.lock:
            request_id = self.store.request_id()
        out_headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION}
        matched = self.router.match(method, url.path)
        endpoint = f"{method} {matched[0] if matched else url.path}"
        fault = self._count(endpoint)
        limiter = self._limiter
        limited = limiter.refuse(endpoint) if limiter is not None else None
        try:
            if fault == 429 or limited:
                raise StripeError(
                    429,
                    "Request rate limit exceeded. Learn more about rate limits here "
                    "https://stripe.com/docs/rate-limits.",
                    code="rate_limit",
                    headers={"Stripe-Rate-Limited-Reason": limited or "global-rate"},
                )
            if fault == 500:
                raise StripeError(500, "An unknown error occurred", type="api_error")
            self._authenticate(headers)
            version = headers.get("stripe-version")
            if version and version != API_VERSION:
                raise StripeError(400, f"Invalid Stripe API version: {version}. The billing-sync"
                                  f" Stripe stand-in speaks only {API_VERSION}.")  # fmt: skip
            if matched is None:
                raise StripeError(404, f"Unrecognized request URL ({method}: {url.path}). "
                                  "Please see https://stripe.com/docs or we can help at "
                                  "https://support.stripe.com/.")  # fmt: skip
            raw = url.query
            if body:
                if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
                    raise StripeError(400, "Request bodies must be form-encoded "
                                      "(application/x-www-form-urlencoded).")  # fmt: skip
                raw = "&".join(x for x in (raw, body.decode()) if x)
            params = parse_form(raw)
            idem = headers.get("idempotency-key") if method == "POST" else None
            if idem and (self.api_key, idem) in self._idempotent:
                status, payload = self._idempotent[(self.api_key, idem)]
                out_headers["Idempotent-Replayed"] = "true"
                out_headers["Idempotency-Key"] = idem
                return status, out_headers, payload
            _, fn, args = matched
            with self.lock:
                self.billing.request_id = request_id
                self.billing.idempotency_key = idem
                result = fn(params, *args)
            payload = json.dumps(result).encode()
            if idem:
                out_headers["Idempotency-Key"] = idem
                self._idempotent[(self.api_key, idem)] = (200, payload)
            return 200, out_headers, payload
        except StripeError as err:
            out_headers.update(err.headers)
            return err.status, out_headers, json.dumps(err.body(request_id)).encode()
        except Exception:  # a bug in the stand-in: answer like Stripe's 500, show the trace
            traceback.print_exc(file=sys.stderr)
            err = StripeError(500, "An unknown error occurred", type="api_error")
            return 500, out_headers, json.dumps(err.body(request_id)).encode()

    def _authenticate(self, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        if not auth:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        key = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if key != self.api_key:
            shown = f"{key[:8]}{'*' * 4}{key[-4:]}" if len(key) > 12 else "****"
            raise StripeError(401, f"Invalid API Key provided: {shown}")

    def admin(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """``/_standin/...``: the fault and counter controls over HTTP (never counted)."""
        params = json.loads(body or b"{}")
        if method == "GET" and path == "/_standin/counters":
            return 200, {"counters": self.counters, "total": self.total_requests()}
        if method == "POST" and path == "/_standin/reset_counters":
            self.reset_counters()
            return 200, {"ok": True}
        if method == "POST" and path == "/_standin/fail_next":
            self.fail_next(int(params.get("n", 1)), int(params.get("status", 429)),
                           after=int(params.get("after", 0)))  # fmt: skip
            return 200, {"ok": True}
        if method == "POST" and path == "/_standin/latency":
            self.set_latency(float(params.get("seconds", 0)))
            return 200, {"ok": True}
        if method == "POST" and path == "/_standin/advance_time":
            return 200, {"now": self.advance_time(int(params.get("seconds", 0)))}
        return self._admin_events(method, path, params)

    def _admin_events(self, method: str, path: str, params: dict[str, Any]
                      ) -> tuple[int, dict[str, Any]]:  # fmt: skip
        try:
            if method == "POST" and path == "/_standin/default_api_version":
                self.set_default_api_version(str(params.get("version", "")))
                return 200, {"default_api_version": self.default_api_version}
            if method == "GET" and path == "/_standin/default_api_version":
                return 200, {"default_api_version": self.default_api_version}
            if method == "POST" and path == "/_standin/delay_next_events":
                seconds = params.get("seconds")
                self.delay_next_events(int(params.get("n", 1)),
                                       None if seconds is None else int(seconds))  # fmt: skip
                return 200, {"ok": True}
            if method == "POST" and path == "/_standin/release_late_events":
                return 200, {"released": self.release_late_events()}
        except ValueError as exc:
            return 400, {"error": {"message": str(exc)}}
        return 404, {"error": {"message": f"Unknown stand-in control {method} {path}"}}


def _make_handler(standin: StripeStandIn) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: stripe-python reuses its connection

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/_standin/"):
                status, obj = standin.admin(self.command, urlsplit(self.path).path, body)
                self._reply(status, {}, json.dumps(obj).encode())
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, payload = standin.handle(self.command, self.path, headers, body)
            self._reply(status, out_headers, payload)

        def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests carry API keys in headers only, but keep the test output quiet

    return _Handler


def serve_forever(host: str = "127.0.0.1", port: int = 12111, out: Callable[[str], Any] = print,
                  api_key: str = "sk_test_standin") -> None:  # fmt: skip
    """What ``billing-sync emulator stripe --port N`` runs: serve until interrupted."""
    standin = StripeStandIn(api_key=api_key)
    url = standin.start(host, port)
    out(f"Stripe stand-in listening on {url}")
    out(f"API key: {api_key}")
    out(f'Use: stripe.StripeClient("{api_key}", base_addresses={{"api": "{url}"}})')
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


# The handler is built from the stand-in, so it is attached once both exist.
StripeStandIn.handler_factory = staticmethod(_make_handler)
