"""The partitioned Stripe listing: ranges of ``created`` read concurrently return exactly what
the one cursor chain returns, in the same order once sorted, against the Stripe stand-in.

The world has what breaks a careless partition: 230 subscriptions created in one second
(more than two pages), seconds with a few each, a year with none (empty ranges), an old
cluster far from the rest."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from standins.stripe import StripeStandIn
from sync.errors import RetryLater
from sync.stripe_io import StripeSource
from sync.stripe_io.pacing import Pacer
from sync.stripe_io.partition import Partitioning, newest_first, partitioned_pages
from sync.stripe_io.raw import RawReader

T0 = 1_793_577_600  # 2026-11-02 00:00 UTC
DAY = 86_400
# (seconds before T0, subscriptions created in that second), oldest first
SCHEDULE = [
    (400 * DAY, 7),
    *((30 * DAY - 97 * k, 1 + k % 3) for k in range(40)),
    (DAY, 230),
    *((100 - 3 * k, 1 + (k % 5 == 0) * 4) for k in range(30)),
]
PARAMS = {"status": "all"}


def _no_sleep(_seconds: float) -> None:
    pass


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[StripeStandIn, stripe.StripeClient, list[str]]]:
    standin = StripeStandIn()
    standin.set_time(T0 - 500 * DAY)
    url = standin.start()
    c = stripe.StripeClient(standin.api_key, base_addresses={"api": url})
    price = c.v1.prices.create(params={"currency": "usd", "unit_amount": 900,
                                       "recurring": {"interval": "month"},
                                       "product_data": {"name": "Seat"}}).id  # fmt: skip
    customers = [
        c.v1.customers.create(params={
            "name": f"C{i}", "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }).id
        for i in range(25)
    ]  # fmt: skip
    n = 0
    for before, count in SCHEDULE:
        standin.set_time(T0 - before)
        for _ in range(count):
            cus = customers[n % len(customers)]
            c.v1.subscriptions.create(params={"customer": cus, "items": [{"price": price}]})
            n += 1
    standin.set_time(T0)
    try:
        yield standin, c, customers
    finally:
        standin.stop()


def _sequential(reader: RawReader, page: int) -> list[dict[str, Any]]:
    """The one cursor chain, ``page`` a call."""
    out: list[dict[str, Any]] = []
    while True:
        p: dict[str, Any] = {**PARAMS, "limit": page}
        if out:
            p["starting_after"] = out[-1]["id"]
        body = reader.get("/v1/subscriptions", p)
        out += body["data"]
        if not body["has_more"]:
            return out


def _ids(objs: list[dict[str, Any]]) -> list[str]:
    return [o["id"] for o in objs]


def _partitioned(reader: RawReader, how: Partitioning, expected: int | None,
                 log: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    def fetch(p: dict[str, Any]) -> dict[str, Any]:
        if log is not None:
            log.append(p)
        return reader.get("/v1/subscriptions", p)

    got = [o for page in partitioned_pages(fetch, PARAMS, how, expected) for o in page]
    newest_first(got)
    return got


def test_the_world_has_ties_and_gaps(world) -> None:
    _standin, c, _ = world
    subs = _sequential(RawReader(c), 100)
    per_second: dict[int, int] = {}
    for s in subs:
        per_second[s["created"]] = per_second.get(s["created"], 0) + 1
    assert len(subs) == sum(n for _, n in SCHEDULE) and max(per_second.values()) == 230


@pytest.fixture(scope="module")
def chains(world) -> dict[int, list[dict[str, Any]]]:
    """The one cursor chain per page size, read once: the world does not change."""
    return {}


@pytest.mark.parametrize("concurrency", [2, 4, 8])
@pytest.mark.parametrize("page", [3, 7, 100])
@pytest.mark.parametrize("expected", [None, "exact", 40, 4000])
def test_partitioned_listing_is_the_sequential_listing(world, chains, concurrency, page,
                                                       expected) -> None:  # fmt: skip
    _standin, c, _ = world
    reader = RawReader(c)
    if page not in chains:
        chains[page] = _sequential(reader, page)
    sequential = chains[page]
    total = len(sequential) if expected == "exact" else expected
    how = Partitioning(concurrency=concurrency, page=page, range_pages=1, steal_pages=1)
    # Threads interleave differently each time; pages of 3 make hundreds of calls, so many
    # interleavings in one listing (and a third of the suite's time when repeated).
    for _ in range(1 if page == 3 else 3):
        log: list[dict[str, Any]] = []
        got = _partitioned(reader, how, total, log)
        # Nothing lost, nothing twice, and Stripe's order (ties included) once sorted.
        assert _ids(got) == _ids(sequential)
        assert len(log) >= math.ceil(len(sequential) / page)


def test_a_page_in_flight_when_its_range_is_split_gives_nothing_twice(world) -> None:
    """The newest range's next page, asked for under its first lower bound, is held back until
    a thief has read the older half it took from that range: the objects below the new bound
    are in both replies, and must be handed on once."""
    _standin, c, _ = world
    reader = RawReader(c)
    sequential = _sequential(reader, 5)
    stolen = threading.Event()
    first: dict[str, Any] = {}
    held: list[dict[str, Any]] = []
    thieves: list[dict[str, Any]] = []

    def fetch(p: dict[str, Any]) -> dict[str, Any]:
        created = p.get("created")
        if created is None:
            body = reader.get("/v1/subscriptions", p)
            first["newest"] = body["data"][0]["created"]
            return body
        if created["lte"] == first["newest"] and not held:
            held.append(p)
            assert stolen.wait(timeout=30), "the newest range was never split"
            return reader.get("/v1/subscriptions", p)
        body = reader.get("/v1/subscriptions", p)
        if held and "starting_after" not in p and created["lte"] >= held[0]["created"]["gte"]:
            thieves.append(p)
            stolen.set()
        return body

    how = Partitioning(concurrency=4, page=5, range_pages=1, steal_pages=1)
    got = [o for page in partitioned_pages(fetch, PARAMS, how, None) for o in page]
    newest_first(got)
    assert _ids(got) == _ids(sequential)
    # the held request's range overlapped the thief's: the drop was needed
    assert held[0]["created"]["gte"] <= thieves[0]["created"]["lte"]


def test_a_world_of_one_page_costs_one_call() -> None:
    with StripeStandIn() as standin:
        ids = standin.seed_bulk(customers=30, subscriptions=40, seed=5)
        c = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url})
        snap = StripeSource(c, sleep=_no_sleep, list_concurrency=4).fetch(ids)
        assert snap.stats.calls["GET /v1/subscriptions"] == 1
        assert snap.customers == StripeSource(c, sleep=_no_sleep).fetch(ids).customers


@pytest.fixture(scope="module")
def bulk() -> Iterator[tuple[StripeStandIn, stripe.StripeClient, list[str]]]:
    standin = StripeStandIn()
    ids = standin.seed_bulk(customers=900, subscriptions=1_500, seed=7)
    c = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.start()})
    try:
        yield standin, c, ids
    finally:
        standin.stop()


def _fetch(c: stripe.StripeClient, ids: list[str], concurrency: int, *,
           slice_size: int | None = None) -> Any:  # fmt: skip
    source = StripeSource(c, sleep=_no_sleep, list_concurrency=concurrency)
    if slice_size is None:
        return source.fetch(ids)
    snaps = [
        source.fetch(ids[i : i + slice_size], population=len(ids))
        for i in range(0, len(ids), slice_size)
    ]
    return {k: v for s in snaps for k, v in s.customers.items()}


def test_concurrency_one_lists_as_today(bulk) -> None:
    standin, c, ids = bulk
    standin.reset_counters()
    snap = _fetch(c, ids, 1)
    assert snap.stats.calls == {"GET /v1/subscriptions": 15, "GET /v1/products": 1}
    assert standin.counters == snap.stats.calls


@pytest.mark.parametrize("slice_size", [None, 250], ids=["whole", "sliced"])
def test_the_source_reads_the_same_customers_concurrently(bulk, slice_size) -> None:
    _standin, c, ids = bulk
    if slice_size is None:
        one, four = _fetch(c, ids, 1), _fetch(c, ids, 4)
        assert four.customers == one.customers and four.missing == one.missing
        assert four.stats.subscriptions_listed == one.stats.subscriptions_listed == 1_500
        # the subscription pages: 15 in one chain, a few partial last pages more
        assert 15 <= four.stats.calls["GET /v1/subscriptions"] <= 15 + 4 + 3
    else:
        assert _fetch(c, ids, 4, slice_size=slice_size) == _fetch(c, ids, 1,
                                                                  slice_size=slice_size)


def test_a_429_from_one_thread_is_retried(bulk) -> None:
    standin, c, ids = bulk
    expected = _fetch(c, ids, 1).customers
    standin.fail_next(2, 429, after=3)  # two calls of the threads, after the first page
    snap = _fetch(c, ids, 4)
    assert snap.customers == expected


@pytest.mark.parametrize("status", [429, 500])
def test_an_outage_in_a_thread_stops_the_listing_as_sequentially(bulk, status) -> None:
    standin, c, ids = bulk
    raised = []
    for concurrency in (1, 4):
        standin.fail_next(1_000, status, after=2)
        with pytest.raises(RetryLater) as exc:
            _fetch(c, ids, concurrency)
        standin.fail_next(0)
        # Every thread has stopped: a sequential listing now makes exactly its own calls.
        standin.reset_counters()
        _fetch(c, ids, 1)
        assert standin.counters == {"GET /v1/subscriptions": 15, "GET /v1/products": 1}
        raised.append((type(exc.value), exc.value.code, exc.value.http_status, exc.value.category))
    assert raised[0] == raised[1]


def test_the_pacer_gives_each_of_several_threads_its_own_slot() -> None:
    pacer = Pacer(20.0, endpoint_rate=10.0, clock=lambda: 100.0, sleep=_no_sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        for _ in range(25):
            w = pacer.wait("GET /v1/subscriptions")
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 100 requests to one endpoint at 10 a second: slots 0.1 s apart, none shared.
    assert sorted(waits) == pytest.approx([k * 0.1 for k in range(100)])
    # another endpoint goes at the global rate, after the last reserved slot
    assert pacer.wait("GET /v1/customers") == pytest.approx(9.9 + 0.05)


def _stoppable(reader: RawReader, how: Partitioning, take: int | None, ahead: int
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Take ``take`` pages (None: all) of a stoppable listing, then close it; the objects
    taken and the requests made (with the objects each reply held)."""
    log: list[dict[str, Any]] = []

    def fetch(p: dict[str, Any]) -> dict[str, Any]:
        body = reader.get("/v1/subscriptions", p)
        log.append({**p, "data": body["data"]})
        return body

    pages = partitioned_pages(fetch, PARAMS, how, None, narrow=2, ahead=ahead)
    got: list[dict[str, Any]] = []
    try:
        for n, page in enumerate(pages, 1):
            got += page
            if n == take:
                break
    finally:
        pages.close()  # every thread joined: the log is final
    return got, log


def test_a_stoppable_listing_reads_its_first_pages_one_at_a_time(world) -> None:
    _standin, c, _ = world
    reader = RawReader(c)
    how = Partitioning(concurrency=4, page=5, range_pages=1, steal_pages=1)
    for take in (1, 2):
        got, log = _stoppable(reader, how, take, ahead=4)
        # a reader that stops within the narrow pages costs what the one chain costs
        assert len(log) == take and all("created" not in p for p in log)
        assert _ids(got) == _ids(_sequential(reader, 5)[: 5 * take])


@pytest.mark.parametrize("ahead", [1, 3, 8])
def test_a_stoppable_listing_fetches_at_most_ahead_pages_beyond_those_taken(
    world: Any, ahead: int
) -> None:
    _standin, c, _ = world
    reader = RawReader(c)
    sequential = _sequential(reader, 5)
    # no range is split here, so no page in flight is dropped: every page with objects in it
    # is one handed on (a call that hands nothing on, an empty range, gives its turn back)
    how = Partitioning(concurrency=4, page=5, range_pages=1, steal_pages=10_000)
    for take in (3, 6, 10):
        got, log = _stoppable(reader, how, take, ahead)
        handed = sum(1 for body in log if body["data"])
        assert handed <= take + ahead, (take, ahead, handed)
        assert len(set(_ids(got))) == len(got) and set(_ids(got)) <= set(_ids(sequential))
    # read to its end, it is the whole listing, whatever the bound
    got, _log = _stoppable(reader, how, None, ahead)
    newest_first(got)
    assert _ids(got) == _ids(sequential)


def test_the_customer_listing_is_read_concurrently_with_the_same_result() -> None:
    with StripeStandIn() as standin:
        # most linked customers have no subscription: the customer listing pays
        ids = standin.seed_bulk(customers=850, subscriptions=60, seed=11)
        c = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url})
        one = StripeSource(c, sleep=_no_sleep).fetch(ids)
        sequential = one.stats.calls["GET /v1/customers"]
        assert sequential >= 8  # the listing was worth going on with
        standin.reset_counters()
        four = StripeSource(c, sleep=_no_sleep, list_concurrency=4).fetch(ids)
        assert four.customers == one.customers and four.missing == one.missing
        assert "GET /v1/customers/:id" not in four.stats.calls
        # a few partial or empty range pages more, never the whole listing twice
        assert sequential <= four.stats.calls["GET /v1/customers"] <= sequential + 4 + 3
        # the listing's threads are done when the fetch returns: every call was counted
        assert standin.counters == {k.replace(":id", "{id}"): n
                                    for k, n in four.stats.calls.items()}
