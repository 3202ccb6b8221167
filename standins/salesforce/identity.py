"""Who am I: the identity URL (``/id/{orgId}/{userId}``), OpenID ``/services/oauth2/userinfo``
and Chatter's ``/chatter/users/me``, with the bodies and errors Salesforce sends.

The identity service answers its errors as a bare code in plain text (``Bad_OAuth_Token``,
``Missing_OAuth_Token``, ``Wrong_Org``, ``Bad_Id``, ``Inactive``, ``Invalid_Version``); those
calls are not API calls and carry no Sforce-Limit-Info.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from .ids import normalize_id
from .org import Org
from .security import Access
from .sferrors import SfError

__all__ = ["CHATTER_DISABLED", "chatter_me", "identity_response", "userinfo_response"]

CHATTER_DISABLED = SfError(403, "FUNCTIONALITY_NOT_ENABLED",
                           "Chatter is not enabled for this organization")
_VERSION = re.compile(r"^\d+\.\d$")


def _text(status: int, code: str) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "text/plain;charset=UTF-8"}, code.encode()


def _json(body: dict) -> tuple[int, dict, bytes]:
    return 200, {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(body).encode()


def _caller(org: Org, headers, params: dict) -> tuple[str | None, tuple | None]:
    """The calling user's name, or the error answer: a token in the Authorization header or
    the ``oauth_token`` parameter, as the identity service takes it."""
    header = headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme.lower() in ("bearer", "oauth") else ""
    token = token or params.get("oauth_token", "")
    if not token:
        return None, _text(403, "Missing_OAuth_Token")
    username = org.user_for_token(token)
    if username is None:
        return None, _text(403, "Bad_OAuth_Token")
    return username, None


def _names(user: dict) -> tuple[str, str]:
    first, _, last = (user.get("Name") or "").rpartition(" ")
    return first, last or user.get("Name") or ""


def _urls(instance_url: str, org: Org, user_id: str, version: str) -> dict:
    v = version
    data = f"{instance_url}/services/data/v{v}"
    return {
        "enterprise": f"{instance_url}/services/Soap/c/{v}/{org.org_id[:15]}",
        "metadata": f"{instance_url}/services/Soap/m/{v}/{org.org_id[:15]}",
        "partner": f"{instance_url}/services/Soap/u/{v}/{org.org_id[:15]}",
        "rest": f"{data}/",
        "sobjects": f"{data}/sobjects/",
        "search": f"{data}/search/",
        "query": f"{data}/query/",
        "recent": f"{data}/recent/",
        "tooling_soap": f"{instance_url}/services/Soap/T/{v}/{org.org_id[:15]}",
        "tooling_rest": f"{data}/tooling/",
        "profile": f"{instance_url}/{user_id}",
        "feeds": f"{data}/chatter/feeds",
        "groups": f"{data}/chatter/groups",
        "users": f"{data}/chatter/users",
        "feed_items": f"{data}/chatter/feed-items",
        "feed_elements": f"{data}/chatter/feed-elements",
        "custom_domain": instance_url,
    }


def _version(params: dict, latest: str) -> str | None:
    """The version the URLs carry: ``{version}`` literally unless the caller asks."""
    asked = params.get("version")
    if asked is None:
        return "{version}"
    if asked == "latest":
        return latest
    return asked if _VERSION.match(asked) else None


def identity_response(
    org: Org, login_url: str, path: str, query: str, headers, latest: str
) -> tuple[int, dict, bytes]:
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    username, error = _caller(org, headers, params)
    if error:
        return error
    pieces = [p for p in path.split("/") if p]  # ["id", orgId, userId]
    if len(pieces) != 3:
        return _text(404, "Bad_Id")
    if normalize_id(pieces[1]) != org.org_id:
        return _text(403, "Wrong_Org")
    user_id = normalize_id(pieces[2])
    target = org.get("User", user_id) if user_id else None
    if target is None:
        return _text(404, "Bad_Id")
    if not target.get("IsActive"):
        return _text(404, "Inactive")
    if params.get("format", "json") not in ("json", ""):
        raise SfError(501, "NOT_IMPLEMENTED", "The local Salesforce stand-in's identity "
                      "service answers JSON only")
    version = _version(params, latest)
    if version is None:
        return _text(406, "Invalid_Version")
    first, last = _names(target)
    uid = target["Id"]
    return _json({
        "id": f"{login_url}/id/{org.org_id}/{uid}",
        "asserted_user": target["Username"] == username,
        "user_id": uid,
        "organization_id": org.org_id,
        "username": target["Username"],
        "nick_name": target["Username"].split("@")[0],
        "display_name": target.get("Name"),
        "email": target.get("Email"),
        "email_verified": True,
        "first_name": first or None,
        "last_name": last,
        "timezone": "GMT",
        "photos": {"picture": f"{login_url}/profilephoto/005/F",
                   "thumbnail": f"{login_url}/profilephoto/005/T"},
        "addr_street": None, "addr_city": None, "addr_state": None, "addr_country": None,
        "addr_zip": None, "mobile_phone": None, "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": _urls(login_url, org, uid, version),
        "active": True,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "last_modified_date": target.get("LastModifiedDate"),
        "is_app_installed": True,
    })


def userinfo_response(
    org: Org, login_url: str, query: str, headers, latest: str
) -> tuple[int, dict, bytes]:
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    username, error = _caller(org, headers, params)
    if error:
        return error
    user = org.user_record(username or "")
    if user is None or not user.get("IsActive"):
        return _text(403, "Bad_OAuth_Token")
    first, last = _names(user)
    uid = user["Id"]
    return _json({
        "sub": f"{login_url}/id/{org.org_id}/{uid}",
        "user_id": uid,
        "organization_id": org.org_id,
        "preferred_username": user["Username"],
        "nickname": user["Username"].split("@")[0],
        "name": user.get("Name"),
        "email": user.get("Email"),
        "email_verified": True,
        "given_name": first or None,
        "family_name": last,
        "zoneinfo": "GMT",
        "photos": {"picture": f"{login_url}/profilephoto/005/F",
                   "thumbnail": f"{login_url}/profilephoto/005/T"},
        "profile": f"{login_url}/{uid}",
        "picture": f"{login_url}/profilephoto/005/F",
        "address": {},
        "urls": _urls(login_url, org, uid, _version(params, latest) or "{version}"),
        "active": True,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "updated_at": user.get("LastModifiedDate"),
        "is_app_installed": True,
    })


def chatter_me(org: Org, access: Access, version: str) -> dict:
    """``GET /chatter/users/me``: the Connect API's User Detail of the caller."""
    if not org.chatter_enabled:
        raise CHATTER_DISABLED
    user = org.user_record(access.username) or {}
    first, last = _names(user)
    uid = access.user_id
    return {
        "aboutMe": None,
        "additionalLabel": None,
        "address": None,
        "communityNickname": access.username.split("@")[0],
        "companyName": None,
        "displayName": user.get("Name"),
        "email": user.get("Email"),
        "firstName": first or None,
        "followersCount": 0,
        "groupCount": 0,
        "hasChatter": True,
        "id": uid,
        "isActive": bool(user.get("IsActive")),
        "isInThisCommunity": True,
        "lastName": last,
        "managerId": None,
        "managerName": None,
        "name": user.get("Name"),
        "outOfOffice": {"message": ""},
        "phoneNumbers": [],
        "photo": {"url": f"/services/data/v{version}/chatter/users/{uid}/photo"},
        "title": None,
        "type": "User",
        "url": f"/services/data/v{version}/chatter/users/{uid}",
        "userType": "Internal",
        "username": access.username,
    }
