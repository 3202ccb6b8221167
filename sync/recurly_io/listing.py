"""What a sliced cycle lists from Recurly once and reads back a slice at a time.

A reconcile that reads a large org in slices of Accounts asks the source for each slice's
customers in turn. Listing every subscription and account on the site again per slice would
multiply the listing's calls by the number of slices; holding the whole listing would grow
memory with the site. So, when listing everything is the cycle's strategy, the site is listed
once, on the first slice, onto disk (``Spill``), and each slice reads its own back.

Both are kept under the account code folded to one case: Recurly matches codes ignoring case,
so whichever spelling Salesforce holds finds the account (``source`` keys it back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..store.spill import Spill

__all__ = ["CycleListing", "fold"]

# The records of one page of a list (``/subscriptions`` or ``/accounts``).
Pages = Callable[[str], Iterator[list[dict[str, Any]]]]


def fold(code: object) -> str:
    """The key a code is matched by, as Recurly matches codes: ignoring case."""
    return str(code).casefold()


class CycleListing:
    """One cycle's listing of the site's subscriptions and accounts, on disk; ``close`` when
    the cycle ends."""

    def __init__(self, pages: Pages) -> None:
        self._pages = pages
        self._spill: Spill | None = None

    @property
    def listed(self) -> int:
        """Subscriptions on the site (what a full listing pages through)."""
        return self._spill.count if self._spill is not None else 0

    def read(
        self, keys: Iterable[str]
    ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
        """(subscriptions, the account) of each folded code in ``keys``, in the site's order;
        the site is listed on first use."""
        if self._spill is None:
            self._spill = self._list()
        wanted = list(keys)
        return self._spill.for_customers(wanted), self._spill.get(wanted)

    def _list(self) -> Spill:
        spill = Spill()
        try:
            for data in self._pages("/subscriptions"):
                spill.add((fold((sub.get("account") or {}).get("code")), sub) for sub in data)
            for data in self._pages("/accounts"):
                # A later account of the same folded code replaces an earlier one, as a dict
                # of them would.
                spill.put((fold(acct.get("code")), acct) for acct in data)
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
