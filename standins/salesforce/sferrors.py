"""Errors the stand-in answers with, shaped like Salesforce's REST error bodies."""

from __future__ import annotations

__all__ = ["RecordError", "SfError", "not_found"]


class SfError(Exception):
    """A whole-request failure: ``status`` plus ``[{"message", "errorCode", "fields"?}]``."""

    def __init__(
        self, status: int, code: str, message: str, fields: list[str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict]:
        item: dict = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


class RecordError(Exception):
    """A failure of one record in a DML call (a SaveResult error, or a 400 for one record)."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = fields or []

    def as_result_error(self) -> dict:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def as_sf_error(self, status: int = 400) -> SfError:
        return SfError(status, self.code, self.message, self.fields)


def not_found(message: str = "The requested resource does not exist") -> SfError:
    return SfError(404, "NOT_FOUND", message)
