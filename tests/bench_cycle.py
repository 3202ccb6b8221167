"""Cycle benchmark (``make bench``, not a test): what the engine costs per cycle.

The stand-ins run in a process of their own (``bench_world``), so the engine's CPU time and
peak RSS are read in the engine's process alone. Two runs on the same seeded data:

- at zero latency, for the engine's CPU (``time.process_time``) per Account and its peak RSS
  (``VmHWM``, reset before each scenario), plus the call counts;
- at injected latency (Stripe 300 ms, Salesforce 200 ms per request by default), for the wall
  time, next to two floors: ``calls x latency`` (one call at a time) and ``calls x latency /
  concurrency`` per service, at the concurrency the engine runs with (Stripe listing threads,
  Salesforce collection calls in flight: ``--stripe-concurrency``, ``--sf-concurrency``,
  default 4 each as shipped).

The engine's clock is pinned: scenario k runs at a fixed time, so what it writes (failures'
backoff, stamps) cannot depend on how fast the scenarios before it ran. The call budget comes
from the seeded data alone (``bench_budget``). Two baselines: the naive per-Account integration
(measured on a sample, extrapolated) and "batched, no diff" (the engine's reads, then every
record written every cycle, 200 a call), so that the diff's own saving shows.

    python -m tests.bench_cycle [--accounts N] [--subscriptions S] [--without-subs K]
        [--stripe-latency 0.3] [--sf-latency 0.2] [--cpu-only]
        [--stripe-concurrency 4] [--sf-concurrency 4] [--full-only]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scheduler.collector import tune_for_cycles
from tests.bench_baselines import batched_no_diff, naive_sync
from tests.bench_budget import Budget, Change, full_budget, incremental_budget
from tests.bench_report import render
from tests.bench_world import DataFacts, StandInProcess

__all__ = ["Measure", "Run", "main", "run_once"]

STRIPE_LATENCY = 0.3
SF_LATENCY = 0.2
CHANGED_SHARE = 0.01
NAIVE_TIMED_SAMPLE = 50
# The pinned clock: every scenario's time is fixed, whatever the machine's speed.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AT = {
    "first": T0,
    "unchanged": T0 + timedelta(hours=1),
    "change 1": T0 + timedelta(hours=1, minutes=30),
    "changed": T0 + timedelta(hours=2),
    "idle": T0 + timedelta(hours=2, minutes=10),
    "change 2": T0 + timedelta(hours=2, minutes=15),
    "incremental": T0 + timedelta(hours=2, minutes=20),
}
OVERLAP = timedelta(minutes=5)  # the incremental tick re-reads 5 minutes of events


@dataclass
class Measure:
    scenario: str
    calls: dict[str, int]  # per service, from the stand-ins' counters
    budget: Budget | None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_mb: float = 0.0
    written: int = 0
    endpoints: dict[str, dict[str, int]] = field(default_factory=dict)
    note: str = ""
    units: int = 0  # Accounts the scenario covered, when not all of them (the naive sample)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def floor_s(self, latency: dict[str, float],
                concurrency: dict[str, int] | None = None) -> float:  # fmt: skip
        """calls x latency / concurrency, per service (``None``: one call at a time)."""
        par = concurrency or {}
        return sum(n * latency[svc] / par.get(svc, 1) for svc, n in self.calls.items())


@dataclass
class Run:
    accounts: int
    subscriptions: int
    latency: dict[str, float]
    facts: DataFacts
    concurrency: dict[str, int]
    scenarios: list[Measure]
    baselines: list[Measure]
    setup_s: float


def _peak_reset() -> None:
    """Reset the process's peak RSS (Linux: ``clear_refs`` 5), so each scenario has its own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Engine:
    """The engine's side: settings, clients and a pinned clock, as the CLI builds them."""

    def __init__(self, world: StandInProcess, workdir: Path,
                 concurrency: dict[str, int] | None = None) -> None:  # fmt: skip
        from scheduler.clients import build_salesforce, build_stripe
        from scheduler.settings import load_settings
        from standins.env import stand_in_environment
        from sync.salesforce_io import deploy

        self.world = world
        env = stand_in_environment(world.stripe, world.salesforce, workdir / "state.db")
        par = concurrency or {}
        env["BILLING_SYNC_STRIPE_LIST_CONCURRENCY"] = str(par.get("stripe", 4))
        env["BILLING_SYNC_SALESFORCE_WRITE_CONCURRENCY"] = str(par.get("salesforce", 4))
        self.settings = load_settings(env)
        self.conn = build_salesforce(self.settings)
        result = deploy(self.conn.sf, username=world.salesforce.username, poll_interval=0.01)
        if not result.ok:
            raise RuntimeError(f"deploy failed: {result.table_rows()}")
        self.stripe = build_stripe(self.settings)
        self.now = T0

    def build(self) -> Any:
        from scheduler.wiring import build_engine
        from sync.slack import NullAlerter

        return build_engine(self.settings, billing_client=self.stripe, salesforce=self.conn,
                            alerter=NullAlerter(), sleep=lambda _s: None,
                            clock=lambda: self.now)  # fmt: skip

    def measure(self, scenario: str, at: datetime, budget: Budget | None,
                body: Callable[[], Any]) -> Measure:  # fmt: skip
        self.now = at
        self.world.call("set_time", now=int(at.timestamp()))
        self.world.call("reset")
        gc.collect()
        _peak_reset()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = body()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        peak = _peak_mb()
        stats = self.world.call("stats")
        calls = {svc: sum(c.values()) for svc, c in stats.items()}
        written = getattr(report, "written", report if isinstance(report, int) else 0)
        note = ""
        if getattr(report, "stopped", None) or getattr(report, "needs_full", None):
            raise RuntimeError(f"{scenario}: {report.stopped or report.needs_full}")
        if hasattr(report, "errors"):
            note = f"failures seen {dict(report.errors)}"
        return Measure(scenario, calls, budget, cpu, wall, peak, written, stats, note)

    def full(self) -> Any:
        with self.build() as engine:
            return engine.run()

    def incremental(self) -> Any:
        with self.build() as engine:
            return engine.run_incremental()


def _mixed_change(before: DataFacts, after: DataFacts) -> int:
    return len(before.mixed_currency ^ after.mixed_currency)


def run_once(workdir: Path, *, accounts: int, subscriptions: int, without_subs: int,
             latency: dict[str, float], naive_sample: int, baselines: bool = True,
             concurrency: dict[str, int] | None = None, full_only: bool = False,
             log: Callable[[str], Any] = lambda _m: None) -> Run:  # fmt: skip
    from sync.stripe_io.events import EVENT_TYPES

    t0 = time.perf_counter()
    with StandInProcess(workdir) as world:
        par = {"stripe": 4, "salesforce": 4} | (concurrency or {})
        eng = Engine(world, workdir, par)  # deploys the metadata the seeded Accounts need
        world.call("seed", accounts=accounts, subscriptions=subscriptions,
                   without_subs=without_subs, now=int(T0.timestamp()))  # fmt: skip
        setup = time.perf_counter() - t0
        log(f"seeded {accounts:,} Accounts, {subscriptions:,} subscriptions in {setup:.1f} s")
        world.call("latency", salesforce=latency["salesforce"], stripe=latency["stripe"])
        facts0 = world.call("facts")
        out = [eng.measure("1. first full cycle", AT["first"],
                           full_budget(facts0, first=True), eng.full)]  # fmt: skip
        log(f"  {out[-1].scenario}: {out[-1].total} calls, {out[-1].cpu_s:.1f} s CPU")
        facts1 = world.call("facts")
        out.append(eng.measure("2. unchanged full cycle", AT["unchanged"],
                               full_budget(facts1, first=False), eng.full))  # fmt: skip
        log(f"  {out[-1].scenario}: {out[-1].total} calls, {out[-1].cpu_s:.1f} s CPU")
        if full_only:  # memory at sizes where the other scenarios would take too long
            return Run(accounts, subscriptions, latency, facts0, par, out, [], setup)

        def change(at: datetime, seed: int) -> dict[str, Any]:
            # Not measured: no latency, and counters are reset by the next measure.
            world.call("latency", salesforce=0, stripe=0)
            world.call("set_time", now=int(at.timestamp()))
            done = world.call("change", share=CHANGED_SHARE, seed=seed)
            world.call("latency", salesforce=latency["salesforce"], stripe=latency["stripe"])
            return dict(done)

        c1 = change(AT["change 1"], 6)
        facts2 = world.call("facts")
        ch1 = Change(c1["quantity"] + c1["canceled"], len(c1["customers"]),
                     _mixed_change(facts1, facts2))
        out.append(eng.measure(f"3. 1%-changed full cycle ({c1['quantity']} quantity, "
                               f"{c1['canceled']} canceled)", AT["changed"],
                               full_budget(facts2, first=False, change=ch1), eng.full))
        log(f"  {out[-1].scenario}: {out[-1].total} calls, {out[-1].cpu_s:.1f} s CPU")
        facts3 = world.call("facts")
        # The tick after a full cycle re-reads from the full cycle's start minus the overlap.
        since = int((AT["changed"] - OVERLAP).timestamp())
        idle = Change(events=world.call("events_since", ts=since, types=list(EVENT_TYPES)))
        out.append(eng.measure("4. idle incremental", AT["idle"],
                               incremental_budget(facts3, idle), eng.incremental))
        c2 = change(AT["change 2"], 7)
        facts4 = world.call("facts")
        ch2 = Change(c2["quantity"] + c2["canceled"], len(c2["customers"]),
                     _mixed_change(facts3, facts4),
                     world.call("events_since", ts=since, types=list(EVENT_TYPES)))
        out.append(eng.measure(f"5. incremental after 1% changed ({c2['quantity']} quantity, "
                               f"{c2['canceled']} canceled)", AT["incremental"],
                               incremental_budget(facts4, ch2), eng.incremental))
        log(f"  incremental: {out[-2].total} and {out[-1].total} calls")
        base: list[Measure] = []
        if baselines:
            later = AT["incremental"] + timedelta(hours=1)
            b = eng.measure("batched, no diff (every cycle)", later,
                            full_budget(facts4, first=True),
                            lambda: batched_no_diff(eng.stripe, eng.conn, later))
            base.append(b)
            log(f"  {b.scenario}: {b.total} calls")
            n = eng.measure(f"naive, measured on {naive_sample} Accounts", later, None,
                            lambda: naive_sync(eng.stripe, eng.conn, naive_sample, later))
            k = accounts / max(naive_sample, 1)
            n.units = naive_sample
            base.append(n)
            base.append(replace(n, scenario=f"naive, EXTRAPOLATED to {accounts:,} Accounts",
                                calls={s: round(v * k) for s, v in n.calls.items()},
                                cpu_s=n.cpu_s * k, wall_s=n.wall_s * k,
                                written=round(n.written * k), units=accounts,
                                note="extrapolated, not measured"))
    return Run(accounts, subscriptions, latency, facts0, par, out, base, setup)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_cycle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=None,
                        help="default: 1.2 per Account")
    parser.add_argument("--without-subs", type=int, default=None,
                        help="linked customers with no subscription (default: 2%% of Accounts)")
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--stripe-latency", type=float, default=STRIPE_LATENCY)
    parser.add_argument("--sf-latency", type=float, default=SF_LATENCY)
    parser.add_argument("--cpu-only", action="store_true", help="skip the run at latency")
    parser.add_argument("--stripe-concurrency", type=int, default=4,
                        help="BILLING_SYNC_STRIPE_LIST_CONCURRENCY for the engine")
    parser.add_argument("--sf-concurrency", type=int, default=4,
                        help="BILLING_SYNC_SALESFORCE_WRITE_CONCURRENCY for the engine")
    parser.add_argument("--gc", choices=("daemon", "default"), default="daemon",
                        help="the collector as the daemon tunes it (scheduler.collector), "
                        "or CPython's defaults")
    parser.add_argument("--full-only", action="store_true",
                        help="only the first and unchanged full cycles, at zero latency "
                        "(memory at sizes beyond 100,000)")
    parser.add_argument("--out", type=Path, default=Path(".bench/results.md"))
    args = parser.parse_args(argv)
    subs = args.subscriptions if args.subscriptions is not None else args.accounts * 6 // 5
    bare = args.without_subs if args.without_subs is not None else args.accounts // 50
    kw = {"accounts": args.accounts, "subscriptions": subs, "without_subs": bare,
          "naive_sample": args.naive_sample, "log": lambda m: print(m, flush=True),
          "concurrency": {"stripe": args.stripe_concurrency, "salesforce": args.sf_concurrency},
          "full_only": args.full_only}
    if args.gc == "daemon":
        tune_for_cycles()  # as `billing-sync run` does after start-up
    zero = {"salesforce": 0.0, "stripe": 0.0}
    latency = {"salesforce": args.sf_latency, "stripe": args.stripe_latency}
    with tempfile.TemporaryDirectory(prefix="billing-sync-bench-") as tmp:
        print("run 1: zero latency (CPU, memory, calls)", flush=True)
        cpu = run_once(Path(tmp) / "cpu", latency=zero, **kw)
    timed = None
    if not (args.cpu_only or args.full_only):
        with tempfile.TemporaryDirectory(prefix="billing-sync-bench-") as tmp:
            print(f"run 2: latency {latency} (wall time)", flush=True)
            # The naive integration makes ~3 calls per Account one after the other: a smaller
            # sample keeps its timed run to a minute.
            kw["naive_sample"] = min(args.naive_sample, NAIVE_TIMED_SAMPLE)
            timed = run_once(Path(tmp) / "wall", latency=latency, **kw)
    text = render(cpu, timed)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
