"""One full reconcile: read Accounts → fetch billing state → map → diff → write → record
failures (SQLite first, then mirrored to Sync_Error__c) → report. The org is read in slices
of Accounts (``sync.slices``), each taken through ``sync.reconcile.Pass``, so memory holds one
slice whatever the size of the org.

Every failure ends as exactly one of: written correctly, or an open failure in the local store
(mirrored to Sync_Error__c as soon as Salesforce takes it) that a later cycle retries. What
to record, what to hold back and what resolves is decided by ``sync.core.failures``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

from metadata.billing_systems import billing_system

from .budget import ApiBudget
from .core.failures import CYCLE_SUBJECT, Failure
from .errors import StopCycle, SyncFailure
from .outcomes import mirror_failures
from .ports import Alerter, BillingSource, CrmGateway, Row, Store
from .reconcile import TOTAL_CURSOR, Pass
from .report import CycleReport
from .slices import slices
from .writer import BULK_THRESHOLD, Halted

__all__ = ["ACCOUNTS_CURSOR", "TOTAL_CURSOR", "Cycle", "CycleReport", "Halted"]

log = logging.getLogger(__name__)

# The newest SystemModstamp of the Accounts read: where the next look for link changes starts.
ACCOUNTS_CURSOR = "salesforce_accounts"
# How far back an incremental cycle re-reads events (the list is eventually consistent).
OVERLAP = timedelta(minutes=5)
# Accounts per slice of a full reconcile: what the engine holds at once (~10 KB an Account
# with its subscriptions, changes and billing state), whatever the size of the org.
SLICE = 5_000

Progress = Callable[..., None]  # (message, done=None, total=None)


class Cycle:
    def __init__(
        self,
        *,
        source: BillingSource,
        gateway: CrmGateway,
        store: Store,
        alerter: Alerter | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: Progress | None = None,
        halt: Callable[[], str | None] | None = None,
        budget: ApiBudget | None = None,
        bulk_threshold: int = BULK_THRESHOLD,
        slice_size: int = SLICE,
        write_concurrency: int = 1,
    ):
        self.source = source
        # Which Account field links a customer, which external ID keys its subscriptions.
        self.system = billing_system(source.provider)
        self.gateway = gateway
        self.store = store
        self.alerter = alerter
        self.clock = clock
        self.progress: Progress = progress or (lambda *_args: None)
        # Asked before every write call: a reason to stop writing now (a signal, a deadline).
        self.halt: Callable[[], str | None] = halt or (lambda: None)
        self.budget = budget or ApiBudget()
        self.bulk_threshold = bulk_threshold
        self.slice_size = slice_size
        self.write_concurrency = write_concurrency  # collection calls in flight (sync.writer)

    # -- the cycle -------------------------------------------------------------------------
    def run(
        self, *, dry_run: bool = False, account_id: str | None = None, track_events: bool = False
    ) -> CycleReport:
        """One full reconcile (or, with ``account_id``, one Account's).

        ``track_events`` (the daemon's reconciles): the billing events of the overlap window
        are listed before billing state is read, and marked processed once it is written, so
        the next incremental cycle does not re-read what this one just wrote (one call).
        """
        now = self.clock()
        report = CycleReport(kind="account" if account_id else "full", started=now, dry_run=dry_run)
        t0 = time.monotonic()
        run_id = self.store.start_run(report.kind, dry_run=dry_run, now=now)
        self.source.begin_cycle()
        sf_before = report.calls_before = sum(self.gateway.calls.values())
        status = "crashed"  # unless the cycle gets to say otherwise
        try:
            try:
                self._reconcile(
                    report, now, dry_run=dry_run, account_id=account_id, track_events=track_events
                )
            except SyncFailure as exc:
                self.stopped(report, exc, now, dry_run=dry_run)
            except Halted as exc:
                report.halted = str(exc)
            if not dry_run:
                self.mirror(report)
            status = report.outcome
        finally:
            report.api_calls["salesforce"] = sum(self.gateway.calls.values()) - sf_before
            report.salesforce_api_usage = self.gateway.usage()
            report.api_calls.setdefault(self.source.provider, 0)
            report.duration_s = time.monotonic() - t0
            self.store.finish_run(
                run_id,
                status=status,
                counts=report.summary(),
                api_calls=report.api_calls,
                duration_s=report.duration_s,
                now=self.clock(),
            )
        if not dry_run:
            self.alert(report)
        return report

    def alert(self, report: CycleReport) -> None:
        if self.alerter is not None:
            from .alerts import alert_cycle

            alert_cycle(self.alerter, self.store, report, now=self.clock())

    def stopped(
        self, report: CycleReport, exc: SyncFailure, now: datetime, *, dry_run: bool = False
    ) -> None:
        """The cycle cannot go on: say why, and record it as a failure of the cycle."""
        log.error("cycle stopped: %s", exc.message)
        report.stop = Failure(
            exc.category, exc.code or type(exc).__name__, exc.message, CYCLE_SUBJECT
        )
        if not dry_run:
            self.record([report.stop], report, now)

    def _reconcile(
        self,
        report: CycleReport,
        now: datetime,
        *,
        dry_run: bool,
        account_id: str | None,
        track_events: bool = False,
    ) -> None:
        gw = self.gateway
        full = not account_id and not dry_run
        feed = self.source.changes(now - OVERLAP) if full and track_events else None
        self.progress("reading Salesforce Accounts")
        batches: Iterable[tuple[list[Row], list[Row]]]
        if account_id:
            accounts = gw.read_accounts(account_id)
            link = self.system.account_field
            current = gw.read_subscriptions([a[link] for a in accounts if a.get(link)])
            batches = [(accounts, current)]
        else:
            # Slices only where the source keeps one listing for all of them: another source
            # would list the whole billing account again for every slice.
            size = self.slice_size if self.source.keeps_listing else None
            batches = slices(gw.stream_accounts(), gw.stream_subscriptions(), size)
        retry_requested: set[str] = set()
        if not dry_run:
            retry_requested = {r["Fingerprint__c"] for r in gw.read_retry_requested()}
        run = self.begin_pass(report, now, retry_requested, dry_run=dry_run, full=not account_id)

        def population(first: list[Row]) -> int | None:
            if account_id or len(first) != self.slice_size:
                return None
            # More slices may follow: how to read billing state is chosen for them all.
            return gw.count_linked()

        run.feed(batches, population)
        run.finish()
        if feed is not None:
            report.api_calls[self.source.provider] += feed.calls
        if full and report.stop is None:
            # Everything that happened before this reconcile started is now in Salesforce:
            # incremental cycles pick up from here (with their overlap).
            seen = {h.id: h.created for h in feed.hints} if feed else {}
            self.store.note_events(seen, {}, now, now=now)
            if run.newest_stamp:
                self.store.set_cursor(ACCOUNTS_CURSOR, run.newest_stamp, now=now)

    def begin_pass(
        self,
        report: CycleReport,
        now: datetime,
        retry_requested: set[str],
        *,
        dry_run: bool = False,
        full: bool,
    ) -> Pass:
        if not dry_run:
            self._requeue(retry_requested, now)
        return Pass(self, report, now, dry_run=dry_run, full=full)

    def sync_accounts(
        self,
        report: CycleReport,
        now: datetime,
        accounts: list[Row],
        current_rows: list[Row],
        retry_requested: set[str],
        *,
        dry_run: bool = False,
        full: bool,
    ) -> None:
        """Match → fetch billing state → map → diff → write → record → resolve, for these
        Accounts at once (an incremental cycle's dirty few)."""
        run = self.begin_pass(report, now, retry_requested, dry_run=dry_run, full=full)
        run.feed([(accounts, current_rows)], lambda _first: None)
        run.finish()

    # -- failures --------------------------------------------------------------------------
    def _requeue(self, retry_requested: set[str], now: datetime) -> None:
        """Admins ticked Retry Requested: those failures are due now, dead letters included
        (an unknown or resolved one is left alone)."""
        for fp in sorted(retry_requested):
            self.store.requeue(fp, now=now)

    def record(self, failures: Iterable[Failure], report: CycleReport, now: datetime) -> None:
        """Count every failure seen; record those that tell the store something new, in
        one transaction (``failures`` may be a stream: a large pass reads them off disk)."""

        def counted() -> Iterator[Failure]:
            for f in failures:
                report.errors[f.category] += 1
                yield f

        report.recorded.extend(self.store.record_news(counted(), now=now))

    def mirror(self, report: CycleReport) -> None:
        """Write every failure state Salesforce has not seen yet to Sync_Error__c."""
        try:
            mirror_failures(self.store, self.gateway, report, self.system)
        except StopCycle as exc:
            # Recorded locally (and shown by `status`); it reaches Salesforce once fixed.
            self.stopped(report, exc, self.clock())
