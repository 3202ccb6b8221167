"""Recurly changes as hints: which accounts changed since a moment.

Recurly has no events endpoint, so the change feed is its lists sorted by ``updated_at``,
ascending, from ``begin_time`` (inclusive): every record updated since then, oldest first.
Ascending because the cursor pins the last record's (updated_at, position): a record updated
while we page moves *ahead* of the cursor and is seen again at the end, where descending
would leave it behind the cursor, unseen (Recurly's own advice on ``sort=updated_at``).

Two lists, one call each when little changed (an idle tick is 2 Recurly calls + 2 SOQL):
- ``subscriptions``: state changes, renewals, cancellations, plan and quantity changes, and
  closing an account (which expires its live subscriptions at once);
- ``invoices``: the only trace of an account going past due or paying what it owed
  (``has_past_due_invoice`` moves with an invoice's state, which touches neither the account
  nor the subscription).
The ``accounts`` list is not read: nothing we show moves with an account alone (renames are
not synced) but closing an account that never had a subscription (No Subscription →
Churned), which waits for the nightly full reconcile, as do catalog edits (a renamed plan).

A record becomes a hint whose id is ``kind:id:updated_at``: the same update seen twice (the
engine re-reads with an overlap) is dropped by id, and a later update of the same record is a
new hint. Only ids are taken: the customer is re-read before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ..model import ChangeHint

__all__ = ["FEEDS", "hints"]

FEEDS = ("subscription", "invoice")


def _code(kind: str, record: dict[str, Any]) -> str | None:
    owner = record if kind == "account" else record.get("account") or {}
    code = owner.get("code")
    return str(code) if code else None


def hints(kind: str, records: Iterable[dict[str, Any]]) -> Iterator[ChangeHint]:
    """One hint per record of a ``kind`` list: its update and the account it belongs to."""
    for record in records:
        updated = str(record.get("updated_at") or record.get("created_at"))
        yield ChangeHint(
            id=f"{kind}:{record['id']}:{updated}",
            created=datetime.fromisoformat(updated.replace("Z", "+00:00")),
            customer_id=_code(kind, record),
        )
