"""What a subscription costs: item amounts by pricing model, discounts, invoice totals, MRR.

Amounts are integers in the currency's minor unit. Decimal item prices (``price_in_decimal``,
major units) are carried as ``*_in_decimal`` strings on the subscription item and rounded to the
minor unit for invoices and MRR. MRR counts recurring items (plans and addons, not charges) of
``active`` and ``non_renewing`` subscriptions, normalised to a month, less the recurring
discounts and coupons marked ``included_in_mrr``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .site import minor_exponent

__all__ = ["discount_total", "item_amount", "monthly_factor", "mrr", "tiers_amount"]

MRR_STATUSES = ("active", "non_renewing")


def tiers_amount(model: str, tiers: list[dict[str, Any]], qty: int) -> int:
    """Chargebee's tiered (each tier's units at its price), volume (every unit at the price of
    the tier the quantity falls in) and stairstep (the flat price of that tier)."""

    def charge(tier: dict[str, Any], units: int) -> int:
        kind = tier.get("pricing_type", "per_unit")
        if kind == "flat_fee":
            return tier["price"] if units > 0 else 0
        if kind == "package":
            return math.ceil(units / tier.get("package_size", 1)) * tier["price"]
        return units * tier["price"]

    if model == "tiered":
        total = 0
        for t in tiers:
            end = t.get("ending_unit") or qty
            units = max(0, min(qty, end) - t["starting_unit"] + 1)
            total += charge(t, units)
        return total
    for t in tiers:
        end = t.get("ending_unit")
        if t["starting_unit"] <= qty and (end is None or qty <= end):
            return t["price"] if model == "stairstep" else charge(t, qty)
    return 0


def item_amount(item: dict[str, Any], price: dict[str, Any], tiers: list[dict[str, Any]] | None,
                currency: str) -> None:  # fmt: skip
    """Fill in ``amount`` (and ``*_in_decimal``) of one subscription item; ``_minor`` is the
    amount in minor units whatever the form."""
    model, qty = price["pricing_model"], item["quantity"]
    if model in ("tiered", "volume", "stairstep"):
        item["amount"] = item["_minor"] = tiers_amount(model, tiers or price["tiers"], qty)
        item["unit_price"] = None
        return
    if item.get("unit_price_in_decimal") is not None:
        total = Decimal(item["unit_price_in_decimal"]) * (qty if model == "per_unit" else 1)
        item["amount_in_decimal"] = format(total.normalize(), "f")
        scale = Decimal(10) ** minor_exponent(currency)
        item["_minor"] = int((total * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        item["amount"] = None
        return
    item["amount"] = item["_minor"] = item["unit_price"] * (qty if model == "per_unit" else 1)


def monthly_factor(unit: str, period: int) -> float:
    per_month = {"day": 365 / 12, "week": 52 / 12, "month": 1.0, "year": 1 / 12}[unit]
    return per_month / period


def discount_total(sub: dict[str, Any], coupons: dict[str, dict[str, Any]], base: int,
                   *, only_mrr: bool = False) -> int:  # fmt: skip
    """Discounts on ``base`` (minor units): percentages of it, then fixed amounts, capped."""
    pct, fixed = Decimal(0), 0
    entries = []
    for applied in sub.get("coupons") or []:
        c = coupons[applied["coupon_id"]]
        entries.append((c["discount_type"], c.get("discount_percentage"),
                        c.get("discount_amount"), c["duration_type"], c["included_in_mrr"]))
    for d in sub.get("discounts") or []:
        entries.append((d["type"], d.get("percentage"), d.get("amount"), d["duration_type"],
                        d["included_in_mrr"]))
    for kind, percentage, amount, duration, in_mrr in entries:
        if only_mrr and (not in_mrr or duration == "one_time"):
            continue
        if kind == "percentage":
            pct += Decimal(str(percentage))
        else:
            fixed += amount or 0
    off = int((Decimal(base) * min(pct, Decimal(100)) / 100).quantize(Decimal(1),
                                                                      rounding=ROUND_HALF_UP))
    return min(base, off + fixed)


def mrr(sub: dict[str, Any], coupons: dict[str, dict[str, Any]]) -> int:
    if sub["status"] not in MRR_STATUSES:
        return 0
    recurring = sum(i["_minor"] for i in sub["subscription_items"] if i["item_type"] != "charge")
    net = recurring - discount_total(sub, coupons, recurring, only_mrr=True)
    return round(net * monthly_factor(sub["billing_period_unit"], sub["billing_period"]))
