"""One pass of a reconcile over some Accounts, a slice at a time: match → fetch billing state
→ map → diff → hand the changes to the writer → record failures; when the pass ends, write
what waits and resolve what no longer fails.

What a pass keeps between slices is bounded by the failures it knows of, never by the size of
the org: the open failures (read once), the subjects of those it has examined, the
fingerprints that failed again, the newest Account stamp.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .core import diff_records, map_customer
from .core.failures import CYCLE_SUBJECT, Failure, FailureRow, is_resolved_by
from .core.mapping import DesiredRecord, catalog_ids, cleared_account
from .core.matching import match_accounts, refused_customer, unknown_customer
from .errors import SyncFailure
from .outcomes import held_back
from .ports import Row
from .report import CycleReport
from .writer import Halted, Writer

if TYPE_CHECKING:
    from .cycle import Cycle

__all__ = ["TOTAL_CURSOR", "Pass"]

# The account-wide subscription total the last full listing saw: what listing all costs.
TOTAL_CURSOR = "stripe_subscriptions_total"


class Pass:
    """A reconcile of a set of Accounts fed in slices (``slice``), closed by ``finish``."""

    def __init__(
        self,
        cycle: Cycle,
        report: CycleReport,
        now: datetime,
        open_rows: dict[str, FailureRow],
        *,
        dry_run: bool,
        full: bool,
    ):
        self.cycle = cycle
        self.report = report
        self.now = now
        self.dry_run = dry_run
        self.full = full
        self.open_rows = open_rows
        self.writer = Writer(
            cycle.gateway,
            report,
            subscription_key=cycle.system.subscription_key,
            bulk_threshold=cycle.bulk_threshold,
            halt=cycle.halt,
            budget=cycle.budget,
            progress=cycle.progress,
            concurrency=cycle.write_concurrency,
        )
        self._open_subjects = {r.subject for r in open_rows.values()}
        self._open_accounts = {r.account_id for r in open_rows.values() if r.account_id}
        self.examined: set[str] = {CYCLE_SUBJECT}  # of the open failures' subjects
        self.seen_accounts: set[str] = set()  # of the open failures' Accounts
        self.still: set[str] = set()  # fingerprints that failed again or were held back
        self.newest_stamp = ""
        # Failures wait for the end of the pass (``_record``): a few per broken Account.
        self.failures: list[Failure] = []

    # -- one slice -------------------------------------------------------------------------
    def slice(
        self, accounts: list[Row], current_rows: list[Row], *, population: int | None = None
    ) -> None:
        """``population``: the linked Accounts of the whole pass, when it comes in several
        slices (the source chooses how to read billing state for all of them)."""
        cycle, report, now = self.cycle, self.report, self.now
        system = cycle.system
        link, key = system.account_field, system.subscription_key
        linked = [a for a in accounts if a.get(link)]
        unlinked = [a for a in accounts if not a.get(link)]
        report.accounts_read += len(accounts)
        if self.dry_run:  # names label the changes a dry run prints
            report.account_names.update({a["Id"]: a.get("Name") or "" for a in accounts})
        for a in accounts:
            stamp = a.get("SystemModstamp")
            if stamp and str(stamp) > self.newest_stamp:
                self.newest_stamp = str(stamp)
        matched, failures = match_accounts(linked, system)
        report.accounts_matched += len(matched)
        # Another provider's records (an org that moved billing systems) are not ours to diff.
        current_subs = {r[key]: r for r in current_rows if r.get(key)}

        source = cycle.source
        cycle.progress(f"reading {system.label} for {len(matched)} customers")
        expected = cycle.store.get_cursor(TOTAL_CURSOR)
        snapshot = source.fetch(
            list(matched),
            expected_subscriptions=int(expected) if expected else None,
            population=population,
        )
        stats = snapshot.stats
        report.strategy = stats.strategy or report.strategy
        report.api_calls[source.provider] = (
            report.api_calls.get(source.provider, 0) + stats.total_calls
        )
        if stats.strategy == "list_all" and self.full and not self.dry_run:
            cycle.store.set_cursor(TOTAL_CURSOR, str(stats.subscriptions_listed), now=now)

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
        subjects = self._open_subjects
        self.examined |= {a["Id"] for a in accounts if a["Id"] in subjects}
        self.examined |= {s.key for s in desired_subs if s.key in subjects}
        self.seen_accounts |= {a["Id"] for a in accounts if a["Id"] in self._open_accounts}
        current_accounts = {a["Id"]: a for a in unlinked} | dict(matched)

        account_changes = diff_records(desired_accounts, current_accounts)
        sub_changes = diff_records(desired_subs, current_subs)
        report.accounts_changed += len(account_changes)
        report.subscriptions_changed += len(sub_changes)
        report.fields_changed += sum(len(c.fields) for c in account_changes + sub_changes)
        if self.full:  # what the incremental cycles should already have written: drift examples
            report.drift_examples += [
                f"{c.sobject} {c.record_id or c.key}: {', '.join(c.fields)}"
                for c in (account_changes + sub_changes)[: max(5 - len(report.drift_examples), 0)]
            ]

        if self.dry_run:
            report.changes += sub_changes + account_changes
            # What the real run would record as new: the same exit code, nothing written.
            report.would_record += [f for f in failures if f.fingerprint not in self.open_rows]
            for f in failures:
                report.errors[f.category] += 1
            return
        store = cycle.store
        store.index_catalog(catalog)
        store.set_links({a["Id"]: a.get(link) for a in accounts})

        held = held_back(sub_changes + account_changes, self.open_rows, now)
        sub_todo = [c for c in sub_changes if c.subject not in held]
        acct_todo = [c for c in account_changes if c.subject not in held]
        report.deferred += len(sub_changes) + len(account_changes) - len(sub_todo) - len(acct_todo)
        self.still |= set(held.values())
        self.failures += failures
        try:
            self.writer.add(sub_todo, acct_todo, self.failures)
        except (SyncFailure, Halted):
            # Stopped mid-write: what was seen and refused so far is recorded all the same.
            self._record()
            raise

    # -- the end of the pass ---------------------------------------------------------------
    def finish(self) -> None:
        """Write what waits, record what it refused, resolve what no longer fails."""
        if self.dry_run:
            return
        try:
            self.writer.finish(self.failures)
        finally:
            # Stopped mid-write or not: what was seen and refused so far is recorded.
            self._record()
        rows = self.open_rows.values()
        done = [r.fingerprint for r in rows if is_resolved_by(r, self.examined, self.still)]
        if self.full:
            # A full reconcile reads every linked Account: one it did not see was deleted or
            # unlinked, and its failures can never be retried or fixed. They resolve.
            done += [
                r.fingerprint
                for r in rows
                if r.account_id
                and r.account_id not in self.seen_accounts
                and r.subject != CYCLE_SUBJECT
            ]
        self.report.resolved += len(self.cycle.store.resolve_many(done, now=self.now))

    def _record(self) -> None:
        """In one go once the writes are done, as a cycle always has: a failure is recorded
        (and announced) by the run that saw it to the end, never left by one that was killed
        before it could say so."""
        failures, self.failures = self.failures, []
        self.still |= {f.fingerprint for f in failures}
        self.cycle.record(failures, self.report, self.now, self.open_rows)
