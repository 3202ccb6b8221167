"""The HTTP client for Recurly API v2021-02-25: ``requests`` with the key and the version pin.

recurly-python 4.x cannot be pointed at another host (no base-URL option: it opens its own
HTTPS connection to v3.recurly.com / v3.eu.recurly.com), so neither the stand-in nor a proxy
could be reached through it; the API is plain JSON over HTTP Basic auth, which ``requests``
speaks already (a dependency through simple-salesforce). What the SDK would add (retries) we
do not want twice: the engine's one backoff layer retries what the error table says.

The key is the Basic-auth username with an empty password, sent per request and never kept
anywhere a repr, a log line or an exception message would show it (requests' messages name
the URL only). Every request has a timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import requests

from .errors import ApiError, BadReply

__all__ = ["ACCEPT", "API_VERSION", "DEFAULT_BASE", "TIMEOUT", "RecurlyHttp", "Reply"]

API_VERSION = "v2021-02-25"
ACCEPT = f"application/vnd.recurly.{API_VERSION}+json"
DEFAULT_BASE = "https://v3.recurly.com"  # EU sites: https://v3.eu.recurly.com
# (connect, read) seconds, as for Stripe and Chargebee: a cycle must not hang on one socket.
TIMEOUT = (10.0, 30.0)


class Reply(NamedTuple):
    body: Any  # the parsed JSON (None for HEAD)
    headers: Mapping[str, str]  # case-insensitive (requests' CaseInsensitiveDict)


class _Key:
    """The API key, out of sight: its repr is a mask, so ``vars()`` shows no secret."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<key hidden>"


class RecurlyHttp:
    """GET and HEAD against one Recurly API base; what the scheduler builds (``clients``)."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        self._key = _Key(api_key)
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RecurlyHttp({self.base_url!r})"

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Reply:
        """``path`` may be a list's ``next`` link, which carries its own query."""
        return self._send("GET", path, params)

    def head(self, path: str, params: Mapping[str, str] | None = None) -> Reply:
        """A list's count (``Recurly-Total-Records``) without its records."""
        return self._send("HEAD", path, params)

    def close(self) -> None:
        self.session.close()

    def _send(self, method: str, path: str, params: Mapping[str, str] | None) -> Reply:
        resp = self.session.request(
            method,
            self.base_url + path,
            params=dict(params or {}),
            auth=(self._key.reveal(), ""),
            headers={"Accept": ACCEPT},
            timeout=self.timeout,
        )
        if resp.status_code >= 400:
            raise _api_error(resp)
        if method == "HEAD":
            return Reply(None, resp.headers)
        try:
            return Reply(resp.json(), resp.headers)
        except ValueError:
            kind = resp.headers.get("Content-Type", "no content type")
            raise BadReply(f"HTTP {resp.status_code} with {kind}, not JSON") from None


def _api_error(resp: requests.Response) -> ApiError:
    """Recurly's envelope ``{"error": {"type", "message"}}``, or the bare status for a page
    that is not (a proxy's, a load balancer's)."""
    try:
        error = resp.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or f"HTTP {resp.status_code}")
    kind = error.get("type")
    return ApiError(resp.status_code, str(kind) if kind else None, message, resp.headers)
