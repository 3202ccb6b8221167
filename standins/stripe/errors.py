"""Stripe's error envelope, raised inside the stand-in and rendered by the HTTP layer."""

from __future__ import annotations

from typing import Any

__all__ = ["StripeError", "card_declined", "invalid", "missing_param", "no_such", "unknown_param"]


class StripeError(Exception):
    """An error the stand-in answers with, shaped like Stripe's ``{"error": {...}}`` body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self, request_id: str) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        err.update(self.extra)
        return {"error": err}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, message, code=code, param=param)


def unknown_param(param: str) -> StripeError:
    return StripeError(
        400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param
    )


def missing_param(param: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def no_such(kind: str, oid: str, param: str | None = None) -> StripeError:
    """404 for an id in the path; 400 with ``param`` for an id passed as a parameter."""
    status = 400 if param else 404
    return StripeError(
        status, f"No such {kind}: '{oid}'", code="resource_missing", param=param or "id"
    )


def card_declined() -> StripeError:
    return StripeError(
        402,
        "Your card was declined.",
        type="card_error",
        code="card_declined",
        extra={"decline_code": "generic_decline"},
    )
