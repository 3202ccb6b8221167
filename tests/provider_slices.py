"""A full reconcile of a Chargebee or Recurly site read in slices of Accounts, next to the same
reconcile in one slice: two freshly deployed Salesforce stand-ins linked alike to one billing
stand-in, so what each run writes can be compared record for record (shared by the Chargebee
and Recurly slice tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from metadata.billing_systems import billing_system
from tests.provider_world import deployed_salesforce

__all__ = ["Org", "link_all", "orgs", "outcome", "run_full", "state", "stopped"]

# Stamped by the org itself when it saves, or (a failure's next retry) jittered at random:
# not what slicing decides.
SYSTEM_FIELDS = frozenset(
    {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "Next_Retry__c"}
)
UNSLICED = 1_000_000


@dataclass
class Org:
    sf: Any
    env: dict[str, str]


@contextmanager
def orgs(tmp_path: Path, provider_env: dict[str, str], n: int = 2) -> Iterator[list[Org]]:
    """``n`` deployed Salesforce stand-ins, each with its own engine state file."""
    with ExitStack() as stack:
        made = []
        for i in range(n):
            where = tmp_path / f"org{i}"
            where.mkdir()
            sf, env = stack.enter_context(deployed_salesforce(where, provider_env))
            made.append(Org(sf, env))
        yield made


def link_all(org: Org, provider: str, pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Accounts (name, customer id) in this order (their Ids ascend with it): name -> Id."""
    field = billing_system(provider).account_field
    ids = org.sf.org.insert_many("Account", ({"Name": n, field: c} for n, c in pairs))
    return {name: rid for (name, _c), rid in zip(pairs, ids, strict=True)}


def run_full(
    org: Org, now: int, *, slice_size: int = UNSLICED, listed_total: int | None = None
) -> Any:
    """One full reconcile at the billing stand-in's time ``now``, in slices of ``slice_size``
    Accounts; ``listed_total``: the site-wide subscription count a previous listing saw."""
    from scheduler.clients import build_billing, build_salesforce
    from scheduler.settings import load_settings
    from scheduler.wiring import build_engine
    from sync.cycle import TOTAL_CURSOR
    from sync.slack import NullAlerter

    settings = load_settings(org.env)
    with build_engine(
        settings,
        billing_client=build_billing(settings),
        salesforce=build_salesforce(settings),
        alerter=NullAlerter(),
        clock=lambda: datetime.fromtimestamp(now, UTC),
        sleep=lambda _s: None,
    ) as engine:
        if listed_total is not None:
            engine.cycle.store.set_cursor(TOTAL_CURSOR, str(listed_total))
        engine.cycle.slice_size = slice_size
        return engine.run()


def state(org: Org) -> dict[str, list[tuple[tuple[str, Any], ...]]]:
    """Every Account, Subscription__c and Sync_Error__c as the engine left them, Account Ids
    given as the Account's name (so two orgs compare whatever Ids they handed out)."""
    names = {a["Id"]: a["Name"] for a in org.sf.org.all("Account")}

    def norm(record: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        return tuple(
            sorted(
                (k, names.get(v, v) if isinstance(v, str) else v)
                for k, v in record.items()
                if k not in SYSTEM_FIELDS
            )
        )

    return {
        sobject: sorted((norm(r) for r in org.sf.org.all(sobject)), key=repr)
        for sobject in ("Account", "Subscription__c", "Sync_Error__c")
    }


def outcome(report: Any) -> tuple[Any, ...]:
    """What a reconcile's report says it did, less what depends on the slicing itself."""
    return (
        report.exit_code,
        report.strategy,
        report.accounts_read,
        report.accounts_matched,
        report.accounts_changed,
        report.subscriptions_changed,
        report.written,
        dict(report.errors),
        None if report.stop is None else (report.stop.category, report.stop.code),
    )


def stopped(report: Any) -> tuple[Any, ...]:
    """How a reconcile that stopped ended: its exit code, what stopped it, what it wrote."""
    stop = report.stop
    return (
        report.exit_code,
        None if stop is None else (stop.category, stop.code, stop.message),
        report.written,
        dict(report.errors),
    )
