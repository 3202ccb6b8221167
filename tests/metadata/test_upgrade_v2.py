"""A v1 org (Stripe only, as the last release deployed it) upgraded to schema v2 in place.

``golden_v1/`` is the v1 package exactly as rendered and deployed by the v1 release; the
upgrade must keep every record and value, add the provider fields and widen Status__c
without retyping or renaming anything."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from metadata import schema
from sync.salesforce_io import deploy, deployed_version, needs_deploy

FAST = {"poll_interval": 0.05, "timeout": 60}
V1 = Path(__file__).parent / "golden_v1" / "mdapi"


def _v1_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(V1.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(V1).as_posix())
    return out.getvalue()


V1_SUBSCRIPTION = {
    "Name": "Pro",
    "Stripe_Subscription_Id__c": "sub_1Old",
    "Stripe_Customer_Id__c": "cus_Old1",
    "Status__c": "past_due",
    "Plan__c": "Pro",
    "MRR__c": 49.0,
    "Currency__c": "USD",
    "Quantity__c": 2,
    "Interval__c": "month",
    "Current_Period_End__c": "2026-12-31",
    "Cancel_At_Period_End__c": False,
}
V1_ACCOUNT = {
    "Name": "Old Co",
    "Stripe_Customer_Id__c": "cus_Old1",
    "Billing_Status__c": "Past Due",
    "Billing_Plan__c": "Pro",
    "MRR__c": 49.0,
    "Billing_Currency__c": "USD",
    "Renewal_Date__c": "2026-12-31",
}


def _fields(sf, obj: str, names) -> dict:
    rows = sf.query(f"SELECT {', '.join(names)} FROM {obj}")["records"]
    assert len(rows) == 1
    return {k: v for k, v in rows[0].items() if k != "attributes"}


def test_a_v1_org_upgrades_in_place_with_its_stripe_data_untouched(standin, sf):
    v1 = deploy(sf, zip_bytes=_v1_zip(), username=standin.username, **FAST)
    # Succeeded; its post-deploy check (of v2's fields) is what says the org needs v2.
    assert v1.status == "Succeeded" and not v1.failures
    assert deployed_version(sf) == "1"
    assert needs_deploy(sf)
    account = sf.Account.create(V1_ACCOUNT)["id"]
    sf.Subscription__c.create({**V1_SUBSCRIPTION, "Account__c": account})
    error = {"Fingerprint__c": "f" * 40, "Category__c": "Stripe", "Status__c": "Open",
             "Stripe_Customer_Id__c": "cus_Old1", "Account__c": account}
    sf.Sync_Error__c.create(error)
    before = (
        _fields(sf, "Account", ["Id", *V1_ACCOUNT]),
        _fields(sf, "Subscription__c", ["Id", "Account__c", *V1_SUBSCRIPTION]),
        _fields(sf, "Sync_Error__c", ["Id", *error]),
    )

    result = deploy(sf, username=standin.username, **FAST)

    assert result.ok, (result.problems, result.failures)
    assert deployed_version(sf) == "2" and not needs_deploy(sf)
    outcomes = {(c.type, c.name): c.outcome for c in result.components}
    for name in ("Account.Chargebee_Customer_Id__c", "Account.Recurly_Account_Code__c",
                 "Subscription__c.Chargebee_Subscription_Id__c",
                 "Subscription__c.Recurly_Subscription_Id__c",
                 "Subscription__c.Billing_System__c", "Subscription__c.Provider_MRR__c",
                 "Sync_Error__c.Billing_Customer_Id__c"):
        assert outcomes[("CustomField", name)] == "created", name
    # Nothing v1 deployed is retyped: the Stripe fields come through unchanged.
    assert outcomes[("CustomField", "Subscription__c.Stripe_Subscription_Id__c")] == "unchanged"
    assert outcomes[("CustomField", "Account.Stripe_Customer_Id__c")] == "unchanged"
    after = (
        _fields(sf, "Account", ["Id", *V1_ACCOUNT]),
        _fields(sf, "Subscription__c", ["Id", "Account__c", *V1_SUBSCRIPTION]),
        _fields(sf, "Sync_Error__c", ["Id", *error]),
    )
    assert after == before
    new = _fields(sf, "Subscription__c", ["Billing_System__c", "Billing_Customer_Id__c",
                                          "Chargebee_Subscription_Id__c", "Provider_MRR__c"])
    assert set(new.values()) == {None}
    # The widened Status__c takes the other providers' statuses now.
    sf.Subscription__c.create({"Name": "CB", "Chargebee_Subscription_Id__c": "AzZ1",
                               "Status__c": "non_renewing", "Billing_System__c": "Chargebee"})
    sf.Subscription__c.create({"Name": "RC", "Recurly_Subscription_Id__c": "abc123",
                               "Status__c": "expired", "Billing_System__c": "Recurly"})
    statuses = {v for v, _ in schema.SUBSCRIPTION.field("Status__c").values}
    assert {"non_renewing", "in_trial", "cancelled", "expired", "failed"} <= statuses


def test_recurly_codes_are_unique_whatever_their_case_chargebee_ids_by_case(standin, sf):
    assert deploy(sf, username=standin.username, **FAST).ok
    sf.Account.create({"Name": "A", "Recurly_Account_Code__c": "acme"})
    sf.Account.create({"Name": "B", "Chargebee_Customer_Id__c": "Acme"})
    sf.Account.create({"Name": "C", "Chargebee_Customer_Id__c": "acme"})  # another id
    import pytest
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest, match="DUPLICATE_VALUE"):
        sf.Account.create({"Name": "D", "Recurly_Account_Code__c": "ACME"})
