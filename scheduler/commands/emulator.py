"""``billing-sync emulator``: run a local stand-in (Stripe, Salesforce, Chargebee, Recurly) in
the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.context import Context

NAME = "emulator"
HELP = (
    "Run a local stand-in (stripe, salesforce, chargebee or recurly) for trying billing-sync "
    "or the vendors' SDKs without accounts."
)
# Fixed defaults so a README or a shell history keeps working; 0 picks a free port.
DEFAULT_PORTS = {"stripe": 12111, "chargebee": 12112, "recurly": 12113}

__all__ = ["HELP", "NAME", "configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "service", choices=("stripe", "salesforce", "chargebee", "recurly"), help="which stand-in"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="port on 127.0.0.1 (default: 12111 stripe, 12112 chargebee, 12113 recurly, a "
        "free one for salesforce; 0 for a free one)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("./emulator-salesforce"),
        help="salesforce only: where to write the CA file and the JWT key pair "
        "(default: ./emulator-salesforce)",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    # Printed as is: the stand-in's throwaway test key is what the user came for, and the
    # redactor would mask it as it masks every key-shaped string.
    def say(text: str) -> None:
        print(text, flush=True)

    port = args.port if args.port is not None else DEFAULT_PORTS.get(args.service, 0)
    if args.service == "stripe":
        from standins.stripe import serve_forever

        serve_forever(port=port, out=say)
        return 0
    if args.service == "chargebee":
        from standins.chargebee import serve_forever as serve_chargebee

        serve_chargebee(port=port, out=say)
        return 0
    if args.service == "recurly":
        from standins.recurly import serve_forever as serve_recurly

        serve_recurly(port=port, out=say)
        return 0
    from standins.salesforce.cli import serve

    args.dir.mkdir(parents=True, exist_ok=True)
    # standins are not type-checked (follow_imports = skip): say what serve() returns.
    code: int = serve(port, args.dir, out=sys.stdout)
    return code
