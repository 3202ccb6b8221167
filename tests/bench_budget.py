"""The benchmark's call budget, line by line, from the seeded data alone.

Every line is a page size applied to a count of what the stand-ins hold (``DataFacts``) or of
what the benchmark itself changed; nothing the engine counted or reported goes in, so a
wasted call shows up as a ratio above 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sync.stripe_io.customers import LISTING_CUTOFF
from tests.bench_world import DataFacts

__all__ = ["BULK_JOB_CALLS", "Budget", "Change", "full_budget", "incremental_budget"]

STRIPE_PAGE = 100  # Stripe lists: at most 100 objects a page
SOQL_PAGE = 2000  # SOQL: 2000 rows a page
COLLECTION = 200  # sObject Collections: 200 records a call
IDS_PER_QUERY = 500  # the engine's IN (...) chunk for the incremental reads
# The engine switches an object's writes to Bulk API 2.0 jobs above this many records
# (sync.writer.BULK_THRESHOLD, a design constant), a job of at least this many each time that
# many wait: create, upload, close, one poll (the stand-in runs the job when it is read),
# three result lists.
BULK_THRESHOLD = 20_000
BULK_JOB_CALLS = 7
# A full reconcile reads Accounts in slices of this many (sync.cycle.SLICE); with more than
# one slice, one COUNT() of the linked Accounts chooses the Stripe strategy for all of them.
SLICE = 5_000


def pages(n: int, size: int, *, at_least: int = 1) -> int:
    """A query or list that returns nothing still costs one call."""
    return max(at_least, math.ceil(n / size))


def writes(records: int) -> int:
    if records > BULK_THRESHOLD:
        return BULK_JOB_CALLS * math.ceil(records / BULK_THRESHOLD)
    return math.ceil(records / COLLECTION)


@dataclass(frozen=True)
class Change:
    """What the benchmark changed through the Stripe API before a scenario."""

    subscriptions: int = 0
    customers: int = 0  # the customers those subscriptions belong to
    errors: int = 0  # customers whose mixed-currency failure appeared or went away
    events: int = 0  # events in the tick's window (0 for a full cycle)


@dataclass(frozen=True)
class Budget:
    """Calls per service, each line with the formula that gave it."""

    salesforce: tuple[tuple[str, int], ...]
    stripe: tuple[tuple[str, int], ...]

    @property
    def sf_total(self) -> int:
        return sum(n for _, n in self.salesforce)

    @property
    def stripe_total(self) -> int:
        return sum(n for _, n in self.stripe)

    @property
    def total(self) -> int:
        return self.sf_total + self.stripe_total

    def lines(self) -> list[str]:
        return [f"{text} = {n}" for text, n in (*self.salesforce, *self.stripe)]


def _customer_lookups(facts: DataFacts) -> tuple[str, int]:
    """Linked customers without a subscription: one retrieve each, or the customer listing
    when that is fewer calls (every customer in the account, 100 a page); up to
    ``LISTING_CUTOFF`` of them (a design constant) are always retrieved."""
    bare = facts.customers_without_subs
    if bare <= LISTING_CUTOFF:
        return (f"retrieves of {bare} customers without subscriptions (at most "
                f"{LISTING_CUTOFF}: one each)", bare)  # fmt: skip
    # The listing ends once it has found them all: the pages down to the deepest of them.
    listing = pages(facts.listing_depth, STRIPE_PAGE)
    return (f"customers without subscriptions min({bare}, ceil({facts.listing_depth}/100) "
            f"of {facts.stripe_customers} listed)", min(bare, listing))  # fmt: skip


def full_budget(facts: DataFacts, *, first: bool, change: Change | None = None) -> Budget:
    """A full reconcile. ``first``: nothing written yet (every record is new); otherwise
    only ``change`` is written (None: an unchanged cycle writes nothing)."""
    sf: list[tuple[str, int]] = [
        (f"SOQL Account pages ceil({facts.accounts}/2000)", pages(facts.accounts, SOQL_PAGE)),
        (f"SOQL Subscription__c pages ceil({facts.sf_subscriptions}/2000), at least 1",
         pages(facts.sf_subscriptions, SOQL_PAGE)),
        ("SOQL Sync_Error__c ticked Retry Requested (none seeded), one page", 1),
        (f"SOQL COUNT() of linked Accounts when {facts.accounts} > a slice of {SLICE}",
         int(facts.accounts >= SLICE)),
    ]  # fmt: skip
    if first:
        sf += [
            (f"Subscription__c writes for {facts.linked_subscriptions}",
             writes(facts.linked_subscriptions)),
            (f"Account writes for {facts.accounts}", writes(facts.accounts)),
            (f"Sync_Error__c writes for {len(facts.mixed_currency)} mixed-currency customers",
             writes(len(facts.mixed_currency))),
        ]  # fmt: skip
    elif change is not None:
        sf += [
            (f"Subscription__c writes for {change.subscriptions} changed",
             writes(change.subscriptions)),
            (f"Account writes for at most {change.customers}", writes(change.customers)),
            (f"Sync_Error__c writes for {change.errors}", writes(change.errors)),
        ]  # fmt: skip
    list_all = pages(facts.stripe_subscriptions, STRIPE_PAGE)
    stripe = [
        (f"Stripe subscription pages min(ceil({facts.stripe_subscriptions}/100), "
         f"{facts.accounts} customers)", min(list_all, facts.accounts)),
        (f"Stripe product pages ceil({facts.products}/100)", pages(facts.products, STRIPE_PAGE,
                                                                   at_least=0)),
        _customer_lookups(facts),
    ]  # fmt: skip
    return Budget(tuple(sf), tuple(stripe))


def incremental_budget(facts: DataFacts, change: Change) -> Budget:
    """One daemon tick: the events since the cursor, the changed-Accounts and Retry Requested
    reads; for K dirty customers their Accounts and Subscription__c (500 ids a query), one
    listing each (or the account-wide listing when fewer), their products, the writes."""
    k = change.customers
    sf: list[tuple[str, int]] = [
        ("SOQL changed Accounts, one page", 1),
        ("SOQL Sync_Error__c ticked Retry Requested (none seeded), one page", 1),
    ]
    stripe: list[tuple[str, int]] = [
        (f"Stripe events pages ceil({change.events}/100), at least 1",
         pages(change.events, STRIPE_PAGE)),
    ]  # fmt: skip
    if k:
        sf += [
            (f"SOQL Accounts and Subscription__c of {k} customers, 2 x ceil({k}/500)",
             2 * pages(k, IDS_PER_QUERY)),
            (f"Subscription__c writes for {change.subscriptions}", writes(change.subscriptions)),
            (f"Account writes for at most {k}", writes(k)),
            (f"Sync_Error__c writes for {change.errors}", writes(change.errors)),
        ]  # fmt: skip
        stripe += [
            (f"Stripe listings min({k}, ceil({facts.stripe_subscriptions}/100))",
             min(k, pages(facts.stripe_subscriptions, STRIPE_PAGE))),
            (f"Stripe product pages ceil({facts.products}/100)",
             pages(facts.products, STRIPE_PAGE, at_least=0)),
        ]  # fmt: skip
    return Budget(tuple(sf), tuple(stripe))
