"""Retry policy: capped exponential backoff with jitter, and when to give up.

Two users: the failure queue (``StateStore.record_failure`` schedules a record's next attempt
minutes to hours away) and whole-call retries inside a cycle (``backoff_call``, seconds).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import RetryLater

__all__ = ["MAX_ATTEMPTS", "backoff_call", "gives_up", "retry_delay"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# After this many failed attempts a queue entry becomes a dead letter: it stays open in
# Salesforce for a human, but the daemon stops retrying it by itself. With the default base
# and cap the waits between the ten attempts add up to 4.3-8.5 hours (6.4 on average): long
# enough to outlast an outage or a row lock storm, short enough that a real data problem is
# handed to a person the same day.
MAX_ATTEMPTS = 10

# 2**62 seconds is far beyond any cap; clamping the exponent keeps the float finite for
# absurd attempt numbers instead of raising OverflowError.
_MAX_EXPONENT = 62


def retry_delay(
    attempt: int,
    *,
    base: float = 60.0,
    cap: float = 6 * 3600.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    "Equal jitter": half of the capped exponential step is fixed, the other half random.
    Full jitter spreads load slightly better, but can return ~0, which would retry a failed
    record in the very cycle that just failed it; equal jitter guarantees at least half the
    step (attempt 1 waits between base/2 and base) while still de-synchronising entries that
    failed together, e.g. every record of one rejected batch.
    """
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
    step = min(cap, base * 2.0**exponent)
    # A misbehaving rand() must not push the delay outside [step/2, step].
    r = min(max(rand(), 0.0), 1.0)
    return step / 2 + r * step / 2


def gives_up(attempts: int) -> bool:
    """True once ``attempts`` failed attempts mean the entry should become a dead letter."""
    return attempts >= MAX_ATTEMPTS


def backoff_call(
    fn: Callable[[], T],
    *,
    attempts: int = 4,
    base: float = 0.5,
    cap: float = 8.0,
    sleep: Callable[[float], None] = time.sleep,
    retry_on: tuple[type[BaseException], ...] = (RetryLater,),
    rand: Callable[[], float] = random.random,
) -> T:
    """Call ``fn()``; on an exception in ``retry_on`` back off and call again.

    At most ``attempts`` calls in all; the last error is re-raised unchanged, so the caller
    still sees the classified ``RetryLater`` (and its code) when the outage outlasts us.
    Anything not in ``retry_on`` propagates at once.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except retry_on as exc:
            if attempt == attempts:
                raise
            delay = retry_delay(attempt, base=base, cap=cap, rand=rand)
            asked = getattr(exc, "retry_after", None)
            if asked:
                delay = max(delay, min(float(asked), cap))
            code = getattr(exc, "code", "") or type(exc).__name__
            log.warning(
                "transient failure (%s), attempt %d of %d; retrying in %.1f s",
                code,
                attempt,
                attempts,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
