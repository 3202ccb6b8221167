"""Salesforce's errors, translated once: one table from Salesforce's answer to what we do.

Every call into simple-salesforce or requests that this package makes goes through
``call(what, fn)``; login requests (``scheduler.clients``) use ``login_refused`` and
``unreachable``. The table decides, by Salesforce's ``errorCode`` first and the HTTP status
second, whether the caller retries later, skips the record or stops the cycle, and which
Sync_Error__c category the failure is filed under. Anything else that escapes a call — a
connection error, a timeout, HTML where JSON was expected, a reply of the wrong shape — is
caught here too, so no vendor exception or ``KeyError`` reaches the cycle.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

from metadata.schema import Category

from ..errors import RetryLater, StopCycle, SyncFailure

__all__ = [
    "BY_CODE",
    "BY_STATUS",
    "Rule",
    "call",
    "error_detail",
    "login_refused",
    "record_category",
    "translate",
    "unreachable",
]

T = TypeVar("T")

_SOAP_FAULT = "{http://schemas.xmlsoap.org/soap/envelope/}Fault"


@dataclass(frozen=True)
class Rule:
    action: type[SyncFailure]
    category: Category
    # A sentence for the person who reads it; {detail} is "CODE: Salesforce's message".
    say: str


_SCHEMA = Rule(
    StopCycle,
    Category.CONFIGURATION,
    "{detail} — billing-sync's metadata or the integration user's field access is "
    "missing: run `billing-sync deploy`",
)

BY_CODE: Mapping[str, Rule] = {
    "INVALID_SESSION_ID": Rule(
        StopCycle,
        Category.CONFIGURATION,
        "the Salesforce session is invalid or expired and could not be renewed ({detail})",
    ),
    "REQUEST_LIMIT_EXCEEDED": Rule(
        StopCycle,
        Category.LIMITS,
        "Salesforce daily API request limit reached; the cycle "
        "stops until the 24-hour window moves ({detail})",
    ),
    "INVALID_FIELD": _SCHEMA,
    "INVALID_TYPE": _SCHEMA,
    "INVALID_FIELD_FOR_INSERT_UPDATE": _SCHEMA,
    "INSUFFICIENT_ACCESS": Rule(
        StopCycle,
        Category.CONFIGURATION,
        "Salesforce refused the request ({detail}); the user needs the "
        "billing-sync permission sets (run `billing-sync deploy`), and "
        "deploying needs Modify Metadata and Manage Users",
    ),
    "API_DISABLED_FOR_ORG": Rule(
        StopCycle, Category.CONFIGURATION, "the org or user may not use the API ({detail})"
    ),
    "UNABLE_TO_LOCK_ROW": Rule(
        RetryLater, Category.SALESFORCE_WRITE, "a record is locked by another update ({detail})"
    ),
    "SERVER_UNAVAILABLE": Rule(
        RetryLater, Category.SALESFORCE_WRITE, "Salesforce is unavailable ({detail})"
    ),
    "CONCURRENT_REQUEST_LIMIT_EXCEEDED": Rule(
        RetryLater, Category.LIMITS, "too many concurrent requests ({detail})"
    ),
}
# A 403 REQUEST_LIMIT_EXCEEDED is also the *concurrent* long-request limit: transient.
_CONCURRENT = Rule(
    RetryLater,
    Category.LIMITS,
    "Salesforce's concurrent long-running request limit was hit ({detail})",
)

BY_STATUS: Mapping[int, Rule] = {
    300: Rule(
        StopCycle, Category.SALESFORCE_WRITE, "an external ID matches several records ({detail})"
    ),
    400: Rule(StopCycle, Category.SALESFORCE_WRITE, "Salesforce rejected a request ({detail})"),
    401: Rule(StopCycle, Category.CONFIGURATION, "Salesforce rejected the session ({detail})"),
    403: Rule(StopCycle, Category.CONFIGURATION, "Salesforce refused the request ({detail})"),
    404: Rule(StopCycle, Category.CONFIGURATION, "Salesforce resource not found ({detail})"),
}
_UNAVAILABLE = Rule(RetryLater, Category.SALESFORCE_WRITE, "Salesforce is unavailable ({detail})")
_OTHER = Rule(StopCycle, Category.SALESFORCE_WRITE, "Salesforce error ({detail})")

# Per-record errors of a collection write: which category an admin finds them under.
_RECORD_CATEGORIES: Mapping[str, Category] = {
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": Category.VALIDATION,
    "REQUEST_LIMIT_EXCEEDED": Category.LIMITS,
    "TOO_MANY_REQUESTS": Category.LIMITS,
}


def record_category(code: str) -> Category:
    """Which Sync_Error__c category a per-record write failure belongs to."""
    return _RECORD_CATEGORIES.get(code, Category.SALESFORCE_WRITE)


def error_detail(content: Any) -> tuple[str, str]:
    """(errorCode, message) of a REST error body or a SOAP fault, or ("", "")."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return str(first.get("errorCode", "")), str(first.get("message", ""))
    if isinstance(content, dict):
        return str(content.get("errorCode", "")), str(content.get("message", ""))
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return "", ""
    fault = root.find(f".//{_SOAP_FAULT}")
    if fault is None:
        return "", ""
    return (fault.findtext("faultcode") or "").rpartition(":")[2], fault.findtext(
        "faultstring"
    ) or ""


def _rule(code: str, message: str, status: int) -> Rule:
    if code == "REQUEST_LIMIT_EXCEEDED" and "Concurrent" in message:
        return _CONCURRENT
    if code in BY_CODE:
        return BY_CODE[code]
    if status >= 500:
        return _UNAVAILABLE
    return BY_STATUS.get(status, _OTHER)


def _build(rule: Rule, what: str, detail: str, code: str, status: int | None) -> SyncFailure:
    sentence = rule.say.format(detail=detail)
    message = f"{what}: {sentence}" if what else sentence[0].upper() + sentence[1:]
    return rule.action(message, category=rule.category, code=code, http_status=status)


def translate(what: str, exc: BaseException) -> SyncFailure:
    """The SyncFailure for anything a Salesforce call raised. ``what`` says what we were
    doing ("Starting the deploy"); empty for the cycle's own reads and writes."""
    if isinstance(exc, SyncFailure):
        return exc
    if isinstance(exc, SalesforceAuthenticationFailed):
        return _build(
            BY_CODE["INVALID_SESSION_ID"], what, "authentication failed", "INVALID_SESSION_ID", 401
        )
    if isinstance(exc, SalesforceError):
        code, message = error_detail(exc.content)
        detail = f"{code}: {message}" if code else f"HTTP {exc.status}"
        return _build(
            _rule(code, message, exc.status), what, detail, code or str(exc.status), exc.status
        )
    if isinstance(exc, requests.RequestException) and not isinstance(exc, ValueError):
        return unreachable(what or "Salesforce", exc)
    # HTML for JSON, truncated JSON, a reply without the keys we read: a passing fault of the
    # peer or a proxy in between, never a reason to stop for good.
    return RetryLater(
        f"{what or 'Salesforce'}: Salesforce sent an unexpected reply "
        f"({type(exc).__name__}: {str(exc)[:200]})",
        category=Category.SALESFORCE_WRITE,
        code="UNEXPECTED_RESPONSE",
    )


def unreachable(what: str, exc: BaseException) -> RetryLater:
    return RetryLater(
        f"{what}: cannot reach Salesforce ({type(exc).__name__})",
        category=Category.SALESFORCE_WRITE,
        code="CONNECTION",
    )


def login_refused(auth: str, status: int, body: Any) -> StopCycle:
    """The OAuth token endpoint said no: bad secret, refused JWT, wrong login URL."""
    if isinstance(body, dict) and body.get("error"):
        detail = f"{body.get('error')}: {body.get('error_description')}"
    else:
        detail = f"HTTP {status}"
    return StopCycle(
        f"Salesforce login ({auth}) was refused: {detail}",
        category=Category.CONFIGURATION,
        code="invalid_grant",
        http_status=status,
    )


_SHAPE_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError, ET.ParseError)


def call(what: str, fn: Callable[[], T]) -> T:
    """``fn()``, with whatever it raises translated through the table."""
    try:
        return fn()
    except (SalesforceError, requests.RequestException, *_SHAPE_ERRORS) as exc:
        raise translate(what, exc) from None
