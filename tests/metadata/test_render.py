"""The rendered metadata: golden files, the Metadata WSDL's schema, and what each file says.

Regenerate the golden files after an intended change with ``UPDATE_GOLDEN=1 pytest
tests/metadata/test_render.py`` and review the diff.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import os
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jinja2
import pytest

from metadata import render, schema
from metadata.package import PackageSpec, build_zip, mdapi_files
from metadata.source_format import dx_files

GOLDEN = Path(__file__).parent / "golden"
NS = {"md": "http://soap.sforce.com/2006/04/metadata"}


def _compare_with_golden(kind: str, files: dict[str, str]) -> None:
    root = GOLDEN / kind
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(root, ignore_errors=True)
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return
    expected = {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in root.rglob("*")
        if p.is_file()
    }
    assert sorted(files) == sorted(expected), "file list differs from golden/" + kind
    for relative, text in files.items():
        if text != expected[relative]:
            diff = "".join(difflib.unified_diff(
                expected[relative].splitlines(True), text.splitlines(True),
                f"golden/{kind}/{relative}", "rendered",
            ))
            pytest.fail(f"{relative} differs (UPDATE_GOLDEN=1 if intended):\n{diff}")


def test_mdapi_files_match_golden():
    _compare_with_golden("mdapi", mdapi_files(PackageSpec.current()))


def test_dx_files_match_golden():
    _compare_with_golden("dx", dx_files(PackageSpec.current()))


@pytest.mark.parametrize(
    "kind, path",
    [("mdapi", p) for p in mdapi_files(PackageSpec.current())]
    + [("dx", p) for p in dx_files(PackageSpec.current()) if p.endswith(".xml")],
)
def test_every_file_validates_against_the_metadata_wsdl(metadata_xsd, kind, path):
    files = mdapi_files(PackageSpec.current()) if kind == "mdapi" else dx_files(
        PackageSpec.current()
    )
    errors = list(metadata_xsd.iter_errors(files[path]))
    assert not errors, f"{path}: {errors[0]}"


def test_schema_validation_catches_misordered_and_unknown_elements(metadata_xsd):
    # Proves the check above can fail: the WSDL fixes element order and names.
    tab = render.render_tab(schema.TABS[0])
    misordered = tab.replace(
        "<customObject>true</customObject>", ""
    ).replace("</CustomTab>", "<customObject>true</customObject></CustomTab>")
    assert list(metadata_xsd.iter_errors(misordered))
    unknown = tab.replace("<motif>", "<colour>red</colour><motif>")
    assert list(metadata_xsd.iter_errors(unknown))


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def _field(obj_root: ET.Element, name: str) -> ET.Element:
    for node in obj_root.findall("md:fields", NS):
        if node.findtext("md:fullName", namespaces=NS) == name:
            return node
    raise AssertionError(f"no field {name}")


def test_match_keys_are_unique_external_ids_case_sensitive_but_recurly_codes():
    files = mdapi_files(PackageSpec.current())
    for path, name, case in [
        ("objects/Account.object", "Stripe_Customer_Id__c", "true"),
        ("objects/Account.object", "Chargebee_Customer_Id__c", "true"),
        # Recurly account codes are unique on a site whatever their case.
        ("objects/Account.object", "Recurly_Account_Code__c", "false"),
        ("objects/Subscription__c.object", "Stripe_Subscription_Id__c", "true"),
        ("objects/Subscription__c.object", "Chargebee_Subscription_Id__c", "true"),
        ("objects/Subscription__c.object", "Recurly_Subscription_Id__c", "true"),
        ("objects/Sync_Error__c.object", "Fingerprint__c", "true"),
    ]:
        node = _field(_parse(files[path]), name)
        assert node.findtext("md:type", namespaces=NS) == "Text"
        assert node.findtext("md:length", namespaces=NS) == "255"
        assert node.findtext("md:externalId", namespaces=NS) == "true"
        assert node.findtext("md:unique", namespaces=NS) == "true"
        assert node.findtext("md:caseSensitive", namespaces=NS) == case, name


def test_subscription_status_is_a_restricted_picklist_of_every_providers_statuses():
    root = _parse(mdapi_files(PackageSpec.current())["objects/Subscription__c.object"])
    status = _field(root, "Status__c")
    assert status.findtext("md:valueSet/md:restricted", namespaces=NS) == "true"
    values = [
        (v.findtext("md:fullName", namespaces=NS), v.findtext("md:label", namespaces=NS))
        for v in status.findall("md:valueSet/md:valueSetDefinition/md:value", NS)
    ]
    assert [v for v, _ in values] == [
        "incomplete", "incomplete_expired", "trialing", "active",
        "past_due", "canceled", "unpaid", "paused",
        "future", "in_trial", "non_renewing", "cancelled", "transferred", "expired", "failed",
    ]
    assert ("past_due", "Past Due") in values and ("non_renewing", "Non Renewing") in values
    lookup = _field(root, "Account__c")
    assert lookup.findtext("md:referenceTo", namespaces=NS) == "Account"
    assert lookup.findtext("md:deleteConstraint", namespaces=NS) == "SetNull"
    assert root.findtext("md:nameField/md:type", namespaces=NS) == "Text"


def test_sync_error_object_name_list_views_and_version_marker():
    root = _parse(mdapi_files(PackageSpec.current())["objects/Sync_Error__c.object"])
    assert root.findtext("md:nameField/md:type", namespaces=NS) == "AutoNumber"
    assert root.findtext("md:nameField/md:displayFormat", namespaces=NS) == "SE-{000000}"
    assert root.findtext("md:deploymentStatus", namespaces=NS) == "Deployed"
    assert schema.parse_version_marker(root.findtext("md:description", namespaces=NS)) == (
        schema.SCHEMA_VERSION
    )
    views = {v.findtext("md:label", namespaces=NS): v for v in root.findall("md:listViews", NS)}
    assert set(views) == {"Open sync errors", "All sync errors"}
    open_view = views["Open sync errors"]
    assert [c.text for c in open_view.findall("md:columns", NS)] == [
        "NAME", "Account__c", "Category__c", "Severity__c", "Message__c", "Attempts__c",
        "Last_Seen__c",
    ]
    filters = [
        tuple(f.findtext(f"md:{k}", namespaces=NS) for k in ("field", "operation", "value"))
        for f in open_view.findall("md:filters", NS)
    ]
    assert filters == [("Status__c", "equals", "Open,Retrying")]
    message = _field(root, "Message__c")
    assert message.findtext("md:length", namespaces=NS) == "32768"
    assert message.findtext("md:visibleLines", namespaces=NS) == "5"
    retry = _field(root, "Retry_Requested__c")
    assert retry.findtext("md:defaultValue", namespaces=NS) == "false"


def test_account_file_holds_only_our_custom_fields():
    root = _parse(mdapi_files(PackageSpec.current())["objects/Account.object"])
    assert {child.tag.split("}")[1] for child in root} == {"fields"}
    names = [f.findtext("md:fullName", namespaces=NS) for f in root.findall("md:fields", NS)]
    assert names == [f.name for f in schema.ACCOUNT_FIELDS]
    mrr = _field(root, "MRR__c")
    assert (mrr.findtext("md:precision", namespaces=NS), mrr.findtext("md:scale", namespaces=NS)) \
        == ("16", "2")


def test_tabs_hold_only_custom_object_description_and_motif():
    for tab in schema.TABS:
        root = _parse(render.render_tab(tab))
        assert {c.tag.split("}")[1] for c in root} <= {"customObject", "description", "motif"}


def _permissions(name: str) -> tuple[dict[str, tuple[str, str]], dict[str, dict[str, str]]]:
    root = _parse(mdapi_files(PackageSpec.current())[f"permissionsets/{name}.permissionset"])
    fields = {
        fp.findtext("md:field", namespaces=NS): (
            fp.findtext("md:readable", namespaces=NS), fp.findtext("md:editable", namespaces=NS)
        )
        for fp in root.findall("md:fieldPermissions", NS)
    }
    objects = {
        op.findtext("md:object", namespaces=NS): {
            c.tag.split("}")[1]: c.text for c in op
        }
        for op in root.findall("md:objectPermissions", NS)
    }
    return fields, objects


def test_integration_permission_set_can_write_every_field_we_own():
    fields, objects = _permissions("Billing_Sync_Integration")
    every = {
        f"{obj}.{f.name}" for obj in schema.owned_object_names() for f in schema.owned_fields(obj)
    }
    assert set(fields) == every
    assert all(v == ("true", "true") for v in fields.values())
    for obj in ("Subscription__c", "Sync_Error__c"):
        assert objects[obj]["allowCreate"] == objects[obj]["allowEdit"] == "true"
    assert objects["Account"]["allowEdit"] == "true"
    assert objects["Account"]["allowCreate"] == "false"  # a typo must never create an Account


def test_admin_edits_sync_errors_and_reads_the_rest():
    fields, objects = _permissions("Billing_Sync_Admin")
    assert fields["Sync_Error__c.Retry_Requested__c"] == ("true", "true")
    assert fields["Subscription__c.MRR__c"] == ("true", "false")
    assert fields["Account.Billing_Status__c"] == ("true", "false")
    assert objects["Sync_Error__c"]["allowEdit"] == "true"
    assert objects["Subscription__c"]["allowEdit"] == "false"


def test_viewer_is_read_only_and_sees_no_sync_errors():
    fields, objects = _permissions("Billing_Sync_Viewer")
    assert fields and all(editable == "false" for _, editable in fields.values())
    assert not any(f.startswith("Sync_Error__c.") for f in fields)
    assert all(o["allowEdit"] == o["allowCreate"] == "false" for o in objects.values())


def test_package_xml_lists_every_component_with_the_api_version_passed_in():
    spec = PackageSpec.current("61.0")
    root = _parse(mdapi_files(spec)["package.xml"])
    assert root.findtext("md:version", namespaces=NS) == "61.0"
    listed = {
        (t.findtext("md:name", namespaces=NS), m.text)
        for t in root.findall("md:types", NS)
        for m in t.findall("md:members", NS)
    }
    assert listed == set(spec.components())
    assert ("CustomField", "Account.MRR__c") in listed
    assert ("ListView", "Sync_Error__c.Open_sync_errors") in listed
    assert ("CustomObject", "Account") not in listed  # never redeploy Account's own settings


def test_zip_has_package_xml_at_root_and_is_reproducible():
    spec = PackageSpec.current()
    raw = build_zip(spec)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = archive.namelist()
        assert names[0] == "package.xml"
        assert set(names) == set(mdapi_files(spec))
        assert archive.read("objects/Sync_Error__c.object").decode() == mdapi_files(spec)[
            "objects/Sync_Error__c.object"
        ]
    assert build_zip(spec) == raw


def test_values_are_escaped():
    tab = schema.Tab("Sync_Error__c", "Custom19: Wrench", 'Errors & "retries" <daily>')
    root = _parse(render.render_tab(tab))
    assert root.findtext("md:description", namespaces=NS) == 'Errors & "retries" <daily>'


def test_a_missing_value_fails_loudly_instead_of_rendering_empty():
    @dataclasses.dataclass(frozen=True)
    class NoMotif:
        name: str = "Sync_Error__c"
        description: str = ""

    with pytest.raises(jinja2.UndefinedError):
        render.render_tab(NoMotif())  # type: ignore[arg-type]
