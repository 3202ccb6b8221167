"""Recurly's errors, translated once: one table from what an HTTP exchange with Recurly can
end in (an error answer's ``type`` and status, a reply that is not Recurly's JSON, a
``requests`` failure) to what we do (retry later, skip this record, stop the cycle) and the
Sync_Error__c category.

We speak to API v2021-02-25 with ``requests`` (recurly-python 4.x has no base-URL option), so
``RecurlyHttp`` turns every error answer into :class:`ApiError`, carrying Recurly's envelope
``{"error": {"type", "message", "params"}}`` (or nothing, for a proxy's page), the status and
the headers. The table matches the body's ``type`` first, then the status, and ends with
catch-alls for ``ApiError``, ``requests``' own exceptions and an unparsable reply, so nothing
an exchange raises escapes untranslated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import requests

from metadata.schema import Category

from ..errors import RetryLater, SkipRecord, StopCycle, SyncFailure

__all__ = ["TABLE", "ApiError", "BadReply", "Rule", "call", "translate"]

T = TypeVar("T")
BILLING = Category.RECURLY  # Sync_Error__c.Category__c of Recurly outages (schema v2)


class ApiError(Exception):
    """An error answer from Recurly: its status, the envelope's ``type`` and ``message``."""

    def __init__(
        self, status: int, type: str | None, message: str, headers: Mapping[str, str]
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type, message
        # Lower-cased: header names are case-insensitive and proxies rewrite them.
        self.headers = {k.lower(): v for k, v in headers.items()}


class BadReply(Exception):
    """A 2xx answer that is not Recurly's JSON (a proxy or captive portal answered)."""


@dataclass(frozen=True)
class Rule:
    exception: type[BaseException]
    action: type[SyncFailure]
    category: Category
    say: str  # {detail}: Recurly's own message, scrubbed by whoever stores it
    types: tuple[str, ...] = ()  # the error body's type, when the rule needs one
    statuses: tuple[int, ...] = ()  # the HTTP status, when the rule needs one

    def matches(self, exc: BaseException) -> bool:
        if not isinstance(exc, self.exception):
            return False
        if self.types and getattr(exc, "type", None) not in self.types:
            return False
        return not self.statuses or getattr(exc, "status", None) in self.statuses


_KEY = "check RECURLY_API_KEY (a private API key of this site)"
_SERVER = (500, 502, 503, 504)
# Types first, then statuses: a proxy's bare 503 page has no type but is still an outage.
TABLE: tuple[Rule, ...] = (
    Rule(ApiError, RetryLater, BILLING, "Recurly rate limit reached ({detail})",
         types=("rate_limited",)),
    Rule(ApiError, RetryLater, BILLING, "Recurly rate limit reached ({detail})",
         statuses=(429,)),
    Rule(ApiError, StopCycle, Category.CONFIGURATION,
         f"Recurly refused the API key ({{detail}}); {_KEY}",
         types=("unauthorized", "invalid_api_key", "invalid_token")),
    Rule(ApiError, StopCycle, Category.CONFIGURATION,
         f"Recurly refused the API key ({{detail}}); {_KEY}", statuses=(401,)),
    Rule(ApiError, StopCycle, Category.CONFIGURATION,
         "the Recurly key may not read this ({detail}); use a key with access to accounts, "
         "subscriptions, invoices, plans and coupons",
         types=("invalid_permissions", "forbidden", "missing_feature"), statuses=()),
    Rule(ApiError, StopCycle, Category.CONFIGURATION,
         "the Recurly key may not read this ({detail}); use a key with access to accounts, "
         "subscriptions, invoices, plans and coupons", statuses=(403,)),
    # 406: the API version we pin is not served; no retry will change that.
    Rule(ApiError, StopCycle, Category.CONFIGURATION,
         "Recurly does not serve API v2021-02-25 here ({detail}); check RECURLY_API_BASE",
         types=("invalid_api_version", "unknown_api_version", "unavailable_in_api_version")),
    Rule(ApiError, StopCycle, Category.CONFIGURATION,
         "Recurly does not serve API v2021-02-25 here ({detail}); check RECURLY_API_BASE",
         statuses=(406,)),
    # Two requests on one record at once: Recurly's own advice is to try again.
    Rule(ApiError, RetryLater, BILLING, "Recurly is busy with this record ({detail})",
         types=("simultaneous_request",)),
    # The caller decides what a refused read means for its record (an unknown account code
    # is a Matching problem of that Account); escaping, it stops the cycle.
    Rule(ApiError, SkipRecord, BILLING, "Recurly does not know this ({detail})",
         statuses=(404,)),
    Rule(ApiError, SkipRecord, BILLING, "Recurly rejected a request ({detail})",
         types=("bad_request", "validation", "invalid_content_type", "immutable_subscription")),
    Rule(ApiError, SkipRecord, BILLING, "Recurly rejected a request ({detail})",
         statuses=(400, 422)),
    Rule(ApiError, RetryLater, BILLING, "Recurly is unavailable ({detail})", statuses=_SERVER),
    Rule(requests.Timeout, RetryLater, BILLING, "Recurly did not answer in time ({detail})"),
    Rule(requests.RequestException, RetryLater, BILLING, "cannot reach Recurly ({detail})"),
    # catch-alls: an error type we do not know, a reply that is not Recurly's JSON.
    Rule(ApiError, RetryLater, BILLING, "Recurly sent an unexpected error ({detail})"),
    Rule(BadReply, RetryLater, BILLING, "Recurly sent an unexpected reply ({detail})"),
)  # fmt: skip


def translate(exc: BaseException, *, now: Callable[[], float] = time.time) -> SyncFailure:
    """The failure ``exc`` means. ``now`` turns ``X-RateLimit-Reset`` into seconds to wait."""
    if isinstance(exc, SyncFailure):
        return exc
    rule = next((r for r in TABLE if r.matches(exc)), None)
    if rule is None:
        raise exc
    if isinstance(exc, ApiError):
        code = exc.type or f"HTTP_{exc.status}"
        detail = exc.message[:300] or code
        status: int | None = exc.status
        limited = exc.status == 429 or exc.type == "rate_limited"
        wait = _retry_after(exc.headers, now(), limited) if rule.action is RetryLater else None
        request_id = exc.headers.get("x-request-id")
    else:
        # requests' messages name the URL (never the key: it travels in a header).
        code = "UNEXPECTED_RESPONSE" if isinstance(exc, BadReply) else type(exc).__name__
        detail = f"{type(exc).__name__}: {str(exc)[:200]}"
        status, wait, request_id = None, None, None
    sentence = rule.say.format(detail=detail)
    return rule.action(
        sentence[0].upper() + sentence[1:],
        category=rule.category,
        code=code,
        http_status=status,
        request_id=request_id,
        retry_after=wait,
    )


def _retry_after(headers: Mapping[str, str], now: float, limited: bool) -> float | None:
    """Seconds Recurly asked us to wait: ``Retry-After`` when sent, else, on a rate-limited
    answer only, until ``X-RateLimit-Reset`` (epoch seconds; every answer carries it, and a
    5xx must not wait for the window)."""
    names = (("retry-after", True), ("x-ratelimit-reset", False))
    for name, relative in names if limited else names[:1]:
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        return max(0.0, seconds if relative else seconds - now)
    return None


def call(fn: Callable[[], T], *, now: Callable[[], float] = time.time) -> T:
    """``fn()``, with whatever the exchange raises (``ApiError``, ``BadReply``, ``requests``)
    translated by the table. ``fn`` must be one request and what reads its reply."""
    try:
        return fn()
    except (ApiError, BadReply, requests.RequestException) as exc:
        raise translate(exc, now=now) from None
