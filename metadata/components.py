"""The shapes of the Salesforce components billing-sync owns (fields, objects, permission
sets, tabs), and the small builders ``schema`` declares its fields with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "CustomObject",
    "Field",
    "FieldPermission",
    "ListView",
    "ObjectPermission",
    "PermissionSet",
    "Tab",
]


@dataclass(frozen=True)
class Field:
    """One custom field, in Metadata API terms (``type`` is the CustomField type)."""

    name: str
    type: str  # Text Picklist Currency Number Date DateTime Checkbox LongTextArea Lookup AutoNumber
    label: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    required: bool = False
    values: tuple[tuple[str, str], ...] = ()  # picklist (api value, label), in display order
    restricted: bool = True
    reference_to: str | None = None
    relationship_name: str | None = None  # child relationship on the parent: Account.X__r
    relationship_label: str | None = None
    delete_constraint: str | None = None  # SetNull | Restrict | Cascade
    default: str | None = None  # Checkbox "true"/"false"; Picklist: the default api value
    visible_lines: int | None = None
    display_format: str | None = None  # AutoNumber, e.g. "SE-{000000}"
    description: str = ""
    help_text: str = ""

    @property
    def picklist_values(self) -> tuple[str, ...]:
        return tuple(value for value, _label in self.values)


@dataclass(frozen=True)
class ListView:
    name: str
    label: str
    columns: tuple[str, ...]
    filters: tuple[tuple[str, str, str], ...] = ()  # (field, operation, value)
    filter_scope: str = "Everything"


@dataclass(frozen=True)
class CustomObject:
    name: str
    label: str
    plural_label: str
    name_field: Field
    fields: tuple[Field, ...]
    list_views: tuple[ListView, ...] = ()
    sharing_model: str = "ReadWrite"
    description: str = ""
    starts_with: str = "Consonant"

    def field(self, name: str) -> Field:
        if name == "Name":
            return self.name_field
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r} in the billing-sync schema")


@dataclass(frozen=True)
class ObjectPermission:
    object: str
    allow_create: bool = False
    allow_read: bool = False
    allow_edit: bool = False
    allow_delete: bool = False
    view_all_records: bool = False
    modify_all_records: bool = False


@dataclass(frozen=True)
class FieldPermission:
    field: str  # "Object.Field__c"
    readable: bool
    editable: bool


@dataclass(frozen=True)
class PermissionSet:
    name: str
    label: str
    description: str
    object_permissions: tuple[ObjectPermission, ...]
    field_permissions: tuple[FieldPermission, ...]
    tab_settings: tuple[tuple[str, str], ...] = ()  # (tab, Visible | Available | None)


@dataclass(frozen=True)
class Tab:
    name: str  # the custom object it shows
    motif: str
    description: str = ""


def _text(name: str, label: str, length: int = 255, **kw: Any) -> Field:
    return Field(name=name, type="Text", label=label, length=length, **kw)


def _external_id(name: str, label: str, *, case_sensitive: bool = True, **kw: Any) -> Field:
    return _text(name, label, external_id=True, unique=True, case_sensitive=case_sensitive, **kw)


def _currency(name: str, label: str, **kw: Any) -> Field:
    return Field(name=name, type="Currency", label=label, precision=16, scale=2, **kw)


def _number(name: str, label: str, **kw: Any) -> Field:
    return Field(name=name, type="Number", label=label, precision=18, scale=0, **kw)


def _date(name: str, label: str, **kw: Any) -> Field:
    return Field(name=name, type="Date", label=label, **kw)


def _datetime(name: str, label: str, **kw: Any) -> Field:
    return Field(name=name, type="DateTime", label=label, **kw)


def _checkbox(name: str, label: str, **kw: Any) -> Field:
    return Field(name=name, type="Checkbox", label=label, default="false", **kw)


def _picklist(name: str, label: str, values: tuple[tuple[str, str], ...], **kw: Any) -> Field:
    return Field(name=name, type="Picklist", label=label, values=values, restricted=True, **kw)


def _account_lookup(relationship_name: str, relationship_label: str, **kw: Any) -> Field:
    return Field(
        name="Account__c",
        type="Lookup",
        label="Account",
        reference_to="Account",
        relationship_name=relationship_name,
        relationship_label=relationship_label,
        delete_constraint="SetNull",
        **kw,
    )
