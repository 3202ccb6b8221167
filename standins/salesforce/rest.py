"""The REST API (``/services/data/vXX.X/...``): describe, record CRUD, upsert, sObject
Collections, SOQL query with locators, limits. Response bodies follow Salesforce's REST docs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from .components import FieldSpec
from .ids import normalize_id
from .org import Access, Org
from .query import DEFAULT_BATCH, QueryEngine
from .schema import ObjectSchema, relationship_path_name
from .sferrors import RecordError, SfError, not_found
from .values import coerce

__all__ = ["API_VERSIONS", "Response", "RestApi", "version_label"]

API_VERSIONS = tuple(f"{v}.0" for v in range(46, 69))
COLLECTION_LIMIT = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}
# Real endpoints the stand-in does not implement: refused loudly instead of a plain 404.
UNSUPPORTED = (
    "composite/tree", "composite/batch", "composite/graph", "composite", "queryAll", "search",
    "parameterizedSearch", "jobs", "tooling", "actions", "analytics", "sobjects/{type}/updated",
    "sobjects/{type}/deleted", "sobjects/{type}/listviews", "recent", "ui-api", "connect",
)
_DESCRIBE_TYPES = {
    "Id": "id", "Text": "string", "Picklist": "picklist", "Currency": "currency",
    "Number": "double", "Percent": "percent", "Date": "date", "DateTime": "datetime",
    "Checkbox": "boolean", "LongTextArea": "textarea", "TextArea": "textarea",
    "Lookup": "reference", "MasterDetail": "reference", "AutoNumber": "string",
    "Email": "email", "Url": "url", "Phone": "phone",
}


def version_label(version: str) -> str:
    i = int(float(version)) - 46
    return f"{('Summer', 'Winter', 'Spring')[i % 3]} '{19 + (i + 2) // 3}"


@dataclass
class Response:
    status: int
    body: object = None  # JSON-serializable, or None for no content
    headers: dict[str, str] = field(default_factory=dict)


class RestApi:
    def __init__(self, org: Org, queries: QueryEngine) -> None:
        self.org = org
        self.queries = queries

    # ----------------------------------------------------------------- routing
    @staticmethod
    def endpoint_key(method: str, parts: list[str]) -> str:
        """The counter key of a request, e.g. "GET query" or "PATCH composite/sobjects/{type}"."""
        n = len(parts)
        if n == 0:
            return f"{method} resources"
        head = parts[0]
        if head == "sobjects":
            shape = ["sobjects", "sobjects/{type}", "sobjects/{type}/{id}",
                     "sobjects/{type}/{field}/{value}"]
            if n == 3 and parts[2] == "describe":
                return f"{method} sobjects/{{type}}/describe"
            return f"{method} {shape[min(n, 4) - 1]}"
        if head == "query":
            return f"{method} query" if n == 1 else f"{method} query/{{locator}}"
        if head == "composite" and n >= 2 and parts[1] == "sobjects":
            suffix = "" if n == 2 else "/{type}"
            return f"{method} composite/sobjects{suffix}"
        return f"{method} {'/'.join(parts)}"

    def handle(
        self, method: str, version: str, parts: list[str], query: str, headers, body: bytes,
        access: Access,
    ) -> Response:
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        n = len(parts)
        if n == 0:
            self._allow(method, "GET")
            base = f"/services/data/v{version}"
            return Response(200, {k: f"{base}/{k}" for k in
                                  ("sobjects", "query", "limits", "composite")})
        head = parts[0]
        if head == "limits" and n == 1:
            self._allow(method, "GET")
            remaining = max(self.org.daily_limit - self.org.api_usage, 0)
            return Response(200, {"DailyApiRequests": {"Max": self.org.daily_limit,
                                                       "Remaining": remaining}})
        if head == "query":
            self._allow(method, "GET")
            if n == 1:
                if "q" not in params:
                    raise SfError(400, "MALFORMED_QUERY", "A query string has to be specified")
                return Response(200, self.queries.run(params["q"], access, version,
                                                      _batch_size(headers)))
            if n == 2:
                return Response(200, self.queries.more(parts[1], version))
        if head == "sobjects":
            return self._sobjects(method, version, parts[1:], params, body, access)
        if head == "composite" and n >= 2 and parts[1] == "sobjects":
            return self._collections(method, version, parts[2:], params, body, access)
        for pattern in UNSUPPORTED:
            pieces = pattern.split("/")
            if len(parts) >= len(pieces) and all(
                p == "{type}" or p == q for p, q in zip(pieces, parts, strict=False)
            ):
                raise SfError(
                    501, "NOT_IMPLEMENTED",
                    f"/{'/'.join(parts)} is a real Salesforce resource that the local Salesforce "
                    "stand-in does not implement",
                )
        raise not_found()

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise SfError(
                405, "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
            )

    def _schema(self, name: str, access: Access) -> ObjectSchema:
        schema = self.org.visible_object(name, access)
        if schema is None:
            raise not_found()
        return schema

    # ----------------------------------------------------------------- /sobjects
    def _sobjects(self, method, version, rest, params, body, access) -> Response:
        if not rest:
            self._allow(method, "GET")
            return Response(200, self._describe_global(access, version))
        schema = self._schema(rest[0], access)
        if len(rest) == 1:
            self._allow(method, "GET", "POST")
            if method == "GET":
                return Response(200, {"objectDescribe": self._describe_object(
                    schema, access, version, full=False), "recentItems": []})
            values = self.org.deserialize(schema, _json(body), access)
            try:
                with self.org.lock:
                    rid = self.org.create_record(schema, values, access, None)
            except RecordError as exc:
                raise exc.as_sf_error() from None
            return Response(201, {"id": rid, "success": True, "errors": []})
        if len(rest) == 2 and rest[1] == "describe":
            self._allow(method, "GET")
            return Response(200, self._describe_object(schema, access, version, full=True))
        if len(rest) == 2:
            self._allow(method, "GET", "PATCH", "DELETE")
            return self._record(method, version, schema, rest[1], params, body, access)
        if len(rest) == 3:
            self._allow(method, "GET", "PATCH", "DELETE")
            return self._by_external_id(method, version, schema, rest[1], rest[2], params,
                                        body, access)
        raise not_found()

    def _record(self, method, version, schema, record_id, params, body, access) -> Response:
        rid = normalize_id(record_id)
        if rid is None:
            raise SfError(404, "NOT_FOUND", "Provided external ID field does not exist or is not "
                          f"accessible: {record_id}")
        try:
            if method == "GET":
                return Response(200, self._get_record(schema, rid, params, access, version))
            if method == "PATCH":
                data = _json(body)
                if isinstance(data, dict):
                    data = {k: v for k, v in data.items() if k.lower() != "id"}
                values = self.org.deserialize(schema, data, access)
                with self.org.lock:
                    self.org.update_record(schema, rid, values, access, None)
                return Response(204)
            with self.org.lock:
                self.org.delete_record(schema, rid, access, None)
            return Response(204)
        except RecordError as exc:
            gone = exc.code in ("INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED")
            if gone and exc.fields == []:
                raise not_found() from None
            raise exc.as_sf_error() from None

    def _get_record(self, schema, rid, params, access, version) -> dict:
        with self.org.lock:
            record = self.org.store(schema.name).records.get(rid)
            if record is None:
                raise not_found()
            fields = self.org.visible_fields(schema, access)
            if params.get("fields"):
                wanted = []
                for name in params["fields"].split(","):
                    f = self.org.resolve_field(schema, name.strip(), access)
                    if f is None:
                        raise SfError(400, "INVALID_FIELD", f"No such column '{name.strip()}' "
                                      f"on sobject of type {schema.name}")
                    wanted.append(f)
                fields = wanted
            out: dict = {"attributes": {"type": schema.name,
                                        "url": f"/services/data/v{version}/sobjects/"
                                               f"{schema.name}/{rid}"}}
            for f in fields:
                out[f.full_name] = record.get(f.full_name)
            return out

    def _external_field(self, schema: ObjectSchema, name: str, access: Access) -> FieldSpec:
        f = self.org.resolve_field(schema, name, access)
        if f is None or not (f.external_id or f.full_name == "Id"):
            raise SfError(404, "NOT_FOUND", "Provided external ID field does not exist or is "
                          f"not accessible: {name}")
        return f

    def _by_external_id(self, method, version, schema, field_name, raw_value, params, body,
                        access) -> Response:
        f = self._external_field(schema, field_name, access)
        value = coerce(f, unquote(raw_value))
        with self.org.lock:
            matches = self.org.find_by_external_id(schema, f, value)
            if len(matches) > 1:
                return Response(300, [f"/services/data/v{version}/sobjects/{schema.name}/{m}"
                                      for m in matches])
            if method == "GET":
                if not matches:
                    raise not_found()
                return Response(200, self._get_record(schema, matches[0], params, access,
                                                      version))
            if method == "DELETE":
                if not matches:
                    raise not_found()
                try:
                    self.org.delete_record(schema, matches[0], access, None)
                except RecordError as exc:
                    raise exc.as_sf_error() from None
                return Response(204)
            data = _json(body)
            if isinstance(data, dict):
                data = {k: v for k, v in data.items() if k.lower() != f.full_name.lower()}
            values = self.org.deserialize(schema, data, access)
            try:
                if matches:
                    rid = self.org.update_record(schema, matches[0], values, access, None)
                    return Response(200, {"id": rid, "success": True, "errors": [],
                                          "created": False})
                if f.full_name == "Id":
                    raise not_found()
                values[f.full_name] = value
                rid = self.org.create_record(schema, values, access, None)
                return Response(201, {"id": rid, "success": True, "errors": [], "created": True})
            except RecordError as exc:
                raise exc.as_sf_error() from None

    # ----------------------------------------------------------------- collections
    def _collections(self, method, version, rest, params, body, access) -> Response:
        if not rest:
            self._allow(method, "POST", "PATCH", "DELETE")
            if method == "DELETE":
                return self._collection_delete(params, access)
            payload = _json(body)
            records, all_or_none = _records_of(payload)
            typed = [(self._record_type(r, access), r) for r in records]
            if method == "POST":
                return self._collection_write(typed, all_or_none, access, "create")
            return self._collection_write(typed, all_or_none, access, "update")
        if len(rest) == 2:
            self._allow(method, "PATCH")
            schema = self._schema(rest[0], access)
            f = self._external_field(schema, rest[1], access)
            records, all_or_none = _records_of(_json(body))
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
            for schema, values, raw in prepared:
                result: dict = {}
                try:
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

    # ----------------------------------------------------------------- describe
    def _describe_global(self, access: Access, version: str) -> dict:
        sobjects = [
            self._object_summary(s, access, version)
            for s in self.org.schemas()
            if self.org.can(s, access, "read")
        ]
        return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}

    def _object_summary(self, schema: ObjectSchema, access: Access, version: str) -> dict:
        base = f"/services/data/v{version}/sobjects/{schema.name}"
        return {
            "name": schema.name,
            "label": schema.label,
            "labelPlural": schema.plural_label,
            "keyPrefix": schema.key_prefix,
            "custom": schema.custom,
            "createable": self.org.can(schema, access, "create"),
            "updateable": self.org.can(schema, access, "edit"),
            "deletable": self.org.can(schema, access, "delete"),
            "queryable": True,
            "retrieveable": True,
            "searchable": schema.custom or schema.name == "Account",
            "layoutable": schema.custom or schema.name == "Account",
            "urls": {"sobject": base, "describe": f"{base}/describe",
                     "rowTemplate": f"{base}/{{ID}}"},
        }

    def _describe_object(self, schema, access, version, *, full: bool) -> dict:
        out = self._object_summary(schema, access, version)
        if full:
            out["fields"] = [self._describe_field(schema, f, access)
                             for f in self.org.visible_fields(schema, access)]
            out["childRelationships"] = []
            out["recordTypeInfos"] = []
        return out

    def _describe_field(self, schema: ObjectSchema, f: FieldSpec, access: Access) -> dict:
        editable = self.org.field_editable(schema, f, access)
        writable_create = editable and schema.is_writable(f.full_name, True)
        writable_update = editable and schema.is_writable(f.full_name, False)
        dtype = _DESCRIBE_TYPES.get(f.type, f.type.lower())
        length = f.length or 0
        if dtype in ("string", "picklist", "textarea", "email", "url", "phone") and not length:
            length = {"Picklist": 255, "Email": 80, "Phone": 40, "AutoNumber": 30}.get(f.type, 255)
        return {
            "name": f.full_name,
            "label": f.label or f.full_name,
            "type": dtype,
            "length": length if dtype not in ("reference", "id") else 18,
            "precision": f.precision or 0,
            "scale": f.scale or 0,
            "custom": f.full_name.endswith("__c"),
            "nillable": not f.required and f.type != "Checkbox" and f.full_name != "Id",
            "createable": writable_create,
            "updateable": writable_update,
            "unique": f.unique,
            "externalId": f.external_id,
            "caseSensitive": f.case_sensitive,
            "idLookup": f.full_name == "Id" or f.external_id or f.unique,
            "autoNumber": f.type == "AutoNumber",
            "calculated": False,
            "defaultedOnCreate": f.type == "Checkbox" or f.full_name in (
                "Id", "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate",
                "LastModifiedById", "SystemModstamp", "IsDeleted"),
            "filterable": f.type != "LongTextArea",
            "sortable": f.type != "LongTextArea",
            "nameField": f.full_name == "Name",
            "restrictedPicklist": f.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                for v in f.picklist_values
            ],
            "referenceTo": [f.reference_to] if f.reference_to else [],
            "relationshipName": relationship_path_name(f),
            "cascadeDelete": (f.delete_constraint or "") == "Cascade",
            "restrictedDelete": (f.delete_constraint or "") == "Restrict",
            "inlineHelpText": f.description or None,
        }


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


def _json(body: bytes) -> object:
    if not body:
        raise SfError(400, "JSON_PARSER_ERROR", "No content to map due to end-of-input")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SfError(400, "JSON_PARSER_ERROR", f"Unexpected character at [line:1, column:"
                      f"{getattr(exc, 'colno', 1)}]") from None


def _batch_size(headers) -> int:
    option = headers.get("Sforce-Query-Options") or ""
    for part in option.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), 200), 2000)
    return DEFAULT_BATCH
