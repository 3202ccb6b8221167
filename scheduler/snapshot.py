"""The daemon's health snapshot, read from the SQLite file on every request.

The store is the truth (it outlives the process and sees runs of ``billing-sync sync`` too);
only the counters "since the daemon started" and the last report come from the daemon itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync.core.failures import CYCLE_SUBJECT, FailureState
from sync.report import CycleReport
from sync.store import StateStore

from .health import HealthSnapshot

__all__ = ["FINISHED", "health_snapshot", "last_finished"]

# A run that got through its accounts; failures of single records do not make it unfinished.
FINISHED = frozenset({"ok", "failures"})
# How far back to look for the last finished run of a kind: a daemon that failed this many
# times in a row is not ready whatever happened before.
_LOOKBACK = 50


def last_finished(store: StateStore, kind: str) -> dict[str, Any] | None:
    """The newest run of ``kind`` that finished (not dry, not stopped, halted or crashed)."""
    for run in store.runs(_LOOKBACK, kind=kind):
        if not run["dry_run"] and run["status"] in FINISHED and run["finished_at"]:
            return run
    return None


def health_snapshot(
    store: StateStore,
    *,
    now: datetime,
    interval_s: float,
    records_written: int = 0,
    api_calls: Mapping[str, int] | None = None,
    last_report: CycleReport | None = None,
    salesforce_api_usage: tuple[int, int] | None = None,
) -> HealthSnapshot:
    last_attempt: dict[str, datetime] = {}
    last_success: dict[str, datetime] = {}
    durations: dict[str, float] = {}
    drift: int | None = None
    for kind in ("incremental", "full"):
        attempts = [r for r in store.runs(1, kind=kind) if not r["dry_run"]]
        if attempts:
            last_attempt[kind] = attempts[0]["started_at"]
        done = last_finished(store, kind)
        if done is not None:
            last_success[kind] = done["finished_at"]
            durations[kind] = float(done["duration_s"] or 0.0)
            if kind == "full":
                drift = int(done["counts"].get("fields_changed", 0))
    if last_report is not None and last_report.kind in durations:
        durations[last_report.kind] = last_report.duration_s
    unresolved = store.open_failures()
    cursor = store.events_cursor()
    return HealthSnapshot(
        now=now,
        interval_s=interval_s,
        last_attempt=last_attempt,
        last_success=last_success,
        last_duration_s=durations,
        records_written_total=records_written,
        failures_open=Counter(str(r.category) for r in unresolved if r.status != FailureState.DEAD),
        dead_letters=sum(1 for r in unresolved if r.status == FailureState.DEAD),
        api_calls_total=dict(api_calls or {}),
        salesforce_api_usage=salesforce_api_usage,
        drift_fields=drift,
        events_lag_s=(now - cursor).total_seconds() if cursor else None,
        stop_open=next((r.message for r in unresolved if r.subject == CYCLE_SUBJECT), None),
        paused=store.get_flag("paused") is not None,
    )
