"""One full reconcile: read Accounts → fetch billing state → map → diff → write → record
failures (SQLite first, then mirrored to Sync_Error__c) → report.

Every failure ends as exactly one of: written correctly, or an open failure in the local store
(mirrored to Sync_Error__c as soon as Salesforce takes it) that a later cycle retries. What
to record, what to hold back and what resolves is decided by ``sync.core.failures``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from metadata import schema
from metadata.billing_systems import billing_system
from metadata.schema import Category

from .budget import ApiBudget
from .core import RecordChange, diff_records, map_customer
from .core.failures import (
    CYCLE_SUBJECT,
    Failure,
    FailureRow,
    is_resolved_by,
    needs_recording,
)
from .core.mapping import DesiredRecord, catalog_ids, cleared_account
from .core.matching import match_accounts, refused_customer, unknown_customer
from .errors import StopCycle, SyncFailure
from .outcomes import held_back, mirror_failures, stop_on_lost_access, write_failure
from .ports import Alerter, BillingSource, CrmGateway, Store, WriteOutcome
from .report import CycleReport

__all__ = ["Cycle", "CycleReport", "Halted"]

log = logging.getLogger(__name__)

SUBSCRIPTION = schema.SUBSCRIPTION.name
SYNC_ERROR = schema.SYNC_ERROR.name
# The account-wide subscription total the last full listing saw: what listing all costs.
TOTAL_CURSOR = "stripe_subscriptions_total"
# The newest SystemModstamp of the Accounts read: where the next look for link changes starts.
ACCOUNTS_CURSOR = "salesforce_accounts"
# How far back an incremental cycle re-reads events (the list is eventually consistent).
OVERLAP = timedelta(minutes=5)
# Records per write step: one collection call, so a stop request (SIGTERM, the cycle's
# deadline) is honoured after at most one more call.
WRITE_SLICE = 200
# Records of one object above which a cycle writes them as one Bulk API 2.0 job.
BULK_THRESHOLD = 20_000

Progress = Callable[..., None]  # (message, done=None, total=None)


class Halted(Exception):
    """Writing stops at once on request (a signal, the cycle's deadline): not a failure. What
    was written is recorded; what was not is left for the next cycle."""


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
            self._record([report.stop], report, now, self._open_by_fingerprint())

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
        accounts = gw.read_accounts(account_id)
        link = self.system.account_field
        current = gw.read_subscriptions(
            [a[link] for a in accounts if a.get(link)] if account_id else None
        )
        retry_requested: set[str] = set()
        if not dry_run:
            retry_requested = {
                r["Fingerprint__c"] for r in gw.read_open_errors() if r.get("Retry_Requested__c")
            }
        self.sync_accounts(
            report, now, accounts, current, retry_requested, dry_run=dry_run, full=not account_id
        )
        if feed is not None:
            report.api_calls[self.source.provider] += feed.calls
        if full and report.stop is None:
            # Everything that happened before this reconcile started is now in Salesforce:
            # incremental cycles pick up from here (with their overlap).
            seen = {h.id: h.created for h in feed.hints} if feed else {}
            self.store.note_events(seen, {}, now, now=now)
            stamps = [str(a["SystemModstamp"]) for a in accounts if a.get("SystemModstamp")]
            if stamps:
                self.store.set_cursor(ACCOUNTS_CURSOR, max(stamps), now=now)

    def sync_accounts(
        self,
        report: CycleReport,
        now: datetime,
        accounts: list[dict[str, Any]],
        current_rows: list[dict[str, Any]],
        retry_requested: set[str],
        *,
        dry_run: bool = False,
        full: bool,
    ) -> None:
        """Match → fetch billing state → map → diff → write → record → resolve, for these
        Accounts (a full reconcile's all, or an incremental cycle's dirty few)."""
        system = self.system
        link, key = system.account_field, system.subscription_key
        linked = [a for a in accounts if a.get(link)]
        unlinked = [a for a in accounts if not a.get(link)]
        report.accounts_read += len(accounts)
        report.account_names.update({a["Id"]: a.get("Name") or "" for a in accounts})
        matched, failures = match_accounts(linked, system)
        report.accounts_matched += len(matched)
        examined: set[str] = {a["Id"] for a in accounts} | {CYCLE_SUBJECT}
        # Another provider's records (an org that moved billing systems) are not ours to diff.
        current_subs = {r[key]: r for r in current_rows if r.get(key)}

        self.progress(f"reading {system.label} for {len(matched)} customers")
        expected = self.store.get_cursor(TOTAL_CURSOR)
        snapshot = self.source.fetch(
            list(matched), expected_subscriptions=int(expected) if expected else None
        )
        stats = snapshot.stats
        report.strategy = stats.strategy
        report.api_calls[self.source.provider] = (
            report.api_calls.get(self.source.provider, 0) + stats.total_calls
        )
        if stats.strategy == "list_all" and full and not dry_run:
            self.store.set_cursor(TOTAL_CURSOR, str(stats.subscriptions_listed), now=now)

        desired_accounts: list[DesiredRecord] = [cleared_account(a, now) for a in unlinked]
        desired_subs: list[DesiredRecord] = []
        catalog: dict[str, set[str]] = {}
        for customer_id, account in matched.items():
            if customer_id in snapshot.missing:
                failures.append(unknown_customer(account, customer_id, system))
                continue
            if customer_id in snapshot.refused:
                failures.append(refused_customer(account, customer_id, snapshot.refused, system))
                continue
            billing = snapshot.customers.get(customer_id)
            mapping = map_customer(customer_id, billing, account["Id"], now, system)
            failures.extend(mapping.problems)
            desired_accounts.append(mapping.account)
            desired_subs.extend(mapping.subscriptions)
            catalog[customer_id] = catalog_ids(billing)
        examined |= {s.key for s in desired_subs}
        current_accounts = {a["Id"]: a for a in unlinked} | dict(matched)

        account_changes = diff_records(desired_accounts, current_accounts)
        sub_changes = diff_records(desired_subs, current_subs)
        report.accounts_changed += len(account_changes)
        report.subscriptions_changed += len(sub_changes)
        report.fields_changed += sum(len(c.fields) for c in account_changes + sub_changes)
        if full:  # what the incremental cycles should already have written: drift examples
            report.drift_examples += [
                f"{c.sobject} {c.record_id or c.key}: {', '.join(c.fields)}"
                for c in (account_changes + sub_changes)[: 5 - len(report.drift_examples)]
            ]

        if dry_run:
            report.changes = sub_changes + account_changes
            # What the real run would record as new: the same exit code, nothing written.
            known = self._open_by_fingerprint()
            report.would_record = [f for f in failures if f.fingerprint not in known]
            for f in failures:
                report.errors[f.category] += 1
            return
        self.store.index_catalog(catalog)
        self.store.set_links({a["Id"]: a.get(link) for a in accounts if a["Id"] in examined})

        open_rows = self._requeue(retry_requested, now)
        held = held_back(sub_changes + account_changes, open_rows, now)
        sub_todo = [c for c in sub_changes if c.subject not in held]
        acct_todo = [c for c in account_changes if c.subject not in held]
        report.deferred += len(sub_changes) + len(account_changes) - len(sub_todo) - len(acct_todo)

        # Subscriptions first, sorted by Account, so parent rows lock in a steady order.
        sub_todo.sort(key=lambda c: (str(c.account_id), c.key))
        acct_todo.sort(key=lambda c: str(c.record_id))
        try:
            self._write(sub_todo, acct_todo, failures, report)
        except (SyncFailure, Halted):
            # Stopped mid-write: what the earlier batches refused is recorded all the same.
            self._record(failures, report, now, open_rows)
            raise
        self._record(failures, report, now, open_rows)
        still = {f.fingerprint for f in failures} | set(held.values())
        done = [r.fingerprint for r in open_rows.values() if is_resolved_by(r, examined, still)]
        if full:
            # A full reconcile reads every linked Account: one it did not see was deleted or
            # unlinked, and its failures can never be retried or fixed. They resolve.
            seen = {a["Id"] for a in accounts}
            done += [
                r.fingerprint
                for r in open_rows.values()
                if r.account_id and r.account_id not in seen and r.subject != CYCLE_SUBJECT
            ]
        report.resolved += len(self.store.resolve_many(done, now=now))

    # -- writing ---------------------------------------------------------------------------
    def _write(
        self,
        sub_todo: list[RecordChange],
        acct_todo: list[RecordChange],
        failures: list[Failure],
        report: CycleReport,
    ) -> None:
        total, done = len(sub_todo) + len(acct_todo), 0
        key = self.system.subscription_key
        targets = ((sub_todo, SUBSCRIPTION, key), (acct_todo, "Account", "Id"))
        for todo, sobject, key_field in targets:
            # Above the threshold one Bulk API 2.0 job replaces hundreds of collection calls;
            # below it, one collection call per step, so a stop request waits for one call.
            bulk = len(todo) > self.bulk_threshold
            step = max(len(todo), 1) if bulk else WRITE_SLICE
            for start in range(0, len(todo), step):
                self._may_write(report)
                part = todo[start : start + step]
                payloads = [c.payload() for c in part]
                results = self._send(sobject, key_field, payloads, bulk=bulk)
                stop_on_lost_access(results)
                for change, result in zip(part, results, strict=True):
                    if result.success:
                        report.written += 1
                    else:
                        failures.append(write_failure(change, result))
                done += len(part)
                self.progress(f"writing records {done:,}/{total:,}", done, total)

    def _send(
        self, sobject: str, key_field: str, payloads: list[dict[str, Any]], *, bulk: bool
    ) -> Sequence[WriteOutcome]:
        gw = self.gateway
        if bulk:
            return gw.bulk_write(sobject, key_field, payloads)
        if key_field == "Id":
            return gw.update(payloads)
        return gw.upsert(sobject, key_field, payloads)

    def _may_write(self, report: CycleReport) -> None:
        """Before every write call: a stop request, the API budget."""
        reason = self.halt()
        if reason:
            raise Halted(reason)
        calls = sum(self.gateway.calls.values()) - report.calls_before
        over = self.budget.blocks_writes(self.gateway.usage(), calls)
        if over:
            raise StopCycle(over, category=Category.LIMITS, code="API_BUDGET")

    # -- failures --------------------------------------------------------------------------
    def _open_by_fingerprint(self) -> dict[str, FailureRow]:
        return {r.fingerprint: r for r in self.store.open_failures()}

    def _requeue(self, retry_requested: set[str], now: datetime) -> dict[str, FailureRow]:
        """Admins ticked Retry Requested: those failures are due now, dead letters included."""
        open_rows = self._open_by_fingerprint()
        ticked = [fp for fp in retry_requested if fp in open_rows]
        for fp in ticked:
            self.store.requeue(fp, now=now)
        return self._open_by_fingerprint() if ticked else open_rows

    def _record(
        self,
        failures: list[Failure],
        report: CycleReport,
        now: datetime,
        open_rows: Mapping[str, FailureRow],
    ) -> None:
        todo = []
        for f in failures:
            report.errors[f.category] += 1
            if needs_recording(open_rows.get(f.fingerprint), f, now):
                todo.append(f)
        if todo:
            report.recorded.extend(self.store.record_many(todo, now=now))

    def mirror(self, report: CycleReport) -> None:
        """Write every failure state Salesforce has not seen yet to Sync_Error__c."""
        try:
            mirror_failures(self.store, self.gateway, report, self.system)
        except StopCycle as exc:
            # Recorded locally (and shown by `status`); it reaches Salesforce once fixed.
            self.stopped(report, exc, self.clock())
