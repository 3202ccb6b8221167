"""JWT bearer rules as Salesforce applies them, and the who-am-I endpoints: the identity URL,
OpenID userinfo and Chatter's users/me."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from standins.salesforce import SalesforceStandIn

V = "/services/data/v66.0"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def assertion(standin, **claims) -> str:
    base = {"iss": standin.client_id, "sub": standin.username,
            "aud": "https://login.salesforce.com", "exp": int(time.time()) + 170}
    base.update(claims)
    base = {k: v for k, v in base.items() if v is not None}
    return jwt.encode(base, standin.private_key_file.read_bytes(), algorithm="RS256")


def grant(standin, token: str):
    return standin.session().post(standin.login_url + "/services/oauth2/token",
                                  data={"grant_type": JWT_GRANT, "assertion": token})


def refused(description: str, error: str = "invalid_grant") -> dict:
    return {"error": error, "error_description": description}


def test_audience_is_salesforce_login_server_not_the_token_url(standin) -> None:
    assert standin.jwt_audience == "https://login.salesforce.com"
    assert grant(standin, assertion(standin)).status_code == 200
    assert grant(standin, assertion(standin, aud="https://login.salesforce.com/")).ok
    assert grant(standin, assertion(standin, aud=["https://login.salesforce.com"])).ok
    for aud in (standin.login_url, standin.login_url + "/services/oauth2/token",
                "https://test.salesforce.com", "https://acme.my.salesforce.com", ""):
        r = grant(standin, assertion(standin, aud=aud))
        assert (r.status_code, r.json()) == (400, refused("audience is invalid")), aud


def test_a_sandbox_wants_test_salesforce_com(tmp_path) -> None:
    with SalesforceStandIn(tmp_path / "sbx", sandbox=True) as sandbox:
        assert sandbox.jwt_audience == "https://test.salesforce.com"
        ok = grant(sandbox, assertion(sandbox, aud="https://test.salesforce.com"))
        assert ok.status_code == 200
        bad = grant(sandbox, assertion(sandbox, aud="https://login.salesforce.com"))
        assert bad.json() == refused("audience is invalid")


def test_exp_iss_sub_and_signature(standin) -> None:
    now = int(time.time())
    assert grant(standin, assertion(standin, exp=now - 60)).json() == refused(
        "expired authorization code")
    assert grant(standin, assertion(standin, exp=now + 600)).json() == refused(
        "invalid assertion")
    # simple-salesforce sends exp as a string of seconds: accepted.
    assert grant(standin, assertion(standin, exp=str(now + 170))).status_code == 200
    assert grant(standin, assertion(standin, exp=None)).json() == refused("invalid assertion")
    assert grant(standin, assertion(standin, iss="3MVG9someone-else")).json() == refused(
        "client identifier invalid", "invalid_client_id")
    assert grant(standin, assertion(standin, sub="nobody@example.com")).json() == refused(
        "user hasn't approved this consumer")
    uid = standin.org.user_id(standin.username)
    standin.org.update("User", uid, {"IsActive": False})
    assert grant(standin, assertion(standin)).json() == refused(
        "user hasn't approved this consumer")
    standin.org.update("User", uid, {"IsActive": True})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    forged = jwt.encode({"iss": standin.client_id, "sub": standin.username,
                         "aud": standin.jwt_audience, "exp": now + 60}, other, algorithm="RS256")
    assert grant(standin, forged).json() == refused("invalid assertion")
    hs = jwt.encode({"iss": standin.client_id, "sub": standin.username,
                     "aud": standin.jwt_audience, "exp": now + 60}, "x" * 32, algorithm="HS256")
    assert grant(standin, hs).json() == refused("invalid assertion")
    assert grant(standin, "not-a-jwt").json() == refused("invalid assertion")


def test_token_id_is_the_identity_url_and_it_answers(standin) -> None:
    body = grant(standin, assertion(standin)).json()
    uid = standin.org.user_id(standin.username)
    assert body["id"] == f"{standin.login_url}/id/{standin.org.org_id}/{uid}"
    s = standin.session()
    me = s.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and "Sforce-Limit-Info" not in me.headers
    info = me.json()
    assert (info["user_id"], info["organization_id"], info["username"]) == (
        uid, standin.org.org_id, standin.username)
    assert info["id"] == body["id"] and info["asserted_user"] is True and info["active"]
    assert info["urls"]["rest"] == f"{standin.instance_url}/services/data/v{{version}}/"
    latest = s.get(body["id"], params={"oauth_token": body["access_token"], "version": "66.0"})
    assert latest.json()["urls"]["sobjects"] == f"{standin.instance_url}{V}/sobjects/"
    admin = standin.org.admin_user_id
    other = s.get(f"{standin.login_url}/id/{standin.org.org_id}/{admin}",
                  headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert other["user_id"] == admin and other["asserted_user"] is False


def test_identity_url_errors(standin) -> None:
    s, token = standin.session(), standin.issue_token()
    org, uid = standin.org.org_id, standin.org.user_id(standin.username)
    auth = {"Authorization": f"Bearer {token}"}

    def get(path: str, **kw):
        r = s.get(standin.login_url + path, **kw)
        return r.status_code, r.text

    assert get(f"/id/{org}/{uid}") == (403, "Missing_OAuth_Token")
    assert get(f"/id/{org}/{uid}", headers={"Authorization": "Bearer nope"}) == (
        403, "Bad_OAuth_Token")
    assert get(f"/id/00D000000000001AAA/{uid}", headers=auth) == (403, "Wrong_Org")
    assert get(f"/id/{org}/005000000000001AAA", headers=auth) == (404, "Bad_Id")
    assert get(f"/id/{org}/{uid}", headers=auth, params={"version": "v66"}) == (
        406, "Invalid_Version")
    standin.org.update("User", standin.org.admin_user_id, {"IsActive": False})
    assert get(f"/id/{org}/{standin.org.admin_user_id}", headers=auth) == (404, "Inactive")


def test_userinfo_is_openid(standin) -> None:
    s, token = standin.session(), standin.issue_token()
    url = standin.login_url + "/services/oauth2/userinfo"
    info = s.get(url, headers={"Authorization": f"Bearer {token}"}).json()
    uid = standin.org.user_id(standin.username)
    assert info["sub"] == f"{standin.login_url}/id/{standin.org.org_id}/{uid}"
    assert (info["user_id"], info["organization_id"], info["preferred_username"]) == (
        uid, standin.org.org_id, standin.username)
    assert info["email"] == standin.username and info["name"] == "Billing Sync Integration"
    assert (info["given_name"], info["family_name"]) == ("Billing Sync", "Integration")
    bad = s.get(url, headers={"Authorization": "Bearer nope"})
    assert (bad.status_code, bad.text) == (403, "Bad_OAuth_Token")
    standin.expire_all_tokens()
    assert s.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_chatter_users_me_and_an_org_without_chatter(standin, sf) -> None:
    me = sf.restful("chatter/users/me")
    uid = standin.org.user_id(standin.username)
    assert (me["id"], me["username"], me["type"], me["userType"]) == (
        uid, standin.username, "User", "Internal")
    assert me["url"] == f"{V}/chatter/users/{uid}"
    standin.set_chatter_enabled(False)
    r = standin.session().get(standin.instance_url + f"{V}/chatter/users/me",
                              headers={"Authorization": f"Bearer {standin.issue_token()}"})
    assert r.status_code == 403 and "Sforce-Limit-Info" in r.headers
    assert r.json() == [{"message": "Chatter is not enabled for this organization",
                         "errorCode": "FUNCTIONALITY_NOT_ENABLED"}]
    standin.set_chatter_enabled(True)
    assert sf.restful("chatter/users/me")["id"] == uid
    with pytest.raises(Exception) as info:
        sf.restful("chatter/feeds/news/me")
    assert getattr(info.value, "status", None) == 501
