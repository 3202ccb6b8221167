"""Account status rollup (DESIGN.md A4): all nine outcomes and the order of the rules."""

from __future__ import annotations

import pytest

from metadata import schema
from sync.core.status import UnknownStatus, account_status
from tests.core.factories import customer, sub, ts


def subs(*specs: str):
    """ "active", "active:cape" (cancel_at_period_end), "active:at" (cancel_at set), ..."""
    out = []
    for n, spec in enumerate(specs):
        status, _, flag = spec.partition(":")
        out.append(
            sub(
                id=f"sub_{n}",
                status=status,
                cancel_at_period_end=flag == "cape",
                cancel_at=ts(2027, 1, 1) if flag == "at" else None,
            )
        )
    return customer(*out)


CASES = [
    # outcome on its own
    (("unpaid",), "Unpaid"),
    (("past_due",), "Past Due"),
    (("active",), "Active"),
    (("active:cape",), "Canceling"),
    (("active:at",), "Canceling"),
    (("trialing",), "Trialing"),
    (("paused",), "Paused"),
    (("incomplete",), "Incomplete"),
    (("canceled",), "Churned"),
    (("incomplete_expired", "canceled"), "Churned"),
    ((), "No Subscription"),
    # precedence: the earlier rule wins
    (("active", "past_due", "unpaid"), "Unpaid"),
    (("active", "past_due"), "Past Due"),
    (("active:cape", "past_due"), "Past Due"),
    (("active:cape", "active", "trialing"), "Active"),  # one active not ending is enough
    (("active:cape", "active:at", "trialing"), "Canceling"),  # all active ones are ending
    (("trialing", "paused", "incomplete"), "Trialing"),
    (("paused", "incomplete", "canceled"), "Paused"),
    (("incomplete", "canceled", "incomplete_expired"), "Incomplete"),
    (("canceled", "active"), "Active"),  # an old canceled one does not make a churn
]


@pytest.mark.parametrize(
    ("specs", "expected"), CASES, ids=[" + ".join(c[0]) or "none" for c in CASES]
)
def test_rollup(specs, expected):
    assert account_status(subs(*specs)) == expected


def test_deleted_customer_is_churned_whatever_its_subscriptions_say():
    assert account_status(customer(sub(status="active"), deleted=True)) == "Churned"
    assert account_status(customer(deleted=True)) == "Churned"
    assert account_status(None) == "Churned"


def test_unknown_status_is_refused_not_guessed():
    with pytest.raises(UnknownStatus) as info:
        account_status(subs("active", "frozen"))
    assert info.value.status == "frozen" and info.value.subscription_id == "sub_1"


def test_every_outcome_is_a_value_of_the_restricted_picklist():
    [field] = [f for f in schema.owned_fields("Account") if f.name == "Billing_Status__c"]
    assert {expected for _specs, expected in CASES} == set(field.picklist_values)
