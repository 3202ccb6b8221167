"""Chargebee and Recurly rows of the benchmark (``make bench``): API calls and wall time of the
daemon's cycles at 10,000 customers on the local stand-ins, against a call budget computed
from the seeded data alone (never from what the engine reports).

Not a pytest test (the name does not start with ``test_``). The stand-ins run in this process
(threads) and are seeded straight into their stores (not measured); calls are counted by the
stand-ins themselves. Wall time is the engine's at zero injected latency; the rate-limit floor
beside it is what the provider's published limit makes of the same calls (Chargebee test
sites 150 requests a minute; Recurly sandboxes 400, of which billing-sync uses 80%).

    python -m tests.bench_providers [--provider chargebee|recurly|all] [--customers N]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.clients import build_billing, build_salesforce
from scheduler.settings import Settings, load_settings
from scheduler.wiring import Engine, build_engine
from standins.env import stand_in_environment
from standins.salesforce import SalesforceStandIn
from sync.cycle import SLICE
from sync.salesforce_io import deploy
from sync.slack import NullAlerter

__all__ = ["Row", "main", "run_provider"]

SOQL_PAGE = 2000
COLLECTION = 200
WRITE_PREFIXES = ("PATCH", "POST composite", "POST sobjects", "DELETE")
TOLERANCE = 1.1
# Requests a minute the provider lets billing-sync make (see the module docstring).
RATE = {"chargebee": 150, "recurly": 400 * 0.8}
RESULTS = Path(".bench/providers.md")
# Pages of the change feed an idle window takes: Chargebee's events; Recurly's subscriptions
# and invoices lists.
FEED_PAGES = {"chargebee": 1, "recurly": 2}


@dataclass(frozen=True)
class Row:
    provider: str
    scenario: str
    billing: int
    salesforce: int
    budget_billing: int
    budget_salesforce: int
    written: int
    wall_s: float

    @property
    def ratio(self) -> float:
        return (self.billing + self.salesforce) / max(
            1, self.budget_billing + self.budget_salesforce
        )

    @property
    def rate_floor_s(self) -> float:
        return self.billing / RATE[self.provider] * 60


def _pages(n: int, per: int) -> int:
    return max(1, math.ceil(n / per))


# -- the providers, seeded --------------------------------------------------------------------
@dataclass
class Seeded:
    env: dict[str, str]
    standin: Any
    customers: list[str]
    site_subscriptions: int  # every subscription on the site (what a full listing pages)
    site_accounts: int  # Recurly lists accounts too
    catalog_calls: int  # what the data needs (distinct prices, items, plans, coupons)
    field: str
    # Accounts whose live subscriptions use several currencies: a Validation failure each
    # (MRR left empty), mirrored to Sync_Error__c on the first cycle.
    mixed_currency: int = 0


@contextmanager
def _chargebee(customers: int) -> Iterator[Seeded]:
    from standins.chargebee import ChargebeeStandIn
    from standins.chargebee.seed import seed_bulk

    standin = ChargebeeStandIn(api_key="bench_key", site="bench-test")
    standin.set_time(int(time.time()))
    ids = seed_bulk(standin.store, standin.now(), customers)
    subs = [s for s in standin.store.data["subscription"].values() if not s["deleted"]]
    prices = {i["item_price_id"] for s in subs for i in s["subscription_items"]}
    items = {standin.store.data["item_price"][p]["item_id"] for p in prices}
    coupons = {c["coupon_id"] for s in subs for c in s.get("coupons") or []}
    # Catalog objects are read by ``id[in]``, 100 ids a call, one kind after the other.
    catalog = sum(math.ceil(len(k) / 100) for k in (prices, items, coupons))
    standin.start()
    try:
        yield Seeded(
            {"BILLING_PROVIDER": "chargebee", "CHARGEBEE_SITE": standin.site,
             "CHARGEBEE_API_KEY": standin.api_key, "CHARGEBEE_API_BASE": standin.api_base},
            standin, ids, len(subs), 0, catalog, "Chargebee_Customer_Id__c",
        )  # fmt: skip
    finally:
        standin.stop()


@contextmanager
def _recurly(customers: int) -> Iterator[Seeded]:
    from standins.recurly import RecurlyStandIn
    from standins.recurly.seed import seed_bulk

    standin = RecurlyStandIn(api_key="bench-recurly-key")
    standin.set_time(int(time.time()))
    subscriptions = customers * 12 // 10
    seed_bulk(standin.store, standin.billing, standin.now(), customers, subscriptions)
    accounts = list(standin.store.data["account"].values())
    codes = [a["code"] for a in accounts]
    subs = list(standin.store.data["subscription"].values())
    plans = {s["_plan"] for s in subs}
    currencies: dict[str, set[str]] = {}
    for sub in subs:
        if sub["state"] not in ("expired", "failed"):
            currencies.setdefault(sub["_account"], set()).add(sub["currency"])
    mixed = sum(1 for c in currencies.values() if len(c) > 1)
    # One GET per plan the subscriptions use; coupons none in the seed; plan add-ons are read
    # only for tiered add-ons without their own tiers (none in the seed).
    standin.start(host="127.0.0.1", port=0)
    try:
        yield Seeded(
            {"BILLING_PROVIDER": "recurly", "RECURLY_API_KEY": standin.api_key,
             "RECURLY_API_BASE": standin.base_url},
            standin, codes, len(subs), len(accounts), len(plans), "Recurly_Account_Code__c",
            mixed,
        )  # fmt: skip
    finally:
        standin.stop()


PROVIDERS: dict[str, Callable[[int], Any]] = {"chargebee": _chargebee, "recurly": _recurly}


def _full_budget(
    provider: str, seeded: Seeded, n: int, sf_subs: int, written: tuple[int, ...]
) -> tuple[int, int]:
    """``written``: the records of each object the cycle must write."""
    # The daemon's reconciles first read the change feed's overlap window (one page each).
    feed = FEED_PAGES[provider]
    if provider == "chargebee":
        list_all = _pages(seeded.site_subscriptions, 100)
        per_customer = math.ceil(n / 100)
        billing = feed + min(list_all, per_customer) + seeded.catalog_calls
    else:
        # list_all pages subscriptions and accounts (200 a page) after one HEAD each for the
        # totals; per customer is two GETs each.
        list_all = (
            _pages(seeded.site_subscriptions, 200) + _pages(seeded.site_accounts, 200) + 2
        )
        billing = feed + min(list_all, 2 * n) + seeded.catalog_calls
    # Accounts and Subscription__c pages, the Retry Requested read, the writes (one
    # collection call per 200 records of one object); a reconcile in more than one slice
    # counts the linked Accounts once (SELECT COUNT()).
    salesforce = (
        _pages(n, SOQL_PAGE)
        + _pages(sf_subs, SOQL_PAGE)
        + 1
        + (1 if n >= SLICE else 0)
        + sum(math.ceil(w / COLLECTION) for w in written)
    )
    return billing, salesforce


def run_provider(
    provider: str, customers: int, out: Callable[[str], None] = print, verbose: bool = False
) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-providers-") as scratch, PROVIDERS[provider](
        customers
    ) as seeded, SalesforceStandIn(Path(scratch) / "sf") as sf:
        env = stand_in_environment(None, sf, Path(scratch) / "state.db") | seeded.env
        settings: Settings = load_settings(env)
        conn = build_salesforce(settings)
        assert deploy(conn.sf, username=sf.username, poll_interval=0.01).ok
        sf.org.insert_many(
            "Account", ({"Name": f"Bench {c}", seeded.field: c} for c in seeded.customers)
        )
        client = build_billing(settings)

        def engine() -> Engine:
            return build_engine(settings, billing_client=client, salesforce=conn,
                                alerter=NullAlerter(), sleep=lambda _s: None)  # fmt: skip

        def measure(scenario: str, run: Callable[[Engine], Any], budget: tuple[int, int]) -> Row:
            sf.reset_counters()
            seeded.standin.reset_counters()
            t0 = time.perf_counter()
            with engine() as e:
                report = run(e)
            wall = time.perf_counter() - t0
            written = sum(n for k, n in sf.counters.items() if k.startswith(WRITE_PREFIXES))
            row = Row(provider, scenario, seeded.standin.total_requests(),
                      sum(sf.counters.values()), *budget, report.written, wall)  # fmt: skip
            out(f"{provider} {scenario}: billing {row.billing} / budget {row.budget_billing}, "
                f"Salesforce {row.salesforce} / {row.budget_salesforce} ({written} write calls)"
                f", {row.wall_s:.1f} s")  # fmt: skip
            if verbose:
                out(f"  {seeded.standin.counters}\n  {sf.counters}\n  {dict(report.errors)}")
            return row

        n = len(seeded.customers)
        subs_written = seeded.site_subscriptions
        first = (n, subs_written, seeded.mixed_currency)  # the last: Sync_Error__c records
        rows.append(measure("first full cycle", lambda e: e.run(track_events=True),
                            _full_budget(provider, seeded, n, 0, first)))
        rows.append(measure("unchanged full cycle", lambda e: e.run(track_events=True),
                            _full_budget(provider, seeded, n, subs_written, ())))
        # An idle tick: the change feed (1 Chargebee events page; Recurly subscriptions and
        # invoices) and two SOQL reads (changed Accounts, Sync_Error__c ticked Retry Requested).
        idle = (FEED_PAGES[provider], 2)
        rows.append(measure("idle incremental", lambda e: e.run_incremental(), idle))
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| provider | cycle | billing calls (budget) | Salesforce calls (budget) | ratio | "
        "records written | wall time | rate-limit floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.provider} | {r.scenario} | {r.billing:,} ({r.budget_billing:,}) | "
            f"{r.salesforce:,} ({r.budget_salesforce:,}) | {r.ratio:.2f} | {r.written:,} | "
            f"{r.wall_s:.1f} s | {r.rate_floor_s:.0f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--provider", choices=("chargebee", "recurly", "all"), default="all")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--verbose", action="store_true", help="print calls per endpoint")
    args = parser.parse_args(argv)
    chosen = list(PROVIDERS) if args.provider == "all" else [args.provider]
    rows = [row for p in chosen for row in run_provider(p, args.customers, verbose=args.verbose)]
    text = table(rows)
    print("\n" + text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text + "\n")
    over = [r for r in rows if r.ratio > TOLERANCE]
    for r in over:
        print(f"over budget: {r.provider} {r.scenario} at {r.ratio:.2f}x", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
