"""Shared fixtures: both stand-ins running, our metadata deployed, clients built the way the
CLI builds them (settings → scheduler.clients)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import stripe

from scheduler.clients import SalesforceConnection, build_salesforce, build_stripe
from scheduler.settings import Settings, load_settings


@dataclass
class World:
    stripe_standin: object
    sf_standin: object
    settings: Settings
    stripe: stripe.StripeClient
    conn: SalesforceConnection
    env: dict[str, str]

    def engine(self, clock=None, progress=None, alerter=None, read_only=False):
        from scheduler.wiring import build_engine
        from sync.slack import NullAlerter

        return build_engine(self.settings, billing_client=self.stripe, salesforce=self.conn,
                            alerter=alerter or NullAlerter(), sleep=lambda _s: None,
                            progress=progress, read_only=read_only,
                            **({"clock": clock} if clock else {}))

    def cycle(self, clock=None, progress=None, alerter=None, **kwargs):
        with self.engine(clock, progress, alerter, kwargs.get("dry_run", False)) as engine:
            return engine.run(**kwargs)

    def incremental(self, clock=None, alerter=None):
        with self.engine(clock, None, alerter) as engine:
            return engine.run_incremental()

    def link(self, name: str, customer_id: str) -> str:
        return self.sf_standin.org.insert("Account", {"Name": name,
                                                  "Stripe_Customer_Id__c": customer_id})

    def account(self, account_id: str) -> dict:
        return self.sf_standin.org.get("Account", account_id)

    def subscriptions(self, customer_id: str | None = None) -> list[dict]:
        rows = self.sf_standin.org.all("Subscription__c")
        return [r for r in rows if customer_id is None
                or r["Stripe_Customer_Id__c"] == customer_id]

    def sync_errors(self) -> list[dict]:
        return self.sf_standin.org.all("Sync_Error__c")

    def writes(self) -> int:
        return sum(n for k, n in self.sf_standin.counters.items()
                   if k.startswith(("PATCH", "POST composite", "POST sobjects")))


def start_world(tmp_path: Path):
    from standins.env import stand_in_environment
    from standins.salesforce import SalesforceStandIn
    from standins.stripe import StripeStandIn
    from sync.salesforce_io import deploy

    stripe_standin = StripeStandIn()
    stripe_standin.start()
    sf_standin = SalesforceStandIn(tmp_path / "sf")
    sf_standin.start()
    env = stand_in_environment(stripe_standin, sf_standin, tmp_path / "state.db")
    settings = load_settings(env)
    conn = build_salesforce(settings)
    result = deploy(conn.sf, username=sf_standin.username, poll_interval=0.01)
    assert result.ok, result.table_rows()
    sf_standin.reset_counters()
    return World(stripe_standin, sf_standin, settings, build_stripe(settings), conn, env)


@pytest.fixture
def world(tmp_path):
    w = start_world(tmp_path)
    try:
        yield w
    finally:
        w.sf_standin.stop()
        w.stripe_standin.stop()
