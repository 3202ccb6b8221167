"""Salesforce adapter: the SOQL reads and sObject Collections writes of a cycle.

The only module of the engine that calls simple-salesforce. It translates Salesforce errors
once, here: whole-call failures become RetryLater / StopCycle; per-record failures come back
as WriteResult values for the engine to record.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from metadata import schema

from .errors import RetryLater, StopCycle
from .retry import backoff_call, retry_delay

__all__ = ["BATCH", "RecordError", "SalesforceGateway", "WriteResult", "classify_record_error"]

log = logging.getLogger(__name__)

BATCH = 200  # sObject Collections take at most 200 records a call
LOCK_ATTEMPTS = 3  # sends of a record that keeps failing on UNABLE_TO_LOCK_ROW, in one cycle
RETRYABLE_RECORD_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})
RETRYABLE_CALL_ERRORS = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "CONCURRENT_REQUEST_LIMIT_EXCEEDED"}
)
# Errors that mean our metadata or field-level security is missing: no record can succeed.
SCHEMA_ERRORS = frozenset({"INVALID_FIELD", "INVALID_TYPE", "INVALID_FIELD_FOR_INSERT_UPDATE"})


@dataclass(frozen=True)
class RecordError:
    code: str
    message: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteResult:
    key: str  # the Stripe id or Salesforce Id the record was written by
    success: bool
    record_id: str | None = None
    created: bool = False
    errors: tuple[RecordError, ...] = ()

    @property
    def retryable(self) -> bool:
        return bool(self.errors) and all(e.code in RETRYABLE_RECORD_ERRORS for e in self.errors)


def classify_record_error(code: str) -> str:
    """Which Sync_Error__c category a per-record failure belongs to."""
    if code == "FIELD_CUSTOM_VALIDATION_EXCEPTION":
        return "Validation"
    if code in ("REQUEST_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS"):
        return "Limits"
    return "Salesforce Write"


def _soql_fields(sobject: str, extra: Sequence[str]) -> str:
    names = list(extra) + [f.name for f in schema.owned_fields(sobject) if f.name not in extra]
    return ", ".join(names)


class SalesforceGateway:
    def __init__(self, sf: Salesforce, *, sleep: Callable[[float], None] | None = None):
        self.sf = sf
        self.calls: Counter[str] = Counter()
        self._backoff = {"sleep": sleep} if sleep else {}
        self._sleep = sleep or time.sleep

    # -- reads -----------------------------------------------------------------------------
    def read_accounts(self, account_id: str | None = None) -> list[dict]:
        fields = _soql_fields("Account", ["Id", "Name", "Stripe_Customer_Id__c"])
        if account_id:
            soql = format_soql(f"SELECT {fields} FROM Account WHERE Id = {{}}", account_id)
        else:
            soql = f"SELECT {fields} FROM Account WHERE Stripe_Customer_Id__c != null ORDER BY Id"
        return list(self._query(soql))

    def read_subscriptions(self, customer_ids: Iterable[str] | None = None) -> list[dict]:
        sub = schema.SUBSCRIPTION
        fields = _soql_fields(sub.name, ["Id", "Name"])
        if customer_ids is None:
            soql = f"SELECT {fields} FROM {sub.name} ORDER BY Id"
            return list(self._query(soql))
        ids = sorted(set(customer_ids))
        if not ids:
            return []
        soql = format_soql(
            f"SELECT {fields} FROM {sub.name} WHERE Stripe_Customer_Id__c IN {{}} ORDER BY Id",
            ids,
        )
        return list(self._query(soql))

    def read_open_errors(self) -> list[dict]:
        err = schema.SYNC_ERROR
        soql = (
            f"SELECT Id, Name, Fingerprint__c, Status__c, Attempts__c, Retry_Requested__c, "
            f"Account__c, Stripe_Customer_Id__c FROM {err.name} "
            "WHERE Status__c IN ('Open', 'Retrying') ORDER BY Id"
        )
        return list(self._query(soql))

    def _query(self, soql: str) -> Iterator[dict]:
        page = self._call("query", lambda: self.sf.query(soql))
        while True:
            for record in page["records"]:
                record.pop("attributes", None)
                yield record
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            url = page["nextRecordsUrl"]
            page = self._call("query", lambda u=url: self.sf.query_more(u, identifier_is_url=True))

    # -- writes ----------------------------------------------------------------------------
    def update(self, records: Sequence[dict]) -> list[WriteResult]:
        """Update by Id (Accounts: never upserted, so a typo can't create one)."""
        return self._collections("composite/sobjects", records, key_field="Id")

    def upsert(self, sobject: str, key_field: str, records: Sequence[dict]) -> list[WriteResult]:
        return self._collections(f"composite/sobjects/{sobject}/{key_field}", records,
                                 key_field=key_field)

    def _collections(
        self, path: str, records: Sequence[dict], *, key_field: str
    ) -> list[WriteResult]:
        """Write in batches of 200; records that failed only on a row lock are re-sent, with
        backoff, up to LOCK_ATTEMPTS times before their failure is handed to the caller."""
        results: list[WriteResult | None] = [None] * len(records)
        pending = list(range(len(records)))
        for attempt in range(1, LOCK_ATTEMPTS + 1):
            if attempt > 1:
                self._sleep(retry_delay(attempt - 1, base=1.0, cap=8.0))
            for start in range(0, len(pending), BATCH):
                chunk = pending[start:start + BATCH]
                for index, result in zip(chunk, self._batch(path, [records[i] for i in chunk],
                                                            key_field), strict=True):
                    results[index] = result
            pending = [i for i in pending if results[i].retryable]  # type: ignore[union-attr]
            if not pending:
                break
        return [r for r in results if r is not None]

    def _batch(self, path: str, batch: list[dict], key_field: str) -> list[WriteResult]:
        body = {"allOrNone": False, "records": batch}
        label = "PATCH " + ("composite/sobjects" if key_field == "Id" else path)
        answer = self._call(label, lambda: self.sf.restful(path, method="PATCH", json=body))
        return [
            WriteResult(
                key=record.get(key_field) or "",
                success=bool(outcome.get("success")),
                record_id=outcome.get("id"),
                created=bool(outcome.get("created")),
                errors=tuple(
                    RecordError(e.get("statusCode", ""), e.get("message", ""),
                                tuple(e.get("fields") or ()))
                    for e in outcome.get("errors") or ()
                ),
            )
            for record, outcome in zip(batch, answer, strict=True)
        ]

    # -- error translation -----------------------------------------------------------------
    def _call(self, label: str, fn: Callable):
        def once():
            self.calls[label] += 1
            try:
                return fn()
            except SalesforceExpiredSession:
                raise StopCycle("Salesforce session expired and could not be renewed",
                                code="INVALID_SESSION_ID", category="Configuration") from None
            except SalesforceRefusedRequest as exc:
                code = _code(exc)
                if code == "REQUEST_LIMIT_EXCEEDED":
                    raise StopCycle("Salesforce daily API request limit reached; the cycle "
                                    "stops until the 24-hour window moves",
                                    code=code, category="Limits") from None
                raise StopCycle(f"Salesforce refused the request ({code}): {_message(exc)}",
                                code=code, category="Configuration") from None
            except SalesforceMalformedRequest as exc:
                code = _code(exc)
                if code in SCHEMA_ERRORS:
                    raise StopCycle(
                        f"{_message(exc)} — billing-sync's metadata or the integration user's "
                        "field access is missing: run `billing-sync deploy`",
                        code=code, category="Configuration") from None
                if code in RETRYABLE_CALL_ERRORS:
                    raise RetryLater(_message(exc), code=code) from None
                raise StopCycle(f"Salesforce rejected a request ({code}): {_message(exc)}",
                                code=code, category="Salesforce Write") from None
            except SalesforceResourceNotFound as exc:
                raise StopCycle(f"Salesforce resource not found: {_message(exc)}",
                                code=_code(exc) or "NOT_FOUND", category="Configuration") from None
            except SalesforceGeneralError as exc:
                if exc.status >= 500 or _code(exc) in RETRYABLE_CALL_ERRORS:
                    raise RetryLater(f"Salesforce unavailable (HTTP {exc.status})",
                                     code=_code(exc) or f"HTTP_{exc.status}") from None
                raise StopCycle(f"Salesforce error (HTTP {exc.status}): {_message(exc)}",
                                code=_code(exc), category="Salesforce Write") from None
            except SalesforceError as exc:
                raise StopCycle(f"Salesforce error: {_message(exc)}", code=_code(exc)) from None
            except requests.RequestException as exc:
                raise RetryLater(f"Salesforce unreachable: {type(exc).__name__}",
                                 code="CONNECTION") from None

        return backoff_call(once, **self._backoff)


def _first_error(exc: SalesforceError) -> dict:
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0]
    if isinstance(content, dict):
        return content
    return {}


def _code(exc: SalesforceError) -> str:
    return str(_first_error(exc).get("errorCode", ""))


def _message(exc: SalesforceError) -> str:
    return str(_first_error(exc).get("message") or exc)
