"""The picklist values billing-sync owns: error categories and statuses, the Account's
billing status, the providers' subscription statuses. Pure; ``schema`` declares the fields."""

from __future__ import annotations

from enum import StrEnum

from metadata.billing_systems import BILLING_SYSTEMS, all_statuses

__all__ = [
    "ACCOUNT_BILLING_STATUSES",
    "BILLING_SYSTEM_VALUES",
    "SUBSCRIPTION_STATUSES",
    "SYNC_ERROR_CATEGORIES",
    "SYNC_ERROR_SEVERITIES",
    "SYNC_ERROR_STATUSES",
    "Category",
    "ErrorStatus",
]


class Category(StrEnum):
    """Sync_Error__c.Category__c: what kind of problem a failure is, for whoever triages it."""

    MATCHING = "Matching"
    STRIPE = "Stripe"
    CHARGEBEE = "Chargebee"
    RECURLY = "Recurly"
    SALESFORCE_WRITE = "Salesforce Write"
    VALIDATION = "Validation"
    LIMITS = "Limits"
    CONFIGURATION = "Configuration"


class ErrorStatus(StrEnum):
    """Sync_Error__c.Status__c. Ignored is set by admins only; billing-sync never sets it."""

    OPEN = "Open"
    RETRYING = "Retrying"
    RESOLVED = "Resolved"
    IGNORED = "Ignored"


def _same(*values: str) -> tuple[tuple[str, str], ...]:
    return tuple((value, value) for value in values)


ACCOUNT_BILLING_STATUSES = _same(
    "Active",
    "Past Due",
    "Unpaid",
    "Canceling",
    "Trialing",
    "Paused",
    "Incomplete",
    "Churned",
    "No Subscription",
)

# Status__c holds the provider's status verbatim: every provider's values, Stripe's first.
SUBSCRIPTION_STATUSES = all_statuses()
BILLING_SYSTEM_VALUES = tuple((s.label, s.label) for s in BILLING_SYSTEMS)

SYNC_ERROR_CATEGORIES = _same(*(c.value for c in Category))
SYNC_ERROR_STATUSES = _same(*(s.value for s in ErrorStatus))
# A Notice is worth a look but nothing failed (the provider's MRR differs from ours).
SYNC_ERROR_SEVERITIES = _same("Error", "Notice")
