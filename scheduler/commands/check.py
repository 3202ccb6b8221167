"""``billing-sync check``: validate the configuration and reach each service once."""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

import stripe

from metadata.schema import Category
from scheduler.settings import ConfigError
from sync.errors import SyncFailure

if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce

    from scheduler.clients import SalesforceConnection
    from scheduler.context import Context
    from scheduler.settings import Settings

NAME = "check"
HELP = (
    "Validate the configuration and reach the billing provider (Stripe, Chargebee or Recurly), "
    "Salesforce and the local database once."
)

__all__ = ["HELP", "NAME", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offline", action="store_true", help="only validate the configuration; contact no service"
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings  # raises ConfigError -> exit 2
    provider = settings.billing_provider
    billing = {
        "chargebee": f"Chargebee site {settings.chargebee_site}",
        "recurly": f"Recurly at {settings.recurly_api_base}",
    }.get(provider, f"Stripe {settings.stripe_mode} mode")
    rows: list[tuple[str, str, str]] = [
        ("configuration", "ok", f"Salesforce auth: {settings.salesforce_auth}; {billing}")
    ]
    checks: list[tuple[str, Callable[[], str]]] = [("database", lambda: _database(settings))]
    if not args.offline:
        reach: dict[str, Callable[[], str]] = {
            "chargebee": lambda: _chargebee(ctx),
            "recurly": lambda: _recurly(ctx),
            "stripe": lambda: _stripe(ctx),
        }
        checks += [(provider, reach[provider]), ("salesforce", lambda: _salesforce(ctx))]
    for service, check in checks:
        try:
            rows.append((service, "ok", check()))
        except SyncFailure as exc:
            rows.append((service, "FAILED", exc.message))
        except ConfigError as exc:  # found only on contact: a CA that does not verify
            rows.append((service, "FAILED", str(exc)))
        except (stripe.StripeError, OSError, sqlite3.Error) as exc:
            rows.append((service, "FAILED", f"{type(exc).__name__}: {exc}"))
    slack = "configured (no message sent)" if settings.slack_enabled else "not configured"
    rows.append(("slack", "ok", slack))
    ok = all(r[1] == "ok" for r in rows)
    if args.json:
        services = [{"service": n, "status": st.lower(), "detail": d} for n, st, d in rows]
        ctx.out(json.dumps({"ok": ok, "services": services}, indent=2))
    else:
        ctx.out(ctx.table(("service", "status", "detail"), rows))
    return 0 if ok else 1


def _database(settings: Settings) -> str:
    """Opens the state file as a cycle would (schema version, corruption) and proves it can be
    written: a write transaction is taken and rolled back."""
    from sync.store import StateStore, StoreError

    existed = settings.db_path.exists()
    try:
        with StateStore(settings.db_path) as store:
            conn = store.db.conn
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO cursors (name, value) VALUES ('check', 'x')")
            conn.execute("ROLLBACK")
    except (StoreError, sqlite3.Error) as exc:
        raise SyncFailure(str(exc), category=Category.CONFIGURATION) from None
    return f"{settings.db_path} is writable" + ("" if existed else " (created)")


def _stripe(ctx: Context) -> str:
    client = ctx.stripe()
    client.v1.customers.list(params={"limit": 1})
    return (
        f"reached {ctx.settings.stripe_api_base}, API version {stripe.api_version}, "
        f"{ctx.settings.stripe_mode} mode"
    )


def _chargebee(ctx: Context) -> str:
    """One customer listing, through the adapter's error table (read-only keys suffice)."""
    from scheduler.clients import build_chargebee
    from sync.chargebee_io import errors

    client = build_chargebee(ctx.settings)
    errors.call(lambda: client.Customer.list({"limit": 1}))
    return f"reached site {ctx.settings.chargebee_site} at {client.env.api_endpoint}"


def _recurly(ctx: Context) -> str:
    """One account listing of one record, through the adapter's error table: the cheapest
    read that proves the key, the site and the pinned API version (406 otherwise)."""
    from scheduler.clients import build_recurly
    from sync.recurly_io import errors
    from sync.recurly_io.http import API_VERSION

    http = build_recurly(ctx.settings)
    try:
        errors.call(lambda: http.get("/accounts", {"limit": "1"}))
    finally:
        http.close()
    return f"reached {http.base_url}, API version {API_VERSION}"


def _salesforce(ctx: Context) -> str:
    conn = ctx.salesforce()
    sf = conn.sf
    root = sf.base_url.split("/services/")[0]
    versions = [
        v["version"] for v in conn.http.get(f"{root}/services/data/", headers=sf.headers).json()
    ]
    wanted = ctx.settings.salesforce_api_version
    if wanted not in versions:
        raise SyncFailure(
            f"the org does not offer API {wanted} (latest: {versions[-1]})",
            category=Category.CONFIGURATION,
        )
    user = _user(conn)
    return (
        f"{root}, API {wanted} (org latest {versions[-1]}), user {user}, "
        f"metadata {_metadata_state(sf)}"
    )


def _metadata_state(sf: Salesforce) -> str:
    from metadata import schema
    from sync.salesforce_io import deployed_version

    deployed = deployed_version(sf)
    if deployed is None:
        return "not deployed (run billing-sync deploy)"
    if deployed != schema.SCHEMA_VERSION:
        return (
            f"deployed v{deployed}, this release has v{schema.SCHEMA_VERSION} "
            "(run billing-sync deploy)"
        )
    return f"deployed v{deployed} (current)"


def _user(conn: SalesforceConnection) -> str:
    if conn.username:
        return conn.username
    if conn.identity_url:
        user_id = conn.identity_url.rstrip("/").rsplit("/", 1)[-1]
        from simple_salesforce.format import format_soql

        rows = conn.sf.query(format_soql("SELECT Username FROM User WHERE Id = {}", user_id))
        if rows["records"]:
            username: str = rows["records"][0]["Username"]
            return username
    return "unknown (direct token)"
