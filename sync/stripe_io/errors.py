"""Stripe's errors, translated once: one table from stripe-python's exception types to what
we do (retry later, skip this record, stop the cycle) and the Sync_Error__c category.

The table is ordered most specific first and ends with stripe-python's root exception, so
nothing Stripe raises escapes untranslated; a reply of the wrong shape (a proxy's HTML, a
truncated body, a missing key) is a ``RetryLater`` too, never a ``KeyError`` in the cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import stripe

from metadata.schema import Category

from ..errors import RetryLater, SkipRecord, StopCycle, SyncFailure

__all__ = ["TABLE", "Rule", "call", "translate"]

T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    exception: type[Exception]
    action: type[SyncFailure]
    category: Category
    say: str  # {detail}: Stripe's own message, scrubbed by whoever stores it


TABLE: tuple[Rule, ...] = (
    Rule(
        stripe.RateLimitError, RetryLater, Category.STRIPE, "Stripe rate limit reached ({detail})"
    ),
    Rule(stripe.APIConnectionError, RetryLater, Category.STRIPE, "cannot reach Stripe ({detail})"),
    Rule(
        stripe.AuthenticationError,
        StopCycle,
        Category.CONFIGURATION,
        "Stripe refused the API key ({detail}); check STRIPE_API_KEY",
    ),
    Rule(
        stripe.PermissionError,
        StopCycle,
        Category.CONFIGURATION,
        "the Stripe key may not read this ({detail}); give the restricted key read access to "
        "Customers, Subscriptions, Products, Prices, Coupons and Events",
    ),
    Rule(
        stripe.IdempotencyError,
        RetryLater,
        Category.STRIPE,
        "Stripe reported an idempotency conflict ({detail})",
    ),
    # The caller decides what a refused request means for its record (a per-customer listing
    # refused is a Matching problem of that Account); escaping, it stops the cycle.
    Rule(
        stripe.InvalidRequestError,
        SkipRecord,
        Category.STRIPE,
        "Stripe rejected a request ({detail})",
    ),
    Rule(stripe.APIError, RetryLater, Category.STRIPE, "Stripe is unavailable ({detail})"),
    Rule(stripe.StripeError, RetryLater, Category.STRIPE, "Stripe error ({detail})"),
)


def translate(exc: BaseException) -> SyncFailure:
    if isinstance(exc, SyncFailure):
        return exc
    if isinstance(exc, stripe.StripeError):
        rule = next(r for r in TABLE if isinstance(exc, r.exception))
        detail = exc.user_message or str(exc) or type(exc).__name__
        status = exc.http_status
        code = exc.code or (f"HTTP_{status}" if status else type(exc).__name__)
        sentence = rule.say.format(detail=detail)
        headers = exc.headers or {}
        action = rule.action
        if action is RetryLater and str(headers.get("Stripe-Should-Retry", "")).lower() == "false":
            action = StopCycle  # Stripe says a retry cannot succeed
        return action(
            sentence[0].upper() + sentence[1:],
            category=rule.category,
            code=code,
            http_status=status,
            request_id=exc.request_id,
            retry_after=_seconds(headers.get("Retry-After")),
        )
    return RetryLater(
        f"Stripe sent an unexpected reply ({type(exc).__name__}: {str(exc)[:200]})",
        category=Category.STRIPE,
        code="UNEXPECTED_RESPONSE",
    )


def _seconds(value: object) -> float | None:
    try:
        return float(str(value)) if value is not None else None
    except ValueError:
        return None


_SHAPE_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError)


def call(fn: Callable[[], T]) -> T:
    """``fn()``, with whatever Stripe or the reply's shape raises translated by the table."""
    try:
        return fn()
    except (stripe.StripeError, *_SHAPE_ERRORS) as exc:
        raise translate(exc) from None
