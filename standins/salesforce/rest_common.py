"""What every REST route shares: the response it returns and the JSON body it reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .sferrors import SfError

__all__ = ["Response", "json_body"]


@dataclass
class Response:
    status: int
    body: object = None  # JSON-serializable, raw bytes (Content-Type in headers), or None
    headers: dict[str, str] = field(default_factory=dict)


def json_body(body: bytes) -> object:
    if not body:
        raise SfError(400, "JSON_PARSER_ERROR", "No content to map due to end-of-input")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SfError(400, "JSON_PARSER_ERROR", f"Unexpected character at [line:1, column:"
                      f"{getattr(exc, 'colno', 1)}]") from None
