"""A full cycle against both stand-ins: the cases every integration must get right, asserted
on the exact Account fields and Subscription__c records Salesforce ends up holding."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

DAY = 86_400
T0 = 1_790_000_000  # 2026-09-21 UTC: a fixed clock start makes renewal dates exact


def on(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


@pytest.fixture
def shop(world):
    """A catalog and a test clock in the Stripe stand-in."""
    c = world.stripe
    starter = c.v1.products.create(params={"name": "Starter"}).id
    growth = c.v1.products.create(params={"name": "Growth"}).id
    prices = {
        "starter": c.v1.prices.create(params={"product": starter, "currency": "usd",
                                              "unit_amount": 2900,
                                              "recurring": {"interval": "month"}}).id,
        "growth": c.v1.prices.create(params={"product": growth, "currency": "usd",
                                             "unit_amount": 9900,
                                             "recurring": {"interval": "month"}}).id,
        "growth_year": c.v1.prices.create(params={"product": growth, "currency": "usd",
                                                  "unit_amount": 99000,
                                                  "recurring": {"interval": "year"}}).id,
        "yen": c.v1.prices.create(params={"product": growth, "currency": "jpy",
                                          "unit_amount": 10000,
                                          "recurring": {"interval": "month"}}).id,
    }
    clock = c.v1.test_helpers.test_clocks.create(params={"frozen_time": T0}).id
    return world, prices, clock


def customer(world, clock, name, card="pm_card_visa"):
    params = {"name": name, "test_clock": clock}
    if card:
        params |= {"payment_method": card, "invoice_settings": {"default_payment_method": card}}
    return world.stripe.v1.customers.create(params=params).id


def subscribe(world, cid, price, **params):
    return world.stripe.v1.subscriptions.create(
        params={"customer": cid, "items": [{"price": price}], **params})


def advance(world, clock, days):
    now = world.stripe.v1.test_helpers.test_clocks.retrieve(clock).frozen_time
    world.stripe.v1.test_helpers.test_clocks.advance(
        clock, params={"frozen_time": now + days * DAY})


def billing(account):
    return (account["Billing_Status__c"], account["Billing_Plan__c"], account["MRR__c"],
            account["Billing_Currency__c"], account["Renewal_Date__c"])


def test_new_upgrade_past_due_cancel_resubscribe(shop):
    world, prices, clock = shop
    cid = customer(world, clock, "Acme")
    acct = world.link("Acme", cid)

    # New customer
    sub = subscribe(world, cid, prices["starter"])
    report = world.cycle()
    assert report.exit_code == 0 and report.written == 2
    assert billing(world.account(acct)) == ("Active", "Starter", 29.0, "USD", on(T0 + 30 * DAY))
    [rec] = world.subscriptions(cid)
    assert (rec["Stripe_Subscription_Id__c"], rec["Account__c"], rec["Status__c"],
            rec["Plan__c"], rec["MRR__c"], rec["Currency__c"], rec["Quantity__c"],
            rec["Interval__c"], rec["Cancel_At_Period_End__c"]) == (
        sub.id, acct, "active", "Starter", 29.0, "USD", 1, "month", False)
    assert world.account(acct)["Last_Billing_Sync__c"] is not None

    # Upgrade plan
    item = sub["items"]["data"][0]["id"]
    world.stripe.v1.subscriptions.update(sub.id, params={"items": [{"id": item,
                                                                    "price": prices["growth"]}]})
    world.cycle()
    assert billing(world.account(acct))[:3] == ("Active", "Growth", 99.0)
    assert [r["Plan__c"] for r in world.subscriptions(cid)] == ["Growth"]

    # Failed payment → past due
    pm = world.stripe.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                                params={"customer": cid})
    world.stripe.v1.customers.update(cid, params={
        "invoice_settings": {"default_payment_method": pm.id}})
    advance(world, clock, 31)
    world.cycle()
    # Still renewing: the period rolled over even though the payment failed.
    assert billing(world.account(acct)) == ("Past Due", "Growth", 99.0, "USD",
                                            on(T0 + 61 * DAY))
    assert world.subscriptions(cid)[0]["Status__c"] == "past_due"

    # Cancel → churned
    world.stripe.v1.subscriptions.cancel(sub.id)
    world.cycle()
    assert billing(world.account(acct)) == ("Churned", None, 0.0, None, None)
    [rec] = world.subscriptions(cid)
    assert rec["Status__c"] == "canceled" and rec["Ended_At__c"] is not None

    # Re-subscribe: a second Subscription__c, the Account active again
    new = subscribe(world, with_working_card(world, cid), prices["starter"])
    world.cycle()
    assert billing(world.account(acct))[:4] == ("Active", "Starter", 29.0, "USD")
    statuses = {r["Stripe_Subscription_Id__c"]: r["Status__c"] for r in world.subscriptions(cid)}
    assert statuses == {sub.id: "canceled", new.id: "active"}
    assert world.sync_errors() == []


def with_working_card(world, cid):
    """Give the customer a working card again and return its id."""
    pm = world.stripe.v1.payment_methods.attach("pm_card_visa", params={"customer": cid})
    world.stripe.v1.customers.update(cid, params={
        "invoice_settings": {"default_payment_method": pm.id}})
    return cid


def test_trial_annual_several_items_coupon_yen_deleted(shop):
    world, prices, clock = shop
    c = world.stripe
    trial = customer(world, clock, "Trial Co")
    subscribe(world, trial, prices["growth"], trial_period_days=14)
    annual = customer(world, clock, "Annual Co")
    subscribe(world, annual, prices["growth_year"])
    multi = customer(world, clock, "Multi Co")
    c.v1.subscriptions.create(params={"customer": multi, "items": [
        {"price": prices["growth"], "quantity": 2}, {"price": prices["starter"], "quantity": 3}]})
    coupon = c.v1.coupons.create(params={"percent_off": 25, "duration": "forever"}).id
    discounted = customer(world, clock, "Coupon Co")
    subscribe(world, discounted, prices["growth"], discounts=[{"coupon": coupon}])
    yen = customer(world, clock, "Yen KK")
    subscribe(world, yen, prices["yen"])
    gone = customer(world, clock, "Gone Inc")
    subscribe(world, gone, prices["starter"])
    c.v1.customers.delete(gone)
    ids = {n: world.link(n, cid) for n, cid in [("Trial Co", trial), ("Annual Co", annual),
                                                ("Multi Co", multi), ("Coupon Co", discounted),
                                                ("Yen KK", yen), ("Gone Inc", gone)]}
    assert world.cycle().exit_code == 0
    got = {n: billing(world.account(i)) for n, i in ids.items()}
    assert got == {
        "Trial Co": ("Trialing", "Growth", 0.0, "USD", on(T0 + 14 * DAY)),
        "Annual Co": ("Active", "Growth", 82.5, "USD", on(T0 + 365 * DAY)),
        "Multi Co": ("Active", "Growth, Starter", 285.0, "USD", on(T0 + 30 * DAY)),
        "Coupon Co": ("Active", "Growth", 74.25, "USD", on(T0 + 30 * DAY)),
        "Yen KK": ("Active", "Growth", 10000.0, "JPY", on(T0 + 30 * DAY)),
        "Gone Inc": ("Churned", None, 0.0, None, None),
    }
    [yen_sub] = world.subscriptions(yen)
    assert (yen_sub["MRR__c"], yen_sub["Currency__c"]) == (10000.0, "JPY")
    # Trial ends into active
    advance(world, clock, 15)
    world.cycle()
    assert billing(world.account(ids["Trial Co"]))[:3] == ("Active", "Growth", 99.0)


def test_second_cycle_writes_nothing_and_bad_links_are_matching_errors(shop):
    world, prices, clock = shop
    good = customer(world, clock, "Good")
    subscribe(world, good, prices["starter"])
    world.link("Good", good)
    bad = world.link("Typo", "cus_ABC 123")
    unknown = world.link("Unknown", "cus_NoSuchCustomer")
    first = world.cycle()
    assert first.exit_code == 1 and first.errors == {"Matching": 2}
    errors = {e["Account__c"]: e for e in world.sync_errors()}
    assert errors[bad]["Error_Code__c"] == "MALFORMED_ID"
    assert errors[unknown]["Error_Code__c"] == "UNKNOWN_CUSTOMER"
    assert all(e["Status__c"] == "Open" and e["Category__c"] == "Matching"
               for e in errors.values())
    assert world.account(bad)["Billing_Status__c"] is None  # never guessed

    world.sf_standin.reset_counters()
    second = world.cycle()
    assert second.exit_code == 0  # standing, already recorded problems keep no monitor red
    assert (second.written, second.accounts_changed, second.subscriptions_changed) == (0, 0, 0)
    assert world.writes() == 0, world.sf_standin.counters
    assert len(world.sync_errors()) == 2 and len(world.subscriptions()) == 1

    # A day later, past any backoff: the same data problems are not news; nothing is rewritten.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    third = world.cycle(clock=lambda: later)
    assert third.errors == {"Matching": 2} and world.writes() == 0, world.sf_standin.counters
    assert {e["Attempts__c"] for e in world.sync_errors()} == {1}


def test_validation_rule_rejects_one_account_the_rest_are_written(shop):
    world, prices, clock = shop
    names = ["Alpha", "Bravo", "Charlie"]
    ids = {}
    for n in names:
        cid = customer(world, clock, n)
        subscribe(world, cid, prices["growth"])
        ids[n] = world.link(n, cid)
    world.sf_standin.add_validation_rule(
        "Account", lambda r: r.get("Name") == "Bravo" and r.get("MRR__c") is not None,
        "Bravo's MRR is managed by Finance", field="MRR__c")
    first = world.cycle()
    assert first.exit_code == 1 and first.errors == {"Validation": 1}
    assert world.account(ids["Alpha"])["Billing_Status__c"] == "Active"
    assert world.account(ids["Charlie"])["Billing_Status__c"] == "Active"
    assert world.account(ids["Bravo"])["Billing_Status__c"] is None
    assert len(world.subscriptions()) == 3  # Bravo's Subscription__c still written
    [err] = world.sync_errors()
    assert (err["Account__c"], err["Category__c"], err["Error_Code__c"], err["Status__c"],
            err["Attempts__c"]) == (ids["Bravo"], "Validation",
                                    "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Open", 1)
    assert "Finance" in err["Message__c"] and json.loads(err["Payload__c"])["MRR__c"] == 99.0

    # Again, right away: the record is backing off; no second Sync_Error__c, no rewrite.
    again = world.cycle()
    assert again.deferred == 1 and len(world.sync_errors()) == 1

    # The admin fixes the rule and ticks Retry: the next cycle writes and resolves.
    world.sf_standin.org.clear_validation_rules()
    world.sf_standin.org.update("Sync_Error__c", err["Id"], {"Retry_Requested__c": True})
    fixed = world.cycle()
    assert fixed.exit_code == 0 and fixed.resolved == 1
    assert world.account(ids["Bravo"])["Billing_Status__c"] == "Active"
    [err] = world.sync_errors()
    assert err["Status__c"] == "Resolved" and err["Resolved_At__c"] is not None
    assert err["Retry_Requested__c"] is False


def test_session_expiry_mid_cycle_reauthenticates_without_duplicates(shop):
    world, prices, clock = shop
    for n in range(3):
        cid = customer(world, clock, f"Co {n}")
        subscribe(world, cid, prices["starter"])
        world.link(f"Co {n}", cid)
    # Expire the session mid-cycle: after the Salesforce reads, before the writes.
    def expire_when_reading_stripe(message, *_):
        if message.startswith("reading Stripe"):
            world.sf_standin.expire_all_tokens()

    report = world.cycle(progress=expire_when_reading_stripe)
    assert report.exit_code == 0 and report.written == 6
    assert world.conn.reauth_count == 1
    assert len(world.subscriptions()) == 3
    world.sf_standin.expire_all_tokens()
    assert world.cycle().written == 0 and world.conn.reauth_count == 2


def test_daily_limit_stops_the_cycle_and_the_failure_is_kept(shop):
    world, prices, clock = shop
    cid = customer(world, clock, "Acme")
    subscribe(world, cid, prices["starter"])
    world.link("Acme", cid)
    world.sf_standin.set_daily_limit(1)
    report = world.cycle()
    assert report.exit_code == 3 and "daily API request limit" in report.stopped
    from sync.store import StateStore

    with StateStore(world.settings.db_path) as store:
        [row] = store.open_failures()
        assert (row.category, row.code, row.mirrored) == ("Limits", "REQUEST_LIMIT_EXCEEDED",
                                                          False)
    # Salesforce back: the next cycle writes and mirrors the (now resolved) failure.
    world.sf_standin.set_daily_limit(1_000_000)
    assert world.cycle().exit_code == 0
    [err] = world.sync_errors()
    assert (err["Category__c"], err["Status__c"]) == ("Limits", "Resolved")


def test_cli_dry_run_prints_the_diff_and_writes_nothing(shop, tmp_path):
    world, prices, clock = shop
    cid = customer(world, clock, "Acme")
    subscribe(world, cid, prices["starter"])
    acct = world.link("Acme", cid)
    env = {**os.environ, **world.env}
    result = subprocess.run([sys.executable, "-m", "scheduler.cli", "sync", "--dry-run"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Billing_Status__c" in result.stdout and "Active" in result.stdout
    assert f"Acme ({acct})" in result.stdout  # the rep-facing name next to the Id
    assert world.account(acct)["Billing_Status__c"] is None and world.subscriptions() == []
    assert world.env["STRIPE_API_KEY"] not in result.stdout + result.stderr
    result = subprocess.run([sys.executable, "-m", "scheduler.cli", "sync", "--json"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["records_written"] == 2 and summary["api_calls"]["salesforce"] >= 3
    assert world.account(acct)["Billing_Status__c"] == "Active"


def test_rest_headers_survive_a_deploy(world):
    from sync.salesforce_io import deploy

    assert deploy(world.conn.sf, username=world.sf_standin.username, poll_interval=0.01).ok
    assert world.conn.sf.headers["Content-Type"] == "application/json"
    assert "SOAPAction" not in world.conn.sf.headers


def test_account_option_limits_the_cycle_to_one_account(shop):
    world, prices, clock = shop
    ids = {}
    for name in ("One", "Two"):
        cid = customer(world, clock, name)
        subscribe(world, cid, prices["starter"])
        ids[name] = world.link(name, cid)
    report = world.cycle(account_id=ids["One"])
    assert (report.accounts_read, report.written) == (1, 2)
    assert world.account(ids["One"])["Billing_Status__c"] == "Active"
    assert world.account(ids["Two"])["Billing_Status__c"] is None
    env = {**os.environ, **world.env}
    result = subprocess.run([sys.executable, "-m", "scheduler.cli", "sync", "--account",
                             "001000000000000AAA"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "no Account with Id 001000000000000AAA" in result.stderr
    assert world.sync_errors() == []  # a usage error records nothing
    result = subprocess.run([sys.executable, "-m", "scheduler.cli", "sync", "--account",
                             "bogus"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "'bogus' is not a Salesforce Account Id" in result.stderr


def test_slack_hears_once_per_new_failure_kind_never_per_record(world):
    from standins.slack import SlackStandIn
    from sync.slack import SlackWebhookAlerter

    for n in range(3):
        world.link(f"Typo {n}", f"cus_bad id {n}")  # three malformed IDs: one kind
    world.link("Ghost", "cus_NoSuchCustomer")  # a second kind
    slack = SlackStandIn()
    try:
        alerter = SlackWebhookAlerter(f"http://127.0.0.1:{slack.port}/services/T/B/X")
        world.cycle(alerter=alerter)
        texts = slack.texts
        assert len(texts) == 3, texts  # MALFORMED_ID, UNKNOWN_CUSTOMER, one digest
        assert sum("MALFORMED_ID" in t for t in texts[:2]) == 1
        assert "Open sync errors" in texts[-1]
        assert world.env["STRIPE_API_KEY"] not in "".join(texts)
        world.cycle(alerter=alerter)
        assert len(slack.texts) == 3  # nothing new: silence
    finally:
        slack.close()


def test_dry_run_limits_the_diff_reports_what_it_would_record_and_its_exit_code(shop, capsys):
    from scheduler.cli import main

    world, prices, clock = shop
    for n in range(3):
        cid = customer(world, clock, f"Co {n}")
        subscribe(world, cid, prices["starter"])
        world.link(f"Co {n}", cid)
    world.link("Typo", "cus_bad id")
    assert main(["sync", "--dry-run", "--limit", "2", "--json"], environ=world.env) == 1
    data = json.loads(capsys.readouterr().out)
    assert len(data["changes"]) == 2 and data["changes_not_shown"] == 4
    mrr = next(v for c in data["changes"] for k, v in c["fields"].items() if k == "MRR__c")
    assert mrr == [None, 29.0]  # numbers as numbers, null for empty
    assert [w["code"] for w in data["would_record"]] == ["MALFORMED_ID"]
    assert world.sync_errors() == [] and world.subscriptions() == []
    assert main(["sync"], environ=world.env) == 1  # the real run: the same exit code
    assert main(["sync", "--dry-run"], environ=world.env) == 0  # nothing new any more
