"""End to end with Recurly replayed from the recorded cassettes and Salesforce on the stand-in.

Each scenario script runs again with a world that reaches nothing: every Recurly answer, to the
scenario's own writes and to the engine's reads, comes from ``tests/cassettes/recurly``. At
each checkpoint one real sync cycle (``build_engine(...).run()``, as the CLI builds it) runs
against a freshly deployed Salesforce stand-in; the engine's reads must be the recorder's
(``begin_cycle`` then ``fetch``, one account, per customer), and every recorded interaction
must be played. The Account and Subscription__c records are compared with values worked out
by hand from the scenario code (T0 = 2026-11-26 12:00 UTC, the recording's pinned clock).

The engine's Recurly reader takes the wall clock (``build_source`` passes none); a trial is
"trial_ends_at still ahead", so the reader's clock is pinned to the scenario's for the test.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from vcr.request import Request

from scheduler.clients import SalesforceConnection, build_billing, build_salesforce
from scheduler.settings import Settings, load_settings
from scheduler.wiring import build_engine
from standins.salesforce import SalesforceStandIn
from sync.report import CycleReport
from sync.salesforce_io import deploy

from .common import World
from .replay import cassette_path, replay_vcr
from .replaying import KEY, NOWHERE, replay_world
from .scenarios import SCENARIOS


@dataclass(frozen=True)
class Acct:
    status: str
    plan: str | None
    mrr: float
    currency: str | None
    renewal: str | None


@dataclass(frozen=True)
class Sub:
    status: str  # Recurly's state, verbatim
    plan: str
    mrr: float
    currency: str
    quantity: float
    period_end: str
    cancel_at: str | None = None
    canceled_at: str | None = None
    ended_at: str | None = None
    trial_end: str | None = None
    started: str = "2026-11-26"
    interval: str = "month"


NO_SUBSCRIPTION = Acct("No Subscription", None, 0.0, None, None)
CHURNED = Acct("Churned", None, 0.0, None, None)  # nothing live: no plan, no currency (A4, A5)

# Every subscription started at T0, 2026-11-26; a monthly period ends 2026-12-26.
# fmt: off
EXPECTED: dict[str, dict[str, tuple[Acct, list[Sub]]]] = {
    "new_account": {
        "account created": (NO_SUBSCRIPTION, []),
        # 19.0 USD a month.
        "subscribed": (Acct("Active", "Starter (new_account)", 19.0, "USD", "2026-12-26"),
                       [Sub("active", "Starter (new_account)", 19.0, "USD", 1, "2026-12-26")]),
    },
    "upgrade": {
        "on basic": (Acct("Active", "Basic (upgrade)", 10.0, "USD", "2026-12-26"),
                     [Sub("active", "Basic (upgrade)", 10.0, "USD", 1, "2026-12-26")]),
        # The same subscription on Pro, 2 x 50.00 = 100.00; the period kept.
        "upgraded to pro x2": (Acct("Active", "Pro (upgrade)", 100.0, "USD", "2026-12-26"),
                               [Sub("active", "Pro (upgrade)", 100.0, "USD", 2, "2026-12-26")]),
    },
    "failed_payment": {
        "active": (Acct("Active", "Team (failed_payment)", 49.0, "USD", "2026-12-26"),
                   [Sub("active", "Team (failed_payment)", 49.0, "USD", 1, "2026-12-26")]),
        # The declined renewal rolled the period to 2027-01-26; still "active" in Recurly,
        # Past Due from has_past_due_invoice; still counted (A5).
        "renewal failed: past due": (
            Acct("Past Due", "Team (failed_payment)", 49.0, "USD", "2027-01-26"),
            [Sub("active", "Team (failed_payment)", 49.0, "USD", 1, "2027-01-26")]),
        "paid up": (Acct("Active", "Team (failed_payment)", 49.0, "USD", "2027-01-26"),
                    [Sub("active", "Team (failed_payment)", 49.0, "USD", 1, "2027-01-26")]),
    },
    "cancel": {
        "active": (Acct("Active", "Basic (cancel)", 12.0, "USD", "2026-12-26"),
                   [Sub("active", "Basic (cancel)", 12.0, "USD", 1, "2026-12-26")]),
        # Terminated: expired at T0, MRR 0; the record keeps its last period.
        "terminated": (CHURNED, [Sub("expired", "Basic (cancel)", 0.0, "USD", 1, "2026-12-26",
                                     ended_at="2026-11-26")]),
    },
    "canceled_live": {
        # Live until expires_at = the period's end: Canceling, 20.00 still counted, no renewal.
        "canceled, live until it expires": (
            Acct("Canceling", "Basic (canceled_live)", 20.0, "USD", None),
            [Sub("canceled", "Basic (canceled_live)", 20.0, "USD", 1, "2026-12-26",
                 cancel_at="2026-12-26", canceled_at="2026-11-26")]),
    },
    "expired": {
        "canceled": (Acct("Canceling", "Basic (expired)", 25.0, "USD", None),
                     [Sub("canceled", "Basic (expired)", 25.0, "USD", 1, "2026-12-26",
                          cancel_at="2026-12-26", canceled_at="2026-11-26")]),
        # The clock passed expires_at: expired then, MRR 0.
        "expired": (CHURNED, [Sub("expired", "Basic (expired)", 0.0, "USD", 1, "2026-12-26",
                                  canceled_at="2026-11-26", ended_at="2026-12-26")]),
    },
    "resubscribe": {
        "churned": (CHURNED, [Sub("expired", "Basic (resubscribe)", 0.0, "USD", 1, "2026-12-26",
                                  ended_at="2026-11-26")]),
        # A second Subscription__c, 15.00; the expired one stays as history.
        "resubscribed": (
            Acct("Active", "Basic (resubscribe)", 15.0, "USD", "2026-12-26"),
            [Sub("active", "Basic (resubscribe)", 15.0, "USD", 1, "2026-12-26"),
             Sub("expired", "Basic (resubscribe)", 0.0, "USD", 1, "2026-12-26",
                 ended_at="2026-11-26")]),
    },
    "trial": {
        # trial_ends_at T0 + 14 days, 2026-12-10, the first period's end: Trialing, MRR 0.
        "in trial": (Acct("Trialing", "Pro (trial)", 0.0, "USD", "2026-12-10"),
                     [Sub("active", "Pro (trial)", 0.0, "USD", 1, "2026-12-10",
                          trial_end="2026-12-10")]),
    },
    "add_ons": {
        # 20.00 + 3 x 5.00 + 9.99 = 44.99, names most valuable first (the plan 20.00, seats
        # 15.00, support 9.99); the usage add-on is not there. Quantity: the plan's, 1.
        "two fixed add-ons and a usage one": (
            Acct("Active", "Team (add_ons), Seat, Support", 44.99, "USD", "2026-12-26"),
            [Sub("active", "Team (add_ons), Seat, Support", 44.99, "USD", 1, "2026-12-26")]),
    },
    "forever_coupon": {
        # 50.00 less 20% forever = 40.00.
        "discounted forever": (
            Acct("Active", "Pro (forever_coupon)", 40.0, "USD", "2026-12-26"),
            [Sub("active", "Pro (forever_coupon)", 40.0, "USD", 1, "2026-12-26")]),
    },
    "jpy": {
        # 10000.0 JPY: ¥10,000 a month.
        "yen subscription": (Acct("Active", "Pro (jpy)", 10000.0, "JPY", "2026-12-26"),
                             [Sub("active", "Pro (jpy)", 10000.0, "JPY", 1, "2026-12-26")]),
    },
}
# fmt: on


@dataclass
class Stand:
    standin: SalesforceStandIn
    conn: SalesforceConnection
    settings: Settings

    def cycle(self) -> CycleReport:
        client = build_billing(self.settings)
        try:
            with build_engine(self.settings, billing_client=client, salesforce=self.conn,
                              sleep=lambda _s: None) as engine:  # fmt: skip
                return engine.run()
        finally:
            client.close()


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    sf = SalesforceStandIn(tmp_path / "sf")
    sf.start()
    try:
        settings = load_settings({
            "BILLING_PROVIDER": "recurly", "RECURLY_API_KEY": KEY, "RECURLY_API_BASE": NOWHERE,
            "SALESFORCE_LOGIN_URL": sf.login_url, "SALESFORCE_CLIENT_ID": sf.client_id,
            "SALESFORCE_CLIENT_SECRET": sf.client_secret,
            "SALESFORCE_CA_BUNDLE": str(sf.ca_file), "BILLING_SYNC_DB": str(tmp_path / "db"),
        })  # fmt: skip
        conn = build_salesforce(settings)
        result = deploy(conn.sf, username=sf.username, poll_interval=0.01)
        assert result.ok, result.table_rows()
        yield Stand(sf, conn, settings)
    finally:
        sf.stop()


def _pin_reader_clock(monkeypatch: pytest.MonkeyPatch, world: World) -> None:
    def no_sleep(_seconds: float) -> None:
        raise AssertionError("the replayed reader must never wait")

    fake = types.SimpleNamespace(time=lambda: float(world.now()), sleep=no_sleep)
    monkeypatch.setattr("sync.recurly_io.source.time", fake)


def account_fields(a: dict[str, Any]) -> Acct:
    return Acct(a["Billing_Status__c"], a["Billing_Plan__c"], a["MRR__c"],
                a["Billing_Currency__c"], a["Renewal_Date__c"])  # fmt: skip


def subscription_fields(r: dict[str, Any]) -> Sub:
    assert r["Name"] == r["Plan__c"], r["Name"]  # every plan here is under 80 characters
    # Canceled in Recurly ends with its period (expires_at = the period end): the same
    # Cancel_At_Period_End__c as a Stripe subscription set to cancel at its period end.
    assert r["Cancel_At_Period_End__c"] is (r["Status__c"] == "canceled"), r
    return Sub(r["Status__c"], r["Plan__c"], r["MRR__c"], r["Currency__c"], r["Quantity__c"],
               r["Current_Period_End__c"], r["Cancel_At__c"], r["Canceled_At__c"],
               r["Ended_At__c"], r["Trial_End__c"], r["Started_At__c"],
               r["Interval__c"])  # fmt: skip


def _in_order(subs: list[Sub]) -> list[Sub]:
    return sorted(subs, key=lambda s: (s.status, s.started, s.plan))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_syncs_to_the_exact_salesforce_records(
    name: str, stand: Stand, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = EXPECTED[name]
    accounts: dict[str, str] = {}  # Recurly account code -> Account Id
    seen: list[str] = []
    origin = urlsplit(stand.standin.instance_url)
    salesforce = (origin.scheme, origin.hostname, origin.port)

    def pass_salesforce_through(request: Request) -> Request | None:
        # vcr's ignore_localhost would also drop the cassette's own (stand-in) interactions.
        return None if (request.scheme, request.host, request.port) == salesforce else request

    def checkpoint(label: str, codes: list[str]) -> None:
        assert label in expected, f"{name}: no expectation written for checkpoint {label!r}"
        for code in codes:
            if code not in accounts:
                accounts[code] = stand.standin.org.insert(
                    "Account", {"Name": f"{name} {code}", "Recurly_Account_Code__c": code})
        report = stand.cycle()
        assert report.exit_code == 0, (label, report.summary())
        assert report.strategy == "per_customer", label  # as recorded
        want_account, want_subs = expected[label]
        for code in codes:
            account = stand.standin.org.get("Account", accounts[code])
            assert account_fields(account) == want_account, label
            assert account["Last_Billing_Sync__c"] is not None, label
            records = stand.standin.org.all("Subscription__c")
            for r in records:
                assert (r["Account__c"], r["Billing_System__c"], r["Billing_Customer_Id__c"]) \
                    == (accounts[code], "Recurly", code), label  # fmt: skip
                assert r["Recurly_Subscription_Id__c"], label
            got = _in_order([subscription_fields(r) for r in records])
            assert got == _in_order(want_subs), label
        assert stand.standin.org.all("Sync_Error__c") == [], label
        seen.append(label)

    path = cassette_path(name)
    with replay_vcr().use_cassette(str(path), before_record_request=pass_salesforce_through) \
            as cassette:  # fmt: skip
        world = replay_world(name)
        _pin_reader_clock(monkeypatch, world)
        SCENARIOS[name](world, checkpoint)
        # Every recorded Recurly answer was asked for: the cycles made the recorder's reads.
        assert cassette.all_played, f"{name}: recorded requests the cycles never made"
    assert seen == list(expected), "every checkpoint ran, in order, and was asserted"
