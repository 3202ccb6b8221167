"""The HTTPS server of the Salesforce stand-in and its Python control surface."""

from __future__ import annotations

import os
import re
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..serving import BackgroundServer
from .auth import ConnectedApp, jwt_audience, token_request
from .identity import identity_response, userinfo_response
from .limits import BEFORE_AUTH, CALL_FAULTS, FaultQueue, limit_header, use_api_call
from .org import INTEGRATION_USERNAME, Org
from .query import QueryEngine
from .rest import API_VERSIONS, RestApi, version_label
from .sferrors import SfError, not_found
from .wire import Handler, TlsServer, error_response, json_response, soap_fault

__all__ = ["SalesforceStandIn"]

_VERSION = re.compile(r"^v(\d+\.\d)$")


class SalesforceStandIn:
    """A local HTTPS Salesforce org. ``with SalesforceStandIn(dir) as standin:`` runs it."""

    def __init__(
        self,
        workdir: str | os.PathLike,
        token_ttl: float = 7200,
        daily_limit: int = 100_000,
        sandbox: bool = False,
    ) -> None:
        """``sandbox``: the org is a sandbox, so JWT assertions must name
        https://test.salesforce.com as their audience (production and My Domain orgs:
        https://login.salesforce.com)."""
        self.workdir = Path(workdir)
        self.sandbox = sandbox
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.org = Org(token_ttl=token_ttl, daily_limit=daily_limit)
        self.queries = QueryEngine(self.org)
        self.rest = RestApi(self.org, self.queries)
        self.username = INTEGRATION_USERNAME
        self.client_id = "3MVG9" + secrets.token_urlsafe(60).replace("-", "A").replace("_", "b")
        self.client_secret = secrets.token_hex(32).upper()
        self.counters: dict[str, int] = {}
        self._faults = FaultQueue()
        self._latency = 0.0
        self._counter_lock = threading.Lock()
        self._serving = BackgroundServer()
        self.instance_url = ""
        self.ca_file = self.workdir / "salesforce-ca.pem"
        self.private_key_file = self.workdir / "jwt-private-key.pem"
        self.public_key_file = self.workdir / "jwt-public-key.pem"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_private(
            self.private_key_file,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key_file.write_bytes(public_pem)
        self.app = ConnectedApp(self.client_id, self.client_secret, public_pem, self.username)
        self._ca = trustme.CA()
        self._ca.cert_pem.write_to_path(str(self.ca_file))

    # ----------------------------------------------------------------- lifecycle
    @property
    def login_url(self) -> str:
        return self.instance_url

    @property
    def jwt_audience(self) -> str:
        """The ``aud`` a JWT bearer assertion must carry for this org."""
        return jwt_audience(self.sandbox)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._serving.running:
            raise RuntimeError("the Salesforce stand-in is already running")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(host, "localhost", "127.0.0.1").configure_cert(context)
        server = TlsServer((host, port), Handler, context, self)
        bound = self._serving.start(server, "Salesforce stand-in")
        self.instance_url = f"https://{host}:{bound}"
        return self.instance_url

    def stop(self) -> None:
        self._serving.stop()

    def __enter__(self) -> SalesforceStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- control surface
    def session(self) -> requests.Session:
        """A requests session that trusts the stand-in's CA.

        ``trust_env`` is off because requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the
        environment override ``Session.verify``; with it on, the CA file would be ignored.
        """
        session = requests.Session()
        session.verify = str(self.ca_file)
        session.trust_env = False
        return session

    def issue_token(self, username: str | None = None) -> str:
        return self.org.issue_token(username or self.username)

    def expire_all_tokens(self) -> None:
        self.org.expire_all_tokens()

    def add_validation_rule(
        self,
        object_name: str,
        predicate: Callable[[dict], bool],
        message: str,
        field: str | None = None,
    ) -> None:
        self.org.add_validation_rule(object_name, predicate, message, field)

    def fail_next(self, n: int, error: str = "UNABLE_TO_LOCK_ROW") -> None:
        """Inject faults, as Salesforce shows them.

        UNABLE_TO_LOCK_ROW: the next ``n`` record writes/deletes fail; in sObject Collections
        each affected record gets the error in its result (the call is 200), a single-record
        call gets 400. SERVER_UNAVAILABLE (503), REQUEST_LIMIT_EXCEEDED (403, the daily
        TotalRequests limit) and CONCURRENT_LONG_TXN (403 REQUEST_LIMIT_EXCEEDED
        "ConcurrentPerOrgLongTxn Limit exceeded.", the concurrent long-running request
        limit): the next ``n`` API calls (REST and Metadata) fail as a whole.
        """
        if error == "UNABLE_TO_LOCK_ROW":
            self.org.fail_next_records(n)
        elif error in CALL_FAULTS:
            self._faults.add(error, n)
        else:
            raise ValueError(f"unsupported fault {error!r}")

    def hold_row_locks(self, *record_ids: str) -> Callable[[], None]:
        """Another user's long transaction holds these rows until the returned function is
        called. A write that needs one (the record itself, or an Account as the parent of a
        Subscription__c) fails per record with UNABLE_TO_LOCK_ROW, as it would once
        Salesforce's lock wait ran out (the stand-in does not spend the wait)."""
        handle = self.org.row_locks.hold(record_ids)
        return lambda: self.org.row_locks.release(handle)

    def set_lock_timeout(self, seconds: float) -> None:
        """How long a write waits for a row another transaction in flight holds (Salesforce:
        about 10 s) before failing that record with UNABLE_TO_LOCK_ROW."""
        self.org.row_locks.timeout = max(0.0, float(seconds))

    def set_latency(self, seconds: float) -> None:
        self._latency = max(0.0, float(seconds))

    def set_daily_limit(self, limit: int) -> None:
        self.org.daily_limit = limit

    def set_api_usage(self, used: int | None = None, total: int | None = None) -> None:
        """Set the org's API requests used so far today and/or its daily allocation (what
        Sforce-Limit-Info and /limits show). At ``used >= total`` calls get 403
        REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded."."""
        with self.org.lock:
            if used is not None:
                self.org.api_usage = max(0, int(used))
            if total is not None:
                self.org.daily_limit = max(0, int(total))

    def set_api_bursts(self, used: int | None, total: int | None = None) -> None:
        """Give the org a burst allowance (``; api-bursts=USED/TOTAL`` in Sforce-Limit-Info);
        ``set_api_bursts(None)`` takes it away."""
        with self.org.lock:
            self.org.api_bursts = None if used is None else (int(used), int(total or 0))

    def set_chatter_enabled(self, enabled: bool) -> None:
        """Chatter off: /chatter/users/me answers as an org without Chatter."""
        self.org.chatter_enabled = bool(enabled)

    def set_bulk_paused(self, paused: bool) -> None:
        """While paused, closed Bulk API 2.0 jobs stay InProgress; unpaused, the next call
        that reads a job runs it to JobComplete or Failed."""
        with self.org.lock:
            self.rest.bulk_paused = bool(paused)

    def reset_counters(self) -> None:
        with self._counter_lock:
            self.counters.clear()

    def api_calls(self) -> int:
        """REST and Metadata API calls made (token requests are not API calls)."""
        with self._counter_lock:
            return sum(v for k, v in self.counters.items() if k != "POST oauth2/token")

    # ----------------------------------------------------------------- request handling
    def _count(self, key: str) -> None:
        with self._counter_lock:
            self.counters[key] = self.counters.get(key, 0) + 1

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        if self._latency:
            time.sleep(self._latency)
        url = urlsplit(target)
        path = unquote(url.path)
        if path.rstrip("/") == "/services/oauth2/token":
            self._count("POST oauth2/token")
            if method != "POST":
                return json_response(405, {"error": "invalid_request",
                                            "error_description": "must use HTTP POST"})
            status, payload = token_request(
                self.org, self.app, self.login_url, body, headers.get("Authorization"),
                sandbox=self.sandbox,
            )
            return json_response(status, payload)
        if path.startswith("/id/") or path.rstrip("/") == "/services/oauth2/userinfo":
            self._count("GET id" if path.startswith("/id/") else "GET oauth2/userinfo")
            if method not in ("GET", "POST"):
                return 405, {"Content-Type": "text/plain"}, b"Method Not Allowed"
            try:
                if path.startswith("/id/"):
                    return identity_response(self.org, self.login_url, path, url.query,
                                             headers, API_VERSIONS[-1])
                return userinfo_response(self.org, self.login_url, url.query, headers,
                                         API_VERSIONS[-1])
            except SfError as exc:
                return error_response(exc)
        if path.startswith("/services/Soap/m/"):
            return self._soap(method, path, headers, body)
        if path.rstrip("/") == "/services/data":
            return json_response(200, [
                {"label": version_label(v), "url": f"/services/data/v{v}", "version": v}
                for v in API_VERSIONS
            ])
        if not path.startswith("/services/data/"):
            return error_response(not_found())
        raw_parts = [p for p in url.path.split("/")[3:] if p != ""]
        match = _VERSION.match(raw_parts[0]) if raw_parts else None
        parts = [unquote(p) for p in raw_parts[1:]]
        key = self.rest.endpoint_key(method, parts) if match else f"{method} unknown"
        self._count(key)
        limit_headers: dict[str, str] = {}
        try:
            if match is None or match.group(1) not in API_VERSIONS:
                raise not_found()
            fault = self._faults.take()
            if fault in BEFORE_AUTH:
                raise FaultQueue.error(fault)
            access = self._authenticate(headers)
            if fault is not None:
                raise FaultQueue.error(fault)
            limit_headers = use_api_call(self.org)
            response = self.rest.handle(
                method, match.group(1), parts, url.query, headers, body, access
            )
        except SfError as exc:
            status, out_headers, payload = error_response(exc)
            out_headers.update(limit_headers or limit_header(self.org))
            return status, out_headers, payload
        if isinstance(response.body, bytes):
            status, out_headers, payload = response.status, {}, response.body
        else:
            status, out_headers, payload = json_response(response.status, response.body)
        out_headers.update(response.headers)
        out_headers.update(limit_headers)
        return status, out_headers, payload

    def _authenticate(self, headers):
        header = headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        username = None
        if scheme.lower() in ("bearer", "oauth") and token.strip():
            username = self.org.user_for_token(token.strip())
        if username is None:
            raise SfError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return self.org.access_for(username)

    def _soap(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        self._count("POST Soap/m")
        # /services/Soap/m/66.0[/deployRequest[/id]]: the version is the fifth segment.
        segments = path.split("?", 1)[0].split("/")
        version = segments[4] if len(segments) > 4 else ""
        fault = self._faults.take()
        if fault in BEFORE_AUTH:
            return 503, {"Content-Type": "text/plain"}, b"Server temporarily unavailable"
        if method != "POST":
            return 405, {"Content-Type": "text/plain"}, b"the Metadata API takes POST"
        if fault is not None:
            _, code, message = CALL_FAULTS[fault]
            return soap_fault(code, message)
        try:
            use_api_call(self.org)
        except SfError as exc:
            return soap_fault(exc.code, exc.message)
        try:
            from . import mdapi
        except ImportError as exc:
            return 500, {"Content-Type": "text/plain"}, (
                f"The Metadata API of the local Salesforce stand-in is not available: {exc}"
            ).encode()
        status, payload = mdapi.handle_soap(self.org, body, version)
        return status, {"Content-Type": "text/xml; charset=utf-8"}, payload


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


