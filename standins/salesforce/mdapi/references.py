"""A deploy's references: what a component points at must exist in the package or the org.

``Catalog`` is the schema as it would be after the deploy, so a partial deploy can re-check what
is left once failed components are dropped.
"""

from __future__ import annotations

import re

from ..components import FieldSpec, ObjectSpec, PermissionSetSpec
from .parse import Component

__all__ = ["Catalog", "check_references"]

_STANDARD_COLUMN = re.compile(r"^[A-Z][A-Z0-9_.]*$")  # NAME, CREATED_DATE, OWNER.ALIAS ...


class Catalog:
    """The schema as it would be after the deploy: the package's components over the org."""

    def __init__(self, org, components: list[Component]) -> None:
        self.org = org
        self.objects: dict[str, ObjectSpec] = {}
        self.fields: dict[str, FieldSpec] = {}
        self.tabs: set[str] = set()
        for c in components:
            if c.spec is None:
                continue
            if c.type == "CustomObject" and not c.standard_parent:
                self.objects[c.full_name] = c.spec  # type: ignore[assignment]
            elif c.type == "CustomField":
                self.fields[c.full_name] = c.spec  # type: ignore[assignment]
            elif c.type == "CustomTab":
                self.tabs.add(c.full_name)

    def object_exists(self, name: str) -> bool:
        return name in self.objects or bool(self.org.object_exists(name))

    def field(self, object_name: str, field_name: str) -> FieldSpec | None:
        found = self.fields.get(f"{object_name}.{field_name}")
        if found is not None:
            return found
        obj = self.objects.get(object_name)
        if obj is not None and field_name == "Name":
            return obj.name_field
        return self.org.get_field(object_name, field_name)

    def sharing_model(self, object_name: str) -> str | None:
        obj = self.objects.get(object_name) or self.org.get_object(object_name)
        return obj.sharing_model if obj is not None else None

    def tab_exists(self, name: str) -> bool:
        if name.startswith("standard-"):
            return bool(self.org.object_exists(name.removeprefix("standard-")))
        return name in self.tabs or self.org.get_tab(name) is not None



def check_references(comp: Component, catalog: Catalog) -> list[str]:
    """Problems with what ``comp`` points at, as the catalog stands."""
    if comp.spec is None:
        return []
    if comp.type == "CustomObject" and comp.standard_parent:
        if not catalog.org.object_exists(comp.full_name):
            return [
                f"Cannot create a CustomObject named {comp.full_name}: custom object names "
                "end in __c and no standard object has this name"
            ]
        return []
    if comp.type == "CustomField":
        return _field_references(comp, catalog)
    if comp.type == "ListView":
        return _list_view_references(comp, catalog)
    if comp.type == "CustomTab":
        if comp.full_name not in catalog.objects and not catalog.org.object_exists(comp.full_name):
            return [f"In field: customObject - no CustomObject named {comp.full_name} found"]
        return []
    if comp.type == "PermissionSet":
        return _permission_set_references(comp.spec, catalog)  # type: ignore[arg-type]
    return []


def _field_references(comp: Component, catalog: Catalog) -> list[str]:
    spec: FieldSpec = comp.spec  # type: ignore[assignment]
    out = []
    if not catalog.object_exists(spec.object_name):
        out.append(f"In field: fullName - no CustomObject named {spec.object_name} found")
    reference = spec.reference_to
    if (
        spec.type in ("Lookup", "MasterDetail")
        and reference
        and not catalog.object_exists(reference)
    ):
        out.append(
            f"referenceTo value of '{spec.reference_to}' does not resolve to a valid sObject type"
        )
    if spec.type == "MasterDetail" and spec.object_name not in catalog.objects:
        sharing = catalog.sharing_model(spec.object_name)
        if sharing is not None and sharing != "ControlledByParent":
            out.append(
                f"Cannot add a MasterDetail field to {spec.object_name}: its sharingModel is "
                f"{sharing}, not ControlledByParent"
            )
    return out


def _list_view_references(comp: Component, catalog: Catalog) -> list[str]:
    object_name = comp.object_name
    if object_name not in catalog.objects:
        return ["The Salesforce stand-in deploys a ListView only together with its CustomObject"]
    out = []
    spec = comp.spec
    for column in spec.columns:  # type: ignore[attr-defined]
        if not _STANDARD_COLUMN.match(column) and catalog.field(object_name, column) is None:
            out.append(f"Could not resolve list view column: {column}")
    for name, _, _ in spec.filters:  # type: ignore[attr-defined]
        if not _STANDARD_COLUMN.match(name) and catalog.field(object_name, name) is None:
            out.append(f"Could not resolve list view filter field: {name}")
    return out


def _permission_set_references(spec: PermissionSetSpec, catalog: Catalog) -> list[str]:
    out = []
    for name, _readable, editable in spec.field_permissions:
        object_name, dot, field_name = name.partition(".")
        found = catalog.field(object_name, field_name) if dot else None
        if found is None:
            out.append(f"In field: field - no CustomField named {name} found")
        elif found.required or found.type == "MasterDetail" or field_name == "Name":
            out.append(f"You cannot deploy to a required field: {name}")
        elif editable and found.type == "AutoNumber":
            out.append(f"You cannot set editable access on a read-only field: {name}")
    for perm in spec.object_permissions:
        if not catalog.object_exists(perm[0]):
            out.append(f"In field: object - no CustomObject named {perm[0]} found")
    for tab, _ in spec.tab_settings:
        if not catalog.tab_exists(tab):
            out.append(f"In field: tab - no CustomTab named {tab} found")
    return out
