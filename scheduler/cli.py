"""The ``billing-sync`` command line: parses arguments, sets up logging, dispatches.

Each subcommand lives in ``scheduler/commands/<name>.py`` with NAME, HELP, configure(parser)
and run(args, ctx) -> exit code. Exit codes: 0 ok, 1 ran but recorded failures, 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version

from sync.redact import Redactor
from sync.store import StoreError, StoreWriteFailed

from . import logs
from .context import Context
from .settings import ConfigError

__all__ = ["build_parser", "main"]

COMMANDS = (
    "check",
    "deploy",
    "sync",
    "status",
    "errors",
    "retry",
    "run",
    "pause",
    "resume",
    "systemd-unit",
    "demo",
    "emulator",
    "reset-state",
)

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 3


def _version() -> str:
    try:
        return version("billing-sync")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    # The logging options are accepted before and after the subcommand, and from
    # BILLING_SYNC_LOG_FORMAT / BILLING_SYNC_LOG_LEVEL (in any case).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-format",
        type=str.lower,
        choices=("text", "json"),
        default=argparse.SUPPRESS,
        help="log line format on stderr (default: text; env BILLING_SYNC_LOG_FORMAT)",
    )
    common.add_argument(
        "--log-level",
        type=str.upper,
        choices=logs.LEVELS,
        default=argparse.SUPPRESS,
        help="log level (default: WARNING, INFO for run; env BILLING_SYNC_LOG_LEVEL)",
    )
    parser = argparse.ArgumentParser(
        prog="billing-sync",
        description="Keep Salesforce Accounts in step with Stripe, Chargebee or Recurly billing.",
        epilog="Configuration comes from environment variables and the optional TOML file "
        "named by BILLING_SYNC_CONFIG; see README.md.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"billing-sync {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"scheduler.commands.{name.replace('-', '_')}")
        sub = subparsers.add_parser(
            module.NAME, help=module.HELP, description=module.HELP, parents=[common]
        )
        module.configure(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    redactor = Redactor()
    env = os.environ if environ is None else environ
    fmt = getattr(args, "log_format", None) or env.get("BILLING_SYNC_LOG_FORMAT", "text").lower()
    # A command may choose its own default level (the daemon logs at INFO).
    level = (
        getattr(args, "log_level", None)
        or env.get("BILLING_SYNC_LOG_LEVEL", "").upper()
        or getattr(args, "_log_level", "WARNING")
    )
    if fmt not in ("text", "json") or level not in logs.LEVELS:
        print(
            "billing-sync: configuration error: BILLING_SYNC_LOG_FORMAT/BILLING_SYNC_LOG_LEVEL: "
            f"expected text|json and one of {', '.join(logs.LEVELS)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    logs.configure_logging(fmt, level, redactor)
    ctx = Context(environ, redactor=redactor)
    try:
        return int(args._run(args, ctx))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"billing-sync: configuration error: {redactor.text(problem)}", file=sys.stderr)
        return EXIT_USAGE
    except StoreWriteFailed as exc:
        # Mid-cycle: the cycle stopped before writing to Salesforce what it could not record.
        print(
            f"billing-sync: stopped: local state file: {redactor.text(str(exc))}", file=sys.stderr
        )
        return EXIT_STOPPED
    except StoreError as exc:
        print(f"billing-sync: local state file: {redactor.text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("billing-sync: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
