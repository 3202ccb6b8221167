"""``billing-sync sync``: run one cycle (a full reconcile, or ``--incremental``) and print
what it did. Holds the runner lock for the cycle, so it never runs beside the daemon."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from scheduler.context import Context, show_value
from scheduler.settings import ConfigError
from sync.core.diff import RecordChange
from sync.core.values import to_salesforce
from sync.errors import SyncFailure
from sync.report import CycleReport

NAME = "sync"
HELP = (
    "Run one sync cycle: Stripe billing state → Salesforce Accounts and Subscriptions "
    "(a full reconcile, or --incremental)."
)
# A Salesforce Account Id: 15 or 18 characters, key prefix 001.
ACCOUNT_ID = re.compile(r"001[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")

__all__ = ["HELP", "NAME", "TerminalProgress", "configure", "print_report", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the field-level diff (Account, field, old → new); write nothing",
    )
    parser.add_argument(
        "--account", metavar="ID", help="limit the cycle to one Salesforce Account Id"
    )
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="only what changed since the last cycle (billing events, Account links, due "
        "retries); runs a full reconcile when there is no usable events cursor yet",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="wait for another running billing-sync (the daemon) instead of exiting 2",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=200,
        metavar="N",
        help="with --dry-run: show at most N changed records (default 200; 0 for all)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from scheduler.runlock import LockHeld, RunnerLock
    from scheduler.wiring import build_engine

    if args.account is not None and not ACCOUNT_ID.fullmatch(args.account):
        print(
            f"billing-sync: --account: {args.account!r} is not a Salesforce Account Id "
            "(15 or 18 letters and digits starting with 001)",
            file=sys.stderr,
        )
        return 2
    if args.incremental and (args.account or args.dry_run):
        print(
            "billing-sync: --incremental cannot be combined with --account or --dry-run",
            file=sys.stderr,
        )
        return 2
    settings = ctx.settings
    show = sys.stderr.isatty() and not args.json
    lock = None
    if not args.dry_run:  # a dry run writes nothing, so it may run beside anything
        lock = RunnerLock(settings.db_path, command="sync")
        try:
            lock.acquire(wait=args.wait)
        except LockHeld as exc:
            print(f"billing-sync: {exc}; try again later or pass --wait", file=sys.stderr)
            return 2
    try:
        try:
            billing_client, salesforce = ctx.billing(), ctx.salesforce()
        except (SyncFailure, ConfigError) as exc:
            return _stopped_before_start(ctx, args, exc)
        with build_engine(
            settings,
            billing_client=billing_client,
            salesforce=salesforce,
            redactor=ctx.redactor,
            read_only=args.dry_run,
            progress=TerminalProgress(sys.stderr) if show else None,
        ) as engine:
            if args.incremental:
                report = engine.run_incremental()
                if report.needs_full:
                    print(f"billing-sync: {report.needs_full}", file=sys.stderr)
                    report = engine.run(track_events=True)
            else:
                report = engine.run(dry_run=args.dry_run, account_id=args.account)
    finally:
        if lock is not None:
            lock.release()
    print_report(ctx, report, as_json=args.json, limit=args.limit)
    if report.stopped:
        print(f"billing-sync: stopped: {ctx.redactor.text(report.stopped)}", file=sys.stderr)
    if args.account and not report.accounts_read and not report.stopped:
        print(f"billing-sync: no Account with Id {args.account}", file=sys.stderr)
        return 2
    return report.exit_code


def _stopped_before_start(
    ctx: Context, args: argparse.Namespace, exc: SyncFailure | ConfigError
) -> int:
    """Login refused, Salesforce unreachable, a CA that does not verify: recorded as a
    stopped run and alerted (hourly), one line on stderr, one JSON object with --json."""
    from scheduler.clients import build_alerter
    from sync.stops import record_stop
    from sync.store import StateStore

    settings = ctx.settings
    kind = "account" if args.account else ("incremental" if args.incremental else "full")
    message = exc.message if isinstance(exc, SyncFailure) else str(exc)
    if not args.dry_run:
        with StateStore(settings.db_path, redactor=ctx.redactor) as store:
            report = record_stop(
                store,
                build_alerter(settings),
                kind=kind,
                error=exc if isinstance(exc, SyncFailure) else None,
                message=message,
                now=datetime.now(UTC),
            )
        if args.json:
            ctx.out(json.dumps(report.summary(), indent=2, default=str))
    elif args.json:
        ctx.out(json.dumps({"kind": kind, "dry_run": True, "stopped": message}))
    first = "configuration error" if isinstance(exc, ConfigError) else "stopped"
    print(f"billing-sync: {first}: {ctx.redactor.text(message)}", file=sys.stderr)
    return 2 if isinstance(exc, ConfigError) else 3


class TerminalProgress:
    """Phase lines, and a bar redrawn in place while records are written."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.in_bar = False

    def __call__(self, message: str, done: int | None = None, total: int | None = None) -> None:
        if done is None or not total:
            self._end_bar()
            print(f"… {message}", file=self.stream, flush=True)
            return
        filled = self.WIDTH * done // total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        print(f"\r[{bar}] {message}", end="", file=self.stream, flush=True)
        self.in_bar = True
        if done >= total:
            self._end_bar()

    def _end_bar(self) -> None:
        if self.in_bar:
            print(file=self.stream, flush=True)
            self.in_bar = False


def print_report(
    ctx: Context, report: CycleReport, *, as_json: bool = False, limit: int = 0
) -> None:
    if as_json:
        data: dict[str, Any] = report.summary()
        if report.dry_run:
            # JSON-native values (numbers as numbers, null for empty), as Salesforce takes them.
            shown = report.changes[:limit] if limit else report.changes
            data["changes"] = [
                {
                    "sobject": c.sobject,
                    "key": c.key,
                    "id": c.record_id,
                    "fields": {k: [o, to_salesforce(n)] for k, (o, n) in c.fields.items()},
                }
                for c in shown
            ]
            data["changes_not_shown"] = len(report.changes) - len(shown)
            data["would_record"] = [
                {
                    "category": str(f.category),
                    "code": f.code,
                    "subject": f.subject,
                    "message": f.message,
                }
                for f in report.would_record
            ]
        ctx.out(json.dumps(data, indent=2, default=str))
        return
    if report.dry_run:
        shown = report.changes[:limit] if limit else report.changes
        change_rows = [
            (
                c.sobject,
                _record_label(c, report.account_names),
                name,
                show_value(old),
                show_value(new),
            )
            for c in shown
            for name, (old, new) in c.fields.items()
        ]
        ctx.out(f"Dry run: {len(report.changes)} records would change, nothing was written.")
        if change_rows:
            ctx.out(ctx.table(("object", "record", "field", "old", "new"), change_rows))
        if len(shown) < len(report.changes):
            ctx.out(
                f"… {len(report.changes) - len(shown):,} more changed records not shown "
                "(--limit 0 shows all)"
            )
        for f in report.would_record:
            ctx.out(f"would record: {f.category} {f.code} ({f.subject}): {f.message}")
    s = report.summary()
    rows: list[tuple[str, object]] = [
        ("Accounts read", s["accounts_read"]),
        ("Accounts matched to Stripe", s["accounts_matched"]),
        ("Accounts changed", s["accounts_changed"]),
        ("Subscriptions changed", s["subscriptions_changed"]),
        ("Records written", s["records_written"]),
        ("Records deferred (backing off)", s["records_deferred"]),
        ("Errors resolved", s["errors_resolved"]),
    ]
    rows += [(f"Errors: {cat}", n) for cat, n in sorted(report.errors.items())]
    rows += [(f"API calls: {svc}", n) for svc, n in sorted(report.api_calls.items())]
    rows.append(("Duration", f"{report.duration_s:.2f} s"))
    ctx.out(ctx.table(("sync", "count"), rows))
    if report.stopped:
        ctx.out(f"Cycle stopped: {report.stopped}")


def _record_label(change: RecordChange, names: dict[str, str]) -> str:
    """Who a changed record belongs to, the way a rep would recognise it."""
    if change.sobject == "Account":
        return f"{names.get(str(change.record_id), '')} ({change.record_id})".strip()
    account = names.get(str(change.account_id), "")
    label = change.record_id or f"(new) {change.key}"
    return f"{label} ({account})" if account else label
