"""Describe (``/sobjects``, ``/sobjects/X/describe``): objects and fields as this user sees them."""

from __future__ import annotations

from .components import FieldSpec
from .org import Access
from .schema import ObjectSchema, relationship_path_name

__all__ = ["DescribeMixin"]

_DESCRIBE_TYPES = {
    "Id": "id", "Text": "string", "Picklist": "picklist", "Currency": "currency",
    "Number": "double", "Percent": "percent", "Date": "date", "DateTime": "datetime",
    "Checkbox": "boolean", "LongTextArea": "textarea", "TextArea": "textarea",
    "Lookup": "reference", "MasterDetail": "reference", "AutoNumber": "string",
    "Email": "email", "Url": "url", "Phone": "phone",
}



class DescribeMixin:
    """Part of ``RestApi``: describeGlobal and sObject describe bodies."""

    # ----------------------------------------------------------------- describe
    def _describe_global(self, access: Access, version: str) -> dict:
        sobjects = [
            self._object_summary(s, access, version)
            for s in self.org.schemas()
            if self.org.can(s, access, "read")
        ]
        return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}

    def _object_summary(self, schema: ObjectSchema, access: Access, version: str) -> dict:
        base = f"/services/data/v{version}/sobjects/{schema.name}"
        return {
            "name": schema.name,
            "label": schema.label,
            "labelPlural": schema.plural_label,
            "keyPrefix": schema.key_prefix,
            "custom": schema.custom,
            "createable": self.org.can(schema, access, "create"),
            "updateable": self.org.can(schema, access, "edit"),
            "deletable": self.org.can(schema, access, "delete"),
            "queryable": True,
            "retrieveable": True,
            "searchable": schema.custom or schema.name == "Account",
            "layoutable": schema.custom or schema.name == "Account",
            "urls": {"sobject": base, "describe": f"{base}/describe",
                     "rowTemplate": f"{base}/{{ID}}"},
        }

    def _describe_object(self, schema, access, version, *, full: bool) -> dict:
        out = self._object_summary(schema, access, version)
        if full:
            out["fields"] = [self._describe_field(schema, f, access)
                             for f in self.org.visible_fields(schema, access)]
            out["childRelationships"] = []
            out["recordTypeInfos"] = []
        return out

    def _describe_field(self, schema: ObjectSchema, f: FieldSpec, access: Access) -> dict:
        editable = self.org.field_editable(schema, f, access)
        writable_create = editable and schema.is_writable(f.full_name, True)
        writable_update = editable and schema.is_writable(f.full_name, False)
        dtype = _DESCRIBE_TYPES.get(f.type, f.type.lower())
        length = f.length or 0
        if dtype in ("string", "picklist", "textarea", "email", "url", "phone") and not length:
            length = {"Picklist": 255, "Email": 80, "Phone": 40, "AutoNumber": 30}.get(f.type, 255)
        return {
            "name": f.full_name,
            "label": f.label or f.full_name,
            "type": dtype,
            "length": length if dtype not in ("reference", "id") else 18,
            "precision": f.precision or 0,
            "scale": f.scale or 0,
            "custom": f.full_name.endswith("__c"),
            "nillable": not f.required and f.type != "Checkbox" and f.full_name != "Id",
            "createable": writable_create,
            "updateable": writable_update,
            "unique": f.unique,
            "externalId": f.external_id,
            "caseSensitive": f.case_sensitive,
            "idLookup": f.full_name == "Id" or f.external_id or f.unique,
            "autoNumber": f.type == "AutoNumber",
            "calculated": False,
            "defaultedOnCreate": f.type == "Checkbox" or f.full_name in (
                "Id", "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate",
                "LastModifiedById", "SystemModstamp", "IsDeleted"),
            "filterable": f.type != "LongTextArea",
            "sortable": f.type != "LongTextArea",
            "nameField": f.full_name == "Name",
            "restrictedPicklist": f.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                for v in f.picklist_values
            ],
            "referenceTo": [f.reference_to] if f.reference_to else [],
            "relationshipName": relationship_path_name(f),
            "cascadeDelete": (f.delete_constraint or "") == "Cascade",
            "restrictedDelete": (f.delete_constraint or "") == "Restrict",
            "inlineHelpText": f.description or None,
        }
