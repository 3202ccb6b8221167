"""The Recurly error table: each error type and status lands on its action and category,
Retry-After and X-RateLimit-Reset become the wait, and the catch-alls leave nothing
untranslated."""

from __future__ import annotations

import pytest
import requests

from metadata.schema import Category
from sync.errors import RetryLater, SkipRecord, StopCycle
from sync.recurly_io import errors
from sync.recurly_io.errors import ApiError, BadReply

CASES = [
    (429, "rate_limited", RetryLater, Category.RECURLY),
    (429, None, RetryLater, Category.RECURLY),
    (401, "unauthorized", StopCycle, Category.CONFIGURATION),
    (401, "invalid_api_key", StopCycle, Category.CONFIGURATION),
    (401, None, StopCycle, Category.CONFIGURATION),
    (403, "invalid_permissions", StopCycle, Category.CONFIGURATION),
    (403, None, StopCycle, Category.CONFIGURATION),
    (406, "invalid_api_version", StopCycle, Category.CONFIGURATION),
    (406, None, StopCycle, Category.CONFIGURATION),
    (422, "simultaneous_request", RetryLater, Category.RECURLY),
    (404, "not_found", SkipRecord, Category.RECURLY),
    (400, "bad_request", SkipRecord, Category.RECURLY),
    (422, "validation", SkipRecord, Category.RECURLY),
    (500, "internal_server_error", RetryLater, Category.RECURLY),
    (503, None, RetryLater, Category.RECURLY),  # a proxy's page: no envelope
    (418, "something_new", RetryLater, Category.RECURLY),  # the catch-all
]


@pytest.mark.parametrize(("status", "kind", "action", "category"), CASES)
def test_error_table(status: int, kind: str | None, action: type, category: Category) -> None:
    failure = errors.translate(ApiError(status, kind, "boom", {"X-Request-Id": "r1"}))
    assert type(failure) is action and failure.category == category
    assert "boom" in failure.message and failure.http_status == status
    assert failure.code == (kind or f"HTTP_{status}") and failure.request_id == "r1"


def test_waits_come_from_retry_after_else_the_window_reset() -> None:
    asked = errors.translate(ApiError(429, "rate_limited", "slow", {"Retry-After": "42"}))
    assert asked.retry_after == 42.0
    reset = ApiError(429, "rate_limited", "slow", {"X-RateLimit-Reset": "1000"})
    assert errors.translate(reset, now=lambda: 940.0).retry_after == 60.0
    # Every answer carries -Reset; an outage does not wait for the rate-limit window.
    outage = ApiError(503, None, "down", {"X-RateLimit-Reset": "1000"})
    assert errors.translate(outage, now=lambda: 940.0).retry_after is None


def test_requests_failures_bad_replies_and_call() -> None:
    assert isinstance(errors.translate(requests.ConnectTimeout("slow")), RetryLater)
    assert isinstance(errors.translate(requests.ConnectionError("refused")), RetryLater)
    bad = errors.translate(BadReply("HTTP 200 with text/html, not JSON"))
    assert isinstance(bad, RetryLater) and bad.code == "UNEXPECTED_RESPONSE"

    def boom() -> None:
        raise ApiError(404, "not_found", "Couldn't find Account with code = x", {})

    with pytest.raises(SkipRecord):
        errors.call(boom)
    # our own bugs are not outages: nothing outside the exchange's exceptions is caught
    with pytest.raises(KeyError):
        errors.call(lambda: {}["x"])
