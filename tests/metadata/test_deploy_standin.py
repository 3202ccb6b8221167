"""Deploying to the Salesforce stand-in with plain simple-salesforce, as `deploy` does."""

from __future__ import annotations

import dataclasses

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from metadata import schema
from metadata.package import PackageSpec, build_zip
from metadata.schema import Field, FieldPermission
from sync.salesforce_io import deploy, deployed_version, needs_deploy

FAST = {"poll_interval": 0.05, "timeout": 60}


def _select_all(sf, obj: str) -> dict:
    names = ", ".join(["Id", *(f.name for f in schema.owned_fields(obj))])
    return sf.query(f"SELECT {names} FROM {obj} LIMIT 5")


def _with_field(spec: PackageSpec, obj_name: str, field: Field, grant: bool) -> PackageSpec:
    objects = tuple(
        dataclasses.replace(o, fields=(*o.fields, field)) if o.name == obj_name else o
        for o in spec.objects
    )
    permission_sets = spec.permission_sets
    if grant:
        permission_sets = tuple(
            dataclasses.replace(
                ps,
                field_permissions=(
                    *ps.field_permissions, FieldPermission(f"{obj_name}.{field.name}", True, True)
                ),
            )
            if ps.name == "Billing_Sync_Integration"
            else ps
            for ps in spec.permission_sets
        )
    return dataclasses.replace(spec, objects=objects, permission_sets=permission_sets)


def test_first_deploy_creates_everything_and_every_field_is_usable(standin, sf):
    assert needs_deploy(sf)
    assert deployed_version(sf) is None
    lines: list[str] = []
    result = deploy(sf, username=standin.username, progress=lines.append, **FAST)
    assert result.ok, (result.problems, result.failures)
    assert result.permission_set == "assigned"
    assert result.components and {c.outcome for c in result.components} == {"created"}
    kinds = {c.type for c in result.components}
    assert {"CustomObject", "CustomField", "PermissionSet", "CustomTab"} <= kinds
    assert any("InProgress" in line or "Succeeded" in line for line in lines)
    assert not needs_deploy(sf)
    assert deployed_version(sf) == schema.SCHEMA_VERSION

    for obj in schema.owned_object_names():
        assert "records" in _select_all(sf, obj)  # every A3 field exists and is visible
    account_id = sf.Account.create({"Name": "Acme", "Stripe_Customer_Id__c": "cus_A1"})["id"]
    sf.restful(
        "sobjects/Subscription__c/Stripe_Subscription_Id__c/sub_1",
        method="PATCH",
        json={"Name": "Pro", "Account__c": account_id, "Status__c": "past_due",
              "MRR__c": 99.5, "Cancel_At_Period_End__c": False},
    )
    row = sf.query("SELECT Status__c, MRR__c, Account__c FROM Subscription__c")["records"][0]
    assert (row["Status__c"], row["MRR__c"], row["Account__c"]) == ("past_due", 99.5, account_id)
    error = sf.Sync_Error__c.create({"Category__c": "Matching", "Status__c": "Open",
                                     "Fingerprint__c": "abc"})
    name = sf.Sync_Error__c.get(error["id"])["Name"]
    assert name.startswith("SE-") and len(name) == len("SE-000000")


def test_second_deploy_is_a_no_op(standin, sf):
    assert deploy(sf, username=standin.username, **FAST).ok
    sf.Account.create({"Name": "Kept", "MRR__c": 10})
    again = deploy(sf, username=standin.username, **FAST)
    assert again.ok
    assert again.permission_set == "already assigned"
    assert {c.outcome for c in again.components} == {"unchanged"}
    rows = sf.query("SELECT Name, MRR__c FROM Account WHERE Name = 'Kept'")["records"]
    assert rows[0]["MRR__c"] == 10


def test_check_only_validates_and_changes_nothing(standin, sf):
    result = deploy(sf, check_only=True, username=standin.username, **FAST)
    assert result.status == "Succeeded" and result.check_only
    assert result.permission_set == ""
    assert needs_deploy(sf)
    with pytest.raises(SalesforceMalformedRequest):
        sf.query("SELECT Id FROM Subscription__c")


def test_a_later_version_adds_a_field_in_place(standin, sf):
    assert deploy(sf, username=standin.username, **FAST).ok
    sf.Subscription__c.create({"Name": "Basic", "Stripe_Subscription_Id__c": "sub_old"})
    v2 = _with_field(
        PackageSpec.current(), "Subscription__c",
        Field("Coupon__c", "Text", "Coupon", length=255), grant=True,
    ).with_version("99")
    assert needs_deploy(sf, version="99")
    result = deploy(sf, spec=v2, username=standin.username, **FAST)
    assert result.ok, (result.problems, result.failures)
    outcomes = {(c.type, c.name): c.outcome for c in result.components}
    assert outcomes[("CustomField", "Subscription__c.Coupon__c")] == "created"
    assert outcomes[("CustomField", "Account.MRR__c")] == "unchanged"
    rows = sf.query("SELECT Name, Coupon__c FROM Subscription__c")["records"]
    assert [(r["Name"], r["Coupon__c"]) for r in rows] == [("Basic", None)]
    assert deployed_version(sf) == "99"


def test_a_broken_package_reports_every_component_failure_and_applies_nothing(standin, sf):
    broken = _with_field(
        PackageSpec.current(), "Sync_Error__c",
        Field("Too_Long__c", "Text", "Too long", length=300), grant=False,
    )
    broken = _with_field(
        broken, "Subscription__c",
        Field("No_Lines__c", "LongTextArea", "No lines", length=1000), grant=False,
    )
    result = deploy(sf, zip_bytes=build_zip(broken), username=standin.username, **FAST)
    assert result.status == "Failed" and not result.ok
    failed = {c.name: c for c in result.failures}
    assert "Sync_Error__c.Too_Long__c" in failed
    assert "Subscription__c.No_Lines__c" in failed
    assert failed["Sync_Error__c.Too_Long__c"].file == "objects/Sync_Error__c.object"
    assert all(c.problem for c in result.failures)
    assert needs_deploy(sf)  # rolled back: not even the sound components landed


def test_preflight_stops_when_an_account_field_exists_with_another_type(standin, sf):
    # Someone else's Account.MRR__c, a Text field, is already in the org (and visible).
    theirs = dataclasses.replace(
        PackageSpec.current(),
        account_fields=tuple(
            Field("MRR__c", "Text", "MRR", length=20) if f.name == "MRR__c" else f
            for f in schema.ACCOUNT_FIELDS
        ),
    )
    assert deploy(sf, zip_bytes=build_zip(theirs), username=standin.username, **FAST).ok
    result = deploy(sf, username=standin.username, **FAST)
    assert result.status == "PreflightFailed"
    assert any("Account.MRR__c already exists as a string" in p for p in result.problems)


def test_deploy_as_json_is_one_object(standin, tmp_path, capsys):
    import json

    from scheduler.cli import main

    env = {"STRIPE_API_KEY": "sk_test_fake_deploy_json",
           "SALESFORCE_LOGIN_URL": standin.login_url,
           "SALESFORCE_CLIENT_ID": standin.client_id,
           "SALESFORCE_CLIENT_SECRET": standin.client_secret,
           "SALESFORCE_CA_BUNDLE": str(standin.ca_file),
           "BILLING_SYNC_DB": str(tmp_path / "state.db")}
    assert main(["deploy", "--json"], environ=env) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["status"] == "Succeeded"
    assert data["permission_set"] in ("assigned", "already assigned")
    assert any(c["name"] == "Sync_Error__c" for c in data["components"])
