"""The provider's own MRR against ours (Chargebee reports one per subscription). Pure.

A difference over 1% is a Notice (Sync_Error__c Severity Notice): nothing failed and the
records are written, but one of the two rulebooks values the subscription differently, which
an admin should see (a free correctness check of our MRR rules, or of the provider's)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from metadata.schema import Category

from .failures import Failure

__all__ = ["MRR_MISMATCH", "MRR_TOLERANCE", "mrr_mismatch"]

MRR_MISMATCH = "MRR_MISMATCH"
MRR_TOLERANCE = Decimal("0.01")


def mrr_mismatch(
    key: str,
    fields: Mapping[str, Any],
    provider: str,
    customer_id: str,
    account_id: str | None,
) -> Failure | None:
    """The notice for one Subscription__c record's fields, or None when they agree."""
    theirs = fields.get("Provider_MRR__c")
    ours = fields.get("MRR__c")
    if theirs is None or ours is None:
        return None
    if abs(theirs - ours) <= MRR_TOLERANCE * max(abs(theirs), abs(ours)):
        return None
    currency = fields.get("Currency__c") or ""
    return Failure(
        Category.VALIDATION,
        MRR_MISMATCH,
        f"{provider} reports MRR {theirs} {currency} for subscription {key}; "
        f"billing-sync computes {ours} {currency}. MRR__c shows ours; check the discounts, "
        "tiers and intervals of this subscription (a notice: nothing failed).",
        key,
        account_id,
        customer_id,
        {"subscription": key, "provider_mrr": str(theirs), "mrr": str(ours)},
        attempted=False,
    )
