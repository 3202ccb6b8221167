"""What a sliced cycle lists from Chargebee once and reads back a slice at a time.

A reconcile that reads a large org in slices of Accounts asks the source for each slice's
customers in turn. Listing every subscription on the site again per slice would multiply the
listing's calls by the number of slices; holding the whole listing would grow memory with the
site. So, when listing everything is the cycle's strategy, the site is listed once, on the
first slice, onto disk (``Spill``), and each slice reads its own customers' entries back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..store.spill import Spill

__all__ = ["CycleListing"]

# The entries of one listing page: {"subscription": {...}, "customer": {...}}.
Pages = Callable[[], Iterator[list[dict[str, Any]]]]
# What the source reads of an entry's customer (``source.fetch``): the rest stays behind.
CUSTOMER_FACTS = ("id", "first_name", "last_name", "company", "deleted")


class CycleListing:
    """One cycle's listing of every subscription on the site, on disk; ``close`` when the cycle
    ends."""

    def __init__(self, pages: Pages) -> None:
        self._pages = pages
        self._spill: Spill | None = None

    @property
    def listed(self) -> int:
        """Subscriptions on the site (what a full listing pages through)."""
        return self._spill.count if self._spill is not None else 0

    def entries(self, ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The listing's entries of ``ids``, in the site's order; the site is listed on first
        use."""
        if self._spill is None:
            self._spill = self._list()
        return self._spill.for_customers(ids)

    def _list(self) -> Spill:
        spill = Spill()
        try:
            for rows in self._pages():
                spill.add((e["subscription"]["customer_id"], _kept(e)) for e in rows)
        except BaseException:
            # A listing that failed part way is not kept: the next ask lists afresh rather
            # than serve a site with its later pages missing.
            spill.close()
            raise
        return spill

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None


def _kept(entry: dict[str, Any]) -> dict[str, Any]:
    who = entry.get("customer") or {}
    return {
        "subscription": entry["subscription"],
        "customer": {k: who[k] for k in CUSTOMER_FACTS if k in who},
    }
