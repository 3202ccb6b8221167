"""The stand-in over HTTPS, driven as a new user would: simple-salesforce and plain requests."""

from __future__ import annotations

import time

import jwt
import pytest
from sf_support import ERR, SUB
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

V = "/services/data/v66.0"


def call(standin, method: str, path: str, token: str | None = None, **kw):
    headers = kw.pop("headers", {})
    headers["Authorization"] = f"Bearer {token or standin.issue_token()}"
    return standin.session().request(method, standin.instance_url + path, headers=headers, **kw)


def upsert_body(n: int, start: int = 0) -> dict:
    return {"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "Name": f"Customer {i}",
         "Stripe_Customer_Id__c": f"cus_{i:06d}", "MRR__c": 10.5}
        for i in range(start, start + n)]}


def test_acceptance_with_simple_salesforce(billing, sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Acme", "Stripe_Customer_Id__c": "cus_A"})
    assert created["success"] and created["id"].startswith("001")
    assert sf.Account.upsert("Stripe_Customer_Id__c/cus_B", {"Name": "Beta"}) == 201
    assert sf.Account.upsert("Stripe_Customer_Id__c/cus_B", {"Name": "Beta 2"}) == 200
    body = upsert_body(200)
    body["records"][7]["Billing_Status__c"] = "Bogus"
    results = sf.restful("composite/sobjects/Account/Stripe_Customer_Id__c", method="PATCH",
                         json=body)
    assert len(results) == 200 and sum(r["success"] for r in results) == 199
    assert results[7] == {"success": False, "errors": [{
        "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "message": "Billing Status: bad value for restricted picklist field: Bogus",
        "fields": ["Billing_Status__c"]}]}
    assert results[0]["created"] is True and results[0]["errors"] == []
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("composite/sobjects/Account/Stripe_Customer_Id__c", method="PATCH",
                   json=upsert_body(201))
    assert info.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 201
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Id, Stripe_Customer_ID__c, Bogus__c FROM Account")
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Bogus__c' on entity 'Account'" in info.value.content[0]["message"]
    rows = sf.query("SELECT Name, MRR__c, Owner.Username FROM Account "
                    "WHERE Stripe_Customer_Id__c = 'cus_B'")["records"]
    assert rows[0]["Name"] == "Beta 2" and rows[0]["MRR__c"] is None
    assert rows[0]["Owner"]["Username"] == billing.username


def test_query_values_come_back_as_salesforce_sends_them(billing, sf) -> None:
    acc = sf.Account.create({"Name": "Acme", "Renewal_Date__c": "2026-12-01",
                             "Last_Billing_Sync__c": "2026-11-26T12:17:22+01:00",
                             "MRR__c": "99.999"})["id"]
    sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": SUB}, "Name": "Pro", "Plan__c": "Pro", "Account__c": acc,
         "Stripe_Subscription_Id__c": "sub_1", "Quantity__c": 3},
        {"attributes": {"type": SUB}, "Name": "Orphan", "Plan__c": "Lite",
         "Stripe_Subscription_Id__c": "sub_2"}]})
    acc_row = sf.query("SELECT Renewal_Date__c, Last_Billing_Sync__c, MRR__c, CreatedDate "
                       "FROM Account")["records"][0]
    assert acc_row["Renewal_Date__c"] == "2026-12-01"
    assert acc_row["Last_Billing_Sync__c"] == "2026-11-26T11:17:22.000+0000"
    assert acc_row["MRR__c"] == 100.0
    assert len(acc_row["CreatedDate"]) == 28 and acc_row["CreatedDate"].endswith("+0000")
    subs = sf.query(f"SELECT Name, Account__r.Name, Cancel_At_Period_End__c, Quantity__c FROM "
                    f"{SUB} ORDER BY Name")["records"]
    assert subs[0]["Account__r"] is None and subs[1]["Account__r"]["Name"] == "Acme"
    assert subs[1]["Account__r"]["attributes"]["type"] == "Account"
    assert subs[1]["Cancel_At_Period_End__c"] is False and subs[1]["Quantity__c"] == 3.0


def test_where_operators_and_ordering(billing, sf) -> None:
    billing.org.insert_many("Account", [
        {"Name": "alpha", "MRR__c": 5, "Stripe_Customer_Id__c": "cus_a"},
        {"Name": "Bravo", "MRR__c": 50},
        {"Name": "charlie", "Stripe_Customer_Id__c": "cus_C"},
        {"Name": "O'Neil", "MRR__c": 500, "Renewal_Date__c": "2026-01-31"},
    ])

    def names(where: str, order: str = "ORDER BY Name") -> list[str]:
        return [r["Name"] for r in sf.query(f"SELECT Name FROM Account {where} {order}")
                ["records"]]

    assert names("") == ["alpha", "Bravo", "charlie", "O'Neil"]  # case-insensitive sort
    assert names("WHERE MRR__c != null", "ORDER BY MRR__c DESC") == ["O'Neil", "Bravo", "alpha"]
    assert names("WHERE MRR__c != 5") == ["Bravo", "charlie", "O'Neil"]  # nulls included
    assert names("WHERE MRR__c NOT IN (5, 50)") == ["charlie", "O'Neil"]
    assert names("WHERE Name = 'BRAVO'") == ["Bravo"]  # text equality ignores case...
    assert names("WHERE Stripe_Customer_Id__c = 'cus_c'") == []  # ...but not on this field
    assert names("WHERE Stripe_Customer_Id__c IN ('cus_a', 'cus_C')") == ["alpha", "charlie"]
    assert names("WHERE Name LIKE '%a%' AND NOT (MRR__c > 10)") == ["alpha", "charlie"]
    assert names("WHERE Name = 'O\\'Neil' OR Renewal_Date__c < 2026-02-01") == ["O'Neil"]
    assert names("", "ORDER BY MRR__c NULLS LAST, Name LIMIT 2 OFFSET 2") == ["O'Neil", "charlie"]
    assert names("", "ORDER BY MRR__c") == ["charlie", "alpha", "Bravo", "O'Neil"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Id FROM Account WHERE MRR__c = '5'")
    assert "must be of type double" in info.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Id FROM Account WHERE Id = 'nope'")
    assert info.value.content[0]["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query(f"SELECT Id FROM {ERR} WHERE Message__c = 'x'")
    assert "can not be filtered" in info.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Id FROM Nope__c")
    assert info.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_query_paging_with_locators_and_batch_size(billing, sf) -> None:
    billing.org.insert_many("Account", [{"Name": f"A{i:05d}"} for i in range(4500)])
    first = sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    assert first["totalSize"] == 4500 and not first["done"] and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith(f"{V}/query/")
    names = [r["Name"] for r in sf.query_all_iter("SELECT Name FROM Account ORDER BY Name")]
    assert names == [f"A{i:05d}" for i in range(4500)]
    small = call(billing, "GET", f"{V}/query", params={"q": "SELECT Id FROM Account"},
                 headers={"Sforce-Query-Options": "batchSize=300"}).json()
    assert len(small["records"]) == 300
    nxt = call(billing, "GET", small["nextRecordsUrl"]).json()
    assert len(nxt["records"]) == 300 and nxt["records"][0] != small["records"][0]
    bad = call(billing, "GET", f"{V}/query/01gBOGUS-2000")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_single_record_crud_and_upsert_errors(billing, sf) -> None:
    acc = sf.Account.create({"Name": "Acme"})["id"]
    assert sf.Account.update(acc, {"Phone": "555"}) == 204
    record = sf.Account.get(acc[:15])
    assert record["Phone"] == "555" and record["attributes"]["type"] == "Account"
    assert record["LastModifiedDate"] >= record["CreatedDate"]
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Account.upsert("Name/Acme", {"Phone": "1"})
    assert info.value.content[0]["message"] == (
        "Provided external ID field does not exist or is not accessible: Name")
    assert sf.Account.delete(acc) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(acc)
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Phone": "1"})
    assert info.value.content == [{"message": "Required fields are missing: [Name]",
                                   "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name"]}]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Name": "x", "CreatedDate": "2020-01-01T00:00:00Z"})
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Name": "x", "MRR__c": "lots"})
    assert info.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Name": "x", "Colour__c": "red"})
    assert info.value.content[0] == {
        "message": "No such column 'Colour__c' on sobject of type Account",
        "errorCode": "INVALID_FIELD"}
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Name": "x", "MRR__c": 1e15})
    assert info.value.content[0]["errorCode"] == "NUMBER_OUTSIDE_VALID_RANGE"


def test_upsert_matching_several_records_answers_300(billing, sf) -> None:
    from standins.salesforce.components import FieldSpec, MetadataChange

    billing.org.apply_metadata(MetadataChange(fields=(
        FieldSpec("Account", "Legacy_Id__c", "Text", length=20, external_id=True),)))
    billing.org.insert_many("Account", [{"Name": "a", "Legacy_Id__c": "L1"},
                                        {"Name": "b", "Legacy_Id__c": "l1"}])
    billing.org.apply_metadata(MetadataChange(permission_sets=(
        billing.org.get_permission_set("Billing_Sync_Integration").__class__(
            "Legacy", "Legacy", field_permissions=(("Account.Legacy_Id__c", True, True),)),)))
    billing.org.assign_permission_set(billing.username, "Legacy")
    with pytest.raises(SalesforceMoreThanOneRecord) as info:
        sf.Account.upsert("Legacy_Id__c/L1", {"Name": "c"})
    assert len(info.value.content) == 2 and info.value.content[0].startswith(f"{V}/sobjects/")


def test_collections_rules_and_all_or_none(billing, sf) -> None:
    existing = sf.Account.create({"Name": "Dup", "Stripe_Customer_Id__c": "cus_dup"})["id"]
    res = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "Name": "ok"},
        {"attributes": {"type": "Account"}, "Name": "dup", "Stripe_Customer_Id__c": "cus_dup"},
        {"attributes": {"type": "Account"}, "Name": "x" * 256},
        {"attributes": {"type": SUB}, "Name": "s", "Plan__c": "p", "Account__c": "001bad"},
        {"attributes": {"type": SUB}, "Name": "s", "Plan__c": "p", "Account__c": existing[:-3]
         .replace("1", "9", 1)},
    ]})
    assert res[0]["success"] and "created" not in res[0]
    assert res[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert existing in res[1]["errors"][0]["message"]
    assert res[2]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert res[3]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert res[4]["errors"][0]["statusCode"] in ("INVALID_CROSS_REFERENCE_KEY",
                                                  "FIELD_INTEGRITY_EXCEPTION")
    before = billing.org.count("Account")
    res = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "Name": "ok"},
        {"attributes": {"type": "Account"}, "Phone": "no name"},
    ]})
    assert [r["errors"][0]["statusCode"] for r in res] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK", "REQUIRED_FIELD_MISSING"]
    assert billing.org.count("Account") == before
    upd = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Account"}, "Id": existing, "Phone": "1"},
        {"attributes": {"type": "Account"}, "Phone": "2"}]})
    assert upd[0] == {"id": existing, "success": True, "errors": []}
    assert upd[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    no_type = call(billing, "POST", f"{V}/composite/sobjects", json={"records": [{"Name": "x"}]})
    assert no_type.status_code == 400 and no_type.json()[0]["errorCode"] == "INVALID_TYPE"
    dups = sf.restful(f"composite/sobjects/{SUB}/Stripe_Subscription_Id__c", method="PATCH",
                      json={"records": [
                          {"attributes": {"type": SUB}, "Plan__c": "p",
                           "Stripe_Subscription_Id__c": "s1"},
                          {"attributes": {"type": SUB}, "Plan__c": "p",
                           "Stripe_Subscription_Id__c": "s1"},
                          {"attributes": {"type": SUB}, "Plan__c": "p"}]})
    assert [r["errors"][0]["statusCode"] for r in dups] == [
        "DUPLICATE_EXTERNAL_ID", "DUPLICATE_EXTERNAL_ID", "MISSING_ARGUMENT"]
    deleted = call(billing, "DELETE", f"{V}/composite/sobjects",
                   params={"ids": f"{existing},001000000000000AAA"}).json()
    assert deleted[0] == {"id": existing, "success": True, "errors": []}
    assert not deleted[1]["success"]


def test_lookup_set_null_on_delete_and_validation_rules(billing, sf) -> None:
    acc = sf.Account.create({"Name": "Acme"})["id"]
    sub = sf.restful(f"sobjects/{SUB}", method="POST",
                     json={"Plan__c": "Pro", "Account__c": acc})["id"]
    sf.Account.delete(acc)
    assert billing.org.get(SUB, sub)["Account__c"] is None
    billing.add_validation_rule(SUB, lambda r: (r["Quantity__c"] or 0) > 10,
                                "Quantity too high", field="Quantity__c")
    res = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": SUB}, "Id": sub, "Quantity__c": 11},
        {"attributes": {"type": SUB}, "Id": sub, "Quantity__c": 9}]})
    assert res[0]["errors"] == [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                 "message": "Quantity too high", "fields": ["Quantity__c"]}]
    assert res[1]["success"] and billing.org.get(SUB, sub)["Quantity__c"] == 9.0


def test_fls_hides_fields_in_describe_and_writes(standin, sf) -> None:
    from sf_support import billing_change

    standin.org.apply_metadata(billing_change())
    names = {f["name"] for f in sf.Account.describe()["fields"]}
    assert "Name" in names and "MRR__c" not in names
    assert SUB not in {o["name"] for o in sf.describe()["sobjects"]}
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Name": "x", "MRR__c": 1})
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD"
    ps = sf.query("SELECT Id FROM PermissionSet WHERE Name = 'Billing_Sync_Viewer'")
    me = sf.query(f"SELECT Id FROM User WHERE Username = '{standin.username}'")["records"][0]["Id"]
    sf.PermissionSetAssignment.create({"AssigneeId": me,
                                       "PermissionSetId": ps["records"][0]["Id"]})
    field = next(f for f in sf.Account.describe()["fields"] if f["name"] == "MRR__c")
    assert field["type"] == "currency" and not field["updateable"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Name": "x", "MRR__c": 1})
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_faults_limits_and_counters(billing, sf) -> None:
    billing.reset_counters()
    billing.fail_next(1, "UNABLE_TO_LOCK_ROW")
    res = sf.restful("composite/sobjects/Account/Stripe_Customer_Id__c", method="PATCH",
                     json=upsert_body(3))
    assert [r["success"] for r in res] == [False, True, True]
    assert res[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    billing.fail_next(1, "SERVER_UNAVAILABLE")
    r = call(billing, "GET", f"{V}/limits")
    assert r.status_code == 503 and r.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    limits = call(billing, "GET", f"{V}/limits")
    used, cap = limits.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
    assert int(cap) == 100_000
    assert limits.json()["DailyApiRequests"] == {"Max": 100_000, "Remaining": 100_000 - int(used)}
    billing.set_daily_limit(int(used) + 1)
    assert call(billing, "GET", f"{V}/limits").status_code == 200
    over = call(billing, "GET", f"{V}/limits")
    assert over.status_code == 403 and over.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert billing.counters["PATCH composite/sobjects/{type}"] == 1
    assert billing.counters["GET limits"] == 4 and billing.api_calls() == 5
    billing.set_daily_limit(100_000)
    billing.set_latency(0.2)
    t0 = time.monotonic()
    call(billing, "GET", f"{V}/limits")
    assert time.monotonic() - t0 >= 0.2


def test_expired_token_and_versions(standin, sf) -> None:
    standin.expire_all_tokens()
    with pytest.raises(SalesforceExpiredSession) as info:
        sf.query("SELECT Id FROM Account")
    assert info.value.content == [{"message": "Session expired or invalid",
                                   "errorCode": "INVALID_SESSION_ID"}]
    versions = standin.session().get(standin.instance_url + "/services/data/").json()
    assert versions[0]["version"] == "46.0" and versions[-1]["version"] == "68.0"
    assert {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"} in versions
    assert call(standin, "GET", "/services/data/v45.0/limits").status_code == 404
    assert call(standin, "GET", f"{V}/queryAll", params={"q": "x"}).status_code == 501


def test_oauth_client_credentials_and_jwt(standin) -> None:
    s = standin.session()
    url = standin.login_url + "/services/oauth2/token"
    ok = s.post(url, data={"grant_type": "client_credentials", "client_id": standin.client_id,
                           "client_secret": standin.client_secret})
    body = ok.json()
    assert ok.status_code == 200 and body["token_type"] == "Bearer"
    assert body["instance_url"] == standin.instance_url
    assert {"id", "issued_at", "signature", "scope"} <= set(body)
    assert call(standin, "GET", f"{V}/limits", token=body["access_token"]).status_code == 200
    bad = s.post(url, data={"grant_type": "client_credentials", "client_id": standin.client_id,
                            "client_secret": "wrong"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"
    key = standin.private_key_file.read_bytes()

    def assertion(**claims) -> str:
        base = {"iss": standin.client_id, "sub": standin.username,
                "aud": "https://login.salesforce.com", "exp": int(time.time()) + 120}
        base.update(claims)
        return jwt.encode(base, key, algorithm="RS256")

    def grant(token: str):
        return s.post(url, data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                 "assertion": token})

    assert grant(assertion()).status_code == 200
    assert grant(assertion(aud=standin.login_url)).json() == {
        "error": "invalid_grant", "error_description": "audience is invalid"}
    assert grant(assertion(exp=int(time.time()) - 60)).json()["error"] == "invalid_grant"
    assert grant(assertion(exp=int(time.time()) + 600)).json()["error"] == "invalid_grant"
    assert grant(assertion(sub="nobody@example.com")).json()["error"] == "invalid_grant"
    assert grant(assertion(iss="someone-else")).json()["error"] == "invalid_client_id"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    forged = jwt.encode({"iss": standin.client_id, "sub": standin.username,
                         "aud": standin.jwt_audience, "exp": int(time.time()) + 60},
                        other, algorithm="RS256")
    assert grant(forged).json() == {"error": "invalid_grant",
                                    "error_description": "invalid assertion"}
    assert s.post(url, data={"grant_type": "password"}).json()["error"] == (
        "unsupported_grant_type")


def test_cli_serve_prints_connection_lines(tmp_path) -> None:
    import io
    import threading

    from standins.salesforce.cli import serve

    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=serve, args=(0, tmp_path),
                              kwargs={"out": out, "stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while out.getvalue().count("\n") < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
        assert set(lines) == {"login_url", "instance_url", "username", "client_id",
                              "client_secret", "private_key_file", "ca_file", "access_token"}
        session = __import__("requests").Session()
        session.trust_env = False
        r = session.get(lines["instance_url"] + f"{V}/limits", verify=lines["ca_file"],
                        headers={"Authorization": f"Bearer {lines['access_token']}"})
        assert r.status_code == 200
        assert (tmp_path / "jwt-private-key.pem").stat().st_mode & 0o077 == 0
    finally:
        stop.set()
        thread.join(timeout=5)
