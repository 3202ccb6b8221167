"""Chargebee's error envelope, raised inside the stand-in and rendered by the HTTP layer.

Every error body carries the current fields (``message``, ``type``, ``api_error_code``,
``param``) and the legacy ones Chargebee still sends (``error_code``, ``error_msg``,
``error_param``, ``http_status_code``). ``type`` picks the chargebee-python exception class
(``invalid_request`` -> InvalidRequestError, ``payment`` -> PaymentError, ``operation_failed``
-> OperationFailedError); the "standard" errors (authentication, rate limit, 5xx) carry no
``type`` and surface as the base ``APIError``, as on the real service.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ChargebeeError", "auth_failed", "blank", "duplicate", "internal_error", "invalid_request",
    "invalid_state", "not_found", "payment_failed", "rate_limited", "unavailable", "wrong_value",
]  # fmt: skip


class ChargebeeError(Exception):
    """An error answer: HTTP status plus Chargebee's JSON error body."""

    def __init__(self, status: int, code: str, message: str, *, type: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None,
                 legacy_code: str | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.type = type
        self.param = param
        self.headers = headers or {}
        self.legacy_code = legacy_code or code

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.type:
            out["type"] = self.type
        out["api_error_code"] = self.code
        if self.param:
            out["param"] = self.param
        out["error_code"] = self.legacy_code
        out["error_msg"] = self.message
        if self.param:
            out["error_param"] = self.param
        out["http_status_code"] = self.status
        return out


def wrong_value(param: str, detail: str) -> ChargebeeError:
    """A parameter with a value the API refuses: ``"<param> : <detail>"``."""
    return ChargebeeError(400, "param_wrong_value", f"{param} : {detail}", type="invalid_request",
                          param=param, legacy_code="param_invalid_value")  # fmt: skip


def blank(param: str) -> ChargebeeError:
    """A required parameter left out; Chargebee reports it as a wrong value, "cannot be blank"."""
    return ChargebeeError(400, "param_wrong_value", f"{param} : cannot be blank",
                          type="invalid_request", param=param, legacy_code="param_not_present")


def invalid_request(message: str, param: str | None = None) -> ChargebeeError:
    return ChargebeeError(400, "invalid_request", message, type="invalid_request", param=param)


def not_found(resource: str, oid: str, param: str | None = None) -> ChargebeeError:
    """404 for an unknown id, in the path or (with ``param``) in the parameters."""
    msg = f"{param} : {resource} {oid} not found" if param else f"{resource} not found for id {oid}"
    return ChargebeeError(404, "resource_not_found", msg, type="invalid_request", param=param,
                          legacy_code="referenced_resource_not_found" if param else None)


def duplicate(param: str, value: str) -> ChargebeeError:
    message = f"{param} : The value {value} is already present."
    return ChargebeeError(400, "duplicate_entry", message, type="invalid_request", param=param,
                          legacy_code="param_not_unique")


def invalid_state(message: str) -> ChargebeeError:
    return ChargebeeError(400, "invalid_state_for_request", message, type="invalid_request",
                          legacy_code="invalid_state")


def payment_failed(message: str) -> ChargebeeError:
    return ChargebeeError(402, "payment_processing_failed", message, type="payment",
                          legacy_code="payment_declined")


def auth_failed(message: str = "Sorry, authentication failed. Invalid api key") -> ChargebeeError:
    return ChargebeeError(401, "api_authentication_failed", message)


def rate_limited(retry_after: int) -> ChargebeeError:
    return ChargebeeError(
        429, "api_request_limit_exceeded",
        "Sorry, access has been blocked temporarily due to request count exceeding acceptable "
        "limits. Please try after some time.",
        headers={"Retry-After": str(max(1, retry_after))},
    )  # fmt: skip


def internal_error() -> ChargebeeError:
    return ChargebeeError(500, "internal_error",
                          "Sorry, Something went wrong when trying to process the request.")


def unavailable(code: str = "internal_temporary_error") -> ChargebeeError:
    """503: ``internal_temporary_error`` (overload, maintenance) or ``site_not_ready``."""
    messages = {
        "internal_temporary_error": "Sorry, the server is currently unable to handle the request "
                                    "due to a temporary overload or scheduled maintenance. Please "
                                    "retry after sometime.",
        "site_not_ready": "Site is not ready. Please retry after some time.",
    }  # fmt: skip
    if code not in messages:
        raise ValueError(f"503 code must be one of {sorted(messages)}")
    return ChargebeeError(503, code, messages[code])
