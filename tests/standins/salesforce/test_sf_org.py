"""The org behind the stand-in: schema from deploys, FLS from assigned permission sets."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sf_support import ERR, SUB, billing_change

from standins.salesforce.components import FieldSpec, MetadataChange, PermissionSetSpec
from standins.salesforce.org import Org
from standins.salesforce.query import QueryEngine
from standins.salesforce.sferrors import SfError

USER = "integration@billing-sync.example"


def query(org: Org, soql: str, user: str | None = USER) -> dict:
    access = org.access_for(user) if user else None
    return QueryEngine(org).run(soql, access, "66.0")


def test_custom_objects_and_fields_exist_only_after_apply_metadata() -> None:
    org = Org()
    assert not org.object_exists(SUB) and org.get_field("Account", "MRR__c") is None
    org.apply_metadata(billing_change())
    assert org.object_exists(SUB) and org.get_object(SUB).label == "Subscription"
    assert org.get_field("Account", "MRR__c").precision == 16
    assert org.get_field("Account", "Name").required  # standard fields described too
    assert org.get_object("Account") is None  # only custom objects have a deployed spec
    assert org.get_permission_set("Billing_Sync_Integration") is not None
    assert org.schema(SUB).key_prefix == "a0X" and org.schema(ERR).key_prefix == "a0Y"


def test_reapplying_a_change_is_a_no_op_and_keeps_data() -> None:
    org = Org()
    change = billing_change()
    org.apply_metadata(change)
    acc = org.insert("Account", {"Name": "Acme", "Stripe_Customer_Id__c": "cus_1"})
    before = org.get("Account", acc)
    ps_before = org.all("PermissionSet")
    org.apply_metadata(change)
    assert org.get("Account", acc) == before
    assert org.all("PermissionSet") == ps_before
    assert org.schema(SUB).key_prefix == "a0X"


def test_field_added_later_appears_null_on_existing_records() -> None:
    org = Org()
    org.apply_metadata(billing_change())
    acc = org.insert("Account", {"Name": "Acme"})
    org.apply_metadata(MetadataChange(fields=(FieldSpec("Account", "Tier__c", "Text", length=20),)))
    assert org.get("Account", acc)["Tier__c"] is None
    assert query(org, "SELECT Tier__c FROM Account", user=None)["records"][0]["Tier__c"] is None


def test_apply_metadata_is_atomic() -> None:
    org = Org()
    org.apply_metadata(billing_change())
    org.insert("Account", {"Name": "A", "Billing_Status__c": "Active"})
    org.insert("Account", {"Name": "B", "Billing_Status__c": "Active"})
    status = replace(org.get_field("Account", "Billing_Status__c"), unique=True)
    bad = MetadataChange(fields=(FieldSpec("Account", "New__c", "Text", length=5), status))
    with pytest.raises(ValueError, match="duplicate value"):
        org.apply_metadata(bad)
    assert org.get_field("Account", "New__c") is None
    with pytest.raises(ValueError, match="unknown object"):
        org.apply_metadata(MetadataChange(fields=(FieldSpec("Nope__c", "X__c", "Text"),)))


def test_deployed_permission_set_is_a_record_and_grants_nothing_until_assigned() -> None:
    org = Org()
    org.apply_metadata(billing_change())
    names = {r["Name"] for r in org.all("PermissionSet")}
    assert {"Billing_Sync_Integration", "Billing_Sync_Viewer"} <= names
    with pytest.raises(SfError) as info:
        query(org, "SELECT Stripe_Customer_Id__c FROM Account")
    assert info.value.code == "INVALID_FIELD"
    with pytest.raises(SfError) as info:
        query(org, f"SELECT Id FROM {SUB}")
    assert info.value.code == "INVALID_TYPE"
    org.assign_permission_set(USER, "Billing_Sync_Viewer")
    query(org, "SELECT MRR__c FROM Account")  # read granted
    with pytest.raises(SfError):
        query(org, "SELECT Stripe_Customer_Id__c FROM Account")
    org.assign_permission_set(USER, "Billing_Sync_Integration")
    assert query(org, f"SELECT Stripe_Subscription_Id__c, Plan__c FROM {SUB}")["totalSize"] == 0
    rows = query(org, "SELECT PermissionSet.Name, Assignee.Username FROM PermissionSetAssignment")
    assert {r["PermissionSet"]["Name"] for r in rows["records"]} == {
        "Billing_Sync_Viewer", "Billing_Sync_Integration"}


def test_permission_set_without_read_keeps_field_hidden() -> None:
    org = Org()
    org.apply_metadata(billing_change())
    org.apply_metadata(MetadataChange(permission_sets=(PermissionSetSpec(
        "Nothing", "Nothing", field_permissions=(("Account.MRR__c", False, False),)),)))
    org.assign_permission_set(USER, "Nothing")
    with pytest.raises(SfError):
        query(org, "SELECT MRR__c FROM Account")


def test_seeding_and_accessors() -> None:
    org = Org()
    org.apply_metadata(billing_change())
    ids = org.insert_many("Account", [{"Name": f"A{i}"} for i in range(3)])
    assert len(set(ids)) == 3 and all(len(i) == 18 and i.startswith("001") for i in ids)
    assert org.get("Account", ids[0][:15])["Name"] == "A0"
    assert [r["Name"] for r in org.all("Account")] == ["A0", "A1", "A2"]
    err = org.insert(ERR, {"Fingerprint__c": "f1"})
    err2 = org.insert(ERR, {"Fingerprint__c": "f2"})
    assert org.get(ERR, err)["Name"] == "SE-000001" and org.get(ERR, err2)["Name"] == "SE-000002"
    with pytest.raises(ValueError):
        org.insert("Account", {"Nope__c": 1})


def test_tokens_expire() -> None:
    org = Org(token_ttl=0)
    token = org.issue_token(USER)
    assert org.user_for_token(token) is None
    org.token_ttl = 60
    token = org.issue_token(USER)
    assert org.user_for_token(token) == USER
    org.expire_all_tokens()
    assert org.user_for_token(token) is None
