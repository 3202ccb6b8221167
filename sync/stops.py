"""A cycle that could not even start (login refused, Salesforce unreachable, a CA that does
not verify): recorded and alerted like any other stop, so an operator hears of it once and
`status` shows it, instead of a traceback nobody reads."""

from __future__ import annotations

from datetime import datetime

from metadata.schema import Category

from .alerts import alert_cycle
from .core.failures import CYCLE_SUBJECT, Failure
from .errors import SyncFailure
from .ports import Alerter, Store
from .report import CycleReport

__all__ = ["record_stop"]


def record_stop(
    store: Store,
    alerter: Alerter | None,
    *,
    kind: str,
    error: SyncFailure | None = None,
    message: str = "",
    now: datetime,
) -> CycleReport:
    """Record a run of ``kind`` that stopped before its first call, and alert (hourly)."""
    report = CycleReport(kind=kind, started=now)
    if error is not None:
        report.stop = Failure(
            error.category, error.code or type(error).__name__, error.message, CYCLE_SUBJECT
        )
    else:
        report.stop = Failure(Category.CONFIGURATION, "CONFIGURATION", message, CYCLE_SUBJECT)
    run_id = store.start_run(kind, dry_run=False, now=now)
    report.errors[report.stop.category] += 1
    report.recorded.extend(store.record_news([report.stop], now=now))
    store.finish_run(
        run_id, status="stopped", counts=report.summary(), api_calls={}, duration_s=0.0, now=now
    )
    if alerter is not None:
        alert_cycle(alerter, store, report, now=now)
    return report
