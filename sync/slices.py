"""A full reconcile's Accounts in slices, each with its Subscription__c rows.

Both reads stream from Salesforce in the same order (Accounts by Id, Subscription__c by their
Account's Id), so a slice is a merge of the two: the next ``size`` Accounts and the rows up to
the last of them. Memory holds one slice, whatever the size of the org. A row that lands in
another slice than its Account (its customer moved to another Account) is not lost: its
subscription is then written in full by external ID, which updates the same record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from .ports import Row

__all__ = ["slices"]


def slices(
    accounts: Iterable[Row], subscriptions: Iterable[Row], size: int | None
) -> Iterator[tuple[list[Row], list[Row]]]:
    """``(accounts, subscription rows)`` per slice of at most ``size`` Accounts (``None``:
    one slice of everything). Rows past the last Account are dropped: their Accounts are not
    linked, so nothing of ours is written to them."""
    account_iter = iter(accounts)
    sub_iter = iter(subscriptions)
    ahead: Row | None = next(sub_iter, None)
    while True:
        batch = list(islice(account_iter, size))
        if not batch:
            return
        last = batch[-1]["Id"]
        rows: list[Row] = []
        while ahead is not None and str(ahead["Account__c"]) <= last:
            rows.append(ahead)
            ahead = next(sub_iter, None)
        yield batch, rows
        if size is None:
            return
