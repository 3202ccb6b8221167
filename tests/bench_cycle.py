"""Cycle benchmark (``make bench``): API calls and wall time of a full reconcile at
10,000 Accounts / 12,000 subscriptions on the local stand-ins, next to a naive per-Account
integration and the call budget of DESIGN A6.

Not a pytest test (the name does not start with ``test_``); ``tests/test_bench_smoke.py`` runs
the same code path at a small size. Calls are counted by the stand-ins themselves (ground
truth) and compared with what the engine reports. Seeding bypasses the APIs and is not
measured; each stand-in sleeps a fixed latency per request to make call counts cost time.

    python -m tests.bench_cycle [--accounts N] [--subscriptions S] [--naive-sample K]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.core import map_customer
from sync.core.diff import to_salesforce
from sync.core.mapping import SUBSCRIPTION_KEY
from sync.salesforce_io.gateway import BATCH
from sync.stripe_io.source import PAGE, StripeSource
from tests.conftest import World, start_world

__all__ = ["BenchResult", "Budget", "Measure", "main", "run_benchmark"]

SF_LATENCY = 0.02  # seconds per Salesforce request: a fast org on the same continent
STRIPE_LATENCY = 0.01  # seconds per Stripe request
SOQL_BATCH = 2000
CHANGED_SHARE = 0.01
BUDGET_TOLERANCE = 1.1
NAIVE_FACTOR_GOAL = 100
RESULTS = Path(".bench/results.md")
WRITE_PREFIXES = ("PATCH", "POST composite", "POST sobjects", "DELETE")


@dataclass(frozen=True)
class Budget:
    """DESIGN A6's call budget for one cycle, line by line."""

    account_pages: int
    subscription_pages: int
    error_read: int  # the engine's read of open Sync_Error__c: not in A6's formula
    stripe_pages: int
    catalog_lookups: int
    customer_lookups: int
    writes: int
    error_records: int = 0  # Sync_Error__c records among W, mirrored by the engine

    @property
    def salesforce(self) -> int:
        return self.account_pages + self.subscription_pages + self.error_read + self.writes

    @property
    def stripe(self) -> int:
        return self.stripe_pages + self.catalog_lookups + self.customer_lookups

    @property
    def total(self) -> int:
        return self.salesforce + self.stripe

    def lines(self) -> list[str]:
        return [
            f"SOQL Account pages ceil(N/2000) = {self.account_pages}",
            f"SOQL Subscription__c pages ceil(S_sf/2000), at least 1 = "
            f"{self.subscription_pages}",
            f"SOQL open Sync_Error__c read (engine, not in A6's formula) = {self.error_read}",
            f"Stripe list pages min(ceil(S/100), per customer) = {self.stripe_pages}",
            f"Stripe product/price/coupon lookups (cached) = {self.catalog_lookups}",
            f"Stripe lookups of customers without subscriptions = {self.customer_lookups}",
            f"writes ceil(W/200) = {self.writes} (W includes {self.error_records} "
            "Sync_Error__c records)",
        ]


def a6_budget(*, accounts: int, sf_subscriptions: int, stripe_subscriptions: int,
              catalog_lookups: int, customers_without_subs: int, written: int,
              error_records: int = 0) -> Budget:
    """A query that returns no rows is still one call, hence the ``max(1, …)``."""
    list_all = math.ceil(max(stripe_subscriptions, 1) / PAGE)
    per_customer = accounts  # one listing each; a customer with > 100 subs would add pages
    return Budget(
        account_pages=max(1, math.ceil(accounts / SOQL_BATCH)),
        subscription_pages=max(1, math.ceil(sf_subscriptions / SOQL_BATCH)),
        error_read=1,
        stripe_pages=min(list_all, per_customer),
        catalog_lookups=catalog_lookups,
        customer_lookups=customers_without_subs,
        writes=math.ceil((written + error_records) / BATCH),
        error_records=error_records,
    )


@dataclass
class Measure:
    scenario: str
    salesforce: int
    stripe: int
    wall_s: float
    written: int
    budget: Budget | IncrementalBudget | None = None
    reported: dict[str, int] = field(default_factory=dict)  # the engine's own report.api_calls
    sf_counters: dict[str, int] = field(default_factory=dict)
    stripe_counters: dict[str, int] = field(default_factory=dict)
    note: str = ""

    @property
    def total(self) -> int:
        return self.salesforce + self.stripe

    @property
    def budget_ratio(self) -> float | None:
        return self.total / self.budget.total if self.budget else None


@dataclass
class BenchResult:
    accounts: int
    subscriptions: int
    sf_latency: float
    stripe_latency: float
    cycles: list[Measure]
    naive_sample: Measure
    naive_full: Measure  # extrapolated from the sample
    setup_s: float
    incremental: list[Measure] = field(default_factory=list)

    @property
    def first(self) -> Measure:
        return self.cycles[0]

    @property
    def unchanged(self) -> Measure:
        return self.cycles[1]

    def naive_ratio(self, m: Measure) -> float:
        return self.naive_full.total / max(m.total, 1)

    def goals(self) -> list[tuple[str, bool, str]]:
        out = []
        for m in self.cycles:
            assert m.budget is not None
            ok = m.total <= BUDGET_TOLERANCE * m.budget.total
            why = "" if ok else _over_budget(m)
            out.append((f"{m.scenario}: calls within {BUDGET_TOLERANCE}x of the A6 budget "
                        f"({m.total} vs {m.budget.total}, {m.budget_ratio:.2f}x)", ok, why))
        for m in (self.first, self.unchanged):
            ratio = self.naive_ratio(m)
            out.append((f"{m.scenario}: >= {NAIVE_FACTOR_GOAL}x fewer calls than naive "
                        f"({ratio:.0f}x)", ratio >= NAIVE_FACTOR_GOAL, ""))
        u = self.unchanged
        writes = sum(n for k, n in u.sf_counters.items() if k.startswith(WRITE_PREFIXES))
        out.append((f"{u.scenario}: writes nothing ({u.written} records, {writes} write "
                     f"calls)", u.written == 0 and writes == 0, ""))
        for m in self.incremental:
            assert m.budget is not None
            idle = m.budget.total <= 4
            # An idle tick: at most 4 calls, nothing written. Otherwise the same tolerance as
            # a full cycle's (events pages depend on how the overlap window falls).
            ok = (m.total <= 4 and m.written == 0) if idle else (
                m.total <= BUDGET_TOLERANCE * m.budget.total)
            out.append((f"{m.scenario}: calls within the incremental budget "
                        f"({m.total} vs {m.budget.total})", ok, m.note))
        for m in [*self.cycles, *self.incremental]:
            agrees = m.reported == {"salesforce": m.salesforce, "stripe": m.stripe}
            out.append((f"{m.scenario}: engine's report.api_calls matches the stand-ins' "
                        f"counters ({m.reported})", agrees, ""))
        return out


def _over_budget(m: Measure) -> str:
    assert m.budget is not None
    b = m.budget
    sf_reads = sum(n for k, n in m.sf_counters.items() if k.startswith("GET query"))
    sf_writes = sum(n for k, n in m.sf_counters.items() if k.startswith(WRITE_PREFIXES))
    parts = []
    if sf_reads > b.account_pages + b.subscription_pages + b.error_read:
        parts.append(f"SOQL {sf_reads} > {b.account_pages + b.subscription_pages + 1}")
    if sf_writes > b.writes:
        parts.append(f"Salesforce writes {sf_writes} > {b.writes}")
    if m.stripe > b.stripe:
        parts.append(f"Stripe {m.stripe} > {b.stripe} ({m.stripe_counters})")
    return "; ".join(parts)


# -- world setup ------------------------------------------------------------------------------
def seed(world: World, accounts: int, subscriptions: int) -> list[str]:
    customer_ids = world.stripe_standin.seed_bulk(customers=accounts, subscriptions=subscriptions)
    world.sf_standin.org.insert_many("Account", (
        {"Name": f"Bench Account {i + 1}", "Stripe_Customer_Id__c": cid}
        for i, cid in enumerate(customer_ids)
    ))
    return customer_ids


def change_subscriptions(world: World, share: float, rng: random.Random) -> tuple[int, int]:
    """Change ``share`` of all subscriptions through the public Stripe API: three in four get
    a new quantity, the rest are canceled now. Returns (quantity changes, cancellations)."""
    subs = world.stripe_standin.store.data["subscription"]
    active = sorted(sid for sid, s in subs.items() if s["status"] == "active")
    n = max(1, round(len(subs) * share))
    chosen = rng.sample(active, n)
    cancels = n // 4
    for sid in chosen[:cancels]:
        world.stripe.v1.subscriptions.cancel(sid)
    for sid in chosen[cancels:]:
        sub = world.stripe.v1.subscriptions.retrieve(sid)
        item = sub["items"]["data"][0]
        world.stripe.v1.subscriptions.update(sid, params={
            "items": [{"id": item["id"], "quantity": int(item["quantity"] or 1) + 3}],
            "proration_behavior": "none",
        })
    return n - cancels, cancels


def reset_counters(world: World) -> None:
    world.sf_standin.reset_counters()
    world.stripe_standin.reset_counters()


def sf_api_counters(world: World) -> dict[str, int]:
    return {k: v for k, v in world.sf_standin.counters.items() if k != "POST oauth2/token"}


# -- the engine ----------------------------------------------------------------------------
def _error_stamps(world: World) -> dict[str, Any]:
    return {r["Id"]: r["SystemModstamp"] for r in world.sf_standin.org.all("Sync_Error__c")}


def measure_cycle(world: World, scenario: str, *, accounts: int) -> Measure:
    sf_subs_before = world.sf_standin.org.count("Subscription__c")
    errors_before = _error_stamps(world)
    reset_counters(world)
    t0 = time.perf_counter()
    report = world.cycle()
    wall = time.perf_counter() - t0
    if report.stopped:
        raise RuntimeError(f"{scenario}: the cycle stopped: {report.stopped}")
    # Sync_Error__c records the cycle wrote: the engine's report counts only billing records.
    error_records = sum(1 for rid, stamp in _error_stamps(world).items()
                        if errors_before.get(rid) != stamp)
    stripe_counters = world.stripe_standin.counters
    stripe_total = len(world.stripe_standin.store.data["subscription"])
    catalog = sum(n for k, n in stripe_counters.items()
                  if k.split(" ")[1].startswith(("/v1/products", "/v1/prices", "/v1/coupons")))
    customers = sum(n for k, n in stripe_counters.items() if k.startswith("GET /v1/customers"))
    budget = a6_budget(accounts=accounts, sf_subscriptions=sf_subs_before,
                       stripe_subscriptions=stripe_total, catalog_lookups=catalog,
                       customers_without_subs=customers, written=report.written,
                       error_records=error_records)
    return Measure(scenario, world.sf_standin.api_calls(), world.stripe_standin.total_requests(),
                   wall, report.written + error_records, budget, dict(report.api_calls),
                   sf_api_counters(world), stripe_counters,
                   note=f"strategy {report.strategy}; failures seen "
                        f"{ {str(k): v for k, v in report.errors.items()} }; "
                        f"{error_records} Sync_Error__c records written")


@dataclass(frozen=True)
class IncrementalBudget:
    """An incremental tick: events pages, the changed-Accounts and Retry Requested reads, and
    for K dirty customers their Accounts and Subscription__c (500 ids a query), one Stripe
    listing each (or the account-wide listing when cheaper), the catalog, ceil(W/200) writes.
    Idle: 4 calls at most."""

    dirty: int
    written: int
    catalog: int

    @property
    def total(self) -> int:
        if not self.dirty:
            return 4
        reads = 2 * math.ceil(self.dirty / 500)
        return 1 + 2 + reads + self.dirty + self.catalog + math.ceil(self.written / 200) + 2

    def lines(self) -> list[str]:
        return [f"dirty customers {self.dirty}", f"records written {self.written}",
                f"catalog lookups {self.catalog}", f"total {self.total}"]


def measure_incremental(world: World, scenario: str) -> Measure:
    reset_counters(world)
    t0 = time.perf_counter()
    report = world.incremental()
    wall = time.perf_counter() - t0
    if report.stopped or report.needs_full:
        raise RuntimeError(f"{scenario}: {report.stopped or report.needs_full}")
    stripe_counters = world.stripe_standin.counters
    catalog = sum(n for k, n in stripe_counters.items()
                  if k.split(" ")[1].startswith(("/v1/products", "/v1/prices", "/v1/coupons")))
    budget = IncrementalBudget(report.dirty, report.written, catalog)
    return Measure(scenario, world.sf_standin.api_calls(), world.stripe_standin.total_requests(),
                   wall, report.written, budget, dict(report.api_calls),
                   sf_api_counters(world), stripe_counters,
                   note=f"{report.events} events, {report.dirty} customers re-read")


# -- the naive integration ---------------------------------------------------------------------
def naive_sync(world: World, account_rows: list[dict[str, Any]],
               now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """The integration A6 compares against: per Account one Stripe listing of its
    subscriptions (status=all), one Account update by Id and one upsert per subscription,
    no diff. Products are cached across Accounts (one listing), to be fair to it."""
    source = StripeSource(world.stripe, sleep=lambda _s: None)
    sf = world.conn.sf
    subscription = sf.Subscription__c
    written = 0
    for row in account_rows:
        cid = row["Stripe_Customer_Id__c"]
        snapshot = source.fetch([cid])  # one customer: one list call, per_customer strategy
        mapping = map_customer(cid, snapshot.customers.get(cid), row["Id"], now())
        for sub in mapping.subscriptions:
            fields = {**sub.fields, **sub.stamps}
            body = {k: to_salesforce(v) for k, v in fields.items() if k != SUBSCRIPTION_KEY}
            subscription.upsert(f"{SUBSCRIPTION_KEY}/{sub.key}", body)
            written += 1
        acct = {**mapping.account.fields, **mapping.account.stamps}
        sf.Account.update(row["Id"], {k: to_salesforce(v) for k, v in acct.items()})
        written += 1
    return written


def measure_naive(world: World, sample: int, accounts: int) -> tuple[Measure, Measure]:
    rows = sorted(world.sf_standin.org.all("Account"), key=lambda r: r["Id"])[:sample]
    reset_counters(world)
    t0 = time.perf_counter()
    written = naive_sync(world, rows)
    wall = time.perf_counter() - t0
    measured = Measure(f"naive, measured on {len(rows)} Accounts", world.sf_standin.api_calls(),
                       world.stripe_standin.total_requests(), wall, written,
                       sf_counters=sf_api_counters(world),
                       stripe_counters=world.stripe_standin.counters)
    k = accounts / max(len(rows), 1)
    full = Measure(f"naive, EXTRAPOLATED to {accounts:,} Accounts (x{k:g})",
                   round(measured.salesforce * k), round(measured.stripe * k), wall * k,
                   round(written * k), note="extrapolated, not measured")
    return measured, full


# -- the run --------------------------------------------------------------------------------
def run_benchmark(workdir: Path, *, accounts: int = 10_000, subscriptions: int = 12_000,
                  naive_sample: int = 500, sf_latency: float = SF_LATENCY,
                  stripe_latency: float = STRIPE_LATENCY,
                  log: Callable[[str], Any] = lambda _m: None) -> BenchResult:
    t0 = time.perf_counter()
    world = start_world(workdir)
    try:
        seed(world, accounts, subscriptions)
        setup = time.perf_counter() - t0
        log(f"seeded {accounts:,} Accounts and {subscriptions:,} subscriptions in {setup:.1f} s")
        world.sf_standin.set_latency(sf_latency)
        world.stripe_standin.set_latency(stripe_latency)
        cycles = [measure_cycle(world, "1. first full cycle", accounts=accounts)]
        log(f"cycle 1: {cycles[0].total} calls, {cycles[0].wall_s:.1f} s")
        cycles.append(measure_cycle(world, "2. unchanged cycle", accounts=accounts))
        log(f"cycle 2: {cycles[1].total} calls, {cycles[1].wall_s:.1f} s")
        # The change itself is not measured: no latency, counters reset by measure_cycle.
        world.stripe_standin.set_latency(0)
        qty, canceled = change_subscriptions(world, CHANGED_SHARE, random.Random(6))
        world.stripe_standin.set_latency(stripe_latency)
        cycles.append(measure_cycle(world, f"3. after 1% changed ({qty} quantity, "
                                    f"{canceled} canceled)", accounts=accounts))
        log(f"cycle 3: {cycles[2].total} calls, {cycles[2].wall_s:.1f} s")
        # The daemon ticks every minute: one tick catches up on the events of the 1% change
        # (they fall inside the overlap window), then the next has nothing to do.
        world.incremental()
        incremental = [measure_incremental(world, "4. incremental, nothing changed")]
        world.stripe_standin.set_latency(0)
        qty2, canceled2 = change_subscriptions(world, CHANGED_SHARE, random.Random(7))
        world.stripe_standin.set_latency(stripe_latency)
        incremental.append(measure_incremental(
            world, f"5. incremental after 1% changed ({qty2} quantity, {canceled2} canceled)"))
        log(f"incremental: {incremental[0].total} and {incremental[1].total} calls")
        sample, full = measure_naive(world, naive_sample, accounts)
        log(f"naive sample: {sample.total} calls, {sample.wall_s:.1f} s")
    finally:
        world.sf_standin.stop()
        world.stripe_standin.stop()
    return BenchResult(accounts, subscriptions, sf_latency, stripe_latency, cycles, sample,
                       full, setup, incremental)


def render(r: BenchResult) -> str:
    head = ("| scenario | Salesforce calls | Stripe calls | total | A6 budget | ratio to budget "
            "| records written | wall time |")
    rows = [head, "|" + "---|" * 8]
    for m in [*r.cycles, *r.incremental, r.naive_sample, r.naive_full]:
        budget = f"{m.budget.total}" if m.budget else "-"
        ratio = f"{m.budget_ratio:.2f}x" if m.budget_ratio is not None else "-"
        rows.append(f"| {m.scenario} | {m.salesforce:,} | {m.stripe:,} | {m.total:,} | {budget} "
                    f"| {ratio} | {m.written:,} | {m.wall_s:.1f} s |")
    lines = [
        f"Stand-ins: {r.accounts:,} linked Accounts, {r.subscriptions:,} Stripe subscriptions; "
        f"latency per request: Salesforce {r.sf_latency * 1000:g} ms, Stripe "
        f"{r.stripe_latency * 1000:g} ms (seeding {r.setup_s:.1f} s, not measured).",
        "",
        *rows,
        "",
        f"Naive / ours: {r.naive_ratio(r.first):.0f}x more calls than our first cycle, "
        f"{r.naive_ratio(r.unchanged):.0f}x more than our unchanged cycle (naive does not diff, "
        "so it makes the same calls either way).",
        "",
    ]
    for m in [*r.cycles, *r.incremental]:
        assert m.budget is not None
        lines.append(f"Budget of {m.scenario} ({m.note}): " + "; ".join(m.budget.lines()) + ".")
        lines.append(f"  Salesforce calls by endpoint: {m.sf_counters}")
        lines.append(f"  Stripe calls by endpoint: {m.stripe_counters}")
    lines.append(f"Naive sample calls: Salesforce {r.naive_sample.sf_counters}, "
                 f"Stripe {r.naive_sample.stripe_counters}")
    lines += ["", "Goals:"]
    for text, ok, why in r.goals():
        lines.append(f"- {'MET   ' if ok else 'MISSED'} {text}" + (f": {why}" if why else ""))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_cycle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=12_000)
    parser.add_argument("--naive-sample", type=int, default=500)
    parser.add_argument("--sf-latency", type=float, default=SF_LATENCY)
    parser.add_argument("--stripe-latency", type=float, default=STRIPE_LATENCY)
    args = parser.parse_args(argv)
    print(f"latency per request: Salesforce {args.sf_latency}s, Stripe {args.stripe_latency}s",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="billing-sync-bench-") as tmp:
        result = run_benchmark(Path(tmp), accounts=args.accounts,
                               subscriptions=args.subscriptions, naive_sample=args.naive_sample,
                               sf_latency=args.sf_latency, stripe_latency=args.stripe_latency,
                               log=lambda m: print(m, flush=True))
    text = render(result)
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    print(f"written to {RESULTS}")
    return 0 if all(ok for _t, ok, _w in result.goals()) else 1


if __name__ == "__main__":
    sys.exit(main())
