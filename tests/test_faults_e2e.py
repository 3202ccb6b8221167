"""Transient faults are absorbed inside the cycle; lasting ones become one recorded failure."""

from __future__ import annotations

import pytest

from sync.stripe_io import StripeSource


@pytest.fixture
def linked(world):
    """Two Accounts, each linked to a customer with one monthly subscription."""
    c = world.stripe
    product = c.v1.products.create(params={"name": "Team"}).id
    price = c.v1.prices.create(params={"product": product, "currency": "usd",
                                       "unit_amount": 5000,
                                       "recurring": {"interval": "month"}}).id
    ids = []
    for name in ("Lock Co", "Other Co"):
        cid = c.v1.customers.create(params={"name": name, "payment_method": "pm_card_visa",
                                            "invoice_settings": {
                                                "default_payment_method": "pm_card_visa"}}).id
        c.v1.subscriptions.create(params={"customer": cid, "items": [{"price": price}]})
        ids.append(world.link(name, cid))
    return world, ids


def upserts(world) -> int:
    return world.sf_standin.counters.get("PATCH composite/sobjects/{type}", 0)


def test_row_locks_are_retried_within_the_cycle(linked):
    world, _ids = linked
    world.sf_standin.fail_next(2, "UNABLE_TO_LOCK_ROW")  # both subscription rows, first send
    report = world.cycle()
    assert report.exit_code == 0 and report.written == 4
    assert world.sync_errors() == [] and len(world.subscriptions()) == 2
    assert upserts(world) == 2  # the first send and one re-send of the locked rows


def test_a_lock_that_outlasts_the_retries_becomes_one_sync_error(linked):
    world, ids = linked
    # sends: both rows fail (2), both again (4), then only the first (5): it fails all three
    world.sf_standin.fail_next(5, "UNABLE_TO_LOCK_ROW")
    report = world.cycle()
    assert report.exit_code == 1 and report.errors == {"Salesforce Write": 1}
    assert len(world.subscriptions()) == 1  # the other record stands
    [err] = world.sync_errors()
    assert (err["Error_Code__c"], err["Status__c"], err["Attempts__c"]) == (
        "UNABLE_TO_LOCK_ROW", "Open", 1)
    assert all(world.account(i)["Billing_Status__c"] == "Active" for i in ids)


def test_salesforce_503_is_retried_with_backoff(linked):
    world, _ids = linked
    world.sf_standin.fail_next(2, "SERVER_UNAVAILABLE")
    report = world.cycle()
    assert report.exit_code == 0 and report.written == 4


def test_stripe_429_is_retried_with_backoff(linked):
    world, _ids = linked
    world.stripe_standin.reset_counters()
    world.stripe_standin.fail_next(2, status=429)
    report = world.cycle()
    assert report.exit_code == 0 and report.written == 4
    # two refused listings were repeated: the engine's own count includes them
    assert report.api_calls["stripe"] == world.stripe_standin.total_requests()


def test_stripe_500s_are_retried_by_one_layer_only(linked):
    world, _ids = linked
    world.stripe_standin.reset_counters()
    world.stripe_standin.fail_next(2, status=500)
    report = world.cycle()
    assert report.exit_code == 0 and report.written == 4
    # stripe-python retries nothing itself: every request it sent is one the engine counted
    assert report.api_calls["stripe"] == world.stripe_standin.total_requests()


def test_stripe_source_tells_unknown_from_deleted_and_caches_the_catalog(world):
    c = world.stripe
    product = c.v1.products.create(params={"name": "Usage"}).id
    tiered = c.v1.prices.create(params={
        "product": product, "currency": "usd", "recurring": {"interval": "month"},
        "billing_scheme": "tiered", "tiers_mode": "volume",
        "tiers": [{"up_to": 10, "unit_amount": 100}, {"up_to": "inf", "unit_amount": 80}]}).id
    subscribed = []
    for n in range(3):
        cid = c.v1.customers.create(params={"name": f"T{n}", "payment_method": "pm_card_visa",
                                            "invoice_settings": {
                                                "default_payment_method": "pm_card_visa"}}).id
        c.v1.subscriptions.create(params={"customer": cid,
                                          "items": [{"price": tiered, "quantity": 20}]})
        subscribed.append(cid)
    never = c.v1.customers.create(params={"name": "Never"}).id
    gone = c.v1.customers.create(params={"name": "Gone"}).id
    c.v1.customers.delete(gone)
    source = StripeSource(c, sleep=lambda _s: None)
    snap = source.fetch([*subscribed, never, gone, "cus_Unknown123"])
    assert snap.missing == {"cus_Unknown123"}
    assert snap.customers[gone].deleted and not snap.customers[never].deleted
    assert snap.customers[never].subscriptions == ()
    tiers = snap.customers[subscribed[0]].subscriptions[0].items[0].price.tiers
    assert [t.up_to for t in tiers] == [10, None]
    # one tiered-price retrieve and one product lookup for three subscriptions that share them
    calls = snap.stats.calls
    assert calls["GET /v1/prices/:id"] == 1
    assert calls.get("GET /v1/products/:id", 0) + calls["GET /v1/products"] == 1
    assert snap.stats.strategy == "per_customer"
    assert calls["GET /v1/subscriptions"] == 6


def test_the_concurrent_request_limit_is_retried_not_a_daily_limit_stop(linked):
    world, _ids = linked
    world.sf_standin.fail_next(2, "CONCURRENT_LONG_TXN")
    report = world.cycle()
    assert report.stop is None and report.exit_code == 0 and report.written == 4
    assert world.sync_errors() == []


def test_a_very_large_write_set_goes_out_as_one_bulk_job_per_object(linked):
    world, ids = linked
    world.sf_standin.add_validation_rule(
        "Account", lambda r: r.get("Name") == "Other Co" and r.get("MRR__c") is not None,
        "Other Co's MRR is managed by Finance", field="MRR__c")
    world.sf_standin.reset_counters()
    with world.engine() as engine:
        engine.cycle.bulk_threshold = 1  # two records of each object count as "very large"
        report = engine.run()
    assert report.written == 3 and report.errors == {"Validation": 1}
    counters = world.sf_standin.counters
    # only the Sync_Error__c mirror goes out as a collection call
    assert counters.get("PATCH composite/sobjects/{type}") == 1, counters
    assert "PATCH composite/sobjects" not in counters, counters
    assert sum(n for k, n in counters.items() if "jobs/ingest" in k) >= 10  # two jobs
    assert len(world.subscriptions()) == 2
    assert world.account(ids[0])["Billing_Status__c"] == "Active"
    [err] = world.sync_errors()  # the refused Account, from the job's failed results
    assert (err["Category__c"], err["Error_Code__c"]) == (
        "Validation", "FIELD_CUSTOM_VALIDATION_EXCEPTION")
    assert "Finance" in err["Message__c"]
    assert report.api_calls["salesforce"] == world.sf_standin.api_calls()
