"""Chargebee's errors, translated once: one table from chargebee-python's exception types,
Chargebee's ``api_error_code`` and the HTTP status to what we do (retry later, skip this
record, stop the cycle) and the Sync_Error__c category.

chargebee-python raises ``APIError`` (or its ``InvalidRequestError`` / ``PaymentError`` /
``OperationFailedError`` subclasses, picked by the error body's ``type``) for every error
answer; authentication, rate-limit and 5xx answers carry no ``type`` and arrive as the base
class, so those rules match on the code and status instead. Connection failures and timeouts
come straight from httpx, unwrapped; a reply that is not JSON, or JSON without
``api_error_code`` (a proxy's page), arrives as a *bare* ``Exception``. The table therefore
ends with catch-alls for the SDK's root exception, httpx's and the bare one, so nothing the
SDK raises escapes untranslated.

"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import chargebee
import httpx

from metadata.schema import Category

from ..errors import RetryLater, SkipRecord, StopCycle, SyncFailure

__all__ = ["TABLE", "Rule", "call", "translate"]

T = TypeVar("T")
BILLING = Category.CHARGEBEE  # Sync_Error__c.Category__c of Chargebee outages (schema v2)


@dataclass(frozen=True)
class Rule:
    exception: type[BaseException]
    action: type[SyncFailure]
    category: Category
    say: str  # {detail}: Chargebee's own message, scrubbed by whoever stores it
    code: str | None = None  # Chargebee's api_error_code, when the rule needs one
    status: int | None = None  # the HTTP status, when the rule needs one

    def matches(self, exc: BaseException) -> bool:
        if not isinstance(exc, self.exception):
            return False
        if self.code is not None and getattr(exc, "api_error_code", None) != self.code:
            return False
        return self.status is None or getattr(exc, "http_status_code", None) == self.status


_KEY = "check CHARGEBEE_API_KEY (a read-only key of this site)"
TABLE: tuple[Rule, ...] = (
    Rule(
        chargebee.APIError,
        RetryLater,
        BILLING,
        "Chargebee rate limit reached ({detail})",
        status=429,
    ),
    Rule(
        chargebee.APIError,
        StopCycle,
        Category.CONFIGURATION,
        f"Chargebee refused the API key ({{detail}}); {_KEY}",
        status=401,
    ),
    Rule(
        chargebee.APIError,
        StopCycle,
        Category.CONFIGURATION,
        "the Chargebee key may not read this ({detail}); use a read-only key with access to "
        "customers, subscriptions, item prices, coupons and events",
        status=403,
    ),
    Rule(
        chargebee.APIError,
        StopCycle,
        Category.CONFIGURATION,
        "Chargebee does not know this site ({detail}); check CHARGEBEE_SITE",
        code="site_not_found",
    ),
    # A Product Catalog 1.0 site refuses the item-based API we read: a different model.
    Rule(
        chargebee.APIError,
        StopCycle,
        Category.CONFIGURATION,
        "this Chargebee site uses Product Catalog 1.0, which billing-sync does not read ({detail})",
        code="configuration_incompatible",
    ),
    Rule(
        chargebee.APIError,
        RetryLater,
        BILLING,
        "the Chargebee site is not ready ({detail})",
        code="site_not_ready",
    ),
    # The caller decides what a refused request means for its record (a batch refused is
    # asked id by id; one id refused is a Matching problem of that Account); escaping, it
    # stops the cycle.
    Rule(
        chargebee.InvalidRequestError,
        SkipRecord,
        BILLING,
        "Chargebee rejected a request ({detail})",
    ),
    Rule(chargebee.PaymentError, SkipRecord, BILLING, "Chargebee refused a payment ({detail})"),
    Rule(
        chargebee.OperationFailedError,
        RetryLater,
        BILLING,
        "Chargebee could not complete a request ({detail})",
    ),
    Rule(chargebee.APIError, RetryLater, BILLING, "Chargebee is unavailable ({detail})"),
    Rule(
        httpx.TimeoutException, RetryLater, BILLING, "Chargebee did not answer in time ({detail})"
    ),
    Rule(httpx.HTTPError, RetryLater, BILLING, "cannot reach Chargebee ({detail})"),
    # chargebee-python's bare Exception for a reply that is not Chargebee's JSON.
    Rule(Exception, RetryLater, BILLING, "Chargebee sent an unexpected reply ({detail})"),
)


def translate(exc: BaseException) -> SyncFailure:
    if isinstance(exc, SyncFailure):
        return exc
    rule = next(r for r in TABLE if r.matches(exc))
    status = getattr(exc, "http_status_code", None)
    api_code = getattr(exc, "api_error_code", None)
    if isinstance(exc, chargebee.APIError):
        code = str(api_code or f"HTTP_{status}")
        detail = str(exc) or code
    else:
        code = "UNEXPECTED_RESPONSE" if rule.exception is Exception else type(exc).__name__
        detail = f"{type(exc).__name__}: {str(exc)[:200]}"
    sentence = rule.say.format(detail=detail)
    headers: Any = getattr(exc, "http_headers", None) or {}
    return rule.action(
        sentence[0].upper() + sentence[1:],
        category=rule.category,
        code=code,
        http_status=status if isinstance(status, int) else None,
        retry_after=_seconds(headers.get("Retry-After")),
    )


def _seconds(value: object) -> float | None:
    try:
        return float(str(value)) if value is not None else None
    except ValueError:
        return None


def call(fn: Callable[[], T]) -> T:
    """``fn()``, with whatever chargebee-python, httpx or the reply's shape raises translated
    by the table. ``fn`` must be a single SDK call and what reads its reply: the catch-all
    for the SDK's bare ``Exception`` would otherwise hide our own bugs as outages."""
    try:
        return fn()
    except SyncFailure:
        raise
    except Exception as exc:
        raise translate(exc) from None
