"""The incremental cycle, the daemon's every-minute job: only what changed is re-read.

1. Billing events since the cursor, with a 5-minute overlap (the events list is eventually
   consistent, so an event indexed late is still seen), ids already processed skipped, no
   lag. Each names a customer, or a catalog item whose users (from the local index of what
   was written) all become dirty; beyond ``FANOUT_LIMIT`` a full reconcile is asked for.
2. Cursor, processed ids and the dirty set are committed in one transaction.
3. Salesforce: Accounts whose link was set, changed or cleared since the last tick
   (``SystemModstamp`` with the same overlap), failures with Retry Requested ticked and due
   retries join the dirty set. An Account whose id was cleared gets its billing fields
   cleared (and its Matching errors resolve).
4. The dirty customers are re-read at our pinned API version and go through map → diff →
   write → record exactly as in the full reconcile; a customer leaves the dirty set once its
   records were written or its failure is queued.

An idle tick costs three calls (events, changed Accounts, Retry Requested) and writes
nothing. A cursor older than 27 days (Stripe keeps events 30) cannot be trusted: the cycle
asks for a full reconcile instead, which sets the cursor to its own start.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from .cycle import ACCOUNTS_CURSOR, OVERLAP, Cycle, Halted
from .errors import SyncFailure
from .report import CycleReport

__all__ = ["FANOUT_LIMIT", "MAX_CURSOR_AGE", "OVERLAP", "IncrementalCycle"]

log = logging.getLogger(__name__)

MAX_CURSOR_AGE = timedelta(days=27)
FANOUT_LIMIT = 1000  # customers one catalog change may dirty before a full reconcile is due


class IncrementalCycle:
    def __init__(self, cycle: Cycle):
        self.cycle = cycle

    def run(self) -> CycleReport:
        cycle = self.cycle
        store, gw, source = cycle.store, cycle.gateway, cycle.source
        now = cycle.clock()
        report = CycleReport(kind="incremental", started=now)
        cursor = store.events_cursor()
        if cursor is None:
            report.needs_full = "no events cursor yet: the first cycle is a full reconcile"
            return report
        if now - cursor > MAX_CURSOR_AGE:
            report.needs_full = (
                f"the events cursor is {(now - cursor).days} days old (Stripe keeps events "
                "30 days; no change feed is trusted that far back): a full reconcile catches up"
            )
            return report
        t0 = time.monotonic()
        run_id = store.start_run("incremental", dry_run=False, now=now)
        source.begin_cycle()
        sf_before = report.calls_before = sum(gw.calls.values())
        status = "crashed"
        try:
            try:
                self._tick(report, now, cursor)
            except SyncFailure as exc:
                cycle.stopped(report, exc, now)
            except Halted as exc:
                report.halted = str(exc)
            cycle.mirror(report)
            status = report.outcome
        finally:
            report.api_calls["salesforce"] = sum(gw.calls.values()) - sf_before
            report.salesforce_api_usage = gw.usage()
            report.api_calls[source.provider] = report.api_calls.get(source.provider, 0)
            report.duration_s = time.monotonic() - t0
            store.finish_run(
                run_id,
                status=status,
                counts=report.summary(),
                api_calls=report.api_calls,
                duration_s=report.duration_s,
                now=cycle.clock(),
            )
        cycle.alert(report)
        return report

    def _tick(self, report: CycleReport, now: datetime, cursor: datetime) -> None:
        cycle = self.cycle
        store, gw, source = cycle.store, cycle.gateway, cycle.source

        feed = source.changes(cursor - OVERLAP)
        report.api_calls[source.provider] = feed.calls
        seen = store.seen_events(h.id for h in feed.hints)  # one lookup, not one per hint
        fresh = [h for h in feed.hints if h.id not in seen]
        report.events = len(fresh)
        report.events_other_version = sum(
            1 for h in fresh if h.api_version and h.api_version != feed.api_version
        )
        dirty = {h.customer_id: "billing event" for h in fresh if h.customer_id}
        catalog = {h.catalog_id for h in fresh if h.catalog_id}
        if catalog:
            users = store.customers_using(catalog)
            if len(users) > FANOUT_LIMIT:
                report.needs_full = (
                    f"{len(catalog)} catalog changes touch {len(users)} "
                    "customers: a full reconcile is cheaper"
                )
            dirty |= dict.fromkeys(users - dirty.keys(), "catalog change")
        newest = max((h.created for h in feed.hints), default=cursor)
        store.note_events(
            {h.id: h.created for h in fresh},
            dirty,
            max(cursor, newest),
            now=now,
            forget_before=max(cursor, newest) - OVERLAP * 3,
        )

        since = store.get_cursor(ACCOUNTS_CURSOR)
        changed = gw.read_changed_accounts(
            datetime.fromisoformat(since) - OVERLAP if since else cursor - OVERLAP
        )
        # Our own writes move SystemModstamp too: only a link that differs from the one last
        # synced is news (billing changes arrive as events; hand edits wait for the nightly
        # reconcile, which counts them as drift).
        link = cycle.system.account_field
        known = store.links(a["Id"] for a in changed)
        moved = [a for a in changed if a.get(link) != known.get(a["Id"])]
        linked = {a[link]: "Account link changed" for a in moved if a.get(link)}
        cleared = [a for a in moved if not a.get(link)]
        retry_requested = {r["Fingerprint__c"] for r in gw.read_retry_requested()}
        queued = {row.customer_id: "retry due" for row in store.due_retries(now) if row.customer_id}
        for row in store.open_failures_where("fingerprint", retry_requested):
            if row.customer_id:
                queued[row.customer_id] = "Retry Requested"
        extra = {**queued, **linked}
        if extra:
            store.note_events({}, extra, None, now=now)

        todo = store.dirty()
        report.dirty = len(todo)
        if todo or cleared:
            accounts = gw.read_accounts_for(sorted(todo)) if todo else []
            read = {a["Id"] for a in accounts}
            accounts += [a for a in cleared if a["Id"] not in read]
            current = gw.read_subscriptions(sorted(todo)) if todo else []
            cycle.sync_accounts(report, now, accounts, current, retry_requested, full=False)
        if report.stop is None and report.halted is None:
            store.clean(todo)
        stamps = [a.get("SystemModstamp") for a in changed if a.get("SystemModstamp")]
        if stamps:
            store.set_cursor(ACCOUNTS_CURSOR, max(str(s) for s in stamps), now=now)
