"""Recurly -> neutral values, pure: the status table and the MRR table (each expectation
worked out by hand in the comment beside it)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from sync.core import account_status, subscription_mrr
from sync.core.status import UnknownStatus
from sync.recurly_io.convert import Catalog, Invalid, Unsupported, customer, subscription

NOW = datetime(2026, 11, 2, tzinfo=UTC)
LATER = "2026-12-01T00:00:00Z"
EARLIER = "2026-10-01T00:00:00Z"
TIERS = [
    {"ending_quantity": 10, "currencies": [{"currency": "USD", "unit_amount": 10.0}]},
    {"ending_quantity": 999999999, "currencies": [{"currency": "USD", "unit_amount": 8.0}]},
]
CATALOG = Catalog(
    plans={
        "p-month": {"id": "p-month", "code": "month", "name": "Team", "interval_unit": "months",
                    "interval_length": 1},
        "p-year": {"id": "p-year", "code": "year", "name": "Team yearly",
                   "interval_unit": "months", "interval_length": 12},
        "p-week": {"id": "p-week", "code": "week", "name": "Weekly", "interval_unit": "days",
                   "interval_length": 7},
    },
    add_ons={
        "a-tiered": {"id": "a-tiered", "code": "tiered", "tier_type": "tiered", "tiers": TIERS},
        "a-volume": {"id": "a-volume", "code": "volume", "tier_type": "volume", "tiers": TIERS},
        "a-stairs": {"id": "a-stairs", "code": "stairs", "tier_type": "stairstep",
                     "tiers": TIERS},
    },
    coupons={
        "c-pct": {"id": "c-pct", "duration": "forever",
                  "discount": {"type": "percent", "percent": 10}},
        "c-five": {"id": "c-five", "duration": "forever",
                   "discount": {"type": "fixed", "currencies": [{"currency": "USD",
                                                                 "amount": 5.0}]}},
        "c-once": {"id": "c-once", "duration": "single_use",
                   "discount": {"type": "percent", "percent": 50}},
        "c-temp": {"id": "c-temp", "duration": "temporal",
                   "discount": {"type": "percent", "percent": 50}},
    },
)  # fmt: skip
ACCOUNT = {"id": "a1", "code": "acme", "state": "active", "company": "Acme",
           "has_past_due_invoice": False}  # fmt: skip


def raw(state: str = "active", plan: str = "p-month", unit: float = 20.0, quantity: int = 1,
        currency: str = "USD", add_ons: list[dict[str, Any]] | None = None,
        coupons: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"id": "s1", "state": state, "currency": currency, "unit_amount": unit,
            "quantity": quantity, "account": {"id": "a1", "code": "acme"},
            "plan": {"id": plan, "code": plan[2:], "name": "x"}, "add_ons": add_ons or [],
            "coupon_redemptions": [{"state": "active", "coupon": {"id": c}} for c in coupons],
            "current_period_started_at": EARLIER, "current_period_ends_at": LATER,
            **extra}  # fmt: skip


def add_on(aid: str, quantity: int = 1, unit: float | None = None, kind: str = "fixed",
           **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"id": f"sa-{aid}", "quantity": quantity, "unit_amount": unit,
            "add_on": {"id": aid, "code": aid, "add_on_type": kind}, **extra}  # fmt: skip


def value(sub: dict[str, Any], **account: Any) -> Any:
    return subscription(sub, CATALOG, NOW, {**ACCOUNT, **account})


STATUS_TABLE = [
    # (state, extra subscription fields, account fields, neutral state, Account status)
    ("active", {}, {}, "active", "Active"),
    ("active", {"trial_ends_at": LATER}, {}, "trialing", "Trialing"),
    ("active", {"trial_ends_at": EARLIER}, {}, "active", "Active"),  # trial over
    ("active", {}, {"has_past_due_invoice": True}, "past_due", "Past Due"),
    # canceled: still live, scheduled to end at expires_at -> Canceling, NOT Churned
    ("canceled", {"canceled_at": EARLIER, "expires_at": LATER}, {}, "active", "Canceling"),
    ("canceled", {"canceled_at": EARLIER}, {}, "active", "Canceling"),  # period end
    ("canceled", {"expires_at": LATER}, {"has_past_due_invoice": True}, "past_due", "Past Due"),
    ("future", {}, {}, "not_started", "No Subscription"),
    ("paused", {"paused_at": EARLIER}, {}, "paused", "Paused"),
    ("expired", {"expires_at": EARLIER}, {}, "ended", "Churned"),
    ("failed", {}, {}, "ended", "Churned"),
]  # fmt: skip


@pytest.mark.parametrize(("state", "extra", "acct", "neutral", "status"), STATUS_TABLE)
def test_status_table(state: str, extra: dict, acct: dict, neutral: str, status: str) -> None:
    sub = value(raw(state, **extra), **acct)
    assert (sub.status, sub.state) == (state, neutral)
    who = customer({**ACCOUNT, **acct}, [raw(state, **extra)], CATALOG, NOW)
    assert account_status(who) == status
    if state == "canceled":
        assert sub.cancel_at == datetime(2026, 12, 1, tzinfo=UTC)
        assert sub.ended_at is None
    if state == "expired":
        assert sub.ended_at == datetime(2026, 10, 1, tzinfo=UTC)


@pytest.mark.parametrize("state", ["closed", "inactive"])
def test_closed_account_is_churned_and_unknown_state_refused(state: str) -> None:
    gone = customer({**ACCOUNT, "state": state}, [raw("expired")], CATALOG, NOW)
    assert gone.deleted and account_status(gone) == "Churned"
    with pytest.raises(UnknownStatus):
        account_status(customer(ACCOUNT, [raw("odd")], CATALOG, NOW))


MRR_TABLE = [
    # base plan: 3 x 20.00
    ("per unit", raw(quantity=3), "60.00"),
    # a float in MAJOR units read by its repr: 19.99 x 3 = 59.97 (not 59.969999...)
    ("float major", raw(unit=19.99, quantity=3), "59.97"),
    # 0.1 + 0.2 as floats is 0.30000000000000004; as Decimals of reprs it is 0.30
    ("float sum", raw(unit=0.1, add_ons=[add_on("seat", 1, 0.2)]), "0.30"),
    # JPY has no minor unit: 5000.0 is 5000 yen
    ("JPY", raw(unit=5000.0, currency="JPY"), "5000.00"),
    # JPY yearly 10000 / 12 = 833.333 -> 833.33
    ("JPY year", raw(plan="p-year", unit=10000.0, currency="JPY"), "833.33"),
    # 12 months 1,200.00 / 12 = 100.00
    ("year", raw(plan="p-year", unit=1200.0), "100.00"),
    # every 7 days 9.50: 9.50 x 365 / (12 x 7) = 41.279... -> 41.28
    ("7 days", raw(plan="p-week", unit=9.5), "41.28"),
    # plan 20.00 + fixed add-on 2 x 5.00 = 30.00
    ("fixed add-on", raw(add_ons=[add_on("seat", 2, 5.0)]), "30.00"),
    # a usage add-on is not committed: 20.00 only
    ("usage excluded", raw(add_ons=[add_on("calls", 1, 99.0, kind="usage")]), "20.00"),
    # unit_amount_decimal is exact and may be sub-cent: 20.00 + 1000 x 0.0015 = 21.50
    ("decimal add-on", raw(add_ons=[add_on("api", 1000, None, unit_amount_decimal="0.0015")]),
     "21.50"),
    # tiered = graduated: 20.00 + 10 x 10.00 + 2 x 8.00 = 136.00
    ("tiered", raw(add_ons=[add_on("a-tiered", 12, tier_type="tiered")]), "136.00"),
    # volume: every unit at the tier holding 12: 20.00 + 12 x 8.00 = 116.00
    ("volume", raw(add_ons=[add_on("a-volume", 12, tier_type="volume")]), "116.00"),
    # stairstep: the tier holding 12 costs 8.00 once: 20.00 + 8.00 = 28.00
    ("stairstep", raw(add_ons=[add_on("a-stairs", 12, tier_type="stairstep")]), "28.00"),
    # the subscription add-on's own tiers win: 20.00 + 12 x 5.00 = 80.00
    ("tier override", raw(add_ons=[add_on("a-volume", 12, tier_type="volume", tiers=[
        {"ending_quantity": 999999999, "unit_amount": 5.0}])]), "80.00"),
    # forever 10%: 20.00 x 0.9 = 18.00
    ("forever %", raw(coupons=("c-pct",)), "18.00"),
    # forever 5.00 off: 20.00 - 5.00 = 15.00
    ("forever fixed", raw(coupons=("c-five",)), "15.00"),
    # single_use and temporal coupons end: they do not count
    ("single use", raw(coupons=("c-once",)), "20.00"),
    ("temporal", raw(coupons=("c-temp",)), "20.00"),
    # canceled counts until it expires; past due counts
    ("canceled", raw("canceled", expires_at=LATER), "20.00"),
    # trial, pause, future, expired, failed: nothing committed this month
    ("trial", raw(trial_ends_at=LATER), "0.00"),
    ("paused", raw("paused"), "0.00"),
    ("future", raw("future"), "0.00"),
    ("expired", raw("expired"), "0.00"),
    ("failed", raw("failed"), "0.00"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "sub", "mrr"), MRR_TABLE, ids=[r[0] for r in MRR_TABLE])
def test_mrr_table(name: str, sub: dict, mrr: str) -> None:
    assert subscription_mrr(value(sub)) == Decimal(mrr)


def test_past_due_counts() -> None:
    assert subscription_mrr(value(raw(), has_past_due_invoice=True)) == Decimal("20.00")


def test_names_intervals_and_what_is_refused() -> None:
    sub = value(raw(plan="p-week"))
    assert (sub.items[0].price.interval, sub.items[0].price.interval_count) == ("day", 7)
    assert sub.items[0].price.product_name == "Weekly"
    assert sub.customer_id == "acme"
    # more decimals than the currency has: refused, never rounded
    with pytest.raises(Invalid, match=r"19\.999 USD"):
        value(raw(unit=19.999))
    with pytest.raises(Invalid, match="JPY"):
        value(raw(unit=0.5, currency="JPY"))
    with pytest.raises(Invalid):
        value(raw(add_ons=[add_on("seat", 1, 1.005)]))
    with pytest.raises(Unsupported, match="weeks"):
        subscription(
            raw(plan="p-x"), Catalog(plans={"p-x": {"interval_unit": "weeks"}}), NOW, ACCOUNT
        )
    with pytest.raises(Unsupported, match="without tiers"):
        value(raw(currency="EUR", add_ons=[add_on("a-volume", 2, tier_type="volume")]))
