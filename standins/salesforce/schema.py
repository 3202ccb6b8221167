"""The org's schema: standard objects built in, custom objects and fields as deployed.

Standard fields are described with the same ``FieldSpec`` the Metadata API side uses, so every
rule (length, picklist, lookup, uniqueness) is enforced by one code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .components import FieldSpec, ObjectSpec

__all__ = [
    "SYSTEM_FIELDS",
    "ObjectSchema",
    "relationship_path_name",
    "standard_objects",
]

# Maintained by the org on every write; never writable through the API.
SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)

# Types whose values Salesforce stores as text (length-checked unless noted).
TEXT_TYPES = frozenset(
    {"Text", "TextArea", "LongTextArea", "Picklist", "Email", "Url", "Phone", "AutoNumber"}
)
NUMBER_TYPES = frozenset({"Number", "Currency", "Percent"})
ID_TYPES = frozenset({"Id", "Lookup", "MasterDetail"})
DEFAULT_LENGTHS = {"Email": 80, "Url": 255, "Phone": 40, "TextArea": 255, "AutoNumber": 30}


@dataclass
class ObjectSchema:
    name: str
    label: str
    plural_label: str
    key_prefix: str
    custom: bool
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    # Fields the API may set on create but never change afterwards.
    create_only: frozenset[str] = frozenset()
    # Fields never writable through the API (system fields, AutoNumber, computed).
    read_only: frozenset[str] = frozenset()
    # Object-level operations open to the API user on standard objects (custom objects go by
    # the objectPermissions of the user's permission sets).
    std_access: frozenset[str] = frozenset({"read"})
    spec: ObjectSpec | None = None  # custom objects: the deployed spec
    _lower: dict[str, str] = field(default_factory=dict)
    _relationships: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._lower = {name.lower(): name for name in self.fields}
        self._relationships = {}
        for f in self.fields.values():
            rel = relationship_path_name(f)
            if rel:
                self._relationships[rel.lower()] = f.full_name

    def field_named(self, name: str) -> FieldSpec | None:
        canonical = self._lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    def relationship_field(self, rel_name: str) -> FieldSpec | None:
        canonical = self._relationships.get(rel_name.lower())
        return self.fields[canonical] if canonical else None

    def is_writable(self, name: str, creating: bool) -> bool:
        if name in self.read_only:
            return False
        return creating or name not in self.create_only


def relationship_path_name(f: FieldSpec) -> str | None:
    """How SOQL names the parent through a lookup: Account__r for Account__c, Owner for OwnerId."""
    if f.type not in ("Lookup", "MasterDetail") or not f.relationship_name:
        return None
    if f.full_name.endswith("__c"):
        # The child-to-parent path comes from the field's own name (Account__c → Account__r);
        # relationshipName names the child list on the parent (Account.Subscriptions__r).
        return f.full_name[:-3] + "__r"
    return f.relationship_name


def _f(obj: str, name: str, type_: str, label: str = "", **kw) -> FieldSpec:
    return FieldSpec(object_name=obj, full_name=name, type=type_, label=label or name, **kw)


def system_fields(obj: str) -> list[FieldSpec]:
    return [
        _f(obj, "Id", "Id", "Record ID", length=18),
        _f(obj, "IsDeleted", "Checkbox", "Deleted", default_value="false"),
        _f(obj, "CreatedDate", "DateTime", "Created Date"),
        _f(obj, "CreatedById", "Lookup", "Created By ID", reference_to="User",
           relationship_name="CreatedBy", length=18),
        _f(obj, "LastModifiedDate", "DateTime", "Last Modified Date"),
        _f(obj, "LastModifiedById", "Lookup", "Last Modified By ID", reference_to="User",
           relationship_name="LastModifiedBy", length=18),
        _f(obj, "SystemModstamp", "DateTime", "System Modstamp"),
    ]


def owner_field(obj: str) -> FieldSpec:
    return _f(obj, "OwnerId", "Lookup", "Owner ID", reference_to="User",
              relationship_name="Owner", length=18)


ACCOUNT_TYPES = (
    "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
    "Installation Partner", "Technology Partner", "Other",
)
INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government",
    "Healthcare", "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media",
    "Not For Profit", "Recreation", "Retail", "Shipping", "Technology",
    "Telecommunications", "Transportation", "Utilities", "Other",
)


def _schema(name, label, plural, prefix, fields, **kw) -> ObjectSchema:
    return ObjectSchema(
        name=name, label=label, plural_label=plural, key_prefix=prefix, custom=False,
        fields={f.full_name: f for f in fields}, **kw,
    )


def standard_objects() -> dict[str, ObjectSchema]:
    sys_ro = frozenset(SYSTEM_FIELDS)
    account = _schema(
        "Account", "Account", "Accounts", "001",
        [
            *system_fields("Account")[:2],
            _f("Account", "Name", "Text", "Account Name", length=255, required=True),
            _f("Account", "Type", "Picklist", "Account Type", picklist_values=ACCOUNT_TYPES),
            _f("Account", "Industry", "Picklist", "Industry", picklist_values=INDUSTRIES),
            _f("Account", "Website", "Url", "Website", length=255),
            _f("Account", "Phone", "Phone", "Account Phone", length=40),
            owner_field("Account"),
            *system_fields("Account")[2:],
        ],
        read_only=sys_ro,
        std_access=frozenset({"read", "create", "edit", "delete"}),
    )
    user = _schema(
        "User", "User", "Users", "005",
        [
            system_fields("User")[0],
            _f("User", "Username", "Text", "Username", length=80, required=True, unique=True),
            _f("User", "Name", "Text", "Full Name", length=121),
            _f("User", "Email", "Email", "Email", length=128, required=True),
            _f("User", "IsActive", "Checkbox", "Active", default_value="true"),
            *system_fields("User")[2:],
        ],
        read_only=sys_ro | {"Name"},
    )
    permset = _schema(
        "PermissionSet", "Permission Set", "Permission Sets", "0PS",
        [
            system_fields("PermissionSet")[0],
            _f("PermissionSet", "Name", "Text", "Name", length=80, required=True, unique=True),
            _f("PermissionSet", "Label", "Text", "Label", length=80, required=True),
            *system_fields("PermissionSet")[2:],
        ],
        read_only=sys_ro,
    )
    psa = _schema(
        "PermissionSetAssignment", "Permission Set Assignment", "Permission Set Assignments",
        "0Pa",
        [
            system_fields("PermissionSetAssignment")[0],
            _f("PermissionSetAssignment", "AssigneeId", "Lookup", "Assignee ID",
               reference_to="User", relationship_name="Assignee", required=True, length=18),
            _f("PermissionSetAssignment", "PermissionSetId", "Lookup", "Permission Set ID",
               reference_to="PermissionSet", relationship_name="PermissionSet", required=True,
               length=18, delete_constraint="Cascade"),
            system_fields("PermissionSetAssignment")[-1],
        ],
        read_only=sys_ro,
        create_only=frozenset({"AssigneeId", "PermissionSetId"}),
        std_access=frozenset({"read", "create", "delete"}),
    )
    return {s.name: s for s in (account, user, permset, psa)}


def custom_object_schema(spec: ObjectSpec, key_prefix: str) -> ObjectSchema:
    name = spec.name
    name_field = replace(spec.name_field, object_name=name, full_name="Name")
    if name_field.type == "Text" and name_field.length is None:
        name_field = replace(name_field, length=80)
    fields = [system_fields(name)[0], owner_field(name), name_field, *system_fields(name)[1:]]
    read_only = set(SYSTEM_FIELDS)
    if name_field.type == "AutoNumber":
        read_only.add("Name")
    schema = ObjectSchema(
        name=name, label=spec.label, plural_label=spec.plural_label, key_prefix=key_prefix,
        custom=True, fields={f.full_name: f for f in fields}, read_only=frozenset(read_only),
        spec=spec,
    )
    return schema


def add_custom_field(schema: ObjectSchema, spec: FieldSpec) -> None:
    schema.fields[spec.full_name] = spec
    if spec.type == "AutoNumber":
        schema.read_only = schema.read_only | {spec.full_name}
    schema.reindex()
