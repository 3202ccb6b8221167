"""One pass of a reconcile over some Accounts, a slice at a time: match → fetch billing state
→ map → diff → hand the changes to the writer → record failures; when the pass ends, write
what waits and resolve what no longer fails.

What a pass keeps in memory between slices does not grow with the org, nor with its failures:
the open failures about a slice are looked up for that slice; which of them were examined,
which failed again, whose Accounts were read, and every failure seen wait on disk in the
pass's ledger (``Store.pass_ledger``) until the writes are done; the queue is then walked a
page at a time to resolve what no longer fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from .core import diff_records, map_customer
from .core.failures import CYCLE_SUBJECT, Failure
from .core.mapping import DesiredRecord, catalog_ids, cleared_account
from .core.matching import match_accounts, refused_customer, unknown_customer
from .errors import SyncFailure
from .outcomes import held_back
from .ports import EXAMINED, SEEN, STILL, Row
from .report import CycleReport
from .writer import Halted, Writer

if TYPE_CHECKING:
    from .cycle import Cycle

__all__ = ["TOTAL_CURSOR", "Pass", "Population"]

# Given a pass's first slice of Accounts: the linked Accounts of the whole pass, or None.
Population = Callable[[list[Row]], int | None]

# The account-wide subscription total the last full listing saw: what listing all costs.
TOTAL_CURSOR = "stripe_subscriptions_total"


class Pass:
    """A reconcile of a set of Accounts fed in slices (``slice``), closed by ``finish``."""

    def __init__(
        self,
        cycle: Cycle,
        report: CycleReport,
        now: datetime,
        *,
        dry_run: bool,
        full: bool,
    ):
        self.cycle = cycle
        self.report = report
        self.now = now
        self.dry_run = dry_run
        self.full = full
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
        # Marks and failures wait on disk for the end of the pass, whatever their number.
        self.ledger = cycle.store.pass_ledger()
        self.newest_stamp = ""
        # A cycle-level failure (a stop) is examined by every pass that runs to its end.
        cycle_rows = cycle.store.open_failures_where("subject", [CYCLE_SUBJECT])
        self.ledger.mark(EXAMINED, (r.fingerprint for r in cycle_rows))

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
        # The open failures about this slice: examined (their subjects were all looked at),
        # and, for a full pass, their Accounts seen.
        store = cycle.store
        ids = [a["Id"] for a in accounts]
        open_here = store.open_failures_where("subject", ids + [s.key for s in desired_subs])
        self.ledger.mark(EXAMINED, (r.fingerprint for r in open_here))
        if self.full:
            seen = store.open_failures_where("account_id", ids)
            self.ledger.mark(SEEN, (r.fingerprint for r in seen))
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
            known = store.open_failures_where("fingerprint", (f.fingerprint for f in failures))
            unresolved = {r.fingerprint for r in known}
            report.would_record += [f for f in failures if f.fingerprint not in unresolved]
            for f in failures:
                report.errors[f.category] += 1
            return
        store.index_catalog(catalog)
        store.set_links({a["Id"]: a.get(link) for a in accounts})

        open_rows = {r.fingerprint: r for r in open_here}
        held = held_back(sub_changes + account_changes, open_rows, now)
        sub_todo = [c for c in sub_changes if c.subject not in held]
        acct_todo = [c for c in account_changes if c.subject not in held]
        report.deferred += len(sub_changes) + len(account_changes) - len(sub_todo) - len(acct_todo)
        self.ledger.mark(STILL, held.values())
        try:
            self.writer.add(sub_todo, acct_todo, failures)
        finally:
            # Stopped mid-write or not: what this slice saw and had refused is the pass's.
            self.ledger.add(failures)

    def feed(self, batches: Iterable[tuple[list[Row], list[Row]]], population: Population) -> None:
        """Every slice of ``batches``; ``population`` is asked after the first, with its
        Accounts, for the number of linked Accounts of the whole pass (``None``: one slice).

        A pass stopped early (a billing or Salesforce error in any slice, a halt) records
        what the slices before it saw and had refused, then gives up its ledger; nothing is
        resolved, since not every subject was examined to the end."""
        total: int | None = None
        try:
            for n, (accounts, rows) in enumerate(batches):
                if n == 0:
                    total = population(accounts)
                self.slice(accounts, rows, population=total)
        except (SyncFailure, Halted):
            try:
                if not self.dry_run:
                    self._record()
            finally:
                self.ledger.close()
            raise
        except BaseException:
            self.ledger.close()
            raise

    # -- the end of the pass ---------------------------------------------------------------
    def finish(self) -> None:
        """Write what waits, record what it refused, resolve what no longer fails."""
        if self.dry_run:
            self.ledger.close()
            return
        try:
            refused: list[Failure] = []
            try:
                self.writer.finish(refused)
            finally:
                # Stopped mid-write or not: what was seen and refused so far is recorded.
                self.ledger.add(refused)
                self._record()
            done = self._resolvable()
            self.report.resolved += len(self.cycle.store.resolve_many(done, now=self.now))
        finally:
            self.ledger.close()

    def _resolvable(self) -> list[str]:
        """The open failures this pass settled: their subject examined and not failing again;
        for a full pass also those of Accounts it never read (deleted or unlinked: they can
        never be retried or fixed). A page of the queue at a time."""
        ledger, done = self.ledger, []
        for rows in self.cycle.store.iter_open_failures():
            fps = [r.fingerprint for r in rows]
            still = ledger.marked(STILL, fps)
            examined = ledger.marked(EXAMINED, fps)
            seen = ledger.marked(SEEN, fps) if self.full else set()
            for r in rows:
                if r.fingerprint in still:  # failed again (or is new this pass), or held back
                    continue
                unseen = self.full and r.account_id and r.subject != CYCLE_SUBJECT
                if r.fingerprint in examined or (unseen and r.fingerprint not in seen):
                    done.append(r.fingerprint)
        return done

    def _record(self) -> None:
        """In one go once the writes are done, as a cycle always has: a failure is recorded
        (and announced) by the run that saw it to the end, never left by one that was killed
        before it could say so."""
        self.cycle.record(self._drained(), self.report, self.now)

    def _drained(self) -> Iterator[Failure]:
        for page in self.ledger.drain():
            self.ledger.mark(STILL, (f.fingerprint for f in page))
            yield from page
