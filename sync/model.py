"""Provider-neutral billing values.

The engine sees only these; a billing adapter (Stripe today, Chargebee or Recurly later) turns
its vendor objects into them at its edge. Money stays in the currency's *minor* unit as Decimal,
exactly as the provider reports it, so no precision is lost before the MRR rules run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = [
    "STATES",
    "BillingSnapshot",
    "ChangeFeed",
    "ChangeHint",
    "Coupon",
    "Customer",
    "FetchStats",
    "Item",
    "Price",
    "Subscription",
    "Tier",
]

# The provider-neutral lifecycle every rule (status rollup, MRR, renewal) reads. A
# subscription scheduled to end is not a state of its own: it is ``active`` with
# ``cancel_at_period_end`` or ``cancel_at`` set, whatever the provider calls it.
STATES = frozenset(
    {"trialing", "active", "past_due", "unpaid", "paused", "incomplete", "not_started", "ended"}
)
# A Subscription built without a state (the Stripe adapter, v1 callers and their tests) takes
# the state of its status read as a Stripe status; an unknown status leaves it "" (no rule
# will guess one).
_STRIPE_STATES = {
    "trialing": "trialing",
    "active": "active",
    "past_due": "past_due",
    "unpaid": "unpaid",
    "paused": "paused",
    "incomplete": "incomplete",
    "incomplete_expired": "ended",
    "canceled": "ended",
}


@dataclass(frozen=True)
class Tier:
    """One pricing tier; ``up_to`` None means "and above" (Stripe's ``inf``)."""

    up_to: int | None
    unit_amount: Decimal | None = None  # minor units, may be fractional
    flat_amount: Decimal | None = None  # minor units


@dataclass(frozen=True)
class Price:
    id: str
    currency: str  # ISO code, lower case as providers send it
    interval: str  # day | week | month | year
    interval_count: int = 1
    unit_amount: Decimal | None = None  # minor units (Stripe's unit_amount_decimal)
    billing_scheme: str = "per_unit"  # per_unit | tiered
    tiers_mode: str | None = None  # volume | graduated (tiered only)
    tiers: tuple[Tier, ...] = ()
    usage_type: str = "licensed"  # licensed | metered
    transform_divide_by: int | None = None
    transform_round: str | None = None  # up | down
    product_id: str = ""
    product_name: str = ""
    nickname: str | None = None


@dataclass(frozen=True)
class Coupon:
    id: str
    duration: str  # forever | once | repeating
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None  # minor units of ``currency``
    currency: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    price: Price
    quantity: int = 1
    discounts: tuple[Coupon, ...] = ()
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None


@dataclass(frozen=True)
class Subscription:
    id: str
    customer_id: str
    status: str  # the provider's status string, verbatim (what Status__c shows)
    currency: str
    items: tuple[Item, ...] = ()
    discounts: tuple[Coupon, ...] = ()
    cancel_at_period_end: bool = False
    cancel_at: datetime | None = None
    canceled_at: datetime | None = None
    ended_at: datetime | None = None
    trial_end: datetime | None = None
    start_date: datetime | None = None
    created: datetime | None = None
    state: str = ""  # one of STATES; "" means "derive it from a Stripe status"
    # The MRR the provider computes itself (Chargebee's ``mrr``), minor units of
    # ``currency``; None where it reports none. Shown beside ours, never used for ours.
    reported_mrr: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.state:
            object.__setattr__(self, "state", _STRIPE_STATES.get(self.status, ""))


@dataclass(frozen=True)
class Customer:
    id: str
    deleted: bool = False
    name: str | None = None
    subscriptions: tuple[Subscription, ...] = ()


@dataclass(frozen=True)
class FetchStats:
    """How a fetch went: the strategy it chose, the subscriptions it listed (account-wide for
    ``list_all``, which tells the next cycle what a full listing costs), calls per endpoint."""

    strategy: str = ""  # list_all | per_customer | "" (nothing asked)
    subscriptions_listed: int = 0
    calls: Mapping[str, int] = field(default_factory=dict)
    # Customers the customer listing returned while looking for linked customers that have
    # no subscription (0 when they were retrieved one by one).
    customers_listed: int = 0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


@dataclass(frozen=True)
class BillingSnapshot:
    """What a billing source knows about the customers it was asked for.

    ``customers`` holds every customer that exists (deleted ones included, flagged);
    ``missing`` holds the ids the provider has never heard of; ``refused`` the ids whose
    reads the provider refused, with its reason (both are Matching problems of the Account).
    """

    customers: dict[str, Customer] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()
    refused: Mapping[str, str] = field(default_factory=dict)
    stats: FetchStats = field(default_factory=FetchStats)


@dataclass(frozen=True)
class ChangeHint:
    """One change the billing system reported (a Stripe event): when, and whom it touched.

    A hint, never state: the customer it names is re-read before anything is written."""

    id: str
    created: datetime
    customer_id: str | None = None
    catalog_id: str | None = None  # a product, price or coupon
    api_version: str | None = None  # the payload's version, which may not be ours


@dataclass(frozen=True)
class ChangeFeed:
    hints: tuple[ChangeHint, ...] = ()
    calls: int = 0
    api_version: str = ""  # the version we read at; hints in another one are counted
