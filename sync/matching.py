"""Match hygiene: which Accounts carry a usable Stripe customer ID. Pure.

We match on the external ID only, never on names or emails: an Account whose ID is malformed
or shared with another Account is reported and left alone rather than guessed at.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CUSTOMER_ID", "MatchProblem", "match_accounts"]

CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]{1,250}")


@dataclass(frozen=True)
class MatchProblem:
    account_id: str
    customer_id: str
    code: str  # NO_CUSTOMER_ID | MALFORMED_ID | DUPLICATE_ID
    message: str


def match_accounts(
    accounts: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, Mapping[str, Any]], list[MatchProblem]]:
    """Usable Accounts keyed by customer id, and a problem per Account that is not usable."""
    by_id: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    problems: list[MatchProblem] = []
    for account in accounts:
        raw = account.get("Stripe_Customer_Id__c") or ""
        if not raw:
            problems.append(MatchProblem(
                account["Id"], "", "NO_CUSTOMER_ID",
                f"Account '{account.get('Name')}' has no Stripe Customer ID, so there is "
                "nothing to sync it from. Fill in the field with the customer's cus_ id.",
            ))
            continue
        if not CUSTOMER_ID.fullmatch(raw):
            problems.append(MatchProblem(
                account["Id"], raw, "MALFORMED_ID",
                f"Account '{account.get('Name')}' has Stripe Customer ID {raw!r}, which is not "
                "a Stripe customer id (cus_ followed by letters and digits, no spaces). Correct "
                "the field; the Account is not synced until then.",
            ))
            continue
        by_id[raw].append(account)
    matched: dict[str, Mapping[str, Any]] = {}
    for customer_id, group in by_id.items():
        if len(group) == 1:
            matched[customer_id] = group[0]
            continue
        names = ", ".join(f"'{a.get('Name')}' ({a['Id']})" for a in group)
        for account in group:
            problems.append(MatchProblem(
                account["Id"], customer_id, "DUPLICATE_ID",
                f"Stripe customer {customer_id} is linked from {len(group)} Accounts: {names}. "
                "Keep it on one Account only; none of them is synced until then.",
            ))
    return matched, problems
