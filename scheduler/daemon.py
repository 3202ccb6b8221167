"""``billing-sync run``'s engine room: one scheduler, its jobs, bounded cycles, the pause flag
and the signals.

Cycles (incremental, full, housekeeping) run on an executor with a single worker, so two of
them never write at once; the watchdog has the default executor to itself, so a long full
reconcile does not starve it. Each cycle gets a fresh Engine (a fresh SQLite connection and
catalog cache) and closes it; the API clients are built once and shared.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sync.ports import Alerter
from sync.redact import Redactor
from sync.report import CycleReport
from sync.store import StateStore

from . import sdnotify
from .clients import SalesforceConnection
from .health import HealthSnapshot
from .settings import Settings
from .snapshot import health_snapshot
from .wiring import Engine, build_engine

__all__ = ["JOB_DEFAULTS", "Daemon"]

log = logging.getLogger(__name__)

INCREMENTAL, FULL, FULL_AT_START = "incremental", "full", "full-at-start"
HOUSEKEEPING, WATCHDOG = "housekeeping", "watchdog"
CYCLES = "cycles"  # the one-worker executor every cycle runs on
# APScheduler's default grace is 1 s: a run that starts a second late is silently dropped.
# Every job sets its own; this covers any job that forgets to.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
FULL_GRACE_S = 3600  # a nightly reconcile an hour late is still worth running
HOUSEKEEPING_CRON = "30 4 * * *"  # after the nightly reconcile; pruning needs no API calls
# The watchdog stops being fed when a cycle runs this much past its deadline: only a read
# hung beyond every timeout can do that, and a restart is the cure.
WATCHDOG_SLACK_S = 300
SHUTDOWN_RETRY_S = 0.05

_exit = os._exit  # module attribute, so a test can replace it


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Daemon:
    """The scheduled jobs and their shared state. ``scheduler`` and the clocks are injectable:
    tests pass a paused BackgroundScheduler and call the job methods themselves."""

    def __init__(
        self,
        settings: Settings,
        *,
        billing_client: Any,
        salesforce: SalesforceConnection,
        alerter: Alerter,
        redactor: Redactor | None = None,
        scheduler: BaseScheduler | None = None,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        environ: Mapping[str, str] = os.environ,
        engine_sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.billing_client = billing_client  # the provider's (clients.build_billing)
        self.salesforce = salesforce
        self.alerter = alerter
        self.redactor = redactor or Redactor(settings.secrets())
        self.clock = clock
        self.monotonic = monotonic
        self.environ = environ
        self.engine_sleep = engine_sleep
        # The daemon's own connection: flags, housekeeping, health snapshots (thread-safe).
        self.store = StateStore(settings.db_path, redactor=self.redactor, clock=clock)
        self.scheduler = scheduler if scheduler is not None else BlockingScheduler()
        self.scheduler.configure(
            timezone=UTC,
            job_defaults=JOB_DEFAULTS,
            executors={"default": ThreadPoolExecutor(2), CYCLES: ThreadPoolExecutor(1)},
        )
        self.scheduler.add_listener(
            self._on_event,
            EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED,
        )
        self.stop_reason: str | None = None
        self.last_report: CycleReport | None = None
        self.records_written = 0
        self.api_calls: Counter[str] = Counter()
        self._paused_as: str | None = None  # the flag's value the last cycle saw
        self._missed_alerted: set[str] = set()
        self._cycle_started: float | None = None

    # -- scheduling ------------------------------------------------------------------------
    def schedule(self, full_reason: str | None = None) -> None:
        """Add every job; with ``full_reason`` a full reconcile also runs at once."""
        s, add = self.settings, self.scheduler.add_job
        add(
            self.incremental_job,
            IntervalTrigger(seconds=s.interval_s, timezone=UTC),
            id=INCREMENTAL,
            executor=CYCLES,
            # A tick later than one interval is superseded by the next one anyway.
            misfire_grace_time=s.interval_s,
            coalesce=True,
            max_instances=1,
        )
        add(
            self.full_job,
            CronTrigger.from_crontab(s.full_reconcile, timezone=UTC),
            id=FULL,
            executor=CYCLES,
            misfire_grace_time=FULL_GRACE_S,
            coalesce=True,
            max_instances=1,
        )
        add(
            self.housekeeping_job,
            CronTrigger.from_crontab(HOUSEKEEPING_CRON, timezone=UTC),
            id=HOUSEKEEPING,
            executor=CYCLES,
            misfire_grace_time=FULL_GRACE_S,
            coalesce=True,
            max_instances=1,
        )
        if full_reason:
            log.warning("full reconcile at start: %s", full_reason)
            add(
                self.full_job,
                DateTrigger(run_date=self.clock(), timezone=UTC),
                id=FULL_AT_START,
                executor=CYCLES,
                misfire_grace_time=FULL_GRACE_S,
                coalesce=True,
                max_instances=1,
            )
        every = sdnotify.watchdog_interval(self.environ)
        if every is not None:
            add(
                self.watchdog_job,
                IntervalTrigger(seconds=every, timezone=UTC),
                id=WATCHDOG,
                misfire_grace_time=max(1, int(every)),
                coalesce=True,
                max_instances=1,
            )

    # -- jobs ------------------------------------------------------------------------------
    def incremental_job(self) -> CycleReport | None:
        return self._cycle(INCREMENTAL, self._incremental)

    def full_job(self) -> CycleReport | None:
        return self._cycle(FULL, self._full)

    def _full(self, engine: Engine, _started: float) -> CycleReport:
        if engine.over_soft_budget():
            # Above the soft API threshold a full reconcile (hundreds of calls) waits; the
            # incremental cycles keep Accounts fresh meanwhile.
            log.warning(
                "full reconcile postponed: Salesforce API usage is above "
                "BILLING_SYNC_API_SOFT_PERCENT"
            )
            return engine.run_incremental()
        report = engine.run(track_events=True)
        self._drift(report)
        return report

    def _drift(self, report: CycleReport) -> None:
        """A full reconcile after a day of incremental cycles should find nothing to fix:
        what it fixed is drift (a missed event, a hand edit), worth one message."""
        day_ago = self.clock() - timedelta(days=1)
        recent = [
            r
            for r in self.store.runs(limit=2000, kind="incremental")
            if r["started_at"] and r["started_at"] <= report.started and r["started_at"] >= day_ago
        ]
        if report.stop or not report.fields_changed or not recent:
            return
        examples = "; ".join(report.drift_examples[:3])
        self.alerter.send(
            f":mag: billing-sync drift: the full reconcile fixed {report.fields_changed} "
            f"fields the incremental cycles had not written (e.g. {examples})."
        )

    def housekeeping_job(self) -> int:
        before = self.clock() - timedelta(days=self.settings.retention_days)
        removed = self.store.prune(before=before)
        log.info("housekeeping: %d rows older than %s removed", removed, before.date())
        return removed

    def watchdog_job(self) -> bool:
        started = self._cycle_started
        limit = self.settings.cycle_timeout_s + WATCHDOG_SLACK_S
        if started is not None and self.monotonic() - started > limit:
            log.error("a cycle has run for over %d s: no longer feeding the watchdog", limit)
            return False
        return sdnotify.watchdog(self.environ)

    def _incremental(self, engine: Engine, started: float) -> CycleReport:
        report = engine.run_incremental()
        if report.needs_full and self.halt_reason(started) is None:
            log.info("incremental cycle: %s", report.needs_full)
            self._seen(report)
            report = self._full(engine, started)
        return report

    def _cycle(self, kind: str, body: Callable[[Engine, float], CycleReport]) -> CycleReport | None:
        if self.stop_reason is not None or self.paused():
            return None
        started = self.monotonic()
        self._cycle_started = started
        try:
            with self.engine(started) as engine:
                report = body(engine, started)
        finally:
            self._cycle_started = None
        self._seen(report)
        log.info(
            "%s cycle %s: %d written, %d errors, %.1f s%s",
            report.kind,
            report.outcome,
            report.written,
            sum(report.errors.values()),
            report.duration_s,
            f" ({report.halted})" if report.halted else "",
        )
        sdnotify.status(f"last {report.kind} cycle: {report.outcome}", self.environ)
        return report

    def engine(self, started: float) -> Engine:
        return build_engine(
            self.settings,
            billing_client=self.billing_client,
            salesforce=self.salesforce,
            redactor=self.redactor,
            alerter=self.alerter,
            clock=self.clock,
            sleep=self.engine_sleep,
            halt=lambda: self.halt_reason(started),
        )

    def _seen(self, report: CycleReport) -> None:
        self.last_report = report
        self.records_written += report.written
        self.api_calls.update(report.api_calls)

    # -- bounded cycles, pause -------------------------------------------------------------
    def halt_reason(self, started: float) -> str | None:
        """Why a cycle that started at ``started`` (monotonic) must stop writing, if it must."""
        if self.stop_reason is not None:
            return self.stop_reason
        limit = self.settings.cycle_timeout_s
        if self.monotonic() - started >= limit:
            return f"cycle deadline of {limit} s reached"
        return None

    def paused(self) -> bool:
        """Read the pause flag; say so once each time it changes."""
        value = self.store.get_flag("paused")
        if value != self._paused_as:
            if value is not None:
                log.warning("paused (%s): cycles are skipped until `billing-sync resume`", value)
            else:
                log.warning("resumed: cycles run again")
            self._paused_as = value
        return value is not None

    # -- health ----------------------------------------------------------------------------
    def snapshot(self) -> HealthSnapshot:
        usage = self.salesforce.sf.api_usage.get("api-usage")
        return health_snapshot(
            self.store,
            now=self.clock(),
            interval_s=self.settings.interval_s,
            records_written=self.records_written,
            api_calls=self.api_calls,
            last_report=self.last_report,
            salesforce_api_usage=(int(usage.used), int(usage.total)) if usage else None,
        )

    # -- listeners -------------------------------------------------------------------------
    def _on_event(self, event: JobEvent) -> None:
        job = event.job_id
        if event.code == EVENT_JOB_EXECUTED:
            self._missed_alerted.discard(job)
        elif event.code == EVENT_JOB_ERROR:
            assert isinstance(event, JobExecutionEvent)
            exc = event.exception
            text = self.redactor.text(f"{type(exc).__name__}: {' '.join(str(exc).split())}")
            log.error("job %s failed: %s", job, text, exc_info=exc)
            self._alert(f":x: billing-sync: the {job} job failed: {text}")
        elif event.code == EVENT_JOB_MISSED:
            assert isinstance(event, JobExecutionEvent)
            when = event.scheduled_run_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            log.warning("job %s missed its run at %s (too late to start)", job, when)
            if job not in self._missed_alerted:  # once until it runs again, not every tick
                self._missed_alerted.add(job)
                self._alert(f":warning: billing-sync: the {job} job missed its run at {when}")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.info("job %s is still running: this run is skipped", job)

    def _alert(self, text: str) -> None:
        try:
            self.alerter.send(text)
        except Exception:  # an alert that cannot go out must not take the scheduler down
            log.exception("could not send an alert")

    # -- running and stopping --------------------------------------------------------------
    def serve(self) -> None:
        """Run the scheduler until a signal stops it. Blocks with a BlockingScheduler."""
        handlers = {
            sig: signal.signal(sig, self.on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            if self.stop_reason is None:
                sdnotify.ready(self.environ)
                sdnotify.status("running", self.environ)
                self.scheduler.start()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def on_signal(self, signum: int, _frame: FrameType | None = None) -> None:
        name = signal.Signals(signum).name
        if self.stop_reason is not None:
            # The log's lock may be held by the code this handler interrupted: write directly.
            os.write(2, f"billing-sync: second {name}: exiting at once\n".encode())
            _exit(130)
            return
        self.stop_reason = f"stop requested ({name})"
        os.write(2, f"billing-sync: {name}: finishing the current write, then stopping\n".encode())
        threading.Thread(target=self.shutdown, name="billing-sync-shutdown", daemon=True).start()

    def shutdown(self) -> None:
        """Stop scheduling, wait for the running job (it halts after its current write call).

        A signal can land just before the scheduler has started: then it is retried until it
        has, for a BlockingScheduler would otherwise start and run forever.
        """
        sdnotify.stopping(self.environ)
        for _ in range(int(5 / SHUTDOWN_RETRY_S)):
            try:
                self.scheduler.shutdown(wait=True)
                return
            except SchedulerNotRunningError:
                time.sleep(SHUTDOWN_RETRY_S)

    def close(self) -> None:
        self.store.close()
