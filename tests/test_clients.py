"""Client wiring against the stand-ins: the three Salesforce auth modes, renewal, refusal;
Stripe's proxy from the environment."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from scheduler.cli import main
from scheduler.clients import build_salesforce, build_stripe
from scheduler.settings import load_settings
from sync.errors import StopCycle
from sync.stripe_io.raw import RawReader
from tests.loopback import serve


@pytest.fixture
def sf_standin(tmp_path):
    from standins.salesforce import SalesforceStandIn

    with SalesforceStandIn(tmp_path / "sf") as standin:
        yield standin


def base(standin, tmp_path):
    return {"STRIPE_API_KEY": "sk_test_fake_clients", "SALESFORCE_LOGIN_URL": standin.login_url,
            "SALESFORCE_CA_BUNDLE": str(standin.ca_file), "BILLING_SYNC_DB": str(tmp_path / "s.db")}


def test_jwt_bearer_login_and_renewal(sf_standin, tmp_path):
    env = {**base(sf_standin, tmp_path), "SALESFORCE_CLIENT_ID": sf_standin.client_id,
           "SALESFORCE_USERNAME": sf_standin.username,
           "SALESFORCE_PRIVATE_KEY_FILE": str(sf_standin.private_key_file)}
    conn = build_salesforce(load_settings(env))
    assert conn.sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    sf_standin.expire_all_tokens()
    assert conn.sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert conn.reauth_count == 1


def test_wrong_client_secret_is_refused_without_echoing_it(sf_standin, tmp_path):
    env = {**base(sf_standin, tmp_path), "SALESFORCE_CLIENT_ID": sf_standin.client_id,
           "SALESFORCE_CLIENT_SECRET": "definitely-wrong-secret"}
    with pytest.raises(StopCycle) as info:
        build_salesforce(load_settings(env))
    assert "refused" in info.value.message and "definitely-wrong-secret" not in str(info.value)


def test_direct_token_cannot_be_renewed_and_says_so(sf_standin, tmp_path):
    env = {**base(sf_standin, tmp_path), "SALESFORCE_INSTANCE_URL": sf_standin.instance_url,
           "SALESFORCE_ACCESS_TOKEN": sf_standin.issue_token()}
    conn = build_salesforce(load_settings(env))
    assert conn.sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    sf_standin.expire_all_tokens()
    with pytest.raises(StopCycle, match="cannot be renewed"):
        conn.sf.query("SELECT COUNT() FROM Account")


def test_check_reaches_both_stand_ins(world, capsys):
    assert main(["check"], environ=world.env) == 0
    out = capsys.readouterr().out
    assert "metadata deployed v2 (current)" in out and "API 66.0" in out
    assert world.sf_standin.username in out
    assert "stripe" in out and "2026-10-28.endive" in out
    assert world.env["SALESFORCE_CLIENT_SECRET"] not in out


def test_check_says_when_metadata_is_missing(sf_standin, tmp_path, capsys):
    env = {**base(sf_standin, tmp_path), "SALESFORCE_CLIENT_ID": sf_standin.client_id,
           "SALESFORCE_CLIENT_SECRET": sf_standin.client_secret,
           "STRIPE_API_BASE": "http://127.0.0.1:9"}
    assert main(["check"], environ=env) == 1  # Stripe unreachable
    assert "metadata not deployed (run billing-sync deploy)" in capsys.readouterr().out


def test_check_reports_an_unreachable_service(world, capsys):
    env = {**world.env, "STRIPE_API_BASE": "http://127.0.0.1:9"}
    assert main(["check"], environ=env) == 1
    assert "FAILED" in capsys.readouterr().out


def test_check_as_json_is_one_object(world, capsys):
    import json

    assert main(["check", "--json"], environ=world.env) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert {s["service"] for s in data["services"]} >= {"configuration", "database", "stripe",
                                                        "salesforce", "slack"}
    assert all(s["status"] == "ok" for s in data["services"])


class _ProxyOrApi(BaseHTTPRequestHandler):
    """Answers any GET with an empty Stripe list, noting the request line it was sent."""

    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = b'{"object": "list", "data": [], "has_more": false, "url": "/v1/customers"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener():
    _ProxyOrApi.seen = []
    with serve(_ProxyOrApi) as url:
        yield url


TOKEN = {"STRIPE_API_KEY": "sk_test_fake_clients", "SALESFORCE_INSTANCE_URL": "https://sf.test",
         "SALESFORCE_ACCESS_TOKEN": "00Dfake!token"}


def test_stripe_goes_through_the_environments_proxy_and_honours_no_proxy(listener, monkeypatch):
    # The session reads the environment once, when the client is built, not per request.
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", listener)
    via_proxy = build_stripe(load_settings({**TOKEN, "STRIPE_API_BASE": "http://stripe.test"}))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # read per request, this would fail
    RawReader(via_proxy).get("/v1/customers", {"limit": 1})
    assert _ProxyOrApi.seen == ["http://stripe.test/v1/customers?limit=1"]

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = build_stripe(load_settings({**TOKEN, "STRIPE_API_BASE": listener}))
    RawReader(direct).get("/v1/customers", {"limit": 1})
    assert _ProxyOrApi.seen[1:] == ["/v1/customers?limit=1"]


def test_salesforce_replies_are_plain_dicts_and_json_orjson_refuses_still_parses(
    sf_standin, tmp_path
):
    env = {**base(sf_standin, tmp_path), "SALESFORCE_CLIENT_ID": sf_standin.client_id,
           "SALESFORCE_CLIENT_SECRET": sf_standin.client_secret}
    conn = build_salesforce(load_settings(env))
    conn.sf.Account.create({"Name": "Plain"})
    # A lone surrogate escape (a name cut mid-character by another integration): valid for
    # json, refused by orjson, so that reply takes simple-salesforce's own parse.
    conn.sf.Account.create({"Name": "Cut \ud83d"})
    page = conn.sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    assert type(page) is dict and all(type(r) is dict for r in page["records"])
    assert sorted(r["Name"] for r in page["records"]) == ["Cut \ud83d", "Plain"]
    plain = conn.sf.query("SELECT Id, Name FROM Account WHERE Name = 'Plain'")
    assert type(plain["records"][0]) is dict and plain["records"][0]["Name"] == "Plain"
