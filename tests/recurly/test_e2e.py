"""Recurly end to end: `billing-sync sync` (and `sync --incremental`) through the real cycle
against the Recurly and Salesforce stand-ins, schema v2 deployed; exact Account fields and
Subscription__c records. Recurly's traps: a canceled subscription is still live (Canceling),
a trial is not a state, past due is an account flag."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scheduler.cli import main
from tests.provider_world import deployed_salesforce, link, subscriptions, writes

from .conftest import DAY, KEY


@pytest.fixture
def world(tmp_path, standin):
    # The engine's clock is the wall clock: the stand-in's records must be updated "now"
    # for the incremental cycle's cursor to see them.
    standin.set_time(int(time.time()))
    with deployed_salesforce(tmp_path, {
        "BILLING_PROVIDER": "recurly",
        "RECURLY_API_KEY": KEY,
        "RECURLY_API_BASE": standin.base_url,
    }) as world:
        yield world


def _link(sf, name: str, cid: str) -> str:
    return link(sf, "recurly", name, cid)


def _subs(sf) -> dict[str, dict[str, Any]]:
    return subscriptions(sf, "recurly")


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def test_recurly_accounts_reach_salesforce_canceled_is_canceling_not_churned(
    world, standin, client, subscribe, capsys
):
    sf, env = world
    # (20.00 + 3 x 5.00 + 12 x 8.00 at the volume tier holding 12) less 10% forever = 117.90;
    # the usage add-on bills what was used and is left out.
    team = subscribe("acme", add_ons=[{"code": "seat", "quantity": 3},
                                      {"code": "vol", "quantity": 12}, {"code": "api"}],
                     coupon_codes=["tenoff"])  # fmt: skip
    leaving = subscribe("leaving", plan_code="yearly")  # 1,200.00 / 12 months = 100.00
    client.cancel_subscription(leaving.id)
    gone = subscribe("gone")
    client.terminate_subscription(gone.id)
    subscribe("trial", trial_ends_at=_iso(standin.now() + 14 * DAY))
    acme = _link(sf, "Acme", "ACME")  # Recurly codes match whatever their case
    canceling = _link(sf, "Leaving Co", "leaving")
    churned = _link(sf, "Gone Co", "gone")
    trial = _link(sf, "Trial Co", "trial")
    _link(sf, "Typo Co", "has/slash")
    _link(sf, "Nobody Co", "nobody")

    assert main(["sync"], environ=env) == 1  # two Matching errors are new failures
    capsys.readouterr()

    a = sf.org.get("Account", acme)
    assert (a["Billing_Status__c"], a["MRR__c"], a["Billing_Currency__c"]) == (
        "Active", 117.9, "USD")
    leave = sf.org.get("Account", canceling)
    # canceled in Recurly = live until expires_at: Canceling, still paying, no renewal
    assert (leave["Billing_Status__c"], leave["MRR__c"], leave["Renewal_Date__c"]) == (
        "Canceling", 100.0, None)
    g = sf.org.get("Account", churned)
    assert (g["Billing_Status__c"], g["MRR__c"]) == ("Churned", 0.0)
    assert sf.org.get("Account", trial)["Billing_Status__c"] == "Trialing"

    subs = _subs(sf)
    row = subs[team.id]
    assert (row["Billing_System__c"], row["Status__c"], row["Account__c"]) == (
        "Recurly", "active", acme)
    assert row["Billing_Customer_Id__c"] == "ACME" and row["MRR__c"] == 117.9
    assert row["Provider_MRR__c"] is None  # Recurly reports no MRR of its own
    assert subs[leaving.id]["Status__c"] == "canceled"
    assert subs[gone.id]["Status__c"] == "expired"
    errors = {r["Error_Code__c"]: r for r in sf.org.all("Sync_Error__c")}
    assert set(errors) == {"MALFORMED_ID", "UNKNOWN_CUSTOMER"}
    assert errors["UNKNOWN_CUSTOMER"]["Billing_System__c"] == "Recurly"
    assert "Recurly has no customer nobody" in errors["UNKNOWN_CUSTOMER"]["Message__c"]
    assert "Recurly account code" in errors["MALFORMED_ID"]["Message__c"]

    sf.reset_counters()
    assert main(["sync"], environ=env) == 0
    assert writes(sf) == 0

    # The first tick re-reads what the set-up touched (a manual `sync` marks nothing
    # processed); the next one is idle.
    assert main(["sync", "--incremental"], environ=env) == 0
    sf.reset_counters()
    standin.reset_counters()
    assert main(["sync", "--incremental"], environ=env) == 0
    assert writes(sf) == 0
    # 2 Recurly lists + 2 SOQL reads; the CLI's own token request is not a tick's (the
    # daemon keeps its session).
    assert standin.counters == {"GET /subscriptions": 1, "GET /invoices": 1}
    assert sf.counters == {"POST oauth2/token": 1, "GET query": 2}

    # Past due is an account flag in Recurly: a failed renewal shows on the next tick.
    standin.fail_payments("code-acme")
    standin.advance_time(32 * DAY)
    assert main(["sync", "--incremental"], environ=env) == 0
    assert sf.org.get("Account", acme)["Billing_Status__c"] == "Past Due"
