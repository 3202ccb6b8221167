"""What a sliced cycle lists from Stripe once and reads back a slice at a time.

A reconcile that reads a large org in slices of Accounts asks the source for each slice's
customers in turn. Listing every subscription again per slice would multiply the listing's
calls by the number of slices; holding the whole listing would grow memory with the account.
So the listing is made once, on the first slice that needs it, onto disk (``Spill``), and
each slice reads its own customers back. The customer listing (for linked customers with no
subscription) likewise goes on where the last slice left it, its pages kept on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

from ..store.spill import Spill
from .customers import find_listed
from .partition import newest_first

__all__ = ["CycleListing"]

CustomerPages = Callable[[], Generator[list[dict[str, Any]], None, None]]
SubscriptionPages = Callable[[dict[str, Any]], Iterator[list[dict[str, Any]]]]


class CycleListing:
    """One cycle's Stripe listings on disk; ``close`` when the cycle ends."""

    def __init__(
        self, customer_pages: CustomerPages, subscription_pages: SubscriptionPages,
        expand: list[str], *,
        ordered: bool = True,
    ) -> None:  # fmt: skip
        """``customer_pages``: a new customer listing (read on where the last slice left
        it); ``subscription_pages``: the account's subscription listing; ``ordered``: whether
        its pages come in Stripe's order (one chain), else each customer's subscriptions
        are put back in that order as they are read back."""
        self._new_customer_pages = customer_pages
        self._subscription_pages = subscription_pages
        self._ordered = ordered
        self._expand = expand
        self._spill = Spill()
        self._subs_listed = False
        self._customer_pages: Generator[list[dict[str, Any]], None, None] | None = None

    @property
    def subscriptions_listed(self) -> int:
        return self._spill.count

    def subscriptions(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The (slim) subscriptions of ``ids``, listing the account on first use."""
        if not self._subs_listed:
            params = {"status": "all", "expand": self._expand}
            for data in self._subscription_pages(params):
                self._spill.add((sub["customer"], sub) for sub in data)
            self._subs_listed = True
        found = self._spill.for_customers(ids)
        if not self._ordered:
            for subs in found.values():
                newest_first(subs)
        return found

    def find_customers(
        self, todo: set[str], weight: float = 1.0
    ) -> tuple[dict[str, dict[str, Any] | None], int]:
        """Of ``todo``, those the customer listing holds, reading further pages while that is
        the cheaper way (``keep_listing``); and how many customers the new pages held.

        ``weight``: the Accounts still to come in this cycle for each one of this slice. A
        page also serves the slices after this one (it is kept), so each find here stands
        for about ``weight`` finds in the cycle, and the listing goes on at that rate."""
        found: dict[str, dict[str, Any] | None] = dict(self._spill.get(todo))
        if self._customer_pages is None:
            self._customer_pages = self._new_customer_pages()
        listed = find_listed(self._customer_pages, todo, found, weight=weight, keep=self._keep)
        return found, listed

    def _keep(self, data: list[dict[str, Any]]) -> None:
        self._spill.put((obj["id"], _facts(obj)) for obj in data)

    def close(self) -> None:
        if self._customer_pages is not None:
            self._customer_pages.close()  # a concurrent listing's threads stop
        self._spill.close()


def _facts(obj: dict[str, Any]) -> dict[str, Any]:
    """What the source reads of a listed customer, kept for a later slice."""
    return {k: obj.get(k) for k in ("id", "deleted", "name", "test_clock")}
