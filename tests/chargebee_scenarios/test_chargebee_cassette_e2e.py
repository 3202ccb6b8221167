"""End to end with Chargebee replayed from the recorded cassettes and Salesforce on the stand-in.

Each scenario script in ``tests/chargebee_scenarios`` runs again against a Chargebee client
that can reach nothing: every Chargebee answer comes from
``tests/cassettes/chargebee/<scenario>.yaml``. At each checkpoint one real sync cycle runs, the
engine built as the CLI builds it (``load_settings`` -> ``build_billing`` -> ``build_engine``)
against a freshly deployed Salesforce stand-in (schema v2), making exactly the Chargebee calls
the recorder made (its checkpoints ran ``ChargebeeSource.fetch`` for the same customer ids,
which is what the cycle's per-customer strategy does). The Account and Subscription__c
records Salesforce ends up holding are compared with values worked out by hand from the
scenario code and the recorded responses. After the last checkpoint, one more cycle over the
same recorded answers must write nothing.

The dates and ids below are those of the recorded responses: the recorder pins the Chargebee
stand-in's clock to 2026-11-26 12:00 UTC (RECORDING_TIME) and the stand-in makes the same ids
on every fresh start, so re-recording against it keeps them; cassettes re-recorded against a
Chargebee test site carry that day's dates and that site's ids, and these expectations must
follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chargebee
import pytest
import yaml
from vcr.cassette import Cassette
from vcr.request import Request

from scheduler.clients import SalesforceConnection, build_billing, build_salesforce
from scheduler.settings import Settings, load_settings
from scheduler.wiring import build_engine
from standins.salesforce import SalesforceStandIn
from sync.report import CycleReport
from sync.salesforce_io import deploy

from .replay import cassette_path, replay_vcr
from .scenarios import SCENARIOS

CB_SITE = "replay-test"
CB_KEY = "test_replay_only"
# `.invalid` never resolves: a Chargebee request the cassette cannot answer reaches no server.
# The path keeps /api/v2, because the cassettes are matched on method, path and query.
CB_BASE = "http://chargebee.replay.invalid/api/v2"
# The stand-in's first customer id, the same in every cassette (a fresh stand-in per scenario).
# It anchors each scenario's catalog ids (``Shop`` tags), so it is part of every item name.
CUSTOMER = "2yW4Acq9GFz6Y1t9E"
# Subscription ids as recorded (the stand-in's ids follow from what a scenario created before
# the subscription, so several scenarios share them); each names one Subscription__c record.
SUB_A = "afU1zT0YQOaNF03vp"
SUB_B = "fu4G7FgtJsThJv07I"
SUB_C = "UuT3em6KopZ9jZICf"
SUB_D = "n5RL08ALrCFQPS6Yw"
T0 = "2026-11-26"  # RECORDING_TIME's date: every customer and subscription starts then


@dataclass(frozen=True)
class Acct:
    """The Account billing fields a rep reads."""

    status: str
    plan: str | None
    mrr: float
    currency: str | None
    renewal: str | None


@dataclass(frozen=True)
class Sub:
    """One Subscription__c record (Name is checked to hold the plan, cut to 80 characters;
    the customer, Account and Billing_System__c are checked for every record)."""

    id: str
    status: str  # Chargebee's own status, verbatim
    plan: str
    mrr: float  # ours
    provider_mrr: float  # Chargebee's `mrr`, as recorded, in major units
    currency: str
    interval: str
    quantity: float
    period_end: str
    cancel_at: str | None = None
    canceled_at: str | None = None
    ended_at: str | None = None
    trial_end: str | None = None
    started: str = T0
    # Chargebee has no such flag: non_renewing to the term's end reads as Stripe's
    # cancel_at_period_end (True), everything else False.
    cancel_at_period_end: bool = False


def _plan(scenario: str, label: str) -> str:
    # Shop.price names each item "<label> (bs-<scenario>-<customer id>)" and gives it no
    # external name, which Chargebee then sets to the name; the engine shows item names.
    return f"{label} (bs-{scenario.replace('_', '-')}-{CUSTOMER})"


NO_SUBSCRIPTION = Acct("No Subscription", None, 0.0, None, None)
# Nothing live: no plan, MRR 0.00 with no currency, no renewal (DESIGN A4 rule 8, A5).
CHURNED = Acct("Churned", None, 0.0, None, None)

# Every subscription below started at T0 and renews monthly; a first term ends a month on,
# 2026-12-26, unless said otherwise. Chargebee's integer amounts are cents (yen for JPY).
STARTER = _plan("new_customer", "Starter")
BASIC = _plan("upgrade_items", "Basic")
PRO = _plan("upgrade_items", "Pro")
TEAM = _plan("failed_payment", "Team")
CANCEL_BASIC = _plan("cancel", "Basic")
RESUB_BASIC = _plan("resubscribe", "Basic")
ENDING_BASIC = _plan("non_renewing", "Basic")
TRIAL_PRO = _plan("in_trial", "Pro")
# Most valuable item first: seats 70.00 before storage 12.00 (see below). 86 characters: the
# Account's 255-character Billing_Plan__c holds them all, the 80-character Name is cut.
TIERED = f"{_plan('addon_tiered', 'Seats')}, {_plan('addon_tiered', 'Storage')}"
COUPON_PRO = _plan("forever_coupon", "Pro")
YEN = _plan("jpy_customer", "Pro")

# A hand-written table reads best one expectation to a line or two.
# fmt: off
EXPECTED: dict[str, dict[str, tuple[Acct, list[Sub]]]] = {
    "new_customer": {
        # The customer exists in Chargebee with no subscription: the cycle asks for it by id
        # (customers, include_deleted) and finds it not deleted: not Churned, not unknown.
        "customer created": (NO_SUBSCRIPTION, []),
        # flat_fee 1900 cents = 19.00 a month; Chargebee's mrr 1900 agrees.
        "subscribed": (Acct("Active", STARTER, 19.0, "USD", "2026-12-26"),
                       [Sub(SUB_A, "active", STARTER, 19.0, 19.0, "USD", "month", 1,
                            "2026-12-26")]),
    },
    "upgrade_items": {
        # 1000 cents = 10.00.
        "on basic": (Acct("Active", BASIC, 10.0, "USD", "2026-12-26"),
                     [Sub(SUB_B, "active", BASIC, 10.0, 10.0, "USD", "month", 1, "2026-12-26")]),
        # The same subscription (same id, same record), its plan item replaced by Pro at 5000
        # cents = 50.00; the term is unchanged.
        "upgraded to pro": (Acct("Active", PRO, 50.0, "USD", "2026-12-26"),
                            [Sub(SUB_B, "active", PRO, 50.0, 50.0, "USD", "month", 1,
                                 "2026-12-26")]),
    },
    "failed_payment": {
        # auto_collection off: the first invoice is due at once (due_invoices_count 1), and an
        # active subscription with dues is past due (Chargebee has no such status: Status__c
        # stays "active"). Past due still counts in MRR (A5), 4900 cents = 49.00, and renews.
        "first invoice due": (Acct("Past Due", TEAM, 49.0, "USD", "2026-12-26"),
                              [Sub(SUB_A, "active", TEAM, 49.0, 49.0, "USD", "month", 1,
                                   "2026-12-26")]),
        # The bounced transfer leaves the invoice due: nothing changes.
        "payment failed: past due": (Acct("Past Due", TEAM, 49.0, "USD", "2026-12-26"),
                                     [Sub(SUB_A, "active", TEAM, 49.0, 49.0, "USD", "month", 1,
                                          "2026-12-26")]),
        # Time travel past the term end: the term rolled to 2026-12-26..2027-01-26 and the
        # renewal invoice is due too (due_invoices_count 2).
        "renewed unpaid: two invoices due": (
            Acct("Past Due", TEAM, 49.0, "USD", "2027-01-26"),
            [Sub(SUB_A, "active", TEAM, 49.0, 49.0, "USD", "month", 1, "2027-01-26")]),
        # Both invoices paid: no dues, Active; the rolled term stays.
        "paid up": (Acct("Active", TEAM, 49.0, "USD", "2027-01-26"),
                    [Sub(SUB_A, "active", TEAM, 49.0, 49.0, "USD", "month", 1, "2027-01-26")]),
    },
    "cancel": {
        # 1200 cents = 12.00.
        "active": (Acct("Active", CANCEL_BASIC, 12.0, "USD", "2026-12-26"),
                   [Sub(SUB_A, "active", CANCEL_BASIC, 12.0, 12.0, "USD", "month", 1,
                        "2026-12-26")]),
        # Cancelled immediately at T0: cancelled_at is both when it was cancelled and when it
        # ended; MRR 0 for an ended subscription (A5), Chargebee's mrr 0 too. The record keeps
        # its last term's end.
        "cancelled": (CHURNED,
                      [Sub(SUB_A, "cancelled", CANCEL_BASIC, 0.0, 0.0, "USD", "month", 1,
                           "2026-12-26", canceled_at=T0, ended_at=T0)]),
    },
    "resubscribe": {
        # 1500 cents, but cancelled at once before the first sync: Churned, MRR 0.
        "churned": (CHURNED,
                    [Sub(SUB_A, "cancelled", RESUB_BASIC, 0.0, 0.0, "USD", "month", 1,
                         "2026-12-26", canceled_at=T0, ended_at=T0)]),
        # A second Subscription__c, 15.00; the cancelled one stays as history and adds 0.
        "resubscribed": (Acct("Active", RESUB_BASIC, 15.0, "USD", "2026-12-26"),
                         [Sub(SUB_D, "active", RESUB_BASIC, 15.0, 15.0, "USD", "month", 1,
                              "2026-12-26"),
                          Sub(SUB_A, "cancelled", RESUB_BASIC, 0.0, 0.0, "USD", "month", 1,
                              "2026-12-26", canceled_at=T0, ended_at=T0)]),
    },
    "non_renewing": {
        # cancel_option end_of_term: non_renewing, still active and paying (2000 cents =
        # 20.00) until its term ends; Cancel_At__c is the date it will end (cancelled_at,
        # 2026-12-26), Canceled_At__c the day it was scheduled (cancel_schedule_created_at,
        # T0). Canceling (A4 rule 4), no renewal date: it will not renew (A3).
        "cancels at term end": (
            Acct("Canceling", ENDING_BASIC, 20.0, "USD", None),
            [Sub(SUB_A, "non_renewing", ENDING_BASIC, 20.0, 20.0, "USD", "month", 1,
                 "2026-12-26", cancel_at="2026-12-26", canceled_at=T0,
                 cancel_at_period_end=True)]),
        # Past the term end: cancelled, ended on 2026-12-26; no longer scheduled, so no
        # Cancel_At__c. Canceled_At__c still says when the cancellation was asked for.
        "term over: cancelled": (
            CHURNED,
            [Sub(SUB_A, "cancelled", ENDING_BASIC, 0.0, 0.0, "USD", "month", 1, "2026-12-26",
                 canceled_at=T0, ended_at="2026-12-26")]),
    },
    "in_trial": {
        # trial_end T0 + 7 days = 2026-12-03, which is also the current term's end: MRR 0 while
        # in trial (A5; Chargebee's mrr 0 too); a trial renews into its first paid term, so
        # the renewal date is the trial's end. The live subscription still sets the currency.
        "in trial": (Acct("Trialing", TRIAL_PRO, 0.0, "USD", "2026-12-03"),
                     [Sub(SUB_A, "in_trial", TRIAL_PRO, 0.0, 0.0, "USD", "month", 1,
                          "2026-12-03", trial_end="2026-12-03")]),
        # Past the trial: the first paid term 2026-12-03..2027-01-03, 3000 cents = 30.00.
        "trial over: active": (Acct("Active", TRIAL_PRO, 30.0, "USD", "2027-01-03"),
                               [Sub(SUB_A, "active", TRIAL_PRO, 30.0, 30.0, "USD", "month", 1,
                                    "2027-01-03", trial_end="2026-12-03")]),
    },
    "addon_tiered": {
        # Graduated seats, 15 of them: 10 x 5.00 + 5 x 4.00 = 50.00 + 20.00 = 70.00; the
        # per-unit storage addon 4 x 3.00 = 12.00; 82.00 in all, Chargebee's mrr 8200 agrees.
        # Quantity__c and Interval__c are those of the most valuable item (seats: 15).
        "tiered plan and addon": (Acct("Active", TIERED, 82.0, "USD", "2026-12-26"),
                                  [Sub(SUB_B, "active", TIERED, 82.0, 82.0, "USD", "month", 15,
                                       "2026-12-26")]),
    },
    "forever_coupon": {
        # 50.00 less a forever 20 % coupon on the invoice amount: 50.00 x 0.80 = 40.00.
        "discounted forever": (Acct("Active", COUPON_PRO, 40.0, "USD", "2026-12-26"),
                               [Sub(SUB_C, "active", COUPON_PRO, 40.0, 40.0, "USD", "month", 1,
                                    "2026-12-26")]),
    },
    "jpy_customer": {
        # JPY has no minor unit: price 10000 is 10,000 yen, not 100.00; so is its mrr.
        "yen subscription": (Acct("Active", YEN, 10000.0, "JPY", "2026-12-26"),
                             [Sub(SUB_A, "active", YEN, 10000.0, 10000.0, "JPY", "month", 1,
                                  "2026-12-26")]),
    },
}
# fmt: on

# What each cycle lists, in order (one call each: every answer fits a page): the customer's
# subscriptions (customer_id[in], include_deleted), then the catalog they use by id[in]: item
# prices, their items, coupons. A customer with no subscription is looked up instead.
ONE_PLAN = ["subscriptions", "item_prices", "items"]
READS: dict[str, dict[str, list[str]]] = {name: {} for name in SCENARIOS} | {
    "new_customer": {"customer created": ["subscriptions", "customers"]},
    "forever_coupon": {"discounted forever": [*ONE_PLAN, "coupons"]},
}

# Salesforce write calls per checkpoint: one upsert of the Subscription__c records and one
# update of the Account, unless said here.
WRITE_CALLS: dict[str, dict[str, int]] = {name: {} for name in SCENARIOS} | {
    # No subscription yet: the Account alone (No Subscription, MRR 0.00).
    "new_customer": {"customer created": 1},
    "failed_payment": {
        # The recorded reads are the same as at the checkpoint before: nothing to write.
        "payment failed: past due": 0,
        # Past Due -> Active is the Account's alone: Status__c stays Chargebee's "active".
        "paid up": 1,
    },
}


def _writes(standin: SalesforceStandIn) -> int:
    """Salesforce write calls the stand-in answered (reads are GETs; a token is no write)."""
    return sum(
        n
        for key, n in standin.counters.items()
        if not key.startswith("GET") and key != "POST oauth2/token"
    )


@dataclass
class Stand:
    """The Salesforce stand-in with schema v2 deployed, a local state file, and settings
    for Chargebee at an address that reaches nothing."""

    standin: SalesforceStandIn
    conn: SalesforceConnection
    settings: Settings

    def cycle(self, client: Any) -> CycleReport:
        # The engine as the CLI builds it; its catalog cache starts empty every cycle
        # (begin_cycle), as the recorder's fresh reader did every checkpoint, so it makes the
        # recorded calls again. The limiter's waits go to the no-op sleep: none is real.
        with build_engine(self.settings, billing_client=client, salesforce=self.conn,
                          sleep=lambda _s: None) as engine:  # fmt: skip
            return engine.run()

    def account(self, account_id: str) -> dict:
        return self.standin.org.get("Account", account_id)

    def subscriptions(self, customer_id: str) -> list[dict]:
        return [
            r
            for r in self.standin.org.all("Subscription__c")
            if r["Billing_Customer_Id__c"] == customer_id
        ]


@pytest.fixture
def stand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stand]:
    # build_chargebee clears this class attribute for a plain-http base, process-wide: put
    # back whatever it was when the test ends.
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", chargebee.Chargebee.verify_ca_certs)
    standin = SalesforceStandIn(tmp_path / "sf")
    standin.start()
    try:
        settings = load_settings(
            {
                "BILLING_PROVIDER": "chargebee",
                "CHARGEBEE_SITE": CB_SITE,
                "CHARGEBEE_API_KEY": CB_KEY,
                "CHARGEBEE_API_BASE": CB_BASE,
                "SALESFORCE_LOGIN_URL": standin.login_url,
                "SALESFORCE_CLIENT_ID": standin.client_id,
                "SALESFORCE_CLIENT_SECRET": standin.client_secret,
                "SALESFORCE_CA_BUNDLE": str(standin.ca_file),
                "BILLING_SYNC_DB": str(tmp_path / "state.db"),
            }
        )
        conn = build_salesforce(settings)
        result = deploy(conn.sf, username=standin.username, poll_interval=0.01)
        assert result.ok, result.table_rows()
        yield Stand(standin, conn, settings)
    finally:
        standin.stop()


def replaying(path: Path, stand: Stand):
    """Replay Chargebee from the cassette at ``path`` and let Salesforce traffic through to
    the stand-in.

    vcr's ``ignore_localhost`` cannot tell the two apart: it also runs over the interactions
    it loads, and those were recorded against a Chargebee stand-in on 127.0.0.1, so it would
    drop them all. Only the Salesforce stand-in's own scheme (https, where the recorded
    Chargebee calls are http), host and port are let through.
    """
    assert path.exists(), f"missing cassette {path}: run `make cassettes PROVIDER=chargebee`"
    origin = urlsplit(stand.standin.instance_url)
    salesforce = (origin.scheme, origin.hostname, origin.port)

    def pass_salesforce_through(request: Request) -> Request | None:
        return None if (request.scheme, request.host, request.port) == salesforce else request

    return replay_vcr().use_cassette(str(path), before_record_request=pass_salesforce_through)


def account_fields(account: dict) -> Acct:
    return Acct(
        account["Billing_Status__c"],
        account["Billing_Plan__c"],
        account["MRR__c"],
        account["Billing_Currency__c"],
        account["Renewal_Date__c"],
    )


def subscription_fields(record: dict) -> Sub:
    # Name is Salesforce's 80-character record name: the plan, cut with an ellipsis.
    plan = record["Plan__c"]
    assert record["Name"] == (plan if len(plan) <= 80 else plan[:79] + "…"), record["Name"]
    return Sub(
        record["Chargebee_Subscription_Id__c"],
        record["Status__c"],
        record["Plan__c"],
        record["MRR__c"],
        record["Provider_MRR__c"],
        record["Currency__c"],
        record["Interval__c"],
        record["Quantity__c"],
        record["Current_Period_End__c"],
        record["Cancel_At__c"],
        record["Canceled_At__c"],
        record["Ended_At__c"],
        record["Trial_End__c"],
        record["Started_At__c"],
        record["Cancel_At_Period_End__c"],
    )


def log_plays(cassette: Cassette) -> list[int]:
    """The indexes (file order) of the recorded interactions as they are played, in the order
    they are played: vcr matches a request to the first unplayed interaction with the same
    method, path and query, whatever its place, so only this shows the order of the calls."""
    played: list[int] = []
    play = cassette.play_response

    def logged(request: Request) -> Any:
        before = dict(cassette.play_counts)
        response = play(request)
        played.extend(i for i, n in cassette.play_counts.items() if n != before.get(i, 0))
        return response

    cassette.play_response = logged  # type: ignore[method-assign]
    return played


def _cassette_of(source: Path, indexes: list[int], dest: Path) -> Path:
    """A cassette holding only the interactions ``indexes`` of ``source``, in order."""
    data = yaml.safe_load(source.read_text())
    data["interactions"] = [data["interactions"][i] for i in indexes]
    dest.write_text(yaml.safe_dump(data, sort_keys=False))
    return dest


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_syncs_to_the_exact_salesforce_records(
    name: str, stand: Stand, tmp_path: Path
) -> None:
    expected = EXPECTED[name]
    client = build_billing(stand.settings)
    accounts: dict[str, str] = {}  # Chargebee customer id -> Account Id
    seen: list[str] = []
    last_reads: list[int] = []  # the interactions the last checkpoint's cycle played
    calls: dict[str, list[str]] = {}  # checkpoint -> the resources the cycle listed, in order
    path = cassette_path(name)

    def checkpoint(label: str, customer_ids: list[str]) -> None:
        assert label in expected, f"{name}: no expectation written for checkpoint {label!r}"
        assert customer_ids == [CUSTOMER], (label, customer_ids)
        for cid in customer_ids:
            if cid not in accounts:
                accounts[cid] = stand.standin.org.insert(
                    "Account", {"Name": f"{name} {cid}", "Chargebee_Customer_Id__c": cid}
                )
        start = len(played)
        stand.standin.reset_counters()
        report = stand.cycle(client)
        assert report.exit_code == 0, (label, report.summary())
        # As recorded: one customer_id[in] listing, not every subscription on the site.
        assert report.strategy == "per_customer", label
        reads = played[start:]
        # Exactly the recorder's reads, in its order: each call the cycle counted was answered
        # by the next recorded interaction, one unbroken run of GETs (subscriptions; customers
        # when there are none; then item prices, items, coupons), the scenario's own calls
        # before and after it.
        assert report.api_calls["chargebee"] == len(reads), (label, report.api_calls)
        assert reads == list(range(reads[0], reads[0] + len(reads))), (label, reads)
        assert {cassette.requests[i].method for i in reads} == {"GET"}, label
        calls[label] = [urlsplit(cassette.requests[i].uri).path.rsplit("/", 1)[1]
                        for i in reads]  # fmt: skip
        last_reads[:] = reads
        assert _writes(stand.standin) == WRITE_CALLS[name].get(label, 2), (
            label, stand.standin.counters)  # fmt: skip
        want_account, want_subs = expected[label]
        for cid in customer_ids:
            account = stand.account(accounts[cid])
            assert account_fields(account) == want_account, label
            assert account["Last_Billing_Sync__c"] is not None, label
            records = stand.subscriptions(cid)
            for r in records:
                assert (r["Account__c"], r["Billing_System__c"]) == (accounts[cid], "Chargebee")
                # A Chargebee record carries no Stripe ids.
                assert (r["Stripe_Customer_Id__c"], r["Stripe_Subscription_Id__c"]) == (None, None)
            got = sorted((subscription_fields(r) for r in records), key=lambda s: s.id)
            assert got == sorted(want_subs, key=lambda s: s.id), label
        # No MRR_MISMATCH notice (nor any other Sync_Error__c): at every checkpoint the MRR
        # Chargebee recorded equals ours exactly (Provider_MRR__c == MRR__c above), never
        # more than the 1% apart that would raise one. The cassettes were recorded against
        # billing-sync's Chargebee stand-in, so this agreement is with the stand-in's MRR.
        assert stand.standin.org.all("Sync_Error__c") == [], label
        seen.append(label)

    with replaying(path, stand) as cassette:
        played = log_plays(cassette)
        SCENARIOS[name](client, checkpoint)
        # Every recorded Chargebee answer was asked for, in the recorded order: the scenario's
        # own calls and the cycles' reads interleave exactly as when it was recorded.
        assert cassette.all_played, f"{name}: recorded requests the cycles never made"
        assert played == list(range(len(cassette))), f"{name}: calls out of recorded order"
    assert seen == list(expected), "every checkpoint ran, in order, and was asserted"
    assert calls == {label: READS[name].get(label, ONE_PLAN) for label in expected}

    # Straight after the last checkpoint, another cycle reads the same answers (replayed from
    # a cassette of just the last cycle's reads) and finds nothing to write.
    after = stand.standin.org.all("Subscription__c"), stand.account(accounts[CUSTOMER])
    idle = _cassette_of(path, last_reads, tmp_path / "idle.yaml")
    stand.standin.reset_counters()
    with replaying(idle, stand) as cassette:
        report = stand.cycle(client)
        assert cassette.all_played, f"{name}: the idle cycle made other calls than the last"
    assert report.exit_code == 0, report.summary()
    assert (report.written, report.accounts_changed, report.subscriptions_changed) == (0, 0, 0)
    assert _writes(stand.standin) == 0, stand.standin.counters
    assert (stand.standin.org.all("Subscription__c"), stand.account(accounts[CUSTOMER])) == after
