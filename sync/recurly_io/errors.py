"""Recurly's errors, translated once: one table from recurly-python's error classes, the
error body's ``type`` and the HTTP status to what we do (retry later, skip this record, stop
the cycle) and the Sync_Error__c category.

recurly-python turns an error body's ``type`` into a class (``not_found`` ->
``NotFoundError``, ``rate_limited`` -> ``RateLimitedError``); a non-JSON error page gets the
class of its HTTP status, and a type it has no class for arrives as the base ``ApiError``
(with its ``error`` resource, or ``None`` for an empty body). Socket failures are wrapped in
``NetworkError``. The table matches classes first and ends with catch-alls for ``ApiError``
and the SDK's root ``RecurlyError``, so nothing the SDK raises escapes untranslated.

The Sync_Error__c picklist of schema v1 has one billing-source category, "Stripe"
(``Category.STRIPE``): Recurly outages are filed under it until schema v2 widens it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import recurly
import recurly.errors as rerr

from metadata.schema import Category

from ..errors import RetryLater, SkipRecord, StopCycle, SyncFailure

__all__ = ["TABLE", "Rule", "call", "translate"]

T = TypeVar("T")
BILLING = Category.STRIPE  # v1's only billing-source category (see the module docstring)


def _type(exc: BaseException) -> str | None:
    error = getattr(exc, "error", None)
    return getattr(error, "type", None) if error is not None else None


def _status(exc: BaseException) -> int | None:
    error = getattr(exc, "error", None)
    try:
        status = error.get_response().status if error is not None else None
    except AttributeError:  # an error resource built without a response
        return None
    return status if isinstance(status, int) else None


@dataclass(frozen=True)
class Rule:
    exception: type[BaseException]
    action: type[SyncFailure]
    category: Category
    say: str  # {detail}: Recurly's own message, scrubbed by whoever stores it
    type: str | None = None  # the error body's type, when the rule needs one
    status: int | None = None  # the HTTP status, when the rule needs one

    def matches(self, exc: BaseException) -> bool:
        if not isinstance(exc, self.exception):
            return False
        if self.type is not None and _type(exc) != self.type:
            return False
        return self.status is None or _status(exc) == self.status


_KEY = "check RECURLY_API_KEY (a private API key of this site)"
TABLE: tuple[Rule, ...] = (
    Rule(rerr.TooManyRequestsError, RetryLater, BILLING, "Recurly rate limit reached ({detail})"),
    Rule(
        recurly.ApiError, RetryLater, BILLING, "Recurly rate limit reached ({detail})", status=429
    ),
    Rule(
        rerr.UnauthorizedError,
        StopCycle,
        Category.CONFIGURATION,
        f"Recurly refused the API key ({{detail}}); {_KEY}",
    ),
    Rule(
        rerr.InvalidApiKeyError,
        StopCycle,
        Category.CONFIGURATION,
        f"Recurly refused the API key ({{detail}}); {_KEY}",
    ),
    Rule(
        rerr.ForbiddenError,
        StopCycle,
        Category.CONFIGURATION,
        "the Recurly key may not read this ({detail}); use a key with access to accounts, "
        "subscriptions, plans and coupons",
    ),
    # 406: the API version we pin is not served; no retry will change that.
    Rule(
        rerr.NotAcceptableError,
        StopCycle,
        Category.CONFIGURATION,
        "Recurly does not serve API v2021-02-25 here ({detail})",
    ),
    # Two requests on one record at once: Recurly's own advice is to try again.
    Rule(
        rerr.SimultaneousRequestError,
        RetryLater,
        BILLING,
        "Recurly is busy with this record ({detail})",
    ),
    # The caller decides what a refused read means for its record (an unknown account code
    # is a Matching problem of that Account); escaping, it stops the cycle.
    Rule(rerr.NotFoundError, SkipRecord, BILLING, "Recurly does not know this ({detail})"),
    Rule(rerr.BadRequestError, SkipRecord, BILLING, "Recurly rejected a request ({detail})"),
    Rule(
        rerr.UnprocessableEntityError, SkipRecord, BILLING, "Recurly rejected a request ({detail})"
    ),
    Rule(rerr.ServerError, RetryLater, BILLING, "Recurly is unavailable ({detail})"),
    Rule(recurly.NetworkError, RetryLater, BILLING, "cannot reach Recurly ({detail})"),
    # catch-alls: an error type without a class, an empty error body, anything else.
    Rule(recurly.ApiError, RetryLater, BILLING, "Recurly sent an unexpected error ({detail})"),
    Rule(recurly.RecurlyError, RetryLater, BILLING, "Recurly failed ({detail})"),
)


def translate(exc: BaseException) -> SyncFailure:
    if isinstance(exc, SyncFailure):
        return exc
    rule = next((r for r in TABLE if r.matches(exc)), None)
    if rule is None:
        raise exc
    status = _status(exc)
    code = _type(exc) or (f"HTTP_{status}" if status else type(exc).__name__)
    detail = str(exc)[:300] or code
    sentence = rule.say.format(detail=detail)
    return rule.action(
        sentence[0].upper() + sentence[1:],
        category=rule.category,
        code=code,
        http_status=status,
        retry_after=_retry_after(exc),
    )


def _retry_after(exc: BaseException) -> float | None:
    """Seconds until Recurly's rate-limit window resets (``X-RateLimit-Reset``, which the SDK
    parses into a *naive* UTC datetime, hence the explicit tzinfo)."""
    error: Any = getattr(exc, "error", None)
    try:
        reset = error.get_response().rate_limit_reset if error is not None else None
    except AttributeError:
        return None
    if not isinstance(reset, datetime):
        return None
    return max(0.0, reset.replace(tzinfo=UTC).timestamp() - time.time())


def call(fn: Callable[[], T]) -> T:
    """``fn()``, with whatever recurly-python raises translated into a SyncFailure."""
    try:
        return fn()
    except recurly.RecurlyError as exc:
        raise translate(exc) from exc
