"""The Recurly source's HTTP conduct against the stand-in: 429 waits, rate-limit pacing,
retried outages, translated errors, and the key kept out of every message and repr."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from metadata.schema import Category
from sync.errors import RetryLater, StopCycle
from sync.recurly_io import RecurlyHttp, RecurlySource

from .conftest import KEY, T0


def test_a_429_waits_until_the_window_resets(source, standin, subscribe, slept) -> None:
    subscribe("acme")
    standin.fail_next(1, 429, "GET /accounts/*")
    snap = source.fetch(["acme"])
    assert "acme" in snap.customers
    # The stand-in's 429 carries X-RateLimit-Reset (oldest counted request + 5 minutes).
    assert slept and slept[0] >= 299
    assert snap.stats.calls["GET /accounts/{account_id}"] == 2


def test_pacing_keeps_a_fifth_of_the_window(source, standin, subscribe, slept) -> None:
    for code in ("a", "b", "c", "d", "e"):
        subscribe(code)
    standin.set_rate_limit("sandbox", enforce=True)
    standin.limiter.budget = 10  # a tiny window, so a handful of reads reaches its last fifth
    snap = source.fetch(["a", "b", "c", "d", "e"], expected_subscriptions=100_000)
    assert len(snap.customers) == 5  # never refused with 429
    # 8 requests leave 2 of 10 (20%), 9 leave 1: below a fifth, wait for -Reset.
    assert slept == [300.0]
    assert standin.now() == T0 + 300


def test_outages_are_retried_then_reported(source, standin, subscribe, slept) -> None:
    subscribe("acme")
    standin.fail_next(2, 503, "GET /accounts/*")
    assert "acme" in source.fetch(["acme"]).customers and len(slept) == 2
    standin.fail_next(10, 500, "GET /accounts/*")
    with pytest.raises(RetryLater) as exc:
        source.fetch(["acme"])
    assert exc.value.code == "internal_server_error" and exc.value.http_status == 500


def test_a_wrong_key_stops_the_cycle_without_showing_either_key(standin) -> None:
    wrong = "wrong-recurly-key-0c91"
    http = RecurlyHttp(wrong, standin.base_url)
    src = RecurlySource(http, sleep=lambda _s: None)
    with pytest.raises(StopCycle) as exc:
        src.fetch(["acme"])
    assert exc.value.category == Category.CONFIGURATION
    assert "RECURLY_API_KEY" in exc.value.message
    for text in (str(exc.value), repr(exc.value), repr(http), repr(vars(http)), repr(src)):
        assert wrong not in text and KEY not in text


def test_unreachable_recurly_is_retry_later_and_names_no_key() -> None:
    http = RecurlyHttp(KEY, "http://127.0.0.1:9", timeout=(0.5, 0.5))
    with pytest.raises(RetryLater) as exc:
        RecurlySource(http, sleep=lambda _s: None).changes(datetime.now(UTC))
    assert KEY not in str(exc.value)


def test_the_version_is_pinned(standin, subscribe) -> None:
    subscribe("acme")
    http = RecurlyHttp(KEY, standin.base_url)
    reply = http.get("/accounts/code-acme")
    assert reply.headers["Recurly-Version"] == "recurly.v2021-02-25"
    assert reply.body["code"] == "acme"
