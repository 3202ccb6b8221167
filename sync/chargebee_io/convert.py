"""Chargebee subscriptions (API v2, Product Catalog 2.0) -> provider-neutral values. Pure.

Rules (the same MRR rulebook as Stripe's runs on what comes out):
- States: ``future`` -> not_started; ``in_trial`` -> trialing; ``active`` -> active, or
  past_due while ``due_invoices_count > 0`` (Chargebee has no past-due status);
  ``non_renewing`` -> active (past_due with dues) and scheduled to end: ``cancel_at`` is
  ``cancelled_at`` (the date it will end), else ``current_term_end``; ``paused`` -> paused;
  ``cancelled`` / ``transferred`` and deleted subscriptions -> ended. An unknown status gets
  no state, so the rollup refuses to guess.
- Money: integer fields (``unit_price``, tier ``price``, ``discount_amount``) are in the
  currency's minor unit; ``*_in_decimal`` strings are in *major* units (multi-decimal sites)
  and are scaled exactly with Decimal.
- Items: ``plan`` and ``addon`` lines are licensed (metered when their item is); ``charge``
  lines are one-off and left out. ``flat_fee`` is one unit at the price; ``per_unit`` the
  price times the quantity; ``tiered`` is graduated; ``volume`` prices every unit at the
  tier holding the quantity; ``stairstep`` charges that tier's price once (a flat amount).
  Tiers come from the subscription's ``item_tiers`` (overrides), else the item price's.
- Intervals: ``period_unit`` day/week/month/year x ``period``, as Stripe's interval x count.
- Discounts: coupons and manual discounts of ``duration_type`` forever reduce MRR;
  one_time and limited_period do not (they become Stripe's once / repeating).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..core.money import currency_exponent
from ..model import Coupon, Item, Price, Subscription, Tier

__all__ = ["STATES", "Catalog", "Unsupported", "state_of", "subscription"]

STATES = {
    "future": "not_started",
    "in_trial": "trialing",
    "active": "active",
    "non_renewing": "active",
    "paused": "paused",
    "cancelled": "ended",
    "transferred": "ended",
}
DURATIONS = {"forever": "forever", "one_time": "once", "limited_period": "repeating"}
PRICING = ("flat_fee", "per_unit", "tiered", "volume", "stairstep")


class Unsupported(ValueError):
    """A subscription billing-sync cannot value faithfully: said, never guessed at."""


@dataclass
class Catalog:
    """Item prices, items and coupons by id, as fetched for this cycle."""

    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    coupons: dict[str, dict[str, Any]] = field(default_factory=dict)


def state_of(sub: Mapping[str, Any]) -> str:
    if sub.get("deleted"):
        return "ended"
    state = STATES.get(str(sub.get("status")), "")
    if state == "active" and int(sub.get("due_invoices_count") or 0) > 0:
        return "past_due"
    return state


def _ts(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


def minor(whole: Any, in_decimal: Any, currency: str) -> Decimal | None:
    """An amount in minor units: the integer field as is, or the major-unit decimal string
    scaled by the currency's exponent (exact: "0.005" USD is 0.5 cents, kept fractional)."""
    if in_decimal is not None:
        return Decimal(str(in_decimal)).scaleb(currency_exponent(currency))
    return None if whole is None else Decimal(int(whole))


def _tiers(raw: list[dict[str, Any]], model: str, currency: str, price_id: str) -> tuple[Tier, ...]:
    out = []
    for t in raw:
        kind = t.get("pricing_type") or "per_unit"
        if kind not in ("per_unit", "flat_fee"):
            raise Unsupported(f"item price {price_id} has {kind} tiers")
        end = t.get("ending_unit")
        amount = minor(t.get("price"), t.get("price_in_decimal"), currency)
        flat = model == "stairstep" or kind == "flat_fee"
        out.append(
            Tier(
                up_to=None if end is None else int(end),
                unit_amount=None if flat else amount,
                flat_amount=amount if flat else None,
            )
        )
    return tuple(out)


def _coupon(raw: Mapping[str, Any], currency: str) -> Coupon:
    """A catalog coupon (``discount_type``...) or a manual discount (``type``...)."""
    kind = raw.get("discount_type") or raw.get("type")
    pct = raw.get("discount_percentage", raw.get("percentage"))
    amount = raw.get("discount_amount", raw.get("amount"))
    return Coupon(
        id=str(raw.get("id")),
        duration=DURATIONS.get(str(raw.get("duration_type")), "once"),
        percent_off=Decimal(str(pct)) if kind == "percentage" and pct is not None else None,
        amount_off=(
            Decimal(int(amount)) if kind == "fixed_amount" and amount is not None else None
        ),
        currency=(raw.get("currency_code") or currency).lower(),
    )


def _item(sub: Mapping[str, Any], line: Mapping[str, Any], catalog: Catalog) -> Item:
    currency = str(sub["currency_code"])
    pid = str(line["item_price_id"])
    price = catalog.prices.get(pid) or {}
    item = catalog.items.get(str(price.get("item_id"))) or {}
    model = str(price.get("pricing_model") or ("per_unit" if line.get("quantity") else "flat_fee"))
    if model not in PRICING:
        raise Unsupported(f"item price {pid} has pricing model {model}")
    if line.get("quantity_in_decimal") not in (None, "") and model != "flat_fee":
        raw_qty = Decimal(str(line["quantity_in_decimal"]))
        if raw_qty != raw_qty.to_integral_value():
            raise Unsupported(f"item price {pid} has a fractional quantity {raw_qty}")
    quantity = 1 if model == "flat_fee" else int(line.get("quantity") or 0)
    tiers: tuple[Tier, ...] = ()
    if model in ("tiered", "volume", "stairstep"):
        overrides = [t for t in sub.get("item_tiers") or [] if t.get("item_price_id") == pid]
        tiers = _tiers(overrides or price.get("tiers") or [], model, currency, pid)
    coupons = [
        _coupon(d, currency)
        for d in sub.get("discounts") or []
        if d.get("item_price_id") == pid and d.get("apply_on") == "specific_item_price"
    ]
    return Item(
        id=f"{sub['id']}:{pid}",
        price=Price(
            id=pid,
            currency=currency.lower(),
            interval=str(price.get("period_unit") or sub.get("billing_period_unit") or "month"),
            interval_count=int(price.get("period") or sub.get("billing_period") or 1),
            unit_amount=minor(line.get("unit_price"), line.get("unit_price_in_decimal"), currency)
            if not tiers
            else None,
            billing_scheme="tiered" if tiers else "per_unit",
            tiers_mode=None if not tiers else "graduated" if model == "tiered" else "volume",
            tiers=tiers,
            usage_type="metered" if item.get("metered") else "licensed",
            product_id=str(price.get("item_id") or ""),
            product_name=str(item.get("external_name") or item.get("name") or ""),
            nickname=price.get("external_name") or price.get("name"),
        ),
        quantity=quantity,
        discounts=tuple(coupons),
        current_period_start=_ts(sub.get("current_term_start")),
        current_period_end=_ts(sub.get("current_term_end")),
    )


def subscription(sub: Mapping[str, Any], catalog: Catalog) -> Subscription:
    if "subscription_items" not in sub and sub.get("plan_id"):
        raise Unsupported(f"subscription {sub.get('id')} is a Product Catalog 1.0 one (plan_id)")
    currency = str(sub["currency_code"])
    lines = [
        line for line in sub.get("subscription_items") or [] if line.get("item_type") != "charge"
    ]
    status = str(sub["status"])
    coupons = [
        _coupon(catalog.coupons.get(c["coupon_id"]) or {"id": c["coupon_id"]}, currency)
        for c in sub.get("coupons") or []
    ] + [
        _coupon(d, currency)
        for d in sub.get("discounts") or []
        if d.get("apply_on", "invoice_amount") == "invoice_amount"
    ]
    scheduled = status == "non_renewing" and not sub.get("deleted")
    ended = state_of(sub) == "ended"
    return Subscription(
        id=str(sub["id"]),
        customer_id=str(sub["customer_id"]),
        status=status,
        currency=currency.lower(),
        items=tuple(_item(sub, line, catalog) for line in lines),
        discounts=tuple(coupons),
        cancel_at=_ts(sub.get("cancelled_at") or sub.get("current_term_end"))
        if scheduled
        else None,
        # non_renewing at the term's end is Stripe's cancel_at_period_end.
        cancel_at_period_end=scheduled
        and sub.get("cancelled_at") in (None, sub.get("current_term_end")),
        canceled_at=_ts(sub.get("cancel_schedule_created_at") or sub.get("cancelled_at"))
        if scheduled or ended
        else None,
        ended_at=_ts(sub.get("cancelled_at")) if ended else None,
        trial_end=_ts(sub.get("trial_end")),
        start_date=_ts(sub.get("started_at") or sub.get("start_date")),
        created=_ts(sub.get("created_at")),
        state=state_of(sub),
        # Chargebee's own MRR (minor units of the subscription's currency): shown beside ours
        # and compared with it, never used for it.
        reported_mrr=Decimal(int(sub["mrr"])) if sub.get("mrr") is not None else None,
    )
