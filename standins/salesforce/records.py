"""The org's records: the Python seeding API, the DML the REST layer calls, id lookups."""

from __future__ import annotations

from collections.abc import Iterable

from .components import FieldSpec
from .ids import normalize_id
from .schema import ObjectSchema
from .security import Access
from .sferrors import RecordError, SfError
from .storage import PERMISSION_OBJECTS, Txn, index_key
from .values import coerce

__all__ = ["RecordsMixin"]


class RecordsMixin:
    """Part of ``Org``: reading and changing records (the checks and writes are in writes.py)."""

    # ----------------------------------------------------------------- Python seeding API
    def insert(self, sobject: str, fields: dict) -> str:
        """Create a record as the org admin: no FLS, no validation rules, system fields may be
        set (e.g. CreatedDate). Field rules still apply (ValueError-like RecordError)."""
        with self.lock:
            schema = self._require_schema(sobject)
            return self._save(schema, self.deserialize(schema, fields, None), None, None)

    def insert_many(self, sobject: str, rows: Iterable[dict]) -> list[str]:
        with self.lock:
            schema = self._require_schema(sobject)
            return [self._save(schema, self.deserialize(schema, r, None), None, None) for r in rows]

    def update(self, sobject: str, record_id: str, fields: dict) -> None:
        with self.lock:
            schema = self._require_schema(sobject)
            rid = self._require_record(schema, record_id)
            self._save(schema, self.deserialize(schema, fields, None), None, None, rid)

    def delete(self, sobject: str, record_id: str) -> None:
        with self.lock:
            schema = self._require_schema(sobject)
            self._delete(schema, self._require_record(schema, record_id), None, None)

    def get(self, sobject: str, record_id: str) -> dict | None:
        with self.lock:
            schema = self._require_schema(sobject)
            rid = normalize_id(record_id)
            record = self._stores[schema.name].records.get(rid) if rid else None
            if record is None:
                return None
            return {name: record.get(name) for name in schema.fields}

    def all(self, sobject: str) -> list[dict]:
        with self.lock:
            schema = self._require_schema(sobject)
            names = list(schema.fields)
            return [
                {name: r.get(name) for name in names}
                for r in self._stores[schema.name].records.values()
            ]

    def count(self, sobject: str) -> int:
        with self.lock:
            return len(self._stores[self._require_schema(sobject).name].records)

    # ----------------------------------------------------------------- DML used by REST
    def deserialize(self, schema: ObjectSchema, body: dict, access: Access | None) -> dict:
        """Field names resolved (case-insensitively, through FLS) and values coerced.

        Raises SfError: Salesforce reads the whole request body before saving anything, so
        unknown fields and unreadable values fail the request, not one record.
        """
        if not isinstance(body, dict):
            raise SfError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject")
        out: dict = {}
        for key, value in body.items():
            if key == "attributes":
                continue
            f = self.resolve_field(schema, key, access)
            if f is None:
                if schema.relationship_field(key) is not None and isinstance(value, dict):
                    raise SfError(
                        400, "INVALID_FIELD",
                        f"Setting the parent through '{key}' (a relationship reference by "
                        "external ID) is not supported by the local Salesforce stand-in; "
                        "set the lookup field to an Id",
                    )
                if access is None:
                    raise ValueError(f"No such column '{key}' on sobject of type {schema.name}")
                raise SfError(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {schema.name}"
                )
            out[f.full_name] = coerce(f, value)
        return out

    def begin(self) -> Txn:
        return Txn()

    def rollback(self, txn: Txn) -> None:
        with self.lock:
            for name, rid, old, was_deleted in reversed(txn.undo):
                store = self._stores[name]
                current = store.records.pop(rid, None)
                if current is not None:
                    store.remove_from_indexes(rid, current)
                if old is not None:
                    store.records[rid] = old
                    store.add_to_indexes(rid, old)
                    store.deleted.discard(rid)
                if was_deleted:
                    store.deleted.discard(rid)
                if name in PERMISSION_OBJECTS:
                    self._perm_version += 1
            txn.undo.clear()

    def create_record(
        self, schema: ObjectSchema, values: dict, access: Access | None, txn: Txn | None
    ) -> str:
        with self.lock:
            self._check_object(schema, access, "create")
            return self._save(schema, values, access, txn)

    def update_record(
        self, schema: ObjectSchema, record_id: str, values: dict, access: Access | None,
        txn: Txn | None,
    ) -> str:
        with self.lock:
            self._check_object(schema, access, "edit")
            rid = self._existing_id(schema, record_id)
            return self._save(schema, values, access, txn, rid)

    def find_by_external_id(self, schema: ObjectSchema, f: FieldSpec, value: object) -> list[str]:
        with self.lock:
            if f.full_name == "Id":
                rid = normalize_id(value)
                return [rid] if rid and rid in self._stores[schema.name].records else []
            store = self._stores[schema.name]
            return list(store.indexes.get(f.full_name, {}).get(index_key(f, value), ()))

    def delete_record(
        self, schema: ObjectSchema | None, record_id: str, access: Access | None,
        txn: Txn | None,
    ) -> str:
        """Delete by id (the object is found from the key prefix when ``schema`` is None)."""
        with self.lock:
            rid = normalize_id(record_id)
            if rid is None:
                raise RecordError("MALFORMED_ID", f"malformed id {record_id}")
            if schema is None:
                schema = next(
                    (s for s in self._schemas.values() if s.key_prefix == rid[:3]), None
                )
                if schema is None or not self.can(schema, access, "read"):
                    raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            self._check_object(schema, access, "delete")
            store = self._stores[schema.name]
            if rid not in store.records:
                if rid in store.deleted:
                    raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
                raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            self._delete(schema, rid, access, txn)
            return rid

    # ----------------------------------------------------------------- internals
    def _require_schema(self, sobject: str) -> ObjectSchema:
        schema = self.schema(sobject)
        if schema is None:
            raise ValueError(f"unknown object {sobject}")
        return schema

    def _require_record(self, schema: ObjectSchema, record_id: str) -> str:
        rid = normalize_id(record_id)
        if rid is None or rid not in self._stores[schema.name].records:
            raise ValueError(f"no {schema.name} with id {record_id}")
        return rid

    def _existing_id(self, schema: ObjectSchema, record_id: str) -> str:
        rid = normalize_id(record_id)
        if rid is None:
            raise RecordError("MALFORMED_ID", f"{schema.label} ID: id value of incorrect type: "
                              f"{record_id}", ["Id"])
        store = self._stores[schema.name]
        if rid not in store.records:
            if rid in store.deleted:
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
            if rid[:3] != schema.key_prefix:
                raise RecordError(
                    "MALFORMED_ID", f"{schema.label} ID: id value of incorrect type: {record_id}",
                    ["Id"],
                )
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        return rid

    def _find_one(self, sobject: str, field_name: str, value: object) -> str | None:
        store = self._stores[sobject]
        f = self._schemas[sobject].fields[field_name]
        bucket = store.indexes[field_name].get(index_key(f, value))
        return next(iter(bucket)) if bucket else None
