"""The org's security side: users, tokens, permission sets, object access and FLS."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from .components import FieldSpec
from .schema import ObjectSchema
from .sferrors import RecordError

__all__ = ["INTEGRATION_USERNAME", "Access", "SecurityMixin"]

INTEGRATION_USERNAME = "integration@billing-sync.example"
_OP_FLAGS = ("create", "read", "edit", "delete", "viewAll", "modifyAll")


@dataclass(frozen=True)
class Access:
    """What one API user may see and change, from the permission sets assigned to them."""

    username: str
    user_id: str
    read: frozenset[str]  # "Object.Field"
    edit: frozenset[str]
    objects: dict[str, frozenset[str]]  # custom object -> {"create", "read", ...}



class SecurityMixin:
    """Part of ``Org``: who is calling, and what their permission sets let them see and do."""

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

    def _check_object(self, schema: ObjectSchema, access: Access | None, op: str) -> None:
        if not self.can(schema, access, op):
            verb = {"create": "inserted", "edit": "updated", "delete": "deleted"}[op]
            raise RecordError(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                f"insufficient access rights on object: {schema.name} cannot be {verb} "
                "by this user",
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
