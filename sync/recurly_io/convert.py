"""Recurly subscriptions (API v2021-02-25) -> provider-neutral values. Pure.

Rules (the same MRR rulebook as Stripe's runs on what comes out):
- States: Recurly's ``canceled`` is *not* ended: it stays live until ``expires_at``, so it is
  active (or past due) and scheduled to end at ``expires_at`` (else
  ``current_period_ends_at``), which the rollup shows as Canceling. ``expired`` and
  ``failed`` are ended; ``future`` -> not_started (as Chargebee's); ``paused`` -> paused.
  Recurly has no trial state: an active subscription whose ``trial_ends_at`` is still ahead
  is trialing. It has no past-due state either: the account's ``has_past_due_invoice`` makes
  an active one past_due. A closed or inactive account is a deleted customer (Churned). An
  unknown state gets no neutral state, so the rollup refuses to guess.
- Money: Recurly sends amounts as JSON floats in *major* units. Each is read through
  ``Decimal(str(x))`` (the float's shortest repr, never float arithmetic) and scaled by the
  currency's exponent. A float with more decimals than the currency has (19.999 USD, 0.5
  JPY) is refused (:class:`Invalid`), never rounded. ``*_decimal`` strings exist for sub-cent
  unit prices and are kept exact, fractional minor units and all.
- Lines: the base plan (``unit_amount`` x ``quantity``) and every ``fixed`` add-on; ``usage``
  add-ons bill what was used, not what is committed, and are left out. ``tier_type`` flat is
  per unit; ``tiered`` graduated; ``volume`` every unit at the tier holding the quantity;
  ``stairstep`` that tier's amount once. Tiers: the subscription add-on's own, else the plan
  add-on's in the subscription's currency.
- Intervals: the plan's ``interval_unit`` (days | months) x ``interval_length``.
- Coupons: active redemptions of a coupon whose ``duration`` is ``forever`` count;
  ``single_use`` and ``temporal`` ones end and do not; free-trial coupons carry no money.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..core.money import currency_exponent
from ..model import Coupon, Customer, Item, Price, Subscription, Tier

__all__ = ["STATES", "Catalog", "Invalid", "Unsupported", "customer", "subscription"]

STATES = {
    "active": "active",
    "canceled": "active",  # live until expires_at (see the module docstring)
    "future": "not_started",
    "paused": "paused",
    "expired": "ended",
    "failed": "ended",
}
DURATIONS = {"forever": "forever", "single_use": "once", "temporal": "repeating"}
UNITS = {"days": "day", "months": "month"}
TIER_MODES = {"tiered": "graduated", "volume": "volume", "stairstep": "volume"}
CLOSED = frozenset({"closed", "inactive"})
# Recurly's last tier ends at its maximum quantity rather than "and above".
UNBOUNDED = 999_999_999


class Unsupported(ValueError):
    """A subscription billing-sync cannot value faithfully: said, never guessed at."""


class Invalid(Unsupported):
    """An amount Recurly should never send (more decimals than its currency): that customer's
    Validation problem, not a value to round."""


@dataclass
class Catalog:
    """Plans (by id), their add-ons (by id) and coupons (by id), as fetched this cycle."""

    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    add_ons: dict[str, dict[str, Any]] = field(default_factory=dict)
    coupons: dict[str, dict[str, Any]] = field(default_factory=dict)


def _ts(value: Any) -> datetime | None:
    return None if not value else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def minor(major: Any, decimal: Any, currency: str, what: str) -> Decimal | None:
    """A major-unit amount in minor units, exactly: the ``*_decimal`` string as is, else the
    float through its repr, refused when it has more decimals than ``currency`` allows."""
    places = currency_exponent(currency)
    if decimal not in (None, ""):
        return Decimal(str(decimal)).scaleb(places)
    if major is None:
        return None
    amount = Decimal(str(major))
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise Invalid(f"{what} is {major} {currency.upper()}, more decimals than it has")
    return amount.scaleb(places)


def state_of(sub: Mapping[str, Any], account: Mapping[str, Any], now: datetime) -> str:
    state = STATES.get(str(sub.get("state")), "")
    if state != "active":
        return state
    trial_end = _ts(sub.get("trial_ends_at"))
    if trial_end is not None and trial_end > now:
        return "trialing"
    return "past_due" if account.get("has_past_due_invoice") else "active"


def _tiers(line: Mapping[str, Any], add_on: Mapping[str, Any], currency: str) -> tuple[Tier, ...]:
    kind = str(line.get("tier_type") or add_on.get("tier_type"))
    out = []
    own = line.get("tiers") or []
    for t in own or add_on.get("tiers") or []:
        if not own:  # a plan add-on's tier holds one price per currency
            price = [c for c in t.get("currencies") or [] if c.get("currency") == currency]
            if not price:
                break
            t = price[0] | {"ending_quantity": t.get("ending_quantity")}
        amount = minor(t.get("unit_amount"), t.get("unit_amount_decimal"), currency, "a tier")
        end = t.get("ending_quantity")
        up_to = None if end is None or int(end) >= UNBOUNDED else int(end)
        flat = kind == "stairstep"
        out.append(Tier(up_to, None if flat else amount, amount if flat else None))
    if not out:
        raise Unsupported(f"add-on {add_on.get('code')} is {kind} without tiers in {currency}")
    out[-1] = Tier(None, out[-1].unit_amount, out[-1].flat_amount)
    return tuple(out)


def _price(pid: str, plan: Mapping[str, Any], currency: str, **kw: Any) -> Price:
    unit = str(plan.get("interval_unit") or "months")
    if unit not in UNITS:
        raise Unsupported(f"plan {plan.get('code')} bills every {unit}")
    return Price(
        id=pid,
        currency=currency.lower(),
        interval=UNITS[unit],
        interval_count=int(plan.get("interval_length") or 1),
        product_id=str(plan.get("id") or ""),
        **kw,
    )


def _lines(sub: Mapping[str, Any], catalog: Catalog) -> Iterable[Item]:
    currency = str(sub["currency"])
    ref = sub.get("plan") or {}
    plan = catalog.plans.get(str(ref.get("id"))) or ref
    start = _ts(sub.get("current_period_started_at"))
    end = _ts(sub.get("current_period_ends_at"))
    yield Item(
        id=f"{sub['id']}:plan",
        price=_price(
            str(plan.get("code") or ref.get("code")),
            plan,
            currency,
            unit_amount=minor(sub.get("unit_amount"), None, currency, "the plan's unit amount"),
            product_name=str(plan.get("name") or ref.get("name") or ""),
            nickname=plan.get("code"),
        ),
        quantity=int(sub.get("quantity") or 1),
        current_period_start=start,
        current_period_end=end,
    )
    for line in sub.get("add_ons") or []:
        mini = line.get("add_on") or {}
        if mini.get("add_on_type") == "usage":
            continue  # usage is billed as used: not committed revenue
        add_on = catalog.add_ons.get(str(mini.get("id"))) or mini
        kind = str(line.get("tier_type") or add_on.get("tier_type") or "flat")
        if kind != "flat" and kind not in TIER_MODES:
            raise Unsupported(f"add-on {mini.get('code')} has tier type {kind}")
        tiers = _tiers(line, add_on, currency) if kind in TIER_MODES else ()
        unit = None
        if not tiers:
            unit = minor(line.get("unit_amount"), line.get("unit_amount_decimal"), currency,
                         f"add-on {mini.get('code')}'s unit amount")  # fmt: skip
        yield Item(
            id=f"{sub['id']}:{line.get('id')}",
            price=_price(
                str(mini.get("code")),
                plan,
                currency,
                unit_amount=unit,
                billing_scheme="tiered" if tiers else "per_unit",
                tiers_mode=TIER_MODES.get(kind) if tiers else None,
                tiers=tiers,
                product_name=str(mini.get("name") or ""),
                nickname=mini.get("code"),
            ),
            quantity=int(line.get("quantity") or 0),
            current_period_start=start,
            current_period_end=end,
        )


def _coupon(red: Mapping[str, Any], catalog: Catalog, currency: str) -> Coupon | None:
    mini = red.get("coupon") or {}
    full = catalog.coupons.get(str(mini.get("id"))) or mini
    discount = full.get("discount") or mini.get("discount") or {}
    kind = discount.get("type")
    duration = DURATIONS.get(str(full.get("duration")), "once")  # unknown: never counted
    if kind == "percent":
        return Coupon(str(mini.get("id")), duration, percent_off=Decimal(str(discount["percent"])))
    if kind == "fixed":
        amounts = [c for c in discount.get("currencies") or [] if c.get("currency") == currency]
        if not amounts:
            return None  # a fixed coupon has no amount in this currency: nothing off
        off = minor(amounts[0].get("amount"), None, currency, f"coupon {mini.get('code')}")
        return Coupon(str(mini.get("id")), duration, amount_off=off, currency=currency.lower())
    return None  # a free trial moves dates, not money


def subscription(
    sub: Mapping[str, Any], catalog: Catalog, now: datetime, account: Mapping[str, Any]
) -> Subscription:
    """``account`` is the full account (the subscription's own is a mini without
    ``has_past_due_invoice``)."""
    currency = str(sub["currency"])
    status = str(sub["state"])
    state = state_of(sub, account, now)
    coupons = [
        _coupon(r, catalog, currency)
        for r in sub.get("coupon_redemptions") or []
        if r.get("state", "active") == "active"
    ]
    ends = _ts(sub.get("expires_at") or sub.get("current_period_ends_at"))
    return Subscription(
        id=str(sub["id"]),
        customer_id=str((sub.get("account") or {}).get("code") or account.get("code")),
        status=status,
        currency=currency.lower(),
        items=tuple(_lines(sub, catalog)),
        discounts=tuple(c for c in coupons if c is not None),
        cancel_at=ends if status == "canceled" else None,
        # Canceled in Recurly ends with the period (``expires_at`` is its end), as Stripe's
        # cancel_at_period_end: Cancel_At_Period_End__c reads the same for both.
        cancel_at_period_end=status == "canceled"
        and sub.get("expires_at") in (None, sub.get("current_period_ends_at")),
        canceled_at=_ts(sub.get("canceled_at")),
        ended_at=_ts(sub.get("expires_at")) if state == "ended" else None,
        trial_end=_ts(sub.get("trial_ends_at")),
        start_date=_ts(sub.get("activated_at")),
        created=_ts(sub.get("created_at")),
        state=state,
    )


def customer(
    account: Mapping[str, Any], subs: Iterable[Mapping[str, Any]], catalog: Catalog, now: datetime
) -> Customer:
    """An account and its subscriptions; closed or inactive accounts are deleted customers."""
    name = " ".join(str(account[k]) for k in ("first_name", "last_name") if account.get(k))
    return Customer(
        id=str(account["code"]),
        deleted=str(account.get("state")) in CLOSED or bool(account.get("deleted_at")),
        name=account.get("company") or name or None,
        subscriptions=tuple(subscription(s, catalog, now, account) for s in subs),
    )
