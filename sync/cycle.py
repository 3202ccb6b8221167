"""One full reconcile (DESIGN A6): read Accounts → fetch billing state → map → diff → write →
record failures (SQLite first, then mirrored to Sync_Error__c) → report.

Every failure ends as exactly one of: written correctly, or an open failure in the local store
(mirrored to Sync_Error__c as soon as Salesforce takes it) that a later cycle retries.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from metadata import schema

from .core import RecordChange, diff_records, map_customer
from .core.mapping import SUBSCRIPTION_KEY
from .errors import RetryLater, StopCycle
from .failures import Failure, sync_error_record
from .matching import match_accounts
from .salesforce_io import SalesforceGateway, WriteResult, classify_record_error

__all__ = ["Cycle", "CycleReport"]

log = logging.getLogger(__name__)

SUBSCRIPTION = schema.SUBSCRIPTION.name
SYNC_ERROR = schema.SYNC_ERROR.name
TOTAL_CURSOR = "stripe_subscriptions_total"
CYCLE_SUBJECT = "cycle"
PROGRESS_SLICE = 1000  # records per progress step: five collection calls


@dataclass
class CycleReport:
    started: datetime
    dry_run: bool = False
    accounts_read: int = 0
    accounts_matched: int = 0
    accounts_changed: int = 0
    subscriptions_changed: int = 0
    written: int = 0
    deferred: int = 0
    resolved: int = 0
    errors: Counter = field(default_factory=Counter)  # by category, failures seen this cycle
    new_failures: list = field(default_factory=list)  # FailureRows first seen this cycle
    api_calls: dict[str, int] = field(default_factory=dict)
    strategy: str = ""
    duration_s: float = 0.0
    changes: list[RecordChange] = field(default_factory=list)
    account_names: dict[str, str] = field(default_factory=dict)  # Id -> Name, for display
    stopped: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.stopped or sum(self.errors.values()) else 0

    def summary(self) -> dict[str, Any]:
        return {
            "started": self.started.isoformat(),
            "dry_run": self.dry_run,
            "accounts_read": self.accounts_read,
            "accounts_matched": self.accounts_matched,
            "accounts_changed": self.accounts_changed,
            "subscriptions_changed": self.subscriptions_changed,
            "records_written": self.written,
            "records_deferred": self.deferred,
            "errors_resolved": self.resolved,
            "errors_by_category": dict(self.errors),
            "api_calls": self.api_calls,
            "stripe_strategy": self.strategy,
            "duration_s": round(self.duration_s, 3),
            "stopped": self.stopped,
        }


class Cycle:
    def __init__(
        self,
        *,
        source: Any,  # a billing source: fetch(ids, expected_subscriptions=) -> BillingSnapshot
        gateway: SalesforceGateway,
        store: Any,  # sync.store.StateStore
        alerter: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: Callable[..., None] | None = None,  # (message, done=None, total=None)
    ):
        self.source = source
        self.gateway = gateway
        self.store = store
        self.alerter = alerter
        self.clock = clock
        self.progress = progress or (lambda *_args: None)

    # -- the cycle -------------------------------------------------------------------------
    def run(self, *, dry_run: bool = False, account_id: str | None = None) -> CycleReport:
        now = self.clock()
        report = CycleReport(started=now, dry_run=dry_run)
        t0 = time.monotonic()
        run_id = self.store.start_run("account" if account_id else "full", dry_run=dry_run,
                                      now=now)
        calls_before = self._call_counts()
        try:
            self._reconcile(report, now, dry_run=dry_run, account_id=account_id)
        except (StopCycle, RetryLater) as exc:
            report.stopped = exc.message
            log.error("cycle stopped: %s", exc.message)
            if not dry_run:
                failure = Failure(exc.category, exc.code or type(exc).__name__, exc.message,
                                  CYCLE_SUBJECT)
                self._record([failure], report, now, held=set())
        if not dry_run:
            self._mirror()
        after = self._call_counts()
        report.api_calls = {k: after[k] - calls_before[k] for k in after}
        report.duration_s = time.monotonic() - t0
        self.store.finish_run(run_id, status="stopped" if report.stopped else (
            "failures" if report.exit_code else "ok"), counts=report.summary(),
            api_calls=report.api_calls, duration_s=report.duration_s, now=self.clock())
        if not dry_run and self.alerter is not None:
            from .alerts import alert_cycle

            alert_cycle(self.alerter, self.store, new_failures=report.new_failures,
                        summary=report.summary(), failed_cycle=report.stopped)
        return report

    def _reconcile(self, report: CycleReport, now: datetime, *, dry_run: bool,
                   account_id: str | None) -> None:
        gw = self.gateway
        self.progress("reading Salesforce Accounts")
        accounts = gw.read_accounts(account_id)
        report.accounts_read = len(accounts)
        report.account_names = {a["Id"]: a.get("Name") or "" for a in accounts}
        matched, problems = match_accounts(accounts)
        report.accounts_matched = len(matched)
        failures = [
            Failure("Matching", p.code, p.message, p.account_id, p.account_id, p.customer_id,
                    attempted=False)
            for p in problems
        ]
        subjects: set[str] = {a["Id"] for a in accounts} | {CYCLE_SUBJECT}

        current_subs = {
            r[SUBSCRIPTION_KEY]: r
            for r in gw.read_subscriptions(list(matched) if account_id else None)
        }
        retry_requested = set()
        if not dry_run:
            retry_requested = {r["Fingerprint__c"] for r in gw.read_open_errors()
                               if r.get("Retry_Requested__c")}

        self.progress(f"reading Stripe for {len(matched)} customers")
        expected = self.store.get_cursor(TOTAL_CURSOR)
        snapshot = self.source.fetch(matched, expected_subscriptions=int(expected)
                                     if expected else None)
        report.strategy = getattr(self.source, "last_strategy", "")
        if report.strategy == "list_all" and not account_id:
            self.store.set_cursor(TOTAL_CURSOR, str(self.source.last_subscription_count))

        desired_accounts, desired_subs = [], []
        for customer_id, account in matched.items():
            if customer_id in snapshot.missing:
                failures.append(Failure(
                    "Matching", "UNKNOWN_CUSTOMER",
                    f"Stripe has no customer {customer_id} (linked from Account "
                    f"'{account.get('Name')}'). Check the ID for typos or a test/live mix-up; "
                    "the Account is not synced until then.",
                    account["Id"], account["Id"], customer_id, attempted=False))
                continue
            mapping = map_customer(customer_id, snapshot.customers.get(customer_id),
                                   account["Id"], now)
            for p in mapping.problems:
                failures.append(Failure(p.category, p.code, p.message, account["Id"],
                                        account["Id"], customer_id, attempted=False))
            desired_accounts.append(mapping.account)
            desired_subs.extend(mapping.subscriptions)
        subjects |= {s.key for s in desired_subs}

        account_changes = diff_records(desired_accounts, matched)
        sub_changes = diff_records(desired_subs, current_subs)
        report.accounts_changed = len(account_changes)
        report.subscriptions_changed = len(sub_changes)

        if dry_run:
            report.changes = sub_changes + account_changes
            return

        held = self._held_back(now, retry_requested)
        sub_todo = [c for c in sub_changes if c.key not in held]
        acct_todo = [c for c in account_changes if c.record_id not in held]
        report.deferred = len(sub_changes) - len(sub_todo) + len(account_changes) - len(acct_todo)

        # Subscriptions first, sorted by Account, so parent rows lock in a steady order.
        sub_todo.sort(key=lambda c: (str(c.desired.get("Account__c")), c.key))
        acct_todo.sort(key=lambda c: str(c.record_id))
        total, done = len(sub_todo) + len(acct_todo), 0
        for todo, write in (
            (sub_todo, lambda rows: gw.upsert(SUBSCRIPTION, SUBSCRIPTION_KEY, rows)),
            (acct_todo, gw.update),
        ):
            # Slices of several collection calls, so a long write phase can report progress.
            for start in range(0, len(todo), PROGRESS_SLICE):
                part = todo[start:start + PROGRESS_SLICE]
                results = write([c.payload() for c in part])
                failures += self._write_failures(part, results, report)
                done += len(part)
                self.progress(f"writing records {done:,}/{total:,}", done, total)

        self._record(failures, report, now, held=set(held.values()))
        self._resolve(subjects, failures, held, report, now)

    # -- failures --------------------------------------------------------------------------
    def _held_back(self, now: datetime, retry_requested: set[str]) -> dict[str, str]:
        """Subjects whose last write failed and whose backoff has not run out: subject → fp."""
        held = {}
        for row in self.store.open_failures():
            if row.category == "Matching" or row.payload.get("subject") == CYCLE_SUBJECT:
                continue
            if row.fingerprint in retry_requested:
                # An admin ticked Retry: try now, even a dead letter (once more).
                self.store.requeue(row.fingerprint, now=now)
                continue
            if (row.next_retry is not None and row.next_retry > now) or row.status == "dead":
                held[row.payload.get("subject")] = row.fingerprint
        return held

    def _write_failures(self, changes: list[RecordChange], results: list[WriteResult],
                        report: CycleReport) -> list[Failure]:
        out = []
        for change, result in zip(changes, results, strict=True):
            if result.success:
                report.written += 1
                continue
            first = result.errors[0] if result.errors else None
            code = first.code if first else "UNKNOWN"
            is_account = change.sobject == "Account"
            payload = change.payload()
            account_id = change.record_id if is_account else change.desired.get("Account__c")
            customer_id = (change.key if is_account
                           else change.desired.get("Stripe_Customer_Id__c"))
            reasons = "; ".join(f"{e.message}" + (f" (fields: {', '.join(e.fields)})"
                                                  if e.fields else "") for e in result.errors)
            what = (f"Account {account_id} (Stripe customer {customer_id})" if is_account
                    else f"Subscription {change.key} (Stripe customer {customer_id})")
            message = (f"Salesforce refused to update {what}: {reasons or code}. "
                       f"Fix the data or the rule; the write is retried automatically.")
            subject = str(change.record_id) if is_account else change.key
            out.append(Failure(classify_record_error(code), code, message, subject,
                               account_id, customer_id, _strip(payload)))
        return out

    def _record(self, failures: list[Failure], report: CycleReport, now: datetime,
                held: set[str]) -> None:
        for f in failures:
            report.errors[f.category] += 1
            if f.fingerprint in held or self._unchanged(f, now):
                # Still failing inside its backoff: counting it again would rewrite its
                # Sync_Error__c every cycle for no new information.
                continue
            row = self.store.record_failure(
                f.fingerprint, category=f.category, code=f.code, message=f.message,
                account_id=f.account_id, customer_id=f.customer_id, payload=f.payload, now=now)
            if row.is_new:
                report.new_failures.append(row)

    def _unchanged(self, failure: Failure, now: datetime) -> bool:
        """Already recorded and nothing new to say: a data problem seen again, or a failed
        write still inside its backoff."""
        row = self.store.failure(failure.fingerprint)
        if row is None or row.status not in ("open", "retrying", "dead"):
            return False
        if not failure.attempted or row.status == "dead":
            return True
        return row.next_retry is not None and row.next_retry > now

    def _resolve(self, subjects: set[str], failures: list[Failure], held: dict[str, str],
                 report: CycleReport, now: datetime) -> None:
        still = {f.fingerprint for f in failures} | set(held.values())
        for row in self.store.open_failures():
            if row.fingerprint in still or row.payload.get("subject") not in subjects:
                continue
            if self.store.resolve(row.fingerprint, now=now) is not None:
                report.resolved += 1

    def _mirror(self) -> None:
        """Write every failure state Salesforce has not seen yet to Sync_Error__c."""
        rows = self.store.unmirrored()
        if not rows:
            return
        try:
            results = self.gateway.upsert(SYNC_ERROR, "Fingerprint__c",
                                          [sync_error_record(r) for r in rows])
        except (StopCycle, RetryLater) as exc:
            log.warning("could not mirror %d failures to Salesforce (%s); kept locally",
                        len(rows), exc.message)
            return
        done = [r.fingerprint for r, res in zip(rows, results, strict=True) if res.success]
        for r, res in zip(rows, results, strict=True):
            if not res.success:
                log.warning("Sync_Error__c for %s not written: %s", r.fingerprint,
                            "; ".join(e.message for e in res.errors))
        self.store.mark_mirrored(done)

    def _call_counts(self) -> dict[str, int]:
        return {
            "salesforce": sum(self.gateway.calls.values()),
            "stripe": sum(getattr(self.source, "calls", Counter()).values()),
        }


def _strip(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "attributes"}
