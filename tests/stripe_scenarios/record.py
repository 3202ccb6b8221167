"""Record every scenario into tests/cassettes/stripe/<scenario>.yaml.

    python -m tests.stripe_scenarios.record [scenario ...]

Against a freshly started Stripe stand-in by default, or against Stripe test mode when both
STRIPE_API_BASE and STRIPE_API_KEY are set (live keys are refused). Each checkpoint runs the
project's Stripe reader, so the cassette holds the calls a sync makes at that point.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

import stripe

from .common import Checkpoint
from .replay import CASSETTES, cassette_path, make_vcr
from .scenarios import SCENARIOS

__all__ = ["main", "record"]


# 2026-11-26 12:00:00 UTC, the day the cassettes were first recorded.
RECORDING_TIME = 1_795_694_400

def reader_checkpoint(client: stripe.StripeClient) -> Checkpoint:
    from sync.stripe_io import StripeSource

    def checkpoint(label: str, customer_ids: list[str]) -> None:
        StripeSource(client).fetch(customer_ids)

    return checkpoint


def record(
    names: Sequence[str] | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    make_checkpoint: Callable[[stripe.StripeClient], Checkpoint] = reader_checkpoint,
    out: Callable[[str], object] = print,
) -> list[str]:
    """Record the named scenarios (all by default); returns the cassette paths written."""
    names = list(names or SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    standin = None
    if base_url and api_key:
        if api_key.startswith(("sk_live_", "rk_live_")):
            raise SystemExit("refusing to record with a live-mode key: use an sk_test_ key")
        kind = "Stripe test mode"
    else:
        from standins.stripe import StripeStandIn

        standin = StripeStandIn(api_key="sk_test_standin")
        # A fixed clock: re-recording against the stand-in reproduces the same dates, so the
        # hand-computed expectations in tests/test_cassette_e2e.py stay true.
        standin.set_time(RECORDING_TIME)
        base_url, api_key = standin.start(), standin.api_key
        kind = "billing-sync Stripe stand-in"
    info = {"kind": kind, "stripe_python": stripe.VERSION,
            "api_version": stripe.api_version}  # fmt: skip
    written = []
    try:
        client = stripe.StripeClient(api_key, base_addresses={"api": base_url})
        recorder = make_vcr("all", info)
        CASSETTES.mkdir(parents=True, exist_ok=True)
        for name in names:
            path = cassette_path(name)
            # vcrpy's "all" mode keeps a cassette's old interactions beside the new ones:
            # start from an empty file so the cassette is exactly this recording.
            path.unlink(missing_ok=True)
            with recorder.use_cassette(str(path)):
                SCENARIOS[name](client, make_checkpoint(client))
            written.append(str(path))
            out(f"recorded {name} -> {path}")
    finally:
        if standin is not None:
            standin.stop()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    record(args or None, base_url=os.environ.get("STRIPE_API_BASE"),
           api_key=os.environ.get("STRIPE_API_KEY"))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
