"""The client-side rate limit, on fake time: waits before the call, never sleeps for real,
and makes a 429's Retry-After be waited out in full (the stand-in's fault injection)."""

from __future__ import annotations

import pytest

from scheduler.settings import ConfigError, load_settings
from scheduler.wiring import build_source
from sync.chargebee_io import ChargebeeSource
from sync.chargebee_io.limiter import RateLimiter

from .test_settings_check import CB, SF


class FakeTime:
    """A clock that only moves when slept on: ``sleep`` records and advances."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_300_calls_at_150_a_minute_take_at_least_a_minute_of_fake_sleep() -> None:
    t = FakeTime()
    limiter = RateLimiter(150, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(300):
        limiter.acquire()
        starts.append(t.now)
    assert sum(t.sleeps) >= 60.0 and limiter.waited == sum(t.sleeps)
    # The first 150 go at once; the 151st waits for the first to leave the window.
    assert t.sleeps[0] == pytest.approx(60.0) and starts[149] == 1000.0
    # No 60-second window ever holds more than 150 calls.
    for i in range(150, 300):
        assert starts[i] - starts[i - 150] >= 60.0


def test_calls_spread_out_over_time_never_wait() -> None:
    t = FakeTime()
    limiter = RateLimiter(2, clock=t.clock, sleep=t.sleep)
    for _ in range(10):
        limiter.acquire()
        t.now += 30.0  # two calls a minute, exactly the limit
    assert t.sleeps == []


def test_a_no_op_sleep_is_accounted_as_slept_and_never_loops() -> None:
    # Real monotonic time frozen, sleep doing nothing: the limiter must not spin.
    limiter = RateLimiter(3, clock=lambda: 0.0, sleep=lambda _s: None)
    waits = [limiter.acquire() for _ in range(9)]
    # Each wait is counted from the accounted time: three calls a minute, a minute apart.
    assert waits == [0, 0, 0, 60.0, 0, 0, 60.0, 0, 0]
    assert limiter.waited == 120.0


def test_hold_delays_the_next_call_by_what_the_server_asked() -> None:
    t = FakeTime()
    limiter = RateLimiter(150, clock=t.clock, sleep=t.sleep)
    limiter.acquire()
    limiter.hold(30)
    t.sleep(8)  # what backoff_call already slept (its cap)
    assert limiter.acquire() == pytest.approx(22.0)  # the rest of Retry-After: 30
    assert limiter.acquire() == 0


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_the_setting_defaults_to_a_test_sites_limit() -> None:
    assert load_settings({**SF, **CB}).chargebee_rate_limit == 150
    s = load_settings({**SF, **CB, "CHARGEBEE_RATE_LIMIT": "600"})
    source = build_source(s, None, sleep=lambda _s: None)
    assert s.chargebee_rate_limit == 600 and source.limiter.per_minute == 600
    for bad in ("0", "-5", "1.5", "lots"):
        with pytest.raises(ConfigError) as exc:
            load_settings({**SF, **CB, "CHARGEBEE_RATE_LIMIT": bad})
        assert [p.split(":")[0] for p in exc.value.problems] == ["CHARGEBEE_RATE_LIMIT"]


def test_every_call_of_a_fetch_goes_through_the_limiter(cb, subscribe) -> None:
    for cid in ("a", "b", "c"):
        subscribe(cid, ("monthly", 1))
    t = FakeTime()
    source = ChargebeeSource(cb, sleep=t.sleep,
                             limiter=RateLimiter(2, clock=t.clock, sleep=t.sleep))  # fmt: skip
    snap = source.fetch(["a", "b", "c"])
    calls = sum(snap.stats.calls.values())
    # subscriptions, item_prices, items, coupons? -> at least 3 calls; 2 a minute means the
    # third waited a minute of fake time.
    assert set(snap.customers) == {"a", "b", "c"} and calls >= 3
    assert sum(t.sleeps) >= 60.0 * ((calls - 1) // 2)


def test_a_429_retry_after_is_waited_out_in_full(cb, subscribe, standin) -> None:
    subscribe("a", ("monthly", 1))
    t = FakeTime()
    source = ChargebeeSource(cb, sleep=t.sleep,
                             limiter=RateLimiter(150, clock=t.clock, sleep=t.sleep))  # fmt: skip
    standin.fail_next(1, 429, path="/api/v2/subscriptions", retry_after=30)
    snap = source.fetch(["a"])
    assert set(snap.customers) == {"a"} and snap.stats.calls["GET /api/v2/subscriptions"] == 2
    # backoff_call slept at most its 8-second cap; the limiter slept the rest of the 30.
    assert sum(t.sleeps) == pytest.approx(30.0, abs=0.01)
