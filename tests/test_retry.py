"""Backoff stays within its bounds, gives up when told, and retries only what is transient."""

from __future__ import annotations

import random

import pytest

from metadata.schema import Category
from sync.errors import RetryLater, SkipRecord
from sync.retry import MAX_ATTEMPTS, backoff_call, gives_up, retry_delay

WRITE = Category.SALESFORCE_WRITE


def test_first_attempt_waits_between_half_base_and_base():
    assert retry_delay(1, base=60, rand=lambda: 0.0) == 30
    assert retry_delay(1, base=60, rand=lambda: 1.0) == 60


def test_delay_doubles_per_attempt_until_the_cap():
    top = [retry_delay(n, base=60, cap=600, rand=lambda: 1.0) for n in range(1, 7)]
    assert top == [60, 120, 240, 480, 600, 600]


@pytest.mark.parametrize("attempt", [0, -3, 1, 5, 40, 10_000, 10**9])
def test_delay_is_never_negative_nor_above_cap(attempt):
    rng = random.Random(attempt)
    for _ in range(200):
        d = retry_delay(attempt, base=60, cap=3600, rand=rng.random)
        assert 0 <= d <= 3600


def test_a_misbehaving_random_source_is_clamped():
    assert retry_delay(3, base=10, cap=100, rand=lambda: -5.0) == 20
    assert retry_delay(3, base=10, cap=100, rand=lambda: 7.0) == 40


def test_jitter_spreads_entries_that_failed_together():
    rng = random.Random(7)
    delays = {round(retry_delay(4, rand=rng.random), 3) for _ in range(50)}
    assert len(delays) > 40
    assert min(delays) >= 240 and max(delays) <= 480


def test_gives_up_after_max_attempts():
    assert MAX_ATTEMPTS == 10
    assert not gives_up(MAX_ATTEMPTS - 1)
    assert gives_up(MAX_ATTEMPTS)
    assert gives_up(MAX_ATTEMPTS + 3)


def test_backoff_call_retries_transient_errors_then_returns():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RetryLater("Salesforce answered 503", code="SERVER_UNAVAILABLE", category=WRITE)
        return "ok"

    assert backoff_call(flaky, sleep=sleeps.append, rand=lambda: 1.0) == "ok"
    assert len(calls) == 3
    assert sleeps == [0.5, 1.0]


def test_backoff_call_reraises_the_last_error_when_attempts_run_out():
    errors, sleeps = [], []

    def down():
        errors.append(RetryLater(f"503 number {len(errors) + 1}", code="503", category=WRITE))
        raise errors[-1]

    with pytest.raises(RetryLater) as info:
        backoff_call(down, attempts=4, base=1, cap=2, sleep=sleeps.append)
    assert info.value is errors[-1]
    assert len(errors) == 4
    assert len(sleeps) == 3 and all(0.5 <= s <= 2 for s in sleeps)


def test_backoff_call_does_not_retry_other_errors():
    sleeps = []

    def invalid():
        raise SkipRecord("STRING_TOO_LONG", code="STRING_TOO_LONG", category=WRITE)

    with pytest.raises(SkipRecord):
        backoff_call(invalid, sleep=sleeps.append)
    assert sleeps == []


def test_backoff_call_honours_a_custom_retry_on():
    attempts = []

    def conn():
        attempts.append(1)
        raise ConnectionError("reset")

    with pytest.raises(ConnectionError):
        backoff_call(conn, attempts=2, retry_on=(ConnectionError,), sleep=lambda s: None)
    assert len(attempts) == 2
