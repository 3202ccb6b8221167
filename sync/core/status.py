"""The Account billing status: one value rolled up from a customer's subscriptions.

The rules read the provider-neutral ``Subscription.state`` (``sync.model.STATES``), never a
provider's own status string, so one rulebook serves Stripe and Chargebee alike. They run in
order and the first that matches wins. The returned strings are the API values of the
``Billing_Status__c`` picklist.

A subscription that has not started yet (Chargebee's ``future``) bills nothing and may never
start: the Account shows "No Subscription" while that is all it has (MRR 0.00, its plan still
named in Billing_Plan__c), ranked above Churned, because a customer coming back is not lost.
"""

from __future__ import annotations

from sync.model import STATES, Customer, Subscription

__all__ = [
    "ENDED_STATUSES",
    "KNOWN_STATUSES",
    "UnknownStatus",
    "account_status",
    "is_live",
    "is_scheduled_to_end",
]

# Stripe's own strings, kept for callers that read Stripe statuses (v1 names).
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
KNOWN_STATUSES = frozenset(
    {
        "incomplete",
        "incomplete_expired",
        "trialing",
        "active",
        "past_due",
        "canceled",
        "unpaid",
        "paused",
    }
)

UNPAID = "Unpaid"
PAST_DUE = "Past Due"
ACTIVE = "Active"
CANCELING = "Canceling"
TRIALING = "Trialing"
PAUSED = "Paused"
INCOMPLETE = "Incomplete"
CHURNED = "Churned"
NO_SUBSCRIPTION = "No Subscription"


class UnknownStatus(ValueError):
    """A status the rollup has no rule for (a provider added one): never guess a rollup."""

    def __init__(self, subscription_id: str, status: str):
        super().__init__(f"subscription {subscription_id} has unknown status {status!r}")
        self.subscription_id = subscription_id
        self.status = status


def is_live(subscription: Subscription) -> bool:
    """Not ended: every state but ``ended``."""
    return subscription.state != "ended"


def is_scheduled_to_end(subscription: Subscription) -> bool:
    return subscription.cancel_at_period_end or subscription.cancel_at is not None


def account_status(customer: Customer | None) -> str:
    """Roll a customer's subscriptions up to one Billing_Status__c value.

    ``None`` and a deleted customer are Churned (a deleted customer's subscriptions are
    cancelled with it). Raises :class:`UnknownStatus` for a subscription whose adapter found
    no neutral state for its status.
    """
    if customer is None or customer.deleted:
        return CHURNED
    subscriptions = customer.subscriptions
    for subscription in subscriptions:
        if subscription.state not in STATES:
            raise UnknownStatus(subscription.id, subscription.status)
    states = {s.state for s in subscriptions}
    if not subscriptions:
        return NO_SUBSCRIPTION
    if "unpaid" in states:
        return UNPAID
    if "past_due" in states:
        return PAST_DUE
    active = [s for s in subscriptions if s.state == "active"]
    if any(not is_scheduled_to_end(s) for s in active):
        return ACTIVE
    if active:
        return CANCELING
    if "trialing" in states:
        return TRIALING
    if "paused" in states:
        return PAUSED
    if "incomplete" in states:
        return INCOMPLETE
    if "not_started" in states:
        return NO_SUBSCRIPTION
    # Only ended subscriptions remain.
    return CHURNED
