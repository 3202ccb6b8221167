"""The org's injected failures: validation rules and row-lock errors, as tests set them; and
which rows a write must lock (``rowlocks``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .ids import normalize_id
from .rowlocks import UNLOCKED_LOOKUPS
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

    def rows_to_lock(self, schema, values: dict, ext=None) -> list[str]:
        """The rows a write of ``values`` locks: the record itself (by Id, or the one its
        external ID finds; an insert locks the external ID value, so two upserts of one key
        queue) and the parent of every lookup and master-detail field it will hold."""
        with self.lock:
            store = self._stores[schema.name]
            rid = normalize_id(values.get("Id"))
            keys: list[str] = []
            if ext is not None and values.get(ext.full_name) is not None:
                found = self.find_by_external_id(schema, ext, values[ext.full_name])
                rid = found[0] if len(found) == 1 else rid
                if not found:
                    keys.append(f"{schema.name}.{ext.full_name}={values[ext.full_name]}")
            existing = store.records.get(rid) if rid else None
            if rid and existing is not None:
                keys.append(rid)
            for f in schema.fields.values():
                if f.type not in ("Lookup", "MasterDetail") or f.full_name in UNLOCKED_LOOKUPS:
                    continue
                parent = values.get(f.full_name, (existing or {}).get(f.full_name))
                parent_id = normalize_id(parent)
                if parent_id and parent_id not in keys:
                    keys.append(parent_id)
            return keys
