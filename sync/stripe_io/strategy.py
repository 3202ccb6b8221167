"""How a fetch reads Stripe: one listing of the whole account, or one per customer."""

from __future__ import annotations

import math

__all__ = ["PAGE", "UNKNOWN_TOTAL_CUTOFF", "choose_strategy"]

PAGE = 100  # the most a Stripe list returns in one call

# Without a known account-wide total, a few linked customers are cheaper asked one by one
# than an account that might hold millions of subscriptions paged in full.
UNKNOWN_TOTAL_CUTOFF = 20


def choose_strategy(customers: int, expected_subscriptions: int | None) -> str:
    """``"list_all"`` when paging through every subscription in the account costs fewer calls
    than one listing per customer. ``expected_subscriptions`` is the account-wide total seen
    by the last full listing, when there was one."""
    if expected_subscriptions is None:
        return "per_customer" if customers <= UNKNOWN_TOTAL_CUTOFF else "list_all"
    pages = math.ceil(max(expected_subscriptions, 1) / PAGE)
    return "list_all" if pages < customers else "per_customer"
