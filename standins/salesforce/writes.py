"""The org's record writes: validate and save one record, cascade deletes, keep indexes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .components import FieldSpec
from .schema import SYSTEM_FIELDS, ObjectSchema
from .security import Access
from .sferrors import RecordError, SfError
from .storage import PERMISSION_OBJECTS, Txn, index_key
from .values import check_value, coerce, now_stamp

__all__ = ["WritesMixin"]


class WritesMixin:
    """Part of ``Org``: one record saved or deleted, with every rule Salesforce applies."""

    def _save(
        self,
        schema: ObjectSchema,
        values: dict,
        access: Access | None,
        txn: Txn | None,
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

    def _put(self, name: str, rid: str, new: dict, txn: Txn | None) -> None:
        store = self._stores[name]
        old = store.records.get(rid)
        if old is not None:
            store.remove_from_indexes(rid, old)
        store.records[rid] = new
        store.add_to_indexes(rid, new)
        if txn is not None:
            txn.undo.append((name, rid, old, False))
        if name in PERMISSION_OBJECTS:
            self._perm_version += 1

    def _delete(
        self, schema: ObjectSchema, rid: str, access: Access | None, txn: Txn | None
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
        if schema.name in PERMISSION_OBJECTS:
            self._perm_version += 1


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
