"""The ``billing-sync`` command line: parses arguments, sets up logging, dispatches.

Each subcommand lives in ``scheduler/commands/<name>.py`` with NAME, HELP, configure(parser)
and run(args, ctx) -> exit code. Exit codes: 0 ok, 1 ran but recorded failures, 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version

from sync.redact import Redactor
from sync.store import StoreError

from . import logs
from .context import Context
from .settings import ConfigError

__all__ = ["build_parser", "main"]

COMMANDS = ("check", "deploy", "sync", "status", "errors", "retry", "demo", "emulator")

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


def _version() -> str:
    try:
        return version("billing-sync")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billing-sync",
        description="Keep Salesforce Accounts in step with Stripe billing.",
        epilog="Configuration comes from environment variables and the optional TOML file "
        "named by BILLING_SYNC_CONFIG; see README.md.",
    )
    parser.add_argument("--version", action="version", version=f"billing-sync {_version()}")
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log line format on stderr (default: text)",
    )
    parser.add_argument(
        "--log-level", default="WARNING", choices=logs.LEVELS, help="log level (default: WARNING)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"scheduler.commands.{name}")
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    redactor = Redactor()
    logs.configure_logging(args.log_format, args.log_level, redactor)
    ctx = Context(environ, redactor=redactor)
    try:
        return int(args._run(args, ctx))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"billing-sync: configuration error: {redactor.text(problem)}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"billing-sync: local state file: {redactor.text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("billing-sync: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
