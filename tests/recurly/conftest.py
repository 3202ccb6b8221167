"""Fixtures for the Recurly source: the stand-in frozen at T0 over loopback, the source on a
``RecurlyHttp`` aimed at it (sleeps recorded and applied to the stand-in's clock, never slept),
and the recurly SDK for setting data up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from standins.recurly import RecurlyStandIn
from sync.recurly_io import RecurlyHttp, RecurlySource

T0 = 1_793_577_600  # 2026-11-02 00:00 UTC
DAY = 86_400
KEY = "fake-recurly-private-key-7f3a"


@pytest.fixture
def standin() -> Iterator[RecurlyStandIn]:
    emu = RecurlyStandIn(api_key=KEY)
    emu.set_time(T0)
    emu.start(host="127.0.0.1", port=0)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def client(standin: RecurlyStandIn) -> Any:
    return standin.sdk_client()


@pytest.fixture
def slept(standin: RecurlyStandIn) -> list[float]:
    return []


@pytest.fixture
def source(standin: RecurlyStandIn, slept: list[float]) -> Iterator[RecurlySource]:
    """Sleeping advances the stand-in's clock, so a wait for the rate-limit window works."""

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        standin.advance_time(int(seconds + 0.999))

    http = RecurlyHttp(KEY, standin.base_url)
    yield RecurlySource(http, sleep=sleep, clock=lambda: float(standin.now()))
    http.close()


@pytest.fixture
def plan(client: Any) -> Any:
    """Monthly 20.00 USD with a 5.00 seat add-on, a volume-tiered add-on and a usage add-on;
    coupons 10% forever and 50% single use."""
    tiers = [{"ending_quantity": 10, "currencies": [{"currency": "USD", "unit_amount": 10}]},
             {"currencies": [{"currency": "USD", "unit_amount": 8}]}]  # fmt: skip
    made = client.create_plan({
        "code": "team", "name": "Team", "interval_unit": "months", "interval_length": 1,
        "currencies": [{"currency": "USD", "unit_amount": 20.0}],
        "add_ons": [
            {"code": "seat", "name": "Seat", "currencies": [{"currency": "USD", "unit_amount": 5}]},
            {"code": "vol", "name": "Volume", "tier_type": "volume", "tiers": tiers},
            {"code": "api", "name": "API calls", "add_on_type": "usage", "usage_type": "price",
             "currencies": [{"currency": "USD", "unit_amount_decimal": "0.000125"}]},
        ],
    })  # fmt: skip
    client.create_plan({"code": "yearly", "name": "Team yearly", "interval_unit": "months",
                        "interval_length": 12,
                        "currencies": [{"currency": "USD", "unit_amount": 1200}]})  # fmt: skip
    client.create_coupon({"code": "tenoff", "name": "Ten off", "discount_type": "percent",
                          "discount_percent": 10, "duration": "forever"})  # fmt: skip
    client.create_coupon({"code": "halfonce", "name": "Half once", "discount_type": "percent",
                          "discount_percent": 50, "duration": "single_use"})  # fmt: skip
    return made


@pytest.fixture
def subscribe(client: Any, plan: Any) -> Callable[..., Any]:
    def make(code: str, plan_code: str = "team", **extra: Any) -> Any:
        body = {"plan_code": plan_code, "currency": "USD", "account": {"code": code,
                "company": f"{code} Ltd"}, **extra}  # fmt: skip
        return client.create_subscription(body)

    return make
