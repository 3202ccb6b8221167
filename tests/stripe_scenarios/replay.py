"""Cassette plumbing shared by the recorder and the replay tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import vcr
import yaml
from vcr.serializers import yamlserializer

__all__ = ["CASSETTES", "SERIALIZER", "RecordedAgainst", "cassette_path", "replay_vcr"]

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


def make_vcr(record_mode: str, info: dict[str, str] | None = None) -> vcr.VCR:
    recorder = vcr.VCR(
        record_mode=record_mode,
        match_on=["method", "path", "query"],  # host and port differ per run; bodies hold keys
        filter_headers=FILTERED_HEADERS,
        before_record_response=_drop_echoed_keys,
        decode_compressed_response=True,
    )
    recorder.register_serializer(SERIALIZER, RecordedAgainst(info))
    recorder.serializer = SERIALIZER
    return recorder


def replay_vcr() -> vcr.VCR:
    """Replay only: a request with no recorded match fails instead of reaching a server."""
    return make_vcr("none")


def cassette_path(scenario: str) -> Path:
    return CASSETTES / f"{scenario}.yaml"
