"""Running parsed SOQL against the org: field resolution through FLS, index-backed filtering,
ordering, and query locators that hold the materialized id list for paging."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from .components import FieldSpec
from .ids import IdAllocator
from .org import Access, ObjectStore, Org
from .query_where import Getter, WhereMixin, field_kind
from .schema import ObjectSchema
from .sferrors import SfError
from .soql import FieldRef, Select, SoqlError, error_message, parse

__all__ = ["QueryEngine"]

DEFAULT_BATCH = 2000
_MAX_OFFSET = 2000
_MAX_LOCATORS = 200


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



class QueryEngine(WhereMixin):
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
            orderings.append((r.getter(), field_kind(r.field), item.descending, item.nulls_last))

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


def _rel_name(lookup: FieldSpec) -> str:
    from .schema import relationship_path_name

    return relationship_path_name(lookup) or lookup.full_name



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
