"""Client CPU of ``StripeSource.fetch`` per read path (issue #13): a measurement, not a test.

The Stripe stand-in is seeded (10,000 customers / 12,000 subscriptions by default) and served
from a subprocess, so ``time.process_time()`` here is the client's CPU alone: requests,
parsing, and the conversion to ``sync.model`` values, nothing of the server's. Each path
fetches every customer id (the ``status=all`` listing, 100 a page) a few times; the best run
counts, and every path must return the same snapshot.

    python -m tests.bench_stripe_raw [--customers N] [--subscriptions S] [--runs R]

Paths: ``sdk`` (StripeObjects, then ``to_dict``), ``raw_request`` (the SDK's public raw API,
which parses with json into OrderedDicts), ``raw+json`` and ``raw+orjson`` (the requestor's
bytes, parsed whole by us, then each subscription ``slim``-med), ``raw+msgspec`` (as shipped:
subscription pages decoded straight into the slim copy, ``sync.stripe_io.shapes``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import stripe

from sync.model import BillingSnapshot
from sync.stripe_io.convert import slim
from sync.stripe_io.raw import Loads, RawReader
from sync.stripe_io.shapes import slim_page
from sync.stripe_io.source import EXPAND, StripeSource

__all__ = ["main"]

API_KEY = "sk_test_standin"


def serve(customers: int, subscriptions: int) -> None:
    """The subprocess: seed, print the ids' count and the URL, serve until stdin closes."""
    from standins.stripe import StripeStandIn

    standin = StripeStandIn(api_key=API_KEY)
    ids = standin.seed_bulk(customers, subscriptions)
    url = standin.start()
    print(json.dumps({"url": url, "ids": ids}), flush=True)
    sys.stdin.read()
    standin.stop()


def paths() -> dict[str, Callable[[stripe.StripeClient], StripeSource]]:
    def sdk(c: stripe.StripeClient) -> StripeSource:
        return StripeSource(c, raw=False)

    def public(c: stripe.StripeClient) -> StripeSource:
        source = StripeSource(c)
        assert source.raw is not None
        source.raw._requestor = None  # RawReader's fallback: StripeClient.raw_request
        return source

    def whole(loads: Loads) -> Callable[[stripe.StripeClient], StripeSource]:
        def pages(body: bytes | str) -> Any:  # the page parsed whole, then slimmed
            page = loads(body)
            page["data"] = [slim(sub) for sub in page["data"]]
            return page

        def build(c: stripe.StripeClient) -> StripeSource:
            source = StripeSource(c)
            source.raw = RawReader(c, loads=loads, subscription_pages=pages)
            return source

        return build

    def typed(c: stripe.StripeClient) -> StripeSource:
        return StripeSource(c)

    found: dict[str, Callable[[stripe.StripeClient], StripeSource]] = {
        "sdk": sdk,
        "raw_request": public,
        "raw+json": whole(json.loads),
        "raw+msgspec": typed,
    }
    try:
        import orjson
    except ImportError:
        print("orjson is not installed: raw+orjson skipped")
        return found

    found["raw+orjson"] = whole(orjson.loads)
    return found


def measure(source: StripeSource, ids: list[str]) -> dict[str, Any]:
    """One fetch of every id, then the listing alone (requests and parsing, no conversion)."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    snap = source.fetch(ids)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    gc.collect()
    list_cpu = time.process_time()
    listed = sum(1 for _ in source._list("subscriptions", {"status": "all", "expand": EXPAND}))
    list_cpu = time.process_time() - list_cpu
    assert listed == snap.stats.subscriptions_listed
    return {"cpu": cpu, "wall": wall, "list_cpu": list_cpu, "snap": snap}


def parse_only(client: stripe.StripeClient, runs: int = 50) -> list[str]:
    """The parsers alone on one page of 100 subscriptions, as the requestor returns it."""
    body, _status, _headers = client._requestor.request_raw(
        "get", "/v1/subscriptions", {"status": "all", "expand": EXPAND, "limit": 100},
        base_address="api", api_mode="V1",
    )  # fmt: skip
    assert isinstance(body, bytes)
    def whole(loads: Loads) -> Callable[[bytes], Any]:
        return lambda b: [slim(sub) for sub in loads(b)["data"]]

    parsers: dict[str, Callable[[bytes], Any]] = {"json": json.loads}
    try:
        import orjson

        parsers["orjson"] = orjson.loads
        parsers["orjson+slim"] = whole(orjson.loads)
    except ImportError:
        pass
    parsers["msgspec typed"] = slim_page
    lines = [f"parse only, one page of {len(body) / 1000:.0f} kB:"]
    for name, loads in parsers.items():
        cpu = time.process_time()
        for _ in range(runs):
            loads(body)
        lines.append(f"  {name:14} {(time.process_time() - cpu) * 1000 / runs:.2f} ms/page")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=12_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.customers, args.subscriptions)
        return 0
    size = ["--customers", str(args.customers), "--subscriptions", str(args.subscriptions)]
    cmd = [sys.executable, "-m", "tests.bench_stripe_raw", "--serve", *size]
    server = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        started = json.loads(server.stdout.readline())
        ids: list[str] = started["ids"]
        client = stripe.StripeClient(API_KEY, base_addresses={"api": started["url"]},
                                     http_client=stripe.RequestsClient(timeout=60))  # fmt: skip
        print(f"{os.cpu_count()} CPUs, Python {platform.python_version()}, stripe "
              f"{stripe.VERSION}; stand-in in a subprocess; {len(ids)} customers, "
              f"{args.subscriptions} subscriptions; best of {args.runs}")  # fmt: skip
        reference: BillingSnapshot | None = None
        print(f"{'path':12} {'pages':>5} {'fetch CPU':>10} {'ms/page':>8} {'wall':>7} "
              f"{'list-only ms/page':>18}")  # fmt: skip
        best: dict[str, dict[str, Any]] = {}
        # Round robin, best of the runs: drift on the machine hits every path alike.
        builders = paths()
        for _ in range(args.runs):
            for name, build in builders.items():
                got = measure(build(client), ids)
                if name not in best or got["cpu"] < best[name]["cpu"]:
                    best[name] = got
        for name, got in best.items():
            snap: BillingSnapshot = got["snap"]
            pages = snap.stats.calls["GET /v1/subscriptions"]
            if reference is None:
                reference = snap
            assert snap == reference, f"{name} read something else than sdk"
            print(f"{name:12} {pages:5d} {got['cpu'] * 1000:8.0f} ms "
                  f"{got['cpu'] * 1000 / pages:8.2f} {got['wall']:6.2f}s "
                  f"{got['list_cpu'] * 1000 / pages:18.2f}")  # fmt: skip
        print("\n".join(parse_only(client)))
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
