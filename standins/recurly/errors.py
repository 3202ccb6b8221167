"""Recurly's error envelope, raised inside the stand-in and rendered by the HTTP layer.

v2021-02-25 answers every failure as ``{"error": {"type", "message", "params"?}}``. The SDK picks
its exception class from ``type`` (``not_found`` -> ``recurly.errors.NotFoundError``), so the
types here are only those of the API's ``ErrorTypeEnum``; a made-up type would surface in the
SDK as a bare ``ApiError`` and hide the mistake.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ACCEPTABLE",
    "API_VERSION",
    "RecurlyError",
    "bad_request",
    "not_found",
    "rate_limited",
    "transaction_declined",
    "validation",
]  # fmt: skip

API_VERSION = "v2021-02-25"
ACCEPTABLE = (f"application/vnd.recurly.{API_VERSION}",
              f"application/vnd.recurly.{API_VERSION}+json")


class RecurlyError(Exception):
    def __init__(self, status: int, type: str, message: str, *,
                 params: list[dict[str, str]] | None = None, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.type, self.message = status, type, message
        self.params = params or []
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.params:
            err["params"] = self.params
        err.update(self.extra)
        return {"error": err}


def validation(param: str, problem: str) -> RecurlyError:
    """422 the way Recurly words model errors: "Code can't be blank", param ``code``."""
    label = param.rsplit(".", 1)[-1].replace("_", " ").capitalize()
    return RecurlyError(422, "validation", f"{label} {problem}",
                        params=[{"param": param, "message": problem}])  # fmt: skip


def bad_request(message: str, param: str | None = None) -> RecurlyError:
    params = [{"param": param, "message": message}] if param else None
    return RecurlyError(400, "bad_request", message, params=params)


def not_found(model: str, key: str, value: str, param: str) -> RecurlyError:
    return RecurlyError(404, "not_found", f"Couldn't find {model} with {key} = {value}",
                        params=[{"param": param}])  # fmt: skip


def rate_limited(headers: dict[str, str]) -> RecurlyError:
    return RecurlyError(429, "rate_limited",
                        "You have made too many API requests in the last 5 minutes. Please "
                        "slow down and retry after the time in X-RateLimit-Reset.",
                        headers=headers)  # fmt: skip


def transaction_declined(transaction_id: str) -> RecurlyError:
    """What a declined first charge answers: nothing is created, the SDK raises
    ``recurly.errors.TransactionError`` with ``error.transaction_error`` filled in."""
    return RecurlyError(422, "transaction", "Your card was declined.",
                        params=[{"param": "billing_info", "message": "was declined"}],
                        extra={"transaction_error": {
                            "object": "transaction_error", "transaction_id": transaction_id,
                            "category": "hard", "code": "declined",
                            "message": "Your card was declined.",
                            "merchant_advice": "The customer's bank declined the transaction.",
                        }})  # fmt: skip
