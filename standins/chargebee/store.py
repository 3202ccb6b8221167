"""In-memory records, ids, resource versions and the event log.

Records are plain dicts shaped like Chargebee's JSON; keys starting with "_" are the stand-in's
bookkeeping and never leave it, and ``None`` values are left out of answers because Chargebee
omits attributes that have no value. ``resource_version`` is a millisecond timestamp that rises
on every change of a record, even two changes within one millisecond of the stand-in's clock.
"""

from __future__ import annotations

import random
import string
from typing import Any

__all__ = ["KINDS", "Store", "public"]

KINDS = ("customer", "item_family", "item", "item_price", "coupon", "subscription", "invoice",
         "event")  # fmt: skip
_ALNUM = string.ascii_letters + string.digits


def public(value: Any) -> Any:
    """A record as the API shows it: no private keys, no ``None`` values, fresh copies."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not k.startswith("_") and v is not None}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


class Store:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.seq = 0
        self.last_rv = 0
        self.invoice_no = 0
        self.data: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.subs_by_customer: dict[str, list[str]] = {}
        self.failing_customers: set[str] = set()

    def new_id(self, prefix: str = "") -> str:
        """Chargebee-style generated ids: 17 random letters and digits (``prefix`` for events)."""
        return prefix + "".join(self.rng.choice(_ALNUM) for _ in range(17))

    def next_invoice_id(self) -> str:
        self.invoice_no += 1
        return str(self.invoice_no)

    def version(self, now: int) -> int:
        self.last_rv = max(now * 1000, self.last_rv + 1)
        return self.last_rv

    def touch(self, rec: dict[str, Any], now: int) -> None:
        rec["updated_at"] = now
        rec["resource_version"] = self.version(now)

    def put(self, kind: str, rec: dict[str, Any], now: int) -> dict[str, Any]:
        self.seq += 1
        rec["_seq"] = self.seq
        self.touch(rec, now)
        self.data[kind][rec["id"]] = rec
        if kind == "subscription":
            self.subs_by_customer.setdefault(rec["customer_id"], []).append(rec["id"])
        return rec

    def get(self, kind: str, oid: str) -> dict[str, Any] | None:
        return self.data[kind].get(oid)

    def emit(self, event_type: str, now: int, source: str,
             content: dict[str, dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
        """Log an event whose ``content`` is a snapshot of the resources as they are now."""
        evt = {
            "id": self.new_id("ev_"), "occurred_at": now, "source": source, "object": "event",
            "api_version": "v2", "event_type": event_type, "webhook_status": "not_configured",
            "content": {k: public(v) for k, v in content.items()},
        }  # fmt: skip
        self.seq += 1
        evt["_seq"] = self.seq
        self.data["event"][evt["id"]] = evt
        return evt
