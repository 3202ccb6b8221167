"""Cassette plumbing shared by the recorder and the replay tests.

What is kept out of a cassette: the Authorization header (HTTP Basic: the API key), the SDK's
random idempotency keys and client headers, card details from request bodies, and the site's
host name (a real site's name is rewritten to ``site.chargebee.invalid``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import vcr
from vcr.request import Request

from tests.stripe_scenarios.replay import SERIALIZER, cassette_vcr

__all__ = ["CASSETTES", "SERIALIZER", "cassette_path", "make_vcr", "replay_vcr", "scrub"]

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "chargebee"
FILTERED_HEADERS = ["Authorization", "chargebee-idempotency-key", "User-Agent",
                    "Lang-Version", "OS-Version", "X-CB-Retry-Attempt"]  # fmt: skip
HOST = "site.chargebee.invalid"
# card[number], card[cvv] and any other card field, form-encoded ("card%5Bnumber%5D=...").
_CARD = re.compile(r"(card(?:\[|%5B)[a-z_]+(?:\]|%5D))=[^&]*", re.I)
# Anything key-like in a body: never expected, but never kept either.
_KEYISH = re.compile(r"((?:api_key|key|token|secret)=)[^&]*", re.I)


def scrub(body: str) -> str:
    return _KEYISH.sub(r"\1FILTERED", _CARD.sub(r"\1=FILTERED", body))


def _request(request: Request) -> Request:
    parts = urlsplit(request.uri)
    if not parts.hostname or not parts.hostname.startswith("127."):
        request.uri = urlunsplit(parts._replace(netloc=HOST))
    if request.body:
        raw = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        request.body = scrub(raw).encode()
    return request


def _response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("chargebee-idempotency-key", "set-cookie"):
            del headers[name]
    return response


def make_vcr(record_mode: str, info: dict[str, str] | None = None) -> vcr.VCR:
    return cassette_vcr(
        record_mode,
        info,
        filter_headers=FILTERED_HEADERS,
        before_record_request=_request,
        before_record_response=_response,
    )


def replay_vcr() -> vcr.VCR:
    """Replay only: a request with no recorded match fails instead of reaching a server."""
    return make_vcr("none")


def cassette_path(scenario: str) -> Path:
    return CASSETTES / f"{scenario}.yaml"
