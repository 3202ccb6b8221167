"""The Account billing status: one value rolled up from a customer's subscriptions.

The rules run in order and the first that matches wins. The returned strings are the API
values of the ``Billing_Status__c`` picklist.
"""

from __future__ import annotations

from sync.model import Customer, Subscription

__all__ = [
    "ENDED_STATUSES",
    "KNOWN_STATUSES",
    "UnknownStatus",
    "account_status",
    "is_live",
    "is_scheduled_to_end",
]

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
    """Not ended: everything except canceled and incomplete_expired."""
    return subscription.status not in ENDED_STATUSES


def is_scheduled_to_end(subscription: Subscription) -> bool:
    return subscription.cancel_at_period_end or subscription.cancel_at is not None


def account_status(customer: Customer | None) -> str:
    """Roll a customer's subscriptions up to one Billing_Status__c value.

    ``None`` and a deleted customer are Churned (Stripe cancels a deleted customer's
    subscriptions). Raises :class:`UnknownStatus` for a status outside Stripe's eight.
    """
    if customer is None or customer.deleted:
        return CHURNED
    subscriptions = customer.subscriptions
    for subscription in subscriptions:
        if subscription.status not in KNOWN_STATUSES:
            raise UnknownStatus(subscription.id, subscription.status)
    statuses = {s.status for s in subscriptions}
    if not subscriptions:
        return NO_SUBSCRIPTION
    if "unpaid" in statuses:
        return UNPAID
    if "past_due" in statuses:
        return PAST_DUE
    active = [s for s in subscriptions if s.status == "active"]
    if any(not is_scheduled_to_end(s) for s in active):
        return ACTIVE
    if active:
        return CANCELING
    if "trialing" in statuses:
        return TRIALING
    if "paused" in statuses:
        return PAUSED
    if "incomplete" in statuses:
        return INCOMPLETE
    # Only canceled / incomplete_expired remain.
    return CHURNED
