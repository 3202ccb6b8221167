"""Small builders for provider-neutral billing values (amounts in minor units)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sync.model import Coupon, Customer, Item, Price, Subscription, Tier

__all__ = ["customer", "forever", "item", "price", "sub", "tiers", "ts"]


def ts(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def price(
    unit: str | int | None = 1000,
    interval: str = "month",
    count: int = 1,
    currency: str = "usd",
    name: str = "Pro",
    **kw,
) -> Price:
    return Price(
        id=kw.pop("id", f"price_{name.lower().replace(' ', '_')}"),
        currency=currency,
        interval=interval,
        interval_count=count,
        unit_amount=None if unit is None else Decimal(str(unit)),
        product_id=f"prod_{name.lower().replace(' ', '_')}",
        product_name=name,
        **kw,
    )


def tiers(*rows: tuple[int | None, int, int]) -> tuple[Tier, ...]:
    """(up_to, unit, flat) rows."""
    return tuple(Tier(up_to, Decimal(unit), Decimal(flat)) for up_to, unit, flat in rows)


def item(p: Price | None = None, quantity: int = 1, discounts=(), end=None, **kw) -> Item:
    p = p or price()
    return Item(
        id=kw.pop("id", f"si_{p.id}"),
        price=p,
        quantity=quantity,
        discounts=tuple(discounts),
        current_period_end=end,
        **kw,
    )


def forever(percent: str | None = None, amount: int | None = None, **kw) -> Coupon:
    return Coupon(
        id=kw.pop("id", "co_forever"),
        duration=kw.pop("duration", "forever"),
        percent_off=None if percent is None else Decimal(percent),
        amount_off=None if amount is None else Decimal(amount),
        **kw,
    )


def sub(*items: Item, status: str = "active", currency: str | None = None, **kw) -> Subscription:
    items = items or (item(),)
    return Subscription(
        id=kw.pop("id", "sub_1"),
        customer_id=kw.pop("customer_id", "cus_1"),
        status=status,
        currency=currency or items[0].price.currency,
        items=tuple(items),
        discounts=tuple(kw.pop("discounts", ())),
        **kw,
    )


def customer(*subscriptions: Subscription, deleted: bool = False, id: str = "cus_1") -> Customer:
    return Customer(id=id, deleted=deleted, subscriptions=tuple(subscriptions))
