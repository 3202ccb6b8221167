"""In-memory records and the indexes that keep every lookup and cursor cheap.

Records are plain dicts shaped like Stripe's JSON; keys starting with "_" are the stand-in's own
bookkeeping and never leave the server. Each record carries ``_seq`` (creation order), which is
what lists sort by: listing newest first and finding a cursor are bisections, not scans.
"""

from __future__ import annotations

import random
import string
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

__all__ = ["KINDS", "OrderedIndex", "Store", "event_key"]

KINDS = (
    "customer", "product", "price", "coupon", "discount", "subscription", "invoice", "event",
    "test_clock", "payment_method", "meter",
)  # fmt: skip
_ALNUM = string.ascii_letters + string.digits
SUB_STATUSES = (
    "incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid",
    "paused",
)  # fmt: skip


class OrderedIndex:
    """Ids sorted by creation sequence, with bisect lookup for cursors."""

    __slots__ = ("_ids", "_seqs")

    def __init__(self) -> None:
        self._seqs: list[int] = []
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, seq: int, oid: str) -> None:
        if not self._seqs or seq > self._seqs[-1]:
            self._seqs.append(seq)
            self._ids.append(oid)
            return
        i = bisect_left(self._seqs, seq)
        if i < len(self._seqs) and self._seqs[i] == seq:
            return
        self._seqs.insert(i, seq)
        self._ids.insert(i, oid)

    def remove(self, seq: int) -> None:
        i = bisect_left(self._seqs, seq)
        if i < len(self._seqs) and self._seqs[i] == seq:
            del self._seqs[i]
            del self._ids[i]

    def newest_first(self, below: int | None = None) -> Iterator[str]:
        """Ids with seq < ``below`` (all when None), newest first."""
        i = len(self._seqs) if below is None else bisect_left(self._seqs, below)
        ids = self._ids
        for j in range(i - 1, -1, -1):
            yield ids[j]

    def oldest_first(self, above: int) -> Iterator[str]:
        """Ids with seq > ``above``, oldest first."""
        i = bisect_left(self._seqs, above + 1)
        ids = self._ids
        for j in range(i, len(ids)):
            yield ids[j]

    def keyed_newest_first(self, below: int | None = None) -> Iterator[tuple[int, str]]:
        """(key, id) with key < ``below``, newest first (for merging several indexes)."""
        i = len(self._seqs) if below is None else bisect_left(self._seqs, below)
        seqs, ids = self._seqs, self._ids
        for j in range(i - 1, -1, -1):
            yield seqs[j], ids[j]

    def keyed_oldest_first(self, above: int) -> Iterator[tuple[int, str]]:
        i = bisect_left(self._seqs, above + 1)
        seqs, ids = self._seqs, self._ids
        for j in range(i, len(ids)):
            yield seqs[j], ids[j]


def event_key(created: int, seq: int) -> int:
    return (created << 40) + seq


class Store:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.seq = 0
        self.data: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.order: dict[str, OrderedIndex] = {k: OrderedIndex() for k in KINDS}
        self.subs_by_customer: dict[str, OrderedIndex] = {}
        self.subs_by_status: dict[str, OrderedIndex] = {s: OrderedIndex() for s in SUB_STATUSES}
        self.subs_by_price: dict[str, OrderedIndex] = {}
        self.subs_not_canceled = OrderedIndex()
        self.subs_ended = OrderedIndex()
        self.customers_by_clock: dict[str, set[str]] = {}
        self.events_by_type: dict[str, OrderedIndex] = {}
        self.invoices_by_sub: dict[str, OrderedIndex] = {}
        self.invoices_by_customer: dict[str, OrderedIndex] = {}
        self.item_sub: dict[str, str] = {}  # subscription item id -> subscription id

    # ids -----------------------------------------------------------------------------------
    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def new_id(self, prefix: str, length: int = 14) -> str:
        """Stripe-like ids: a base-62 counter (unique, ordered) padded with random letters."""
        n, digits = self.seq + 1, []
        while n:
            n, r = divmod(n, 62)
            digits.append(_ALNUM[r])
        head = "".join(reversed(digits)).rjust(5, "0")
        tail = "".join(self.rng.choice(_ALNUM) for _ in range(max(0, length - len(head))))
        return f"{prefix}_{head}{tail}"

    def request_id(self) -> str:
        return "req_" + "".join(self.rng.choice(_ALNUM) for _ in range(14))

    # records -------------------------------------------------------------------------------
    def put(self, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
        rec["_seq"] = self.next_seq()
        self.data[kind][rec["id"]] = rec
        self.order[kind].add(rec["_seq"], rec["id"])
        return rec

    def get(self, kind: str, oid: str) -> dict[str, Any] | None:
        return self.data[kind].get(oid)

    def drop(self, kind: str, oid: str) -> None:
        rec = self.data[kind].pop(oid, None)
        if rec is not None:
            self.order[kind].remove(rec["_seq"])

    # subscription indexes ------------------------------------------------------------------
    def index_subscription(self, sub: dict[str, Any]) -> None:
        seq, sid = sub["_seq"], sub["id"]
        self.subs_by_customer.setdefault(sub["customer"], OrderedIndex()).add(seq, sid)
        self._index_status(sub, sub["status"], add=True)
        for pid in {it["price"] for it in sub["_items"]}:
            self.subs_by_price.setdefault(pid, OrderedIndex()).add(seq, sid)

    def _index_status(self, sub: dict[str, Any], status: str, *, add: bool) -> None:
        seq, sid = sub["_seq"], sub["id"]
        targets = [self.subs_by_status[status]]
        targets.append(self.subs_ended if status in ("canceled", "incomplete_expired") else None)
        targets.append(self.subs_not_canceled if status != "canceled" else None)
        for idx in targets:
            if idx is None:
                continue
            if add:
                idx.add(seq, sid)
            else:
                idx.remove(seq)

    def set_status(self, sub: dict[str, Any], status: str) -> None:
        if sub["status"] == status:
            return
        self._index_status(sub, sub["status"], add=False)
        sub["status"] = status
        self._index_status(sub, status, add=True)

    def reindex_prices(self, sub: dict[str, Any], before: set[str]) -> None:
        after = {it["price"] for it in sub["_items"]}
        for pid in before - after:
            self.subs_by_price[pid].remove(sub["_seq"])
        for pid in after - before:
            self.subs_by_price.setdefault(pid, OrderedIndex()).add(sub["_seq"], sub["id"])

    def put_event(self, evt: dict[str, Any]) -> dict[str, Any]:
        """Events sort by ``created`` first, then creation order: ``_key`` is both at once.

        Seeded events carry their object's past ``created`` although they are stored after
        newer ones, so creation order alone would not be Stripe's order (newest first).
        """
        evt["_seq"] = seq = self.next_seq()
        evt["_key"] = key = event_key(evt["created"], seq)
        self.data["event"][evt["id"]] = evt
        self.order["event"].add(key, evt["id"])
        self.events_by_type.setdefault(evt["type"], OrderedIndex()).add(key, evt["id"])
        return evt

    def index_invoice(self, inv: dict[str, Any]) -> None:
        sid = inv["parent"]["subscription_details"]["subscription"]
        self.invoices_by_sub.setdefault(sid, OrderedIndex()).add(inv["_seq"], inv["id"])
        self.invoices_by_customer.setdefault(inv["customer"], OrderedIndex()).add(
            inv["_seq"], inv["id"]
        )
