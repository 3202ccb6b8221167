"""The HTTP server and the ``ChargebeeStandIn`` object tests, benchmarks and scenarios drive."""

from __future__ import annotations

import base64
import binascii
import collections
import fnmatch
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from standins.serving import HttpStandIn

from .billing import Billing
from .catalog import CatalogRoutes
from .clock import Clock
from .customers import CustomerRoutes
from .errors import (
    ChargebeeError,
    auth_failed,
    internal_error,
    invalid_request,
    rate_limited,
    unavailable,
)  # fmt: skip
from .events import EventRoutes, TimeMachineRoutes
from .invoices import InvoiceRoutes
from .params import Params
from .seed import seed_bulk
from .site import Settings, Site
from .store import Store
from .subscriptions import SubscriptionRoutes

__all__ = ["API_PREFIX", "TEST_SITE_RATE_LIMIT", "ChargebeeStandIn", "serve_forever"]

API_PREFIX = "/api/v2"
TEST_SITE_RATE_LIMIT = 150  # requests per minute on a Chargebee test site
Handler = Callable[..., dict[str, Any]]


class Router:
    def __init__(self, routes: list[tuple[str, str, Handler]]) -> None:
        self.routes = [(m, t, t.strip("/").split("/"), fn) for m, t, fn in routes]

    def match(self, method: str, path: str) -> tuple[str, Handler, list[str]] | bool | None:
        """The route, or False when the path exists for another method, or None."""
        segs = path.strip("/").split("/")
        other = False
        for m, template, tsegs, fn in self.routes:
            if len(tsegs) != len(segs):
                continue
            args = []
            for t, s in zip(tsegs, segs, strict=True):
                if t.startswith("{") and s:
                    args.append(s)
                elif t != s:
                    break
            else:
                if m == method:
                    return template, fn, args
                other = True
        return False if other else None


class _Fault:
    def __init__(self, n: int, status: int, code: str | None, pattern: str,
                 retry_after: int = 1) -> None:  # fmt: skip
        self.left, self.status, self.code, self.pattern = n, status, code, pattern
        self.retry_after = retry_after


class ChargebeeStandIn(HttpStandIn):
    title = "Chargebee stand-in"
    """A local stand-in for one Chargebee site's API v2 (see the package docstring)."""

    def __init__(self, api_key: str = "test_standin_key", *, site: str = "billing-sync-test",
                 rate_limit: int | bool | None = None, seed: int = 0,
                 **settings: Any) -> None:  # fmt: skip
        limit = TEST_SITE_RATE_LIMIT if rate_limit is True else (rate_limit or None)
        self.api_key = api_key
        self.clock = Clock()
        self.site_state = Site(Store(seed), self.clock,
                               Settings(site=site, rate_limit=limit, **settings))
        self.store = self.site_state.store
        self.billing = Billing(self.site_state)
        routes: list[tuple[str, str, Handler]] = []
        for group in (CatalogRoutes(self.site_state), CustomerRoutes(self.site_state),
                      SubscriptionRoutes(self.site_state, self.billing),
                      InvoiceRoutes(self.site_state, self.billing), EventRoutes(self.site_state),
                      TimeMachineRoutes(self.site_state, self.set_time)):  # fmt: skip
            routes.extend(group.routes())
        self.router = Router(routes)
        self.lock = threading.RLock()
        self._faults: list[_Fault] = []
        self._window: collections.deque[float] = collections.deque()
        self._idempotent: dict[str, tuple[int, bytes]] = {}
        HttpStandIn.__init__(self)

    @property
    def site(self) -> str:
        return self.site_state.settings.site

    @property
    def api_base(self) -> str:
        """What chargebee-python's ``env.api_endpoint`` must be set to."""
        return self.base_url + API_PREFIX

    def sdk_client(self, **kwargs: Any) -> Any:
        """A chargebee-python 3.x client aimed at this stand-in (see the package docstring)."""
        import chargebee

        if chargebee.Chargebee.verify_ca_certs:
            raise RuntimeError("set chargebee.Chargebee.verify_ca_certs = False first: the SDK "
                               "reads that class attribute to pick http or https")
        client = chargebee.Chargebee(api_key=self.api_key, site=self.site, protocol="http",
                                     **kwargs)  # fmt: skip
        client.env.api_endpoint = self.api_base
        return client

    # counters, faults, latency -------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 429, path: str = "*",
                  code: str | None = None, retry_after: int = 1) -> None:  # fmt: skip
        """The next ``n`` requests whose path matches the glob ``path`` answer ``status``
        (429, 500 or 503; for 503 ``code`` may be ``site_not_ready``); a 429 says
        ``Retry-After: retry_after``."""
        if status not in (429, 500, 503):
            raise ValueError("status must be 429, 500 or 503")
        if code is not None and status != 503:
            raise ValueError("code applies to 503 only")
        if retry_after < 1:
            raise ValueError("retry_after must be at least 1 second")
        with self._stats_lock:
            self._faults.append(_Fault(n, status, code, path, retry_after))

    # the clock and test controls -----------------------------------------------------------
    def now(self) -> int:
        return self.clock.now()

    def set_time(self, ts: int) -> None:
        """Freeze the clock at ``ts`` (forward only once frozen) and play what is now due."""
        with self.lock:
            if self.clock.frozen and ts < self.clock.now():
                raise ValueError("the stand-in's clock only moves forward")
            self.clock.set(ts)
            self.billing.tick(self.clock.now())

    def advance_time(self, seconds: int) -> int:
        with self.lock:
            now = self.clock.advance(seconds)
            self.billing.tick(now)
            return now

    def fail_payments(self, customer_id: str, fail: bool = True) -> None:
        """Make payments of ``customer_id`` fail (True) or succeed again (False)."""
        with self.lock:
            if customer_id not in self.store.data["customer"]:
                raise KeyError(customer_id)
            (self.store.failing_customers.add if fail else
             self.store.failing_customers.discard)(customer_id)  # fmt: skip

    def mark_transferred(self, subscription_id: str) -> None:
        """Chargebee sets ``transferred`` when a gifted subscription passes to its receiver, a
        flow the stand-in has no endpoint for; this sets the status as that flow would."""
        with self.lock:
            sub = self.store.data["subscription"][subscription_id]
            sub.update(status="transferred", next_billing_at=None)
            self.billing.refresh(sub, self.now())
            self.site_state.emit("subscription_changed", subscription=sub,
                                 customer=self.billing.customer(sub))

    def seed_bulk(self, customers: int = 10_000, seed: int = 1) -> list[str]:
        with self.lock:
            return seed_bulk(self.store, self.now(), customers, seed)

    # request handling ----------------------------------------------------------------------
    def _count(self, key: str, path: str) -> _Fault | None:
        with self._stats_lock:
            self._counters[key] = self._counters.get(key, 0) + 1
            for f in self._faults:
                if fnmatch.fnmatchcase(path, f.pattern):
                    f.left -= 1
                    if f.left <= 0:
                        self._faults.remove(f)
                    return f
        return None

    def _rate_limit(self) -> None:
        limit = self.site_state.settings.rate_limit
        if not limit:
            return
        now = self.clock.now_float()
        with self._stats_lock:
            while self._window and self._window[0] <= now - 60:
                self._window.popleft()
            if len(self._window) >= limit:
                raise rate_limited(int(self._window[0] + 60 - now + 0.999))
            self._window.append(now)

    def handle(self, method: str, target: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        if self._latency:
            time.sleep(self._latency)
        url = urlsplit(target)
        path = url.path
        sub = path[len(API_PREFIX):] if path.startswith(API_PREFIX + "/") else None
        matched = self.router.match(method, sub) if sub else None
        key = f"{method} {API_PREFIX}{matched[0]}" if isinstance(matched, tuple) else \
            f"{method} {path}"  # fmt: skip
        out: dict[str, str] = {}
        fault = self._count(key, path)
        try:
            if fault is not None:
                if fault.status == 429:
                    raise rate_limited(fault.retry_after)
                raise internal_error() if fault.status == 500 else unavailable(
                    fault.code or "internal_temporary_error")
            self._authenticate(headers)
            self._rate_limit()
            if matched is None:
                raise ChargebeeError(404, "resource_not_found",
                                     "Sorry, we couldn't find that resource",
                                     type="invalid_request")  # fmt: skip
            if matched is False:
                raise ChargebeeError(405, "http_method_not_supported",
                                     f"Sorry, the {method} method is not supported for this "
                                     "url", type="invalid_request")  # fmt: skip
            raw = url.query
            if method == "POST" and body:
                if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
                    raise invalid_request("The request body must be form-encoded "
                                          "(application/x-www-form-urlencoded)")
                raw = "&".join(x for x in (raw, body.decode()) if x)
            idem = headers.get("chargebee-idempotency-key") if method == "POST" else None
            if idem and idem in self._idempotent:
                out["chargebee-idempotency-replayed"] = "true"
                status, payload = self._idempotent[idem]
                return status, out, payload
            _, fn, args = matched
            with self.lock:
                result = fn(Params(raw), *args)
            payload = json.dumps(result).encode()
            if idem:
                self._idempotent[idem] = (200, payload)
            return 200, out, payload
        except ChargebeeError as err:
            out.update(err.headers)
            return err.status, out, json.dumps(err.body()).encode()
        except Exception:  # a bug in the stand-in: answer like Chargebee's 500, show the trace
            traceback.print_exc(file=sys.stderr)
            return 500, out, json.dumps(internal_error().body()).encode()

    def _authenticate(self, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        if not auth.startswith("Basic "):
            raise auth_failed("Sorry, authentication failed. The API key is missing: use HTTP "
                              "Basic auth with the API key as the username.")
        try:
            user, _, password = base64.b64decode(auth[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise auth_failed() from None
        if user != self.api_key or password:
            raise auth_failed()

    def admin(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """``/_standin/...``: the test controls over HTTP (never counted, never limited)."""
        q = json.loads(body or b"{}")
        if method == "GET" and path == "/_standin/counters":
            return 200, {"counters": self.counters, "total": self.total_requests()}
        actions: dict[str, Callable[[], Any]] = {
            "/_standin/reset_counters": self.reset_counters,
            "/_standin/fail_next": lambda: self.fail_next(int(q.get("n", 1)),
                                                          int(q.get("status", 429)),
                                                          q.get("path", "*"), q.get("code"),
                                                          int(q.get("retry_after", 1))),
            "/_standin/latency": lambda: self.set_latency(float(q.get("seconds", 0))),
            "/_standin/advance_time": lambda: self.advance_time(int(q.get("seconds", 0))),
            "/_standin/fail_payments": lambda: self.fail_payments(q["customer_id"],
                                                                  bool(q.get("fail", True))),
        }  # fmt: skip
        if method == "POST" and path in actions:
            actions[path]()
            return 200, {"ok": True, "now": self.now()}
        return 404, {"error": f"unknown stand-in control {method} {path}"}


def _make_handler(standin: ChargebeeStandIn) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one small reply must not wait for a delayed ACK

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/_standin/"):
                status, obj = standin.admin(self.command, urlsplit(self.path).path, body)
                self._reply(status, {}, json.dumps(obj).encode())
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._reply(*standin.handle(self.command, self.path, headers, body))

        def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in headers.items():
                self.send_header(k, v)
            self._headers_buffer.append(b"\r\n" + payload)  # headers and body in one write
            self.flush_headers()

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _Handler


def serve_forever(port: int = 12112, out: Callable[[str], Any] = print, *,
                  host: str = "127.0.0.1", api_key: str = "test_standin_key",
                  site: str = "billing-sync-test") -> None:  # fmt: skip
    """What ``billing-sync emulator chargebee --port N`` runs: serve until interrupted."""
    standin = ChargebeeStandIn(api_key=api_key, site=site)
    url = standin.start(host, port)
    out(f"Chargebee stand-in listening on {url} (API base {standin.api_base})")
    out(f"Site: {site}")
    out(f"API key: {api_key}")
    out("Use: chargebee.Chargebee.verify_ca_certs = False; "
        f'cb = chargebee.Chargebee(api_key="{api_key}", site="{site}", protocol="http"); '
        f'cb.env.api_endpoint = "{standin.api_base}"')
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


# The handler is built from the stand-in, so it is attached once both exist.
ChargebeeStandIn.handler_factory = staticmethod(_make_handler)
