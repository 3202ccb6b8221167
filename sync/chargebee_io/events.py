"""Chargebee events as hints: which customers (and catalog items) changed since a moment.

Why ``/events`` and not ``updated_at[after]`` on each resource: one feed, one cursor, and
every kind of change in it. A subscription falls past due through an *invoice* and a
*payment* (``due_invoices_count`` moves without the change we would look for), a deleted
customer leaves lists unless each is asked with ``include_deleted``, and a renamed item price
is another resource again: ``updated_at`` would need a listing per resource type per tick,
each sorted on a value that moves while we page it. Events are immutable and ordered by
``occurred_at``, so paging from the cursor with an overlap is stable and duplicates are
dropped by id.

Events are never read for billing values: ``content`` is a snapshot from when the event
occurred, not the state now. Only ids are taken from it; the customers are re-read.
No ``event_type`` filter: every event names a customer or a catalog item worth re-reading
(invoice and payment events included, see above), and a filter would miss types Chargebee adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ..model import ChangeHint

__all__ = ["CATALOG", "hints"]

# Content keys naming a catalog object: a change there re-reads every customer using it.
CATALOG = ("item_price", "item", "coupon")
# Content keys whose object carries the customer's id as ``customer_id``.
_OWNED = ("subscription", "invoice", "transaction", "credit_note", "order", "payment_source")


def _customer(content: dict[str, Any]) -> str | None:
    customer = content.get("customer")
    if isinstance(customer, dict) and customer.get("id"):
        return str(customer["id"])
    for key in _OWNED:
        obj = content.get(key)
        if isinstance(obj, dict) and obj.get("customer_id"):
            return str(obj["customer_id"])
    return None


def hints(events: Iterable[dict[str, Any]]) -> Iterator[ChangeHint]:
    """One hint per event: its id and time, and the customer or catalog item it touched."""
    for event in events:
        content = event.get("content") or {}
        customer = _customer(content)
        catalog = None
        if customer is None:
            for key in CATALOG:
                obj = content.get(key)
                if isinstance(obj, dict) and obj.get("id"):
                    catalog = str(obj["id"])
                    break
        yield ChangeHint(
            id=str(event["id"]),
            created=datetime.fromtimestamp(int(event["occurred_at"]), UTC),
            customer_id=customer,
            catalog_id=catalog,
            api_version=event.get("api_version"),
        )
