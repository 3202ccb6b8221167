"""Fixtures: a Chargebee stand-in on a free loopback port, frozen at T0, and clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import chargebee
import pytest
import requests

from standins.chargebee import ChargebeeStandIn

# 2026-11-02 00:00 UTC: a fixed "now" so term arithmetic in tests is exact.
T0 = 1_793_577_600
DAY = 86_400


@pytest.fixture
def standin() -> Iterator[ChargebeeStandIn]:
    s = ChargebeeStandIn(api_key="test_fake_standin_key", site="acme-test")
    s.set_time(T0)
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def cb(standin: ChargebeeStandIn, monkeypatch: pytest.MonkeyPatch) -> chargebee.Chargebee:
    # chargebee-python picks https while this class attribute is true (see the package doc).
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", False)
    return standin.sdk_client()


class Http:
    """Raw HTTP with Basic auth, for what the SDK cannot send (bad params, wrong methods)."""

    def __init__(self, standin: ChargebeeStandIn) -> None:
        self.base = standin.api_base
        self.session = requests.Session()
        self.session.auth = (standin.api_key, "")

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base + path, params=params, timeout=5)

    def post(self, path: str, **data: Any) -> requests.Response:
        return self.session.post(self.base + path, data=data, timeout=5)

    def ok(self, path: str, **data: Any) -> dict[str, Any]:
        r = self.post(path, **data)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def http(standin: ChargebeeStandIn) -> Http:
    return Http(standin)


def form(params: dict[str, Any]) -> dict[str, Any]:
    """Flatten params the way chargebee-python does (``items[field][i]``, ``ids[i]``)."""
    from chargebee import util

    return dict(util.serialize(params))


@pytest.fixture
def catalog(http: Http) -> dict[str, str]:
    """A plan family: monthly per-unit plan (20.00 USD), a 14-day trial plan, a monthly addon,
    tiered / volume / stairstep plans, a yearly plan and a 10% forever coupon.

    Set up over raw HTTP: chargebee-python builds a new httpx client (and TLS context) per call,
    ~30 ms each, which would dominate the suite; the SDK itself is exercised by the tests."""
    http.ok("/item_families", id="fam", name="Family")
    for item, kind in (("team", "plan"), ("seats", "addon"), ("usage", "plan")):
        http.ok("/items", id=item, name=item.title(), type=kind, item_family_id="fam")
    prices = {
        "monthly": {"item_id": "team", "pricing_model": "per_unit", "price": 2000},
        "trial": {"item_id": "team", "pricing_model": "flat_fee", "price": 5000,
                  "trial_period": 14, "trial_period_unit": "day"},
        "yearly": {"item_id": "team", "pricing_model": "flat_fee", "price": 120000,
                   "period_unit": "year"},
        "addon": {"item_id": "seats", "pricing_model": "per_unit", "price": 500},
    }  # fmt: skip
    tiers = [{"starting_unit": 1, "ending_unit": 10, "price": 1000},
             {"starting_unit": 11, "price": 800}]
    for model in ("tiered", "volume", "stairstep"):
        prices[model] = {"item_id": "usage", "pricing_model": model, "tiers": tiers}
    for key, params in prices.items():
        http.ok("/item_prices", **form({"id": f"p-{key}", "name": f"Price {key}",
                                        "period_unit": "month", "period": 1, **params}))
    http.ok("/coupons/create_for_items", id="TENOFF", name="Ten off",
            discount_type="percentage", discount_percentage=10, duration_type="forever",
            apply_on="invoice_amount")  # fmt: skip
    return {k: f"p-{k}" for k in prices}


@pytest.fixture
def subscribe(http: Http, catalog: dict[str, str]) -> Callable[..., Any]:
    """Create a customer and a subscription to ``price`` (a catalog key); returns the answer
    parsed into chargebee-python's typed ``CreateWithItemsResponse``."""
    from chargebee.models.subscription.responses import CreateWithItemsResponse
    from chargebee.responses import Response

    counter = iter(range(1, 10_000))

    def make(price: str = "monthly", quantity: int | None = None, customer: str | None = None,
             **params: Any) -> Any:  # fmt: skip
        cid = customer or f"cus-{next(counter)}"
        if customer is None:
            http.ok("/customers", id=cid, first_name="Ada", email=f"{cid}@acme.test")
        item: dict[str, Any] = {"item_price_id": catalog[price]}
        if quantity is not None:
            item["quantity"] = quantity
        r = http.post(f"/customers/{cid}/subscription_for_items",
                      **form({"subscription_items": [item], **params}))
        assert r.status_code == 200, r.text
        return Response(CreateWithItemsResponse, r.json(), r.headers, 200).parse()

    return make
