"""Benchmark and fault controls: counters, injected 429/500/503, latency, the rate limit."""

from __future__ import annotations

import time

import chargebee
import pytest
import requests
from chargebee.retry_config import RetryConfig

from standins.chargebee import TEST_SITE_RATE_LIMIT, ChargebeeStandIn


def test_counters_per_endpoint_template_and_reset(cb, standin) -> None:
    cb.Customer.create({"id": "c1"})
    cb.Customer.retrieve("c1")
    cb.Customer.retrieve("c1")
    cb.Subscription.list()
    assert standin.counters == {"POST /api/v2/customers": 1, "GET /api/v2/customers/{id}": 2,
                                "GET /api/v2/subscriptions": 1}
    standin.reset_counters()
    assert standin.counters == {} and standin.total_requests() == 0


def test_injected_429_with_retry_after(cb, standin, http) -> None:
    standin.fail_next(1, 429)
    r = http.get("/customers")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    body = r.json()
    assert body["api_error_code"] == "api_request_limit_exceeded" and "type" not in body
    assert http.get("/customers").status_code == 200  # spent


def test_injected_faults_by_path_and_sdk_exceptions(cb, standin) -> None:
    standin.fail_next(1, 503, path="/api/v2/subscriptions*", code="site_not_ready")
    assert cb.Customer.list().list == []  # another path is not affected
    with pytest.raises(chargebee.APIError) as exc:
        cb.Subscription.list()
    assert exc.value.http_status_code == 503 and exc.value.api_error_code == "site_not_ready"
    standin.fail_next(1, 500)
    with pytest.raises(chargebee.APIError) as exc:
        cb.Customer.list()
    assert exc.value.api_error_code == "internal_error"
    with pytest.raises(ValueError):
        standin.fail_next(1, 502)


def test_sdk_retries_are_off_by_default_and_retry_5xx_when_on(cb, standin) -> None:
    standin.fail_next(1, 503)
    with pytest.raises(chargebee.APIError):
        cb.Customer.list()
    assert standin.counters["GET /api/v2/customers"] == 1
    cb.update_retry_config(RetryConfig(enabled=True, max_retries=2, delay_ms=1))
    standin.fail_next(2, 500)
    assert cb.Customer.list().list == []
    assert standin.counters["GET /api/v2/customers"] == 4


def test_latency_is_added_per_request(cb, standin) -> None:
    standin.set_latency(0.05)
    start = time.perf_counter()
    for _ in range(3):
        cb.Customer.list()
    assert time.perf_counter() - start >= 0.15
    standin.set_latency(0)


def test_rate_limit_per_minute_by_the_clock() -> None:
    with ChargebeeStandIn(rate_limit=True) as s:
        s.set_time(1_793_577_600)
        session = requests.Session()
        session.auth = (s.api_key, "")
        codes = [session.get(s.api_base + "/customers", timeout=5).status_code
                 for _ in range(TEST_SITE_RATE_LIMIT + 1)]
        assert codes[:-1] == [200] * TEST_SITE_RATE_LIMIT and codes[-1] == 429
        r = session.get(s.api_base + "/customers", timeout=5)
        assert r.status_code == 429 and r.headers["Retry-After"] == "60"
        s.advance_time(45)
        assert session.get(s.api_base + "/customers", timeout=5).headers["Retry-After"] == "15"
        s.advance_time(15)
        assert session.get(s.api_base + "/customers", timeout=5).status_code == 200
    off = ChargebeeStandIn()
    assert off.site_state.settings.rate_limit is None


def test_idempotency_key_replays(standin, http) -> None:
    headers = {"chargebee-idempotency-key": "k-1"}
    r1 = http.session.post(standin.api_base + "/customers", data={"first_name": "x"},
                           headers=headers, timeout=5)  # fmt: skip
    r2 = http.session.post(standin.api_base + "/customers", data={"first_name": "x"},
                           headers=headers, timeout=5)  # fmt: skip
    assert r1.json() == r2.json() and r2.headers["chargebee-idempotency-replayed"] == "true"


def test_admin_http_controls(standin, http) -> None:
    base = standin.base_url + "/_standin"
    requests.post(base + "/fail_next", json={"n": 1, "status": 500}, timeout=5)
    assert http.get("/customers").status_code == 500
    got = requests.get(base + "/counters", timeout=5).json()
    assert got == {"counters": {"GET /api/v2/customers": 1}, "total": 1}
    now = requests.post(base + "/advance_time", json={"seconds": 60}, timeout=5).json()["now"]
    assert now == standin.now()


def test_time_machine_travel_forward(cb, standin) -> None:
    dest = standin.now() + 86_400
    tm = cb.TimeMachine.travel_forward("delorean", {"destination_time": dest}).time_machine
    assert tm.time_travel_status == "succeeded" and standin.now() == dest
    with pytest.raises(chargebee.InvalidRequestError):
        cb.TimeMachine.travel_forward("delorean", {"destination_time": dest - 10})


def test_sdk_retries_429_beyond_max_retries(cb, standin) -> None:
    """chargebee-python 3.29 retries a 429 with no cap (max_retries is not applied to it), and
    looks for Retry-After on an attribute its errors do not have, so it waits delay_ms."""
    cb.update_retry_config(RetryConfig(enabled=True, max_retries=1, delay_ms=1))
    standin.fail_next(3, 429)
    assert cb.Customer.list().list == []
    assert standin.counters["GET /api/v2/customers"] == 4
