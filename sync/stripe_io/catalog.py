"""What of Stripe's catalog a set of listed subscriptions needs fetched. Pure."""

from __future__ import annotations

from typing import Any

from .convert import coupon_ids

__all__ = ["catalog_needs"]


def catalog_needs(
    raw: dict[str, list[dict[str, Any]]],
) -> tuple[set[str], set[str], set[str]]:
    """The product ids, coupon ids and ids of tiered prices listed without their tiers that
    the (slim) subscriptions in ``raw`` refer to."""
    products: set[str] = set()
    coupons: set[str] = set()
    tiered: set[str] = set()
    for subs in raw.values():
        for sub in subs:
            coupons.update(coupon_ids(sub.get("discounts") or []))
            for item in sub["items"]["data"]:
                price = item["price"]
                product = price["product"]
                products.add(product if isinstance(product, str) else product["id"])
                if price.get("billing_scheme") == "tiered" and "tiers" not in price:
                    tiered.add(price["id"])
                coupons.update(coupon_ids(item.get("discounts") or []))
    return products, coupons, tiered
