"""Bulk API 2.0 ingest (``/jobs/ingest``) as a part of ``RestApi``: create, upload, close or
abort, job info, results, delete. A job runs when it is closed (UploadComplete), row by row
through the org's own write path; while processing is paused it waits in InProgress and runs
on the first call that reads it after the pause ends."""

from __future__ import annotations

import time

from .bulk import (
    DELIMITERS,
    FINAL_STATES,
    IngestJob,
    JobFailure,
    csv_out,
    parse_upload,
    row_error,
    row_values,
)
from .ids import IdAllocator, normalize_id
from .org import Access
from .rest_common import Response, json_body
from .sferrors import RecordError, SfError, not_found

__all__ = ["BulkMixin"]

OPERATIONS = ("insert", "update", "upsert", "delete")
RESULTS = {"successfulResults": ("sf__Id", "sf__Created"),
           "failedResults": ("sf__Id", "sf__Error"), "unprocessedrecords": ()}


def _job_error(message: str, code: str = "INVALIDJOB") -> SfError:
    return SfError(400, code, message)


def _state_error(message: str) -> SfError:
    return SfError(409, "INVALIDJOBSTATE", message)


class BulkMixin:
    """Part of ``RestApi``: the Bulk API 2.0 ingest routes."""

    def _bulk_init(self) -> None:
        self.bulk_jobs: dict[str, IngestJob] = {}
        self.bulk_paused = False  # closed jobs wait in InProgress while True
        self._job_ids = IdAllocator("750")

    # ----------------------------------------------------------------- routing
    def _jobs(self, method, version, rest, headers, body, access) -> Response:
        if not rest or rest[0] != "ingest":
            raise SfError(501, "NOT_IMPLEMENTED", "Bulk API 2.0 query jobs (/jobs/query) are "
                          "a real Salesforce resource that the local Salesforce stand-in does "
                          "not implement")
        rest = rest[1:]
        if not rest:
            self._allow(method, "GET", "POST")
            if method == "POST":
                return self._create_job(version, json_body(body), access)
            with self.org.lock:
                jobs = list(self.bulk_jobs.values())
                for job in jobs:
                    self._settle(job)
                return Response(200, {"done": True, "records": [j.info(False) for j in jobs],
                                      "nextRecordsUrl": None})
        with self.org.lock:
            job = self.bulk_jobs.get(normalize_id(rest[0]) or "")
            if job is None:
                raise not_found()
            if len(rest) == 1:
                self._allow(method, "GET", "PATCH", "DELETE")
                if method == "GET":
                    self._settle(job)
                    return Response(200, job.info(True))
                if method == "PATCH":
                    return self._set_state(job, json_body(body))
                self._settle(job)
                if job.state in ("Open", "InProgress"):
                    raise _state_error(f"Job {job.id} can't be deleted in state {job.state}")
                del self.bulk_jobs[job.id]
                return Response(204)
            if len(rest) == 2 and rest[1] == "batches":
                self._allow(method, "PUT")
                return self._upload(job, headers, body)
            if len(rest) == 2 and rest[1] in RESULTS:
                self._allow(method, "GET")
                return self._results(job, rest[1])
        raise not_found()

    # ----------------------------------------------------------------- job lifecycle
    def _create_job(self, version: str, spec: object, access: Access) -> Response:
        if not isinstance(spec, dict):
            raise SfError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = spec.get("operation")
        if operation == "hardDelete":
            raise SfError(501, "NOT_IMPLEMENTED", "hardDelete ingest jobs are not implemented "
                          "by the local Salesforce stand-in")
        if operation not in OPERATIONS:
            raise _job_error(f"InvalidJob : Invalid operation: {operation}")
        name = spec.get("object")
        schema = self.org.visible_object(str(name), access) if name else None
        if schema is None:
            raise _job_error(f"InvalidEntity : Entity '{name}' is not supported by the Bulk "
                             "API.", "INVALIDENTITY")
        content = spec.get("contentType", "CSV")
        if content != "CSV":
            raise _job_error(f"InvalidJob : Unsupported contentType: {content}")
        line_ending = spec.get("lineEnding", "LF")
        if line_ending not in ("LF", "CRLF"):
            raise _job_error(f"InvalidJob : Invalid lineEnding: {line_ending}")
        delimiter = spec.get("columnDelimiter", "COMMA")
        if delimiter not in DELIMITERS:
            raise _job_error(f"InvalidJob : Invalid columnDelimiter: {delimiter}")
        external = spec.get("externalIdFieldName")
        if operation == "upsert":
            if not external:
                raise _job_error(f"InvalidJob : External ID was blank for {schema.name}. An "
                                 "External ID must be specified for upsert.")
            f = self.org.resolve_field(schema, str(external), access)
            if f is None or not (f.external_id or f.full_name == "Id"):
                raise _job_error(f"InvalidJob : Field name provided, {external} is not an "
                                 f"External ID or indexed field for {schema.name}")
            external = f.full_name
        else:
            external = None
        with self.org.lock:
            job = IngestJob(self._job_ids.next(), operation, schema.name, external, line_ending,
                            delimiter, version, access.user_id, access.username)
            self.bulk_jobs[job.id] = job
        return Response(200, job.info(False))

    def _upload(self, job: IngestJob, headers, body: bytes) -> Response:
        kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "text/csv":
            raise SfError(400, "INVALIDCONTENTTYPE", "Job data must be uploaded as text/csv, "
                          f"not {kind or 'no Content-Type'}")
        if job.state != "Open":
            raise _state_error(f"Job {job.id} is in state {job.state}: data can be uploaded "
                               "only to a job in state Open")
        if job.data is not None:
            raise _state_error(f"Job {job.id} already has its data: a Bulk API 2.0 job takes "
                               "one upload")
        if not body:
            raise _job_error("ClientInputError : The request body is empty", "INVALIDBATCH")
        job.data = body
        job.touch("Open")
        return Response(201)

    def _set_state(self, job: IngestJob, change: object) -> Response:
        state = change.get("state") if isinstance(change, dict) else None
        if state not in ("UploadComplete", "Aborted"):
            raise _state_error(f"InvalidJobState : Invalid state: {state}. A job can be set to "
                               "UploadComplete or Aborted")
        self._settle(job)
        if state == "UploadComplete":
            if job.state != "Open":
                raise _state_error(f"Job {job.id} is in state {job.state}: only an Open job "
                                   "can be set to UploadComplete")
            job.touch("UploadComplete")
            answer = job.info(False)  # the answer shows UploadComplete; the job then runs
            self._settle(job)
            return Response(200, answer)
        else:
            if job.state in FINAL_STATES:
                raise _state_error(f"Job {job.id} is in state {job.state}: it can't be "
                                   "aborted")
            job.touch("Aborted")
            if job.data:
                try:
                    job.header, rows = parse_upload(job)
                    job.unprocessed = rows
                except JobFailure:
                    pass
        return Response(200, job.info(False))

    def _results(self, job: IngestJob, kind: str) -> Response:
        self._settle(job)
        if job.state not in FINAL_STATES:
            raise _state_error(f"Job {job.id} is in state {job.state}: results are available "
                               "once the job is complete")
        rows = {"successfulResults": job.successes, "failedResults": job.failures,
                "unprocessedrecords": job.unprocessed}[kind]
        payload = csv_out(list(RESULTS[kind]), job.header, rows) if job.header else b""
        return Response(200, payload, {"Content-Type": "text/csv"})

    # ----------------------------------------------------------------- processing
    def _settle(self, job: IngestJob) -> None:
        """Run a closed job to its end (unless processing is paused)."""
        if job.state not in ("UploadComplete", "InProgress"):
            return
        if self.bulk_paused:
            if job.state == "UploadComplete":
                job.touch("InProgress")
            return
        started = time.monotonic()
        rows: list[list[str]] = []
        try:
            if not job.data:
                raise JobFailure("InvalidBatch : No data was uploaded for the job")
            header, rows = parse_upload(job)
            job.header = header
            access = self.org.access_for(job.username)
            schema = self.org.schema(job.object)
            for name in header:
                if "." in name:
                    raise JobFailure(f"InvalidBatch : Relationship field {name}: the local "
                                     "Salesforce stand-in does not implement relationship "
                                     "columns; use the lookup field's Id")
                if self.org.resolve_field(schema, name, access) is None:
                    raise JobFailure(f"InvalidBatch : Field name not found : {name}")
        except JobFailure as exc:
            job.error_message = str(exc)
            job.unprocessed = rows
            job.touch("Failed")
            return
        ext = schema.field_named(job.external_id) if job.external_id else None
        ext_counts: dict = {}
        column = next((i for i, h in enumerate(header) if schema.field_named(h) is ext), None)
        if ext is not None and column is not None:
            for row in rows:
                value = row[column]
                if value not in ("", "#N/A"):
                    key = value if ext.case_sensitive else value.lower()
                    ext_counts[key] = ext_counts.get(key, 0) + 1
        for row in rows:
            self._ingest_row(job, schema, ext, ext_counts, header, row, access)
        job.processing_ms = int((time.monotonic() - started) * 1000)
        job.touch("JobComplete")

    def _ingest_row(self, job, schema, ext, ext_counts, header, row, access) -> None:
        rid = ""
        try:
            try:
                values = self.org.deserialize(schema, row_values(header, row), access)
            except SfError as exc:
                raise RecordError(exc.code, exc.message, exc.fields or []) from None
            if job.operation == "insert":
                if "Id" in values:
                    raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call",
                                      ["Id"])
                rid = self.org.create_record(schema, values, access, None)
                created = True
            elif job.operation in ("update", "delete"):
                raw = values.pop("Id", None)
                if raw is None:
                    raise RecordError("MISSING_ARGUMENT", f"Id not specified in an "
                                      f"{job.operation} call")
                rid = normalize_id(raw) or str(raw)
                if normalize_id(raw) is None:
                    raise RecordError("MALFORMED_ID", f"malformed id {raw}", ["Id"])
                if job.operation == "update":
                    self.org.update_record(schema, rid, values, access, None)
                else:
                    if values:
                        raise RecordError("INVALID_FIELD", "a delete takes only the Id column",
                                          sorted(values))
                    self.org.delete_record(schema, rid, access, None)
                created = False
            else:
                result = self._upsert_one(schema, ext, values, access, None, ext_counts)
                rid, created = result["id"], result["created"]
        except RecordError as exc:
            job.failures.append([rid, row_error(exc.code, exc.message, exc.fields), *row])
            return
        job.successes.append([rid, "true" if created else "false", *row])
