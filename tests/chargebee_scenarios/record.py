"""Record every scenario into tests/cassettes/chargebee/<scenario>.yaml.

    python -m tests.chargebee_scenarios.record [scenario ...]

Against a fresh Chargebee stand-in per scenario by default (so a cassette does not depend
on which others were recorded with it), or against a Chargebee *test* site when both
CHARGEBEE_SITE and CHARGEBEE_API_KEY are set. The test site needs Product Catalog 2.0, the
Chargebee test gateway, JPY enabled and its Time Machine on; live keys and sites whose name
does not end in ``-test`` are refused. Each checkpoint runs the project's Chargebee reader,
so the cassette holds exactly the reads a sync makes at that point.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import chargebee
from chargebee.retry_config import RetryConfig
from chargebee.version import VERSION

from .common import Checkpoint
from .replay import CASSETTES, cassette_path, make_vcr
from .scenarios import SCENARIOS

__all__ = ["RECORDING_TIME", "main", "record"]

# 2026-11-26 12:00:00 UTC, the stand-in's clock when the cassettes were first recorded.
RECORDING_TIME = 1_795_694_400
STANDIN_KEY = "test_standin_key"


def reader_checkpoint(client: Any) -> Checkpoint:
    from sync.chargebee_io import ChargebeeSource

    def checkpoint(label: str, customer_ids: list[str]) -> None:
        ChargebeeSource(client).fetch(customer_ids)

    return checkpoint


@contextmanager
def _standin() -> Iterator[Any]:
    from standins.chargebee import ChargebeeStandIn

    standin = ChargebeeStandIn(api_key=STANDIN_KEY, site="billing-sync-test")
    # A fixed clock: re-recording reproduces the same dates, so the hand-computed
    # expectations of the replay tests stay true.
    standin.set_time(RECORDING_TIME)
    standin.start()
    try:
        yield standin.sdk_client()
    finally:
        standin.stop()


@contextmanager
def _site(site: str, api_key: str) -> Iterator[Any]:
    client = chargebee.Chargebee(api_key=api_key, site=site)
    # The scenarios' own calls are not paced: on a 150-a-minute test site, let the SDK wait
    # out a 429 rather than fail the recording half-way.
    client.update_retry_config(RetryConfig(
        enabled=True, max_retries=5, delay_ms=20_000, retry_on=[429, 500, 503]))  # fmt: skip
    yield client


def record(
    names: Sequence[str] | None = None,
    *,
    site: str | None = None,
    api_key: str | None = None,
    make_checkpoint: Callable[[Any], Checkpoint] = reader_checkpoint,
    out: Callable[[str], object] = print,
) -> list[str]:
    """Record the named scenarios (all by default); returns the cassette paths written."""
    names = list(names or SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    real = bool(site and api_key)
    if real and (str(api_key).startswith("live_") or not str(site).endswith("-test")):
        raise SystemExit("refusing to record against a live site: use a <name>-test site and "
                         "its test_ API key")  # fmt: skip
    kind = "Chargebee test site" if real else "billing-sync Chargebee stand-in"
    verify = chargebee.Chargebee.verify_ca_certs
    info = {"kind": kind, "chargebee_python": VERSION, "api_version": "v2"}
    recorder = make_vcr("all", info)
    CASSETTES.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        if not real:
            chargebee.Chargebee.verify_ca_certs = False  # the SDK's switch for plain http
        for name in names:
            path = cassette_path(name)
            # vcrpy's "all" mode keeps a cassette's old interactions beside the new ones:
            # start from an empty file so the cassette is exactly this recording.
            path.unlink(missing_ok=True)
            connect = _site(str(site), str(api_key)) if real else _standin()
            with connect as client, recorder.use_cassette(str(path)):
                SCENARIOS[name](client, make_checkpoint(client))
            written.append(str(path))
            out(f"recorded {name} -> {path}")
    finally:
        chargebee.Chargebee.verify_ca_certs = verify
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    record(args or None, site=os.environ.get("CHARGEBEE_SITE"),
           api_key=os.environ.get("CHARGEBEE_API_KEY"))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
