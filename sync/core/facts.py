"""What mapping reads of one subscription: its plan name, value, MRR, primary item and period
end (pure). ``SubscriptionFacts`` works each out at the first ask and remembers it.

Mapping one customer asks for most of these several times (the Account's plan order, its
plan text, its MRR and renewal date, then each Subscription__c): asked again, a fact is not
recomputed. Each is computed by the same functions at the same first ask as without the
memo, so a subscription that cannot be valued fails with the same error at the same point.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from sync.core.money import round_money, to_major
from sync.core.mrr import (
    COUNTED_STATUSES,
    item_monthly_amount,
    monthly_value,
    primary_item,
    subscription_mrr,
)
from sync.model import Item, Subscription

__all__ = ["SubscriptionFacts", "dedupe", "period_end", "plan_name"]


def dedupe(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(n for n in names if n))


def _item_name(item: Item) -> str:
    price = item.price
    return (price.product_name or price.nickname or price.id or "").strip()


def plan_name(subscription: Subscription) -> str:
    """Product names of the items, most valuable first (metered items last), deduplicated."""
    currency = subscription.currency
    items = subscription.items
    if len(items) == 1:
        # Nothing to rank, but the amount is still asked for: an item that cannot be valued
        # fails here as it does with several.
        item_monthly_amount(items[0], currency)
        return _item_name(items[0]) or subscription.id
    ranked = sorted(
        enumerate(items),
        key=lambda pair: (-item_monthly_amount(pair[1], currency), pair[0]),
    )
    return ", ".join(dedupe(_item_name(item) for _index, item in ranked)) or subscription.id


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def period_end(subscription: Subscription) -> datetime | None:
    items = subscription.items
    if len(items) == 1:
        return items[0].current_period_end or None
    ends = [i.current_period_end for i in items if i.current_period_end]
    return min(ends, key=_utc) if ends else None


class SubscriptionFacts:
    """One subscription's facts, each computed at its first ask."""

    __slots__ = ("_end", "_main", "_major", "_mrr", "_name", "_value", "sub")

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self._name: str | None = None
        self._value: Decimal | None = None
        self._major: Decimal | None = None
        self._mrr: Decimal | None = None
        # Each one-element tuple once known: None is a fact too.
        self._main: tuple[Item | None] | None = None
        self._end: tuple[datetime | None] | None = None

    def name(self) -> str:
        """``plan_name``."""
        if self._name is None:
            self._name = plan_name(self.sub)
        return self._name

    def value(self) -> Decimal:
        """``monthly_value``: minor units, whatever the status."""
        if self._value is None:
            self._value = monthly_value(self.sub)
        return self._value

    def major(self) -> Decimal:
        """The monthly value in major units, unrounded."""
        if self._major is None:
            self._major = to_major(self.value(), self.sub.currency)
        return self._major

    def mrr(self) -> Decimal:
        """``subscription_mrr``."""
        if self._mrr is None:
            # As subscription_mrr, from the major value the plan order may have asked for.
            counted = self.sub.state in COUNTED_STATUSES
            self._mrr = round_money(self.major()) if counted else subscription_mrr(self.sub)
        return self._mrr

    def main(self) -> Item | None:
        """``primary_item``."""
        if self._main is None:
            self._main = (primary_item(self.sub),)
        return self._main[0]

    def end(self) -> datetime | None:
        """``period_end``: the earliest current period end of the items."""
        if self._end is None:
            self._end = (period_end(self.sub),)
        return self._end[0]
