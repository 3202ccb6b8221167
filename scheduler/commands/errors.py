"""``billing-sync errors``: the open failures as the local SQLite file holds them.

The same failures Salesforce shows as Sync_Error__c records, read without Salesforce: useful
when Salesforce is the thing that is down, or when the mirror is behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from metadata.schema import Category
from scheduler.statefile import has_state, iso, no_state_message, parse_category, when
from sync.core.failures import FailureRow
from sync.store import StateStore

if TYPE_CHECKING:
    from scheduler.context import Context

NAME = "errors"
HELP = "List the open failures (dead letters included) from the local SQLite file."
DEFAULT_LIMIT = 50
MESSAGE_WIDTH = 100
# Enough of the fingerprint to be unique in practice; `retry` takes 8 characters or more.
FINGERPRINT_SHOWN = 12

__all__ = ["HELP", "NAME", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--category",
        metavar="NAME",
        help="only this category: " + ", ".join(c.value for c in Category),
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show at most N failures, oldest first (default {DEFAULT_LIMIT})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, ctx: Context) -> int:
    category = None
    if args.category is not None:
        category = parse_category(args.category)
        if category is None:
            names = ", ".join(c.value for c in Category)
            print(
                f"billing-sync: --category: {args.category!r} is not a category ({names})",
                file=sys.stderr,
            )
            return 2
    if args.limit < 1:
        print(f"billing-sync: --limit: {args.limit} is not a positive number", file=sys.stderr)
        return 2
    path = ctx.settings.db_path
    if not has_state(path):
        print(no_state_message(path), file=sys.stderr)
        return 1
    with StateStore(path, read_only=True, redactor=ctx.redactor) as store:
        rows = [r for r in store.open_failures() if category is None or r.category == category]
    shown = rows[: args.limit]
    if args.json:
        data = {
            "category": None if category is None else str(category),
            "total": len(rows),
            "shown": len(shown),
            "failures": [_as_json(r) for r in shown],
        }
        ctx.out(json.dumps(data, indent=2))
        return 0
    if not rows:
        ctx.out("no open failures" + ("" if category is None else f" in {category}"))
        return 0
    ctx.out(
        ctx.table(
            (
                "fingerprint",
                "category",
                "subject",
                "Account",
                "customer",
                "code",
                "message",
                "attempts",
                "next retry",
                "status",
            ),
            [_as_row(r) for r in shown],
        )
    )
    ctx.out(f"{len(shown)} of {len(rows)} open failures shown")
    return 0


def _first_line(message: str, width: int = MESSAGE_WIDTH) -> str:
    """The message's first line, cut to ``width`` characters (an ellipsis marks the cut)."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _as_row(r: FailureRow) -> tuple[str, ...]:
    return (
        r.fingerprint[:FINGERPRINT_SHOWN],
        str(r.category),
        r.subject,
        r.account_id or "",
        r.customer_id or "",
        r.code,
        _first_line(r.message),
        str(r.attempts),
        when(r.shown_next_retry),
        str(r.status),
    )


def _as_json(r: FailureRow) -> dict[str, Any]:
    return {
        "fingerprint": r.fingerprint,
        "category": str(r.category),
        "subject": r.subject,
        "account_id": r.account_id,
        "customer_id": r.customer_id,
        "code": r.code,
        "message": r.message,
        "attempts": r.attempts,
        "next_retry": iso(r.shown_next_retry),
        "status": str(r.status),
        "first_seen": iso(r.first_seen),
        "last_seen": iso(r.last_seen),
        "in_salesforce": r.mirrored,
    }
