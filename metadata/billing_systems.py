"""The billing systems billing-sync can sync from, in Salesforce terms. Pure.

Each names the Account field an Account is matched on, the Subscription__c external ID its
subscriptions are upserted by, and the provider's own subscription statuses (Status__c shows
them verbatim; the engine works on neutral states, see ``sync.model``). Stripe came first and
keeps its v1 names: nothing deployed is ever renamed or retyped.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BILLING_SYSTEMS",
    "CHARGEBEE",
    "RECURLY",
    "STRIPE",
    "BillingSystem",
    "all_statuses",
    "billing_system",
]


@dataclass(frozen=True)
class BillingSystem:
    key: str  # BILLING_PROVIDER's value
    label: str  # Billing_System__c's value, and how messages name the provider
    account_field: str  # the Account field holding the provider's customer id (External ID)
    account_field_label: str
    # Whether the provider tells ids apart by case: Recurly account codes are unique on a
    # site regardless of case, so the Account field must be too (else "ACME" and "acme"
    # would be two links to one customer).
    case_sensitive: bool
    subscription_key: str  # Subscription__c's External ID for this provider's subscriptions
    subscription_key_label: str
    # Subscription__c's field holding the customer id: v1 Stripe records carry it in
    # Stripe_Customer_Id__c; every other provider uses the neutral Billing_Customer_Id__c.
    customer_field: str
    statuses: tuple[tuple[str, str], ...]  # (the provider's value, label)
    id_example: str  # for help texts and messages


STRIPE = BillingSystem(
    key="stripe",
    label="Stripe",
    account_field="Stripe_Customer_Id__c",
    account_field_label="Stripe Customer ID",
    case_sensitive=True,
    subscription_key="Stripe_Subscription_Id__c",
    subscription_key_label="Stripe Subscription ID",
    customer_field="Stripe_Customer_Id__c",
    statuses=(
        ("incomplete", "Incomplete"),
        ("incomplete_expired", "Incomplete Expired"),
        ("trialing", "Trialing"),
        ("active", "Active"),
        ("past_due", "Past Due"),
        ("canceled", "Canceled"),
        ("unpaid", "Unpaid"),
        ("paused", "Paused"),
    ),
    id_example="cus_...",
)

CHARGEBEE = BillingSystem(
    key="chargebee",
    label="Chargebee",
    account_field="Chargebee_Customer_Id__c",
    account_field_label="Chargebee Customer ID",
    case_sensitive=True,
    subscription_key="Chargebee_Subscription_Id__c",
    subscription_key_label="Chargebee Subscription ID",
    customer_field="Billing_Customer_Id__c",
    statuses=(
        ("future", "Future"),
        ("in_trial", "In Trial"),
        ("active", "Active"),
        ("non_renewing", "Non Renewing"),
        ("paused", "Paused"),
        ("cancelled", "Cancelled"),
        ("transferred", "Transferred"),
    ),
    id_example="the customer id shown in Chargebee",
)

RECURLY = BillingSystem(
    key="recurly",
    label="Recurly",
    account_field="Recurly_Account_Code__c",
    account_field_label="Recurly Account Code",
    case_sensitive=False,
    subscription_key="Recurly_Subscription_Id__c",
    subscription_key_label="Recurly Subscription ID",
    customer_field="Billing_Customer_Id__c",
    statuses=(
        ("future", "Future"),
        ("active", "Active"),
        ("canceled", "Canceled"),
        ("paused", "Paused"),
        ("expired", "Expired"),
        ("failed", "Failed"),
    ),
    id_example="the account code",
)

BILLING_SYSTEMS: tuple[BillingSystem, ...] = (STRIPE, CHARGEBEE, RECURLY)


def billing_system(key: str) -> BillingSystem:
    for system in BILLING_SYSTEMS:
        if system.key == key:
            return system
    raise KeyError(f"no billing system {key!r}")


def all_statuses() -> tuple[tuple[str, str], ...]:
    """Every provider's statuses, each value once (Stripe's first, in v1's order)."""
    seen: dict[str, str] = {}
    for system in BILLING_SYSTEMS:
        for value, label in system.statuses:
            seen.setdefault(value, label)
    return tuple(seen.items())
