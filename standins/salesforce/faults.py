"""The org's injected failures: validation rules and row-lock errors, as tests set them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .sferrors import RecordError

__all__ = ["FaultsMixin", "ValidationRule"]


@dataclass(frozen=True)
class ValidationRule:
    object_name: str
    predicate: Callable[[dict], bool]  # True means the record is invalid (like an error formula)
    message: str
    field: str | None = None


class FaultsMixin:
    """Part of ``Org``: validation rules and UNABLE_TO_LOCK_ROW failures to come."""

    # ----------------------------------------------------------------- faults and rules
    def add_validation_rule(
        self,
        object_name: str,
        predicate: Callable[[dict], bool],
        message: str,
        field: str | None = None,
    ) -> None:
        """``predicate(record_after_write)`` returning True rejects the write, like a rule's
        error condition formula, with FIELD_CUSTOM_VALIDATION_EXCEPTION."""
        with self.lock:
            schema = self.schema(object_name)
            if schema is None:
                raise ValueError(f"unknown object {object_name}")
            self._rules.setdefault(schema.name, []).append(
                ValidationRule(schema.name, predicate, message, field)
            )

    def clear_validation_rules(self) -> None:
        with self.lock:
            self._rules.clear()

    def fail_next_records(self, n: int) -> None:
        """The next ``n`` record writes or deletes fail with UNABLE_TO_LOCK_ROW."""
        with self.lock:
            self._lock_failures += n

    def _take_lock_failure(self, rid: str | None) -> None:
        if self._lock_failures > 0:
            self._lock_failures -= 1
            raise RecordError(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {rid or ''}",
            )
