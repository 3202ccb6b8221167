"""Chargebee end to end: `billing-sync sync` (and `sync --incremental`) through the real
cycle against the Chargebee and Salesforce stand-ins, schema v2 deployed; exact Account
fields and Subscription__c records."""

from __future__ import annotations

import time
from decimal import Decimal as D
from typing import Any

import chargebee
import pytest

from scheduler.cli import main
from tests.provider_world import deployed_salesforce, link, subscriptions, writes

from .conftest import DAY


@pytest.fixture
def world(tmp_path, standin, monkeypatch):
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", True)
    # The engine's clock is the wall clock: events must happen "now" for the incremental
    # cycle's cursor (set by the full reconcile) to see them.
    standin.set_time(int(time.time()))
    with deployed_salesforce(tmp_path, {
        "BILLING_PROVIDER": "chargebee",
        "CHARGEBEE_SITE": standin.site,
        "CHARGEBEE_API_KEY": standin.api_key,
        "CHARGEBEE_API_BASE": standin.api_base,
    }) as world:
        yield world


def _link(sf, name: str, cid: str) -> str:
    return link(sf, "chargebee", name, cid)


def _subs(sf) -> dict[str, dict[str, Any]]:
    return subscriptions(sf, "chargebee")


def test_chargebee_customers_reach_their_accounts_and_an_idle_tick_costs_little(
    world, standin, http, subscribe, capsys
):
    sf, env = world
    # 2 x 20.00 + 3 x 5.00 seats, 10% forever: (40 + 15) x 0.9 = 49.50 a month.
    team = subscribe("acme", ("monthly", 2), ("addon", 3), coupon_ids=["TENOFF"])
    subscribe("trialco", ("monthly", 1), trial_end=standin.now() + 14 * DAY)
    yearly = subscribe("yearly", ("yearly", None))  # 1,200.00 a year = 100.00 a month
    http.ok(f"/subscriptions/{yearly['id']}/cancel_for_items", end_of_term="true")
    gone = subscribe("gone", ("monthly", 1))
    http.ok(f"/subscriptions/{gone['id']}/cancel_for_items")
    acme = _link(sf, "Acme", "acme")
    trial = _link(sf, "Trial Co", "trialco")
    ending = _link(sf, "Yearly Co", "yearly")
    churned = _link(sf, "Gone Co", "gone")
    _link(sf, "Typo Co", "has space")
    _link(sf, "Nobody Co", "nobody")

    assert main(["sync"], environ=env) == 1  # two Matching errors are new failures
    capsys.readouterr()

    a = sf.org.get("Account", acme)
    assert (a["Billing_Status__c"], a["MRR__c"], a["Billing_Currency__c"]) == (
        "Active", D("49.50"), "USD")
    assert a["Billing_Plan__c"] == "Team, Seats" and a["Renewal_Date__c"] is not None
    assert sf.org.get("Account", trial)["Billing_Status__c"] == "Trialing"
    y = sf.org.get("Account", ending)
    assert (y["Billing_Status__c"], y["MRR__c"], y["Renewal_Date__c"]) == (
        "Canceling", D("100.00"), None)
    g = sf.org.get("Account", churned)
    assert (g["Billing_Status__c"], g["MRR__c"]) == ("Churned", D("0.00"))

    subs = _subs(sf)
    row = subs[team["id"]]
    assert row["Billing_System__c"] == "Chargebee" and row["Status__c"] == "active"
    assert row["Billing_Customer_Id__c"] == "acme" and row["Stripe_Customer_Id__c"] is None
    assert row["Account__c"] == acme and row["MRR__c"] == D("49.50")
    # Chargebee's own figure sits beside ours; they agree, so no notice.
    assert row["Provider_MRR__c"] == D("49.50")
    assert subs[yearly["id"]]["Status__c"] == "non_renewing"
    assert subs[gone["id"]]["Status__c"] == "cancelled"
    errors = {r["Error_Code__c"]: r for r in sf.org.all("Sync_Error__c")}
    assert set(errors) == {"MALFORMED_ID", "UNKNOWN_CUSTOMER"}
    unknown = errors["UNKNOWN_CUSTOMER"]
    assert unknown["Billing_System__c"] == "Chargebee" and unknown["Category__c"] == "Matching"
    assert unknown["Billing_Customer_Id__c"] == "nobody" and "Chargebee has no customer" in (
        unknown["Message__c"])
    assert "Chargebee customer id" in errors["MALFORMED_ID"]["Message__c"]

    sf.reset_counters()
    assert main(["sync"], environ=env) == 0  # the same failures, nothing new
    assert writes(sf) == 0

    # The first tick re-reads what the set-up's events touched (a manual `sync` does not mark
    # events processed; the daemon's reconciles do); the next one is idle.
    assert main(["sync", "--incremental"], environ=env) == 0
    sf.reset_counters()
    standin.reset_counters()
    assert main(["sync", "--incremental"], environ=env) == 0
    billing_calls = sum(standin.counters.values())
    sf_calls = sum(sf.counters.values())
    assert billing_calls == 1 and writes(sf) == 0, standin.counters
    assert billing_calls + sf_calls <= 4, (standin.counters, sf.counters)

    # A change in Chargebee reaches Salesforce on the next tick, through its event.
    http.ok(f"/subscriptions/{team['id']}/cancel_for_items")
    assert main(["sync", "--incremental"], environ=env) == 0
    assert sf.org.get("Account", acme)["Billing_Status__c"] == "Churned"
    assert _subs(sf)[team["id"]]["Status__c"] == "cancelled"
