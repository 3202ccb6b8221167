"""A full reconcile read in slices of Accounts, against both stand-ins: the same Salesforce as
one pass would leave, the Stripe listing made once per cycle, Bulk jobs across slices,
failures resolved only after the writes that could have refused them."""

from __future__ import annotations

import pytest

from sync.cycle import TOTAL_CURSOR
from sync.stripe_io.customers import LISTING_CUTOFF


def _price(world, amount=5000):
    c = world.stripe
    product = c.v1.products.create(params={"name": "Team"}).id
    return c.v1.prices.create(params={"product": product, "currency": "usd",
                                      "unit_amount": amount,
                                      "recurring": {"interval": "month"}}).id


def _customer(world, name, price=None):
    c = world.stripe
    cid = c.v1.customers.create(params={"name": name, "payment_method": "pm_card_visa",
                                        "invoice_settings": {
                                            "default_payment_method": "pm_card_visa"}}).id
    if price:
        c.v1.subscriptions.create(params={"customer": cid, "items": [{"price": price}]})
    return cid


def _run(world, *, slice_size, listed_total=None, **cycle_attrs):
    """One full reconcile in slices of ``slice_size``; ``listed_total``: the account-wide
    subscription count a previous listing saw (which makes listing everything the cheaper
    strategy for more than a page's worth of customers)."""
    with world.engine() as engine:
        if listed_total is not None:
            engine.cycle.store.set_cursor(TOTAL_CURSOR, str(listed_total))
        engine.cycle.slice_size = slice_size
        for name, value in cycle_attrs.items():
            setattr(engine.cycle, name, value)
        return engine.run()


def _stripe_calls(world, key):
    return world.stripe_standin.counters.get(key, 0)


def _salesforce_state(world):
    accounts = sorted(
        (a["Name"], a["Billing_Status__c"], a["MRR__c"], a["Billing_Plan__c"], a["Renewal_Date__c"])
        for a in world.sf_standin.org.all("Account"))
    subs = sorted((s["Stripe_Subscription_Id__c"], s["Account__c"], s["MRR__c"], s["Status__c"])
                  for s in world.subscriptions())
    return accounts, subs


@pytest.fixture
def seven(world):
    """Seven linked Accounts (one without a subscription), so slices of three make three."""
    price = _price(world)
    ids = {}
    for n in range(7):
        cid = _customer(world, f"Co {n}", price if n != 3 else None)
        ids[cid] = world.link(f"Co {n}", cid)
    return world, ids


def test_slices_leave_salesforce_as_one_pass_does_and_list_stripe_once(seven):
    world, _ids = seven
    world.stripe_standin.reset_counters()
    world.sf_standin.reset_counters()
    sliced = _run(world, slice_size=3, listed_total=6)
    assert sliced.exit_code == 0, sliced.summary()
    assert (sliced.accounts_read, sliced.accounts_matched) == (7, 7)
    assert sliced.written == 7 + 6
    # one listing of the account (6 subs: one page) for the three slices
    assert sliced.strategy == "list_all"
    assert _stripe_calls(world, "GET /v1/subscriptions") == 1
    # and one COUNT() of the linked Accounts, which chose the strategy for all three
    assert sliced.api_calls["salesforce"] == world.sf_standin.api_calls()
    state = _salesforce_state(world)
    assert len(state[1]) == 6 and all(s[3] == "active" for s in state[1])
    assert [a[1] for a in state[0]].count("Active") == 6
    # the same records, field for field, as one pass over everything makes of them
    again = _run(world, slice_size=100)
    assert (again.written, again.subscriptions_changed, again.accounts_changed) == (0, 0, 0)
    assert _salesforce_state(world) == state
    world.stripe_standin.reset_counters()
    resliced = _run(world, slice_size=2)  # a page's worth of customers: one listing each
    assert (resliced.written, resliced.exit_code, resliced.strategy) == (0, 0, "list_all")
    assert _stripe_calls(world, "GET /v1/subscriptions") == 1


def test_a_customer_moved_to_an_account_in_a_later_slice_keeps_one_record(seven):
    world, ids = seven
    assert _run(world, slice_size=3).exit_code == 0
    first_cid, first_account = next(iter(ids.items()))
    [before] = world.subscriptions(first_cid)
    assert before["Account__c"] == first_account
    # the first Account lets go of the customer; an Account created later (a higher Id, the
    # last slice) takes it
    world.sf_standin.org.update("Account", first_account, {"Stripe_Customer_Id__c": None})
    new_home = world.link("New Home", first_cid)
    report = _run(world, slice_size=3)
    assert report.exit_code == 0, report.summary()
    [after] = world.subscriptions(first_cid)
    assert after["Id"] == before["Id"] and after["Account__c"] == new_home
    assert world.account(new_home)["Billing_Status__c"] == "Active"
    assert len(world.subscriptions()) == 6


def test_changes_of_several_slices_past_the_threshold_go_out_as_one_bulk_job(seven):
    world, _ids = seven
    world.sf_standin.reset_counters()
    report = _run(world, slice_size=2, bulk_threshold=4)
    assert report.exit_code == 0 and report.written == 13
    counters = world.sf_standin.counters
    jobs = counters.get("POST jobs/ingest", 0)
    # slices of 2 Accounts hold 2, 1, 2, 1 subscriptions: a job of 5 once more than 4 wait,
    # the last one by collections at the end; Accounts 2, 2, 2 (a job of 6), then 1
    assert jobs == 2, counters
    assert counters.get("PATCH composite/sobjects/{type}", 0) >= 1  # the last subscription
    assert len(world.subscriptions()) == 6
    assert _run(world, slice_size=2, bulk_threshold=4).written == 0


def test_linked_customers_without_subscriptions_are_listed_once_across_slices(world):
    price = _price(world)
    bare = [_customer(world, f"Bare {n}") for n in range(2 * LISTING_CUTOFF + 4)]
    paying = _customer(world, "Paying", price)
    for cid in [*bare, paying]:
        world.link(cid, cid)
    world.stripe_standin.reset_counters()
    report = _run(world, slice_size=LISTING_CUTOFF + 2)
    assert report.exit_code == 0, report.summary()
    assert report.accounts_matched == len(bare) + 1
    # 45 customers: one page of the customer listing serves both slices; none retrieved
    assert _stripe_calls(world, "GET /v1/customers") == 1
    assert _stripe_calls(world, "GET /v1/customers/{id}") == 0
    statuses = sorted(a["Billing_Status__c"] for a in world.sf_standin.org.all("Account"))
    assert statuses == ["Active"] + ["No Subscription"] * len(bare)


def test_a_failure_in_an_early_slice_is_not_resolved_before_its_write(seven):
    world, ids = seven
    first_account = next(iter(ids.values()))
    world.sf_standin.add_validation_rule(
        "Account", lambda r: r.get("Name") == "Co 0" and r.get("MRR__c") is not None,
        "Co 0's MRR is managed by Finance", field="MRR__c")
    report = _run(world, slice_size=3)
    assert report.errors == {"Validation": 1}
    [err] = world.sync_errors()
    assert (err["Account__c"], err["Status__c"]) == (first_account, "Open")
    # seen again, refused again: still open (not resolved by the slice that examined it)
    report = _run(world, slice_size=3)
    [err] = world.sync_errors()
    assert err["Status__c"] in ("Open", "Retrying") and report.resolved == 0


def test_a_billing_stop_in_a_later_slice_records_what_earlier_slices_saw(seven):
    world, ids = seven
    # the first Account (the lowest Id: the first slice) names a customer Stripe never had
    stray = next(iter(ids.values()))
    world.sf_standin.org.update("Account", stray, {"Stripe_Customer_Id__c": "cus_gone"})
    readings = []

    def progress(message, *_args):
        if message.startswith("reading Stripe"):
            readings.append(message)
            if len(readings) == 2:  # the second slice's billing read: Stripe goes down
                world.stripe_standin.fail_next(100, status=500)

    with world.engine(progress=progress) as engine:
        engine.cycle.slice_size = 3
        report = engine.run()
    assert report.stop is not None and report.stop.category == "Stripe", report.summary()
    # the first slice's unknown customer is recorded by this cycle, not one cycle late
    assert report.errors == {"Stripe": 1, "Matching": 1}, report.errors
    kinds = {(e["Category__c"], e["Account__c"]) for e in world.sync_errors()}
    assert kinds == {("Matching", stray), ("Stripe", None)}, kinds
    world.stripe_standin.fail_next(0)
    # nothing of the first slice was resolved by a pass that did not examine everything
    again = _run(world, slice_size=3)
    assert again.stop is None and again.errors == {"Matching": 1}, again.summary()
    # the unknown customer failed again: still open; the stop is settled
    states = {e["Category__c"]: e["Status__c"] for e in world.sync_errors()}
    assert states["Matching"] in ("Open", "Retrying") and states["Stripe"] == "Resolved"
    assert len(world.subscriptions()) == 5
