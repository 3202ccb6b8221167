"""The stand-in's Metadata API as simple-salesforce 1.12.10 and its zeep client talk to it.

Requests go through simple-salesforce's own code (``sf.deploy``, ``sf.checkDeployStatus``,
``sf.mdapi``) into ``handle_soap`` via an in-process transport adapter, so these tests exercise
the real client parsing without a socket; ``test_mdapi_e2e.py`` covers the HTTPS server.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from urllib.parse import urlsplit

import pytest
import requests
import zeep.exceptions
from requests.adapters import BaseAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError
from simple_salesforce.messages import CHECK_DEPLOY_STATUS_MSG, DEPLOY_MSG

from standins.salesforce.mdapi import handle_soap
from standins.salesforce.org import Org

VERSION = "66.0"
MD = "http://soap.sforce.com/2006/04/metadata"


# --- building packages -------------------------------------------------------------------


def el(name: str, value: object) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{value}</{name}>"


def field_xml(full_name: str, type_: str, label: str = "", **elements: object) -> str:
    body = {"fullName": full_name, "label": label or full_name.removesuffix("__c"), **elements}
    body["type"] = type_
    inner = "".join(v if k == "_raw" else el(k, v) for k, v in body.items() if v is not None)
    return f"<fields>{inner}</fields>"


PICKLIST_VALUES = (
    "<valueSet><restricted>true</restricted><valueSetDefinition><sorted>false</sorted>"
    "<value><fullName>Open</fullName><default>false</default><label>Open</label></value>"
    "<value><fullName>Paid</fullName><default>false</default><label>Paid</label></value>"
    "</valueSetDefinition></valueSet>"
)

INVOICE_FIELDS = [
    field_xml("Amount__c", "Currency", precision=16, scale=2),
    field_xml(
        "Account__c",
        "Lookup",
        deleteConstraint="SetNull",
        referenceTo="Account",
        relationshipName="Invoices",
    ),
    field_xml("Status__c", "Picklist", _raw=PICKLIST_VALUES),
    field_xml("Paid__c", "Checkbox", defaultValue=False),
    field_xml("Notes__c", "LongTextArea", length=32768, visibleLines=3),
    field_xml(
        "External_Id__c", "Text", length=255, externalId=True, unique=True, caseSensitive=True
    ),
]

LIST_VIEW = (
    "<listViews><fullName>Open_invoices</fullName><columns>NAME</columns>"
    "<columns>Status__c</columns><filterScope>Everything</filterScope>"
    "<filters><field>Status__c</field><operation>equals</operation><value>Open</value>"
    "</filters><label>Open invoices</label></listViews>"
)


def object_xml(
    fields: list[str],
    *,
    description: str = "billing-sync schema v1",
    sharing: str = "ReadWrite",
    extra: str = "",
    list_views: str = LIST_VIEW,
) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<CustomObject xmlns="{MD}">'
        f"<deploymentStatus>Deployed</deploymentStatus>{el('description', description)}"
        + "".join(fields)
        + "<label>Invoice</label>"
        + list_views
        + "<nameField><label>Invoice Name</label><type>Text</type></nameField>"
        f"<pluralLabel>Invoices</pluralLabel><sharingModel>{sharing}</sharingModel>{extra}"
        "</CustomObject>"
    )


def account_xml(fields: list[str]) -> str:
    return f'<CustomObject xmlns="{MD}">' + "".join(fields) + "</CustomObject>"


ACCOUNT_FIELDS = [
    field_xml(
        "Stripe_Customer_Id__c",
        "Text",
        length=255,
        externalId=True,
        unique=True,
        caseSensitive=True,
    ),
    field_xml("MRR__c", "Currency", precision=16, scale=2),
]

TAB = (
    f'<CustomTab xmlns="{MD}"><customObject>true</customObject>'
    "<motif>Custom18: Form</motif></CustomTab>"
)


def permset_xml(
    fields: tuple[tuple[str, bool, bool], ...] = (
        ("Invoice__c.Amount__c", True, True),
        ("Invoice__c.Status__c", True, False),
        ("Account.MRR__c", True, True),
    ),
    objects: str = (
        "<objectPermissions><allowCreate>true</allowCreate><allowDelete>false</allowDelete>"
        "<allowEdit>true</allowEdit><allowRead>true</allowRead>"
        "<modifyAllRecords>false</modifyAllRecords><object>Invoice__c</object>"
        "<viewAllRecords>false</viewAllRecords></objectPermissions>"
    ),
    tabs: str = "<tabSettings><tab>Invoice__c</tab><visibility>Visible</visibility></tabSettings>",
    label: str = "Invoice access",
) -> str:
    perms = "".join(
        "<fieldPermissions>"
        + el("editable", e)
        + el("field", f)
        + el("readable", r)
        + "</fieldPermissions>"
        for f, r, e in fields
    )
    return f'<PermissionSet xmlns="{MD}">{perms}{el("label", label)}{objects}{tabs}</PermissionSet>'


def package_xml(types: dict[str, list[str]], version: str = VERSION) -> str:
    body = "".join(
        "<types>" + "".join(el("members", m) for m in members) + el("name", name) + "</types>"
        for name, members in types.items()
    )
    return f'<Package xmlns="{MD}">{body}{el("version", version)}</Package>'


FULL_TYPES = {
    "CustomObject": ["Invoice__c", "Account"],
    "CustomTab": ["Invoice__c"],
    "PermissionSet": ["Invoice_Access"],
}


def build_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


def full_package(**overrides: str | None) -> dict[str, str]:
    files = {
        "package.xml": package_xml(FULL_TYPES),
        "objects/Invoice__c.object": object_xml(INVOICE_FIELDS),
        "objects/Account.object": account_xml(ACCOUNT_FIELDS),
        "tabs/Invoice__c.tab": TAB,
        "permissionsets/Invoice_Access.permissionset": permset_xml(),
    }
    for name, text in overrides.items():
        path = name.replace("__DOT__", ".")
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text
    return files


# --- an in-process transport for simple-salesforce and zeep ------------------------------


class SoapAdapter(BaseAdapter):
    """Sends requests for /services/Soap/m/{version}[/...] to handle_soap, as the server does."""

    def __init__(self, org: Org) -> None:
        super().__init__()
        self.org = org
        self.calls: list[str] = []

    def send(self, request, **kwargs):  # type: ignore[override]
        path = urlsplit(request.url).path
        match = re.fullmatch(r"/services/Soap/m/([^/]+)(?:/.*)?", path)
        assert match, path
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        self.calls.append(path)
        status, payload = handle_soap(self.org, body, match.group(1))
        response = requests.Response()
        response.status_code = status
        response._content = payload
        response.headers["Content-Type"] = "text/xml;charset=UTF-8"
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def org() -> Org:
    return Org()


def client(org: Org, token: str | None = None) -> Salesforce:
    adapter = SoapAdapter(org)
    session = requests.Session()
    session.mount("https://", adapter)
    sf = Salesforce(
        instance_url="https://stand-in.invalid",
        session_id=token or org.issue_token(),
        session=session,
        version=VERSION,
    )
    # zeep keeps its own requests session: route it the same way.
    sf.mdapi._client.transport.session.mount("https://", adapter)
    return sf


@pytest.fixture
def sf(org: Org) -> Salesforce:
    return client(org)


def deploy(sf: Salesforce, files: dict[str, str], *, sandbox: bool = False, **options):
    """Deploy and poll to the end; returns (states seen while polling, final status)."""
    started = sf.deploy(io.BytesIO(build_zip(files)), sandbox, **options)
    assert started["state"] == "Queued" and started["asyncId"].startswith("0Af")
    states = []
    for _ in range(10):
        status = sf.checkDeployStatus(started["asyncId"])
        states.append(status["state"])
        if status["state"] not in ("Pending", "InProgress"):
            return states, status
    raise AssertionError(f"deploy never finished: {states}")


def errors(status) -> list[tuple[str | None, str | None]]:
    return [(e["file"], e["message"]) for e in status["deployment_detail"]["errors"]]


def raw_check(org: Org, token: str, async_id: str) -> bytes:
    body = CHECK_DEPLOY_STATUS_MSG.format(
        client="test", sessionId=token, asyncProcessId=async_id, includeDetails="true"
    )
    status, payload = handle_soap(org, body.encode(), VERSION)
    assert status == 200
    return payload


# --- deploy ------------------------------------------------------------------------------


def test_deploy_applies_package_after_reporting_in_progress(sf: Salesforce, org: Org) -> None:
    states, status = deploy(sf, full_package())

    assert states == ["InProgress", "Succeeded"]
    detail = status["deployment_detail"]
    assert detail["failed_count"] == "0" and detail["errors"] == []
    # object + 6 fields + list view, Account + 2 fields, tab, permission set
    assert detail["total_count"] == detail["deployed_count"] == "13"
    amount = org.get_field("Invoice__c", "Amount__c")
    assert (amount.type, amount.precision, amount.scale) == ("Currency", 16, 2)
    assert org.get_field("Invoice__c", "Status__c").picklist_values == ("Open", "Paid")
    assert org.get_field("Invoice__c", "Status__c").restricted is True
    assert org.get_field("Account", "Stripe_Customer_Id__c").external_id is True
    invoice = org.get_object("Invoice__c")
    assert invoice.description == "billing-sync schema v1"
    assert invoice.list_views[0].filters == (("Status__c", "equals", "Open"),)
    assert org.get_tab("Invoice__c").motif == "Custom18: Form"
    assert ("Account.MRR__c", True, True) in org.get_permission_set(
        "Invoice_Access"
    ).field_permissions


def test_component_results_say_created_then_unchanged_on_redeploy(org: Org) -> None:
    token = org.issue_token()
    sf = client(org, token)
    first = sf.deploy(io.BytesIO(build_zip(full_package())), False)["asyncId"]
    raw_check(org, token, first)
    payload = raw_check(org, token, first)
    assert b"<componentType>CustomField</componentType><created>true</created>" in payload
    assert b"<fullName>Invoice__c.Amount__c</fullName>" in payload

    record = org.insert("Invoice__c", {"Name": "INV-1", "Amount__c": 10})
    second = sf.deploy(io.BytesIO(build_zip(full_package())), False)["asyncId"]
    raw_check(org, token, second)
    payload = raw_check(org, token, second)

    assert b"<status>Succeeded</status>" in payload
    assert b"<created>true</created>" not in payload
    # Only package.xml reports a change; every component is unchanged.
    assert payload.count(b"<changed>true</changed>") == 1
    assert org.get("Invoice__c", record)["Amount__c"] == 10


def test_adding_a_field_keeps_existing_records(sf: Salesforce, org: Org) -> None:
    deploy(sf, full_package())
    rid = org.insert("Invoice__c", {"Name": "INV-1", "Amount__c": 42})
    more = [*INVOICE_FIELDS, field_xml("Due__c", "Date")]
    _, status = deploy(sf, full_package(**{"objects/Invoice__c__DOT__object": object_xml(more)}))

    assert status["state"] == "Succeeded"
    assert org.get_field("Invoice__c", "Due__c").type == "Date"
    assert org.get("Invoice__c", rid)["Amount__c"] == 42


def test_check_only_validates_without_changing_the_org(sf: Salesforce, org: Org) -> None:
    _, status = deploy(sf, full_package(), checkOnly=True)

    assert status["state"] == "Succeeded"
    assert not org.object_exists("Invoice__c")
    assert org.get_field("Account", "MRR__c") is None
    assert org.get_permission_set("Invoice_Access") is None


def test_failed_deploy_applies_nothing_and_lists_component_failures(
    sf: Salesforce, org: Org
) -> None:
    broken = [*INVOICE_FIELDS, field_xml("Code__c", "Text", length=300)]
    _, status = deploy(sf, full_package(**{"objects/Invoice__c__DOT__object": object_xml(broken)}))

    assert status["state"] == "Failed"
    assert errors(status) == [("objects/Invoice__c.object", "Length must be between 1 and 255")]
    assert status["deployment_detail"]["errors"][0]["type"] == "CustomField"
    assert status["deployment_detail"]["failed_count"] == "1"
    assert not org.object_exists("Invoice__c")
    assert org.get_field("Account", "MRR__c") is None


def test_sandbox_without_rollback_deploys_what_is_valid(sf: Salesforce, org: Org) -> None:
    org.is_sandbox = True
    broken = [*INVOICE_FIELDS, field_xml("Code__c", "Text", length=300)]
    perms = permset_xml(fields=(("Invoice__c.Code__c", True, True), ("Account.MRR__c", True, True)))
    files = full_package(
        **{
            "objects/Invoice__c__DOT__object": object_xml(broken),
            "permissionsets/Invoice_Access__DOT__permissionset": perms,
        }
    )
    _, status = deploy(sf, files, sandbox=True, rollbackOnError=False)

    assert status["state"] == "SucceededPartial"
    failed = {e["message"] for e in status["deployment_detail"]["errors"]}
    # The permission set names the field that failed, so it fails too.
    assert failed == {
        "Length must be between 1 and 255",
        "In field: field - no CustomField named Invoice__c.Code__c found",
    }
    assert org.get_field("Invoice__c", "Amount__c") is not None
    assert org.get_field("Invoice__c", "Code__c") is None
    assert org.get_permission_set("Invoice_Access") is None


def test_production_refuses_no_test_run_but_a_sandbox_accepts_it(org: Org) -> None:
    sf = client(org)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.deploy(io.BytesIO(build_zip(full_package())), False, testLevel="NoTestRun")
    assert exc.value.status == 500
    assert "INVALID_OPERATION" in str(exc.value.content)
    assert "NoTestRun cannot be used in production" in str(exc.value.content)
    assert org.deployments == {}

    org.is_sandbox = True
    _, status = deploy(sf, full_package(), sandbox=True, testLevel="NoTestRun")
    assert status["state"] == "Succeeded"


def test_invalid_session_is_a_soap_fault(org: Org) -> None:
    sf = client(org, token="00D000000000001!not-a-token")
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.deploy(io.BytesIO(build_zip(full_package())), False)
    assert "<faultcode>sf:INVALID_SESSION_ID</faultcode>" in exc.value.content
    assert org.deployments == {}


def test_unknown_deploy_id_is_a_fault(sf: Salesforce) -> None:
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.checkDeployStatus("0Af000000000000AAA")
    assert "INVALID_ID_FIELD" in exc.value.content


# --- validation rules --------------------------------------------------------------------

RULES = [
    pytest.param(
        [field_xml("Rate__c", "Number", precision=19, scale=2)],
        "Precision must be between 1 and 18",
        id="precision",
    ),
    pytest.param(
        [field_xml("Rate__c", "Currency", precision=5, scale=6)],
        "Scale must be between 0 and the precision (5)",
        id="scale",
    ),
    pytest.param(
        [field_xml("Flag__c", "Checkbox")],
        "Must specify 'defaultValue' for a CustomField of type Checkbox",
        id="checkbox-default",
    ),
    pytest.param(
        [field_xml("Body__c", "LongTextArea", length=32768)],
        "Must specify 'visibleLines' for a CustomField of type LongTextArea",
        id="longtext-lines",
    ),
    pytest.param(
        [field_xml("Body__c", "LongTextArea", length=200, visibleLines=3)],
        "Length must be between 256 and 131072",
        id="longtext-length",
    ),
    pytest.param(
        [field_xml("Kind__c", "Picklist")],
        "Must specify 'valueSet' with at least one value for a CustomField of type Picklist",
        id="picklist-values",
    ),
    pytest.param(
        [field_xml("Owner__c", "Lookup", referenceTo="Account", deleteConstraint="SetNull")],
        "Must specify 'relationshipName' for a CustomField of type Lookup",
        id="lookup-relationship",
    ),
    pytest.param(
        [field_xml("Owner__c", "Lookup", referenceTo="Account", relationshipName="Owners")],
        "Must specify 'deleteConstraint' for a CustomField of type Lookup",
        id="lookup-delete-constraint",
    ),
    pytest.param(
        [
            field_xml(
                "Plan__c",
                "Lookup",
                referenceTo="Plan__c",
                relationshipName="Plans",
                deleteConstraint="SetNull",
            )
        ],
        "referenceTo value of 'Plan__c' does not resolve to a valid sObject type",
        id="lookup-target",
    ),
    pytest.param(
        [field_xml("Code__c", "Text", length=20, precision=4)],
        "Can not specify 'precision' for a CustomField of type Text",
        id="foreign-element",
    ),
    pytest.param(
        [field_xml("Code__c", "Text", length=20, colour="red")],
        f"Error parsing file: Element {{{MD}}}colour invalid at this location in type CustomField",
        id="unknown-element",
    ),
    pytest.param(
        [field_xml("Code__c", "Textt", length=20)],
        "Error parsing file: 'Textt' is not a valid value for the enum 'FieldType'",
        id="bad-enum",
    ),
    pytest.param(
        [field_xml("Total__c", "Number", precision=10, scale=2, formula="1+1")],
        "The Salesforce stand-in does not support formula fields",
        id="formula",
    ),
]


@pytest.mark.parametrize(("fields", "problem"), RULES)
def test_field_rules_fail_the_deploy(sf: Salesforce, org: Org, fields, problem) -> None:
    files = full_package(**{"objects/Invoice__c__DOT__object": object_xml(INVOICE_FIELDS + fields)})
    _, status = deploy(sf, files)

    assert status["state"] == "Failed"
    assert errors(status) == [("objects/Invoice__c.object", problem)]
    assert not org.object_exists("Invoice__c")


def test_master_detail_needs_controlled_by_parent_sharing(sf: Salesforce) -> None:
    master = field_xml(
        "Account__c", "MasterDetail", referenceTo="Account", relationshipName="Invoices"
    )
    fields = [f for f in INVOICE_FIELDS if "Account__c" not in f] + [master]
    perms = permset_xml(fields=(("Account.MRR__c", True, True),))
    files = full_package(
        **{
            "objects/Invoice__c__DOT__object": object_xml(fields),
            "permissionsets/Invoice_Access__DOT__permissionset": perms,
        }
    )
    _, status = deploy(sf, files)
    assert errors(status) == [
        (
            "objects/Invoice__c.object",
            "Cannot set sharingModel to ReadWrite on a CustomObject with a MasterDetail "
            "relationship field",
        )
    ]

    files["objects/Invoice__c.object"] = object_xml(fields, sharing="ControlledByParent")
    _, status = deploy(sf, files)
    assert status["state"] == "Succeeded"


def test_tab_holds_only_custom_object_motif_and_description(sf: Salesforce) -> None:
    tab = TAB.replace("<motif>", "<label>Invoices</label><motif>")
    _, status = deploy(sf, full_package(**{"tabs/Invoice__c__DOT__tab": tab}))
    assert errors(status) == [
        (
            "tabs/Invoice__c.tab",
            "Can not specify 'label' for a CustomTab of a custom object: it holds only "
            "customObject, motif and description",
        )
    ]
    no_motif = TAB.replace("<motif>Custom18: Form</motif>", "")
    _, status = deploy(sf, full_package(**{"tabs/Invoice__c__DOT__tab": no_motif}))
    assert errors(status) == [
        ("tabs/Invoice__c.tab", "Must specify 'motif' for a CustomTab of a custom object")
    ]


@pytest.mark.parametrize(
    ("perms", "problem"),
    [
        (
            permset_xml(fields=(("Account.Name", True, True),)),
            "You cannot deploy to a required field: Account.Name",
        ),
        (
            permset_xml(fields=(("Invoice__c.Missing__c", True, False),)),
            "In field: field - no CustomField named Invoice__c.Missing__c found",
        ),
        (
            permset_xml(
                tabs="<tabSettings><tab>Nope__c</tab><visibility>Visible</visibility></tabSettings>"
            ),
            "In field: tab - no CustomTab named Nope__c found",
        ),
        (
            permset_xml(
                objects="<objectPermissions><allowCreate>false</allowCreate>"
                "<allowDelete>false</allowDelete><allowEdit>true</allowEdit>"
                "<allowRead>false</allowRead><modifyAllRecords>false</modifyAllRecords>"
                "<object>Invoice__c</object><viewAllRecords>false</viewAllRecords>"
                "</objectPermissions>"
            ),
            "Permission Edit on Invoice__c depends on permission(s): Read",
        ),
        (
            permset_xml(label=""),
            "Must specify a non-empty label for the PermissionSet",
        ),
    ],
    ids=["required-field", "missing-field", "missing-tab", "edit-needs-read", "label"],
)
def test_permission_set_rules(sf: Salesforce, org: Org, perms: str, problem: str) -> None:
    files = full_package(**{"permissionsets/Invoice_Access__DOT__permissionset": perms})
    _, status = deploy(sf, files)
    assert errors(status) == [("permissionsets/Invoice_Access.permissionset", problem)]
    assert org.get_permission_set("Invoice_Access") is None


def test_required_field_cannot_be_granted_even_when_deployed_alongside(sf: Salesforce) -> None:
    fields = [*INVOICE_FIELDS, field_xml("Ref__c", "Text", length=20, required=True)]
    perms = permset_xml(fields=(("Invoice__c.Ref__c", True, True),))
    files = full_package(
        **{
            "objects/Invoice__c__DOT__object": object_xml(fields),
            "permissionsets/Invoice_Access__DOT__permissionset": perms,
        }
    )
    _, status = deploy(sf, files)
    assert errors(status) == [
        (
            "permissionsets/Invoice_Access.permissionset",
            "You cannot deploy to a required field: Invoice__c.Ref__c",
        )
    ]


def test_package_xml_members_must_have_files(sf: Salesforce) -> None:
    files = full_package(**{"tabs/Invoice__c__DOT__tab": None})
    _, status = deploy(sf, files)
    assert errors(status) == [
        (
            "package.xml",
            "An object 'Invoice__c' of type CustomTab was named in package.xml, but was not "
            "found in zipped directory",
        ),
        # The permission set's tab setting points at the tab that is not there.
        (
            "permissionsets/Invoice_Access.permissionset",
            "In field: tab - no CustomTab named Invoice__c found",
        ),
    ]


def test_package_xml_problems(sf: Salesforce) -> None:
    _, status = deploy(sf, full_package(**{"package__DOT__xml": None}))
    assert errors(status) == [("package.xml", "No package.xml found")]

    types = {**FULL_TYPES, "CustomWidget": ["X"]}
    _, status = deploy(sf, full_package(**{"package__DOT__xml": package_xml(types)}))
    assert errors(status) == [
        ("package.xml", "Unknown type name 'CustomWidget' specified in package.xml")
    ]

    types = {**FULL_TYPES, "ApexClass": ["Helper"]}
    _, status = deploy(sf, full_package(**{"package__DOT__xml": package_xml(types)}))
    assert errors(status) == [
        ("package.xml", "The Salesforce stand-in does not deploy metadata of type ApexClass")
    ]


def test_field_type_change_is_refused(sf: Salesforce, org: Org) -> None:
    deploy(sf, full_package())
    changed = [
        f.replace("<type>Text</type>", "<type>Number</type>").replace(
            "<length>255</length>", "<precision>18</precision><scale>0</scale>"
        )
        if "External_Id__c" in f
        else f
        for f in INVOICE_FIELDS
    ]
    _, status = deploy(sf, full_package(**{"objects/Invoice__c__DOT__object": object_xml(changed)}))
    assert errors(status) == [
        (
            "objects/Invoice__c.object",
            "Cannot change the type of field Invoice__c.External_Id__c from Text to Number: "
            "existing values cannot be converted",
        )
    ]
    assert org.get_field("Invoice__c", "External_Id__c").type == "Text"


def test_custom_field_members_deploy_single_fields(sf: Salesforce, org: Org) -> None:
    files = {
        "package.xml": package_xml({"CustomField": ["Account.MRR__c"]}),
        "objects/Account.object": account_xml(ACCOUNT_FIELDS),
    }
    _, status = deploy(sf, files)
    assert status["state"] == "Succeeded"
    assert org.get_field("Account", "MRR__c") is not None
    # Named in the file but not in package.xml: not deployed.
    assert org.get_field("Account", "Stripe_Customer_Id__c") is None


def test_unique_field_over_duplicate_data_fails_whole_deploy(sf: Salesforce, org: Org) -> None:
    deploy(sf, full_package())
    org.insert("Invoice__c", {"Name": "A", "Notes__c": "x"})
    fields = [*INVOICE_FIELDS, field_xml("Code__c", "Text", length=20)]
    deploy(sf, full_package(**{"objects/Invoice__c__DOT__object": object_xml(fields)}))
    org.insert("Invoice__c", {"Name": "B", "Code__c": "dup"})
    org.insert("Invoice__c", {"Name": "C", "Code__c": "dup"})

    fields[-1] = field_xml("Code__c", "Text", length=20, unique=True)
    objects = object_xml(fields, description="v2")
    _, status = deploy(sf, full_package(**{"objects/Invoice__c__DOT__object": objects}))

    assert status["state"] == "Failed"
    assert "duplicate value" in errors(status)[0][1]
    assert org.get_object("Invoice__c").description == "billing-sync schema v1"


# --- readMetadata / listMetadata (zeep) --------------------------------------------------


def test_read_metadata_returns_object_description_and_fields(sf: Salesforce) -> None:
    deploy(sf, full_package())

    invoice = sf.mdapi.CustomObject.read(["Invoice__c"])
    assert invoice.fullName == "Invoice__c"
    assert invoice.description == "billing-sync schema v1"
    assert invoice.sharingModel == "ReadWrite"
    by_name = {f.fullName: f for f in invoice.fields}
    assert by_name["Amount__c"].precision == 16
    assert [v.fullName for v in by_name["Status__c"].valueSet.valueSetDefinition.value] == [
        "Open",
        "Paid",
    ]
    assert invoice.listViews[0].fullName == "Open_invoices"

    perms = sf.mdapi.PermissionSet.read(["Invoice_Access"])
    assert perms.label == "Invoice access"
    assert {(p.field, p.readable, p.editable) for p in perms.fieldPermissions} == {
        ("Invoice__c.Amount__c", True, True),
        ("Invoice__c.Status__c", True, False),
        ("Account.MRR__c", True, True),
    }

    account = sf.mdapi.CustomObject.read(["Account"])
    assert {f.fullName for f in account.fields} == {"Stripe_Customer_Id__c", "MRR__c"}


def test_read_metadata_of_unknown_component_is_empty(sf: Salesforce) -> None:
    missing = sf.mdapi.CustomObject.read(["Nothing__c"])
    assert missing.fullName is None


def test_list_metadata(sf: Salesforce) -> None:
    deploy(sf, full_package())
    query = sf.mdapi._client.get_type("ns0:ListMetadataQuery")
    listed = sf.mdapi.list_metadata([query(type="CustomObject"), query(type="PermissionSet")])
    names = {(p.type, p.fullName) for p in listed}
    assert ("CustomObject", "Invoice__c") in names
    assert ("PermissionSet", "Invoice_Access") in names


def test_other_operations_are_faults_saying_not_implemented(sf: Salesforce) -> None:
    with pytest.raises(zeep.exceptions.Fault) as exc:
        sf.mdapi.describe_metadata()
    assert "does not implement the Metadata API call describeMetadata" in exc.value.message


def test_raw_deploy_message_round_trip(org: Org) -> None:
    """The exact DeployOptions text simple-salesforce sends (Python booleans, 'None')."""
    token = org.issue_token()
    body = DEPLOY_MSG.format(
        client="x",
        checkOnly=True,
        sessionId=token,
        ZipFile=base64.b64encode(build_zip(full_package())).decode(),
        testLevel=None,
        tests=None,
        ignoreWarnings=False,
        allowMissingFiles=False,
        autoUpdatePackage=False,
        performRetrieve=False,
        purgeOnDelete=False,
        rollbackOnError=True,
        singlePackage=True,
    )
    status, payload = handle_soap(org, body.encode(), VERSION)
    assert status == 200
    async_id = re.search(rb"<id>(\w+)</id>", payload).group(1).decode()
    assert b"<state>Queued</state>" in payload
    raw_check(org, token, async_id)
    final = raw_check(org, token, async_id)
    assert b"<checkOnly>true</checkOnly>" in final
    assert b"<status>Succeeded</status>" in final

    status, payload = handle_soap(org, body.encode(), "99.0")
    assert status == 500 and b"UNSUPPORTED_API_VERSION" in payload


def test_without_single_package_the_zip_holds_a_package_folder(org: Org) -> None:
    token = org.issue_token()
    nested = {f"unpackaged/{name}": text for name, text in full_package().items()}
    body = DEPLOY_MSG.format(
        client="x",
        checkOnly=False,
        sessionId=token,
        ZipFile=base64.b64encode(build_zip(nested)).decode(),
        testLevel="",
        tests="",
        ignoreWarnings=False,
        allowMissingFiles=False,
        autoUpdatePackage=False,
        performRetrieve=False,
        purgeOnDelete=False,
        rollbackOnError=True,
        singlePackage=False,
    )
    _, payload = handle_soap(org, body.encode(), VERSION)
    async_id = re.search(rb"<id>(\w+)</id>", payload).group(1).decode()
    raw_check(org, token, async_id)
    assert b"<status>Succeeded</status>" in raw_check(org, token, async_id)
    assert org.object_exists("Invoice__c")


def test_the_projects_own_package_deploys_and_redeploys_unchanged(org: Org) -> None:
    from metadata.package import PackageSpec, mdapi_files

    token = org.issue_token()
    sf = client(org, token)
    files = mdapi_files(PackageSpec.current())
    _, status = deploy(sf, files)
    assert status["state"] == "Succeeded", errors(status)
    assert org.get_field("Sync_Error__c", "Fingerprint__c").unique

    again = sf.deploy(io.BytesIO(build_zip(files)), False)["asyncId"]
    raw_check(org, token, again)
    payload = raw_check(org, token, again)
    assert b"<status>Succeeded</status>" in payload
    assert b"<created>true</created>" not in payload
    assert payload.count(b"<changed>true</changed>") == 1  # package.xml only
