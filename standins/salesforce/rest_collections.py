"""sObject Collections (``/composite/sobjects``): create, update, upsert and delete in bulk,
with allOrNone rollback."""

from __future__ import annotations

from .components import FieldSpec
from .ids import normalize_id
from .org import Access
from .rest_common import Response, json_body
from .rowlocks import lock_failure
from .schema import ObjectSchema
from .sferrors import RecordError, SfError, not_found

__all__ = ["COLLECTION_LIMIT", "CollectionsMixin"]

COLLECTION_LIMIT = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}


class CollectionsMixin:
    """Part of ``RestApi``: the ``/composite/sobjects`` routes."""

    # ----------------------------------------------------------------- collections
    def _collections(self, method, version, rest, params, body, access) -> Response:
        if not rest:
            self._allow(method, "POST", "PATCH", "DELETE")
            if method == "DELETE":
                return self._collection_delete(params, access)
            payload = json_body(body)
            records, all_or_none = _records_of(payload)
            typed = [(self._record_type(r, access), r) for r in records]
            if method == "POST":
                return self._collection_write(typed, all_or_none, access, "create")
            return self._collection_write(typed, all_or_none, access, "update")
        if len(rest) == 2:
            self._allow(method, "PATCH")
            schema = self._schema(rest[0], access)
            f = self._external_field(schema, rest[1], access)
            records, all_or_none = _records_of(json_body(body))
            typed = []
            for r in records:
                rtype = self._record_type(r, access)
                if rtype is not schema:
                    raise SfError(400, "INVALID_TYPE", "The sObject type of every record must "
                                  f"be {schema.name} in an upsert on {schema.name}")
                typed.append((schema, r))
            return self._collection_write(typed, all_or_none, access, "upsert", f)
        raise not_found()

    def _record_type(self, record: object, access: Access) -> ObjectSchema:
        if not isinstance(record, dict):
            raise SfError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject "
                          "from a non-object value")
        attrs = record.get("attributes")
        rtype = attrs.get("type") if isinstance(attrs, dict) else None
        if not rtype:
            raise SfError(400, "INVALID_TYPE", "Must send a concrete entity type.")
        schema = self.org.visible_object(str(rtype), access)
        if schema is None:
            raise SfError(400, "INVALID_TYPE", f"sObject type '{rtype}' is not supported. If you "
                          "are attempting to use a custom object, be sure to append the '__c' "
                          "after the entity name. Please reference your WSDL or the describe "
                          "call for the appropriate names.")
        return schema

    def _collection_write(self, typed, all_or_none, access, mode, ext: FieldSpec | None = None):
        # Phase 1, like Salesforce's deserializer: any unreadable record fails the request.
        prepared = [(schema, self.org.deserialize(schema, r, access), r) for schema, r in typed]
        # Row locks first, record by record, waiting for other transactions in flight but
        # not holding the org's state lock meanwhile; released when this one ends.
        owner = object()
        blocked = [
            self.org.row_locks.acquire(owner, self.org.rows_to_lock(schema, values, ext))
            for schema, values, _ in prepared
        ]
        try:
            return self._collection_txn(prepared, blocked, all_or_none, access, mode, ext)
        finally:
            self.org.row_locks.release(owner)

    def _collection_txn(self, prepared, blocked, all_or_none, access, mode, ext) -> Response:
        results: list[dict] = []
        with self.org.lock:
            txn = self.org.begin()
            ext_counts: dict = {}
            if ext is not None:
                for _, values, _ in prepared:
                    v = values.get(ext.full_name)
                    if v is not None:
                        key = v.lower() if isinstance(v, str) and not ext.case_sensitive else v
                        ext_counts[key] = ext_counts.get(key, 0) + 1
            for (schema, values, raw), locked_out in zip(prepared, blocked, strict=True):
                result: dict = {}
                try:
                    if locked_out:
                        if mode == "update" and normalize_id(values.get("Id")):
                            result["id"] = normalize_id(values.get("Id"))
                        raise lock_failure(locked_out)
                    if mode == "create":
                        if any(k.lower() == "id" for k in raw if k != "attributes"):
                            raise RecordError("INVALID_FIELD", "cannot specify Id in an insert "
                                              "call", ["Id"])
                        result["id"] = self.org.create_record(schema, values, access, txn)
                    elif mode == "update":
                        rid = values.pop("Id", None)
                        if rid is None:
                            raise RecordError("MISSING_ARGUMENT", "Id not specified in an update "
                                              "call")
                        result["id"] = rid
                        if normalize_id(rid) is None:
                            raise RecordError("MALFORMED_ID", f"malformed id {rid}")
                        result["id"] = normalize_id(rid)
                        self.org.update_record(schema, rid, values, access, txn)
                    else:
                        result.update(self._upsert_one(schema, ext, values, access, txn,
                                                       ext_counts))
                    result["success"] = True
                    result["errors"] = []
                except RecordError as exc:
                    result["success"] = False
                    result["errors"] = [exc.as_result_error()]
                    result.pop("created", None)
                results.append(result)
            if all_or_none and not all(r["success"] for r in results):
                self.org.rollback(txn)
                for r in results:
                    if r["success"]:
                        r.pop("created", None)
                        r["success"] = False
                        r["errors"] = [dict(ROLLED_BACK)]
                        if mode != "update":
                            r.pop("id", None)
        return Response(200, [_ordered(r) for r in results])

    def _upsert_one(self, schema, ext, values, access, txn, ext_counts) -> dict:
        value = values.get(ext.full_name)
        if value is None:
            raise RecordError("MISSING_ARGUMENT", f"{ext.full_name} not specified")
        key = value.lower() if isinstance(value, str) and not ext.case_sensitive else value
        if ext_counts.get(key, 0) > 1:
            raise RecordError("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}",
                              [ext.full_name])
        matches = self.org.find_by_external_id(schema, ext, value)
        if len(matches) > 1:
            raise RecordError(
                "DUPLICATE_EXTERNAL_ID",
                f"{ext.full_name}: more than one record found for external id field: "
                f"[{', '.join(matches)}]",
                [ext.full_name],
            )
        if matches:
            values = {k: v for k, v in values.items() if k != "Id"}
            rid = self.org.update_record(schema, matches[0], values, access, txn)
            return {"id": rid, "created": False}
        if "Id" in values:
            raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        return {"id": self.org.create_record(schema, values, access, txn), "created": True}

    def _collection_delete(self, params, access) -> Response:
        ids = [i for i in params.get("ids", "").split(",") if i]
        if not ids:
            raise SfError(400, "MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > COLLECTION_LIMIT:
            raise _too_many()
        all_or_none = params.get("allOrNone", "false").lower() == "true"
        results = []
        with self.org.lock:
            txn = self.org.begin()
            for raw in ids:
                result: dict = {"id": normalize_id(raw) or raw}
                try:
                    self.org.delete_record(None, raw, access, txn)
                    result.update(success=True, errors=[])
                except RecordError as exc:
                    result.update(success=False, errors=[exc.as_result_error()])
                results.append(result)
            if all_or_none and not all(r["success"] for r in results):
                self.org.rollback(txn)
                for r in results:
                    if r["success"]:
                        r.update(success=False, errors=[dict(ROLLED_BACK)])
        return Response(200, results)


def _ordered(result: dict) -> dict:
    keys = ("id", "success", "errors", "created")
    return {k: result[k] for k in keys if k in result}


def _too_many() -> SfError:
    return SfError(400, "EXCEEDED_ID_LIMIT",
                   "record limit reached. cannot submit more than 200 records into this call")


def _records_of(payload: object) -> tuple[list, bool]:
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        raise SfError(400, "JSON_PARSER_ERROR", "The request body must be an object with a "
                      "'records' array")
    records = payload["records"]
    if len(records) > COLLECTION_LIMIT:
        raise _too_many()
    all_or_none = payload.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise SfError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of boolean from "
                      f"value {all_or_none}")
    return records, all_or_none
