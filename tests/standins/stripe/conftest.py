"""Fixtures: a Stripe stand-in on a free loopback port and a stripe-python client for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
import stripe

from standins.stripe import StripeStandIn

# 2026-11-02 00:00 UTC: a fixed "now" so period arithmetic in tests is exact.
T0 = 1_793_577_600


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    standin = StripeStandIn(api_key="sk_test_fake_standin")
    standin.set_time(T0)
    standin.start(host="127.0.0.1", port=0)
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture
def client(standin: StripeStandIn) -> stripe.StripeClient:
    return stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url})


@pytest.fixture
def monthly(client: stripe.StripeClient) -> stripe.Price:
    prod = client.v1.products.create({"name": "Team"})
    return client.v1.prices.create({
        "product": prod.id, "currency": "usd", "unit_amount": 2000,
        "recurring": {"interval": "month"},
    })  # fmt: skip


@pytest.fixture
def make_customer(client: stripe.StripeClient) -> Callable[..., stripe.Customer]:
    """A customer, by default paying with ``pm_card_visa``; ``card=None`` for no card."""

    def make(card: str | None = "pm_card_visa", clock: str | None = None) -> stripe.Customer:
        params: dict = {"name": "Acme", "email": "billing@acme.test"}
        if card:
            params.update(payment_method=card, invoice_settings={"default_payment_method": card})
        if clock:
            params["test_clock"] = clock
        return client.v1.customers.create(params)

    return make


@pytest.fixture
def raw(standin: StripeStandIn) -> Iterator[Callable[..., tuple[int, dict]]]:
    """``raw(path, params)``: a GET over plain HTTP, for exact bodies and status codes."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {standin.api_key}"

    def get(path: str, params: dict | list | None = None) -> tuple[int, dict]:
        r = session.get(standin.base_url + path, params=params, timeout=5)
        return r.status_code, r.json()

    yield get
    session.close()
