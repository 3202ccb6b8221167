"""Bulk API 2.0 ingest for very large write sets (the first sync of a big org: 220,000
records at 100,000 Accounts would be 1,100 sObject Collections calls; one job is a handful).

One job per object: create, upload one CSV, close, poll, then read the successful, failed and
unprocessed results and map them back, by key, onto the same ``WriteResult`` values a
Collections write gives. In the CSV an empty cell leaves a field as it is, so every record
carries only its own columns' values and ``#N/A`` writes a null.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Sequence
from typing import Any

from simple_salesforce.api import Salesforce
from simple_salesforce.util import exception_handler

from .errors import record_category
from .results import RecordError, Row, WriteResult

__all__ = ["BulkJob"]

TERMINAL = ("JobComplete", "Failed", "Aborted")
POLL_SECONDS = 2.0
DEADLINE_SECONDS = 600.0
NULL = "#N/A"


def _cell(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(records: Sequence[Row]) -> tuple[str, list[str]]:
    """One CSV for records whose columns differ: the union of columns; a record lacking one
    leaves that field unchanged (an empty cell)."""
    columns: list[str] = []
    for record in records:
        columns += [k for k in record if k != "attributes" and k not in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record[c]) if c in record else "" for c in columns])
    return out.getvalue(), columns


class BulkJob:
    """One ingest job; every HTTP request goes through ``call(label, fn)`` (counted, error
    table, backoff) like any other gateway call."""

    def __init__(
        self,
        sf: Salesforce,
        call: Callable[[str, Callable[[], Any]], Any],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.sf, self.call, self.sleep, self.clock = sf, call, sleep, clock

    def _url(self, tail: str = "") -> str:
        return f"{self.sf.base_url}jobs/ingest/{tail}"

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.sf.headers, **kwargs.pop("headers", {})}
        resp = self.sf.session.request(method, url, headers=headers, **kwargs)
        if resp.status_code >= 300:
            exception_handler(resp, "jobs/ingest")
        return resp

    def run(self, sobject: str, key_field: str, records: Sequence[Row]) -> list[WriteResult]:
        operation = "update" if key_field == "Id" else "upsert"
        body: dict[str, Any] = {
            "object": sobject,
            "operation": operation,
            "contentType": "CSV",
            "lineEnding": "LF",
        }
        if operation == "upsert":
            body["externalIdFieldName"] = key_field
        job = self.call(
            "POST jobs/ingest", lambda: self._send("POST", self._url(), json=body).json()
        )
        job_id = str(job["id"])
        data, _columns = to_csv(records)
        self.call(
            "PUT jobs/ingest/batches",
            lambda: self._send(
                "PUT",
                self._url(f"{job_id}/batches"),
                data=data.encode(),
                headers={"Content-Type": "text/csv"},
            ),
        )
        self.call(
            "PATCH jobs/ingest",
            lambda: self._send("PATCH", self._url(job_id), json={"state": "UploadComplete"}),
        )
        deadline = self.clock() + DEADLINE_SECONDS
        while True:
            info = self.call("GET jobs/ingest", lambda: self._send("GET", self._url(job_id)).json())
            if info.get("state") in TERMINAL or self.clock() > deadline:
                break
            self.sleep(POLL_SECONDS)
        outcome: dict[str, WriteResult] = {}
        for kind in ("successfulResults", "failedResults", "unprocessedrecords"):

            def results(k: str = kind) -> str:
                text: str = self._send("GET", self._url(f"{job_id}/{k}/")).text
                return text

            for row in csv.DictReader(io.StringIO(self.call(f"GET jobs/ingest/{kind}", results))):
                key = row.get(key_field, "")
                outcome[key] = _result(kind, key, row)
        return [
            outcome.get(str(r.get(key_field, "")), _unknown(str(r.get(key_field, ""))))
            for r in records
        ]


def _result(kind: str, key: str, row: dict[str, str]) -> WriteResult:
    if kind == "successfulResults":
        return WriteResult(
            key, True, record_id=row.get("sf__Id") or None, created=row.get("sf__Created") == "true"
        )
    if kind == "failedResults":
        # sf__Error is "CODE:message:Fields --"
        code, _, rest = (row.get("sf__Error") or "UNKNOWN").partition(":")
        message, _, fields = rest.rpartition(":")
        names = tuple(f for f in fields.replace("--", "").split(",") if f.strip())
        error = RecordError(code, message or rest, tuple(n.strip() for n in names))
        return WriteResult(key, False, errors=(error,), category=record_category(code))
    error = RecordError("UNPROCESSED", "Salesforce did not process this record of the job")
    return WriteResult(key, False, errors=(error,), category=record_category("UNPROCESSED"))


def _unknown(key: str) -> WriteResult:
    error = RecordError("UNKNOWN", "the bulk job reported nothing for this record")
    return WriteResult(key, False, errors=(error,), category=record_category("UNKNOWN"))
