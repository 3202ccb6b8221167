"""Per-customer Stripe calls a few at once (``fan_out``): results in the order asked, the
concurrency bound kept, a stop raised as one at a time would raise it, no thread left over;
and the source's per-customer reads give the same snapshot and calls at any concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import stripe

from standins.stripe import StripeStandIn
from sync.errors import RetryLater
from sync.stripe_io import StripeSource
from sync.stripe_io.customers import LISTING_CUTOFF
from sync.stripe_io.fanout import fan_out


class Probe:
    """Counts calls and the most at once; each call waits at a barrier of ``meet``."""

    def __init__(self, meet: int = 1, fail_at: int | None = None) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.called: list[int] = []
        self.barrier = threading.Barrier(meet, timeout=10) if meet > 1 else None
        self.fail_at = fail_at

    def __call__(self, i: int) -> int:
        with self.lock:
            self.called.append(i)
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if self.barrier is not None:
                self.barrier.wait()  # broken (raises) unless `meet` calls are in flight
            if i == self.fail_at:
                raise ValueError(f"item {i}")
            return i * i
        finally:
            with self.lock:
                self.now -= 1


def test_calls_run_together_and_results_come_in_order() -> None:
    probe = Probe(meet=4)
    assert list(fan_out(probe, list(range(12)), 4)) == [i * i for i in range(12)]
    assert probe.most == 4 and sorted(probe.called) == list(range(12))


def ours() -> list[str]:
    """fan_out's own threads still alive (other tests' threads may come and go)."""
    return [t.name for t in threading.enumerate() if t.name.startswith("stripe-each")]


def test_one_at_a_time_is_a_plain_loop() -> None:
    probe = Probe()
    assert list(fan_out(probe, [3, 1, 2], 1)) == [9, 1, 4]
    assert probe.called == [3, 1, 2] and probe.most == 1


@pytest.mark.parametrize("concurrency", [2, 4])
def test_the_first_error_stops_the_rest_with_a_bounded_waste(concurrency) -> None:
    probe = Probe(fail_at=1)
    with pytest.raises(ValueError, match="item 1"):
        list(fan_out(probe, list(range(50)), concurrency))
    # begun: the head, the failing one, and at most 2c - 1 more
    assert len(probe.called) <= 2 + 2 * concurrency - 1
    assert max(probe.called) <= 2 * concurrency
    assert ours() == []


def test_closing_early_leaves_no_thread_and_begins_nothing_more() -> None:
    probe = Probe()
    results = fan_out(probe, list(range(50)), 3)
    assert next(results) == 0
    results.close()
    assert ours() == []
    begun = len(probe.called)
    assert begun <= 1 + 2 * 3


def _no_sleep(_seconds: float) -> None:
    pass


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[StripeStandIn, stripe.StripeClient, list[str]]]:
    standin = StripeStandIn()
    subscribed = standin.seed_bulk(customers=30, subscriptions=45, seed=5)
    bare = standin.seed_bulk(customers=LISTING_CUTOFF - 3, subscriptions=0, seed=6)
    c = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.start()})
    gone = c.v1.customers.create(params={"name": "Gone"}).id
    c.v1.customers.delete(gone)
    ids = [*subscribed, *bare, gone, "cus_NoSuchCustomer", "cus_ABC 123"]
    try:
        yield standin, c, ids
    finally:
        standin.stop()


def _per_customer(c: stripe.StripeClient, ids: list[str], concurrency: int):  # type: ignore[no-untyped-def]
    source = StripeSource(c, sleep=_no_sleep, list_concurrency=concurrency)
    return source.fetch(ids, expected_subscriptions=100_000)  # listing all would cost more


def test_per_customer_reads_are_the_same_at_any_concurrency(shop) -> None:
    standin, c, ids = shop
    standin.reset_counters()
    one = _per_customer(c, ids, 1)
    assert one.stats.strategy == "per_customer"
    assert standin.most_in_flight == 1
    standin.reset_counters()
    standin.set_latency(0.02)  # long enough for calls made together to be seen together
    try:
        four = _per_customer(c, ids, 4)
    finally:
        standin.set_latency(0)
    assert standin.most_in_flight == 4
    assert (four.customers, four.missing, four.refused) == (one.customers, one.missing,
                                                             one.refused)  # fmt: skip
    assert four.missing | four.refused.keys() == {"cus_NoSuchCustomer", "cus_ABC 123"}
    assert four.customers[ids[-3]].deleted
    # one listing per customer, one retrieve per customer without a subscription
    assert four.stats.calls == one.stats.calls
    assert four.stats.calls["GET /v1/subscriptions"] == len(ids)
    bare = [cid for cid, cus in four.customers.items() if not cus.subscriptions]
    assert len(bare) >= LISTING_CUTOFF - 3 + 1  # the bare ones seeded, and the deleted one
    # ... and the two unknown ids, whose listings are empty: retrieved to be told apart
    assert four.stats.calls["GET /v1/customers/:id"] == len(bare) + 2
    # every thread is done when the fetch returns: the stand-in saw exactly those calls
    assert standin.counters == {k.replace(":id", "{id}"): n for k, n in four.stats.calls.items()}


@pytest.mark.parametrize("status", [429, 500])
def test_an_outage_stops_per_customer_reads_as_one_at_a_time(shop, status) -> None:
    standin, c, ids = shop
    raised = []
    for concurrency in (1, 4):
        standin.fail_next(1_000, status, after=5)
        with pytest.raises(RetryLater) as exc:
            _per_customer(c, ids, concurrency)
        standin.fail_next(0)
        standin.reset_counters()
        one = _per_customer(c, ids, 1)
        assert standin.counters == {k.replace(":id", "{id}"): n
                                    for k, n in one.stats.calls.items()}  # fmt: skip
        raised.append((type(exc.value), exc.value.code, exc.value.http_status))
    assert raised[0] == raised[1]
