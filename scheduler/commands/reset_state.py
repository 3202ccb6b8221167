"""``billing-sync reset-state``: set the local state file aside and start afresh.

For a file that belongs to another org or billing account (a refreshed sandbox, a live key
after a test key). The file is renamed, never deleted: its history stays readable."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from scheduler.context import Context

NAME = "reset-state"
HELP = "Set the local SQLite state file aside (renamed, not deleted) and start a new one."

__all__ = ["HELP", "NAME", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="confirm without asking (for scripts)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from scheduler.runlock import LockHeld, RunnerLock

    path = ctx.settings.db_path
    if not path.exists():
        ctx.out(f"nothing to reset: {path} does not exist")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print("billing-sync: reset-state: pass --yes to confirm", file=sys.stderr)
            return 2
        answer = input(f"Set {path} aside and start a new state file? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            ctx.out("nothing changed")
            return 0
    try:
        with RunnerLock(path, command="reset-state"):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = path.with_name(f"{path.name}.{stamp}.bak")
            path.rename(aside)
            for suffix in ("-wal", "-shm"):
                extra = path.with_name(path.name + suffix)
                if extra.exists():
                    extra.rename(aside.with_name(aside.name + suffix))
    except LockHeld as exc:
        print(f"billing-sync: {exc}; stop it first", file=sys.stderr)
        return 2
    ctx.out(f"set {path} aside as {aside}; the next cycle starts a new one (a full reconcile)")
    return 0
