"""The REST API (``/services/data/vXX.X/...``): describe, record CRUD, upsert, sObject
Collections, SOQL query with locators, limits. Response bodies follow Salesforce's REST docs."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote

from .components import FieldSpec
from .identity import chatter_me
from .ids import normalize_id
from .org import Access, Org
from .query import DEFAULT_BATCH, QueryEngine
from .rest_bulk import BulkMixin
from .rest_collections import CollectionsMixin
from .rest_common import Response, json_body
from .rest_describe import DescribeMixin
from .schema import ObjectSchema
from .sferrors import RecordError, SfError, not_found
from .values import coerce

__all__ = ["API_VERSIONS", "Response", "RestApi", "version_label"]

API_VERSIONS = tuple(f"{v}.0" for v in range(46, 69))
# Real endpoints the stand-in does not implement: refused loudly instead of a plain 404.
UNSUPPORTED = (
    "composite/tree", "composite/batch", "composite/graph", "composite", "queryAll", "search",
    "parameterizedSearch", "chatter", "tooling", "actions", "analytics", "sobjects/{type}/updated",
    "sobjects/{type}/deleted", "sobjects/{type}/listviews", "recent", "ui-api", "connect",
)


def version_label(version: str) -> str:
    i = int(float(version)) - 46
    return f"{('Summer', 'Winter', 'Spring')[i % 3]} '{19 + (i + 2) // 3}"


class RestApi(CollectionsMixin, DescribeMixin, BulkMixin):
    """Routing, /sobjects CRUD and upsert, query and limits; sObject Collections are in
    rest_collections, Bulk API 2.0 in rest_bulk, the describe bodies in rest_describe."""

    def __init__(self, org: Org, queries: QueryEngine) -> None:
        self.org = org
        self.queries = queries
        self._bulk_init()

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
        if head == "jobs" and n >= 3:
            return f"{method} {'/'.join([*parts[:2], '{id}', *parts[3:]])}"
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
        if head == "jobs":
            return self._jobs(method, version, parts[1:], headers, body, access)
        if parts == ["chatter", "users", "me"]:
            self._allow(method, "GET")
            return Response(200, chatter_me(self.org, access, version))
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
            values = self.org.deserialize(schema, json_body(body), access)
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
                data = json_body(body)
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
            data = json_body(body)
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


def _batch_size(headers) -> int:
    option = headers.get("Sforce-Query-Options") or ""
    for part in option.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), 200), 2000)
    return DEFAULT_BATCH
