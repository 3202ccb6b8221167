"""Running parsed SOQL against the org: field resolution through FLS, index-backed filtering,
ordering, and query locators that hold the materialized id list for paging."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .components import FieldSpec
from .ids import IdAllocator, normalize_id
from .org import Access, ObjectStore, Org, index_key
from .schema import NUMBER_TYPES, TEXT_TYPES, ObjectSchema
from .sferrors import SfError
from .soql import BoolOp, Compare, FieldRef, Literal, Not, Select, SoqlError, error_message, parse

__all__ = ["QueryEngine"]

DEFAULT_BATCH = 2000
_MAX_OFFSET = 2000
_MAX_LOCATORS = 200

Getter = Callable[[dict], object]


@dataclass
class _Resolved:
    field: FieldSpec
    hops: tuple[tuple[str, ObjectStore], ...]  # (lookup field name, parent store)
    rel_names: tuple[str, ...]  # canonical relationship names along the path
    rel_types: tuple[str, ...]  # parent object names along the path

    def getter(self) -> Getter:
        name = self.field.full_name
        hops = self.hops
        if not hops:
            return lambda r: r.get(name)

        def walk(record: dict) -> object:
            for lookup, store in hops:
                parent_id = record.get(lookup)
                if parent_id is None:
                    return None
                record = store.records.get(parent_id)
                if record is None:
                    return None
            return record.get(name)

        return walk


@dataclass
class _Locator:
    ids: list[str]
    sobject: str
    store: ObjectStore
    shape: list  # output tree, see _shape()
    batch: int
    version: str


def _kind(f: FieldSpec) -> str:
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


class QueryEngine:
    def __init__(self, org: Org) -> None:
        self.org = org
        self._locators: OrderedDict[str, _Locator] = OrderedDict()
        self._locator_ids = IdAllocator("01g")

    # ----------------------------------------------------------------- entry points
    def run(
        self, text: str, access: Access | None, version: str, batch: int = DEFAULT_BATCH
    ) -> dict:
        with self.org.lock:
            try:
                select = parse(text)
                return self._run(select, access, version, batch)
            except SoqlError as exc:
                raise SfError(400, exc.code, error_message(text, exc.pos, exc.message)) from None

    def more(self, locator: str, version: str) -> dict:
        with self.org.lock:
            base, _, offset_text = locator.rpartition("-")
            state = self._locators.get(base)
            if state is None or not offset_text.isdigit() or int(offset_text) > len(state.ids):
                raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            self._locators.move_to_end(base)
            return self._page(base, state, int(offset_text), version)

    # ----------------------------------------------------------------- compile + execute
    def _run(self, select: Select, access: Access | None, version: str, batch: int) -> dict:
        schema = self.org.visible_object(select.sobject, access)
        if schema is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"sObject type '{select.sobject}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
                select.sobject_pos,
            )
        store = self.org.store(schema.name)
        resolved = []
        seen: set[str] = set()
        for ref in select.fields:
            r = self._resolve(schema, ref, access)
            key = ".".join((*r.rel_names, r.field.full_name)).lower()
            if key in seen:
                raise SoqlError("MALFORMED_QUERY", f"duplicate field selected: {ref.text}",
                                ref.pos)
            seen.add(key)
            resolved.append(r)
        predicate = self._compile(schema, select.where, access) if select.where else None
        if select.offset is not None and select.offset > _MAX_OFFSET:
            raise SfError(400, "NUMBER_OUTSIDE_VALID_RANGE",
                          f"Maximum SOQL offset allowed is {_MAX_OFFSET}")
        orderings = []
        for item in select.order_by:
            r = self._resolve(schema, item.field, access)
            if r.field.type == "LongTextArea":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"field '{r.field.full_name}' can not be sorted in a query call",
                    item.field.pos,
                )
            orderings.append((r.getter(), _kind(r.field), item.descending, item.nulls_last))

        ids = self._candidates(schema, store, select.where, access)
        records = store.records
        if predicate is not None:
            ids = [rid for rid in ids if predicate(records[rid])]
        for getter, kind, descending, nulls_last in reversed(orderings):
            ids = _sorted(ids, records, getter, kind, descending, nulls_last)
        if select.offset:
            ids = ids[select.offset :]
        if select.limit is not None:
            ids = ids[: select.limit]
        if select.count:
            return {"totalSize": len(ids), "done": True, "records": []}
        shape = _shape(resolved, self.org)
        state = _Locator(ids, schema.name, store, shape, batch, version)
        base = self._locator_ids.next()
        if len(ids) > batch:
            self._locators[base] = state
            while len(self._locators) > _MAX_LOCATORS:
                self._locators.popitem(last=False)
        return self._page(base, state, 0, version)

    def _page(self, base: str, state: _Locator, offset: int, version: str) -> dict:
        chunk = state.ids[offset : offset + state.batch]
        records = state.store.records
        out = []
        for rid in chunk:
            record = records.get(rid)
            if record is not None:  # deleted since the query ran
                out.append(_render(state.sobject, record, state.shape, version))
        end = offset + len(chunk)
        page: dict = {"totalSize": len(state.ids), "done": end >= len(state.ids)}
        if end < len(state.ids):
            page["nextRecordsUrl"] = f"/services/data/v{version}/query/{base}-{end}"
        else:
            self._locators.pop(base, None)
        page["records"] = out
        return page

    def _resolve(self, schema: ObjectSchema, ref: FieldRef, access: Access | None) -> _Resolved:
        hops: list[tuple[str, ObjectStore]] = []
        rel_names: list[str] = []
        rel_types: list[str] = []
        current = schema
        for part in ref.path[:-1]:
            lookup = current.relationship_field(part)
            target = None
            if lookup is not None and self.org.field_visible(current, lookup, access):
                target = self.org.visible_object(lookup.reference_to or "", access)
            if target is None:
                raise SoqlError(
                    "INVALID_FIELD",
                    f"Didn't understand relationship '{part}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                    ref.pos,
                )
            hops.append((lookup.full_name, self.org.store(target.name)))
            rel_names.append(_rel_name(lookup))
            rel_types.append(target.name)
            current = target
        f = self.org.resolve_field(current, ref.path[-1], access)
        if f is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"No such column '{ref.path[-1]}' on entity '{current.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom "
                "field name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
                ref.pos,
            )
        return _Resolved(f, tuple(hops), tuple(rel_names), tuple(rel_types))

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
        kind = _kind(f)
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


def _rel_name(lookup: FieldSpec) -> str:
    from .schema import relationship_path_name

    return relationship_path_name(lookup) or lookup.full_name


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


def _sorted(ids, records, getter, kind, descending, nulls_last) -> list[str]:
    lower = kind == "string"
    present = []
    nulls = []
    for rid in ids:
        value = getter(records[rid])
        if value is None:
            nulls.append(rid)
        else:
            present.append((value.lower() if lower else value, rid))
    present.sort(key=lambda pair: pair[0], reverse=descending)
    ordered = [rid for _, rid in present]
    return ordered + nulls if nulls_last else nulls + ordered


def _shape(resolved: list[_Resolved], org: Org) -> list:
    """Output tree: ("field", name) or ("rel", rel_name, lookup, parent type, store, subtree)."""
    root: list = []
    for r in resolved:
        level = root
        for (lookup, store), rel, ptype in zip(r.hops, r.rel_names, r.rel_types, strict=True):
            node = next((n for n in level if n[0] == "rel" and n[1] == rel), None)
            if node is None:
                node = ("rel", rel, lookup, ptype, store, [])
                level.append(node)
            level = node[5]
        level.append(("field", r.field.full_name))
    return root


def _render(sobject: str, record: dict, shape: list, version: str) -> dict:
    out: dict = {
        "attributes": {
            "type": sobject,
            "url": f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}",
        }
    }
    for node in shape:
        if node[0] == "field":
            out[node[1]] = record.get(node[1])
        else:
            _, rel, lookup, ptype, store, sub = node
            parent_id = record.get(lookup)
            parent = store.records.get(parent_id) if parent_id else None
            out[rel] = _render(ptype, parent, sub, version) if parent is not None else None
    return out
