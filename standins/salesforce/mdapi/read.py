"""readMetadata and listMetadata: the org's deployed components written back as metadata.

Only what the stand-in keeps is written (an object's custom fields and list views, not its
layouts); elements come in the WSDL's order so zeep reads them as it would Salesforce's answer.
"""

from __future__ import annotations

from lxml import etree

from ..components import FieldSpec, ListViewSpec, ObjectSpec, PermissionSetSpec, TabSpec
from .envelope import XSI_NS, SoapFault, sub
from .schema import MD_NS, metadata_schema

__all__ = ["READABLE_TYPES", "list_metadata", "read_metadata"]

_NS = f"{{{MD_NS}}}"
READABLE_TYPES = ("CustomObject", "CustomField", "PermissionSet", "CustomTab")
_MAX_READ = 10  # Salesforce reads at most 10 components a call


def _write(parent: etree._Element, tag: str, type_name: str, values: dict) -> etree._Element:
    node = sub(parent, tag)
    for element in metadata_schema().elements(type_name):
        value = values.get(element.name)
        if value is None or value == () or value == []:
            continue
        items = value if isinstance(value, list | tuple) else [value]
        child_type = element.type.partition(":")[2]
        for item in items:
            if isinstance(item, dict):
                _write(node, element.name, child_type, item)
            else:
                sub(node, element.name, item)
    return node


def _field_values(spec: FieldSpec) -> dict:
    values: dict = {
        "fullName": spec.full_name,
        "defaultValue": spec.default_value,
        "deleteConstraint": spec.delete_constraint,
        "description": spec.description or None,
        "displayFormat": spec.display_format,
        "externalId": spec.external_id,
        "label": spec.label,
        "length": spec.length,
        "precision": spec.precision,
        "referenceTo": spec.reference_to,
        "relationshipName": spec.relationship_name,
        "required": spec.required,
        "scale": spec.scale,
        "type": spec.type,
        "visibleLines": spec.visible_lines,
    }
    if spec.type in ("Text", "Number", "Email"):
        values["unique"] = spec.unique
        if spec.unique and spec.type == "Text":
            values["caseSensitive"] = spec.case_sensitive
    if spec.type == "Picklist":
        values["valueSet"] = {
            "restricted": spec.restricted,
            "valueSetDefinition": {
                "sorted": False,
                "value": [
                    {"fullName": v, "default": False, "label": v} for v in spec.picklist_values
                ],
            },
        }
    return values


def _list_view_values(spec: ListViewSpec) -> dict:
    return {
        "fullName": spec.full_name,
        "columns": list(spec.columns),
        "filterScope": spec.filter_scope,
        "filters": [{"field": f, "operation": o, "value": v} for f, o, v in spec.filters],
        "label": spec.label,
    }


def _object_values(spec: ObjectSpec) -> dict:
    custom = spec.name.endswith("__c")
    values: dict = {
        "fullName": spec.name,
        "fields": [_field_values(f) for f in spec.fields if f.full_name.endswith("__c")],
    }
    if custom:
        name_field = spec.name_field
        values.update(
            {
                "deploymentStatus": "Deployed",
                "description": spec.description or None,
                "label": spec.label,
                "listViews": [_list_view_values(v) for v in spec.list_views],
                "nameField": {
                    "displayFormat": name_field.display_format,
                    "label": name_field.label,
                    "type": name_field.type,
                },
                "pluralLabel": spec.plural_label,
                "sharingModel": spec.sharing_model,
            }
        )
    return values


def _permission_set_values(spec: PermissionSetSpec) -> dict:
    return {
        "fullName": spec.name,
        "description": spec.description or None,
        "fieldPermissions": [
            {"editable": e, "field": f, "readable": r} for f, r, e in spec.field_permissions
        ],
        "hasActivationRequired": False,
        "label": spec.label,
        "objectPermissions": [
            {
                "allowCreate": c,
                "allowDelete": d,
                "allowEdit": e,
                "allowRead": r,
                "modifyAllRecords": m,
                "object": o,
                "viewAllRecords": v,
            }
            for o, c, r, e, d, v, m in spec.object_permissions
        ],
        "tabSettings": [{"tab": t, "visibility": v} for t, v in spec.tab_settings],
    }


def _tab_values(spec: TabSpec) -> dict:
    return {
        "fullName": spec.name,
        "customObject": True,
        "description": spec.description or None,
        "motif": spec.motif,
    }


def _lookup(org, type_name: str, full_name: str) -> dict | None:
    if type_name == "CustomObject":
        obj = org.get_object(full_name)
        if obj is not None:
            return _object_values(obj)
        schema = org.schema(full_name)  # a standard object: only its custom fields are kept
        if schema is None:
            return None
        custom = [f for name, f in schema.fields.items() if name.endswith("__c")]
        return {"fullName": schema.name, "fields": [_field_values(f) for f in custom]}
    if type_name == "CustomField":
        object_name, dot, field_name = full_name.partition(".")
        spec = org.get_field(object_name, field_name) if dot else None
        if spec is None or not field_name.endswith("__c"):
            return None
        return {**_field_values(spec), "fullName": full_name}
    if type_name == "PermissionSet":
        ps = org.get_permission_set(full_name)
        return _permission_set_values(ps) if ps is not None else None
    tab = org.get_tab(full_name)
    return _tab_values(tab) if tab is not None else None


def read_metadata(org, request: etree._Element) -> etree._Element:
    type_name = (request.findtext(f"{_NS}type") or "").strip()
    names = [(n.text or "").strip() for n in request.findall(f"{_NS}fullNames")]
    if not metadata_schema().has_type(type_name):
        raise SoapFault("INVALID_TYPE", f"Unknown type: {type_name}")
    if type_name not in READABLE_TYPES:
        raise SoapFault(
            "UNSUPPORTED_OPERATION",
            f"The Salesforce stand-in does not implement readMetadata for {type_name}",
        )
    if len(names) > _MAX_READ:
        raise SoapFault(
            "EXCEEDED_ID_LIMIT", f"readMetadata reads at most {_MAX_READ} components a call"
        )
    result = etree.Element(f"{_NS}result")
    for name in names:
        values = _lookup(org, type_name, name)
        # Salesforce answers a name it does not know with an empty record, not a fault.
        node = _write(result, "records", type_name, values or {})
        node.set(f"{{{XSI_NS}}}type", type_name)
    return result


def list_metadata(org, request: etree._Element) -> list[etree._Element]:
    queries = request.findall(f"{_NS}queries")
    if len(queries) > 3:
        raise SoapFault("INVALID_OPERATION", "listMetadata takes at most 3 queries")
    out = []
    for query in queries:
        type_name = (query.findtext(f"{_NS}type") or "").strip()
        if type_name not in _LISTABLE_TYPES:
            raise SoapFault(
                "UNSUPPORTED_OPERATION",
                f"The Salesforce stand-in does not implement listMetadata for {type_name}",
            )
        for full_name in sorted(_names(org, type_name)):
            out.append(_file_properties(type_name, full_name))
    return out


_LISTABLE_TYPES = ("CustomObject", "CustomField", "PermissionSet")


def _names(org, type_name: str) -> list[str]:
    if type_name == "PermissionSet":
        return [r["Name"] for r in org.all("PermissionSet")]
    names = []
    for schema in org.schemas():
        if type_name == "CustomObject":
            names.append(schema.name)
        else:
            names.extend(f"{schema.name}.{f}" for f in schema.fields if f.endswith("__c"))
    return names


_FOLDERS = {
    "CustomObject": ("objects", ".object"),
    "PermissionSet": ("permissionsets", ".permissionset"),
    "CustomTab": ("tabs", ".tab"),
}


def _file_properties(type_name: str, full_name: str) -> etree._Element:
    if type_name == "CustomField":
        file_name = f"objects/{full_name.split('.', 1)[0]}.object"
    else:
        folder, suffix = _FOLDERS[type_name]
        file_name = f"{folder}/{full_name}{suffix}"
    node = etree.Element(f"{_NS}result")
    sub(node, "createdById", "005000000000000AAA")
    sub(node, "createdByName", "Stand-in")
    sub(node, "createdDate", "1970-01-01T00:00:00.000Z")
    sub(node, "fileName", file_name)
    sub(node, "fullName", full_name)
    sub(node, "id", "")
    sub(node, "lastModifiedById", "005000000000000AAA")
    sub(node, "lastModifiedByName", "Stand-in")
    sub(node, "lastModifiedDate", "1970-01-01T00:00:00.000Z")
    sub(node, "manageableState", "unmanaged")
    sub(node, "type", type_name)
    return node
