"""The one module that builds API clients from Settings.

Salesforce: simple-salesforce's own login flows only talk to *.salesforce.com, so we request
the OAuth token ourselves from SALESFORCE_LOGIN_URL and hand simple-salesforce a session id.
A direct-token client never re-authenticates on its own, so the requests session we give it
does: on 401 INVALID_SESSION_ID it fetches a new token once and replays the request.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from http.cookiejar import DefaultCookiePolicy
from typing import Any, cast

import jwt
import orjson
import requests
import stripe
from simple_salesforce.api import Salesforce

from metadata.schema import Category
from sync.errors import StopCycle
from sync.ports import Alerter
from sync.recurly_io.http import RecurlyHttp
from sync.salesforce_io.errors import login_refused, unreachable

from .settings import MAX_LIST_CONCURRENCY, ConfigError, Settings

__all__ = [
    "SalesforceConnection",
    "build_alerter",
    "build_billing",
    "build_chargebee",
    "build_recurly",
    "build_salesforce",
    "build_stripe",
]

log = logging.getLogger(__name__)

# (connect, read) seconds per request: a cycle must not hang on one socket, and a host that
# does not even accept the connection is known to be down long before a slow reply would be.
CONNECT_TIMEOUT = 10.0
STRIPE_TIMEOUT = (CONNECT_TIMEOUT, 30.0)
# One retry layer, not two stacked: stripe-python retries nothing, the engine's backoff
# (``sync.retry.backoff_call``) retries what the error table calls RetryLater, honouring
# Retry-After. Stacked, a connection failure became up to 16 requests.
STRIPE_RETRIES = 0
SALESFORCE_TIMEOUT = (CONNECT_TIMEOUT, 120.0)  # a 200-record collection write can be slow
JWT_LIFETIME = 170  # Salesforce accepts at most 3 minutes


def build_billing(settings: Settings) -> Any:
    """The configured billing provider's client (what ``wiring.build_source`` reads through)."""
    if settings.billing_provider == "chargebee":
        return build_chargebee(settings)
    if settings.billing_provider == "recurly":
        return build_recurly(settings)
    return build_stripe(settings)


def build_stripe(settings: Settings) -> stripe.StripeClient:
    if settings.stripe_api_key is None:
        raise ConfigError(
            f"STRIPE_API_KEY: not set (BILLING_PROVIDER is {settings.billing_provider})"
        )
    return stripe.StripeClient(
        settings.stripe_api_key.reveal(),
        base_addresses={"api": settings.stripe_api_base},
        max_network_retries=STRIPE_RETRIES,
        http_client=stripe_http(settings.stripe_api_base),
    )


def stripe_http(api_base: str) -> stripe.RequestsClient:
    """stripe-python's requests client over one session, the environment read once.

    A session that trusts the environment reads the proxy variables and looks for ~/.netrc on
    every request: 3% of a listing's CPU. Stripe authenticates by header and stripe-python
    passes its own CA bundle on each request, so only the proxy matters; it is resolved here
    for the API host (NO_PROXY included). The listing threads share the session: its urllib3
    pool is thread-safe; its cookie jar, the one part
    a response changes, takes no cookies."""
    http = requests.Session()
    proxies = {
        scheme: url
        for scheme, url in requests.utils.get_environ_proxies(api_base).items()
        if scheme in ("http", "https", "all")
    }
    http.trust_env = False
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    # Room for a listing's threads and a fan-out's at their most, without discarding any.
    pool = requests.adapters.HTTPAdapter(pool_maxsize=2 * MAX_LIST_CONCURRENCY)
    http.mount("https://", pool)
    http.mount("http://", pool)
    return stripe.RequestsClient(
        timeout=STRIPE_TIMEOUT, session=http, proxy=cast(Any, proxies or None)
    )


# Chargebee: the same timeouts as Stripe's, and its SDK's own retries stay off (its default):
# one retry layer, the engine's backoff, which honours Retry-After. chargebee-python 3.29's
# own 429 retry would not: it looks for the header on ``err.response_headers``, but its
# APIError keeps them as ``http_headers``.
CHARGEBEE_TIMEOUT = STRIPE_TIMEOUT


def build_chargebee(settings: Settings) -> Any:
    """A ``chargebee.Chargebee`` client for the configured site (or CHARGEBEE_API_BASE)."""
    import chargebee

    if settings.chargebee_api_key is None or settings.chargebee_site is None:
        raise ConfigError("CHARGEBEE_API_KEY: not set (BILLING_PROVIDER is chargebee)")
    base = settings.chargebee_api_base
    if base is not None and base.startswith("http://"):
        # chargebee-python picks https whenever this *class* attribute is true, whatever the
        # instance says; cleared only for a plain-http base (the stand-in), process-wide.
        # https stays verified either way (httpx's default CA store instead of the SDK's).
        chargebee.Chargebee.verify_ca_certs = False
    client = chargebee.Chargebee(
        api_key=settings.chargebee_api_key.reveal(),
        site=settings.chargebee_site,
        protocol="http" if base is not None and base.startswith("http://") else None,
        connection_time_out=int(CHARGEBEE_TIMEOUT[0]),
        read_time_out=int(CHARGEBEE_TIMEOUT[1]),
    )
    if base is not None:
        # The SDK builds its endpoint from the site once, in the constructor: set it after.
        client.env.api_endpoint = base
    return client


# Recurly: plain requests (recurly-python has no base-URL option; see sync.recurly_io.http),
# the same timeouts, no retries of its own: the engine's backoff is the one retry layer.
RECURLY_TIMEOUT = STRIPE_TIMEOUT


def build_recurly(settings: Settings) -> RecurlyHttp:
    """The HTTP client ``RecurlySource`` reads through, for RECURLY_API_BASE."""
    if settings.recurly_api_key is None:
        raise ConfigError("RECURLY_API_KEY: not set (BILLING_PROVIDER is recurly)")
    return RecurlyHttp(
        settings.recurly_api_key.reveal(), settings.recurly_api_base, timeout=RECURLY_TIMEOUT
    )


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str
    identity_url: str | None = None


class TokenSource:
    """Fetches OAuth tokens for one of the three auth modes."""

    def __init__(self, settings: Settings, http: requests.Session):
        self.settings = settings
        self.http = http

    @property
    def renewable(self) -> bool:
        return self.settings.salesforce_auth != "token"

    def fetch(self) -> Token:
        s = self.settings
        if s.salesforce_auth == "token":
            assert s.salesforce_access_token and s.salesforce_instance_url
            return Token(s.salesforce_access_token.reveal(), s.salesforce_instance_url)
        if s.salesforce_auth == "client_credentials":
            assert s.salesforce_client_secret
            form = {
                "grant_type": "client_credentials",
                "client_id": s.salesforce_client_id,
                "client_secret": s.salesforce_client_secret.reveal(),
            }
        else:
            form = {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": self._assertion(),
            }
        url = f"{s.salesforce_login_url}/services/oauth2/token"
        try:
            resp = self.http.post(url, data=form, timeout=SALESFORCE_TIMEOUT)
        except requests.exceptions.SSLError:
            raise ConfigError(
                f"SALESFORCE_CA_BUNDLE: the certificate of {s.salesforce_login_url} does not "
                f"verify against {s.salesforce_ca_bundle or 'the system CA certificates'}; set "
                "SALESFORCE_CA_BUNDLE to the CA file that signed it"
            ) from None
        except requests.RequestException as exc:
            raise unreachable(f"Salesforce login at {s.salesforce_login_url}", exc) from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code != 200:
            raise login_refused(s.salesforce_auth, resp.status_code, body)
        if not isinstance(body, dict) or "access_token" not in body or "instance_url" not in body:
            kind = resp.headers.get("Content-Type", "no content type")
            raise StopCycle(
                f"Salesforce login at {s.salesforce_login_url} answered HTTP {resp.status_code} "
                f"with {kind} instead of a token: check SALESFORCE_LOGIN_URL (a proxy or a "
                "captive portal can answer in its place)",
                category=Category.CONFIGURATION,
                code="LOGIN_NOT_JSON",
                http_status=resp.status_code,
            )
        return Token(body["access_token"], str(body["instance_url"]).rstrip("/"), body.get("id"))

    def _assertion(self) -> str:
        s = self.settings
        assert s.salesforce_private_key_file
        claims = {
            "iss": s.salesforce_client_id,
            "sub": s.salesforce_username,
            # Salesforce's login or test host, never the My Domain the request is posted to.
            "aud": s.salesforce_jwt_audience,
            "exp": int(time.time()) + JWT_LIFETIME,
        }
        path = s.salesforce_private_key_file
        try:
            key = path.read_bytes()
        except OSError as exc:  # removed or made unreadable since start-up
            raise ConfigError(
                f"SALESFORCE_PRIVATE_KEY_FILE: cannot read {path} ({exc.strerror})"
            ) from None
        try:
            return jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            raise ConfigError(
                f"SALESFORCE_PRIVATE_KEY_FILE: {path} is not a usable RSA private key"
            ) from None


class ReauthSession(requests.Session):
    """A requests session that renews the Salesforce token once on INVALID_SESSION_ID.

    The gateway's write pool sends through one session from several threads. What a request
    changes on a Session is its cookie jar (read unlocked while another thread's response is
    stored in it); the urllib3 pool behind the adapter is thread-safe and keeps 10
    connections to the one instance host. The API authenticates by the Authorization header,
    never by cookie, so the jar takes none and stays empty."""

    def __init__(self) -> None:
        super().__init__()
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.connection: SalesforceConnection | None = None

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", SALESFORCE_TIMEOUT)
        # requests lets REQUESTS_CA_BUNDLE override a session's own verify setting; a
        # per-request value wins over the environment, so SALESFORCE_CA_BUNDLE holds.
        kwargs.setdefault("verify", self.verify)
        resp = super().request(method, url, *args, **kwargs)
        conn = self.connection
        if conn is None or resp.status_code != 401 or not _invalid_session(resp):
            return resp
        if not conn.tokens.renewable:
            raise StopCycle(
                "Salesforce rejected the access token (expired or revoked) and a direct token "
                "cannot be renewed: set a fresh SALESFORCE_ACCESS_TOKEN or configure JWT "
                "bearer or client credentials",
                code="INVALID_SESSION_ID",
                category=Category.CONFIGURATION,
            )
        headers = dict(kwargs.pop("headers", None) or {})
        conn.renew(str(headers.get("Authorization") or ""))
        headers["Authorization"] = f"Bearer {conn.sf.session_id}"
        kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)


def _invalid_session(resp: requests.Response) -> bool:
    try:
        body = resp.json()
    except ValueError:
        return False
    return isinstance(body, list) and any(
        isinstance(e, dict) and e.get("errorCode") == "INVALID_SESSION_ID" for e in body
    )


class _Salesforce(Salesforce):
    """Replies parsed by orjson from the bytes, as plain dicts: a SOQL page of 2,000 rows was
    7% of an unchanged cycle's CPU through ``requests``' decode and ``json``. JSON orjson
    refuses (a lone surrogate escape in a name, an empty body) goes to simple-salesforce's
    own ``json`` parse, with its result or its error."""

    def parse_result_to_json(self, result: requests.Response) -> Any:
        try:
            return orjson.loads(result.content)
        except orjson.JSONDecodeError:
            return super().parse_result_to_json(result)


class SalesforceConnection:
    """A simple-salesforce client plus the means to renew its session."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.http = ReauthSession()
        if settings.salesforce_ca_bundle:
            self.http.verify = str(settings.salesforce_ca_bundle)
        self.tokens = TokenSource(settings, ReauthSession())
        self.tokens.http.verify = self.http.verify
        self.reauth_count = 0
        self._renewing = threading.Lock()
        token = self.tokens.fetch()
        self.identity_url = token.identity_url
        self.sf = _Salesforce(
            session_id=token.access_token,
            instance_url=token.instance_url,
            session=self.http,
            version=settings.salesforce_api_version,
            # Plain dicts, not OrderedDicts (for ``json``, where orjson refuses a reply).
            object_pairs_hook=None,
        )
        self.http.connection = self

    @property
    def username(self) -> str | None:
        return self.settings.salesforce_username

    @cached_property
    def _identity(self) -> tuple[str | None, str | None]:
        """(org id, user id) of this connection: from the identity URL of the token response
        (``…/id/<org id>/<user id>``), or one userinfo call for a direct token."""
        if self.identity_url:
            parts = self.identity_url.rstrip("/").split("/")
            if len(parts) >= 2:
                return parts[-2], parts[-1]
        root = self.sf.base_url.split("/services/")[0]
        try:
            resp = self.http.get(f"{root}/services/oauth2/userinfo", headers=self.sf.headers)
            resp.raise_for_status()
            info = resp.json()
            return str(info["organization_id"]), str(info["user_id"])
        except (requests.RequestException, ValueError, KeyError):
            log.warning("could not tell which Salesforce org and user this is (no userinfo)")
            return None, None

    @property
    def org_id(self) -> str | None:
        return self._identity[0]

    @property
    def user_id(self) -> str | None:
        return self._identity[1]

    def renew(self, sent: str) -> None:
        """Renew the session that ``sent`` (the refused request's Authorization header) was
        made with, unless another thread already has: concurrent writes that all meet the
        expired token renew it once."""
        with self._renewing:
            if not sent or sent == f"Bearer {self.sf.session_id}":
                self.reauthenticate()

    def reauthenticate(self) -> None:
        token = self.tokens.fetch()
        self.reauth_count += 1
        log.info("Salesforce session renewed")
        self.sf.session_id = token.access_token
        self.sf.headers["Authorization"] = f"Bearer {token.access_token}"
        # sf.mdapi caches the session id inside its SOAP headers; drop it so it is rebuilt.
        self.sf._mdapi = None


def build_salesforce(settings: Settings) -> SalesforceConnection:
    return SalesforceConnection(settings)


def build_alerter(settings: Settings) -> Alerter:
    """Slack when configured, otherwise an alerter that does nothing."""
    from sync.slack import NullAlerter, SlackBotAlerter, SlackWebhookAlerter

    if settings.slack_webhook_url:
        return SlackWebhookAlerter(settings.slack_webhook_url.reveal())
    if settings.slack_bot_token and settings.slack_channel:
        return SlackBotAlerter(settings.slack_bot_token.reveal(), settings.slack_channel)
    return NullAlerter()
