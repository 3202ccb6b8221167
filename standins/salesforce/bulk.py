"""Bulk API 2.0 ingest jobs: the job record, the CSV it is given, and turning each row into
the org's own writes (field-level security, validation rules, picklists and all)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from .values import now_stamp

__all__ = ["DELIMITERS", "FINAL_STATES", "IngestJob", "csv_out", "parse_upload", "row_error"]

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}
FINAL_STATES = ("JobComplete", "Failed", "Aborted")
NULL = "#N/A"  # Bulk API's way to set a field to null; an empty cell leaves it unchanged


class JobFailure(Exception):
    """The whole job fails (state Failed) with this errorMessage."""


@dataclass
class IngestJob:
    id: str
    operation: str
    object: str
    external_id: str | None
    line_ending: str
    delimiter: str
    api_version: str
    created_by: str  # user id
    username: str
    created_date: str = field(default_factory=now_stamp)
    modstamp: str = ""
    state: str = "Open"
    data: bytes | None = None
    error_message: str | None = None
    header: list[str] = field(default_factory=list)
    successes: list[list[str]] = field(default_factory=list)  # sf__Id, sf__Created, *cells
    failures: list[list[str]] = field(default_factory=list)  # sf__Id, sf__Error, *cells
    unprocessed: list[list[str]] = field(default_factory=list)
    processing_ms: int = 0

    def __post_init__(self) -> None:
        self.modstamp = self.modstamp or self.created_date

    def touch(self, state: str) -> None:
        self.state = state
        self.modstamp = now_stamp()

    def info(self, full: bool) -> dict:
        """The JobInfo body: as ``Create a Job`` and ``Close or Abort`` answer (full=False), or
        ``Get Job Info`` with the counts (full=True)."""
        out: dict = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created_date,
            "systemModstamp": self.modstamp,
            "state": self.state,
        }
        if self.external_id:
            out["externalIdFieldName"] = self.external_id
        out.update(concurrencyMode="Parallel", contentType="CSV",
                   apiVersion=float(self.api_version))
        if not full:
            if self.state == "Open":
                out["contentUrl"] = (f"services/data/v{self.api_version}/jobs/ingest/"
                                     f"{self.id}/batches")
            out.update(lineEnding=self.line_ending, columnDelimiter=self.delimiter)
            return out
        out.update(
            jobType="V2Ingest",
            lineEnding=self.line_ending,
            columnDelimiter=self.delimiter,
            numberRecordsProcessed=len(self.successes) + len(self.failures),
            numberRecordsFailed=len(self.failures),
            retries=0,
            totalProcessingTime=self.processing_ms,
            apiActiveProcessingTime=self.processing_ms,
            apexProcessingTime=0,
        )
        if self.error_message is not None:
            out["errorMessage"] = self.error_message
        return out


def parse_upload(job: IngestJob) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the job's CSV. Raises JobFailure as Salesforce fails the job."""
    raw = job.data or b""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise JobFailure("ClientInputError : The data is not valid UTF-8") from None
    crlf = "\r\n" in text
    bare_lf = "\n" in text.replace("\r\n", "")
    if (job.line_ending == "LF" and crlf) or (job.line_ending == "CRLF" and bare_lf):
        raise JobFailure("ClientInputError : LineEnding is invalid on user data. Current "
                         f"LineEnding setting is {job.line_ending}")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""),
                               delimiter=DELIMITERS[job.delimiter], strict=True))
    except csv.Error as exc:
        raise JobFailure(f"ClientInputError : Unable to parse the CSV data: {exc}") from None
    rows = [r for r in rows if r != []]
    if not rows:
        raise JobFailure("InvalidBatch : The CSV data is empty")
    header = [h.strip() for h in rows[0]]
    seen: set[str] = set()
    for name in header:
        if not name:
            raise JobFailure("InvalidBatch : Field name not found : ")
        if name.lower() in seen:
            raise JobFailure(f"InvalidBatch : Duplicate field name: {name}")
        seen.add(name.lower())
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise JobFailure(f"ClientInputError : Wrong number of columns in row {n}: "
                             f"expected {len(header)}, found {len(row)}")
    return header, rows[1:]


def row_values(header: list[str], row: list[str]) -> dict:
    """A row as a REST-style body: empty cells left out, ``#N/A`` as null."""
    out: dict = {}
    for name, cell in zip(header, row, strict=True):
        if cell == "":
            continue
        out[name] = None if cell == NULL else cell
    return out


def row_error(code: str, message: str, fields: list[str]) -> str:
    """sf__Error as Salesforce writes it: ``CODE:message:Field1,Field2 --``."""
    return f"{code}:{message}:{','.join(fields)} --"


def csv_out(prefix: list[str], header: list[str], rows: list[list[str]]) -> bytes:
    """A results CSV: the ``sf__`` columns quoted, then the caller's own header as sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    names = ",".join(f'"{p}"' for p in prefix)
    own = ",".join(_plain(h) for h in header)
    buffer.write(",".join(x for x in (names, own) if x) + "\n")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode()


def _plain(name: str) -> str:
    return f'"{name}"' if any(c in name for c in ',"\n\r') else name
