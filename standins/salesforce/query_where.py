"""SOQL WHERE clauses compiled to record predicates, and the index lookups that narrow them."""

from __future__ import annotations

import re
from collections.abc import Callable

from .components import FieldSpec
from .ids import normalize_id
from .schema import NUMBER_TYPES, TEXT_TYPES, ObjectSchema
from .security import Access
from .soql import BoolOp, Compare, Literal, Not, SoqlError
from .storage import ObjectStore, index_key

__all__ = ["Getter", "WhereMixin", "field_kind"]

Getter = Callable[[dict], object]


def field_kind(f: FieldSpec) -> str:
    if f.type in ("Id", "Lookup", "MasterDetail"):
        return "id"
    if f.type in NUMBER_TYPES:
        return "number"
    if f.type == "Checkbox":
        return "boolean"
    if f.type == "Date":
        return "date"
    if f.type == "DateTime":
        return "datetime"
    return "string"


_JAVA = {"number": "double", "boolean": "boolean", "date": "date", "datetime": "dateTime"}



class WhereMixin:
    """Part of ``QueryEngine``: WHERE predicates (``_compile``) and index-backed candidates."""

    # ----------------------------------------------------------------- WHERE
    def _compile(self, schema: ObjectSchema, node: object, access: Access | None) -> Getter:
        if isinstance(node, BoolOp):
            parts = [self._compile(schema, item, access) for item in node.items]
            if node.op == "AND":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(node, Not):
            inner = self._compile(schema, node.item, access)
            return lambda r: not inner(r)
        assert isinstance(node, Compare)
        resolved = self._resolve(schema, node.field, access)
        f = resolved.field
        get = resolved.getter()
        kind = field_kind(f)
        if f.type == "LongTextArea":
            raise SoqlError(
                "INVALID_FIELD", f"field '{f.full_name}' can not be filtered in a query call",
                node.field.pos,
            )
        exact = f.case_sensitive and f.unique
        norm = _normalizer(kind, exact)
        op = node.op
        if op in ("IN", "NOT IN"):
            values = {norm(self._value(f, kind, lit)) for lit in node.value}
            has_null = None in values
            values.discard(None)
            if op == "IN":
                return lambda r: ((v := get(r)) is None and has_null) or norm(v) in values
            return lambda r: not (((v := get(r)) is None and has_null) or norm(v) in values)
        lit = node.value
        assert isinstance(lit, Literal)
        if op == "LIKE":
            if kind != "string" or lit.kind != "string":
                raise SoqlError("INVALID_FIELD", f"invalid operator on field: {f.full_name}",
                                node.field.pos)
            pattern = _like(lit)
            return lambda r: (v := get(r)) is not None and pattern.fullmatch(v) is not None
        target = norm(self._value(f, kind, lit))
        if target is None:
            if op == "=":
                return lambda r: get(r) is None
            if op == "!=":
                return lambda r: get(r) is not None
            return lambda r: False
        if op == "=":
            return lambda r: (v := get(r)) is not None and norm(v) == target
        if op == "!=":
            return lambda r: (v := get(r)) is None or norm(v) != target
        if kind == "boolean" or (kind == "id" and op != "="):
            raise SoqlError("INVALID_FIELD", f"invalid operator on field: {f.full_name}",
                            node.field.pos)
        compare = {
            "<": lambda a, b: a < b, ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
        }[op]
        return lambda r: (v := get(r)) is not None and compare(norm(v), target)

    def _value(self, f: FieldSpec, kind: str, lit: Literal) -> object:
        if lit.kind == "null":
            return None
        if kind == "string":
            if lit.kind != "string":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"value of filter criterion for field '{f.full_name}' must be of type "
                    "string and should be enclosed in quotes",
                    lit.pos,
                )
            return lit.value
        if kind == "id":
            if lit.kind != "string":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"value of filter criterion for field '{f.full_name}' must be of type id "
                    "and should be enclosed in quotes",
                    lit.pos,
                )
            rid = normalize_id(lit.value)
            if rid is None:
                raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {lit.value}",
                                lit.pos)
            return rid
        expected = {"number": "number", "boolean": "boolean", "date": "date",
                    "datetime": "datetime"}[kind]
        if lit.kind != expected:
            raise SoqlError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{f.full_name}' must be of type "
                f"{_JAVA[kind]} and should not be enclosed in quotes",
                lit.pos,
            )
        if kind == "datetime":
            from .values import parse_datetime

            return parse_datetime(str(lit.value))
        return lit.value

    # ----------------------------------------------------------------- index use
    def _candidates(
        self, schema: ObjectSchema, store: ObjectStore, where: object, access: Access | None
    ) -> list[str]:
        """Ids that may match, from an index when a top-level conjunct allows, in id order."""
        conjuncts = where.items if isinstance(where, BoolOp) and where.op == "AND" else (where,)
        for node in conjuncts:
            if not isinstance(node, Compare) or len(node.field.path) != 1:
                continue
            f = schema.field_named(node.field.path[0])
            if f is None or not self.org.field_visible(schema, f, access):
                continue
            index = store.indexes.get(f.full_name)
            if f.full_name == "Id" and node.op in ("=", "IN"):
                literals = node.value if node.op == "IN" else (node.value,)
                ids = {normalize_id(lit.value) for lit in literals if lit.kind == "string"}
                return sorted(i for i in ids if i in store.records)
            if index is None:
                continue
            if node.op in ("=", "IN"):
                literals = node.value if node.op == "IN" else (node.value,)
                if any(lit.kind == "null" for lit in literals):
                    continue
                found: set[str] = set()
                for lit in literals:
                    value = lit.value
                    if f.type in ("Lookup", "MasterDetail"):
                        value = normalize_id(value) if isinstance(value, str) else None
                    elif not isinstance(value, str) and f.type in TEXT_TYPES:
                        continue  # type error, reported by the predicate compiler
                    if value is not None:
                        found.update(index.get(index_key(f, value), ()))
                return sorted(found)
            if node.op == "!=" and isinstance(node.value, Literal) and node.value.kind == "null":
                return sorted(rid for bucket in index.values() for rid in bucket)
        return list(store.records)



def _normalizer(kind: str, exact: bool) -> Callable[[object], object]:
    if kind == "string" and not exact:
        return lambda v: v.lower() if isinstance(v, str) else v
    return lambda v: v


def _like(lit: Literal) -> re.Pattern:
    out = []
    escaped = set(lit.like_escapes)
    for i, ch in enumerate(str(lit.value)):
        if ch == "%" and i not in escaped:
            out.append(".*")
        elif ch == "_" and i not in escaped:
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
