"""The Salesforce gateway: the SOQL reads and sObject Collections writes of a cycle.

The only module of the engine that reads and writes records through simple-salesforce.
Errors go through the one table in ``errors``: whole-call failures become RetryLater /
StopCycle; per-record failures come back as ``WriteResult`` values, each with its category.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql

from metadata import schema
from metadata.billing_systems import STRIPE, BillingSystem
from metadata.schema import Category

from ..errors import StopCycle
from ..retry import backoff_call, retry_delay
from . import errors
from .access import sobject
from .results import RecordError, Row, WriteResult
from .shared import CallCounter, Usage, UsageMark, usage_of

__all__ = ["BATCH", "RecordError", "SalesforceGateway", "WriteResult"]

T = TypeVar("T")

log = logging.getLogger(__name__)

BATCH = 200  # sObject Collections take at most 200 records a call
LOCK_ATTEMPTS = 3  # sends of a record that keeps failing on UNABLE_TO_LOCK_ROW, in one cycle


def _soql_fields(sobject: str, extra: Sequence[str]) -> str:
    names = list(extra) + [f.name for f in schema.owned_fields(sobject) if f.name not in extra]
    return ", ".join(names)


IN_CHUNK = 500


class SalesforceGateway:
    def __init__(
        self,
        sf: Salesforce,
        *,
        sleep: Callable[[float], None] | None = None,
        own_user_id: str | None = None,
        system: BillingSystem = STRIPE,
    ):
        self.sf = sf
        # The billing system whose Accounts and Subscription__c records this cycle reads.
        self.system = system
        link = system.account_field
        self._link = link
        self._account_fields = _soql_fields("Account", ["Id", "Name", link, "SystemModstamp"])
        # Our own writes move SystemModstamp too: looking for link changes, they are left out.
        self.own_user_id = own_user_id
        # Both shared with the writer's pool threads (``sync.writer``): each takes a lock.
        self.calls = CallCounter()
        self._usage = UsageMark()
        self._sleep: Callable[[float], None] = sleep or time.sleep

    # -- reads -----------------------------------------------------------------------------
    def read_accounts(self, account_id: str | None = None) -> list[Row]:
        fields = self._account_fields
        if account_id:
            soql = format_soql(f"SELECT {fields} FROM Account WHERE Id = {{}}", account_id)
        else:
            soql = f"SELECT {fields} FROM Account WHERE {self._link} != null ORDER BY Id"
        return list(self._query(soql))

    def stream_accounts(self) -> Iterator[Row]:
        """Every linked Account in Id order, one page (2,000) at a time as the caller asks:
        a full reconcile holds a slice of the org, never all of it."""
        return self._query(
            f"SELECT {self._account_fields} FROM Account WHERE {self._link} != null ORDER BY Id"
        )

    def count_linked(self) -> int:
        """How many Accounts carry a link: one ``COUNT()`` query."""
        soql = f"SELECT COUNT() FROM Account WHERE {self._link} != null"
        answer = self._call("query", lambda: self.sf.query(soql))
        return int(answer.get("totalSize") or 0)

    def stream_subscriptions(self) -> Iterator[Row]:
        """This provider's Subscription__c records in the order of their Account's Id (the
        order of ``stream_accounts``), so each slice of Accounts takes the next rows."""
        sub = schema.SUBSCRIPTION
        fields = _soql_fields(sub.name, ["Id", "Name", "Account__c"])
        key = self.system.subscription_key
        return self._query(
            f"SELECT {fields} FROM {sub.name} WHERE {key} != null AND Account__c != null "
            "ORDER BY Account__c, Id"
        )

    def read_accounts_for(self, customer_ids: Iterable[str]) -> list[Row]:
        """The Accounts linked to these customers (an incremental cycle's dirty set)."""
        return self._in_chunks(
            f"SELECT {self._account_fields} FROM Account WHERE {self._link} IN {{}} ORDER BY Id",
            customer_ids,
        )

    def read_changed_accounts(self, since: datetime) -> list[Row]:
        """Accounts modified since ``since`` that are, or were, linked to a customer: a link
        set, changed or cleared (``SystemModstamp`` is indexed)."""
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        mine = (
            format_soql(" AND LastModifiedById != {}", self.own_user_id) if self.own_user_id else ""
        )
        soql = (
            f"SELECT {self._account_fields} FROM Account WHERE SystemModstamp >= {stamp} AND "
            f"({self._link} != null OR Last_Billing_Sync__c != null){mine} ORDER BY Id"
        )
        return list(self._query(soql))

    def read_subscriptions(self, customer_ids: Iterable[str]) -> list[Row]:
        """The Subscription__c records of these customers (one Account's, or an incremental
        cycle's dirty set; a full reconcile streams them, ``stream_subscriptions``)."""
        sub = schema.SUBSCRIPTION
        fields = _soql_fields(sub.name, ["Id", "Name"])
        # Only this provider's records (keyed by its external ID): an org that moved billing
        # systems keeps the other one's records as history.
        key, customer = self.system.subscription_key, self.system.customer_field
        return self._in_chunks(
            f"SELECT {fields} FROM {sub.name} WHERE {customer} IN {{}} AND {key} != null "
            "ORDER BY Id",
            customer_ids,
        )

    def _in_chunks(self, template: str, values: Iterable[str]) -> list[Row]:
        # A SOQL statement may be at most 100,000 characters: a few hundred ids a query.
        ids = sorted(set(values))
        rows: list[Row] = []
        for start in range(0, len(ids), IN_CHUNK):
            rows.extend(self._query(format_soql(template, ids[start : start + IN_CHUNK])))
        return rows

    def read_retry_requested(self) -> list[Row]:
        """The open Sync_Error__c records an admin ticked Retry Requested on: a handful, where
        reading every open one would cost a page per 2,000 failures every cycle."""
        err = schema.SYNC_ERROR
        soql = (
            f"SELECT Id, Name, Fingerprint__c, Status__c, Attempts__c, Retry_Requested__c, "
            f"Account__c, Billing_Customer_Id__c FROM {err.name} "
            "WHERE Status__c IN ('Open', 'Retrying') AND Retry_Requested__c = true ORDER BY Id"
        )
        return list(self._query(soql))

    def _query(self, soql: str) -> Iterator[Row]:
        try:
            records, url = self._call("query", lambda: _page(self.sf.query(soql)))
        except StopCycle as exc:
            if exc.code not in ("INVALID_FIELD", "INVALID_TYPE"):
                raise
            # Name every field of ours Salesforce no longer shows, not just the first one
            # the query tripped on: the admin fixes them all in one go.
            raise self._missing_fields(exc) from None
        while True:
            yield from records
            if url is None:
                return

            def more(u: str = url) -> tuple[list[Row], str | None]:
                return _page(self.sf.query_more(u, identifier_is_url=True))

            records, url = self._call("query", more)

    def usage(self) -> Usage | None:
        """The org's daily API usage as the last response reported it: (used, total). With
        concurrent writes, the last-started call that finished (``UsageMark``)."""
        own = self._usage.reading
        if own is not None:
            return own
        seen = self.sf.api_usage.get("api-usage")
        return None if seen is None else (int(seen.used), int(seen.total))

    def _missing_fields(self, cause: StopCycle) -> StopCycle:
        missing: list[str] = []
        for name in schema.owned_object_names():

            def describe(n: str = name) -> dict[str, Any]:
                return cast(dict[str, Any], sobject(self.sf, n).describe())

            try:
                described = self._call(f"describe {name}", describe)
            except StopCycle:
                missing.append(f"{name} (the whole object)")
                continue
            visible = {f["name"] for f in described.get("fields", [])}
            missing += [
                f"{name}.{f.name}" for f in schema.owned_fields(name) if f.name not in visible
            ]
        if not missing:
            return cause
        return StopCycle(
            f"Salesforce does not show {len(missing)} of billing-sync's fields to the "
            f"integration user: {', '.join(missing)} (deleted, or field-level security "
            "missing). Run `billing-sync deploy`, which recreates them and grants access.",
            category=Category.CONFIGURATION,
            code="FIELDS_MISSING",
        )

    # -- writes ----------------------------------------------------------------------------
    def update(self, records: Sequence[Row]) -> list[WriteResult]:
        """Update by Id (Accounts: never upserted, so a typo can't create one)."""
        return self._collections("composite/sobjects", records, key_field="Id")

    def upsert(self, sobject: str, key_field: str, records: Sequence[Row]) -> list[WriteResult]:
        return self._collections(
            f"composite/sobjects/{sobject}/{key_field}", records, key_field=key_field
        )

    def bulk_write(self, sobject: str, key_field: str, records: Sequence[Row]) -> list[WriteResult]:
        """One Bulk API 2.0 job for a very large write set (update by Id, or upsert by
        ``key_field``): a handful of calls instead of one per 200 records."""
        from .bulk import BulkJob

        return BulkJob(self.sf, self._call, sleep=self._sleep).run(sobject, key_field, records)

    def _collections(
        self, path: str, records: Sequence[Row], *, key_field: str
    ) -> list[WriteResult]:
        """Write in batches of 200; records that failed only on a row lock are re-sent, with
        backoff, up to LOCK_ATTEMPTS times before their failure is handed to the caller."""
        results: list[WriteResult | None] = [None] * len(records)
        pending = list(range(len(records)))
        for attempt in range(1, LOCK_ATTEMPTS + 1):
            if attempt > 1:
                self._sleep(retry_delay(attempt - 1, base=1.0, cap=8.0))
            for start in range(0, len(pending), BATCH):
                chunk = pending[start : start + BATCH]
                for index, result in zip(
                    chunk, self._batch(path, [records[i] for i in chunk], key_field), strict=True
                ):
                    results[index] = result
            pending = [i for i in pending if (r := results[i]) is not None and r.retryable]
            if not pending:
                break
        return [r for r in results if r is not None]

    def _batch(self, path: str, batch: list[Row], key_field: str) -> list[WriteResult]:
        body = {"allOrNone": False, "records": batch}
        label = "PATCH " + ("composite/sobjects" if key_field == "Id" else path)
        # This response's own Sforce-Limit-Info: with calls in flight together, the client's
        # ``api_usage`` is whichever response came back last.
        limits: list[str] = []

        def seen(resp: Any, *args: Any, **kwargs: Any) -> None:
            limits.append(resp.headers.get("Sforce-Limit-Info") or "")

        def send() -> list[WriteResult]:
            limits.clear()
            answer = self.sf.restful(path, method="PATCH", json=body, hooks={"response": seen})
            return _results(batch, answer, key_field)

        return self._call(label, send, usage=lambda: usage_of(limits[-1] if limits else None))

    def _call(
        self, label: str, fn: Callable[[], T], *, usage: Callable[[], Usage | None] | None = None
    ) -> T:
        """One API call (counted), translated through the error table, retried with backoff
        while it says RetryLater. ``usage`` reads the API usage its own response reported."""

        def once() -> T:
            self.calls.add(label)
            ticket = self._usage.ticket()
            out = errors.call("", fn)
            self._usage.record(ticket, usage() if usage else None)
            return out

        return backoff_call(once, sleep=self._sleep)


def _page(answer: Any) -> tuple[list[Row], str | None]:
    """One SOQL page: its records (attributes dropped) and the next page's URL, if any."""
    records = []
    for record in answer["records"]:
        record.pop("attributes", None)
        records.append(record)
    more = not answer.get("done", True) and answer.get("nextRecordsUrl")
    return records, (str(answer["nextRecordsUrl"]) if more else None)


def _results(batch: list[Row], answer: Any, key_field: str) -> list[WriteResult]:
    if not isinstance(answer, list) or len(answer) != len(batch):
        raise ValueError(f"{len(batch)} records sent, {type(answer).__name__} returned")
    out = []
    for record, outcome in zip(batch, answer, strict=True):
        errs = tuple(
            RecordError(e.get("statusCode", ""), e.get("message", ""), tuple(e.get("fields") or ()))
            for e in outcome.get("errors") or ()
        )
        out.append(
            WriteResult(
                key=record.get(key_field) or "",
                success=bool(outcome.get("success")),
                record_id=outcome.get("id"),
                created=bool(outcome.get("created")),
                errors=errs,
                category=None
                if outcome.get("success")
                else errors.record_category(errs[0].code if errs else ""),
            )
        )
    return out
