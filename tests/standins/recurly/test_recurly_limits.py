"""Rate limits by the stand-in's clock, injected faults, latency, counters and bulk seeding."""

from __future__ import annotations

import time

import pytest
import recurly
import requests


def test_rate_limit_headers_on_every_answer(standin, http) -> None:
    ok = http("GET", "/accounts")
    missing = http("GET", "/accounts/nope")
    for r in (ok, missing):
        assert r.headers["X-RateLimit-Limit"] == "2000"  # sandbox: 400/min over 5 minutes
        assert int(r.headers["X-RateLimit-Reset"]) == standin.now() + 300
    assert int(missing.headers["X-RateLimit-Remaining"]) == 1998


def test_sandbox_counts_every_method_and_refuses_past_the_window_budget(standin, client) -> None:
    standin.set_rate_limit("sandbox", enforce=True)
    standin.limiter.budget = 5  # the same rule, a smaller window budget for a fast test
    client.create_account({"code": "a"})
    for _ in range(4):
        client.get_account("code-a")
    with pytest.raises(recurly.errors.RateLimitedError) as exc:
        client.list_accounts().first()
    resp = exc.value.error.get_response()
    assert resp.status == 429 and resp.rate_limit_remaining == 0
    standin.advance_time(299)
    with pytest.raises(recurly.errors.RateLimitedError):
        client.get_account("code-a")
    standin.advance_time(1)  # the first requests leave the sliding window
    assert client.get_account("code-a").code == "a"


def test_production_counts_only_gets(standin, http) -> None:
    standin.set_rate_limit("production", enforce=True)
    assert standin.limiter.budget == 5000
    standin.limiter.budget = 2
    assert http("POST", "/accounts", json={"code": "a"}).status_code == 201
    assert http("GET", "/accounts").status_code == 200
    r = http("GET", "/accounts")
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert http("PUT", "/accounts/code-a", json={"company": "c"}).status_code == 200
    limited = http("GET", "/accounts")
    assert limited.status_code == 429 and limited.json()["error"]["type"] == "rate_limited"


def test_faults_by_path_pattern_and_status(standin, client, http) -> None:
    client.create_account({"code": "a"})
    standin.fail_next(1, 503, "GET /accounts/*")
    standin.fail_next(1, 500, "/subscriptions")
    assert http("GET", "/plans").status_code == 200  # not matched
    with pytest.raises(recurly.errors.ServiceNotAvailableError):
        client.get_account("code-a")
    with pytest.raises(recurly.errors.InternalServerError):
        client.list_subscriptions().first()
    assert client.get_account("code-a").code == "a"  # spent
    standin.fail_next(2, 429)
    assert http("GET", "/plans").status_code == 429
    assert http("GET", "/plans").json()["error"]["type"] == "rate_limited"
    assert http("GET", "/plans").status_code == 200
    with pytest.raises(ValueError):
        standin.fail_next(1, 404)


def test_counters_per_endpoint_template_and_reset(standin, client) -> None:
    client.create_account({"code": "a"})
    client.get_account("code-a")
    client.get_account("code-a")
    list(client.list_subscriptions().items())
    assert standin.counters == {"POST /accounts": 1, "GET /accounts/{account_id}": 2,
                                "GET /subscriptions": 1}  # fmt: skip
    standin.reset_counters()
    assert standin.counters == {} and standin.total_requests() == 0


def test_latency_is_added_per_request(standin, http) -> None:
    standin.set_latency(0.05)
    start = time.perf_counter()
    for _ in range(3):
        http("GET", "/plans")
    assert time.perf_counter() - start >= 0.15
    standin.set_latency(0)


def test_admin_http_controls(standin, http) -> None:
    base = standin.base_url + "/_standin"
    requests.post(base + "/fail_next", json={"n": 1, "status": 500}, timeout=5)
    assert http("GET", "/plans").status_code == 500
    got = requests.get(base + "/counters", timeout=5).json()
    assert got == {"counters": {"GET /plans": 1}, "total": 1}
    now = requests.post(base + "/advance_time", json={"seconds": 60}, timeout=5).json()["now"]
    assert now == standin.now()


def test_bulk_seed_is_listable(standin, client) -> None:
    # How fast seeding is belongs to the benchmark, not to a timed test on a shared machine.
    ids = standin.seed_bulk(accounts=10_000, subscriptions=10_000)
    assert len(ids) == 10_000
    page = client.list_subscriptions(params={"limit": 200, "sort": "updated_at", "order": "asc"})
    first = next(page.pages())
    assert len(first) == 200
    states = {s["state"] for s in standin.store.data["subscription"].values()}
    assert states == {"active", "canceled", "expired", "paused"}
    assert sum(i["state"] == "past_due" for i in standin.store.data["invoice"].values()) > 100
    assert client.list_accounts(params={"past_due": "true"}).first().has_past_due_invoice


def test_serve_forever_prints_url_and_key() -> None:
    import threading

    from standins.recurly import serve_forever

    lines: list[str] = []
    done = threading.Event()

    def out(line: str) -> None:
        lines.append(line)
        if len(lines) == 2:
            done.set()

    serve_forever(0, out, api_key="k", until=done)
    assert lines[0].startswith("Recurly stand-in (API v2021-02-25) listening on http://127.0.0.1:")
    assert lines[1] == "API key: k"
