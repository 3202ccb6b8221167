"""The deployable package: which components, their mdapi files, the zip, and pre-checks.

``PackageSpec.current()`` is what billing-sync deploys. Tests build variants of it (a later
version with one more field, a deliberately broken field) with ``dataclasses.replace``.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace

from metadata import render, schema
from metadata.schema import CustomObject, Field, PermissionSet, Tab

__all__ = [
    "DEFAULT_API_VERSION",
    "PackageSpec",
    "build_zip",
    "check_rules",
    "mdapi_files",
]

DEFAULT_API_VERSION = schema.DEFAULT_API_VERSION

# Which field types may carry which Metadata API attributes: a mistake in the schema should
# fail here, in milliseconds, not in a deploy that takes a minute.
_TYPES = {
    "Text",
    "Picklist",
    "Currency",
    "Number",
    "Date",
    "DateTime",
    "Checkbox",
    "LongTextArea",
    "Lookup",
    "AutoNumber",
}


@dataclass(frozen=True)
class PackageSpec:
    account_fields: tuple[Field, ...]
    objects: tuple[CustomObject, ...]
    permission_sets: tuple[PermissionSet, ...]
    tabs: tuple[Tab, ...]
    api_version: str = DEFAULT_API_VERSION
    schema_version: str = schema.SCHEMA_VERSION

    @classmethod
    def current(cls, api_version: str = DEFAULT_API_VERSION) -> PackageSpec:
        return cls(
            account_fields=schema.ACCOUNT_FIELDS,
            objects=schema.OBJECTS,
            permission_sets=schema.PERMISSION_SETS,
            tabs=schema.TABS,
            api_version=api_version,
        )

    def with_version(self, schema_version: str) -> PackageSpec:
        """The same package carrying another schema-version marker."""
        old, new = schema.version_marker(self.schema_version), schema.version_marker(schema_version)
        objects = tuple(
            replace(obj, description=obj.description.replace(old, new))
            if obj.name == schema.VERSION_MARKER_OBJECT
            else obj
            for obj in self.objects
        )
        return replace(self, objects=objects, schema_version=schema_version)

    def fields_by_object(self) -> dict[str, tuple[Field, ...]]:
        owned = {"Account": self.account_fields}
        owned.update({obj.name: obj.fields for obj in self.objects})
        return owned

    def components(self) -> tuple[tuple[str, str], ...]:
        """(metadata type, member) for every component, in package.xml order."""
        result: list[tuple[str, str]] = []
        for obj_name, fields in self.fields_by_object().items():
            result.extend(("CustomField", f"{obj_name}.{f.name}") for f in fields)
        result.extend(("CustomObject", obj.name) for obj in self.objects)
        result.extend(("CustomTab", tab.name) for tab in self.tabs)
        for obj in self.objects:
            result.extend(("ListView", f"{obj.name}.{lv.name}") for lv in obj.list_views)
        result.extend(("PermissionSet", ps.name) for ps in self.permission_sets)
        return tuple(result)

    def package_types(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        grouped: dict[str, list[str]] = {}
        for type_name, member in self.components():
            grouped.setdefault(type_name, []).append(member)
        return tuple((name, tuple(sorted(members))) for name, members in sorted(grouped.items()))


def package_xml(spec: PackageSpec) -> str:
    return render.render_package_xml(spec.package_types(), spec.api_version)


def mdapi_files(spec: PackageSpec) -> dict[str, str]:
    """Relative path inside the deploy zip -> file text, ``package.xml`` first."""
    files = {"package.xml": package_xml(spec)}
    if spec.account_fields:
        files["objects/Account.object"] = render.render_standard_object(spec.account_fields)
    for obj in spec.objects:
        files[f"objects/{obj.name}.object"] = render.render_custom_object(obj)
    for tab in spec.tabs:
        files[f"tabs/{tab.name}.tab"] = render.render_tab(tab)
    for ps in spec.permission_sets:
        files[f"permissionsets/{ps.name}.permissionset"] = render.render_permission_set(ps)
    return files


def build_zip(spec: PackageSpec) -> bytes:
    """The deploy zip, in memory, with ``package.xml`` at its root (singlePackage)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in mdapi_files(spec).items():
            # A fixed timestamp keeps the zip byte-identical for identical metadata.
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def _field_problems(obj_name: str, f: Field) -> list[str]:
    where = f"{obj_name}.{f.name}"
    problems: list[str] = []
    if f.type not in _TYPES:
        problems.append(f"{where}: unsupported type {f.type}")
    if f.name != "Name" and not f.name.endswith("__c"):
        problems.append(f"{where}: a custom field's name must end in __c")
    if f.type == "Text" and f.name != "Name" and not (f.length and 1 <= f.length <= 255):
        problems.append(f"{where}: Text length must be 1-255, not {f.length}")
    if f.type in ("Currency", "Number"):
        if f.precision is None or f.scale is None:
            problems.append(f"{where}: {f.type} needs precision and scale")
        elif not (1 <= f.precision <= 18 and 0 <= f.scale <= f.precision):
            problems.append(
                f"{where}: precision must be 1-18 and scale 0-precision "
                f"(got {f.precision},{f.scale})"
            )
    if f.type == "Checkbox" and f.default not in ("true", "false"):
        problems.append(f"{where}: a Checkbox needs defaultValue true or false")
    if f.type == "LongTextArea" and (
        not f.length or not (256 <= f.length <= 131072) or not f.visible_lines
    ):
        problems.append(f"{where}: LongTextArea needs length 256-131072 and visibleLines")
    if f.type == "Picklist":
        if not f.values:
            problems.append(f"{where}: a Picklist needs values")
        if f.default is not None and f.default not in f.picklist_values:
            problems.append(f"{where}: default {f.default!r} is not one of its values")
    if f.type == "Lookup":
        if not (f.reference_to and f.relationship_name and f.delete_constraint):
            problems.append(
                f"{where}: a Lookup needs referenceTo, relationshipName, deleteConstraint"
            )
        if f.required and f.delete_constraint == "SetNull":
            problems.append(f"{where}: a required Lookup cannot clear itself (SetNull)")
    if (f.external_id or f.unique) and f.type not in ("Text", "Number"):
        problems.append(f"{where}: only Text and Number fields here may be unique/external IDs")
    if f.type == "AutoNumber" and not f.display_format:
        problems.append(f"{where}: an AutoNumber needs a displayFormat")
    return problems


def check_rules(spec: PackageSpec) -> list[str]:
    """The Metadata API rules our package could break; empty when it is sound."""
    problems: list[str] = []
    for obj_name, fields in spec.fields_by_object().items():
        seen: set[str] = set()
        for f in fields:
            if f.name in seen:
                problems.append(f"{obj_name}.{f.name}: defined twice")
            seen.add(f.name)
            problems.extend(_field_problems(obj_name, f))
    for obj in spec.objects:
        if obj.name_field.type not in ("Text", "AutoNumber"):
            problems.append(f"{obj.name}.Name: must be Text or AutoNumber")
        problems.extend(_field_problems(obj.name, obj.name_field))
        names = {f.name for f in obj.fields}
        for lv in obj.list_views:
            for column in lv.columns:
                if column != "NAME" and column not in names:
                    problems.append(f"{obj.name}.{lv.name}: unknown column {column}")
            for field_name, _op, _value in lv.filters:
                if field_name not in names:
                    problems.append(f"{obj.name}.{lv.name}: unknown filter field {field_name}")
    owned = spec.fields_by_object()
    object_names = {obj.name for obj in spec.objects}
    for ps in spec.permission_sets:
        for fp in ps.field_permissions:
            obj_name, _, field_name = fp.field.partition(".")
            match = [f for f in owned.get(obj_name, ()) if f.name == field_name]
            if not match:
                problems.append(f"{ps.name}: permission for unknown field {fp.field}")
            elif match[0].required:
                problems.append(
                    f"{ps.name}: {fp.field} is required and must not be in fieldPermissions"
                )
            if fp.editable and not fp.readable:
                problems.append(f"{ps.name}: {fp.field} editable but not readable")
        for tab_name, _visibility in ps.tab_settings:
            if tab_name not in {t.name for t in spec.tabs}:
                problems.append(f"{ps.name}: setting for unknown tab {tab_name}")
    for tab in spec.tabs:
        if tab.name not in object_names:
            problems.append(f"tab {tab.name}: no such custom object in the package")
    return problems
