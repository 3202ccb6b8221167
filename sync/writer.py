"""Where a full reconcile's changes wait to be written, and how they go out.

A reconcile hands over each slice's changes as it goes. Below the Bulk threshold they are
written with sObject Collections (200 a call) when the pass ends; once the changes of one
object waiting here pass the threshold (a first sync of a large org), they go out at once as
one Bulk API 2.0 job (and so does the rest of that object at the end, unless it is small), so
a pass never holds more than about a threshold's worth of changes whatever the size of the
org, and a first cycle at 100,000 Accounts makes a handful of jobs instead of 1,100
collection calls.

Collection calls go out up to ``concurrency`` at a time (``CallPool``): the records are sorted
by Account and cut into 200-record calls in that order, so calls in flight together hold
neighbouring Account ranges and rarely need the same parent row lock. Results are taken in
call order, not completion order, so counts, failures and progress read as they would one
call at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from metadata import schema
from metadata.schema import Category

from .budget import ApiBudget
from .core import RecordChange
from .core.failures import Failure
from .errors import StopCycle
from .outcomes import stop_on_lost_access, write_failure
from .ports import CrmGateway, WriteOutcome
from .report import CycleReport

__all__ = ["BULK_THRESHOLD", "WRITE_CONCURRENCY", "WRITE_SLICE", "Halted", "Writer"]

SUBSCRIPTION = schema.SUBSCRIPTION.name
# Records per write step: one collection call, so a stop request (SIGTERM, the cycle's
# deadline) is honoured after at most one more call.
WRITE_SLICE = 200
# Records of one object above which they are written as one Bulk API 2.0 job.
BULK_THRESHOLD = 20_000
# A job costs about ten calls (create, upload, close, polls, three result lists): once a pass
# has sent one for an object, a rest of more than this goes out as a job too.
BULK_REST = 2_000
# Collection calls in flight at once (BILLING_SYNC_SALESFORCE_WRITE_CONCURRENCY): at ~0.2 s
# a call, four cut a first cycle's write time by about four; more would mostly hold more
# rows locked at once for other integrations.
WRITE_CONCURRENCY = 4

Progress = Callable[..., None]  # (message, done=None, total=None)


class Halted(Exception):
    """Writing stops at once on request (a signal, the cycle's deadline): not a failure. What
    was written is recorded; what was not is left for the next cycle."""


class Writer:
    """The changes of one pass, per object, and the calls that write them."""

    def __init__(
        self,
        gateway: CrmGateway,
        report: CycleReport,
        *,
        subscription_key: str,
        bulk_threshold: int,
        halt: Callable[[], str | None],
        budget: ApiBudget,
        progress: Progress,
        concurrency: int = 1,
    ):
        self.gateway = gateway
        self.concurrency = max(1, concurrency)
        self.report = report
        self.key = subscription_key
        self.bulk_threshold = bulk_threshold
        self.halt = halt
        self.budget = budget
        self.progress = progress
        self.subs: list[RecordChange] = []
        self.accounts: list[RecordChange] = []
        self._jobs: set[str] = set()  # objects already sent as a job in this pass
        self._done = 0  # records of the object being written whose results are in

    @property
    def waiting(self) -> int:
        return len(self.subs) + len(self.accounts)

    def add(
        self, subs: list[RecordChange], accounts: list[RecordChange], failures: list[Failure]
    ) -> None:
        """Take a slice's changes; an object past the threshold goes out now as one job.
        Records the writes refused are appended to ``failures``."""
        self.subs += subs
        self.accounts += accounts
        if len(self.subs) > self.bulk_threshold:
            self._flush_subs(failures)
        if len(self.accounts) > self.bulk_threshold:
            self._flush_accounts(failures)

    def finish(self, failures: list[Failure]) -> None:
        """Write what is still waiting: Subscription__c first, then Accounts."""
        self._flush_subs(failures)
        self._flush_accounts(failures)

    def _flush_subs(self, failures: list[Failure]) -> None:
        # Sorted by Account, so parent rows lock in a steady order.
        todo = sorted(self.subs, key=lambda c: (str(c.account_id), c.key))
        self.subs = []
        self._write(todo, SUBSCRIPTION, self.key, failures)

    def _flush_accounts(self, failures: list[Failure]) -> None:
        todo = sorted(self.accounts, key=lambda c: str(c.record_id))
        self.accounts = []
        self._write(todo, "Account", "Id", failures)

    def _write(
        self, todo: list[RecordChange], sobject: str, key_field: str, failures: list[Failure]
    ) -> None:
        # Above the threshold one Bulk API 2.0 job replaces hundreds of collection calls;
        # below it, one collection call per step, so a stop request waits for one call.
        bulk = len(todo) > self.bulk_threshold or (
            sobject in self._jobs and len(todo) > min(BULK_REST, self.bulk_threshold)
        )
        if bulk:
            self._jobs.add(sobject)
        step = max(len(todo), 1) if bulk else WRITE_SLICE
        parts = [todo[start : start + step] for start in range(0, len(todo), step)]
        self._done = 0
        if bulk or self.concurrency == 1 or len(parts) == 1:
            for part in parts:
                self._may_write()
                results = self._send(sobject, key_field, [c.payload() for c in part], bulk=bulk)
                stop_on_lost_access(results)
                self._record_written(part, results, sobject, len(todo), failures)
            return
        self._write_pooled(parts, sobject, key_field, len(todo), failures)

    def _write_pooled(
        self,
        parts: list[list[RecordChange]],
        sobject: str,
        key_field: str,
        total: int,
        failures: list[Failure],
    ) -> None:
        """Up to ``concurrency`` collection calls in flight. Before each new call: a stop
        request, the budget; a stop submits nothing more, but every call already in flight
        finishes and its results are recorded before the stop is raised. Of several errors,
        the one of the earliest call wins, as it would have one call at a time."""
        inflight: deque[tuple[list[RecordChange], Future[Sequence[WriteOutcome]]]] = deque()
        stop: Exception | None = None  # raised by the check before a call that never went out
        error: Exception | None = None  # raised by (or for) a call that went out
        pending = iter(parts)
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="sf-write") as pool:
            while True:
                while stop is None and error is None and len(inflight) < self.concurrency:
                    part = next(pending, None)
                    if part is None:
                        break
                    try:
                        self._may_write(in_flight=len(inflight))
                    except (Halted, StopCycle) as exc:
                        stop = exc
                        break
                    payloads = [c.payload() for c in part]
                    inflight.append(
                        (part, pool.submit(self._send, sobject, key_field, payloads, bulk=False))
                    )
                if not inflight:
                    break
                part, future = inflight.popleft()
                try:
                    results = future.result()
                    if error is None:  # after an error, the pool only drains
                        stop_on_lost_access(results)
                    self._record_written(part, results, sobject, total, failures)
                except Exception as exc:  # kept, and raised once the pool has drained
                    error = error or exc
        if error is not None:
            raise error
        if stop is not None:
            raise stop

    def _record_written(
        self,
        part: list[RecordChange],
        results: Sequence[WriteOutcome],
        sobject: str,
        total: int,
        failures: list[Failure],
    ) -> None:
        report = self.report
        for change, result in zip(part, results, strict=True):
            if result.success:
                report.written += 1
            else:
                failures.append(write_failure(change, result))
        self._done += len(part)
        done = self._done
        self.progress(f"writing {sobject} records {done:,}/{total:,}", done, total)

    def _send(
        self, sobject: str, key_field: str, payloads: list[dict[str, Any]], *, bulk: bool
    ) -> Sequence[WriteOutcome]:
        gw = self.gateway
        if bulk:
            return gw.bulk_write(sobject, key_field, payloads)
        if key_field == "Id":
            return gw.update(payloads)
        return gw.upsert(sobject, key_field, payloads)

    def _may_write(self, in_flight: int = 0) -> None:
        """Before every write call: a stop request, the API budget. A call in flight may not
        have been counted yet: each is taken as one more, so the pool stops early rather
        than late."""
        reason = self.halt()
        if reason:
            raise Halted(reason)
        calls = sum(self.gateway.calls.values()) - self.report.calls_before + in_flight
        over = self.budget.blocks_writes(self.gateway.usage(), calls)
        if over:
            raise StopCycle(over, category=Category.LIMITS, code="API_BUDGET")
