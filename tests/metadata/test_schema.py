"""The schema module: the names the engine relies on, and the deploy rules it must satisfy."""

from __future__ import annotations

import dataclasses

import pytest

from metadata import schema
from metadata.package import PackageSpec, check_rules
from metadata.schema import FieldPermission, PermissionSet


def test_account_fields_are_the_ones_design_a3_fixes():
    assert {f.name: f.type for f in schema.owned_fields("Account")} == {
        "Stripe_Customer_Id__c": "Text",
        "Chargebee_Customer_Id__c": "Text",
        "Recurly_Account_Code__c": "Text",
        "Billing_Status__c": "Picklist",
        "Billing_Plan__c": "Text",
        "MRR__c": "Currency",
        "Billing_Currency__c": "Text",
        "Renewal_Date__c": "Date",
        "Last_Billing_Sync__c": "DateTime",
    }
    assert schema.ACCOUNT_FIELDS[0].length == 255
    assert schema.field_type("Account", "Billing_Currency__c") == "Text"
    currency = next(f for f in schema.ACCOUNT_FIELDS if f.name == "Billing_Currency__c")
    assert currency.length == 3


def test_subscription_and_sync_error_fields():
    sub = {f.name: f.type for f in schema.owned_fields("Subscription__c")}
    assert sub["Account__c"] == "Lookup"
    assert sub["Cancel_At_Period_End__c"] == "Checkbox"
    assert sub["Current_Period_End__c"] == sub["Trial_End__c"] == "Date"
    assert sub["Last_Synced__c"] == "DateTime"
    assert sub["Billing_System__c"] == "Picklist"
    assert sub["Provider_MRR__c"] == "Currency"
    assert len(sub) == 22
    err = {f.name: f.type for f in schema.owned_fields("Sync_Error__c")}
    assert err["Message__c"] == err["Payload__c"] == "LongTextArea"
    assert schema.SYNC_ERROR.field("Payload__c").length == 131072
    assert err["Retry_Requested__c"] == "Checkbox"
    assert err["Billing_Customer_Id__c"] == "Text"
    assert err["Severity__c"] == "Picklist"
    assert len(err) == 17
    assert schema.field_type("Sync_Error__c", "Name") == "AutoNumber"
    assert schema.field_type("Subscription__c", "Name") == "Text"


def test_picklist_values():
    assert schema.SUBSCRIPTION.field("Status__c").picklist_values == (
        "incomplete", "incomplete_expired", "trialing", "active",
        "past_due", "canceled", "unpaid", "paused",
        # v2: Chargebee's and Recurly's own statuses, each value once
        "future", "in_trial", "non_renewing", "cancelled", "transferred", "expired", "failed",
    )
    assert schema.SUBSCRIPTION.field("Billing_System__c").picklist_values == (
        "Stripe", "Chargebee", "Recurly",
    )
    billing = next(f for f in schema.ACCOUNT_FIELDS if f.name == "Billing_Status__c")
    assert billing.picklist_values == (
        "Active", "Past Due", "Unpaid", "Canceling", "Trialing", "Paused", "Incomplete",
        "Churned", "No Subscription",
    )
    assert schema.SYNC_ERROR.field("Category__c").picklist_values == (
        "Matching", "Stripe", "Chargebee", "Recurly", "Salesforce Write", "Validation", "Limits",
        "Configuration",
    )
    assert schema.SYNC_ERROR.field("Status__c").picklist_values == (
        "Open", "Retrying", "Resolved", "Ignored",
    )


def test_unknown_names_raise():
    with pytest.raises(KeyError):
        schema.owned_fields("Contact")
    with pytest.raises(KeyError):
        schema.field_type("Account", "Name")  # Account.Name is not ours
    with pytest.raises(KeyError):
        schema.SUBSCRIPTION.field("Nope__c")


def test_version_marker_round_trips_and_ignores_other_text():
    assert schema.parse_version_marker(schema.SYNC_ERROR.description) == schema.SCHEMA_VERSION
    assert schema.parse_version_marker("x " + schema.version_marker("12") + " y") == "12"
    assert schema.parse_version_marker("edited by an admin") is None
    assert schema.parse_version_marker(None) is None
    assert PackageSpec.current().with_version("3").objects[1].description.endswith(
        "billing-sync schema v3"
    )


def test_current_package_breaks_no_metadata_rule():
    assert check_rules(PackageSpec.current()) == []


def _with_field(spec: PackageSpec, obj_name: str, field) -> PackageSpec:
    objects = tuple(
        dataclasses.replace(o, fields=(*o.fields, field)) if o.name == obj_name else o
        for o in spec.objects
    )
    return dataclasses.replace(spec, objects=objects)


@pytest.mark.parametrize(
    "field, fragment",
    [
        (schema.Field("Long__c", "Text", "Long", length=300), "Text length must be 1-255"),
        (schema.Field("Big__c", "Currency", "Big", precision=19, scale=2), "precision must be"),
        (schema.Field("Odd__c", "Number", "Odd", precision=4, scale=5), "precision must be"),
        (schema.Field("Flag__c", "Checkbox", "Flag"), "Checkbox needs defaultValue"),
        (schema.Field("Note__c", "LongTextArea", "Note", length=1000), "visibleLines"),
        (schema.Field("Pick__c", "Picklist", "Pick"), "Picklist needs values"),
        (schema.Field("Ref__c", "Lookup", "Ref", reference_to="Account"), "Lookup needs"),
        (schema.Field("When__c", "Date", "When", external_id=True), "unique/external"),
        (schema.Field("NoSuffix", "Text", "x", length=10), "must end in __c"),
    ],
)
def test_rule_breaks_are_caught_before_any_deploy(field, fragment):
    problems = check_rules(_with_field(PackageSpec.current(), "Sync_Error__c", field))
    assert any(fragment in p for p in problems), problems


def test_required_field_in_field_permissions_is_caught():
    required = dataclasses.replace(schema.SYNC_ERROR.field("Error_Code__c"), required=True)
    spec = PackageSpec.current()
    objects = tuple(
        dataclasses.replace(
            o, fields=tuple(required if f.name == "Error_Code__c" else f for f in o.fields)
        )
        if o.name == "Sync_Error__c"
        else o
        for o in spec.objects
    )
    problems = check_rules(dataclasses.replace(spec, objects=objects))
    assert any("Error_Code__c is required" in p for p in problems)


def test_permission_for_a_field_we_do_not_define_is_caught():
    stray = PermissionSet(
        "Stray", "Stray", "", (), (FieldPermission("Account.Nope__c", True, False),)
    )
    spec = dataclasses.replace(
        PackageSpec.current(), permission_sets=(*schema.PERMISSION_SETS, stray)
    )
    assert any("unknown field Account.Nope__c" in p for p in check_rules(spec))
