"""``billing-sync retry``: make open failures due now, as ticking Retry Requested does.

Only the local SQLite file changes (the next cycle retries and updates the Sync_Error__c
record), so this works while Salesforce is down and beside a running daemon: the store's
write transactions are atomic, and the daemon reads the queue afresh every cycle.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scheduler.statefile import has_state, no_state_message
from sync.core.failures import FailureRow
from sync.store import StateStore

if TYPE_CHECKING:
    from scheduler.context import Context

NAME = "retry"
HELP = (
    "Retry an open failure (by fingerprint, or a unique prefix of 8+ characters) or --all "
    "on the next cycle, as ticking Retry Requested does."
)
MIN_PREFIX = 8
_HEX = re.compile(r"[0-9a-f]+")

__all__ = ["HELP", "NAME", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "fingerprint",
        nargs="?",
        metavar="FINGERPRINT",
        help="the Sync_Error__c record's Fingerprint__c (or its first 8+ characters)",
    )
    which.add_argument("--all", action="store_true", help="every open failure")


def run(args: argparse.Namespace, ctx: Context) -> int:
    path = ctx.settings.db_path
    # Checked before opening: opening a missing file read-write would create it.
    if not has_state(path):
        print(no_state_message(path, "nothing to retry"), file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    with StateStore(path, redactor=ctx.redactor) as store:
        if args.all:
            done = sum(1 for r in store.open_failures() if store.requeue(r.fingerprint, now=now))
            ctx.out(f"requeued {done} open failures: the next cycle retries them")
            return 0
        found = _find(store, args.fingerprint)
        if isinstance(found, str):
            print(f"billing-sync: {found}", file=sys.stderr)
            return 2
        row = store.requeue(found.fingerprint, now=now)
    assert row is not None  # found among the open failures, inside this one process
    ctx.out(
        f"requeued {row.fingerprint} ({row.category}, {row.subject}): the next cycle retries it"
    )
    if not row.attempted:
        # A data problem is re-read every cycle anyway: only fixing the data resolves it.
        ctx.out("it is a data problem: it resolves once the data is fixed")
    return 0


def _find(store: StateStore, typed: str) -> FailureRow | str:
    """The one open failure whose fingerprint starts with ``typed``, or why there is none."""
    prefix = typed.strip().lower()
    if len(prefix) < MIN_PREFIX or not _HEX.fullmatch(prefix):
        return (
            f"{typed!r} is not a fingerprint: give at least {MIN_PREFIX} of its hex "
            "characters (Fingerprint__c on the Sync_Error__c record, or `billing-sync errors`)"
        )
    matches = [r for r in store.open_failures() if r.fingerprint.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        return f"{typed} matches {len(matches)} open failures: give more characters"
    known = store.failure(prefix)
    if known is not None:
        return f"{typed} is already resolved: nothing to retry"
    return f"no open failure has fingerprint {typed} (see `billing-sync errors`)"
