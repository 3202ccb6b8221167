"""The Salesforce data model billing-sync owns: the single source of API names and types.

API names and types are fixed once deployed (renaming or retyping a field loses data in
every org that has it); labels, help texts and descriptions may be polished here.
Everything that needs a Salesforce name (the sync engine, the templates, the deploy checks)
reads it from this module, so a rename happens in one place.

Bump ``SCHEMA_VERSION`` whenever the rendered package changes: the deployed marker (the
description of ``Sync_Error__c``, see ``VERSION_MARKER_OBJECT``) is how the daemon decides
whether to deploy on start.
"""

from __future__ import annotations

import re

from metadata.billing_systems import BILLING_SYSTEMS
from metadata.components import (
    CustomObject,
    Field,
    FieldPermission,
    ListView,
    ObjectPermission,
    PermissionSet,
    Tab,
    _account_lookup,
    _checkbox,
    _currency,
    _date,
    _datetime,
    _external_id,
    _number,
    _picklist,
    _text,
)
from metadata.picklists import (
    ACCOUNT_BILLING_STATUSES,
    BILLING_SYSTEM_VALUES,
    SUBSCRIPTION_STATUSES,
    SYNC_ERROR_CATEGORIES,
    SYNC_ERROR_SEVERITIES,
    SYNC_ERROR_STATUSES,
    Category,
    ErrorStatus,
)

__all__ = [
    "ACCOUNT_FIELDS",
    "DEFAULT_API_VERSION",
    "OBJECTS",
    "PERMISSION_SETS",
    "SCHEMA_VERSION",
    "SUBSCRIPTION",
    "SYNC_ERROR",
    "TABS",
    "VERSION_MARKER_OBJECT",
    "Category",
    "CustomObject",
    "ErrorStatus",
    "Field",
    "FieldPermission",
    "ListView",
    "ObjectPermission",
    "PermissionSet",
    "Tab",
    "field_type",
    "owned_fields",
    "owned_object_names",
    "parse_version_marker",
    "version_marker",
]

# v1: Stripe. v2: Chargebee and Recurly beside it (an Account match field and a subscription
# external ID per provider, Billing_System__c, the neutral Billing_Customer_Id__c, the
# provider's own MRR); v1 orgs upgrade in place, nothing renamed or retyped.
SCHEMA_VERSION = "2"

# The Salesforce API version spoken when nobody says otherwise: Spring '26, offered by every
# org on a supported release. Settings, the package manifest and the stand-ins' tests use it.
DEFAULT_API_VERSION = "66.0"


# The marker lives in the description of Sync_Error__c: it is deployed in the same
# transaction as everything else (so it can never claim a version that did not land), and one
# readMetadata call (`sf.mdapi.CustomObject.read`) returns it. Describe results do not carry
# object descriptions, and a marker in a label or help text would show in the UI.
VERSION_MARKER_OBJECT = "Sync_Error__c"
_MARKER_RE = re.compile(r"billing-sync schema v([0-9A-Za-z.\-]+)")


def version_marker(version: str = SCHEMA_VERSION) -> str:
    return f"billing-sync schema v{version}"


def parse_version_marker(description: str | None) -> str | None:
    """The schema version a deployed description carries, or None when there is none."""
    if not description:
        return None
    match = _MARKER_RE.search(description)
    return match.group(1) if match else None


ACCOUNT_FIELDS: tuple[Field, ...] = (
    *(
        _external_id(
            system.account_field,
            system.account_field_label,
            case_sensitive=system.case_sensitive,
            help_text=f"The {system.label} customer ({system.id_example}) this Account is "
            "billed as. billing-sync matches on this value; it is unique"
            f"{' and case-sensitive' if system.case_sensitive else ', whatever the case'}.",
        )
        for system in BILLING_SYSTEMS
    ),
    _picklist(
        "Billing_Status__c",
        "Billing Status",
        ACCOUNT_BILLING_STATUSES,
        help_text="Rolled up from the customer's billing subscriptions by billing-sync.",
    ),
    _text(
        "Billing_Plan__c",
        "Billing Plan",
        help_text="Plan names of the live subscriptions, most valuable first.",
    ),
    _currency(
        "MRR__c",
        "MRR",
        help_text="Monthly recurring revenue in Billing Currency (active and past due "
        "subscriptions, forever discounts applied, taxes excluded).",
    ),
    _text("Billing_Currency__c", "Billing Currency", length=3, help_text="ISO code of MRR."),
    _date(
        "Renewal_Date__c",
        "Renewal Date",
        help_text="Earliest period end of a live subscription that is not set to cancel.",
    ),
    _datetime(
        "Last_Billing_Sync__c",
        "Last Billing Sync",
        help_text="When billing-sync last wrote a billing change to this Account (a cycle that "
        "finds nothing changed writes nothing, this included).",
    ),
)

SUBSCRIPTION = CustomObject(
    name="Subscription__c",
    label="Subscription",
    plural_label="Subscriptions",
    # Salesforce caps a Text name field at 80 characters: the engine truncates plan names.
    name_field=Field(name="Name", type="Text", label="Subscription Name", length=80),
    description="One record per billing subscription (Stripe, Chargebee or Recurly), kept up "
    "to date by billing-sync.",
    fields=(
        _account_lookup("Subscriptions", "Subscriptions"),
        *(
            _external_id(system.subscription_key, system.subscription_key_label)
            for system in BILLING_SYSTEMS
        ),
        _text("Stripe_Customer_Id__c", "Stripe Customer ID"),
        _text(
            "Billing_Customer_Id__c",
            "Billing Customer ID",
            help_text="The billing system's customer id (Chargebee, Recurly; Stripe records "
            "carry it in Stripe Customer ID, and here from their next change on).",
        ),
        _picklist(
            "Billing_System__c",
            "Billing System",
            BILLING_SYSTEM_VALUES,
            help_text="Where this subscription is billed. Blank on records written before "
            "schema v2 (all Stripe) until their next change.",
        ),
        _picklist(
            "Status__c",
            "Status",
            SUBSCRIPTION_STATUSES,
            help_text="The billing system's own subscription status, verbatim.",
        ),
        _text("Plan__c", "Plan"),
        _currency("MRR__c", "MRR", help_text="Monthly recurring revenue in Currency."),
        _currency(
            "Provider_MRR__c",
            "Provider MRR",
            help_text="The MRR the billing system itself reports (Chargebee), beside ours for "
            "comparison; a difference over 1% is recorded as a notice. Blank where the "
            "billing system reports none.",
        ),
        _text("Currency__c", "Currency", length=3),
        _number("Quantity__c", "Quantity"),
        _text("Interval__c", "Billing Interval", length=40, help_text='e.g. "month", "year".'),
        _date("Current_Period_End__c", "Current Period End"),
        _checkbox("Cancel_At_Period_End__c", "Cancel at Period End"),
        _date("Cancel_At__c", "Cancel At"),
        _date("Canceled_At__c", "Canceled At"),
        _date("Ended_At__c", "Ended At"),
        _date("Trial_End__c", "Trial End"),
        _date("Started_At__c", "Started At"),
        _datetime("Last_Synced__c", "Last Synced"),
    ),
    list_views=(
        ListView(
            name="All",
            label="All subscriptions",
            columns=(
                "NAME",
                "Account__c",
                "Status__c",
                "MRR__c",
                "Currency__c",
                "Current_Period_End__c",
            ),
        ),
    ),
)

_SYNC_ERROR_OPEN_COLUMNS = (
    "NAME",
    "Account__c",
    "Category__c",
    "Severity__c",
    "Message__c",
    "Attempts__c",
    "Last_Seen__c",
)

SYNC_ERROR = CustomObject(
    name="Sync_Error__c",
    label="Sync Error",
    plural_label="Sync Errors",
    name_field=Field(
        name="Name", type="AutoNumber", label="Sync Error Number", display_format="SE-{000000}"
    ),
    description=(
        "A billing-sync failure an admin can triage: what failed, why, for which Account. "
        f"{version_marker()}"
    ),
    fields=(
        _account_lookup("Sync_Errors", "Sync Errors"),
        _text("Stripe_Customer_Id__c", "Stripe Customer ID"),
        _text("Billing_Customer_Id__c", "Billing Customer ID"),
        _picklist("Billing_System__c", "Billing System", BILLING_SYSTEM_VALUES),
        _external_id(
            "Fingerprint__c",
            "Fingerprint",
            help_text="Stable hash of what failed and why: the same failure updates one record.",
        ),
        _picklist("Category__c", "Category", SYNC_ERROR_CATEGORIES),
        _picklist(
            "Severity__c",
            "Severity",
            SYNC_ERROR_SEVERITIES,
            default="Error",
            help_text="Notice: worth a look, nothing failed (records were written).",
        ),
        _text("Error_Code__c", "Error Code"),
        Field(
            name="Message__c",
            type="LongTextArea",
            label="Message",
            length=32768,
            visible_lines=5,
        ),
        Field(
            name="Payload__c",
            type="LongTextArea",
            label="Payload",
            length=131072,
            visible_lines=10,
            help_text="The record billing-sync tried to write. Never holds secrets or card data.",
        ),
        _picklist("Status__c", "Status", SYNC_ERROR_STATUSES, default="Open"),
        _number("Attempts__c", "Attempts"),
        _datetime("First_Seen__c", "First Seen"),
        _datetime("Last_Seen__c", "Last Seen"),
        _datetime("Next_Retry__c", "Next Retry"),
        _datetime("Resolved_At__c", "Resolved At"),
        _checkbox(
            "Retry_Requested__c",
            "Retry Requested",
            help_text="Tick to ask billing-sync to retry this record on its next cycle.",
        ),
    ),
    list_views=(
        ListView(
            name="Open_sync_errors",
            label="Open sync errors",
            columns=_SYNC_ERROR_OPEN_COLUMNS,
            filters=(("Status__c", "equals", "Open,Retrying"),),
        ),
        ListView(
            name="All",
            label="All sync errors",
            columns=(*_SYNC_ERROR_OPEN_COLUMNS[:4], "Status__c", "Attempts__c", "Last_Seen__c"),
        ),
    ),
)

OBJECTS: tuple[CustomObject, ...] = (SUBSCRIPTION, SYNC_ERROR)

TABS: tuple[Tab, ...] = (
    Tab("Subscription__c", "Custom40: Credit card", "Billing subscriptions synced by billing-sync"),
    Tab("Sync_Error__c", "Custom19: Wrench", "billing-sync failures to triage"),
)


def owned_object_names() -> tuple[str, ...]:
    return ("Account", *(obj.name for obj in OBJECTS))


def owned_fields(object_name: str) -> tuple[Field, ...]:
    """The custom fields billing-sync owns on ``object_name`` (the Name field excluded)."""
    if object_name == "Account":
        return ACCOUNT_FIELDS
    for obj in OBJECTS:
        if obj.name == object_name:
            return obj.fields
    raise KeyError(f"billing-sync owns no object {object_name!r}")


def field_type(object_name: str, field_name: str) -> str:
    """Metadata type of one of our fields ("Name" of our custom objects included)."""
    if field_name == "Name":
        for obj in OBJECTS:
            if obj.name == object_name:
                return obj.name_field.type
    for candidate in owned_fields(object_name):
        if candidate.name == field_name:
            return candidate.type
    raise KeyError(f"billing-sync owns no field {object_name}.{field_name}")


def _access(obj: str, create: bool, read: bool, edit: bool) -> ObjectPermission:
    return ObjectPermission(obj, allow_create=create, allow_read=read, allow_edit=edit)


def _field_permissions(editable: bool, objects: tuple[str, ...]) -> tuple[FieldPermission, ...]:
    # Required fields must not appear in fieldPermissions (the deploy fails); we declare none
    # required, but the filter keeps the rule true if one ever is.
    return tuple(
        FieldPermission(f"{obj}.{fld.name}", readable=True, editable=editable)
        for obj in objects
        for fld in owned_fields(obj)
        if not fld.required
    )


PERMISSION_SETS: tuple[PermissionSet, ...] = (
    PermissionSet(
        name="Billing_Sync_Integration",
        label="Billing Sync Integration",
        description="For the billing-sync API user: writes Subscriptions, Sync Errors and the "
        "Account billing fields.",
        object_permissions=(
            _access("Account", create=False, read=True, edit=True),
            _access("Subscription__c", create=True, read=True, edit=True),
            _access("Sync_Error__c", create=True, read=True, edit=True),
        ),
        field_permissions=_field_permissions(True, owned_object_names()),
    ),
    PermissionSet(
        name="Billing_Sync_Admin",
        label="Billing Sync Admin",
        description="For admins who triage billing-sync errors: edit Sync Errors, read "
        "Subscriptions and the Account billing fields.",
        object_permissions=(
            _access("Account", create=False, read=True, edit=False),
            _access("Subscription__c", create=False, read=True, edit=False),
            _access("Sync_Error__c", create=False, read=True, edit=True),
        ),
        field_permissions=(
            *_field_permissions(False, ("Account", "Subscription__c")),
            *_field_permissions(True, ("Sync_Error__c",)),
        ),
        tab_settings=(("Subscription__c", "Visible"), ("Sync_Error__c", "Visible")),
    ),
    PermissionSet(
        name="Billing_Sync_Viewer",
        label="Billing Sync Viewer",
        description="For account reps: read-only billing fields and Subscriptions.",
        object_permissions=(
            _access("Account", create=False, read=True, edit=False),
            _access("Subscription__c", create=False, read=True, edit=False),
        ),
        field_permissions=_field_permissions(False, ("Account", "Subscription__c")),
        tab_settings=(("Subscription__c", "Available"),),
    ),
)
