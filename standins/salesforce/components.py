"""Metadata components as the Salesforce stand-in understands them.

This is the contract between the Metadata API side of the stand-in (``mdapi``: parses and
validates a deploy zip) and the org's schema store (``org``/``schema``: applies the result and
enforces it on every REST call). Both sides import these and nothing else of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "FieldSpec",
    "ListViewSpec",
    "MetadataChange",
    "ObjectSpec",
    "PermissionSetSpec",
    "TabSpec",
]


@dataclass(frozen=True)
class FieldSpec:
    object_name: str  # e.g. "Account" or "Subscription__c"
    full_name: str  # field API name, e.g. "MRR__c"
    type: str  # Metadata API type: Text, Picklist, Currency, Number, Date, DateTime, Checkbox,
    # LongTextArea, TextArea, Lookup, AutoNumber, Email, Url, Percent
    label: str = ""
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    required: bool = False
    unique: bool = False
    external_id: bool = False
    case_sensitive: bool = False
    picklist_values: tuple[str, ...] = ()  # API values (fullName) in order
    restricted: bool = False
    reference_to: str | None = None  # Lookup target object
    relationship_name: str | None = None  # child list on the parent: "Subscriptions"
    delete_constraint: str | None = None  # SetNull | Restrict | Cascade
    default_value: str | None = None
    visible_lines: int | None = None
    display_format: str | None = None  # AutoNumber, e.g. "SE-{000000}"
    description: str = ""


@dataclass(frozen=True)
class ListViewSpec:
    full_name: str
    label: str
    columns: tuple[str, ...] = ()
    filter_scope: str = "Everything"
    filters: tuple[tuple[str, str, str], ...] = ()  # (field, operation, value)


@dataclass(frozen=True)
class ObjectSpec:
    name: str  # "Subscription__c"
    label: str
    plural_label: str
    name_field: FieldSpec  # full_name "Name", type Text or AutoNumber
    sharing_model: str = "ReadWrite"
    description: str = ""
    fields: tuple[FieldSpec, ...] = ()
    list_views: tuple[ListViewSpec, ...] = ()


@dataclass(frozen=True)
class PermissionSetSpec:
    name: str
    label: str
    # ("Subscription__c.MRR__c", readable, editable)
    field_permissions: tuple[tuple[str, bool, bool], ...] = ()
    # (object, allowCreate, allowRead, allowEdit, allowDelete, viewAllRecords, modifyAllRecords)
    object_permissions: tuple[tuple[str, bool, bool, bool, bool, bool, bool], ...] = ()
    # (tab name, visibility: Visible | Available | None)
    tab_settings: tuple[tuple[str, str], ...] = ()
    description: str = ""


@dataclass(frozen=True)
class TabSpec:
    name: str  # the custom object the tab shows
    motif: str = ""
    description: str = ""


@dataclass(frozen=True)
class MetadataChange:
    """Everything one successful (non check-only) deploy applies, all at once."""

    objects: tuple[ObjectSpec, ...] = ()  # custom objects, complete with their fields
    fields: tuple[FieldSpec, ...] = ()  # custom fields on standard objects (Account)
    permission_sets: tuple[PermissionSetSpec, ...] = ()
    tabs: tuple[TabSpec, ...] = ()
    extra: dict = field(default_factory=dict)
