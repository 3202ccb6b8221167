"""Bulk API 2.0 ingest, through simple-salesforce's sf.bulk2 and through plain requests:
the job states, the CSV results and the org's write rules on every row."""

from __future__ import annotations

import csv
import io

import pytest
import simple_salesforce.bulk2 as sfbulk2
from sf_support import SUB
from simple_salesforce.exceptions import SalesforceOperationError

V = "/services/data/v66.0"
JOBS = f"{V}/jobs/ingest"


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch):
    """sf.bulk2 polls with sleep(); the stand-in decides a job on the next GET, so no test
    here needs to wait."""
    def refuse(seconds: float) -> None:
        assert seconds == 0, f"a Bulk test tried to sleep {seconds}s"

    monkeypatch.setattr(sfbulk2, "sleep", refuse)


class Api:
    def __init__(self, standin) -> None:
        self.standin = standin
        self.s = standin.session()
        self.s.headers["Authorization"] = f"Bearer {standin.issue_token()}"

    def __call__(self, method: str, path: str, **kw):
        return self.s.request(method, self.standin.instance_url + path, **kw)

    def job(self, **spec) -> dict:
        r = self("POST", JOBS, json={"contentType": "CSV", "lineEnding": "LF", **spec})
        assert r.status_code == 200, r.text
        return r.json()

    def put(self, job_id: str, data: str, kind: str = "text/csv"):
        return self("PUT", f"{JOBS}/{job_id}/batches", data=data.encode(),
                    headers={"Content-Type": kind})

    def close(self, job_id: str, state: str = "UploadComplete"):
        return self("PATCH", f"{JOBS}/{job_id}", json={"state": state})

    def rows(self, job_id: str, kind: str) -> list[dict]:
        r = self("GET", f"{JOBS}/{job_id}/{kind}")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(r.text)))


def test_bulk2_insert_and_upsert_through_simple_salesforce(billing, sf) -> None:
    billing.add_validation_rule("Account", lambda r: r["Name"] == "Invalid", "Name is invalid",
                                "Name")
    records = [{"Name": "Acme", "Stripe_Customer_Id__c": "cus_1", "Billing_Status__c": "Active"},
               {"Name": "Beta", "Stripe_Customer_Id__c": "cus_2", "Billing_Status__c": "Bogus"},
               {"Name": "Invalid", "Stripe_Customer_Id__c": "cus_3", "Billing_Status__c": ""}]
    [result] = sf.bulk2.Account.insert(records=records, wait=0)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"],
            result["numberRecordsTotal"]) == (3, 2, 3)
    ok = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(
        result["job_id"]))))
    assert [(r["sf__Created"], r["Name"]) for r in ok] == [("true", "Acme")]
    assert billing.org.get("Account", ok[0]["sf__Id"])["Billing_Status__c"] == "Active"
    failed = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_failed_records(
        result["job_id"]))))
    assert [(r["sf__Id"], r["sf__Error"]) for r in failed] == [
        ("", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Billing Status: bad value for restricted "
             "picklist field: Bogus:Billing_Status__c --"),
        ("", "FIELD_CUSTOM_VALIDATION_EXCEPTION:Name is invalid:Name --")]
    assert failed[0]["Stripe_Customer_Id__c"] == "cus_2"
    [up] = sf.bulk2.Account.upsert(records=[{"Stripe_Customer_Id__c": "cus_1", "Name": "Acme 2"},
                                            {"Stripe_Customer_Id__c": "cus_9", "Name": "New"}],
                                   external_id_field="Stripe_Customer_Id__c", wait=0)
    assert up["numberRecordsFailed"] == 0
    ok = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(
        up["job_id"]))))
    assert [(r["sf__Created"], r["Name"]) for r in ok] == [("false", "Acme 2"), ("true", "New")]
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 2


def test_bulk2_failed_job_raises_in_simple_salesforce(billing, sf) -> None:
    with pytest.raises(SalesforceOperationError) as info:
        sf.bulk2.Account.insert(records=[{"Name": "x", "Bogus__c": "1"}], wait=0)
    assert "InvalidBatch : Field name not found : Bogus__c" in str(info.value)
    assert billing.org.count("Account") == 0


def test_job_lifecycle_and_job_info(billing) -> None:
    api = Api(billing)
    job = api.job(object="account", operation="insert")
    assert job["state"] == "Open" and job["object"] == "Account" and job["id"].startswith("750")
    assert job["contentUrl"] == f"services/data/v66.0/jobs/ingest/{job['id']}/batches"
    assert (job["apiVersion"], job["concurrencyMode"], job["columnDelimiter"]) == (
        66.0, "Parallel", "COMMA")
    assert "externalIdFieldName" not in job
    assert api.put(job["id"], "Name,MRR__c\nAcme,10.5\nBeta,#N/A\n").status_code == 201
    again = api.put(job["id"], "Name\nGamma\n")
    assert again.status_code == 409 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    early = api("GET", f"{JOBS}/{job['id']}/successfulResults")
    assert early.status_code == 409 and early.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    billing.set_bulk_paused(True)
    closed = api.close(job["id"]).json()
    assert closed["state"] == "UploadComplete" and "contentUrl" not in closed
    assert api("GET", f"{JOBS}/{job['id']}").json()["state"] == "InProgress"
    late = api.put(job["id"], "Name\nGamma\n")
    assert late.status_code == 409
    billing.set_bulk_paused(False)
    info = api("GET", f"{JOBS}/{job['id']}").json()
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"],
            info["jobType"]) == ("JobComplete", 2, 0, "V2Ingest")
    ok = api.rows(job["id"], "successfulResults")
    assert [(r["Name"], r["MRR__c"]) for r in ok] == [("Acme", "10.5"), ("Beta", "#N/A")]
    assert billing.org.get("Account", ok[1]["sf__Id"])["MRR__c"] is None
    assert api.rows(job["id"], "failedResults") == []
    assert api.rows(job["id"], "unprocessedrecords") == []
    listed = api("GET", JOBS).json()
    assert listed["done"] is True and [j["id"] for j in listed["records"]] == [job["id"]]
    abort = api.close(job["id"], "Aborted")
    assert abort.status_code == 409
    assert api("DELETE", f"{JOBS}/{job['id']}").status_code == 204
    gone = api("GET", f"{JOBS}/{job['id']}")
    assert (gone.status_code, gone.json()) == (404, [{
        "message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])


def test_results_csv_shape(billing) -> None:
    api = Api(billing)
    job = api.job(object="Account", operation="insert")
    api.put(job["id"], 'Name,Stripe_Customer_Id__c\n"Acme, Inc.",cus_1\n')
    api.close(job["id"])
    text = api("GET", f"{JOBS}/{job['id']}/successfulResults").text
    header, row = text.splitlines()
    assert header == '"sf__Id","sf__Created",Name,Stripe_Customer_Id__c'
    assert row.endswith(',"true","Acme, Inc.","cus_1"') and row.startswith('"001')


def test_update_and_field_level_security(billing) -> None:
    api = Api(billing)
    acc = billing.org.insert("Account", {"Name": "Acme", "MRR__c": 5})
    job = api.job(object="Account", operation="update")
    api.put(job["id"], f"Id,Name,MRR__c\n{acc},Acme 2,\n001000000000000AAA,X,1\nbad,Y,2\n")
    api.close(job["id"])
    assert billing.org.get("Account", acc)["Name"] == "Acme 2"
    assert billing.org.get("Account", acc)["MRR__c"] == 5  # an empty cell changes nothing
    failed = api.rows(job["id"], "failedResults")
    assert [r["sf__Error"].split(":")[0] for r in failed] == [
        "INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID"]
    # A field the user cannot see is not a field at all: the job fails.
    job = api.job(object=SUB, operation="insert")
    api.put(job["id"], "Name,Plan__c,Hidden__c\nPro,Pro,1\n")
    api.close(job["id"])
    info = api("GET", f"{JOBS}/{job['id']}").json()
    assert (info["state"], info["errorMessage"]) == (
        "Failed", "InvalidBatch : Field name not found : Hidden__c")
    assert [r["Name"] for r in api.rows(job["id"], "unprocessedrecords")] == ["Pro"]
    # A required field missing fails the row, as a REST insert would.
    job = api.job(object=SUB, operation="insert")
    api.put(job["id"], "Name,Status__c\nPro,active\n")
    api.close(job["id"])
    assert api.rows(job["id"], "failedResults")[0]["sf__Error"] == (
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Plan__c]:Plan__c --")


def test_upsert_duplicates_and_lock_failures(billing) -> None:
    api = Api(billing)
    job = api.job(object="Account", operation="upsert",
                  externalIdFieldName="stripe_customer_id__c")
    assert job["externalIdFieldName"] == "Stripe_Customer_Id__c"
    billing.fail_next(1, "UNABLE_TO_LOCK_ROW")
    api.put(job["id"], "Stripe_Customer_Id__c,Name\ncus_1,A\ncus_2,B\ncus_2,C\ncus_3,D\n")
    api.close(job["id"])
    failed = api.rows(job["id"], "failedResults")
    assert [r["sf__Error"].split(":")[0] for r in failed] == [
        "UNABLE_TO_LOCK_ROW", "DUPLICATE_EXTERNAL_ID", "DUPLICATE_EXTERNAL_ID"]
    assert [r["Name"] for r in api.rows(job["id"], "successfulResults")] == ["D"]


def test_create_job_errors(billing) -> None:
    api = Api(billing)

    def refused(**spec) -> tuple[int, str, str]:
        r = api("POST", JOBS, json=spec)
        return r.status_code, r.json()[0]["errorCode"], r.json()[0]["message"]

    assert refused(object="Account", operation="merge") == (
        400, "INVALIDJOB", "InvalidJob : Invalid operation: merge")
    assert refused(object="Nope__c", operation="insert") == (
        400, "INVALIDENTITY", "InvalidEntity : Entity 'Nope__c' is not supported by the Bulk "
        "API.")
    assert refused(object="Account", operation="upsert") == (
        400, "INVALIDJOB", "InvalidJob : External ID was blank for Account. An External ID must"
        " be specified for upsert.")
    assert refused(object="Account", operation="upsert", externalIdFieldName="Name")[2] == (
        "InvalidJob : Field name provided, Name is not an External ID or indexed field for "
        "Account")
    assert refused(object="Account", operation="insert", contentType="JSON")[1] == "INVALIDJOB"
    assert refused(object="Account", operation="insert", lineEnding="CR")[1] == "INVALIDJOB"
    assert api("POST", JOBS, data=b"", headers={"Content-Type": "application/json"}
               ).json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert api("POST", f"{V}/jobs/query", json={}).status_code == 501


def test_upload_and_state_errors(billing) -> None:
    api = Api(billing)
    job = api.job(object="Account", operation="insert", lineEnding="LF")
    wrong = api.put(job["id"], "Name\nAcme\n", kind="application/json")
    assert wrong.status_code == 400 and wrong.json()[0]["errorCode"] == "INVALIDCONTENTTYPE"
    bad = api.close(job["id"], "JobComplete")
    assert bad.status_code == 409 and bad.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    assert api("PUT", f"{JOBS}/750000000000000AAA/batches", data=b"Name\n",
               headers={"Content-Type": "text/csv"}).status_code == 404
    api.put(job["id"], "Name\r\nAcme\r\n")
    api.close(job["id"])
    info = api("GET", f"{JOBS}/{job['id']}").json()
    assert (info["state"], info["errorMessage"]) == (
        "Failed", "ClientInputError : LineEnding is invalid on user data. Current LineEnding "
        "setting is LF")
    aborted = api.job(object="Account", operation="insert")
    api.put(aborted["id"], "Name\nA\nB\n")
    assert api.close(aborted["id"], "Aborted").json()["state"] == "Aborted"
    assert [r["Name"] for r in api.rows(aborted["id"], "unprocessedrecords")] == ["A", "B"]
    assert billing.org.count("Account") == 0
    empty = api.job(object="Account", operation="insert")
    api.close(empty["id"])
    assert api("GET", f"{JOBS}/{empty['id']}").json()["state"] == "Failed"
    open_job = api.job(object="Account", operation="insert")
    assert api("DELETE", f"{JOBS}/{open_job['id']}").status_code == 409
    assert billing.counters["PUT jobs/ingest/{id}/batches"] >= 3


def test_delete_job_with_tab_delimiter(billing) -> None:
    api = Api(billing)
    keep, drop = (billing.org.insert("Account", {"Name": n}) for n in ("Keep", "Drop"))
    job = api.job(object="Account", operation="delete", columnDelimiter="TAB")
    assert job["columnDelimiter"] == "TAB"
    api.put(job["id"], f"Id\n{drop}\n{drop}\n")
    api.close(job["id"])
    ok, failed = api.rows(job["id"], "successfulResults"), api.rows(job["id"], "failedResults")
    assert [(r["sf__Id"], r["sf__Created"]) for r in ok] == [(drop, "false")]
    assert failed[0]["sf__Id"] == drop and failed[0]["sf__Error"].startswith("ENTITY_IS_DELETED")
    assert billing.org.get("Account", keep) and billing.org.get("Account", drop) is None
