"""The stand-in's wire: HTTPS serving (one TLS handshake per request thread) and the JSON
and SOAP fault bodies every route answers with."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .sferrors import SfError

__all__ = ["Handler", "TlsServer", "error_response", "json_response", "soap_fault"]


def soap_fault(code: str, message: str) -> tuple[int, dict, bytes]:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f"<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {message}"
        "</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return 500, {"Content-Type": "text/xml; charset=utf-8"}, xml.encode()


def json_response(status: int, body: object) -> tuple[int, dict, bytes]:
    if body is None:
        return status, {}, b""
    return status, {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(body).encode()


def error_response(exc: SfError) -> tuple[int, dict, bytes]:
    return json_response(exc.status, exc.body())


class TlsServer(ThreadingHTTPServer):
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


class Handler(BaseHTTPRequestHandler):
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
            status, headers, payload = json_response(
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
