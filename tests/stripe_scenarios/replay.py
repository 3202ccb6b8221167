"""Cassette plumbing shared by the recorder and the replay tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import vcr
import yaml
from vcr.serializers import yamlserializer

__all__ = [
    "CASSETTES",
    "SERIALIZER",
    "RecordedAgainst",
    "cassette_path",
    "cassette_vcr",
    "replay_vcr",
]

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "stripe"
SERIALIZER = "billing_sync_yaml"
FILTERED_HEADERS = ["Authorization", "Idempotency-Key", "User-Agent",
                    "X-Stripe-Client-User-Agent", "X-Stripe-Client-Telemetry"]  # fmt: skip


class RecordedAgainst:
    """vcrpy serializer: YAML with a top-level ``recorded_against`` saying where it came from."""

    def __init__(self, info: dict[str, str] | None = None) -> None:
        self.info = info or {}

    def serialize(self, cassette_dict: dict[str, Any]) -> str:
        body = yaml.safe_load(yamlserializer.serialize(cassette_dict))
        return yaml.safe_dump({"recorded_against": self.info, **body}, sort_keys=False)

    def deserialize(self, cassette_string: str) -> dict[str, Any]:
        data = yaml.safe_load(cassette_string) or {}
        data.pop("recorded_against", None)
        return yamlserializer.deserialize(yaml.safe_dump(data))


def _drop_echoed_keys(response: dict[str, Any]) -> dict[str, Any]:
    # Stripe echoes the Idempotency-Key back; it is filtered from requests, so from responses.
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() == "idempotency-key":
            del headers[name]
    return response


def cassette_vcr(
    record_mode: str,
    info: dict[str, str] | None,
    *,
    filter_headers: list[str],
    before_record_response: Callable[[dict[str, Any]], dict[str, Any]],
    before_record_request: Callable[[Any], Any] | None = None,
) -> vcr.VCR:
    """The recorder every provider's cassettes share: matched on method, path and query (hosts
    and ports differ per run; bodies may hold keys), written with the ``recorded_against``
    header. Each provider passes its own filters."""
    recorder = vcr.VCR(
        record_mode=record_mode,
        match_on=["method", "path", "query"],
        filter_headers=filter_headers,
        before_record_response=before_record_response,
        decode_compressed_response=True,
        **({"before_record_request": before_record_request} if before_record_request else {}),
    )
    recorder.register_serializer(SERIALIZER, RecordedAgainst(info))
    recorder.serializer = SERIALIZER
    return recorder


def make_vcr(record_mode: str, info: dict[str, str] | None = None) -> vcr.VCR:
    return cassette_vcr(
        record_mode,
        info,
        filter_headers=FILTERED_HEADERS,
        before_record_response=_drop_echoed_keys,
    )


def replay_vcr() -> vcr.VCR:
    """Replay only: a request with no recorded match fails instead of reaching a server."""
    return make_vcr("none")


def cassette_path(scenario: str) -> Path:
    return CASSETTES / f"{scenario}.yaml"
