"""``billing-sync status``: what the local SQLite file says, without contacting any service.

The store is opened read-only: status never writes the file and never waits for the daemon
(WAL readers do not queue behind a writer), so a monitor may run it as often as it likes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metadata import schema
from metadata.schema import Category
from scheduler.runlock import read_holder
from scheduler.statefile import has_state, iso, no_state_message, number, when
from sync.core.failures import FailureState
from sync.store import StateStore

if TYPE_CHECKING:
    from scheduler.context import Context

NAME = "status"
HELP = (
    "Show the daemon, the last runs and the open failures from the local SQLite file; "
    "contacts no service."
)
RUNS_SHOWN = 10
# The cursor where a deploy records the schema version it put in the org, when it does.
SCHEMA_CURSOR = "schema_version"

__all__ = ["HELP", "NAME", "collect", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (null for what is unknown)"
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    path = ctx.settings.db_path
    if not has_state(path):
        # Exit 1: a monitor pointed at the wrong file, or at a daemon that never ran, should
        # go red rather than report an all-clear.
        print(no_state_message(path), file=sys.stderr)
        return 1
    with StateStore(path, read_only=True, redactor=ctx.redactor) as store:
        data = collect(store, path, now=datetime.now(UTC))
    if args.json:
        ctx.out(json.dumps(data, indent=2))
    else:
        _print_table(ctx, data)
    return 0


def collect(store: StateStore, path: Path, *, now: datetime) -> dict[str, Any]:
    """The status as one JSON-ready object: numbers as numbers, None for what is unknown."""
    holder = read_holder(path)
    runs = store.runs(RUNS_SHOWN)
    unresolved = store.open_failures()
    # Dead letters are counted apart, as /metrics does: nothing retries them by itself.
    open_by_category = Counter(str(r.category) for r in unresolved if r.status != FailureState.DEAD)
    cursor = store.events_cursor()
    pause_note = store.get_flag("paused")
    return {
        "state_file": str(path),
        "runner": None
        if holder is None
        else {
            "pid": holder.pid,
            "command": holder.command,
            "since": iso(holder.since),
            "hostname": holder.hostname,
        },
        "paused": pause_note is not None,
        "pause_note": pause_note,
        "events_cursor": iso(cursor),
        # A clock stepped back must not make the cursor look younger than now: 0, not negative.
        "events_cursor_age_s": None
        if cursor is None
        else max(0, round((now - cursor).total_seconds())),
        "open_failures": {str(c): open_by_category.get(str(c), 0) for c in Category},
        "dead_letters": sum(1 for r in unresolved if r.status == FailureState.DEAD),
        "unmirrored": len(store.unmirrored()),
        "sync_errors_refused": number(_latest(runs, "sync_errors_refused")),
        "salesforce_api_usage": _latest(runs, "salesforce_api_usage"),
        "schema_version": store.get_cursor(SCHEMA_CURSOR),
        "runs": [_run(r) for r in runs],
    }


def _latest(runs: list[dict[str, Any]], key: str) -> Any:
    """``key`` from the newest run that recorded it (a run still going has no counts yet)."""
    return next((r["counts"][key] for r in runs if key in r["counts"]), None)


def _run(r: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = r["counts"]
    by_category = counts.get("errors_by_category")
    return {
        "id": r["id"],
        "kind": r["kind"],
        "dry_run": r["dry_run"],
        "outcome": r["status"],
        "started_at": iso(r["started_at"]),
        "finished_at": iso(r["finished_at"]),
        "duration_s": None if r["duration_s"] is None else round(float(r["duration_s"]), 3),
        "records_written": number(counts.get("records_written")),
        "failures_new": number(counts.get("new_failures")),
        "failures_seen": sum(by_category.values()) if isinstance(by_category, dict) else None,
        "api_calls": dict(r["api_calls"]),
    }


def _print_table(ctx: Context, data: dict[str, Any]) -> None:
    runner = data["runner"]
    rows: list[tuple[str, object]] = [
        ("state file", data["state_file"]),
        (
            "runner",
            "none (no daemon or sync holds the lock)"
            if runner is None
            else f"{runner['command']}, pid {runner['pid']}, since "
            f"{when(datetime.fromisoformat(runner['since']))}",
        ),
        ("paused", f"yes ({data['pause_note']})" if data["paused"] else "no"),
        ("events cursor", _cursor(data)),
        ("open failures", sum(data["open_failures"].values())),
    ]
    rows += [(f"  {cat}", n) for cat, n in data["open_failures"].items() if n]
    rows += [
        ("dead letters (no automatic retry)", data["dead_letters"]),
        ("failures not yet in Salesforce", data["unmirrored"]),
        ("Sync_Error__c refused (last run)", _or_dash(data["sync_errors_refused"])),
        ("Salesforce API usage", _usage(data["salesforce_api_usage"])),
        ("deployed schema", _schema(data["schema_version"])),
    ]
    ctx.out(ctx.table(("status", "value"), rows))
    ctx.out()
    run_rows = [
        (
            r["kind"],
            when(datetime.fromisoformat(r["started_at"])),
            "" if r["duration_s"] is None else f"{r['duration_s']:.1f} s",
            r["outcome"],
            _or_dash(r["records_written"]),
            f"{_or_dash(r['failures_new'])}/{_or_dash(r['failures_seen'])}",
            ", ".join(f"{svc} {n}" for svc, n in sorted(r["api_calls"].items())),
        )
        for r in data["runs"]
    ]
    ctx.out(
        ctx.table(
            ("kind", "started", "duration", "outcome", "written", "failures new/seen", "API calls"),
            run_rows,
        )
    )


def _or_dash(value: object) -> str:
    return "—" if value is None else str(value)


def _cursor(data: dict[str, Any]) -> str:
    if data["events_cursor"] is None:
        return "none (no billing events read yet)"
    at = when(datetime.fromisoformat(data["events_cursor"]))
    return f"{at} ({_age(data['events_cursor_age_s'])} old)"


def _age(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _usage(value: Any) -> str:
    """``[used, allocation]`` (as the daemon's health snapshot holds it) as a share; anything
    else as recorded."""
    if isinstance(value, list | tuple) and len(value) == 2:
        used, total = value
        if isinstance(used, int | float) and isinstance(total, int | float) and total:
            return f"{used:,} of {total:,} ({100 * used / total:.0f}%)"
    return _or_dash(value)


def _schema(version: str | None) -> str:
    current = f"this release: v{schema.SCHEMA_VERSION}"
    return f"not recorded ({current})" if version is None else f"v{version} ({current})"
