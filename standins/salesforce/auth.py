"""``POST /services/oauth2/token``: the client-credentials and JWT bearer grants."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

import jwt

from .org import Org

__all__ = ["ConnectedApp", "token_request"]

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_JWT_LIFETIME = 180  # seconds: Salesforce wants exp at most 3 minutes ahead
LEEWAY = 5


@dataclass(frozen=True)
class ConnectedApp:
    client_id: str
    client_secret: str
    public_key_pem: bytes  # the certificate's key registered for the JWT bearer flow
    run_as: str  # client-credentials run-as user


def _error(error: str, description: str) -> tuple[int, dict]:
    return 400, {"error": error, "error_description": description}


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except ValueError:
        return None
    cid, _, secret = decoded.partition(":")
    return cid, secret


def token_request(
    org: Org, app: ConnectedApp, login_url: str, body: bytes, authorization: str | None
) -> tuple[int, dict]:
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    grant = form.get("grant_type", "")
    if grant == "client_credentials":
        creds = _basic_auth(authorization) or (
            form.get("client_id", ""), form.get("client_secret", "")
        )
        if not hmac.compare_digest(creds[0], app.client_id):
            return _error("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest(creds[1], app.client_secret):
            return _error("invalid_client", "invalid client credentials")
        return 200, _token_body(org, app, login_url, app.run_as)
    if grant == JWT_GRANT:
        return _jwt_grant(org, app, login_url, form.get("assertion", ""))
    return _error("unsupported_grant_type", "grant type not supported")


def _jwt_grant(org: Org, app: ConnectedApp, login_url: str, assertion: str) -> tuple[int, dict]:
    try:
        claims = jwt.decode(
            assertion,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iss", "sub", "aud", "exp"], "verify_aud": False},
            leeway=LEEWAY,
        )
    except jwt.ExpiredSignatureError:
        return _error("invalid_grant", "expired authorization code")
    except jwt.PyJWTError:
        return _error("invalid_grant", "invalid assertion")
    if claims["iss"] != app.client_id:
        return _error("invalid_client_id", "client identifier invalid")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if not any(str(a).rstrip("/") == login_url.rstrip("/") for a in audiences):
        return _error("invalid_grant", "audience is invalid")
    if float(claims["exp"]) > time.time() + MAX_JWT_LIFETIME + LEEWAY:
        return _error("invalid_grant", "invalid assertion")
    user = org.user_record(str(claims["sub"]))
    if user is None or not user.get("IsActive"):
        return _error("invalid_grant", "user hasn't approved this consumer")
    return 200, _token_body(org, app, login_url, user["Username"])


def _token_body(org: Org, app: ConnectedApp, login_url: str, username: str) -> dict:
    token = org.issue_token(username)
    user_id = org.user_id(username)
    issued_at = str(int(time.time() * 1000))
    identity = f"{login_url}/id/{org.org_id}/{user_id}"
    signature = base64.b64encode(
        hmac.new(app.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256)
        .digest()
    ).decode()
    return {
        "access_token": token,
        "signature": signature,
        "scope": "api",
        "instance_url": login_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
    }
