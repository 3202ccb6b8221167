"""Fixtures for the Chargebee adapter: the stand-in frozen at T0, an SDK client aimed at it,
raw HTTP for setting data up (chargebee-python builds an httpx client per call: slow), and a
small catalog."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import chargebee
import pytest
import requests

from standins.chargebee import ChargebeeStandIn
from sync.chargebee_io import ChargebeeSource

T0 = 1_793_577_600  # 2026-11-02 00:00 UTC
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
def cb(standin: ChargebeeStandIn, monkeypatch: pytest.MonkeyPatch) -> Any:
    # chargebee-python picks https while this class attribute is true.
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", False)
    return standin.sdk_client()


@pytest.fixture
def source(cb: Any) -> ChargebeeSource:
    return ChargebeeSource(cb, sleep=lambda _s: None)


class Http:
    def __init__(self, standin: ChargebeeStandIn) -> None:
        self.base = standin.api_base
        self.session = requests.Session()
        self.session.auth = (standin.api_key, "")

    def ok(self, path: str, **data: Any) -> dict[str, Any]:
        r = self.session.post(self.base + path, data=data, timeout=5)
        assert r.status_code == 200, r.text
        return r.json()


def form(params: dict[str, Any]) -> dict[str, Any]:
    from chargebee import util

    return dict(util.serialize(params))


@pytest.fixture
def http(standin: ChargebeeStandIn) -> Iterator[Http]:
    h = Http(standin)
    yield h
    h.session.close()


@pytest.fixture
def catalog(http: Http) -> None:
    """Plans: per-unit 20.00/month, yearly flat 1,200.00, stairstep tiers; a 5.00 addon; a
    one-off charge; coupons 10% forever and 50% one-time."""
    http.ok("/item_families", id="fam", name="Family")
    for item, kind in (("team", "plan"), ("seats", "addon"), ("setup", "charge")):
        http.ok("/items", id=item, name=item.title(), type=kind, item_family_id="fam")
    prices = {
        "monthly": {"item_id": "team", "pricing_model": "per_unit", "price": 2000},
        "yearly": {"item_id": "team", "pricing_model": "flat_fee", "price": 120000,
                   "period_unit": "year"},
        "stairs": {"item_id": "team", "pricing_model": "stairstep",
                   "tiers": [{"starting_unit": 1, "ending_unit": 10, "price": 1000},
                             {"starting_unit": 11, "price": 8000}]},
        "addon": {"item_id": "seats", "pricing_model": "per_unit", "price": 500},
    }  # fmt: skip
    for key, params in prices.items():
        params.setdefault("period_unit", "month")
        http.ok("/item_prices", **form({"id": f"p-{key}", "name": f"Price {key}", **params}))
    http.ok("/item_prices", id="p-setup", name="Setup", item_id="setup", price=9900)
    http.ok("/coupons/create_for_items", id="TENOFF", name="Ten off", discount_type="percentage",
            discount_percentage=10, duration_type="forever", apply_on="invoice_amount")
    http.ok("/coupons/create_for_items", id="HALFONCE", name="Half once",
            discount_type="percentage", discount_percentage=50, duration_type="one_time",
            apply_on="invoice_amount")  # fmt: skip


@pytest.fixture
def subscribe(http: Http, catalog: None) -> Callable[..., dict[str, Any]]:
    """A customer ``cid`` with one subscription to ``items`` ((price key, quantity) pairs)."""

    def make(cid: str, *items: tuple[str, int | None], **params: Any) -> dict[str, Any]:
        http.ok("/customers", id=cid, company=f"{cid} Ltd")
        rows = [{"item_price_id": f"p-{k}", **({"quantity": q} if q else {})}
                for k, q in items or (("monthly", 1),)]  # fmt: skip
        return http.ok(f"/customers/{cid}/subscription_for_items",
                       **form({"subscription_items": rows, **params}))["subscription"]

    return make
