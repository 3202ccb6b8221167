"""Small conversions from Stripe's JSON to our values: coupon ids, timestamps, decimals, the
slim copy of a listed subscription a cycle keeps until it is converted."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = ["coupon_ids", "dec", "slim", "slim_discounts", "ts"]

log = logging.getLogger(__name__)


def coupon_ids(discounts: list[Any]) -> list[str]:
    ids = []
    for d in discounts:
        if isinstance(d, str):
            # An unexpanded discount id: the expand list above prevents this; skip loudly.
            log.warning("discount %s was not expanded; its coupon is ignored", d)
            continue
        coupon = (d.get("source") or {}).get("coupon") or d.get("coupon")
        if isinstance(coupon, dict):
            coupon = coupon.get("id")
        if coupon:
            ids.append(coupon)
    return ids


def ts(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# What the conversion reads of a subscription, its items and their prices. A full reconcile
# holds every listed subscription until the catalog they name has been fetched; Stripe's
# full objects (~60 fields, expanded prices) were 95 MB at 12,000 subscriptions, most of
# the cycle's peak memory.
_SUB = ("id", "customer", "status", "currency", "cancel_at_period_end", "cancel_at",
        "canceled_at", "ended_at", "trial_end", "start_date", "created")  # fmt: skip
_ITEM = ("id", "quantity", "current_period_start", "current_period_end")
_PRICE = ("id", "currency", "unit_amount_decimal", "unit_amount", "billing_scheme",
          "tiers_mode", "tiers", "transform_quantity", "nickname")  # fmt: skip
_RECURRING = ("interval", "interval_count", "usage_type")


def _pick(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    # Only the keys present: "tiers" absent (not expanded) differs from "tiers": [].
    return {k: obj[k] for k in keys if k in obj}


def slim_discounts(discounts: list[Any]) -> list[Any]:
    return [{"coupon": c} for c in coupon_ids(discounts)] if discounts else []


def slim(sub: dict[str, Any]) -> dict[str, Any]:
    """``sub`` with only what the conversion and the catalog lookups read."""
    out = _pick(sub, _SUB)
    out["discounts"] = slim_discounts(sub.get("discounts") or [])
    items = []
    for item in sub["items"]["data"]:
        price = item["price"]
        product = price["product"]
        small = _pick(price, _PRICE)
        small["product"] = product if isinstance(product, str) else product["id"]
        small["recurring"] = _pick(price.get("recurring") or {}, _RECURRING)
        items.append(
            {
                **_pick(item, _ITEM),
                "price": small,
                "discounts": slim_discounts(item.get("discounts") or []),
            }
        )
    out["items"] = {"data": items}
    return out
