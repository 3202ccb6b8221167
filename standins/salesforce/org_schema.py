"""The org's schema side: object and field lookups, and applying a Metadata deploy."""

from __future__ import annotations

from dataclasses import replace

from .components import FieldSpec, MetadataChange, ObjectSpec, PermissionSetSpec, TabSpec
from .schema import ObjectSchema, add_custom_field, custom_object_schema
from .storage import ObjectStore, index_key, indexed_fields

__all__ = ["SchemaMixin"]


class SchemaMixin:
    """Part of ``Org``: its schemas, custom objects, fields, permission sets and tabs."""

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


def _custom_prefix(n: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    # a0X, a0Y, a0Z, a10, a11 ... like the prefixes a real org hands out to custom objects.
    n += alphabet.index("0") * 36 + alphabet.index("X")
    return "a" + alphabet[n // 36 % 36] + alphabet[n % 36]
