"""Linked customers with no subscription: one retrieve each, or the customer listing.

Such a customer still has to be read to tell "never subscribed" from "deleted" from "no such
customer". One ``GET /v1/customers/{id}`` each costs N calls; the customer listing (100 a
page) finds them all in ceil(customers in the account / 100) calls, which is fewer when many
linked customers have no subscription. Stripe does not say how many customers an account
holds, so the choice is made while listing: after each page, the rate at which the wanted ids
turned up so far estimates the pages still needed to find the rest, and the listing goes on
only while that is no more than retrieving the rest one by one. The listing cannot find a
deleted customer (Stripe leaves them out) nor one on a test clock (left out unless asked
for): whatever the listing did not find is retrieved, which tells those cases apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["LISTING_CUTOFF", "find_listed", "keep_listing"]

# Up to this many customers are retrieved one by one without trying the listing: the listing's
# two pages of slack would be a tenth or more of the cost.
LISTING_CUTOFF = 20


def keep_listing(pages: int, found: int, wanted: int) -> bool:
    """After ``pages`` pages of the customer listing found ``found`` of ``wanted`` ids, is
    one more page expected to be cheaper than retrieving the ids still missing?

    At the rate so far the rest takes ``pages * missing / found`` more pages, no more than the
    ``missing`` retrieves exactly when ``pages <= found``. One page of slack (``found + 1``)
    keeps an unlucky first page from ending a listing that pays; it costs a small set at
    most two pages more than retrieving it.
    """
    return found < wanted and pages <= found + 1


def find_listed(
    pages: Iterator[list[dict[str, Any]]],
    todo: set[str],
    found: dict[str, dict[str, Any] | None],
    *,
    weight: float = 1.0,
    keep: Callable[[list[dict[str, Any]]], None] | None = None,
) -> int:
    """Read customer listing ``pages`` into ``found`` (the ids of ``todo`` they hold) while
    ``keep_listing`` says a page is worth it; returns the customers the pages held.

    ``weight``: how many finds in the whole cycle each find here stands for, when the pages
    are kept (``keep``) for the slices of Accounts after this one."""
    read = listed = 0
    while len(found) < len(todo) and keep_listing(
        read, round(len(found) * weight), round(len(todo) * weight)
    ):
        data = next(pages, [])
        if not data:
            break
        read += 1
        listed += len(data)
        if keep is not None:
            keep(data)
        found.update((obj["id"], obj) for obj in data if obj["id"] in todo)
    return listed
