"""The DX source-format project written by `deploy --out`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from metadata import schema
from metadata.package import PackageSpec, mdapi_files
from metadata.source_format import PACKAGE_DIR, write_source

NS = {"md": "http://soap.sforce.com/2006/04/metadata"}


def test_project_layout_matches_what_sf_project_deploy_expects(tmp_path):
    written = write_source(PackageSpec.current("66.0"), tmp_path)
    relative = {p.relative_to(tmp_path).as_posix() for p in written}
    base = PACKAGE_DIR
    assert f"{base}/objects/Sync_Error__c/Sync_Error__c.object-meta.xml" in relative
    assert f"{base}/objects/Subscription__c/fields/MRR__c.field-meta.xml" in relative
    assert f"{base}/objects/Account/fields/Stripe_Customer_Id__c.field-meta.xml" in relative
    assert f"{base}/objects/Sync_Error__c/listViews/Open_sync_errors.listView-meta.xml" in relative
    assert f"{base}/tabs/Sync_Error__c.tab-meta.xml" in relative
    assert f"{base}/permissionsets/Billing_Sync_Admin.permissionset-meta.xml" in relative
    # Account is a standard object: its fields only, never an object file.
    assert not (tmp_path / base / "objects/Account/Account.object-meta.xml").exists()
    project = json.loads((tmp_path / "sfdx-project.json").read_text())
    assert project["sourceApiVersion"] == "66.0"
    assert project["packageDirectories"] == [{"path": "force-app", "default": True}]


def test_every_field_we_own_has_exactly_one_field_file(tmp_path):
    write_source(PackageSpec.current(), tmp_path)
    for obj in schema.owned_object_names():
        folder = tmp_path / PACKAGE_DIR / "objects" / obj / "fields"
        files = sorted(p.name for p in folder.iterdir())
        assert files == sorted(f"{f.name}.field-meta.xml" for f in schema.owned_fields(obj))


def _elements(node: ET.Element) -> list[tuple[str, str]]:
    return [(c.tag, (c.text or "").strip()) for c in node.iter()][1:]


def test_source_and_mdapi_formats_say_the_same_thing(tmp_path):
    # A field in its own file must equal the same field inline in the mdapi object file.
    write_source(PackageSpec.current(), tmp_path)
    mdapi = ET.fromstring(mdapi_files(PackageSpec.current())["objects/Subscription__c.object"])
    inline = {
        node.findtext("md:fullName", namespaces=NS): _elements(node)
        for node in mdapi.findall("md:fields", NS)
    }
    folder = tmp_path / PACKAGE_DIR / "objects/Subscription__c/fields"
    for path in folder.iterdir():
        root = ET.fromstring(path.read_bytes())
        assert root.tag == f"{{{NS['md']}}}CustomField"
        name = root.findtext("md:fullName", namespaces=NS)
        assert _elements(root) == inline[name]
    obj_meta = ET.fromstring(
        (tmp_path / PACKAGE_DIR / "objects/Subscription__c/Subscription__c.object-meta.xml")
        .read_bytes()
    )
    assert obj_meta.find("md:fields", NS) is None
    assert obj_meta.findtext("md:nameField/md:type", namespaces=NS) == "Text"


def test_existing_project_file_is_kept_and_other_files_untouched(tmp_path):
    (tmp_path / "sfdx-project.json").write_text('{"name": "their-project"}')
    (tmp_path / "README.md").write_text("theirs")
    write_source(PackageSpec.current(), tmp_path)
    assert json.loads((tmp_path / "sfdx-project.json").read_text()) == {"name": "their-project"}
    assert (tmp_path / "README.md").read_text() == "theirs"
    # A second write is idempotent.
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    write_source(PackageSpec.current(), tmp_path)
    assert before == {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
