"""The HTTPS server of the Salesforce stand-in and its Python control surface."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..serving import BackgroundServer
from .auth import ConnectedApp, token_request
from .org import INTEGRATION_USERNAME, Org
from .query import QueryEngine
from .rest import API_VERSIONS, RestApi, version_label
from .sferrors import SfError, not_found

__all__ = ["SalesforceStandIn"]

_VERSION = re.compile(r"^v(\d+\.\d)$")
_CALL_FAULTS = {
    "SERVER_UNAVAILABLE": (503, "Server temporarily unavailable"),
    "REQUEST_LIMIT_EXCEEDED": (403, "TotalRequests Limit exceeded."),
}


class SalesforceStandIn:
    """A local HTTPS Salesforce org. ``with SalesforceStandIn(dir) as standin:`` runs it."""

    def __init__(
        self,
        workdir: str | os.PathLike,
        token_ttl: float = 7200,
        daily_limit: int = 100_000,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.org = Org(token_ttl=token_ttl, daily_limit=daily_limit)
        self.queries = QueryEngine(self.org)
        self.rest = RestApi(self.org, self.queries)
        self.username = INTEGRATION_USERNAME
        self.client_id = "3MVG9" + secrets.token_urlsafe(60).replace("-", "A").replace("_", "b")
        self.client_secret = secrets.token_hex(32).upper()
        self.counters: dict[str, int] = {}
        self._faults: list[list] = []  # [error code, remaining calls]
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

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._serving.running:
            raise RuntimeError("the Salesforce stand-in is already running")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(host, "localhost", "127.0.0.1").configure_cert(context)
        server = _TlsServer((host, port), _Handler, context, self)
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
        call gets 400. SERVER_UNAVAILABLE (503) and REQUEST_LIMIT_EXCEEDED (403): the next
        ``n`` API calls fail as a whole.
        """
        if error == "UNABLE_TO_LOCK_ROW":
            self.org.fail_next_records(n)
        elif error in _CALL_FAULTS:
            with self._counter_lock:
                self._faults.append([error, n])
        else:
            raise ValueError(f"unsupported fault {error!r}")

    def set_latency(self, seconds: float) -> None:
        self._latency = max(0.0, float(seconds))

    def set_daily_limit(self, limit: int) -> None:
        self.org.daily_limit = limit

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

    def _take_fault(self) -> str | None:
        with self._counter_lock:
            for fault in self._faults:
                if fault[1] > 0:
                    fault[1] -= 1
                    return fault[0]
            self._faults = [f for f in self._faults if f[1] > 0]
        return None

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        if self._latency:
            time.sleep(self._latency)
        url = urlsplit(target)
        path = unquote(url.path)
        if path.rstrip("/") == "/services/oauth2/token":
            self._count("POST oauth2/token")
            if method != "POST":
                return _json_response(405, {"error": "invalid_request",
                                            "error_description": "must use HTTP POST"})
            status, payload = token_request(
                self.org, self.app, self.login_url, body, headers.get("Authorization")
            )
            return _json_response(status, payload)
        if path.startswith("/services/Soap/m/"):
            return self._soap(method, path, headers, body)
        if path.rstrip("/") == "/services/data":
            return _json_response(200, [
                {"label": version_label(v), "url": f"/services/data/v{v}", "version": v}
                for v in API_VERSIONS
            ])
        if not path.startswith("/services/data/"):
            return _error_response(not_found())
        raw_parts = [p for p in url.path.split("/")[3:] if p != ""]
        match = _VERSION.match(raw_parts[0]) if raw_parts else None
        parts = [unquote(p) for p in raw_parts[1:]]
        key = self.rest.endpoint_key(method, parts) if match else f"{method} unknown"
        self._count(key)
        limit_headers: dict[str, str] = {}
        try:
            if match is None or match.group(1) not in API_VERSIONS:
                raise not_found()
            fault = self._take_fault()
            if fault == "SERVER_UNAVAILABLE":
                raise SfError(503, fault, _CALL_FAULTS[fault][1])
            access = self._authenticate(headers)
            if fault == "REQUEST_LIMIT_EXCEEDED":
                raise SfError(403, fault, _CALL_FAULTS[fault][1])
            limit_headers = self._use_api_call()
            response = self.rest.handle(
                method, match.group(1), parts, url.query, headers, body, access
            )
        except SfError as exc:
            status, out_headers, payload = _error_response(exc)
            out_headers.update(limit_headers or self._limit_header())
            return status, out_headers, payload
        status, out_headers, payload = _json_response(response.status, response.body)
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

    def _use_api_call(self) -> dict[str, str]:
        with self.org.lock:
            if self.org.api_usage >= self.org.daily_limit:
                raise SfError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.org.api_usage += 1
            return self._limit_header()

    def _limit_header(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.org.api_usage}/{self.org.daily_limit}"}

    def _soap(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        self._count("POST Soap/m")
        # /services/Soap/m/66.0[/deployRequest[/id]]: the version is the fifth segment.
        segments = path.split("?", 1)[0].split("/")
        version = segments[4] if len(segments) > 4 else ""
        fault = self._take_fault()
        if fault == "SERVER_UNAVAILABLE":
            return 503, {"Content-Type": "text/plain"}, b"Server temporarily unavailable"
        if method != "POST":
            return 405, {"Content-Type": "text/plain"}, b"the Metadata API takes POST"
        with self.org.lock:
            if self.org.api_usage >= self.org.daily_limit or fault == "REQUEST_LIMIT_EXCEEDED":
                return _soap_fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.org.api_usage += 1
        try:
            from . import mdapi
        except ImportError as exc:
            return 500, {"Content-Type": "text/plain"}, (
                f"The Metadata API of the local Salesforce stand-in is not available: {exc}"
            ).encode()
        status, payload = mdapi.handle_soap(self.org, body, version)
        return status, {"Content-Type": "text/xml; charset=utf-8"}, payload


def _soap_fault(code: str, message: str) -> tuple[int, dict, bytes]:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f"<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {message}"
        "</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return 500, {"Content-Type": "text/xml; charset=utf-8"}, xml.encode()


def _json_response(status: int, body: object) -> tuple[int, dict, bytes]:
    if body is None:
        return status, {}, b""
    return status, {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(body).encode()


def _error_response(exc: SfError) -> tuple[int, dict, bytes]:
    return _json_response(exc.status, exc.body())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, context: ssl.SSLContext, standin) -> None:
        self.context = context
        self.standin = standin
        super().__init__(address, handler)

    def finish_request(self, request, client_address) -> None:
        # The TLS handshake runs in the request's own thread, so one slow client cannot hold
        # up accept().
        request.settimeout(30)
        # Headers and body go out as separate writes; without NODELAY, Nagle plus delayed ACK
        # adds ~40 ms to every keep-alive request.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SFDC"
    sys_version = ""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, payload = self.server.standin.handle(
                self.command, self.path, self.headers, body
            )
        except Exception as exc:  # a bug in the stand-in must show, not hang the client
            status, headers, payload = _json_response(
                500, [{"errorCode": "UNKNOWN_EXCEPTION",
                       "message": f"local Salesforce stand-in error: {exc!r}"}]
            )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _dispatch

    def log_message(self, format: str, *args: object) -> None:
        # Silent: request lines can carry tokens in query strings of misbehaving clients.
        return
