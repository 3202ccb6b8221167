"""End to end with Stripe replayed from the recorded cassettes and Salesforce on the stand-in.

Each scenario script in ``tests/stripe_scenarios`` runs again against a Stripe client that can
reach nothing: every Stripe answer comes from ``tests/cassettes/stripe/<scenario>.yaml``. At each
checkpoint one real sync cycle runs against a freshly deployed Salesforce stand-in, making the
same Stripe calls the recorder made (one fresh reader per checkpoint, the same customer ids),
and the Account and Subscription__c records Salesforce ends up holding are compared with values
worked out by hand from the scenario code and the recorded responses.

The dates below are those of the recorded responses: the recorder pins the stand-in's clock to
2026-11-26 12:00 UTC, so re-recording against the stand-in keeps them; cassettes re-recorded
against Stripe test mode carry that day's dates, and these expectations must follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import stripe
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from scheduler.clients import SalesforceConnection, build_salesforce
from scheduler.settings import Settings, load_settings
from scheduler.wiring import build_engine
from standins.salesforce import SalesforceStandIn
from sync.report import CycleReport
from sync.salesforce_io import deploy
from tests.stripe_scenarios import SCENARIOS
from tests.stripe_scenarios.replay import cassette_path, replay_vcr

# `.invalid` never resolves: a Stripe request the cassette cannot answer reaches no server.
STRIPE_BASE = "http://stripe.replay.invalid"
STRIPE_KEY = "sk_test_replay_only"


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
    """One Subscription__c record (Name is checked to hold the plan)."""

    status: str
    plan: str
    mrr: float
    currency: str
    interval: str
    quantity: float
    period_end: str
    cancel_at_period_end: bool = False
    cancel_at: str | None = None
    canceled_at: str | None = None
    ended_at: str | None = None
    trial_end: str | None = None
    started: str = "2026-11-26"


def _plan(scenario: str, label: str) -> str:
    # scenarios.plan() names each product "billing-sync <scenario>: <label>"; the engine
    # shows product names.
    return f"billing-sync {scenario}: {label}"


NO_SUBSCRIPTION = Acct("No Subscription", None, 0.0, None, None)
# Nothing live: no plan, MRR 0.00 with no currency, no renewal (DESIGN A4 rule 8, A5).
CHURNED = Acct("Churned", None, 0.0, None, None)

# Every subscription below started 2026-11-26 (the recorded `start_date`); a monthly period
# ends a month later, 2026-12-26, unless said otherwise.
STARTER = _plan("new_customer", "Starter monthly")
BASIC = _plan("upgrade_plan", "Basic monthly")
PRO = _plan("upgrade_plan", "Pro monthly")
TEAM = _plan("failed_payment", "Team monthly")
CANCEL_BASIC = _plan("cancel", "Basic monthly")
RESUB_BASIC = _plan("resubscribe", "Basic monthly")
TRIAL_PRO = _plan("trial_to_active", "Pro monthly")
YEARLY = _plan("annual_plan", "Business yearly")
# Most valuable item first: seats 3 x 8.00 = 24.00 before storage 5 x 2.00 = 10.00.
MULTI = f"{_plan('multiple_items', 'Seats monthly')}, {_plan('multiple_items', 'Storage monthly')}"
COUPON_PRO = _plan("forever_coupon", "Pro monthly")
YEN = _plan("jpy_customer", "Pro monthly (JPY)")
GONE_BASIC = _plan("deleted_customer", "Basic monthly")

# A hand-written table reads best one expectation to a line or two.
# fmt: off
EXPECTED: dict[str, dict[str, tuple[Acct, list[Sub]]]] = {
    "new_customer": {
        # The customer exists in Stripe with no subscription: not deleted, not unknown.
        "customer created": (NO_SUBSCRIPTION, []),
        # 1900 cents = 19.00 a month.
        "subscribed": (Acct("Active", STARTER, 19.0, "USD", "2026-12-26"),
                       [Sub("active", STARTER, 19.0, "USD", "month", 1, "2026-12-26")]),
    },
    "upgrade_plan": {
        # 1000 cents = 10.00.
        "on basic": (Acct("Active", BASIC, 10.0, "USD", "2026-12-26"),
                     [Sub("active", BASIC, 10.0, "USD", "month", 1, "2026-12-26")]),
        # Same subscription, item swapped to 5000 cents = 50.00; the period is unchanged.
        "upgraded to pro": (Acct("Active", PRO, 50.0, "USD", "2026-12-26"),
                            [Sub("active", PRO, 50.0, "USD", "month", 1, "2026-12-26")]),
    },
    "failed_payment": {
        # 4900 cents = 49.00.
        "active": (Acct("Active", TEAM, 49.0, "USD", "2026-12-26"),
                   [Sub("active", TEAM, 49.0, "USD", "month", 1, "2026-12-26")]),
        # The clock passed the period end: the period rolled to 2026-12-26..2027-01-26 while
        # the renewal charge failed. past_due still counts in MRR (A5) and still renews.
        "renewal failed: past due": (
            Acct("Past Due", TEAM, 49.0, "USD", "2027-01-26"),
            [Sub("past_due", TEAM, 49.0, "USD", "month", 1, "2027-01-26")]),
    },
    "cancel": {
        # Active but set to end at the period end: Canceling (A4 rule 4); MRR still counts
        # until it ends, 1200 cents = 12.00 (A5); no renewal date, it will not renew (A3).
        "scheduled to cancel": (
            Acct("Canceling", CANCEL_BASIC, 12.0, "USD", None),
            [Sub("active", CANCEL_BASIC, 12.0, "USD", "month", 1, "2026-12-26",
                 cancel_at_period_end=True, cancel_at="2026-12-26",
                 canceled_at="2026-11-26")]),
        # Canceled at once: MRR 0 for canceled (A5); the record keeps its last period.
        "canceled": (
            CHURNED,
            [Sub("canceled", CANCEL_BASIC, 0.0, "USD", "month", 1, "2026-12-26",
                 cancel_at_period_end=True, cancel_at="2026-12-26",
                 canceled_at="2026-11-26", ended_at="2026-11-26")]),
    },
    "resubscribe": {
        "churned": (
            CHURNED,
            [Sub("canceled", RESUB_BASIC, 0.0, "USD", "month", 1, "2026-12-26",
                 canceled_at="2026-11-26", ended_at="2026-11-26")]),
        # A second Subscription__c; the canceled one stays as history. 1500 cents = 15.00.
        "resubscribed": (
            Acct("Active", RESUB_BASIC, 15.0, "USD", "2026-12-26"),
            [Sub("active", RESUB_BASIC, 15.0, "USD", "month", 1, "2026-12-26"),
             Sub("canceled", RESUB_BASIC, 0.0, "USD", "month", 1, "2026-12-26",
                 canceled_at="2026-11-26", ended_at="2026-11-26")]),
    },
    "trial_to_active": {
        # 7-day trial from 2026-11-26: MRR 0 while trialing (A5), the trial period ends (and
        # the first charge falls) on 2026-12-03. The live subscription still sets the currency.
        "trialing": (
            Acct("Trialing", TRIAL_PRO, 0.0, "USD", "2026-12-03"),
            [Sub("trialing", TRIAL_PRO, 0.0, "USD", "month", 1, "2026-12-03",
                 trial_end="2026-12-03")]),
        # Clock past the trial: first paid period 2026-12-03..2027-01-03, 3000 cents = 30.00.
        "trial ended: active": (
            Acct("Active", TRIAL_PRO, 30.0, "USD", "2027-01-03"),
            [Sub("active", TRIAL_PRO, 30.0, "USD", "month", 1, "2027-01-03",
                 trial_end="2026-12-03")]),
    },
    "annual_plan": {
        # 120000 cents = 1200.00 a year; 1200.00 / 12 = 100.00 a month; renews in a year.
        "annual subscription": (
            Acct("Active", YEARLY, 100.0, "USD", "2027-11-26"),
            [Sub("active", YEARLY, 100.0, "USD", "year", 1, "2027-11-26")]),
    },
    "multiple_items": {
        # 3 x 8.00 + 5 x 2.00 = 24.00 + 10.00 = 34.00; Quantity__c and Interval__c are those
        # of the most valuable item (seats: 3).
        "two items with quantities": (
            Acct("Active", MULTI, 34.0, "USD", "2026-12-26"),
            [Sub("active", MULTI, 34.0, "USD", "month", 3, "2026-12-26")]),
    },
    "forever_coupon": {
        # 50.00 less a forever 20 % coupon: 50.00 x 0.80 = 40.00.
        "discounted forever": (
            Acct("Active", COUPON_PRO, 40.0, "USD", "2026-12-26"),
            [Sub("active", COUPON_PRO, 40.0, "USD", "month", 1, "2026-12-26")]),
    },
    "jpy_customer": {
        # JPY has no minor unit: unit_amount 10000 is 10,000 yen, not 100.00.
        "yen subscription": (
            Acct("Active", YEN, 10000.0, "JPY", "2026-12-26"),
            [Sub("active", YEN, 10000.0, "JPY", "month", 1, "2026-12-26")]),
    },
    "deleted_customer": {
        # 900 cents = 9.00.
        "active": (Acct("Active", GONE_BASIC, 9.0, "USD", "2026-12-26"),
                   [Sub("active", GONE_BASIC, 9.0, "USD", "month", 1, "2026-12-26")]),
        # Deleting the customer canceled its subscription at once: Churned (A4 rule 8).
        "customer deleted": (
            CHURNED,
            [Sub("canceled", GONE_BASIC, 0.0, "USD", "month", 1, "2026-12-26",
                 canceled_at="2026-11-26", ended_at="2026-11-26")]),
    },
}
# fmt: on


@dataclass
class Stand:
    """The Salesforce stand-in with our metadata deployed, and a local state file."""

    standin: SalesforceStandIn
    conn: SalesforceConnection
    settings: Settings

    def cycle(self, client: stripe.StripeClient) -> CycleReport:
        # The engine as the CLI builds it; its catalog cache starts empty every cycle, as the
        # recorder's did every checkpoint, so it makes the recorded calls again.
        with build_engine(self.settings, billing_client=client, salesforce=self.conn,
                          sleep=lambda _s: None) as engine:
            return engine.run()

    def account(self, account_id: str) -> dict:
        return self.standin.org.get("Account", account_id)

    def subscriptions(self, customer_id: str) -> list[dict]:
        return [
            r
            for r in self.standin.org.all("Subscription__c")
            if r["Stripe_Customer_Id__c"] == customer_id
        ]


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    standin = SalesforceStandIn(tmp_path / "sf")
    standin.start()
    try:
        settings = load_settings(
            {
                "STRIPE_API_KEY": STRIPE_KEY,
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


def replay_client() -> stripe.StripeClient:
    return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": STRIPE_BASE})


def replaying(scenario: str, stand: Stand):
    """Replay Stripe from the cassette and let Salesforce traffic through to the stand-in.

    vcr's ``ignore_localhost`` cannot tell the two apart: it also runs over the interactions
    it loads, and those were recorded against a Stripe stand-in on 127.0.0.1, so it would drop
    them all. Only the Salesforce stand-in's own scheme, host and port are let through.
    """
    path = cassette_path(scenario)
    assert path.exists(), f"missing cassette {path}: run `make cassettes`"
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
        record["Status__c"],
        record["Plan__c"],
        record["MRR__c"],
        record["Currency__c"],
        record["Interval__c"],
        record["Quantity__c"],
        record["Current_Period_End__c"],
        record["Cancel_At_Period_End__c"],
        record["Cancel_At__c"],
        record["Canceled_At__c"],
        record["Ended_At__c"],
        record["Trial_End__c"],
        record["Started_At__c"],
    )


def _in_order(subs: list[Sub]) -> list[Sub]:
    return sorted(subs, key=lambda s: (s.status, s.started, s.plan))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_syncs_to_the_exact_salesforce_records(name: str, stand: Stand) -> None:
    expected = EXPECTED[name]
    client = replay_client()
    accounts: dict[str, str] = {}  # Stripe customer id -> Account Id
    seen: list[str] = []

    def checkpoint(label: str, customer_ids: list[str]) -> None:
        assert label in expected, f"{name}: no expectation written for checkpoint {label!r}"
        for cid in customer_ids:
            if cid not in accounts:
                accounts[cid] = stand.standin.org.insert(
                    "Account", {"Name": f"{name} {cid}", "Stripe_Customer_Id__c": cid}
                )
        report = stand.cycle(client)
        assert report.exit_code == 0, (label, report.summary())
        assert report.strategy == "per_customer"  # as recorded: one listing per customer
        want_account, want_subs = expected[label]
        for cid in customer_ids:
            account = stand.account(accounts[cid])
            assert account_fields(account) == want_account, label
            assert account["Last_Billing_Sync__c"] is not None, label
            records = stand.subscriptions(cid)
            assert all(r["Account__c"] == accounts[cid] for r in records), label
            got = _in_order([subscription_fields(r) for r in records])
            assert got == _in_order(want_subs), label
        assert stand.standin.org.all("Sync_Error__c") == [], label
        seen.append(label)

    with replaying(name, stand) as cassette:
        SCENARIOS[name](client, checkpoint)
        # Every recorded Stripe answer was asked for: the cycles made the recorder's calls.
        assert cassette.all_played, f"{name}: recorded requests the cycles never made"
    assert seen == list(expected), "every checkpoint ran, in order, and was asserted"


def test_a_stripe_request_with_no_recorded_answer_fails_loudly(stand: Stand) -> None:
    client = replay_client()
    linked: dict[str, str] = {}

    def checkpoint(label: str, customer_ids: list[str]) -> None:
        for cid in customer_ids:
            if cid not in linked:
                linked[cid] = stand.standin.org.insert(
                    "Account", {"Name": "Acme", "Stripe_Customer_Id__c": cid}
                )
        assert stand.cycle(client).exit_code == 0

    with replaying("new_customer", stand):
        SCENARIOS["new_customer"](client, checkpoint)
        [(cid, account_id)] = linked.items()
        before = stand.account(account_id)
        # The cassette is used up: a further listing has no recorded answer. vcr refuses it and
        # stripe-python reports that as a connection error naming vcr's exception.
        with pytest.raises(
            stripe.APIConnectionError, match=CannotOverwriteExistingCassetteException.__name__
        ):
            client.v1.subscriptions.list({"customer": cid, "status": "all"})
        # A whole cycle then stops with exit code 1 and changes nothing in Salesforce.
        report = stand.cycle(client)
    assert report.exit_code == 3 and "Stripe" in (report.stopped or ""), report.summary()
    assert report.written == 0
    assert stand.account(account_id) == before
    # ...and says so where admins look.
    [error] = stand.standin.org.all("Sync_Error__c")
    assert (error["Category__c"], error["Status__c"]) == ("Stripe", "Open"), error
