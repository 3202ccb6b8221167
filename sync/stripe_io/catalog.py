"""Stripe's catalog in a cycle: what listed subscriptions need fetched (pure), the entries a
cycle fetched (products, coupons, tiers), and the conversion of Stripe's JSON into
provider-neutral values through them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import Coupon, Item, Price, Subscription, Tier
from .convert import coupon_ids, dec, ts

__all__ = ["Catalog", "catalog_needs"]


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


@dataclass
class Catalog:
    """The catalog entries a cycle fetched, and the prices and coupons converted from them.

    Thousands of subscriptions share a handful of prices and coupons, and both are frozen,
    so one object can serve them all. Each converted entry keeps what it was made from: it
    is reused only for an equal price dict and the very catalog entries (product, fetched
    tiers, coupon) it read, so a price or product that changed mid-cycle is converted afresh.
    """

    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    coupons: dict[str, dict[str, Any]] = field(default_factory=dict)
    tiers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # price id -> (price dict, product entry, fetched tiers, Price)
    prices: dict[str, tuple[dict[str, Any], Any, Any, Price]] = field(default_factory=dict)
    # coupon id -> (coupon entry, Coupon)
    made_coupons: dict[str, tuple[dict[str, Any], Coupon]] = field(default_factory=dict)

    def subscription(self, sub: dict[str, Any]) -> Subscription:
        return Subscription(
            id=sub["id"],
            customer_id=sub["customer"],
            status=sub["status"],
            currency=sub["currency"],
            items=tuple(self.item(i) for i in sub["items"]["data"]),
            discounts=self.discounts(sub.get("discounts") or []),
            cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
            cancel_at=ts(sub.get("cancel_at")),
            canceled_at=ts(sub.get("canceled_at")),
            ended_at=ts(sub.get("ended_at")),
            trial_end=ts(sub.get("trial_end")),
            start_date=ts(sub.get("start_date")),
            created=ts(sub.get("created")),
        )

    def item(self, item: dict[str, Any]) -> Item:
        return Item(
            id=item["id"],
            price=self.price(item["price"]),
            quantity=int(item.get("quantity") or 0),
            discounts=self.discounts(item.get("discounts") or []),
            current_period_start=ts(item.get("current_period_start")),
            current_period_end=ts(item.get("current_period_end")),
        )

    def price(self, price: dict[str, Any]) -> Price:
        product = price["product"]
        product_id = product if isinstance(product, str) else product["id"]
        named = self.products.get(product_id)
        tiers = price.get("tiers")
        fetched = self.tiers.get(price["id"]) if tiers is None else None
        made = self.prices.get(price["id"])
        if made is not None and made[1] is named and made[2] is fetched and made[0] == price:
            return made[3]
        recurring = price.get("recurring") or {}
        transform = price.get("transform_quantity") or {}
        value = Price(
            id=price["id"],
            currency=price["currency"],
            interval=recurring.get("interval", "month"),
            interval_count=int(recurring.get("interval_count") or 1),
            unit_amount=dec(price.get("unit_amount_decimal", price.get("unit_amount"))),
            billing_scheme=price.get("billing_scheme") or "per_unit",
            tiers_mode=price.get("tiers_mode"),
            tiers=tuple(
                Tier(
                    up_to=t.get("up_to"),
                    unit_amount=dec(t.get("unit_amount_decimal", t.get("unit_amount"))),
                    flat_amount=dec(t.get("flat_amount_decimal", t.get("flat_amount"))),
                )
                for t in (fetched or [] if tiers is None else tiers)
            ),
            usage_type=recurring.get("usage_type") or "licensed",
            transform_divide_by=transform.get("divide_by"),
            transform_round=transform.get("round"),
            product_id=product_id,
            product_name=(named or {}).get("name") or "",
            nickname=price.get("nickname"),
        )
        self.prices[price["id"]] = (price, named, fetched, value)
        return value

    def discounts(self, discounts: list[Any]) -> tuple[Coupon, ...]:
        if not discounts:
            return ()
        out = []
        for cid in coupon_ids(discounts):
            c = self.coupons.get(cid)
            if not c:
                continue
            made = self.made_coupons.get(cid)
            if made is None or made[0] is not c:
                coupon = Coupon(
                    id=c["id"],
                    duration=c.get("duration") or "once",
                    percent_off=dec(c.get("percent_off")),
                    amount_off=dec(c.get("amount_off")),
                    currency=c.get("currency"),
                )
                made = self.made_coupons[cid] = (c, coupon)
            out.append(made[1])
        return tuple(out)
