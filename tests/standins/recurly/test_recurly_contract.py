"""Contract: every field the stand-in sends is declared on the recurly 4.x SDK's resource class
(``Resource.schema``) with a compatible JSON type, recursively through nested resources; and
the SDK itself, in its strict mode, casts every answer without complaint."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import recurly
from recurly import resources
from recurly.resource import DT_FORMAT, Resource

from standins.recurly import RecurlyStandIn

T0 = 1_793_577_600  # 2026-11-02 00:00 UTC
DAY = 86_400
# Keys Recurly documents that the SDK does not declare, and why they are still sent.
ALLOWED_EXTRA = {
    # The documented 406 body lists the versions; ErrorMayHaveTransaction has no field for it.
    ("ErrorMayHaveTransaction", "acceptable_accept_headers"),
}


def class_for(obj: dict[str, Any]) -> type:
    name = "".join(p.title() for p in obj["object"].split("_"))
    klass = getattr(resources, name, None)
    assert klass is not None, f"the SDK has no resource class for object {obj['object']!r}"
    return klass


def conforms(value: Any, kind: Any, path: str, problems: list[str]) -> None:
    if value is None:
        return
    if kind is dt:  # the SDK's schema names the datetime module for timestamps
        try:
            dt.datetime.strptime(value, DT_FORMAT)
        except (TypeError, ValueError):
            problems.append(f"{path}: {value!r} is not a timestamp the SDK parses")
        return
    if isinstance(kind, str):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object for {kind}")
            return
        check_object(value, getattr(resources, kind), path, problems)
        return
    if isinstance(kind, list):
        if not isinstance(value, list):
            problems.append(f"{path}: expected an array")
            return
        for i, item in enumerate(value):
            conforms(item, kind[0], f"{path}[{i}]", problems)
        return
    ok = {
        str: isinstance(value, str), bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, float), dict: isinstance(value, dict),
        list: isinstance(value, list),
    }.get(kind)  # fmt: skip
    if ok is None:
        problems.append(f"{path}: unknown schema type {kind!r}")
    elif not ok:
        problems.append(f"{path}: {value!r} is not a JSON {kind.__name__}")


def check_object(obj: dict[str, Any], klass: type, path: str, problems: list[str]) -> None:
    schema = klass.schema
    for key, value in obj.items():
        if (klass.__name__, key) in ALLOWED_EXTRA:
            continue
        if key not in schema:
            problems.append(f"{path}.{key}: not declared on recurly.resources.{klass.__name__}")
            continue
        conforms(value, schema[key], f"{path}.{key}", problems)


@pytest.fixture(scope="module")
def answers() -> dict[str, Any]:
    """Raw JSON for every resource and state the stand-in produces, gathered over HTTP."""
    import requests

    with RecurlyStandIn(api_key="fake-contract") as emu:
        emu.set_time(T0)
        s = requests.Session()
        s.auth = (emu.api_key, "")
        s.headers["Accept"] = "application/vnd.recurly.v2021-02-25"

        def call(method: str, path: str, body: Any = None, status: int = 200) -> Any:
            r = s.request(method, emu.base_url + path, json=body, timeout=5)
            assert r.status_code == status, r.text
            return r.json()

        usd = [{"currency": "USD", "unit_amount": 10}]
        plan = call("POST", "/plans", {
            "code": "p", "name": "P", "currencies": usd, "add_ons": [
                {"code": "seat", "name": "Seat", "currencies": usd},
                {"code": "use", "name": "Use", "add_on_type": "usage", "usage_type": "price",
                 "currencies": [{"currency": "USD", "unit_amount_decimal": "0.0001"}]},
                {"code": "tier", "name": "Tier", "tier_type": "tiered",
                 "tiers": [{"ending_quantity": 5, "currencies": usd}, {"currencies": usd}]},
            ]}, 201)  # fmt: skip
        out: dict[str, Any] = {"plan": plan}
        out["add_ons"] = call("GET", f"/plans/{plan['id']}/add_ons")
        for body in ({"code": "pct", "name": "x", "discount_type": "percent",
                      "discount_percent": 5},
                     {"code": "fix", "name": "x", "discount_type": "fixed", "duration": "temporal",
                      "temporal_unit": "month", "temporal_amount": 3,
                      "currencies": [{"currency": "USD", "discount": 2}]},
                     {"code": "free", "name": "x", "discount_type": "free_trial",
                      "free_trial_unit": "week", "free_trial_amount": 2}):  # fmt: skip
            out[f"coupon_{body['code']}"] = call("POST", "/coupons", body, 201)
        base = {"plan_code": "p", "currency": "USD"}
        subs = {
            "active": {"account": {"code": "a1", "email": "a@x.test",
                                   "address": {"country": "US", "postal_code": "94105"}},
                       "add_ons": [{"code": "seat", "quantity": 2}, {"code": "use"},
                                   {"code": "tier", "quantity": 3}], "coupon_codes": ["pct"]},
            "trial": {"account": {"code": "a2"}, "trial_ends_at": "2026-11-20T00:00:00Z"},
            "future": {"account": {"code": "a3"}, "starts_at": "2026-12-20"},
            "canceled": {"account": {"code": "a4"}}, "paused": {"account": {"code": "a5"}},
            "expired": {"account": {"code": "a6"}}, "failed": {"account": {"code": "a7"},
                                                           "starts_at": "2026-12-20"},
        }  # fmt: skip
        ids = {k: call("POST", "/subscriptions", {**base, **v}, 201)["id"] for k, v in subs.items()}
        call("PUT", f"/subscriptions/{ids['paused']}/pause", {"remaining_pause_cycles": 1})
        call("DELETE", f"/subscriptions/{ids['expired']}")
        call("PUT", f"/subscriptions/{ids['failed']}/cancel")
        out["redemption"] = call("POST", "/accounts/code-a1/coupon_redemptions/active",
                                 {"coupon_id": "code-fix"}, 201)  # fmt: skip
        emu.fail_payments("code-a1")
        emu.advance_time(31 * DAY)
        call("PUT", f"/subscriptions/{ids['canceled']}/cancel")
        for k, sid in ids.items():
            out[f"subscription_{k}"] = call("GET", f"/subscriptions/{sid}")
        out["accounts"] = call("GET", "/accounts?limit=200")
        out["account_closed"] = call("DELETE", "/accounts/code-a6")
        out["invoices"] = call("GET", "/invoices?limit=200")
        out["redemptions"] = call("GET", "/accounts/code-a1/coupon_redemptions")
        out["subscriptions"] = call("GET", "/subscriptions?limit=2")
        out["error_validation"] = call("POST", "/accounts", {}, 422)["error"]
        out["error_not_found"] = call("GET", "/plans/code-none", None, 404)["error"]
        out["error_bad_request"] = call("GET", "/plans?x=1", None, 400)["error"]
        emu.fail_payments("code-a2")
        out["error_transaction"] = call("POST", "/subscriptions",
                                        {**base, "account": {"code": "a2"}}, 422)["error"]
        s.headers["Accept"] = "application/json"
        out["error_version"] = call("GET", "/plans", None, 406)["error"]
        states = {out[f"subscription_{k}"]["state"] for k in subs}
        assert states == {"active", "canceled", "expired", "failed", "future", "paused"}
        return out


def test_every_field_is_declared_with_a_compatible_type(answers) -> None:
    problems: list[str] = []
    seen: set[str] = set()
    for name, obj in answers.items():
        if name.startswith("error_"):
            check_object(obj, resources.ErrorMayHaveTransaction, name, problems)
            continue
        items = obj["data"] if obj.get("object") == "list" else [obj]
        if obj.get("object") == "list":
            assert set(obj) == {"object", "has_more", "next", "data"}
        for i, item in enumerate(items):
            klass = class_for(item)
            seen.add(klass.__name__)
            check_object(item, klass, f"{name}[{i}]", problems)
    assert not problems, "\n".join(problems)
    assert seen >= {"Account", "Plan", "AddOn", "Coupon", "CouponRedemption", "Subscription",
                    "Invoice"}


def test_allow_list_entries_are_still_needed(answers) -> None:
    for klass, key in ALLOWED_EXTRA:
        assert key not in getattr(resources, klass).schema
        assert any(key in v for k, v in answers.items() if k.startswith("error_"))


def test_the_sdk_casts_every_answer_in_strict_mode(answers, monkeypatch) -> None:
    monkeypatch.setattr(recurly, "STRICT_MODE", True)
    for name, obj in answers.items():
        if name.startswith("error_"):
            if name != "error_version":
                Resource.cast_json(dict(obj, object="error_may_have_transaction"))
            continue
        cast = Resource.cast_json(dict(obj))
        if obj.get("object") != "list":
            assert type(cast).__name__ == class_for(obj).__name__


def test_sdk_round_trip_through_the_connection(monkeypatch) -> None:
    """The SDK end to end in strict mode: requests, paging and the typed resources it builds."""
    monkeypatch.setattr(recurly, "STRICT_MODE", True)
    with RecurlyStandIn() as emu:
        emu.set_time(T0)
        c = emu.sdk_client()
        c.create_plan({"code": "p", "name": "P", "currencies": [{"currency": "USD",
                                                                  "unit_amount": 9.99}]})
        sub = c.create_subscription({"plan_code": "p", "currency": "USD",
                                     "account": {"code": "x"}})  # fmt: skip
        assert isinstance(sub, resources.Subscription)
        assert isinstance(sub.account, resources.AccountMini)
        assert isinstance(sub.current_period_ends_at, dt.datetime)
        assert sub.unit_amount == 9.99 and sub.get_response().request_id
        assert sub.get_response().rate_limit == 2000
        got = list(c.list_account_subscriptions("code-x").items())
        assert [s.id for s in got] == [sub.id]
