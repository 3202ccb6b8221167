"""Small conversions from Stripe's JSON to our values: coupon ids, timestamps, decimals."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = ["coupon_ids", "dec", "ts"]

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
