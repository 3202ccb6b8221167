"""What ``billing-sync run`` settles before it schedules anything: both services answer, the
org carries our schema (deployed when older or absent, never downgraded), and whether a full
reconcile is due at once.

Anything here that keeps the daemon from starting raises ``CannotStart`` with one line for
stderr; the command exits 3 on it, never with a traceback.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import stripe

from metadata import schema
from metadata.package import PackageSpec
from sync.errors import SyncFailure
from sync.incremental import MAX_CURSOR_AGE
from sync.salesforce_io import deploy, deployed_version
from sync.store import StateStore

from .clients import SalesforceConnection, build_salesforce
from .settings import Settings
from .snapshot import last_finished

__all__ = [
    "CannotStart",
    "connect_salesforce",
    "ensure_schema",
    "full_due",
    "reach_billing",
    "reach_stripe",
]

log = logging.getLogger(__name__)

# A nightly reconcile that has not finished for a day (the daemon was down, or it failed):
# run one at start rather than wait for the next cron time.
FULL_MAX_AGE = timedelta(hours=24)


class CannotStart(Exception):
    """The daemon cannot start; the message is one line."""


def connect_salesforce(settings: Settings) -> SalesforceConnection:
    try:
        return build_salesforce(settings)
    except SyncFailure as exc:
        raise CannotStart(f"cannot reach Salesforce: {exc.message}") from None


def reach_billing(client: Any, settings: Settings) -> None:
    """One list call to the configured provider: the key works and the API answers."""
    if settings.billing_provider == "chargebee":
        from sync.chargebee_io import errors

        try:
            errors.call(lambda: client.Customer.list({"limit": 1}))
        except SyncFailure as exc:
            raise CannotStart(
                f"cannot reach Chargebee site {settings.chargebee_site}: {exc.message}"
            ) from None
        return
    if settings.billing_provider == "recurly":
        from sync.recurly_io import errors as recurly_errors

        try:
            recurly_errors.call(lambda: client.get("/accounts", {"limit": "1"}))
        except SyncFailure as exc:
            raise CannotStart(
                f"cannot reach Recurly at {settings.recurly_api_base}: {exc.message}"
            ) from None
        return
    reach_stripe(client, settings)


def reach_stripe(client: stripe.StripeClient, settings: Settings) -> None:
    """One list call: the key works and the API answers."""
    try:
        client.v1.customers.list(params={"limit": 1})
    except stripe.StripeError as exc:
        why = exc.user_message or type(exc).__name__
        raise CannotStart(
            f"cannot reach Stripe at {settings.stripe_api_base}: {' '.join(str(why).split())}"
        ) from None


def ensure_schema(
    conn: SalesforceConnection,
    settings: Settings,
    *,
    poll_interval: float = 2.0,
    sandbox: bool = False,
) -> str:
    """Deploy our metadata when the org's schema is older or absent; return what was done.

    Versions compare as integers: "10" is newer than "9". A newer org means a newer
    billing-sync deployed it; writing with this one could clear fields it does not know.
    """
    ours = int(schema.SCHEMA_VERSION)
    try:
        found = deployed_version(conn.sf)
    except SyncFailure as exc:
        raise CannotStart(f"cannot read the org's billing-sync schema: {exc.message}") from None
    if found is not None:
        try:
            theirs = int(found)
        except ValueError:
            raise CannotStart(
                f"the org carries billing-sync schema '{found}', which this billing-sync "
                f"(schema v{ours}) cannot compare with its own; it will not deploy over it"
            ) from None
        if theirs == ours:
            return f"schema v{ours} is deployed"
        if theirs > ours:
            raise CannotStart(
                f"the org carries billing-sync schema v{theirs}, newer than this billing-sync's "
                f"v{ours}: upgrade billing-sync (it never downgrades the org's schema)"
            )
    was = f"v{found}" if found else "none"
    log.warning("deploying billing-sync schema v%s (the org has %s)", ours, was)
    try:
        result = deploy(
            conn.sf,
            spec=PackageSpec.current(settings.salesforce_api_version),
            sandbox=sandbox,
            poll_interval=poll_interval,
            progress=log.info,
            username=conn.username,
            identity_url=conn.identity_url,
        )
    except SyncFailure as exc:
        raise CannotStart(f"deploying schema v{ours} failed: {exc.message}") from None
    if not result.ok:
        problems = [f"{c.name}: {c.problem}" for c in result.failures] + list(result.problems)
        first = " ".join((problems[0] if problems else "no detail").split())
        raise CannotStart(
            f"deploying schema v{ours} failed ({result.status}): {first}; "
            "`billing-sync deploy` shows every problem"
        )
    return f"deployed schema v{ours} (the org had {was})"


def full_due(store: StateStore, now: datetime) -> str | None:
    """Why a full reconcile should run at start, or None when the nightly one will do."""
    cursor = store.events_cursor()
    if cursor is None:
        return "no events cursor yet"
    if now - cursor > MAX_CURSOR_AGE:
        return f"the events cursor is {(now - cursor).days} days old"
    done = last_finished(store, "full")
    if done is None:
        return "no full reconcile has finished yet"
    age = now - done["finished_at"]
    if age > FULL_MAX_AGE:
        return f"the last full reconcile finished {age.total_seconds() / 3600:.0f} h ago"
    return None
