"""Match hygiene: which Accounts carry a usable Stripe customer ID. Pure.

We match on the external ID only, never on names or emails: an Account whose ID is malformed
or shared with another Account is reported and left alone rather than guessed at.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from metadata.schema import Category

from .failures import Failure

__all__ = ["CUSTOMER_ID", "match_accounts", "refused_customer", "unknown_customer"]

CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]{1,250}")


def _problem(account_id: str, customer_id: str, code: str, message: str) -> Failure:
    # Read off the data, so re-checked every cycle rather than retried.
    return Failure(
        Category.MATCHING,
        code,
        message,
        account_id,
        account_id,
        customer_id or None,
        attempted=False,
    )


def unknown_customer(account: Mapping[str, Any], customer_id: str) -> Failure:
    """The billing system has never heard of the id an Account carries."""
    return _problem(
        account["Id"],
        customer_id,
        "UNKNOWN_CUSTOMER",
        f"Stripe has no customer {customer_id} (linked from Account "
        f"'{account.get('Name')}'). Check the ID for typos or a test/live mix-up; "
        "the Account is not synced until then.",
    )


def refused_customer(
    account: Mapping[str, Any], customer_id: str, reasons: Mapping[str, str]
) -> Failure:
    """The billing system refused to read the customer an Account names (a 400 for an id it
    rejects): that Account's problem, not the cycle's."""
    return _problem(
        account["Id"],
        customer_id,
        "CUSTOMER_REFUSED",
        f"Stripe refused to list the subscriptions of {customer_id} (linked from Account "
        f"'{account.get('Name')}'): {reasons[customer_id]} Check the ID; the Account is not "
        "synced until then.",
    )


def match_accounts(
    accounts: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, Mapping[str, Any]], list[Failure]]:
    """Usable Accounts keyed by customer id, and a Matching failure per Account that is not
    usable (no id, a malformed id, an id shared with another Account)."""
    by_id: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    problems: list[Failure] = []
    for account in accounts:
        raw = account.get("Stripe_Customer_Id__c") or ""
        if not raw:
            problems.append(
                _problem(
                    account["Id"],
                    "",
                    "NO_CUSTOMER_ID",
                    f"Account '{account.get('Name')}' has no Stripe Customer ID, so there is "
                    "nothing to sync it from. Fill in the field with the customer's cus_ id.",
                )
            )
            continue
        if not CUSTOMER_ID.fullmatch(raw):
            problems.append(
                _problem(
                    account["Id"],
                    raw,
                    "MALFORMED_ID",
                    f"Account '{account.get('Name')}' has Stripe Customer ID {raw!r}, which is not "
                    "a Stripe customer id (cus_ followed by letters and digits, no spaces). "
                    "Correct the field; the Account is not synced until then.",
                )
            )
            continue
        by_id[raw].append(account)
    matched: dict[str, Mapping[str, Any]] = {}
    for customer_id, group in by_id.items():
        if len(group) == 1:
            matched[customer_id] = group[0]
            continue
        names = ", ".join(f"'{a.get('Name')}' ({a['Id']})" for a in group)
        for account in group:
            problems.append(
                _problem(
                    account["Id"],
                    customer_id,
                    "DUPLICATE_ID",
                    f"Stripe customer {customer_id} is linked from {len(group)} Accounts: {names}. "
                    "Keep it on one Account only; none of them is synced until then.",
                )
            )
    return matched, problems
