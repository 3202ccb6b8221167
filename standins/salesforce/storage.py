"""Record storage of the Salesforce stand-in's org: per-object stores, indexes, undo logs."""

from __future__ import annotations

from .components import FieldSpec
from .ids import IdAllocator
from .schema import ObjectSchema

__all__ = ["PERMISSION_OBJECTS", "ObjectStore", "Txn", "index_key", "indexed_fields"]

# Writes to these objects change what users may do: the cached Access must be rebuilt.
PERMISSION_OBJECTS = frozenset({"PermissionSet", "PermissionSetAssignment", "User"})


class ObjectStore:
    """Records of one object, with indexes on unique, external-id and lookup fields."""

    __slots__ = ("autonumbers", "deleted", "ids", "index_fields", "indexes", "records")

    def __init__(self, prefix: str) -> None:
        self.records: dict[str, dict] = {}
        self.ids = IdAllocator(prefix)
        self.deleted: set[str] = set()
        self.autonumbers: dict[str, int] = {}
        self.index_fields: tuple[FieldSpec, ...] = ()
        # field -> key -> ids (a dict used as an insertion-ordered set: O(1) removal even
        # when 100k records share one OwnerId)
        self.indexes: dict[str, dict[object, dict[str, None]]] = {}

    def add_to_indexes(self, rid: str, record: dict) -> None:
        for f in self.index_fields:
            value = record.get(f.full_name)
            if value is not None:
                self.indexes[f.full_name].setdefault(index_key(f, value), {})[rid] = None

    def remove_from_indexes(self, rid: str, record: dict) -> None:
        for f in self.index_fields:
            value = record.get(f.full_name)
            if value is None:
                continue
            key = index_key(f, value)
            bucket = self.indexes[f.full_name].get(key)
            if bucket and rid in bucket:
                del bucket[rid]
                if not bucket:
                    del self.indexes[f.full_name][key]


def index_key(f: FieldSpec, value: object) -> object:
    """Index keys follow SOQL equality: case-insensitive except case-sensitive unique fields."""
    if isinstance(value, str) and not f.case_sensitive and f.type not in ("Lookup", "Id"):
        return value.lower()
    return value


def indexed_fields(schema: ObjectSchema) -> tuple[FieldSpec, ...]:
    return tuple(
        f
        for f in schema.fields.values()
        if f.full_name != "Id"
        and (f.unique or f.external_id or f.type in ("Lookup", "MasterDetail"))
    )


class Txn:
    """Undo log of one DML call, so allOrNone can put every record back."""

    def __init__(self) -> None:
        self.undo: list[tuple[str, str, dict | None, bool]] = []
