"""Deploy logic that a stand-in cannot easily provoke: options sent, deadlines, the error edge.

A small fake of the simple-salesforce surface ``sync.salesforce_io`` uses; the end-to-end
behaviour against the Salesforce stand-in is in test_deploy_standin.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

import sync.salesforce_io as md
from metadata import schema
from sync.errors import RetryLater, StopCycle

MD = "http://soap.sforce.com/2006/04/metadata"


def _details(successes=(), failures=()) -> ET.Element:
    parts = [f'<result xmlns="{MD}"><details>']
    for kind, name, created, changed in successes:
        parts.append(
            f"<componentSuccesses><changed>{changed}</changed><componentType>{kind}"
            f"</componentType><created>{created}</created><deleted>false</deleted>"
            f"<fileName>f</fileName><fullName>{name}</fullName><success>true</success>"
            "</componentSuccesses>"
        )
    for kind, name, file, problem in failures:
        parts.append(
            f"<componentFailures><componentType>{kind}</componentType><fileName>{file}"
            f"</fileName><fullName>{name}</fullName><problem>{problem}</problem>"
            "<problemType>Error</problemType><success>false</success></componentFailures>"
        )
    parts.append("</details></result>")
    return ET.fromstring("".join(parts))


class FakeSF:
    """Just enough of simple_salesforce.Salesforce for sync.salesforce_io."""

    def __init__(self, states=("InProgress", "Succeeded"), account_fields=(), details=None):
        self.states = list(states)
        self.deploy_calls: list[tuple[bool, dict]] = []
        self.created: list[dict] = []
        self.account_fields = list(account_fields)
        self._details = details if details is not None else _details(
            [("CustomObject", "Sync_Error__c", "true", "false")]
        )
        self.mdapi = SimpleNamespace(_retrieve_deploy_result=lambda _id: self._details)
        self.Account = SimpleNamespace(describe=self._describe_account)
        self.PermissionSetAssignment = SimpleNamespace(create=self.created.append)
        self.session_id = "00Dfake!session"
        self.metadata_url = "https://example.invalid/services/Soap/m/66.0/"
        self.base_url = "https://example.invalid/services/data/v66.0/"
        self.headers: dict[str, str] = {}
        # userinfo refused (a proxy in the way): the user is found through Chatter instead
        self.session = SimpleNamespace(get=lambda url, headers: _Reply(502, "bad gateway"))

    def _describe_account(self):
        # Our fields show once deployed and assigned, like FLS in an org.
        ours = [{"name": f.name, "updateable": True} for f in schema.ACCOUNT_FIELDS]
        return {"fields": self.account_fields + (ours if self.created else [])}

    def deploy(self, zipfile, sandbox, **options):
        assert zipfile.read(2) == b"PK"
        self.deploy_calls.append((sandbox, options))
        return {"asyncId": "0Af000000000001", "state": "Queued"}

    def checkDeployStatus(self, deploy_id, **_kw):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"state": state, "state_detail": None,
                "deployment_detail": {"total_count": "48", "deployed_count": "10",
                                      "failed_count": "0", "errors": []}}

    def restful(self, path):
        assert path == "chatter/users/me"
        return {"id": "005000000000002AAA"}

    def query(self, soql):
        if "FROM User" in soql:
            return {"records": [{"Id": "005000000000001AAA"}]}
        if "FROM PermissionSet " in soql:
            return {"records": [{"Id": "0PS000000000001AAA"}]}
        return {"records": []}  # no assignment yet

    def __getattr__(self, name):  # sf.Subscription__c.describe() etc.
        fields = [{"name": f.name, "updateable": True} for f in schema.owned_fields(name)]
        return SimpleNamespace(describe=lambda: {"fields": fields})


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_production_deploy_keeps_tests_and_rolls_back_on_error():
    sf = FakeSF()
    result = md.deploy(sf, sleep=lambda _s: None, username="integration@example.com")
    sandbox, options = sf.deploy_calls[0]
    assert sandbox is False
    assert options["testLevel"] != "NoTestRun"
    assert options["rollbackOnError"] is True
    assert options["checkOnly"] is False
    assert result.ok and result.permission_set == "assigned"
    assert sf.created == [{"AssigneeId": "005000000000001AAA",
                           "PermissionSetId": "0PS000000000001AAA"}]


def test_sandbox_may_skip_tests_and_check_only_assigns_nothing():
    sf = FakeSF()
    result = md.deploy(sf, sandbox=True, check_only=True, sleep=lambda _s: None)
    sandbox, options = sf.deploy_calls[0]
    assert (sandbox, options["testLevel"], options["checkOnly"]) == (True, "NoTestRun", True)
    assert result.status == "Succeeded" and result.check_only
    assert result.permission_set == "" and sf.created == []


def test_user_id_comes_from_the_identity_url_without_a_query():
    sf = FakeSF()
    md.deploy(sf, sleep=lambda _s: None,
              identity_url="https://login.example/id/00D000000000001/005000000000009AAA")
    assert sf.created[0]["AssigneeId"] == "005000000000009AAA"


def test_deadline_gives_timed_out_and_says_salesforce_carries_on():
    sf = FakeSF(states=("InProgress",))
    clock = Clock()
    lines: list[str] = []
    result = md.deploy(sf, timeout=30, poll_interval=5, progress=lines.append,
                       sleep=clock.sleep, clock=clock)
    assert result.status == "TimedOut" and not result.ok
    assert "carries on" in result.problems[0]
    assert 30 <= clock.now <= 35
    # One line per change, not one per poll.
    assert lines == ["deploy 0Af000000000001: Queued",
                     "deploy 0Af000000000001: InProgress (10/48 components)"]


def test_component_table_reads_created_changed_unchanged_and_failures():
    details = _details(
        successes=[("CustomObject", "Sync_Error__c", "true", "false"),
                   ("CustomField", "Account.MRR__c", "false", "true"),
                   ("CustomTab", "Sync_Error__c", "false", "false"),
                   ("", "package.xml", "false", "false")],
        failures=[("CustomField", "Sync_Error__c.Bad__c", "objects/Sync_Error__c.object",
                   "Length must be 255 or less")],
    )
    sf = FakeSF(states=("Failed",), details=details)
    result = md.deploy(sf, sleep=lambda _s: None)
    assert result.status == "Failed" and not result.ok
    outcomes = {(c.type, c.name): c.outcome for c in result.components}
    assert outcomes == {
        ("CustomObject", "Sync_Error__c"): "created",
        ("CustomField", "Account.MRR__c"): "changed",
        ("CustomTab", "Sync_Error__c"): "unchanged",
        ("CustomField", "Sync_Error__c.Bad__c"): "failed",
    }
    (failure,) = result.failures
    assert failure.file == "objects/Sync_Error__c.object"
    assert failure.problem == "Length must be 255 or less"
    assert sf.created == []  # a failed deploy assigns nothing


@pytest.mark.parametrize(
    "existing, fragment",
    [
        ({"name": "MRR__c", "type": "string", "length": 20}, "already exists as a string"),
        ({"name": "Billing_Plan__c", "type": "string", "length": 80}, "Text(80)"),
        ({"name": "Renewal_Date__c", "type": "date", "calculated": True}, "formula"),
    ],
)
def test_preflight_stops_before_touching_a_field_we_do_not_own(existing, fragment):
    sf = FakeSF(account_fields=[existing])
    result = md.deploy(sf, sleep=lambda _s: None)
    assert result.status == "PreflightFailed"
    assert fragment in result.problems[0]
    assert sf.deploy_calls == []


def test_preflight_accepts_our_own_fields_already_there():
    sf = FakeSF(account_fields=[{"name": "MRR__c", "type": "currency"},
                                {"name": "Billing_Plan__c", "type": "string", "length": 255}])
    assert md.deploy(sf, sleep=lambda _s: None).ok


def _raise(exc):
    def fail(*_a, **_kw):
        raise exc
    return fail


@pytest.mark.parametrize(
    "exc, kind, code",
    [
        (requests.ConnectionError("refused"), RetryLater, "CONNECTION"),
        (SalesforceExpiredSession("u", 401, "r", [{"errorCode": "INVALID_SESSION_ID",
                                                    "message": "Session expired"}]),
         StopCycle, "INVALID_SESSION_ID"),
        (SalesforceRefusedRequest("u", 403, "r", [{"errorCode": "REQUEST_LIMIT_EXCEEDED",
                                                    "message": "TotalRequests Limit exceeded"}]),
         StopCycle, "REQUEST_LIMIT_EXCEEDED"),
        (SalesforceGeneralError("u", 503, "r", b"Service Unavailable"), RetryLater, "503"),
        (SalesforceGeneralError(
            "u", 500, "r",
            b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            b"<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_SESSION_ID</faultcode>"
            b"<faultstring>INVALID_SESSION_ID: Invalid Session ID</faultstring>"
            b"</soapenv:Fault></soapenv:Body></soapenv:Envelope>"),
         StopCycle, "INVALID_SESSION_ID"),
    ],
)
def test_vendor_exceptions_become_sync_errors(exc, kind, code):
    sf = FakeSF()
    sf.deploy = _raise(exc)
    with pytest.raises(kind) as raised:
        md.deploy(sf, sleep=lambda _s: None)
    assert raised.value.code == code
    assert sf.session_id not in raised.value.message


class _Reply:
    def __init__(self, status: int, body: str):
        self.status_code, self.content, self.text = status, body.encode(), body
        self.url = "https://example.invalid/services/Soap/m/66.0/"

    def json(self):
        raise ValueError

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}")


def _read_reply(records: str) -> str:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns="{MD}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        f"<readMetadataResponse><result>{records}</result></readMetadataResponse>"
        "</soapenv:Body></soapenv:Envelope>"
    )


@pytest.mark.parametrize(
    "records, version",
    [
        ('<records xsi:type="CustomObject"><fullName>Sync_Error__c</fullName>'
         "<description>Failures. billing-sync schema v1</description></records>", "1"),
        ('<records xsi:type="CustomObject"><fullName>Sync_Error__c</fullName>'
         "<description>billing-sync schema v0</description></records>", "0"),
        ('<records xsi:type="CustomObject" xsi:nil="true"/>', None),  # never deployed
        ("", None),
    ],
)
def test_needs_deploy_reads_the_marker_in_one_call(records, version):
    sf = FakeSF()
    posts: list[bytes] = []

    def post(url, data, headers):
        posts.append(data)
        assert headers["SOAPAction"] == "readMetadata"
        return _Reply(200, _read_reply(records))

    sf.session = SimpleNamespace(post=post)
    assert md.deployed_version(sf) == version
    assert md.needs_deploy(sf) is (version != schema.SCHEMA_VERSION)
    assert len(posts) == 2 and b"<met:fullNames>Sync_Error__c</met:fullNames>" in posts[0]
