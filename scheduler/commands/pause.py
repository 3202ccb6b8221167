"""``billing-sync pause``: the daemon skips its cycles until ``resume``. A flag in the SQLite
file, so it works while the daemon runs (it reads the flag before each cycle) and survives
restarts."""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import UTC, datetime

from scheduler.context import Context

NAME = "pause"
HELP = "Pause the daemon's cycles (the one running finishes) until `billing-sync resume`."
FLAG = "paused"

__all__ = ["FLAG", "HELP", "NAME", "configure", "run", "who"]


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return f"uid {os.getuid()}"


def run(args: argparse.Namespace, ctx: Context) -> int:
    from sync.store import StateStore

    with StateStore(ctx.settings.db_path, redactor=ctx.redactor) as store:
        current = store.get_flag(FLAG)
        if current is not None:
            ctx.out(f"already paused ({current}); `billing-sync resume` to undo")
            return 0
        now = datetime.now(UTC).replace(microsecond=0)
        value = f"{now.isoformat()} by {who()}"
        store.set_flag(FLAG, value, now=now)
    ctx.out(f"paused ({value}): cycles are skipped until `billing-sync resume`")
    return 0
