"""Stripe events as hints: which customers (and catalog items) changed since a moment.

Events are never read for billing values: a payload is rendered in the API version in force
when the event was created, not ours, so an old account's payload has its periods and plan in
other places. Only ids are taken from it; the customers are then re-read at our pinned
version. The list is eventually consistent, so callers ask with an overlap and dedupe ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..model import ChangeHint

__all__ = ["EVENT_TYPES", "hints"]

# Stripe takes at most 20 names in types[]; these are every event that can change what we
# write: the customer, its subscriptions and discounts, and the catalog they point at.
EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "customer.subscription.trial_will_end",
    "customer.discount.created",
    "customer.discount.updated",
    "customer.discount.deleted",
    "product.updated",
    "product.deleted",
    "price.updated",
    "price.deleted",
    "coupon.updated",
    "coupon.deleted",
)
_CATALOG = ("product.", "price.", "coupon.")


def hints(events: Iterator[dict[str, Any]]) -> Iterator[ChangeHint]:
    """One hint per event: its id and time, and the customer or catalog item it touched."""
    for event in events:
        kind = str(event.get("type", ""))
        obj = (event.get("data") or {}).get("object") or {}
        customer = catalog = None
        if kind.startswith(_CATALOG):
            catalog = obj.get("id")
        elif kind.startswith("customer.") and obj.get("object") == "customer":
            customer = obj.get("id")
        else:
            customer = obj.get("customer")
            if isinstance(customer, dict):
                customer = customer.get("id")
        yield ChangeHint(
            id=str(event["id"]),
            created=datetime.fromtimestamp(int(event["created"]), UTC),
            customer_id=str(customer) if customer else None,
            catalog_id=str(catalog) if catalog else None,
            api_version=event.get("api_version"),
        )
