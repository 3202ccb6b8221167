"""What Salesforce refuses in a deploy, as component failures with its wording where known.

Two kinds of rule: a component's own rules (a Text field needs a length of 1..255) and its
references (a permission set may only grant fields that exist in the org or in the package).
The reference rules (and ``Catalog``, the schema after the deploy) are in references.py.

Field type changes on existing fields: the stand-in allows only the conversions Salesforce
performs without losing data (text widening, text to/from picklist, between the numeric types)
and refuses every other change, whether or not the field holds data.
"""

from __future__ import annotations

import re

from ..components import FieldSpec, ObjectSpec, PermissionSetSpec, TabSpec
from .parse import Component, is_custom_name

__all__ = ["check_component"]

_NS = "{http://soap.sforce.com/2006/04/metadata}"
_CUSTOM_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)__c$")
_DEV_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")

SUPPORTED_FIELD_TYPES = frozenset(
    {
        "AutoNumber", "Checkbox", "Currency", "Date", "DateTime", "Email", "Lookup",
        "LongTextArea", "MasterDetail", "Number", "Percent", "Phone", "Picklist", "Text",
        "TextArea", "Url",
    }
)  # fmt: skip
# Which element each type accepts (Salesforce: "Can not specify 'x' for a CustomField of type Y").
_ONLY_FOR = {
    "length": {"Text", "LongTextArea"},
    "precision": {"Number", "Currency", "Percent"},
    "scale": {"Number", "Currency", "Percent"},
    "visibleLines": {"LongTextArea"},
    "referenceTo": {"Lookup", "MasterDetail"},
    "relationshipName": {"Lookup", "MasterDetail"},
    "relationshipLabel": {"Lookup", "MasterDetail"},
    "deleteConstraint": {"Lookup"},
    "valueSet": {"Picklist"},
    "displayFormat": {"AutoNumber"},
}
_EXTERNAL_ID_TYPES = {"Text", "Number", "Email", "AutoNumber"}
_UNIQUE_TYPES = {"Text", "Number", "Email"}
_SAFE_TYPE_CHANGES = {
    ("Text", "TextArea"), ("Text", "LongTextArea"), ("TextArea", "LongTextArea"),
    ("Text", "Picklist"), ("Picklist", "Text"), ("Email", "Text"), ("Url", "Text"),
    ("Phone", "Text"), ("Number", "Currency"), ("Currency", "Number"), ("Number", "Percent"),
    ("Percent", "Number"), ("Currency", "Percent"), ("Percent", "Currency"),
}  # fmt: skip
_OBJECT_TAB_ELEMENTS = {"fullName", "customObject", "motif", "description"}
_PERMSET_ELEMENTS = {
    "fullName", "label", "description", "fieldPermissions", "objectPermissions", "tabSettings",
    "hasActivationRequired", "license",
}  # fmt: skip
_STANDARD_OBJECT_ELEMENTS = {"fullName", "fields"}


def _present(comp: Component, name: str) -> bool:
    return comp.node is not None and comp.node.find(f"{_NS}{name}") is not None


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]



# --- a component's own rules ------------------------------------------------------------


def check_component(comp: Component, org) -> None:
    """Append the component's own problems (those that need no other component)."""
    if comp.spec is None or comp.problems:
        return  # a file Salesforce cannot parse gets no further checks
    if comp.type == "CustomObject":
        _check_object(comp)
    elif comp.type == "CustomField":
        _check_field(comp, org)
    elif comp.type == "ListView":
        _check_list_view(comp)
    elif comp.type == "CustomTab":
        _check_tab(comp)
    elif comp.type == "PermissionSet":
        _check_permission_set(comp)


def _check_object(comp: Component) -> None:
    spec: ObjectSpec = comp.spec  # type: ignore[assignment]
    if comp.standard_parent:
        for child in comp.node if comp.node is not None else ():
            if isinstance(child.tag, str) and _local(child.tag) not in _STANDARD_OBJECT_ELEMENTS:
                comp.fail(
                    f"The Salesforce stand-in deploys only custom fields on the standard object "
                    f"{spec.name}; '{_local(child.tag)}' is not supported",
                    child.sourceline,
                )
        return
    if not _CUSTOM_NAME.match(spec.name) or len(spec.name) > 43:
        comp.fail(
            f"Invalid fullName '{spec.name}': a custom object name must begin with a letter, "
            "use only letters, digits and single underscores, and end in __c"
        )
    if not spec.label:
        comp.fail("Must specify a non-empty label for the CustomObject")
    if not spec.plural_label:
        comp.fail("Must specify a non-empty plural label for the CustomObject")
    name_field = spec.name_field
    if not _present(comp, "nameField"):
        comp.fail("Must specify a nameField for the CustomObject")
    elif name_field.type not in ("Text", "AutoNumber"):
        comp.fail("The nameField of a CustomObject must be of type Text or AutoNumber")
    else:
        if not name_field.label:
            comp.fail("Must specify a non-empty label for the nameField")
        if name_field.type == "AutoNumber" and not name_field.display_format:
            comp.fail("Must specify 'displayFormat' for a CustomField of type AutoNumber")
    has_master = any(f.type == "MasterDetail" for f in spec.fields)
    if has_master and spec.sharing_model != "ControlledByParent":
        comp.fail(
            f"Cannot set sharingModel to {spec.sharing_model} on a CustomObject with a "
            "MasterDetail relationship field"
        )
    if not has_master and spec.sharing_model == "ControlledByParent":
        comp.fail(
            "Cannot set sharingModel to ControlledByParent on a CustomObject without a "
            "MasterDetail relationship field"
        )


def _check_field(comp: Component, org) -> None:
    spec: FieldSpec = comp.spec  # type: ignore[assignment]
    kind = spec.type
    if not is_custom_name(spec.full_name):
        comp.fail(
            f"The Salesforce stand-in deploys only custom fields (ending in __c); "
            f"'{spec.full_name}' is not one"
        )
        return
    if not _CUSTOM_NAME.match(spec.full_name) or len(spec.full_name) > 43:
        comp.fail(
            f"Invalid fullName '{spec.full_name}': a field name must begin with a letter, use "
            "only letters, digits and single underscores, and end in __c"
        )
    if not spec.label:
        comp.fail("Must specify a non-empty label for the CustomField")
    if not kind:
        comp.fail("Must specify a type for the CustomField")
        return
    if _present(comp, "formula"):
        comp.fail("The Salesforce stand-in does not support formula fields")
        return
    if kind not in SUPPORTED_FIELD_TYPES:
        comp.fail(f"The Salesforce stand-in does not support fields of type {kind}")
        return
    for element, kinds in _ONLY_FOR.items():
        if kind not in kinds and _present(comp, element):
            comp.fail(f"Can not specify '{element}' for a CustomField of type {kind}")
    _check_field_type_rules(comp, spec)
    if spec.external_id and kind not in _EXTERNAL_ID_TYPES:
        comp.fail(f"Can not specify 'externalId' for a CustomField of type {kind}")
    if spec.unique and kind not in _UNIQUE_TYPES:
        comp.fail(f"Can not specify 'unique' for a CustomField of type {kind}")
    existing = org.get_field(spec.object_name, spec.full_name)
    if existing is not None and existing.type != kind:
        if (existing.type, kind) not in _SAFE_TYPE_CHANGES:
            comp.fail(
                f"Cannot change the type of field {comp.full_name} from {existing.type} to "
                f"{kind}: existing values cannot be converted"
            )
    elif existing is not None and existing.reference_to != spec.reference_to:
        comp.fail(f"Cannot change the referenceTo of relationship field {comp.full_name}")


def _need(comp: Component, kind: str, element: str, value: object) -> bool:
    if value is None or value == "":
        comp.fail(f"Must specify '{element}' for a CustomField of type {kind}")
        return False
    return True


def _check_field_type_rules(comp: Component, spec: FieldSpec) -> None:
    kind = spec.type
    if kind == "Text":
        if _need(comp, kind, "length", spec.length) and not 1 <= spec.length <= 255:  # type: ignore[operator]
            comp.fail("Length must be between 1 and 255")
    elif kind in ("Number", "Currency", "Percent"):
        if _need(comp, kind, "precision", spec.precision) and not 1 <= spec.precision <= 18:  # type: ignore[operator]
            comp.fail("Precision must be between 1 and 18")
        if (
            _need(comp, kind, "scale", spec.scale)
            and spec.precision is not None
            and not 0 <= spec.scale <= spec.precision  # type: ignore[operator]
        ):
            comp.fail(f"Scale must be between 0 and the precision ({spec.precision})")
    elif kind == "Checkbox":
        if _need(comp, kind, "defaultValue", spec.default_value) and (
            spec.default_value.lower() not in ("true", "false")  # type: ignore[union-attr]
        ):
            comp.fail("The defaultValue of a Checkbox must be true or false")
        if spec.required:
            comp.fail("Can not specify 'required' for a CustomField of type Checkbox")
    elif kind == "LongTextArea":
        if _need(comp, kind, "length", spec.length) and not 256 <= spec.length <= 131072:  # type: ignore[operator]
            comp.fail("Length must be between 256 and 131072")
        if _need(comp, kind, "visibleLines", spec.visible_lines) and spec.visible_lines < 1:  # type: ignore[operator]
            comp.fail("visibleLines must be at least 1")
    elif kind == "Picklist":
        _check_picklist(comp, spec)
    elif kind in ("Lookup", "MasterDetail"):
        _need(comp, kind, "referenceTo", spec.reference_to)
        if _need(comp, kind, "relationshipName", spec.relationship_name) and not _DEV_NAME.match(
            spec.relationship_name or ""
        ):
            comp.fail(f"Invalid relationshipName '{spec.relationship_name}'")
        if kind == "Lookup":
            _need(comp, kind, "deleteConstraint", spec.delete_constraint)
            if spec.required and spec.delete_constraint == "SetNull":
                comp.fail("A required Lookup field cannot have deleteConstraint SetNull")
    elif kind == "AutoNumber":
        _need(comp, kind, "displayFormat", spec.display_format)


def _check_picklist(comp: Component, spec: FieldSpec) -> None:
    value_set = comp.node.find(f"{_NS}valueSet") if comp.node is not None else None
    if value_set is not None and value_set.find(f"{_NS}valueSetName") is not None:
        comp.fail("The Salesforce stand-in does not support global value sets (valueSetName)")
        return
    if not spec.picklist_values:
        comp.fail(
            "Must specify 'valueSet' with at least one value for a CustomField of type Picklist"
        )
        return
    seen: set[str] = set()
    for value in spec.picklist_values:
        if not value:
            comp.fail("Picklist value: fullName is required")
        elif value.lower() in seen:
            comp.fail(f"Duplicate picklist value: {value}")
        seen.add(value.lower())


def _check_list_view(comp: Component) -> None:
    if comp.standard_parent:
        comp.fail("The Salesforce stand-in does not deploy list views of standard objects")
        return
    spec = comp.spec
    if not _DEV_NAME.match(spec.full_name):  # type: ignore[attr-defined]
        comp.fail(f"Invalid fullName '{spec.full_name}' for a ListView")  # type: ignore[attr-defined]
    if not spec.label:  # type: ignore[attr-defined]
        comp.fail("Must specify a non-empty label for the ListView")
    if not spec.filter_scope:  # type: ignore[attr-defined]
        comp.fail("Must specify 'filterScope' for the ListView")


def _check_tab(comp: Component) -> None:
    spec: TabSpec = comp.spec  # type: ignore[assignment]
    root = comp.node
    if root is None:
        return
    custom_object = (root.findtext(f"{_NS}customObject") or "").strip().lower() == "true"
    if not custom_object:
        comp.fail(
            "The Salesforce stand-in supports only custom object tabs (customObject true); "
            "web, Visualforce and Lightning tabs are not supported"
        )
        return
    for child in root:
        if isinstance(child.tag, str) and _local(child.tag) not in _OBJECT_TAB_ELEMENTS:
            comp.fail(
                f"Can not specify '{_local(child.tag)}' for a CustomTab of a custom object: "
                "it holds only customObject, motif and description",
                child.sourceline,
            )
    if not spec.motif:
        comp.fail("Must specify 'motif' for a CustomTab of a custom object")
    if not is_custom_name(spec.name):
        comp.fail(f"A custom object tab must be named for a custom object, not '{spec.name}'")


_OBJECT_PERMISSION_DEPENDS = (
    # (index in the tuple, label, [(index, label) it depends on])
    (1, "Create", [(2, "Read")]),
    (3, "Edit", [(2, "Read")]),
    (4, "Delete", [(2, "Read"), (3, "Edit")]),
    (5, "View All", [(2, "Read")]),
    (6, "Modify All", [(2, "Read"), (3, "Edit"), (4, "Delete"), (5, "View All")]),
)


def _check_permission_set(comp: Component) -> None:
    spec: PermissionSetSpec = comp.spec  # type: ignore[assignment]
    if not _DEV_NAME.match(spec.name) or len(spec.name) > 80:
        comp.fail(f"Invalid fullName '{spec.name}' for a PermissionSet")
    if not spec.label:
        comp.fail("Must specify a non-empty label for the PermissionSet")
    for child in comp.node if comp.node is not None else ():
        if isinstance(child.tag, str) and _local(child.tag) not in _PERMSET_ELEMENTS:
            comp.fail(
                f"The Salesforce stand-in does not support '{_local(child.tag)}' in a "
                "PermissionSet",
                child.sourceline,
            )
    for name, readable, editable in spec.field_permissions:
        if editable and not readable:
            comp.fail(f"Field permission for {name}: editable requires readable")
    for perm in spec.object_permissions:
        for index, label, depends in _OBJECT_PERMISSION_DEPENDS:
            missing = [dep for i, dep in depends if perm[index] and not perm[i]]
            if missing:
                comp.fail(
                    f"Permission {label} on {perm[0]} depends on permission(s): "
                    + ", ".join(missing)
                )
    for tab, visibility in spec.tab_settings:
        if visibility not in ("Visible", "Available", "None"):
            comp.fail(f"Invalid tab visibility '{visibility}' for {tab}")
