"""``billing-sync emulator``: run a local Stripe or Salesforce stand-in in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.context import Context

NAME = "emulator"
HELP = "Run a local stand-in (stripe or salesforce) for trying billing-sync without accounts."

__all__ = ["HELP", "NAME", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", choices=("stripe", "salesforce"), help="which stand-in")
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="port on 127.0.0.1 (default: 12111 for stripe, a free one for salesforce)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("./emulator-salesforce"),
        help="salesforce only: where to write the CA file and the JWT key pair "
        "(default: ./emulator-salesforce)",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.service == "stripe":
        from standins.stripe import serve_forever

        # Printed as is: the stand-in's throwaway test key is what the user came for, and the
        # redactor would mask it as it masks every key-shaped string.
        serve_forever(port=args.port or 12111, out=lambda text: print(text, flush=True))
        return 0
    from standins.salesforce.cli import serve

    args.dir.mkdir(parents=True, exist_ok=True)
    # standins are not type-checked (follow_imports = skip): say what serve() returns.
    code: int = serve(args.port, args.dir, out=sys.stdout)
    return code
