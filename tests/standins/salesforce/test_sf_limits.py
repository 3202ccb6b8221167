"""API usage as Salesforce reports it (Sforce-Limit-Info), the daily limit and the concurrent
long-running request limit."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceRefusedRequest

V = "/services/data/v66.0"
DAILY = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
CONCURRENT = [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.",
               "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def get(standin, path: str, token: str | None = None):
    return standin.session().get(standin.instance_url + path, headers={
        "Authorization": f"Bearer {token or standin.issue_token()}"})


def test_every_rest_response_carries_api_usage(standin, sf) -> None:
    standin.set_api_usage(used=41, total=15_000)
    ok = get(standin, f"{V}/limits")
    assert ok.headers["Sforce-Limit-Info"] == "api-usage=42/15000"
    assert ok.json()["DailyApiRequests"] == {"Max": 15_000, "Remaining": 15_000 - 42}
    missing = get(standin, f"{V}/sobjects/Nope__c")
    assert missing.status_code == 404
    assert missing.headers["Sforce-Limit-Info"] == "api-usage=43/15000"
    expired = get(standin, f"{V}/limits", token="00D!nope")
    assert expired.status_code == 401 and "Sforce-Limit-Info" in expired.headers
    assert "Sforce-Limit-Info" not in standin.session().get(
        standin.instance_url + "/services/data/").headers
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == 44 and sf.api_usage["api-usage"].total == 15_000


def test_burst_allowance_in_the_header(standin, sf) -> None:
    standin.set_api_usage(used=110_017, total=100_000)
    standin.set_api_bursts(1, 750)
    over = get(standin, f"{V}/limits")
    assert over.headers["Sforce-Limit-Info"] == "api-usage=110017/100000; api-bursts=1/750"
    standin.set_api_usage(used=10)
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == 11  # simple-salesforce still reads api-usage
    standin.set_api_bursts(None)
    assert get(standin, f"{V}/limits").headers["Sforce-Limit-Info"] == "api-usage=12/100000"


def test_daily_limit_refuses_every_call_once_used_up(standin, sf) -> None:
    standin.set_api_usage(used=99, total=100)
    assert get(standin, f"{V}/limits").status_code == 200
    over = get(standin, f"{V}/limits")
    assert (over.status_code, over.json()) == (403, DAILY)
    assert over.headers["Sforce-Limit-Info"] == "api-usage=100/100"
    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.query("SELECT Id FROM Account")
    assert info.value.content == DAILY
    standin.set_api_usage(total=101)
    assert get(standin, f"{V}/limits").status_code == 200


def test_concurrent_long_request_limit_fails_the_next_calls(standin, sf) -> None:
    standin.set_api_usage(used=0)
    standin.fail_next(2, "CONCURRENT_LONG_TXN")
    first = get(standin, f"{V}/limits")
    assert (first.status_code, first.json()) == (403, CONCURRENT)
    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.query("SELECT Id FROM Account")
    assert info.value.content == CONCURRENT
    assert get(standin, f"{V}/limits").status_code == 200
    assert standin.org.api_usage == 1  # refused calls are not counted
    with pytest.raises(ValueError):
        standin.fail_next(1, "CONCURRENT_REQUEST_LIMIT")


def test_concurrent_limit_on_the_metadata_api(standin) -> None:
    standin.fail_next(1, "CONCURRENT_LONG_TXN")
    r = standin.session().post(standin.instance_url + "/services/Soap/m/66.0",
                               data=b"<x/>", headers={"Content-Type": "text/xml",
                                                     "SOAPAction": "checkDeployStatus"})
    assert r.status_code == 500
    assert ("<faultcode>sf:REQUEST_LIMIT_EXCEEDED</faultcode><faultstring>REQUEST_LIMIT_EXCEEDED:"
            " ConcurrentPerOrgLongTxn Limit exceeded.</faultstring>") in r.text
