"""Linked customers without a subscription: found through the customer listing when that is
fewer calls than one retrieve each, with the same values as retrieving them one by one.

Against the Stripe stand-in, which (like Stripe) leaves deleted customers and customers on
test clocks out of the customer listing: those must still be retrieved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

import sync.stripe_io.source as source_module
from standins.stripe import StripeStandIn
from sync.model import BillingSnapshot
from sync.stripe_io import StripeSource
from sync.stripe_io.customers import LISTING_CUTOFF, keep_listing

BARE = 60  # linked customers with no subscription
OTHERS = 240  # customers in the account that are not linked


def _no_sleep(_seconds: float) -> None:
    pass


@pytest.fixture(scope="module")
def account() -> Iterator[tuple[stripe.StripeClient, list[str]]]:
    standin = StripeStandIn()
    subscribed = standin.seed_bulk(customers=40, subscriptions=50, seed=3)
    # Linked ones spread through the account's customers, as links are in a real org.
    bare = standin.seed_bulk(customers=BARE + OTHERS, subscriptions=0, seed=4)[::5]
    url = standin.start()
    c = stripe.StripeClient(standin.api_key, base_addresses={"api": url})
    gone = c.v1.customers.create(params={"name": "Gone"}).id
    c.v1.customers.delete(gone)
    clock = c.v1.test_helpers.test_clocks.create(params={"frozen_time": standin.now()}).id
    on_clock = c.v1.customers.create(params={
        "name": "On a clock", "test_clock": clock, "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"},
    }).id  # fmt: skip
    price = c.v1.prices.create(params={"currency": "usd", "unit_amount": 500,
                                       "recurring": {"interval": "month"},
                                       "product_data": {"name": "Clocked"}}).id  # fmt: skip
    c.v1.subscriptions.create(params={"customer": on_clock, "items": [{"price": price}]})
    bare_on_clock = c.v1.customers.create(params={"name": "Idle clock", "test_clock": clock}).id
    ids = [*subscribed, *bare, gone, on_clock, bare_on_clock, "cus_NoSuchCustomer"]
    try:
        yield c, ids
    finally:
        standin.stop()


def one_by_one(c: stripe.StripeClient, ids: list[str], monkeypatch) -> BillingSnapshot:
    with monkeypatch.context() as m:
        m.setattr(source_module, "LISTING_CUTOFF", len(ids))
        return StripeSource(c, sleep=_no_sleep).fetch(ids)


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "sdk"])
def test_listing_finds_them_in_fewer_calls_with_the_same_values(account, monkeypatch,
                                                                raw) -> None:
    c, ids = account
    listed = StripeSource(c, raw=raw, sleep=_no_sleep).fetch(ids)
    retrieved = one_by_one(c, ids, monkeypatch)
    assert listed.customers == retrieved.customers
    assert listed.missing == retrieved.missing == {"cus_NoSuchCustomer"}
    assert listed.customers[ids[-4]].deleted  # the deleted one, retrieved
    assert listed.customers[ids[-3]].subscriptions  # its subscription is on a test clock
    calls, before = listed.stats.calls, retrieved.stats.calls
    # The listing holds the 340 customers not deleted and not on a test clock: 4 pages
    # instead of 60 retrieves. The deleted one, the two on the test clock (the listing leaves
    # them out) and the unknown id are retrieved all the same.
    assert calls["GET /v1/customers"] == 4
    assert calls["GET /v1/customers/:id"] == 4
    assert before["GET /v1/customers/:id"] == BARE + 4 and "GET /v1/customers" not in before
    assert listed.stats.customers_listed == BARE + OTHERS + 40
    assert retrieved.stats.customers_listed == 0


def test_a_few_are_retrieved_one_by_one(account) -> None:
    c, ids = account
    few = ids[40 : 40 + LISTING_CUTOFF]
    snap = StripeSource(c, sleep=_no_sleep).fetch(few)
    assert snap.stats.calls["GET /v1/customers/:id"] == LISTING_CUTOFF
    assert "GET /v1/customers" not in snap.stats.calls


def test_keep_listing_while_a_page_finds_at_least_one() -> None:
    assert keep_listing(1, 0, 200)  # one page of slack
    assert keep_listing(10, 20, 200)  # two a page: the listing pays
    assert not keep_listing(3, 1, 200)  # one in three pages: retrieving the rest is cheaper
    assert not keep_listing(5, 200, 200)  # all found


def test_a_sliced_cycle_keeps_the_strategy_its_first_slice_chose(account) -> None:
    """The first slice lists the account and the pass records its total; a later slice told
    of a total that would favour asking customer by customer still reads the kept listing:
    the listing is already paid for, and asking each would only add calls."""
    c, ids = account
    subscribed = ids[:40]
    source = StripeSource(c, sleep=_no_sleep)
    source.begin_cycle()
    first = source.fetch(subscribed[:20], expected_subscriptions=100, population=40)
    assert first.stats.strategy == "list_all"
    second = source.fetch(subscribed[20:], expected_subscriptions=100 * 100, population=40)
    assert second.stats.strategy == "list_all"
    assert "GET /v1/subscriptions" not in second.stats.calls  # served from the kept listing
    assert all(second.customers[cid].subscriptions for cid in subscribed[20:])
    source.begin_cycle()  # a new cycle chooses afresh
    third = source.fetch(subscribed[20:], expected_subscriptions=100 * 100, population=40)
    assert third.stats.strategy == "per_customer"
