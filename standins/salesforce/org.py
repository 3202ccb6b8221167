"""The org: schema, records, users, permission sets and tokens of the Salesforce stand-in.

Everything the HTTP layer and the Metadata API side touch goes through ``Org``; every public
method takes ``org.lock`` so the threaded server sees consistent state.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from .components import (
    FieldSpec,
    MetadataChange,
    ObjectSpec,
    PermissionSetSpec,
    TabSpec,
)
from .ids import IdAllocator, normalize_id, to18
from .schema import (
    SYSTEM_FIELDS,
    ObjectSchema,
    add_custom_field,
    custom_object_schema,
    standard_objects,
)
from .sferrors import RecordError, SfError
from .values import check_value, coerce, now_stamp

__all__ = ["Access", "Org", "ValidationRule"]

INTEGRATION_USERNAME = "integration@billing-sync.example"
ADMIN_USERNAME = "admin@billing-sync.example"
_PERMISSION_OBJECTS = frozenset({"PermissionSet", "PermissionSetAssignment", "User"})
_OP_FLAGS = ("create", "read", "edit", "delete", "viewAll", "modifyAll")


@dataclass(frozen=True)
class Access:
    """What one API user may see and change, from the permission sets assigned to them."""

    username: str
    user_id: str
    read: frozenset[str]  # "Object.Field"
    edit: frozenset[str]
    objects: dict[str, frozenset[str]]  # custom object -> {"create", "read", ...}


@dataclass(frozen=True)
class ValidationRule:
    object_name: str
    predicate: Callable[[dict], bool]  # True means the record is invalid (like an error formula)
    message: str
    field: str | None = None


class ObjectStore:
    """Records of one object, with indexes on unique, external-id and lookup fields."""

    __slots__ = ("autonumbers", "deleted", "ids", "index_fields", "indexes", "records")

    def __init__(self, prefix: str) -> None:
        self.records: dict[str, dict] = {}
        self.ids = IdAllocator(prefix)
        self.deleted: set[str] = set()
        self.autonumbers: dict[str, int] = {}
        self.index_fields: tuple[FieldSpec, ...] = ()
        # field -> key -> ids (a dict used as an insertion-ordered set: O(1) removal even
        # when 100k records share one OwnerId)
        self.indexes: dict[str, dict[object, dict[str, None]]] = {}

    def add_to_indexes(self, rid: str, record: dict) -> None:
        for f in self.index_fields:
            value = record.get(f.full_name)
            if value is not None:
                self.indexes[f.full_name].setdefault(index_key(f, value), {})[rid] = None

    def remove_from_indexes(self, rid: str, record: dict) -> None:
        for f in self.index_fields:
            value = record.get(f.full_name)
            if value is None:
                continue
            key = index_key(f, value)
            bucket = self.indexes[f.full_name].get(key)
            if bucket and rid in bucket:
                del bucket[rid]
                if not bucket:
                    del self.indexes[f.full_name][key]


def index_key(f: FieldSpec, value: object) -> object:
    """Index keys follow SOQL equality: case-insensitive except case-sensitive unique fields."""
    if isinstance(value, str) and not f.case_sensitive and f.type not in ("Lookup", "Id"):
        return value.lower()
    return value


def indexed_fields(schema: ObjectSchema) -> tuple[FieldSpec, ...]:
    return tuple(
        f
        for f in schema.fields.values()
        if f.full_name != "Id"
        and (f.unique or f.external_id or f.type in ("Lookup", "MasterDetail"))
    )


class _Txn:
    """Undo log of one DML call, so allOrNone can put every record back."""

    def __init__(self) -> None:
        self.undo: list[tuple[str, str, dict | None, bool]] = []


class Org:
    def __init__(self, *, token_ttl: float = 7200, daily_limit: int = 100_000) -> None:
        self.lock = threading.RLock()
        self.deployments: dict = {}
        self.token_ttl = token_ttl
        self.daily_limit = daily_limit
        self.api_usage = 0
        self.org_id = to18("00D5g000000BsYn")
        self._schemas: dict[str, ObjectSchema] = standard_objects()
        self._stores: dict[str, ObjectStore] = {}
        for schema in self._schemas.values():
            self._stores[schema.name] = ObjectStore(schema.key_prefix)
            self._stores[schema.name].index_fields = indexed_fields(schema)
            self._stores[schema.name].indexes = {
                f.full_name: {} for f in self._stores[schema.name].index_fields
            }
        self._obj_lower = {name.lower(): name for name in self._schemas}
        self._permission_sets: dict[str, PermissionSetSpec] = {}
        self._tabs: dict[str, TabSpec] = {}
        self._next_custom_prefix = 0
        self._tokens: dict[str, tuple[str, float]] = {}
        self._rules: dict[str, list[ValidationRule]] = {}
        self._lock_failures = 0
        self._perm_version = 0
        self._access_cache: dict[str, tuple[int, Access]] = {}
        self.admin_user_id = self.insert(
            "User",
            {"Username": ADMIN_USERNAME, "Name": "Org Admin", "Email": ADMIN_USERNAME,
             "IsActive": True},
        )
        self.integration_user_id = self.insert(
            "User",
            {"Username": INTEGRATION_USERNAME, "Name": "Billing Sync Integration",
             "Email": INTEGRATION_USERNAME, "IsActive": True},
        )

    # ----------------------------------------------------------------- schema accessors
    def schema(self, name: str) -> ObjectSchema | None:
        with self.lock:
            canonical = self._obj_lower.get(name.lower())
            return self._schemas[canonical] if canonical else None

    def schemas(self) -> list[ObjectSchema]:
        with self.lock:
            return list(self._schemas.values())

    def object_exists(self, name: str) -> bool:
        return self.schema(name) is not None

    def get_object(self, name: str) -> ObjectSpec | None:
        """A custom object as deployed, with every custom field deployed on it so far."""
        schema = self.schema(name)
        if schema is None or not schema.custom or schema.spec is None:
            return None
        custom = tuple(f for f in schema.fields.values() if f.full_name.endswith("__c"))
        return replace(schema.spec, name_field=schema.fields["Name"], fields=custom)

    def get_field(self, object_name: str, field_name: str) -> FieldSpec | None:
        schema = self.schema(object_name)
        return schema.field_named(field_name) if schema else None

    def get_permission_set(self, name: str) -> PermissionSetSpec | None:
        with self.lock:
            return self._permission_sets.get(name)

    def get_tab(self, name: str) -> TabSpec | None:
        with self.lock:
            return self._tabs.get(name)

    def store(self, name: str) -> ObjectStore:
        return self._stores[name]

    # ----------------------------------------------------------------- metadata
    def apply_metadata(self, change: MetadataChange) -> None:
        """Apply one deploy, all or nothing; existing data stays, re-applying changes nothing.

        Raises ValueError (and changes nothing) when the change refers to an unknown object
        or would make a unique field hold duplicates of existing data.
        """
        with self.lock:
            schemas = dict(self._schemas)
            copied: set[str] = set()
            new_prefixes: dict[str, str] = {}
            next_prefix = self._next_custom_prefix

            def editable(name: str) -> ObjectSchema:
                if name not in copied:
                    schemas[name] = replace(schemas[name], fields=dict(schemas[name].fields))
                    copied.add(name)
                return schemas[name]

            for spec in change.objects:
                if not spec.name.endswith("__c"):
                    raise ValueError(f"custom object names end in __c: {spec.name}")
                if spec.name in schemas:
                    schema = editable(spec.name)
                    name_field = replace(spec.name_field, object_name=spec.name, full_name="Name")
                    if name_field.type == "Text" and name_field.length is None:
                        name_field = replace(name_field, length=80)
                    schema.fields["Name"] = name_field
                    read_only = set(schema.read_only) - {"Name"}
                    if name_field.type == "AutoNumber":
                        read_only.add("Name")
                    schema.read_only = frozenset(read_only)
                    schema.label, schema.plural_label = spec.label, spec.plural_label
                    schema.spec = replace(spec, fields=())
                else:
                    prefix = _custom_prefix(next_prefix)
                    next_prefix += 1
                    new_prefixes[spec.name] = prefix
                    schemas[spec.name] = custom_object_schema(replace(spec, fields=()), prefix)
                    copied.add(spec.name)
                for f in spec.fields:
                    add_custom_field(editable(spec.name), replace(f, object_name=spec.name))
            for f in change.fields:
                canonical = next((n for n in schemas if n.lower() == f.object_name.lower()), None)
                if canonical is None:
                    raise ValueError(f"field {f.full_name} is on unknown object {f.object_name}")
                if not f.full_name.endswith("__c"):
                    raise ValueError(f"custom field names end in __c: {f.full_name}")
                add_custom_field(editable(canonical), replace(f, object_name=canonical))
            for name in copied:
                for f in schemas[name].fields.values():
                    if f.type in ("Lookup", "MasterDetail") and f.reference_to not in schemas:
                        raise ValueError(
                            f"{name}.{f.full_name} refers to unknown object {f.reference_to}"
                        )
            # Build every changed index before touching live state, so a failure changes nothing.
            new_indexes: dict[str, tuple[tuple[FieldSpec, ...], dict]] = {}
            for name in copied:
                fields = indexed_fields(schemas[name])
                records = self._stores[name].records if name in self._stores else {}
                indexes: dict[str, dict] = {f.full_name: {} for f in fields}
                for rid, record in records.items():
                    for f in fields:
                        value = record.get(f.full_name)
                        if value is None:
                            continue
                        bucket = indexes[f.full_name].setdefault(index_key(f, value), {})
                        if f.unique and bucket:
                            raise ValueError(
                                f"duplicate value found: {f.full_name} duplicates value on "
                                f"record with id: {next(iter(bucket))}"
                            )
                        bucket[rid] = None
                new_indexes[name] = (fields, indexes)

            # Commit.
            for name, prefix in new_prefixes.items():
                self._stores[name] = ObjectStore(prefix)
            for name, (fields, indexes) in new_indexes.items():
                self._stores[name].index_fields = fields
                self._stores[name].indexes = indexes
            for name in copied:
                schemas[name].reindex()
            self._schemas = schemas
            self._obj_lower = {name.lower(): name for name in schemas}
            self._next_custom_prefix = next_prefix
            for ps in change.permission_sets:
                self._permission_sets[ps.name] = ps
                existing = self._find_one("PermissionSet", "Name", ps.name)
                if existing is None:
                    self._save(
                        self._schemas["PermissionSet"], {"Name": ps.name, "Label": ps.label},
                        None, None,
                    )
                elif self._stores["PermissionSet"].records[existing].get("Label") != ps.label:
                    self._save(self._schemas["PermissionSet"], {"Label": ps.label}, None, None,
                               existing)
            for tab in change.tabs:
                self._tabs[tab.name] = tab
            self._perm_version += 1

    # ----------------------------------------------------------------- users and tokens
    def user_id(self, username: str) -> str | None:
        with self.lock:
            return self._find_one("User", "Username", username)

    def user_record(self, username: str) -> dict | None:
        with self.lock:
            uid = self._find_one("User", "Username", username)
            return dict(self._stores["User"].records[uid]) if uid else None

    def issue_token(self, username: str = INTEGRATION_USERNAME) -> str:
        with self.lock:
            if self.user_id(username) is None:
                raise ValueError(f"unknown user {username}")
            token = f"{self.org_id[:15]}!{secrets.token_urlsafe(72)}"
            self._tokens[token] = (username, time.monotonic() + self.token_ttl)
            return token

    def user_for_token(self, token: str) -> str | None:
        with self.lock:
            entry = self._tokens.get(token)
            if entry is None or entry[1] <= time.monotonic():
                return None
            return entry[0]

    def expire_all_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    def access_for(self, username: str) -> Access:
        with self.lock:
            cached = self._access_cache.get(username)
            if cached and cached[0] == self._perm_version:
                return cached[1]
            user_id = self.user_id(username)
            if user_id is None:
                raise ValueError(f"unknown user {username}")
            psa = self._stores["PermissionSetAssignment"]
            ps_store = self._stores["PermissionSet"]
            read: set[str] = set()
            edit: set[str] = set()
            objects: dict[str, set[str]] = {}
            for aid in psa.indexes["AssigneeId"].get(user_id, ()):
                ps_record = ps_store.records.get(psa.records[aid]["PermissionSetId"])
                spec = self._permission_sets.get(ps_record["Name"]) if ps_record else None
                if spec is None:
                    continue
                for name, readable, editable in spec.field_permissions:
                    if readable or editable:
                        read.add(name)
                    if editable:
                        edit.add(name)
                for obj, *flags in spec.object_permissions:
                    granted = objects.setdefault(obj, set())
                    granted.update(op for op, on in zip(_OP_FLAGS, flags, strict=False) if on)
            access = Access(
                username, user_id, frozenset(read), frozenset(edit),
                {k: frozenset(v) for k, v in objects.items()},
            )
            self._access_cache[username] = (self._perm_version, access)
            return access

    def can(self, schema: ObjectSchema, access: Access | None, op: str) -> bool:
        if access is None:
            return True
        if not schema.custom:
            return op in schema.std_access
        granted = access.objects.get(schema.name, frozenset())
        if op == "read":
            return bool(granted & {"read", "edit", "delete", "viewAll", "modifyAll"})
        return op in granted or "modifyAll" in granted

    def field_visible(self, schema: ObjectSchema, f: FieldSpec, access: Access | None) -> bool:
        if access is None or not f.full_name.endswith("__c"):
            return True
        if f.required:  # required fields carry no FLS: everyone who sees the object sees them
            return self.can(schema, access, "read")
        return f"{schema.name}.{f.full_name}" in access.read

    def field_editable(self, schema: ObjectSchema, f: FieldSpec, access: Access | None) -> bool:
        if access is None or not f.full_name.endswith("__c"):
            return True
        if f.required:
            return self.can(schema, access, "edit") or self.can(schema, access, "create")
        return f"{schema.name}.{f.full_name}" in access.edit

    def visible_fields(self, schema: ObjectSchema, access: Access | None) -> list[FieldSpec]:
        return [f for f in schema.fields.values() if self.field_visible(schema, f, access)]

    def resolve_field(
        self, schema: ObjectSchema, name: str, access: Access | None
    ) -> FieldSpec | None:
        f = schema.field_named(name)
        return f if f is not None and self.field_visible(schema, f, access) else None

    def visible_object(self, name: str, access: Access | None) -> ObjectSchema | None:
        schema = self.schema(name)
        if schema is None or not self.can(schema, access, "read"):
            return None
        return schema

    # ----------------------------------------------------------------- faults and rules
    def add_validation_rule(
        self,
        object_name: str,
        predicate: Callable[[dict], bool],
        message: str,
        field: str | None = None,
    ) -> None:
        """``predicate(record_after_write)`` returning True rejects the write, like a rule's
        error condition formula, with FIELD_CUSTOM_VALIDATION_EXCEPTION."""
        with self.lock:
            schema = self.schema(object_name)
            if schema is None:
                raise ValueError(f"unknown object {object_name}")
            self._rules.setdefault(schema.name, []).append(
                ValidationRule(schema.name, predicate, message, field)
            )

    def clear_validation_rules(self) -> None:
        with self.lock:
            self._rules.clear()

    def fail_next_records(self, n: int) -> None:
        """The next ``n`` record writes or deletes fail with UNABLE_TO_LOCK_ROW."""
        with self.lock:
            self._lock_failures += n

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

    def assign_permission_set(self, username: str, permission_set_name: str) -> str:
        """Assign (idempotently) a deployed permission set; returns the assignment id."""
        with self.lock:
            uid = self.user_id(username)
            if uid is None:
                raise ValueError(f"unknown user {username}")
            ps_id = self._find_one("PermissionSet", "Name", permission_set_name)
            if ps_id is None:
                raise ValueError(f"no permission set named {permission_set_name} is deployed")
            psa = self._stores["PermissionSetAssignment"]
            for aid in psa.indexes["AssigneeId"].get(uid, ()):
                if psa.records[aid]["PermissionSetId"] == ps_id:
                    return aid
            return self._save(
                self._schemas["PermissionSetAssignment"],
                {"AssigneeId": uid, "PermissionSetId": ps_id}, None, None,
            )

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

    def begin(self) -> _Txn:
        return _Txn()

    def rollback(self, txn: _Txn) -> None:
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
                if name in _PERMISSION_OBJECTS:
                    self._perm_version += 1
            txn.undo.clear()

    def create_record(
        self, schema: ObjectSchema, values: dict, access: Access | None, txn: _Txn | None
    ) -> str:
        with self.lock:
            self._check_object(schema, access, "create")
            return self._save(schema, values, access, txn)

    def update_record(
        self, schema: ObjectSchema, record_id: str, values: dict, access: Access | None,
        txn: _Txn | None,
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
        txn: _Txn | None,
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

    def _check_object(self, schema: ObjectSchema, access: Access | None, op: str) -> None:
        if not self.can(schema, access, op):
            verb = {"create": "inserted", "edit": "updated", "delete": "deleted"}[op]
            raise RecordError(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                f"insufficient access rights on object: {schema.name} cannot be {verb} "
                "by this user",
            )

    def _find_one(self, sobject: str, field_name: str, value: object) -> str | None:
        store = self._stores[sobject]
        f = self._schemas[sobject].fields[field_name]
        bucket = store.indexes[field_name].get(index_key(f, value))
        return next(iter(bucket)) if bucket else None

    def _take_lock_failure(self, rid: str | None) -> None:
        if self._lock_failures > 0:
            self._lock_failures -= 1
            raise RecordError(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {rid or ''}",
            )

    def _save(
        self,
        schema: ObjectSchema,
        values: dict,
        access: Access | None,
        txn: _Txn | None,
        existing_id: str | None = None,
    ) -> str:
        """Validate and write one record; returns its id. Raises RecordError."""
        store = self._stores[schema.name]
        creating = existing_id is None
        if access is not None:
            self._take_lock_failure(existing_id)
            bad = [
                name
                for name in values
                if not schema.is_writable(name, creating)
                or not self.field_editable(schema, schema.fields[name], access)
            ]
            if bad:
                raise RecordError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {', '.join(bad)}. Please check the "
                    "security settings of this field and verify that it is read/write for "
                    "your profile or permission set.",
                    bad,
                )
        acting_user = access.user_id if access else self._admin_id()
        checked: dict = {}
        for name, value in values.items():
            checked[name] = None if value is None else check_value(schema.fields[name], value)
        if creating:
            new: dict = {}
            for f in schema.fields.values():
                if f.full_name in SYSTEM_FIELDS:
                    continue
                if f.type == "Checkbox":
                    new[f.full_name] = bool(_default(f))
                elif f.default_value is not None:
                    new[f.full_name] = _default(f)
            if "OwnerId" in schema.fields:
                new["OwnerId"] = acting_user
            new.update(checked)
        else:
            new = dict(store.records[existing_id])
            new.update(checked)
        missing = [
            f.full_name
            for f in schema.fields.values()
            if f.required
            and f.type not in ("Checkbox", "AutoNumber")
            and f.full_name not in schema.read_only
            and new.get(f.full_name) is None
        ]
        if missing:
            raise RecordError(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        for name, value in checked.items():
            f = schema.fields[name]
            if value is not None and f.type in ("Lookup", "MasterDetail"):
                self._check_reference(f, value)
        if schema.name == "PermissionSetAssignment" and creating:
            self._check_assignment(new)
        if access is not None:
            rules = self._rules.get(schema.name)
            if rules:
                view = {name: new.get(name) for name in schema.fields}
                if not creating:
                    view["Id"] = existing_id
                for rule in rules:
                    if rule.predicate(dict(view)):
                        raise RecordError(
                            "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message,
                            [rule.field] if rule.field else [],
                        )
        for f in store.index_fields:
            if not f.unique or f.full_name not in checked or checked[f.full_name] is None:
                continue
            bucket = store.indexes[f.full_name].get(index_key(f, checked[f.full_name]), ())
            other = next((i for i in bucket if i != existing_id), None)
            if other is not None:
                raise RecordError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {f.full_name} duplicates value on record with id: "
                    f"{other}",
                    [],
                )
        stamp = now_stamp()
        if creating:
            rid = store.ids.next()
            new["Id"] = rid
            for name, value in (
                ("IsDeleted", False),
                ("CreatedDate", stamp),
                ("CreatedById", acting_user),
                ("LastModifiedDate", stamp),
                ("LastModifiedById", acting_user),
                ("SystemModstamp", stamp),
            ):
                if name in schema.fields:
                    new.setdefault(name, value)
            for f in schema.fields.values():
                if f.type == "AutoNumber" and new.get(f.full_name) is None:
                    number = store.autonumbers.get(f.full_name, 0) + 1
                    store.autonumbers[f.full_name] = number
                    new[f.full_name] = _autonumber(f.display_format or "{0}", number)
        else:
            rid = existing_id
            for name, value in (
                ("LastModifiedDate", stamp),
                ("LastModifiedById", acting_user),
                ("SystemModstamp", stamp),
            ):
                if name in schema.fields and (access is not None or name not in values):
                    new[name] = value
        if schema.name == "User":
            new.setdefault("IsActive", True)
        self._put(schema.name, rid, new, txn)
        return rid

    def _check_reference(self, f: FieldSpec, rid: str) -> None:
        target = self._schemas.get(f.reference_to or "")
        label = f.label or f.full_name
        if target is None or rid[:3] != target.key_prefix:
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"field integrity exception: unknown ({label}: id value of incorrect type: "
                f"{rid})",
                [f.full_name],
            )
        store = self._stores[target.name]
        if rid not in store.records:
            if rid in store.deleted:
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [f.full_name])
            raise RecordError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.full_name]
            )

    def _check_assignment(self, new: dict) -> None:
        psa = self._stores["PermissionSetAssignment"]
        for aid in psa.indexes["AssigneeId"].get(new["AssigneeId"], ()):
            if psa.records[aid]["PermissionSetId"] == new["PermissionSetId"]:
                raise RecordError(
                    "DUPLICATE_VALUE",
                    f"Duplicate PermissionSetAssignment. Assignee: {new['AssigneeId']}; "
                    f"Permission Set: {new['PermissionSetId']}",
                    [],
                )

    def _admin_id(self) -> str:
        # During __init__ the admin user is being created and has no id yet.
        return getattr(self, "admin_user_id", None) or self._stores["User"].ids.prefix + "0" * 15

    def _put(self, name: str, rid: str, new: dict, txn: _Txn | None) -> None:
        store = self._stores[name]
        old = store.records.get(rid)
        if old is not None:
            store.remove_from_indexes(rid, old)
        store.records[rid] = new
        store.add_to_indexes(rid, new)
        if txn is not None:
            txn.undo.append((name, rid, old, False))
        if name in _PERMISSION_OBJECTS:
            self._perm_version += 1

    def _delete(
        self, schema: ObjectSchema, rid: str, access: Access | None, txn: _Txn | None
    ) -> None:
        store = self._stores[schema.name]
        if access is not None:
            self._take_lock_failure(rid)
        for child in self._schemas.values():
            for f in child.fields.values():
                if f.type not in ("Lookup", "MasterDetail") or f.reference_to != schema.name:
                    continue
                if f.full_name in ("CreatedById", "LastModifiedById", "OwnerId"):
                    continue
                child_store = self._stores[child.name]
                children = list(child_store.indexes.get(f.full_name, {}).get(rid, ()))
                if not children:
                    continue
                rule = f.delete_constraint or (
                    "Cascade" if f.type == "MasterDetail" else "SetNull"
                )
                if rule == "Restrict":
                    raise RecordError(
                        "DELETE_FAILED",
                        f"Your attempt to delete {store.records[rid].get('Name') or rid} could "
                        f"not be completed because it is associated with the following "
                        f"{child.plural_label.lower()}.: {', '.join(children[:10])}",
                    )
                for cid in children:
                    if rule == "Cascade":
                        self._delete(child, cid, None, txn)
                    else:
                        updated = dict(child_store.records[cid])
                        updated[f.full_name] = None
                        self._put(child.name, cid, updated, txn)
        old = store.records.pop(rid)
        store.remove_from_indexes(rid, old)
        store.deleted.add(rid)
        if txn is not None:
            txn.undo.append((schema.name, rid, old, True))
        if schema.name in _PERMISSION_OBJECTS:
            self._perm_version += 1


def _custom_prefix(n: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    # a0X, a0Y, a0Z, a10, a11 ... like the prefixes a real org hands out to custom objects.
    n += alphabet.index("0") * 36 + alphabet.index("X")
    return "a" + alphabet[n // 36 % 36] + alphabet[n % 36]


_AUTONUMBER = re.compile(r"\{(0+)\}")


def _autonumber(display_format: str, number: int) -> str:
    today = datetime.now(UTC)
    text = _AUTONUMBER.sub(lambda m: str(number).zfill(len(m.group(1))), display_format)
    return (
        text.replace("{YYYY}", f"{today.year:04d}").replace("{YY}", f"{today.year % 100:02d}")
        .replace("{MM}", f"{today.month:02d}").replace("{DD}", f"{today.day:02d}")
    )


def _default(f: FieldSpec) -> object:
    value = f.default_value
    if value is None:
        return None
    if f.type == "Checkbox":
        return str(value).lower() == "true"
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]  # formula-style string default
    try:
        return check_value(f, coerce(f, text))
    except (RecordError, SfError):
        return None
