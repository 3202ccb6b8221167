"""``billing-sync systemd-unit``: print the service unit that runs this installation's
``billing-sync run`` under systemd (Type=notify, watchdog, hardened)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from scheduler.context import Context

NAME = "systemd-unit"
HELP = "Print a systemd service unit for `billing-sync run` (save it, then systemctl enable)."

__all__ = ["HELP", "NAME", "configure", "executable", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default="billing-sync", help="User= (default: billing-sync)")
    parser.add_argument(
        "--env-file",
        default="/etc/billing-sync/env",
        help="EnvironmentFile= holding the settings (default: /etc/billing-sync/env)",
    )
    parser.add_argument(
        "--working-dir",
        default="/var/lib/billing-sync",
        help="WorkingDirectory=, where BILLING_SYNC_DB lives (default: /var/lib/billing-sync)",
    )


def executable() -> str:
    """The billing-sync program of this installation, as an absolute path."""
    # The entry-point script sits beside the interpreter in a venv; PATH may name another.
    beside = Path(sys.executable).parent / "billing-sync"
    if beside.is_file():
        return str(beside.absolute())
    found = shutil.which("billing-sync")
    if found:
        return str(Path(found).absolute())
    return f"{Path(sys.executable).absolute()} -m scheduler.cli"


def run(args: argparse.Namespace, ctx: Context) -> int:
    from scheduler.systemd import unit_text

    try:
        text = unit_text(
            exec_start=f"{executable()} run",
            env_file=args.env_file,
            user=args.user,
            working_dir=args.working_dir,
        )
    except ValueError as exc:
        print(f"billing-sync: systemd-unit: {exc}", file=sys.stderr)
        return 2
    ctx.out(text.rstrip("\n"))
    return 0
