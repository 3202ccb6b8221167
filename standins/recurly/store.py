"""In-memory records and the indexes that keep lookups by code and list pages cheap.

Records are plain dicts in Recurly's field names, timestamps held as epoch ints (rendered by
``render``); keys starting with "_" are the stand-in's own bookkeeping. Site-wide lists read a
sorted key table per (kind, sort field) that is rebuilt only after a write, so paging through
10,000 records during a read-only sync costs a bisection per page, not a sort.
"""

from __future__ import annotations

import random
import string
from typing import Any

__all__ = ["KINDS", "Store", "norm_code"]

KINDS = ("account", "plan", "add_on", "coupon", "coupon_redemption", "subscription", "invoice")
_ID_CHARS = string.ascii_lowercase + string.digits


def _b36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _ID_CHARS[r] + out
    return out


def norm_code(code: str) -> str:
    """Account codes are unique and looked up without regard to case (stored as given)."""
    return code.casefold()


class Store:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.seq = 0
        self.version = 0
        self.data: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.account_codes: dict[str, str] = {}
        self.plan_codes: dict[str, str] = {}
        self.coupon_codes: dict[str, str] = {}
        self.add_on_codes: dict[tuple[str, str], str] = {}  # (plan id, code) -> add-on id
        self.by_account: dict[str, dict[str, list[str]]] = {}  # account -> kind -> ids
        self.invoice_number = 1000
        self.fail_payments: set[str] = set()  # account ids whose charges are declined
        self._sorted: dict[tuple[str, str], tuple[int, list[tuple[int, int]], list[str]]] = {}

    # ids -----------------------------------------------------------------------------------
    def new_id(self) -> str:
        """Recurly-like ids: 12 lowercase base-36 characters, a counter head keeps them unique."""
        head = _b36(self.seq + 1)
        tail = _b36(self.rng.getrandbits(62)).rjust(11, "0")[: 11 - len(head)]
        return string.ascii_lowercase[self.rng.getrandbits(4)] + tail + head

    def uuid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def request_id(self) -> str:
        return "".join(self.rng.choice(_ID_CHARS) for _ in range(20))

    # records -------------------------------------------------------------------------------
    def put(self, kind: str, rec: dict[str, Any], account_id: str | None = None) -> dict[str, Any]:
        self.seq += 1
        self.version += 1
        rec["_seq"] = self.seq
        self.data[kind][rec["id"]] = rec
        if account_id:
            self.by_account.setdefault(account_id, {}).setdefault(kind, []).append(rec["id"])
        return rec

    def touch(self, rec: dict[str, Any], now: int) -> None:
        """Every change moves ``updated_at``: the sync's incremental lists depend on it."""
        rec["updated_at"] = now
        self.version += 1

    def get(self, kind: str, oid: str) -> dict[str, Any] | None:
        return self.data[kind].get(oid)

    def owned(self, account_id: str, kind: str) -> list[dict[str, Any]]:
        ids = self.by_account.get(account_id, {}).get(kind, ())
        return [self.data[kind][i] for i in ids]

    def sorted_keys(self, kind: str, field: str) -> tuple[list[tuple[int, int]], list[str]]:
        """(sort value, seq) ascending for every record of ``kind``, with the matching ids."""
        cached = self._sorted.get((kind, field))
        if cached and cached[0] == self.version:
            return cached[1], cached[2]
        rows = sorted((r[field], r["_seq"], r["id"]) for r in self.data[kind].values())
        keys = [(v, s) for v, s, _ in rows]
        ids = [i for _, _, i in rows]
        self._sorted[(kind, field)] = (self.version, keys, ids)
        return keys, ids
