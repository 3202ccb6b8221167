"""The incremental cycle against both stand-ins: events as hints, Account link changes,
retries, a cursor too old to trust — and an idle tick that costs at most four calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def shop(world):
    c = world.stripe
    product = c.v1.products.create(params={"name": "Team"}).id
    price = c.v1.prices.create(params={"product": product, "currency": "usd",
                                       "unit_amount": 5000,
                                       "recurring": {"interval": "month"}}).id
    ids = {}
    for name in ("Acme", "Globex"):
        cid = c.v1.customers.create(params={"name": name, "payment_method": "pm_card_visa",
                                            "invoice_settings": {
                                                "default_payment_method": "pm_card_visa"}}).id
        sub = c.v1.subscriptions.create(params={"customer": cid, "items": [{"price": price}]})
        ids[name] = (cid, world.link(name, cid), sub.id)
    # the daemon's full reconcile: sets the cursors, marks the recent events processed
    assert world.cycle(track_events=True).exit_code == 0
    return world, ids, product


def calls(world) -> tuple[int, int]:
    return world.sf_standin.api_calls(), world.stripe_standin.total_requests()


def reset(world) -> None:
    world.sf_standin.reset_counters()
    world.stripe_standin.reset_counters()


def test_an_idle_tick_makes_at_most_four_calls_and_writes_nothing(shop):
    world, _ids, _product = shop
    reset(world)
    report = world.incremental()
    sf, stripe_calls = calls(world)
    assert report.needs_full is None and report.exit_code == 0
    assert sf + stripe_calls <= 4 and world.writes() == 0
    assert report.written == 0


def test_a_change_in_stripe_lands_with_one_reread(shop):
    world, ids, _product = shop
    cid, acct, sub_id = ids["Acme"]
    sub = world.stripe.v1.subscriptions.retrieve(sub_id)
    world.stripe.v1.subscriptions.update(sub_id, params={
        "items": [{"id": sub["items"].data[0].id, "quantity": 3}]})
    reset(world)
    report = world.incremental()
    assert report.exit_code == 0 and report.dirty == 1
    assert world.account(acct)["MRR__c"] == 150.0
    [record] = world.subscriptions(cid)
    assert record["Quantity__c"] == 3
    assert world.account(ids["Globex"][1])["MRR__c"] == 50.0
    # the same events again are skipped: nothing dirty, nothing written
    reset(world)
    again = world.incremental()
    assert (again.events, again.dirty, world.writes()) == (0, 0, 0)


def test_a_cancellation_and_a_new_link_and_a_cleared_link(shop):
    world, ids, _product = shop
    _cid, acct, sub_id = ids["Globex"]
    world.stripe.v1.subscriptions.cancel(sub_id)
    fresh = world.stripe.v1.customers.create(params={"name": "Initech"}).id
    new_acct = world.link("Initech", fresh)
    world.sf_standin.org.update("Account", ids["Acme"][1], {"Stripe_Customer_Id__c": None})
    report = world.incremental()
    assert report.exit_code == 0, report.summary()
    assert world.account(acct)["Billing_Status__c"] == "Churned"
    assert world.account(new_acct)["Billing_Status__c"] == "No Subscription"
    cleared = world.account(ids["Acme"][1])
    assert (cleared["Billing_Status__c"], cleared["MRR__c"], cleared["Billing_Plan__c"]) == (
        None, None, None)


def test_a_product_rename_reaches_every_customer_using_it(shop):
    world, ids, product = shop
    world.stripe.v1.products.update(product, params={"name": "Team Plus"})
    report = world.incremental()
    assert report.dirty == 2
    for cid, acct, _sub in ids.values():
        assert world.account(acct)["Billing_Plan__c"] == "Team Plus"
        assert world.subscriptions(cid)[0]["Plan__c"] == "Team Plus"


def test_a_cursor_older_than_27_days_asks_for_a_full_reconcile(shop):
    world, _ids, _product = shop
    later = datetime.now(UTC) + timedelta(days=28)
    reset(world)
    report = world.incremental(clock=lambda: later)
    assert report.needs_full is not None and "28 days old" in report.needs_full
    assert world.writes() == 0


def test_without_any_full_reconcile_the_first_tick_asks_for_one(world):
    report = world.incremental()
    assert report.needs_full and "full reconcile" in report.needs_full


def _more_seats(world, sub_id: str, quantity: int) -> None:
    sub = world.stripe.v1.subscriptions.retrieve(sub_id)
    world.stripe.v1.subscriptions.update(sub_id, params={
        "items": [{"id": sub["items"].data[0].id, "quantity": quantity}]})


def test_a_late_event_is_still_seen_inside_the_overlap(shop):
    world, ids, _product = shop
    _cid, acct, sub_id = ids["Acme"]
    world.stripe_standin.delay_next_events(5)  # indexed late, as Stripe's list can be
    _more_seats(world, sub_id, 4)
    first = world.incremental()
    assert first.events == 0 and world.account(acct)["MRR__c"] == 50.0
    assert world.stripe_standin.release_late_events() >= 1
    second = world.incremental()
    assert second.events >= 1 and world.account(acct)["MRR__c"] == 200.0


def test_events_in_an_older_api_version_are_counted_never_read_for_values(shop):
    world, ids, _product = shop
    _cid, acct, sub_id = ids["Globex"]
    world.stripe_standin.set_default_api_version("2024-06-20")
    _more_seats(world, sub_id, 2)
    report = world.incremental()
    assert report.events_other_version >= 1 and report.summary()["events_other_api_version"]
    # the values come from the re-read at our version, not from the old-shaped payload
    assert world.account(acct)["MRR__c"] == 100.0
    assert world.subscriptions(ids["Globex"][0])[0]["Current_Period_End__c"] is not None


def test_same_second_events_for_two_customers_are_both_seen(shop):
    world, ids, _product = shop
    for _cid, _acct, sub_id in ids.values():
        _more_seats(world, sub_id, 3)  # the stand-in's clock does not move between them
    report = world.incremental()
    assert report.dirty == 2
    assert {world.account(a)["MRR__c"] for _c, a, _s in ids.values()} == {150.0}
