"""Cassette plumbing shared by the recorder and the replay tests.

What is kept out of a cassette: the Authorization header (HTTP Basic: the API key as the
username) and the SDK's User-Agent; anything key-like or card-like in a request body (the
sandbox recorder's test card); cookies; and the host: every request is rewritten to
``site.recurly.invalid``, the stand-in's loopback port and a sandbox site's API host alike
(``match_on`` ignores hosts, so a replay matches whatever base it is given)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import vcr
from vcr.request import Request

from tests.stripe_scenarios.replay import cassette_vcr

__all__ = ["CASSETTES", "HOST", "cassette_path", "header", "make_vcr", "replay_vcr", "scrub"]

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "recurly"
FILTERED_HEADERS = ["Authorization", "User-Agent", "Cookie"]
HOST = "site.recurly.invalid"
# JSON bodies: a key, a token or card details ("number", "cvv", "month", "year") as a string
# or a number.
_SECRET = re.compile(
    r'("(?:api_key|key|private_key|token|token_id|secret|password|number|cvv|'
    r'verification_value|month|year)"\s*:\s*)("(?:[^"\\]|\\.)*"|\d+)',
    re.I,
)


def scrub(body: str) -> str:
    return _SECRET.sub(r'\1"FILTERED"', body)


def _request(request: Request) -> Request:
    parts = urlsplit(request.uri)
    request.uri = urlunsplit(parts._replace(scheme="https", netloc=HOST))
    if request.body:
        raw = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        request.body = scrub(raw).encode()
    return request


def _response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        # Date and Server are the HTTP server's, not Recurly's clock: dropped, so that
        # re-recording against the stand-in writes the same cassettes.
        if name.lower() in ("set-cookie", "authorization", "date", "server"):
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


def header(scenario: str) -> dict[str, str]:
    """The cassette's ``recorded_against``: where it was recorded, its tag and its clock."""
    import yaml

    path = cassette_path(scenario)
    assert path.exists(), f"missing cassette {path}: run `make cassettes PROVIDER=recurly`"
    return dict(yaml.safe_load(path.read_text())["recorded_against"])
