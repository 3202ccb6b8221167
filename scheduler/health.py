"""Liveness, readiness and Prometheus metrics over HTTP, read from a snapshot of daemon state.

The daemon hands a ``snapshot`` callable; every request reads a fresh snapshot, so nothing here
keeps state of its own and nothing can drift from what the daemon knows.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import cast
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

__all__ = [
    "HealthServer",
    "HealthSnapshot",
    "SnapshotCollector",
    "make_registry",
    "parse_http_addr",
    "readiness",
]

log = logging.getLogger(__name__)

HTTP_ADDR_SETTING = "BILLING_SYNC_HTTP_ADDR"
DEFAULT_HTTP_ADDR = "127.0.0.1:9464"
# Two missed cycles are weather (a slow API, a long full cycle); three mean the daemon is stuck.
STALE_INTERVALS = 3


@dataclass(frozen=True)
class HealthSnapshot:
    """What the daemon knows at ``now``. Datetimes without a zone are taken as UTC."""

    now: datetime
    interval_s: float
    last_attempt: Mapping[str, datetime] = field(default_factory=dict)
    last_success: Mapping[str, datetime] = field(default_factory=dict)
    last_duration_s: Mapping[str, float] = field(default_factory=dict)
    records_written_total: int = 0
    failures_open: Mapping[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    api_calls_total: Mapping[str, int] = field(default_factory=dict)
    salesforce_api_usage: tuple[int, int] | None = None
    drift_fields: int | None = None
    events_lag_s: float | None = None
    stop_open: str | None = None
    paused: bool = False


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def readiness(snap: HealthSnapshot) -> tuple[bool, str]:
    """(ready, one-line reason). Ready: a cycle finished within 3 intervals and no stop is open."""
    if snap.stop_open:
        return False, f"stopped: {_one_line(snap.stop_open)}"
    paused = " (paused)" if snap.paused else ""
    if not snap.last_success:
        return False, f"no cycle has finished yet{paused}"
    kind, finished = max(snap.last_success.items(), key=lambda item: _utc(item[1]))
    # A clock stepping back must not make a fresh cycle look stale: count negative ages as 0.
    age = max(0.0, (_utc(snap.now) - _utc(finished)).total_seconds())
    limit = STALE_INTERVALS * snap.interval_s
    when = _utc(finished).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if age > limit:
        return False, (
            f"last cycle ({kind}) finished {age:.0f}s ago at {when}, "
            f"more than {STALE_INTERVALS} intervals ({limit:.0f}s){paused}"
        )
    return True, f"ok: last cycle ({kind}) finished {age:.0f}s ago at {when}{paused}"


class SnapshotCollector(Collector):
    """Turns each scrape's snapshot into ``billing_sync_*`` metric families."""

    def __init__(self, snapshot: Callable[[], HealthSnapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        try:
            snap = self._snapshot()
        except Exception:
            # A scrape must still answer: up=0 tells "the process runs but cannot say how".
            log.exception("health snapshot failed")
            yield GaugeMetricFamily("billing_sync_up", _UP_HELP, value=0)
            return
        yield from _families(snap)
        yield GaugeMetricFamily("billing_sync_up", _UP_HELP, value=1)


_UP_HELP = "1 when the daemon's state could be read for this scrape, else 0."


def _by_label(
    family: GaugeMetricFamily | CounterMetricFamily, values: Mapping[str, float]
) -> GaugeMetricFamily | CounterMetricFamily:
    for label, value in sorted(values.items()):
        family.add_metric([label], value)
    return family


def _gauge(name: str, doc: str, value: float | None) -> GaugeMetricFamily:
    # An unknown value is no sample at all, not a 0 that alerts would take at face value.
    family = GaugeMetricFamily(name, doc)
    if value is not None:
        family.add_metric([], value)
    return family


def _families(snap: HealthSnapshot) -> Iterator[Metric]:
    kind = ["kind"]
    yield _by_label(
        GaugeMetricFamily(
            "billing_sync_last_attempt_timestamp_seconds",
            "Unix time the last cycle of this kind started.",
            labels=kind,
        ),
        {k: _utc(v).timestamp() for k, v in snap.last_attempt.items()},
    )
    yield _by_label(
        GaugeMetricFamily(
            "billing_sync_last_success_timestamp_seconds",
            "Unix time the last cycle of this kind finished.",
            labels=kind,
        ),
        {k: _utc(v).timestamp() for k, v in snap.last_success.items()},
    )
    yield _by_label(
        GaugeMetricFamily(
            "billing_sync_cycle_duration_seconds",
            "How long the last cycle of this kind took.",
            labels=kind,
        ),
        snap.last_duration_s,
    )
    yield CounterMetricFamily(
        "billing_sync_records_written",
        "Salesforce records written since the daemon started.",
        value=snap.records_written_total,
    )
    yield _by_label(
        GaugeMetricFamily(
            "billing_sync_failures_open",
            "Records whose last attempt failed and that are still waiting for a retry.",
            labels=["category"],
        ),
        snap.failures_open,
    )
    yield _gauge(
        "billing_sync_dead_letters",
        "Records that ran out of retries and need a person.",
        snap.dead_letters,
    )
    yield _by_label(
        CounterMetricFamily(
            "billing_sync_api_calls",
            "API calls made since the daemon started, by service.",
            labels=["service"],
        ),
        snap.api_calls_total,
    )
    ratio = None
    if snap.salesforce_api_usage is not None:
        used, allocation = snap.salesforce_api_usage
        ratio = used / allocation if allocation > 0 else None
    yield _gauge(
        "billing_sync_salesforce_api_usage_ratio",
        "Share of the org's daily Salesforce API allocation used, 0 to 1 (or more).",
        ratio,
    )
    yield _gauge(
        "billing_sync_drift_fields",
        "Salesforce fields that differ from the billing system at the last full cycle.",
        snap.drift_fields,
    )
    yield _gauge(
        "billing_sync_events_lag_seconds",
        "Age of the oldest billing change (event) not yet applied.",
        snap.events_lag_s,
    )
    yield _gauge("billing_sync_paused", "1 while syncing is paused.", int(snap.paused))


def make_registry(snapshot: Callable[[], HealthSnapshot]) -> CollectorRegistry:
    """A registry of its own, so tests and a second server never share the global one."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return registry


_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def parse_http_addr(value: str | None) -> tuple[str, int] | None:
    """``BILLING_SYNC_HTTP_ADDR``: "host:port", "[ipv6]:port", or "off" (None). Unset or empty
    is the default, 127.0.0.1:9464; anything else raises ValueError naming the setting.
    """
    text = (value or "").strip() or DEFAULT_HTTP_ADDR
    if text.lower() == "off":
        return None

    def bad(why: str) -> ValueError:
        return ValueError(
            f"{HTTP_ADDR_SETTING}={value!r}: {why}; expected host:port, [ipv6]:port or off"
        )

    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise bad("no host:port")
    if not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
        raise bad("the port is not a number")
    port = int(port_text)
    if port > 65535:
        raise bad("the port is above 65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad("not an IPv6 address between the brackets") from None
        return host, port
    if ":" in host or "[" in host or "]" in host:
        raise bad("an IPv6 address needs brackets, as in [::1]:9464")
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise bad("not an IPv4 address") from None
        return host, port
    if len(host) > 253 or not all(_HOSTNAME.fullmatch(part) for part in host.split(".")):
        raise bad("not a host name")
    return host, port


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    health: HealthServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can hang on a broken resolver.
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    # A client that opens a connection and says nothing must not hold a thread forever.
    timeout = 10
    server_version = "billing-sync"

    def do_GET(self) -> None:
        health = cast(_Server, self.server).health
        path = urlsplit(self.path).path
        if path == "/healthz":
            self._send(200, b"ok\n")
        elif path == "/readyz":
            try:
                ready, reason = readiness(health.snapshot())
            except Exception as exc:
                log.exception("health snapshot failed")
                ready, reason = False, f"state unavailable: {type(exc).__name__}"
            self._send(200 if ready else 503, (reason + "\n").encode())
        elif path == "/metrics":
            self._send(200, generate_latest(health.registry), CONTENT_TYPE_LATEST)
        else:
            self._send(404, b"not found\n")

    def _send(
        self, code: int, body: bytes, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # Every scrape on stderr would drown the daemon's own log; keep it for debugging.
        log.debug("%s %s", self.address_string(), format % args)


class HealthServer:
    """``/healthz``, ``/readyz`` and ``/metrics`` on a background thread.

    ``addr`` is "host:port" as BILLING_SYNC_HTTP_ADDR takes it (port 0: any free port, read
    ``.port`` after start()) or an already parsed (host, port). stop() returns within
    ``poll_interval`` seconds: the serving loop only looks at its stop flag that often.
    """

    def __init__(
        self,
        addr: str | tuple[str, int],
        snapshot: Callable[[], HealthSnapshot],
        *,
        poll_interval: float = 0.5,
    ) -> None:
        parsed = parse_http_addr(addr) if isinstance(addr, str) else addr
        if parsed is None:
            raise ValueError(f"{HTTP_ADDR_SETTING} is off: no health server to start")
        self.host, self._requested_port = parsed
        self.snapshot = snapshot
        self.registry = make_registry(snapshot)
        self.poll_interval = poll_interval
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("HealthServer is not started")
        return self._server.server_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind (raising OSError if the address is taken) and serve on a daemon thread."""
        if self._server is not None:
            raise RuntimeError("HealthServer is already started")
        cls = _Server6 if ":" in self.host else _Server
        server = cls((self.host, self._requested_port), _Handler)
        server.health = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name="billing-sync-health",
            daemon=True,
        )
        self._thread.start()
        log.info("health and metrics on %s", self.url)

    def stop(self) -> None:
        """Stop serving and close the socket; harmless when not started."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
