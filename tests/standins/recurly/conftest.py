"""Fixtures: a Recurly stand-in on a free loopback port, the recurly SDK and a raw session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from standins.recurly import RecurlyStandIn

# 2026-11-02 00:00 UTC: a fixed "now" so period arithmetic in tests is exact.
T0 = 1_793_577_600
DAY = 86_400
ACCEPT = "application/vnd.recurly.v2021-02-25"


@pytest.fixture
def standin() -> Iterator[RecurlyStandIn]:
    emu = RecurlyStandIn(api_key="fake-recurly-key")
    emu.set_time(T0)
    emu.start(host="127.0.0.1", port=0)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def client(standin: RecurlyStandIn) -> Any:
    """recurly.Client pointed at the stand-in (private connection swapped; see the package)."""
    return standin.sdk_client()


@pytest.fixture
def http(standin: RecurlyStandIn) -> Callable[..., requests.Response]:
    """Raw requests with the headers the SDK sends: ``http("GET", "/accounts", params=...)``."""
    session = requests.Session()
    session.auth = (standin.api_key, "")
    session.headers.update({"Accept": ACCEPT, "Content-Type": "application/json"})

    def call(method: str, path: str, **kw: Any) -> requests.Response:
        return session.request(method, standin.base_url + path, timeout=5, **kw)

    return call


@pytest.fixture
def plan(client: Any) -> Any:
    """A monthly USD/EUR plan with a fixed seat add-on and a usage add-on."""
    return client.create_plan({
        "code": "team", "name": "Team", "interval_unit": "months", "interval_length": 1,
        "currencies": [{"currency": "USD", "unit_amount": 20.0},
                       {"currency": "EUR", "unit_amount": 18.5}],
        "add_ons": [
            {"code": "seat", "name": "Seat", "currencies": [{"currency": "USD", "unit_amount": 5}]},
            {"code": "api", "name": "API calls", "add_on_type": "usage", "usage_type": "price",
             "currencies": [{"currency": "USD", "unit_amount_decimal": "0.000125"}]},
        ],
    })  # fmt: skip


@pytest.fixture
def subscribe(client: Any, plan: Any) -> Callable[..., Any]:
    def make(code: str = "acme", **extra: Any) -> Any:
        body = {"plan_code": plan.code, "currency": "USD", "account": {"code": code}, **extra}
        return client.create_subscription(body)

    return make
