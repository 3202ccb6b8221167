"""Benchmark and fault controls: counters, latency, injected 429 and 500, admin paths."""

from __future__ import annotations

import time

import pytest
import requests
import stripe


def test_counters_per_endpoint_template_and_reset(standin, client, make_customer) -> None:
    cus = make_customer()
    client.v1.customers.retrieve(cus.id)
    client.v1.customers.retrieve(cus.id)
    client.v1.subscriptions.list()
    assert standin.counters["GET /v1/customers/{id}"] == 2
    assert standin.counters["GET /v1/subscriptions"] == 1
    assert standin.total_requests() == 4
    standin.reset_counters()
    assert standin.counters == {} and standin.total_requests() == 0


def test_injected_429_is_not_retried_by_stripe_python(standin) -> None:
    client = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url},
                                 max_network_retries=2)  # fmt: skip
    standin.fail_next(1, status=429)
    with pytest.raises(stripe.RateLimitError) as exc:
        client.v1.customers.list()
    assert exc.value.http_status == 429
    assert exc.value.json_body["error"]["code"] == "rate_limit"
    assert standin.total_requests() == 1  # a plain 429 is not retried by the library
    assert client.v1.customers.list().data == []  # the fault is spent


def test_injected_500_is_retried_when_retries_are_on(standin) -> None:
    retrying = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url},
                                   max_network_retries=2)  # fmt: skip
    standin.fail_next(2, status=500)
    assert retrying.v1.customers.list().data == []
    assert standin.counters["GET /v1/customers"] == 3
    plain = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url})
    standin.fail_next(1, status=500)
    with pytest.raises(stripe.APIError):
        plain.v1.customers.list()


def test_latency_is_added_per_request(standin, client) -> None:
    client.v1.customers.list()
    standin.set_latency(0.05)
    start = time.perf_counter()
    for _ in range(4):
        client.v1.customers.list()
    assert time.perf_counter() - start >= 0.2
    standin.set_latency(0)


def test_idempotent_retry_replays_instead_of_creating_twice(standin) -> None:
    headers = {"Authorization": f"Bearer {standin.api_key}", "Idempotency-Key": "fake-key-1"}
    r1 = requests.post(standin.base_url + "/v1/customers", data={"name": "x"}, headers=headers,
                       timeout=5)  # fmt: skip
    r2 = requests.post(standin.base_url + "/v1/customers", data={"name": "x"}, headers=headers,
                       timeout=5)  # fmt: skip
    assert r1.json()["id"] == r2.json()["id"] and r2.headers["Idempotent-Replayed"] == "true"


def test_admin_http_controls(standin, client) -> None:
    base = standin.base_url + "/_standin"
    requests.post(base + "/fail_next", json={"n": 1, "status": 500}, timeout=5)
    with pytest.raises(stripe.APIError):
        client.v1.customers.list()
    got = requests.get(base + "/counters", timeout=5).json()
    assert got["counters"] == {"GET /v1/customers": 1} and got["total"] == 1
    requests.post(base + "/reset_counters", timeout=5)
    assert standin.total_requests() == 0


def test_concurrent_clients_are_safe(standin, client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> str:
        return client.v1.customers.create({"name": f"c{i}"}).id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(create, range(40)))
    assert len(set(ids)) == 40
    listed = [c.id for c in client.v1.customers.list({"limit": 100}).data]
    assert sorted(listed) == sorted(ids)
