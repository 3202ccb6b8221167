"""Match hygiene: which Accounts carry a usable billing customer ID. Pure.

We match on the external ID only (the provider's own Account field, ``BillingSystem``), never
on names or emails: an Account whose ID is malformed or shared with another Account is
reported and left alone rather than guessed at. Recurly account codes are one code whatever
their case, so two Accounts holding "ACME" and "acme" share one customer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from metadata.billing_systems import STRIPE, BillingSystem
from metadata.schema import Category

from .failures import Failure

__all__ = ["CUSTOMER_ID", "ID_RULES", "match_accounts", "refused_customer", "unknown_customer"]

CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]{1,250}")
# Each provider's id alphabet, and how a message describes it to the admin who typed it.
ID_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "stripe": (
        CUSTOMER_ID,
        "a Stripe customer id (cus_ followed by letters and digits, no spaces)",
    ),
    "chargebee": (
        re.compile(r"[A-Za-z0-9_\-.@~]{1,50}"),
        "a Chargebee customer id (1 to 50 letters, digits and - _ . @ ~, no spaces)",
    ),
    # Recurly: at most 50 characters, not starting with a period, no / or ; (and, for us,
    # no whitespace: a code with a stray space is a typo, not a code).
    "recurly": (
        re.compile(r"[^.\s/;][^\s/;]{0,49}"),
        "a Recurly account code (1 to 50 characters, no spaces, / or ;, not starting with .)",
    ),
}


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


def unknown_customer(
    account: Mapping[str, Any], customer_id: str, system: BillingSystem = STRIPE
) -> Failure:
    """The billing system has never heard of the id an Account carries."""
    return _problem(
        account["Id"],
        customer_id,
        "UNKNOWN_CUSTOMER",
        f"{system.label} has no customer {customer_id} (linked from Account "
        f"'{account.get('Name')}'). Check the ID for typos or a test/live mix-up; "
        "the Account is not synced until then.",
    )


def refused_customer(
    account: Mapping[str, Any],
    customer_id: str,
    reasons: Mapping[str, str],
    system: BillingSystem = STRIPE,
) -> Failure:
    """The billing system refused to read the customer an Account names (a 400 for an id it
    rejects): that Account's problem, not the cycle's."""
    return _problem(
        account["Id"],
        customer_id,
        "CUSTOMER_REFUSED",
        f"{system.label} refused to list the subscriptions of {customer_id} (linked from Account "
        f"'{account.get('Name')}'): {reasons[customer_id]} Check the ID; the Account is not "
        "synced until then.",
    )


def match_accounts(
    accounts: Iterable[Mapping[str, Any]], system: BillingSystem = STRIPE
) -> tuple[dict[str, Mapping[str, Any]], list[Failure]]:
    """Usable Accounts keyed by customer id (as the Account holds it), and a Matching failure
    per Account that is not usable (no id, a malformed id, an id shared with another
    Account)."""
    by_id: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    problems: list[Failure] = []
    pattern, described = ID_RULES[system.key]
    label, field_label = system.label, system.account_field_label
    for account in accounts:
        raw = account.get(system.account_field) or ""
        if not raw:
            problems.append(
                _problem(
                    account["Id"],
                    "",
                    "NO_CUSTOMER_ID",
                    f"Account '{account.get('Name')}' has no {field_label}, so there is "
                    f"nothing to sync it from. Fill in the field with {described}.",
                )
            )
            continue
        if not pattern.fullmatch(raw):
            problems.append(
                _problem(
                    account["Id"],
                    raw,
                    "MALFORMED_ID",
                    f"Account '{account.get('Name')}' has {field_label} {raw!r}, which is not "
                    f"{described}. Correct the field; the Account is not synced until then.",
                )
            )
            continue
        by_id[raw if system.case_sensitive else raw.casefold()].append(account)
    matched: dict[str, Mapping[str, Any]] = {}
    for group in by_id.values():
        customer_id = group[0][system.account_field]
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
                    f"{label} customer {customer_id} is linked from {len(group)} Accounts: "
                    f"{names}. "
                    "Keep it on one Account only; none of them is synced until then.",
                )
            )
    return matched, problems
