"""The two vendor error tables: every row, the catch-alls, and what reaches the caller."""

from __future__ import annotations

import json

import pytest
import requests
import stripe
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from metadata.schema import Category
from sync.errors import RetryLater, SkipRecord, StopCycle, SyncFailure
from sync.salesforce_io import errors as sf_errors
from sync.stripe_io import errors as stripe_errors


def _body(code: str, message: str = "something happened") -> list[dict[str, str]]:
    return [{"errorCode": code, "message": message}]


def _sf(cls: type[SalesforceError], status: int, content: object) -> SalesforceError:
    return cls("https://x.invalid/services/data/v66.0/query", status, "query", content)


# -- Salesforce: every errorCode row of the table ----------------------------------------
@pytest.mark.parametrize("code", sorted(sf_errors.BY_CODE))
def test_every_salesforce_code_row_is_applied(code):
    rule = sf_errors.BY_CODE[code]
    failure = sf_errors.translate("", _sf(SalesforceMalformedRequest, 400, _body(code)))
    assert type(failure) is rule.action and failure.category == rule.category
    assert failure.code == code and failure.http_status == 400
    assert "something happened" in failure.message


@pytest.mark.parametrize(
    "exc, action, category, code",
    [
        (_sf(SalesforceMoreThanOneRecord, 300, [{"x": 1}]), StopCycle, Category.SALESFORCE_WRITE,
         "300"),
        (_sf(SalesforceMalformedRequest, 400, _body("MALFORMED_QUERY")), StopCycle,
         Category.SALESFORCE_WRITE, "MALFORMED_QUERY"),
        (_sf(SalesforceExpiredSession, 401, "<html>login</html>"), StopCycle,
         Category.CONFIGURATION, "401"),
        (_sf(SalesforceRefusedRequest, 403, _body("SOMETHING_NEW")), StopCycle,
         Category.CONFIGURATION, "SOMETHING_NEW"),
        (_sf(SalesforceResourceNotFound, 404, _body("NOT_FOUND")), StopCycle,
         Category.CONFIGURATION, "NOT_FOUND"),
        (_sf(SalesforceGeneralError, 500, b"<html>oops</html>"), RetryLater,
         Category.SALESFORCE_WRITE, "500"),
        (_sf(SalesforceGeneralError, 503, _body("SERVER_UNAVAILABLE")), RetryLater,
         Category.SALESFORCE_WRITE, "SERVER_UNAVAILABLE"),
        (_sf(SalesforceGeneralError, 418, "teapot"), StopCycle, Category.SALESFORCE_WRITE,
         "418"),
        (SalesforceAuthenticationFailed("INVALID_LOGIN", "bad"), StopCycle,
         Category.CONFIGURATION, "INVALID_SESSION_ID"),
    ],
)
def test_salesforce_statuses_and_root_exception(exc, action, category, code):
    failure = sf_errors.translate("", exc)
    assert (type(failure), failure.category, failure.code) == (action, category, code)


def test_the_concurrent_request_limit_is_transient_the_daily_limit_is_not():
    daily = sf_errors.translate("", _sf(SalesforceRefusedRequest, 403, _body(
        "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")))
    concurrent = sf_errors.translate("", _sf(SalesforceRefusedRequest, 403, _body(
        "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")))
    assert isinstance(daily, StopCycle) and daily.category == Category.LIMITS
    assert isinstance(concurrent, RetryLater) and concurrent.category == Category.LIMITS


@pytest.mark.parametrize(
    "raised, code",
    [
        (requests.ConnectionError("refused"), "CONNECTION"),
        (requests.Timeout("read timed out"), "CONNECTION"),
        (requests.exceptions.SSLError("certificate verify failed"), "CONNECTION"),
        (json.JSONDecodeError("Expecting value", "<html>", 0), "UNEXPECTED_RESPONSE"),
        (KeyError("records"), "UNEXPECTED_RESPONSE"),
        (TypeError("list indices must be integers"), "UNEXPECTED_RESPONSE"),
    ],
)
def test_network_and_shape_errors_are_retried_later_never_raised_raw(raised, code):
    def boom():
        raise raised

    with pytest.raises(RetryLater) as info:
        sf_errors.call("Reading Accounts", boom)
    assert info.value.code == code and info.value.message.startswith("Reading Accounts: ")


def test_the_soap_fault_of_a_metadata_call_is_read():
    fault = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
             b"<soapenv:Body><soapenv:Fault><faultcode>sf:INSUFFICIENT_ACCESS</faultcode>"
             b"<faultstring>no Modify Metadata</faultstring></soapenv:Fault></soapenv:Body>"
             b"</soapenv:Envelope>")
    failure = sf_errors.translate("Starting the deploy", _sf(SalesforceGeneralError, 500, fault))
    assert isinstance(failure, StopCycle) and failure.code == "INSUFFICIENT_ACCESS"
    assert "Modify Metadata" in failure.message


def test_a_sync_failure_passes_through_untouched():
    ours = StopCycle("cannot be renewed", category=Category.CONFIGURATION)
    assert sf_errors.translate("x", ours) is ours and stripe_errors.translate(ours) is ours


@pytest.mark.parametrize("code, category", [
    ("FIELD_CUSTOM_VALIDATION_EXCEPTION", Category.VALIDATION),
    ("REQUEST_LIMIT_EXCEEDED", Category.LIMITS),
    ("STRING_TOO_LONG", Category.SALESFORCE_WRITE),
    ("", Category.SALESFORCE_WRITE),
])
def test_record_errors_get_their_category_at_the_edge(code, category):
    assert sf_errors.record_category(code) == category


def test_login_refusals_name_the_mode_and_never_the_body_secrets():
    failure = sf_errors.login_refused("jwt", 400, {"error": "invalid_grant",
                                                   "error_description": "audience is invalid"})
    assert "login (jwt) was refused: invalid_grant: audience is invalid" in failure.message
    assert sf_errors.login_refused("client_credentials", 502, None).message.endswith("HTTP 502")


# -- Stripe: every row of the table --------------------------------------------------------
def _stripe(cls: type[stripe.StripeError], status: int | None, code: str | None = None
            ) -> stripe.StripeError:
    return cls("Stripe says no", http_status=status, code=code,
               headers={"request-id": "req_test123"})


@pytest.mark.parametrize("rule", stripe_errors.TABLE, ids=lambda r: r.exception.__name__)
def test_every_stripe_row_is_applied(rule):
    exc_type = rule.exception
    exc = (exc_type("Stripe says no", "param", http_status=400, code="x",
                    headers={"request-id": "req_test123"})
           if exc_type is stripe.InvalidRequestError
           else _stripe(exc_type, 500, "x"))
    failure = stripe_errors.translate(exc)
    # The first row that matches wins: a subclass row sits above its parent's.
    expected = next(r for r in stripe_errors.TABLE if isinstance(exc, r.exception))
    assert type(failure) is expected.action and failure.category == expected.category
    assert failure.request_id == "req_test123" and failure.code == "x"


def test_stripe_catch_alls():
    assert isinstance(stripe_errors.translate(_stripe(stripe.StripeError, None)), RetryLater)
    refused = stripe_errors.translate(stripe.InvalidRequestError(
        "No such customer: 'cus_x'", "customer", code="resource_missing", http_status=404))
    assert isinstance(refused, SkipRecord) and refused.code == "resource_missing"

    def html():
        raise json.JSONDecodeError("Expecting value", "<html>", 0)

    with pytest.raises(RetryLater, match="unexpected reply"):
        stripe_errors.call(html)


def test_the_base_class_has_no_default_category():
    with pytest.raises(TypeError):
        SyncFailure("no category")  # type: ignore[call-arg]
    assert RetryLater("x", category=Category.STRIPE).action == "retry"
    assert SkipRecord("x", category=Category.STRIPE).action == "skip"
    assert StopCycle("x", category=Category.STRIPE).action == "stop"


def test_stripe_retry_after_and_should_retry_are_honoured():
    limited = stripe.RateLimitError("slow down", http_status=429, code="rate_limit",
                                    headers={"Retry-After": "7", "request-id": "req_x"})
    failure = stripe_errors.translate(limited)
    assert isinstance(failure, RetryLater) and failure.retry_after == 7.0
    final = stripe.APIError("no", http_status=500, headers={"Stripe-Should-Retry": "false"})
    assert isinstance(stripe_errors.translate(final), StopCycle)


def test_the_backoff_waits_at_least_what_the_service_asked():
    from sync.retry import backoff_call

    waits: list[float] = []
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RetryLater("busy", category=Category.STRIPE, retry_after=5.0)
        return "ok"

    assert backoff_call(flaky, sleep=waits.append, rand=lambda: 0.0) == "ok"
    assert waits == [5.0]  # not the 0.25 s the first backoff step would have waited


def test_the_pacer_keeps_requests_under_stripes_rate():
    from sync.stripe_io.pacing import Pacer, rate_for_key

    assert rate_for_key("sk_test_x") == 20.0 and rate_for_key("rk_live_x") == 80.0
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacer = Pacer(20.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait()
    # the first goes at once, each next one 50 ms after the previous: 5 requests in 0.2 s
    assert waits == pytest.approx([0.05] * 4) and now[0] == pytest.approx(100.2)
    now[0] += 10  # an idle pause earns no burst beyond one request
    assert pacer.wait() == 0.0 and pacer.wait() == pytest.approx(0.05)
