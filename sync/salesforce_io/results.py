"""What a write gives back, per record: the same values whether it went out as an sObject
Collections call or a Bulk API 2.0 job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metadata.schema import Category

__all__ = ["RETRYABLE_RECORD_ERRORS", "RecordError", "Row", "WriteResult"]

Row = dict[str, Any]

RETRYABLE_RECORD_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})


@dataclass(frozen=True)
class RecordError:
    code: str
    message: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteResult:
    key: str  # the Stripe id or Salesforce Id the record was written by
    success: bool
    record_id: str | None = None
    created: bool = False
    errors: tuple[RecordError, ...] = ()
    category: Category | None = None  # of the first error, decided here at the edge

    @property
    def retryable(self) -> bool:
        return bool(self.errors) and all(e.code in RETRYABLE_RECORD_ERRORS for e in self.errors)

    @property
    def code(self) -> str:
        return self.errors[0].code if self.errors else ("" if self.success else "UNKNOWN")
