"""Record every scenario into tests/cassettes/recurly/<scenario>.yaml.

    python -m tests.recurly_scenarios.record [scenario ...]

Against a fresh Recurly stand-in per scenario by default (so a cassette does not depend on
which others were recorded with it), its clock pinned to RECORDING_TIME so re-recording
reproduces the same dates and ids.

Against a Recurly *sandbox* site: ``RECURLY_API_KEY=… RECURLY_SANDBOX=1 [RECURLY_API_BASE=…]
make cassettes PROVIDER=recurly``. Recurly's keys do not say whether a site is a sandbox, so
recording against a real site is refused unless ``RECURLY_SANDBOX=1`` confirms that the key
is a sandbox site's (it creates accounts, plans, coupons and subscriptions there, and charges
Recurly's test Visa 4111 1111 1111 1111). ``RECURLY_API_BASE`` is https://v3.recurly.com
(the default) or https://v3.eu.recurly.com. The site must take USD and JPY. The scenarios in
``CLOCKED`` need the stand-in's clock or declined charges and are skipped on a real site.
Each checkpoint runs the project's Recurly reader as the engine does (``begin_cycle`` then
``fetch``), so the cassette holds exactly the reads a sync makes at that point.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import recurly

from sync.recurly_io.http import API_VERSION, DEFAULT_BASE

from .common import Checkpoint, World
from .replay import CASSETTES, cassette_path, make_vcr
from .scenarios import CLOCKED, SCENARIOS

__all__ = ["RECORDING_TIME", "STANDIN_KEY", "STANDIN_TAG", "main", "record"]

# 2026-11-26 12:00:00 UTC, the stand-in's clock when the cassettes were first recorded.
RECORDING_TIME = 1_795_694_400
STANDIN_KEY = "standin-recurly-recording-key"
STANDIN_TAG = "t0"
EU_BASE = "https://v3.eu.recurly.com"
TEST_VISA = {"first_name": "Billing", "last_name": "Sync", "number": "4111111111111111",
             "month": "12", "year": "2040", "cvv": "123",
             "address": {"postal_code": "94105", "country": "US"}}  # fmt: skip


def reader_checkpoint(api_key: str, base: str, world: World,
                      sleep: Callable[[float], None]) -> Checkpoint:  # fmt: skip
    from sync.recurly_io import RecurlyHttp, RecurlySource

    def checkpoint(label: str, codes: list[str]) -> None:
        http = RecurlyHttp(api_key, base)
        try:
            source = RecurlySource(http, sleep=sleep, clock=lambda: float(world.now()))
            source.begin_cycle()
            source.fetch(codes)
        finally:
            http.close()

    return checkpoint


def _never_wait(_seconds: float) -> None:
    raise AssertionError("a stand-in recording never waits")


@contextmanager
def _standin() -> Iterator[tuple[World, Checkpoint]]:
    from standins.recurly import RecurlyStandIn

    standin = RecurlyStandIn(api_key=STANDIN_KEY)
    standin.set_time(RECORDING_TIME)
    standin.start(host="127.0.0.1", port=0)
    try:
        world = World(standin.sdk_client(), STANDIN_TAG, standin.now,
                      advance=standin.advance_time,
                      decline_payments=standin.fail_payments)  # fmt: skip
        yield world, reader_checkpoint(STANDIN_KEY, standin.base_url, world, _never_wait)
    finally:
        standin.stop()


@contextmanager
def _site(api_key: str, base: str, tag: str) -> Iterator[tuple[World, Checkpoint]]:
    # The SDK has no base-URL option, only a region.
    client = recurly.Client(api_key, region="eu" if base.rstrip("/") == EU_BASE else "us")
    world = World(client, tag, lambda: int(time.time()), billing_info=TEST_VISA)
    yield world, reader_checkpoint(api_key, base, world, time.sleep)


def record(
    names: Sequence[str] | None = None,
    *,
    api_key: str | None = None,
    base: str | None = None,
    sandbox: bool = False,
    out: Callable[[str], object] = print,
) -> list[str]:
    """Record the named scenarios (all by default); returns the cassette paths written."""
    names = list(names or SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    real = bool(api_key)
    if real and not sandbox:
        raise SystemExit("refusing to record against a real Recurly site without "
                         "RECURLY_SANDBOX=1: Recurly keys do not say whether a site is a "
                         "sandbox, so confirm it is one")  # fmt: skip
    base = (base or DEFAULT_BASE).rstrip("/")
    if real and base not in (DEFAULT_BASE, EU_BASE):
        raise SystemExit(f"RECURLY_API_BASE must be {DEFAULT_BASE} or {EU_BASE}")
    CASSETTES.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        if real and name in CLOCKED:
            out(f"skipped {name}: it needs the stand-in's clock (keeping its cassette)")
            continue
        start = int(time.time()) if real else RECORDING_TIME
        tag = f"s{start:x}" if real else STANDIN_TAG
        info = {"kind": "Recurly sandbox site" if real else "billing-sync Recurly stand-in",
                "recurly_python": recurly.__version__, "api_version": API_VERSION,
                "tag": tag, "clock": str(start)}  # fmt: skip
        path = cassette_path(name)
        # vcrpy's "all" mode keeps a cassette's old interactions beside the new ones: start
        # from an empty file so the cassette is exactly this recording.
        path.unlink(missing_ok=True)
        with make_vcr("all", info).use_cassette(str(path)):
            # Inside the cassette: the SDK opens its connection when its client is made.
            connect = _site(str(api_key), base, tag) if real else _standin()
            with connect as (world, checkpoint):
                SCENARIOS[name](world, checkpoint)
        written.append(str(path))
        out(f"recorded {name} -> {path}")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    record(args or None, api_key=os.environ.get("RECURLY_API_KEY") or None,
           base=os.environ.get("RECURLY_API_BASE") or None,
           sandbox=os.environ.get("RECURLY_SANDBOX") == "1")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
