"""Health endpoints and metrics, scraped over real HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import REGISTRY

from scheduler.health import (
    HealthServer,
    HealthSnapshot,
    make_registry,
    parse_http_addr,
    readiness,
)

NOW = datetime(2026, 12, 2, 1, 15, tzinfo=UTC)
INTERVAL = 300.0
# Only how soon stop() returns; nothing in a test waits on it otherwise.
FAST_STOP = 0.01

FULL = HealthSnapshot(
    now=NOW,
    interval_s=INTERVAL,
    last_attempt={"incremental": NOW - timedelta(seconds=130), "full": NOW - timedelta(hours=5)},
    last_success={"incremental": NOW - timedelta(seconds=100), "full": NOW - timedelta(hours=4)},
    last_duration_s={"incremental": 30.5, "full": 1800.0},
    records_written_total=1234,
    failures_open={"validation": 3, "transient": 1},
    dead_letters=2,
    api_calls_total={"stripe": 900, "salesforce": 450},
    salesforce_api_usage=(25_000, 100_000),
    drift_fields=7,
    events_lag_s=12.5,
    stop_open=None,
    paused=False,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> tuple[Samples, dict[str, str]]:
    """{(sample name, sorted labels): value} and {family name: type}."""
    values: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values, types


class Box:
    """The snapshot the server reads; tests swap it between requests."""

    def __init__(self, snap: HealthSnapshot) -> None:
        self.snap = snap
        self.error: Exception | None = None

    def __call__(self) -> HealthSnapshot:
        if self.error is not None:
            raise self.error
        return self.snap


@pytest.fixture
def box() -> Box:
    return Box(FULL)


@pytest.fixture
def server(box: Box) -> Iterator[HealthServer]:
    with HealthServer("127.0.0.1:0", box, poll_interval=FAST_STOP) as srv:
        yield srv


def get(server: HealthServer, path: str) -> requests.Response:
    return requests.get(server.url + path, timeout=10)


def _scrape_registry(box: Box) -> str:
    return generate_latest(make_registry(box)).decode()


def test_healthz_is_ok_while_alive(server: HealthServer, box: Box) -> None:
    box.error = RuntimeError("state is gone")  # liveness does not depend on the state
    r = get(server, "/healthz")
    assert (r.status_code, r.text) == (200, "ok\n")


def test_port_zero_picks_a_free_port_on_loopback(server: HealthServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_unknown_paths_are_404(server: HealthServer) -> None:
    for path in ("/", "/health", "/metrics/x", "/readyz/"):
        assert get(server, path).status_code == 404, path


def test_query_strings_are_ignored(server: HealthServer) -> None:
    assert get(server, "/healthz?verbose=1").status_code == 200


def test_metrics_are_prometheus_text(server: HealthServer) -> None:
    r = get(server, "/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == CONTENT_TYPE_LATEST
    values, types = samples(r.text)
    assert values == {
        ("billing_sync_last_attempt_timestamp_seconds", (("kind", "incremental"),)): (
            NOW.timestamp() - 130
        ),
        ("billing_sync_last_attempt_timestamp_seconds", (("kind", "full"),)): (
            NOW.timestamp() - 5 * 3600
        ),
        ("billing_sync_last_success_timestamp_seconds", (("kind", "incremental"),)): (
            NOW.timestamp() - 100
        ),
        ("billing_sync_last_success_timestamp_seconds", (("kind", "full"),)): (
            NOW.timestamp() - 4 * 3600
        ),
        ("billing_sync_cycle_duration_seconds", (("kind", "incremental"),)): 30.5,
        ("billing_sync_cycle_duration_seconds", (("kind", "full"),)): 1800.0,
        ("billing_sync_records_written_total", ()): 1234,
        ("billing_sync_failures_open", (("category", "validation"),)): 3,
        ("billing_sync_failures_open", (("category", "transient"),)): 1,
        ("billing_sync_dead_letters", ()): 2,
        ("billing_sync_api_calls_total", (("service", "stripe"),)): 900,
        ("billing_sync_api_calls_total", (("service", "salesforce"),)): 450,
        ("billing_sync_salesforce_api_usage_ratio", ()): 0.25,
        ("billing_sync_drift_fields", ()): 7,
        ("billing_sync_events_lag_seconds", ()): 12.5,
        ("billing_sync_paused", ()): 0,
        ("billing_sync_up", ()): 1,
    }
    assert types["billing_sync_records_written"] == "counter"
    assert types["billing_sync_api_calls"] == "counter"
    assert types["billing_sync_failures_open"] == "gauge"
    assert "# HELP billing_sync_dead_letters " in r.text


def test_unknown_values_have_no_sample_but_keep_their_family(
    server: HealthServer, box: Box
) -> None:
    box.snap = HealthSnapshot(now=NOW, interval_s=INTERVAL, paused=True)
    text = get(server, "/metrics").text
    values, types = samples(text)
    assert values == {
        ("billing_sync_records_written_total", ()): 0,
        ("billing_sync_dead_letters", ()): 0,
        ("billing_sync_paused", ()): 1,
        ("billing_sync_up", ()): 1,
    }
    for name in (
        "billing_sync_last_attempt_timestamp_seconds",
        "billing_sync_salesforce_api_usage_ratio",
        "billing_sync_drift_fields",
        "billing_sync_events_lag_seconds",
    ):
        assert name in types, name


def test_zero_api_allocation_gives_no_ratio(box: Box) -> None:
    box.snap = replace(FULL, salesforce_api_usage=(10, 0))
    values, _ = samples(_scrape_registry(box))
    assert ("billing_sync_salesforce_api_usage_ratio", ()) not in values


def test_naive_datetimes_are_utc(box: Box) -> None:
    naive = datetime(2026, 12, 2, 1, 0)
    box.snap = replace(FULL, last_attempt={"full": naive})
    values, _ = samples(_scrape_registry(box))
    key = ("billing_sync_last_attempt_timestamp_seconds", (("kind", "full"),))
    assert values[key] == naive.replace(tzinfo=UTC).timestamp()


def test_a_failing_snapshot_scrapes_as_down(server: HealthServer, box: Box) -> None:
    box.error = RuntimeError("database is locked")
    r = get(server, "/metrics")
    assert r.status_code == 200
    values, _ = samples(r.text)
    assert values == {("billing_sync_up", ()): 0}


def test_metrics_stay_off_the_global_registry(box: Box) -> None:
    make_registry(box)
    assert "billing_sync_up" not in {m.name for m in REGISTRY.collect()}


def test_each_scrape_reads_a_fresh_snapshot(server: HealthServer, box: Box) -> None:
    box.snap = replace(FULL, dead_letters=5)
    assert samples(get(server, "/metrics").text)[0][("billing_sync_dead_letters", ())] == 5
    box.snap = replace(FULL, dead_letters=6)
    assert samples(get(server, "/metrics").text)[0][("billing_sync_dead_letters", ())] == 6


# Readiness


def test_ready_with_a_recent_cycle(server: HealthServer) -> None:
    r = get(server, "/readyz")
    assert r.status_code == 200
    assert r.text == "ok: last cycle (incremental) finished 100s ago at 2026-12-02 01:13:20 UTC\n"


def test_not_ready_before_any_cycle(server: HealthServer, box: Box) -> None:
    box.snap = replace(FULL, last_success={}, last_attempt={"incremental": NOW})
    r = get(server, "/readyz")
    assert (r.status_code, r.text) == (503, "no cycle has finished yet\n")


def test_not_ready_when_stale(server: HealthServer, box: Box) -> None:
    box.snap = replace(FULL, now=NOW + timedelta(seconds=3 * INTERVAL))  # 1000 s since the last
    r = get(server, "/readyz")
    assert r.status_code == 503
    assert r.text.startswith("last cycle (incremental) finished 1000s ago at 2026-12-02 01:13:20")
    assert r.text.endswith("more than 3 intervals (900s)\n")
    assert r.text.count("\n") == 1


@pytest.mark.parametrize(("age", "ready"), [(899, True), (900, True), (901, False)])
def test_staleness_boundary_is_three_intervals(age: int, ready: bool) -> None:
    snap = replace(FULL, last_success={"full": NOW - timedelta(seconds=age)})
    assert readiness(snap)[0] is ready


def test_any_kind_counts_as_the_last_finished_cycle() -> None:
    # An old incremental but a recent full cycle: ready, and the reason names the full one.
    snap = replace(
        FULL,
        last_success={
            "incremental": NOW - timedelta(hours=2),
            "full": NOW - timedelta(seconds=60),
        },
    )
    ready, reason = readiness(snap)
    assert ready and "(full) finished 60s ago" in reason


def test_attempts_alone_do_not_make_ready() -> None:
    snap = replace(
        FULL,
        last_attempt={"incremental": NOW},
        last_success={"incremental": NOW - timedelta(hours=1)},
    )
    assert readiness(snap)[0] is False


def test_not_ready_while_a_stop_is_open(server: HealthServer, box: Box) -> None:
    box.snap = replace(FULL, stop_open="Salesforce rejects our credentials:\n INVALID_LOGIN")
    r = get(server, "/readyz")
    assert r.status_code == 503
    assert r.text == "stopped: Salesforce rejects our credentials: INVALID_LOGIN\n"


def test_paused_is_said_in_the_reason() -> None:
    assert readiness(replace(FULL, paused=True)) == (
        True,
        "ok: last cycle (incremental) finished 100s ago at 2026-12-02 01:13:20 UTC (paused)",
    )
    stale = replace(FULL, paused=True, now=NOW + timedelta(hours=1))
    ready, reason = readiness(stale)
    assert not ready and reason.endswith("(paused)")


def test_a_clock_step_back_is_not_stale() -> None:
    snap = replace(FULL, now=NOW - timedelta(hours=1))
    assert readiness(snap) == (
        True,
        "ok: last cycle (incremental) finished 0s ago at 2026-12-02 01:13:20 UTC",
    )


def test_not_ready_when_the_state_cannot_be_read(server: HealthServer, box: Box) -> None:
    box.error = OSError("disk I/O error")
    r = get(server, "/readyz")
    assert (r.status_code, r.text) == (503, "state unavailable: OSError\n")


# Server life cycle


def test_stop_closes_the_port(box: Box) -> None:
    srv = HealthServer("127.0.0.1:0", box, poll_interval=FAST_STOP)
    srv.start()
    port = srv.port
    srv.stop()
    srv.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not started"):
        _ = srv.port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10).close()


def test_start_twice_is_refused(server: HealthServer) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        server.start()


def test_a_taken_port_fails_at_start(server: HealthServer, box: Box) -> None:
    with pytest.raises(OSError):
        HealthServer(("127.0.0.1", server.port), box).start()


def test_off_cannot_be_served(box: Box) -> None:
    with pytest.raises(ValueError, match="off"):
        HealthServer("off", box)


def test_concurrent_requests_are_served(server: HealthServer) -> None:
    # A client that connects and sends nothing must not block others (threaded server).
    with socket.create_connection(("127.0.0.1", server.port)):
        assert get(server, "/healthz").status_code == 200


# BILLING_SYNC_HTTP_ADDR


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("127.0.0.1", 9464)),
        ("", ("127.0.0.1", 9464)),
        ("  ", ("127.0.0.1", 9464)),
        ("off", None),
        ("OFF", None),
        (" off ", None),
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("localhost:0", ("localhost", 0)),
        ("metrics.internal.example:65535", ("metrics.internal.example", 65535)),
        ("[::1]:9464", ("::1", 9464)),
        ("[::]:9464", ("::", 9464)),
        ("[fe80::1%eth0]:9464", ("fe80::1%eth0", 9464)),
    ],
)
def test_parse_http_addr(value: str | None, expected: tuple[str, int] | None) -> None:
    assert parse_http_addr(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "9464",
        ":9464",
        "localhost",
        "localhost:",
        "localhost:http",
        "localhost:-1",
        "localhost:65536",
        "localhost:123456",
        "localhost:٣",  # a non-ASCII digit
        "::1:9464",
        "[::1]",
        "[::1:9464",
        "[nope]:9464",
        "[127.0.0.1]:9464",
        "999.0.0.1:9464",
        "1.2.3:9464",
        "bad_host:9464",
        "-bad.example:9464",
        "a..b:9464",
        "http://127.0.0.1:9464",
        "on",
    ],
)
def test_parse_http_addr_rejects_malformed(value: str) -> None:
    with pytest.raises(ValueError, match="BILLING_SYNC_HTTP_ADDR") as caught:
        parse_http_addr(value)
    assert repr(value) in str(caught.value)
