"""Metadata files (mdapi format) read into components: the spec plus what is wrong with it.

One ``objects/X.object`` file yields the CustomObject and one component per field and list
view, because Salesforce reports (and applies, when rollbackOnError is false) each separately.
Parsing never raises on bad input: problems are collected with the component they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ..components import FieldSpec, ListViewSpec, ObjectSpec, PermissionSetSpec, TabSpec
from .schema import MD_NS, metadata_schema

__all__ = [
    "Component",
    "Problem",
    "is_custom_name",
    "parse_object_file",
    "parse_permission_set_file",
    "parse_tab_file",
]

_NS = f"{{{MD_NS}}}"


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None = None


@dataclass
class Component:
    type: str  # CustomObject | CustomField | ListView | CustomTab | PermissionSet
    full_name: str  # "Sub__c", "Sub__c.Plan__c", "Sub__c.Open", "Billing_Sync_Admin"
    file_name: str
    spec: object = None
    node: etree._Element | None = None
    line: int | None = None
    problems: list[Problem] = field(default_factory=list)
    standard_parent: bool = False  # a field on a standard object such as Account

    def fail(self, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(message, line if line is not None else self.line))

    @property
    def object_name(self) -> str:
        return self.full_name.split(".", 1)[0]


def is_custom_name(name: str) -> bool:
    return name.endswith("__c")


def _parser() -> etree.XMLParser:
    # Never fetch or expand anything a deploy zip points at.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _load(data: bytes, root_type: str, comp: Component) -> etree._Element | None:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        comp.fail(f"Error parsing file: {exc.msg}", exc.lineno)
        return None
    if root.tag != f"{_NS}{root_type}":
        comp.fail(
            f"Error parsing file: Element {root.tag} invalid at this location; "
            f"expected {{{MD_NS}}}{root_type}",
            root.sourceline,
        )
        return None
    comp.node = root
    comp.line = root.sourceline
    return root


def _text(node: etree._Element, name: str) -> str | None:
    child = node.find(f"{_NS}{name}")
    if child is None:
        return None
    return (child.text or "").strip()


def _bool(node: etree._Element, name: str, default: bool = False) -> bool:
    value = _text(node, name)
    if value is None:
        return default
    return value.lower() in ("true", "1")


def _int(node: etree._Element, name: str) -> int | None:
    value = _text(node, name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # the schema check reports it


def _children(node: etree._Element, name: str) -> list[etree._Element]:
    return node.findall(f"{_NS}{name}")


def _schema_problems(comp: Component, node: etree._Element, type_name: str, skip=()) -> None:
    for message, line in metadata_schema().check(node, type_name, frozenset(skip)):
        comp.fail(message, line)


def field_spec(object_name: str, node: etree._Element) -> FieldSpec:
    values: tuple[str, ...] = ()
    restricted = False
    value_set = node.find(f"{_NS}valueSet")
    if value_set is not None:
        restricted = _bool(value_set, "restricted")
        definition = value_set.find(f"{_NS}valueSetDefinition")
        if definition is not None:
            values = tuple(_text(v, "fullName") or "" for v in _children(definition, "value"))
    return FieldSpec(
        object_name=object_name,
        full_name=_text(node, "fullName") or "",
        type=_text(node, "type") or "",
        label=_text(node, "label") or "",
        length=_int(node, "length"),
        precision=_int(node, "precision"),
        scale=_int(node, "scale"),
        required=_bool(node, "required"),
        unique=_bool(node, "unique"),
        external_id=_bool(node, "externalId"),
        case_sensitive=_bool(node, "caseSensitive"),
        picklist_values=values,
        restricted=restricted,
        reference_to=_text(node, "referenceTo"),
        relationship_name=_text(node, "relationshipName"),
        delete_constraint=_text(node, "deleteConstraint"),
        default_value=_text(node, "defaultValue"),
        visible_lines=_int(node, "visibleLines"),
        display_format=_text(node, "displayFormat"),
        description=_text(node, "description") or "",
    )


def _name_field(object_name: str, node: etree._Element | None) -> FieldSpec:
    if node is None:
        return FieldSpec(object_name=object_name, full_name="Name", type="")
    kind = _text(node, "type") or ""
    return FieldSpec(
        object_name=object_name,
        full_name="Name",
        type=kind,
        label=_text(node, "label") or "",
        # A Text record name is always 80 characters in Salesforce.
        length=80 if kind == "Text" else None,
        display_format=_text(node, "displayFormat"),
        description=_text(node, "description") or "",
    )


def _list_view(node: etree._Element) -> ListViewSpec:
    return ListViewSpec(
        full_name=_text(node, "fullName") or "",
        label=_text(node, "label") or "",
        columns=tuple((c.text or "").strip() for c in _children(node, "columns")),
        filter_scope=_text(node, "filterScope") or "",
        filters=tuple(
            (_text(f, "field") or "", _text(f, "operation") or "", _text(f, "value") or "")
            for f in _children(node, "filters")
        ),
    )


def parse_object_file(
    object_name: str, file_name: str, data: bytes
) -> tuple[Component, list[Component], list[Component]]:
    """The object, its field components and its list view components."""
    standard = not is_custom_name(object_name)
    obj = Component("CustomObject", object_name, file_name, standard_parent=standard)
    root = _load(data, "CustomObject", obj)
    if root is None:
        return obj, [], []
    _schema_problems(obj, root, "CustomObject", skip=("fields", "listViews"))

    def members(tag: str, kind: str, make_spec) -> list[Component]:
        """One component per child element (fields, list views) of this object file."""
        out = []
        for node in _children(root, tag):
            spec = make_spec(node)
            comp = Component(kind, f"{object_name}.{spec.full_name}", file_name, spec=spec,
                             node=node, line=node.sourceline, standard_parent=standard)
            _schema_problems(comp, node, kind)
            out.append(comp)
        return out

    fields = members("fields", "CustomField", lambda node: field_spec(object_name, node))
    views = members("listViews", "ListView", _list_view)
    obj.spec = ObjectSpec(
        name=object_name,
        label=_text(root, "label") or "",
        plural_label=_text(root, "pluralLabel") or "",
        name_field=_name_field(object_name, root.find(f"{_NS}nameField")),
        sharing_model=_text(root, "sharingModel") or "ReadWrite",
        description=_text(root, "description") or "",
        fields=tuple(c.spec for c in fields),  # type: ignore[misc]
        list_views=tuple(c.spec for c in views),  # type: ignore[misc]
    )
    return obj, fields, views


def parse_tab_file(name: str, file_name: str, data: bytes) -> Component:
    comp = Component("CustomTab", name, file_name)
    root = _load(data, "CustomTab", comp)
    if root is None:
        return comp
    _schema_problems(comp, root, "CustomTab")
    comp.spec = TabSpec(
        name=name, motif=_text(root, "motif") or "", description=_text(root, "description") or ""
    )
    return comp


def parse_permission_set_file(name: str, file_name: str, data: bytes) -> Component:
    comp = Component("PermissionSet", name, file_name)
    root = _load(data, "PermissionSet", comp)
    if root is None:
        return comp
    _schema_problems(comp, root, "PermissionSet")
    comp.spec = PermissionSetSpec(
        name=name,
        label=_text(root, "label") or "",
        field_permissions=tuple(
            (_text(n, "field") or "", _bool(n, "readable"), _bool(n, "editable"))
            for n in _children(root, "fieldPermissions")
        ),
        object_permissions=tuple(
            (
                _text(n, "object") or "",
                _bool(n, "allowCreate"),
                _bool(n, "allowRead"),
                _bool(n, "allowEdit"),
                _bool(n, "allowDelete"),
                _bool(n, "viewAllRecords"),
                _bool(n, "modifyAllRecords"),
            )
            for n in _children(root, "objectPermissions")
        ),
        tab_settings=tuple(
            (_text(n, "tab") or "", _text(n, "visibility") or "")
            for n in _children(root, "tabSettings")
        ),
        description=_text(root, "description") or "",
    )
    return comp
