"""A freshly deployed Salesforce stand-in for a billing provider's end-to-end tests, and the
few reads they make of it (shared by the Chargebee and Recurly ones)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from metadata.billing_systems import billing_system

__all__ = ["deployed_salesforce", "link", "subscriptions", "writes"]

WRITE_PREFIXES = ("PATCH", "POST composite", "POST sobjects")


@contextmanager
def deployed_salesforce(tmp_path: Path, provider_env: dict[str, str]) -> Iterator[tuple[Any, dict]]:
    """(the Salesforce stand-in with schema v2 deployed, the CLI's environment for both)."""
    from scheduler.clients import build_salesforce
    from scheduler.settings import load_settings
    from standins.env import stand_in_environment
    from standins.salesforce import SalesforceStandIn
    from sync.salesforce_io import deploy

    sf = SalesforceStandIn(tmp_path / "sf")
    sf.start()
    try:
        env = stand_in_environment(None, sf, tmp_path / "state.db") | provider_env
        conn = build_salesforce(load_settings(env))
        assert deploy(conn.sf, username=sf.username, poll_interval=0.01).ok
        yield sf, env
    finally:
        sf.stop()


def link(sf: Any, provider: str, name: str, customer_id: str) -> str:
    """An Account linked to ``customer_id`` through the provider's match field."""
    field = billing_system(provider).account_field
    return sf.org.insert("Account", {"Name": name, field: customer_id})


def writes(sf: Any) -> int:
    return sum(n for k, n in sf.counters.items() if k.startswith(WRITE_PREFIXES))


def subscriptions(sf: Any, provider: str) -> dict[str, dict[str, Any]]:
    """Subscription__c records by the provider's subscription id."""
    key = billing_system(provider).subscription_key
    return {r[key]: r for r in sf.org.all("Subscription__c")}
