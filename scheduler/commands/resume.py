"""``billing-sync resume``: clear the pause flag; the daemon's next cycle runs."""

from __future__ import annotations

import argparse

from scheduler.commands.pause import FLAG
from scheduler.context import Context

NAME = "resume"
HELP = "Resume the daemon's cycles after `billing-sync pause`."

__all__ = ["HELP", "NAME", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, ctx: Context) -> int:
    from sync.store import StateStore

    with StateStore(ctx.settings.db_path, redactor=ctx.redactor) as store:
        current = store.get_flag(FLAG)
        if current is None:
            ctx.out("not paused: nothing to resume")
            return 0
        store.set_flag(FLAG, None)
    ctx.out(f"resumed (was paused {current}): the next cycle runs")
    return 0
