"""``POST /services/oauth2/token``: the client-credentials and JWT bearer grants.

The JWT bearer rules follow Salesforce: the assertion's ``aud`` names the login server of the
org's kind (https://login.salesforce.com for production and My Domain orgs,
https://test.salesforce.com for sandboxes), never the URL the token request is POSTed to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

import jwt

from .org import Org

__all__ = [
    "PRODUCTION_AUDIENCE",
    "SANDBOX_AUDIENCE",
    "ConnectedApp",
    "jwt_audience",
    "token_request",
]

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_JWT_LIFETIME = 180  # seconds: Salesforce wants exp at most 3 minutes ahead
LEEWAY = 5
PRODUCTION_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"


@dataclass(frozen=True)
class ConnectedApp:
    client_id: str
    client_secret: str
    public_key_pem: bytes  # the certificate's key registered for the JWT bearer flow
    run_as: str  # client-credentials run-as user


def jwt_audience(sandbox: bool) -> str:
    return SANDBOX_AUDIENCE if sandbox else PRODUCTION_AUDIENCE


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
    org: Org, app: ConnectedApp, login_url: str, body: bytes, authorization: str | None,
    *, sandbox: bool = False, now: float | None = None,
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
        return _jwt_grant(org, app, login_url, form.get("assertion", ""), sandbox,
                          time.time() if now is None else now)
    return _error("unsupported_grant_type", "grant type not supported")


def _jwt_grant(
    org: Org, app: ConnectedApp, login_url: str, assertion: str, sandbox: bool, now: float
) -> tuple[int, dict]:
    # Salesforce's order: the assertion must parse, name a known consumer (iss), carry that
    # consumer's signature, be meant for this login server (aud), be current (exp), and name
    # a user who may use the app (sub).
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return _error("invalid_grant", "invalid assertion")
    if any(name not in claims for name in ("iss", "sub", "aud", "exp")):
        return _error("invalid_grant", "invalid assertion")
    if not hmac.compare_digest(str(claims["iss"]), app.client_id):
        return _error("invalid_client_id", "client identifier invalid")
    try:
        jwt.decode(
            assertion,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_aud": False, "verify_iat": False,
                     "verify_nbf": False},
        )
    except jwt.PyJWTError:
        return _error("invalid_grant", "invalid assertion")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    expected = jwt_audience(sandbox)
    if not any(str(a).rstrip("/") == expected for a in audiences):
        return _error("invalid_grant", "audience is invalid")
    try:
        exp = float(claims["exp"])
    except (TypeError, ValueError):
        return _error("invalid_grant", "invalid assertion")
    if exp <= now - LEEWAY:
        return _error("invalid_grant", "expired authorization code")
    if exp > now + MAX_JWT_LIFETIME + LEEWAY:
        return _error("invalid_grant", "invalid assertion")
    user = org.user_record(str(claims["sub"]))
    if user is None or not user.get("IsActive"):
        return _error("invalid_grant", "user hasn't approved this consumer")
    return 200, _token_body(org, app, login_url, user["Username"])


def identity_url(org: Org, login_url: str, user_id: str) -> str:
    return f"{login_url}/id/{org.org_id}/{user_id}"


def _token_body(org: Org, app: ConnectedApp, login_url: str, username: str) -> dict:
    token = org.issue_token(username)
    user_id = org.user_id(username)
    issued_at = str(int(time.time() * 1000))
    identity = identity_url(org, login_url, user_id or "")
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
