"""Shared schema for the Salesforce stand-in tests."""

from __future__ import annotations

from standins.salesforce.components import (
    FieldSpec,
    MetadataChange,
    ObjectSpec,
    PermissionSetSpec,
)

SUB = "Subscription__c"
ERR = "Sync_Error__c"


def billing_change() -> MetadataChange:
    """A trimmed version of the billing-sync package (DESIGN A3) as the Metadata side gives it."""
    account_fields = (
        FieldSpec("Account", "Stripe_Customer_Id__c", "Text", "Stripe Customer Id", length=255,
                  unique=True, external_id=True, case_sensitive=True),
        FieldSpec("Account", "Billing_Status__c", "Picklist", "Billing Status", restricted=True,
                  picklist_values=("Active", "Past Due", "Churned", "No Subscription")),
        FieldSpec("Account", "MRR__c", "Currency", "MRR", precision=16, scale=2),
        FieldSpec("Account", "Renewal_Date__c", "Date", "Renewal Date"),
        FieldSpec("Account", "Last_Billing_Sync__c", "DateTime", "Last Billing Sync"),
    )
    sub = ObjectSpec(
        SUB, "Subscription", "Subscriptions",
        FieldSpec(SUB, "Name", "Text", "Subscription Name", length=80),
        fields=(
            FieldSpec(SUB, "Account__c", "Lookup", "Account", reference_to="Account",
                      relationship_name="Account", delete_constraint="SetNull"),
            FieldSpec(SUB, "Stripe_Subscription_Id__c", "Text", "Stripe Subscription Id",
                      length=255, unique=True, external_id=True, case_sensitive=True),
            FieldSpec(SUB, "Status__c", "Picklist", "Status", restricted=True,
                      picklist_values=("active", "past_due", "canceled", "trialing")),
            FieldSpec(SUB, "MRR__c", "Currency", "MRR", precision=16, scale=2),
            FieldSpec(SUB, "Quantity__c", "Number", "Quantity", precision=18, scale=0),
            FieldSpec(SUB, "Cancel_At_Period_End__c", "Checkbox", "Cancel At Period End",
                      default_value="false"),
            FieldSpec(SUB, "Current_Period_End__c", "Date", "Current Period End"),
            FieldSpec(SUB, "Plan__c", "Text", "Plan", length=255, required=True),
        ),
    )
    err = ObjectSpec(
        ERR, "Sync Error", "Sync Errors",
        FieldSpec(ERR, "Name", "AutoNumber", "Sync Error Number", display_format="SE-{000000}"),
        fields=(
            FieldSpec(ERR, "Fingerprint__c", "Text", "Fingerprint", length=255, unique=True,
                      external_id=True),
            FieldSpec(ERR, "Message__c", "LongTextArea", "Message", length=32768,
                      visible_lines=5),
        ),
    )
    sub_fields = ("Account__c", "Stripe_Subscription_Id__c", "Status__c", "MRR__c",
                  "Quantity__c", "Cancel_At_Period_End__c", "Current_Period_End__c")
    integration = PermissionSetSpec(
        "Billing_Sync_Integration", "Billing Sync Integration",
        field_permissions=(
            *((f"Account.{f.full_name}", True, True) for f in account_fields),
            *((f"{SUB}.{name}", True, True) for name in sub_fields),
            (f"{ERR}.Fingerprint__c", True, True),
            (f"{ERR}.Message__c", True, True),
        ),
        object_permissions=(
            (SUB, True, True, True, True, False, False),
            (ERR, True, True, True, True, False, False),
        ),
    )
    viewer = PermissionSetSpec(
        "Billing_Sync_Viewer", "Billing Sync Viewer",
        field_permissions=(("Account.MRR__c", True, False),),
    )
    return MetadataChange(objects=(sub, err), fields=account_fields,
                          permission_sets=(integration, viewer))


