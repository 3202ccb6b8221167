"""End to end over HTTPS: plain simple-salesforce deploys to the running stand-in, and what the
deploy changed (or did not) shows in SOQL, field-level security included."""

from __future__ import annotations

import io
import zipfile

import pytest
import requests
import zeep.exceptions
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from standins.salesforce import SalesforceStandIn

VERSION = "66.0"
MD = "http://soap.sforce.com/2006/04/metadata"
_MD = f"{{{MD}}}"

PACKAGE = f"""<Package xmlns="{MD}">
<types><members>Account</members><members>Ticket__c</members><name>CustomObject</name></types>
<types><members>Ticket__c</members><name>CustomTab</name></types>
<version>{VERSION}</version></Package>"""

TICKET = f"""<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="{MD}">
    <deploymentStatus>Deployed</deploymentStatus>
    <description>tickets, schema v1</description>
    <fields>
        <fullName>Priority__c</fullName>
        <label>Priority</label>
        <precision>3</precision>
        <scale>0</scale>
        <type>Number</type>
    </fields>
    <label>Ticket</label>
    <nameField><label>Ticket Name</label><type>Text</type></nameField>
    <pluralLabel>Tickets</pluralLabel>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>"""

ACCOUNT = f"""<CustomObject xmlns="{MD}"><fields>
    <fullName>Tier__c</fullName><label>Tier</label><length>40</length><type>Text</type>
</fields></CustomObject>"""

TAB = (
    f'<CustomTab xmlns="{MD}"><customObject>true</customObject>'
    "<motif>Custom20: Airplane</motif></CustomTab>"
)

PERMSET_PACKAGE = f"""<Package xmlns="{MD}">
<types><members>Ticket_Access</members><name>PermissionSet</name></types>
<version>{VERSION}</version></Package>"""

PERMSET = f"""<PermissionSet xmlns="{MD}">
    <fieldPermissions><editable>true</editable><field>Account.Tier__c</field>
        <readable>true</readable></fieldPermissions>
    <fieldPermissions><editable>true</editable><field>Ticket__c.Priority__c</field>
        <readable>true</readable></fieldPermissions>
    <label>Ticket access</label>
    <objectPermissions><allowCreate>true</allowCreate><allowDelete>false</allowDelete>
        <allowEdit>true</allowEdit><allowRead>true</allowRead>
        <modifyAllRecords>false</modifyAllRecords><object>Ticket__c</object>
        <viewAllRecords>false</viewAllRecords></objectPermissions>
    <tabSettings><tab>Ticket__c</tab><visibility>Visible</visibility></tabSettings>
</PermissionSet>"""


def zipped(files: dict[str, str]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buf.seek(0)
    return buf


def schema_files(**changes: str) -> dict[str, str]:
    files = {
        "package.xml": PACKAGE,
        "objects/Ticket__c.object": TICKET,
        "objects/Account.object": ACCOUNT,
        "tabs/Ticket__c.tab": TAB,
    }
    files.update({k.replace("__DOT__", "."): v for k, v in changes.items()})
    return files


@pytest.fixture
def standin(tmp_path):
    with SalesforceStandIn(tmp_path) as standin:
        yield standin


def connect(standin: SalesforceStandIn, token: str | None = None) -> Salesforce:
    session = requests.Session()
    session.verify = str(standin.ca_file)
    # REQUESTS_CA_BUNDLE in the environment would override session.verify.
    session.trust_env = False
    sf = Salesforce(
        instance_url=standin.instance_url,
        session_id=token or standin.issue_token(),
        session=session,
        version=VERSION,
    )
    # zeep (sf.mdapi) builds its own requests session, which does not share sf.session's CA.
    sf.mdapi._client.transport.session.verify = str(standin.ca_file)
    sf.mdapi._client.transport.session.trust_env = False
    return sf


def deploy(sf: Salesforce, files: dict[str, str], **options) -> tuple[list[str], dict, str]:
    async_id = sf.deploy(zipped(files), False, **options)["asyncId"]
    states = []
    for _ in range(10):
        status = sf.checkDeployStatus(async_id)
        states.append(status["state"])
        if status["state"] not in ("Pending", "InProgress"):
            return states, status, async_id
    raise AssertionError(f"deploy never finished: {states}")


def outcomes(sf: Salesforce, async_id: str) -> dict[tuple[str, str], tuple[bool, bool]]:
    """(componentType, fullName) -> (created, changed) from the full checkDeployStatus reply."""
    result = sf.mdapi._retrieve_deploy_result(async_id)
    return {
        (node.findtext(f"{_MD}componentType"), node.findtext(f"{_MD}fullName")): (
            node.findtext(f"{_MD}created") == "true",
            node.findtext(f"{_MD}changed") == "true",
        )
        for node in result.iter(f"{_MD}componentSuccesses")
        if node.findtext(f"{_MD}componentType")
    }


def test_deploy_then_grant_field_level_security(standin: SalesforceStandIn) -> None:
    sf = connect(standin)
    states, status, async_id = deploy(sf, schema_files())
    assert states == ["InProgress", "Succeeded"]
    assert outcomes(sf, async_id) == {
        ("CustomObject", "Ticket__c"): (True, False),
        ("CustomField", "Ticket__c.Priority__c"): (True, False),
        ("CustomObject", "Account"): (False, False),
        ("CustomField", "Account.Tier__c"): (True, False),
        ("CustomTab", "Ticket__c"): (True, False),
    }

    # Deployed but not granted: the field is invisible to the API user.
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id, Tier__c FROM Account")
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"

    files = {"package.xml": PERMSET_PACKAGE, "permissionsets/Ticket_Access.permissionset": PERMSET}
    _, status, _ = deploy(sf, files)
    assert status["state"] == "Succeeded", status["deployment_detail"]["errors"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.query("SELECT Id, Tier__c FROM Account")  # deployed, not yet assigned

    standin.org.assign_permission_set(standin.username, "Ticket_Access")
    assert sf.query("SELECT Id, Tier__c FROM Account")["totalSize"] == 0
    sf.Ticket__c.create({"Name": "T-1", "Priority__c": 2})
    rows = sf.query("SELECT Name, Priority__c FROM Ticket__c")["records"]
    assert [(r["Name"], r["Priority__c"]) for r in rows] == [("T-1", 2)]


def test_broken_package_surfaces_component_failures(standin: SalesforceStandIn) -> None:
    sf = connect(standin)
    broken = TICKET.replace("<precision>3</precision>", "<precision>30</precision>")
    _, status, _ = deploy(sf, schema_files(**{"objects/Ticket__c__DOT__object": broken}))

    assert status["state"] == "Failed"
    assert status["deployment_detail"]["errors"] == [
        {
            "type": "CustomField",
            "file": "objects/Ticket__c.object",
            "status": "Error",
            "message": "Precision must be between 1 and 18",
        }
    ]
    assert not standin.org.object_exists("Ticket__c")  # rolled back: the tab and Account too
    assert standin.org.get_field("Account", "Tier__c") is None


def test_redeploy_is_a_no_op_and_check_only_changes_nothing(standin: SalesforceStandIn) -> None:
    sf = connect(standin)
    deploy(sf, schema_files())
    record = standin.org.insert("Ticket__c", {"Name": "kept", "Priority__c": 1})

    _, status, async_id = deploy(sf, schema_files())
    assert status["state"] == "Succeeded"
    assert set(outcomes(sf, async_id).values()) == {(False, False)}
    assert standin.org.get("Ticket__c", record)["Name"] == "kept"

    v2 = TICKET.replace("schema v1", "schema v2").replace(
        "<label>Ticket</label>",
        "<fields><fullName>Due__c</fullName><label>Due</label><type>Date</type></fields>"
        "<label>Ticket</label>",
    )
    _, status, async_id = deploy(
        sf, schema_files(**{"objects/Ticket__c__DOT__object": v2}), checkOnly=True
    )
    assert status["state"] == "Succeeded"
    assert outcomes(sf, async_id)[("CustomField", "Ticket__c.Due__c")] == (True, False)
    assert standin.org.get_field("Ticket__c", "Due__c") is None
    # The schema-version marker, read back cheaply through the zeep client.
    assert sf.mdapi.CustomObject.read(["Ticket__c"]).description == "tickets, schema v1"


def test_invalid_session_is_refused(standin: SalesforceStandIn) -> None:
    sf = connect(standin, token="00D000000000000!bogus")
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.deploy(zipped(schema_files()), False)
    assert "INVALID_SESSION_ID" in exc.value.content
    with pytest.raises(zeep.exceptions.Fault) as fault:
        sf.mdapi.CustomObject.read(["Ticket__c"])
    assert "INVALID_SESSION_ID" in fault.value.message
