"""The Metadata API's XML schema, read from the WSDL that simple-salesforce bundles.

Salesforce rejects a metadata file whose elements its schema does not define ("Element ...
invalid at this location in type CustomField") and enum values it does not list. The stand-in
checks every file against the same WSDL, and uses the type sequences to write its answers in the
order Salesforce does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import simple_salesforce
from lxml import etree

__all__ = ["MD_NS", "MetadataSchema", "SchemaElement", "metadata_schema"]

MD_NS = "http://soap.sforce.com/2006/04/metadata"
_XSD_NS = "http://www.w3.org/2001/XMLSchema"
_XSD = f"{{{_XSD_NS}}}"
_BOOL = frozenset({"true", "false", "1", "0"})


@dataclass(frozen=True)
class SchemaElement:
    name: str
    type: str  # "tns:CustomField", "xsd:string", ...
    repeated: bool


class MetadataSchema:
    def __init__(self, wsdl_path: Path) -> None:
        root = etree.parse(str(wsdl_path)).getroot()
        self._complex: dict[str, tuple[str | None, tuple[SchemaElement, ...]]] = {}
        self._enums: dict[str, frozenset[str]] = {}
        for schema in root.iter(f"{_XSD}schema"):
            for node in schema:
                name = node.get("name")
                if node.tag == f"{_XSD}complexType" and name:
                    self._complex[name] = self._read_complex(node)
                elif node.tag == f"{_XSD}simpleType" and name:
                    values = [e.get("value") for e in node.iter(f"{_XSD}enumeration")]
                    if values:
                        self._enums[name] = frozenset(v for v in values if v is not None)

    @staticmethod
    def _read_complex(node: etree._Element) -> tuple[str | None, tuple[SchemaElement, ...]]:
        base = None
        ext = node.find(f"{_XSD}complexContent/{_XSD}extension")
        if ext is not None:
            base = ext.get("base", "").removeprefix("tns:")
        elements = tuple(
            SchemaElement(
                name=e.get("name", ""),
                type=e.get("type", "xsd:string"),
                repeated=e.get("maxOccurs") == "unbounded",
            )
            for e in node.iter(f"{_XSD}element")
        )
        return base, elements

    def has_type(self, name: str) -> bool:
        return name in self._complex

    def extends(self, name: str, base: str) -> bool:
        while name in self._complex:
            if name == base:
                return True
            name = self._complex[name][0] or ""
        return False

    def elements(self, type_name: str) -> tuple[SchemaElement, ...]:
        """Every element of a complex type, inherited ones first (the order Salesforce writes)."""
        chain: list[tuple[SchemaElement, ...]] = []
        name: str | None = type_name
        while name:
            base, own = self._complex[name]
            chain.append(own)
            name = base
        return tuple(e for own in reversed(chain) for e in own)

    def element(self, type_name: str, name: str) -> SchemaElement | None:
        for e in self.elements(type_name):
            if e.name == name:
                return e
        return None

    def enum(self, type_name: str) -> frozenset[str] | None:
        return self._enums.get(type_name)

    def check(
        self, node: etree._Element, type_name: str, skip: frozenset[str] = frozenset()
    ) -> list[tuple[str, int | None]]:
        """Schema problems in ``node`` read as ``type_name``: (Salesforce's message, line).

        Children named in ``skip`` must exist in the type but are not descended into: the
        caller checks them on their own (an object's fields are components of their own).
        """
        problems: list[tuple[str, int | None]] = []
        self._check(node, type_name, problems, skip)
        return problems

    def _check(
        self,
        node: etree._Element,
        type_name: str,
        out: list[tuple[str, int | None]],
        skip: frozenset[str] = frozenset(),
    ) -> None:
        seen: set[str] = set()
        for child in node:
            if not isinstance(child.tag, str):
                continue  # comments and processing instructions
            qname = etree.QName(child)
            spec = self.element(type_name, qname.localname) if qname.namespace == MD_NS else None
            if spec is not None and spec.name in skip:
                continue
            if spec is None:
                out.append(
                    (
                        f"Error parsing file: Element {child.tag} invalid at this location "
                        f"in type {type_name}",
                        child.sourceline,
                    )
                )
                continue
            if not spec.repeated and spec.name in seen:
                out.append(
                    (
                        f"Error parsing file: Element {child.tag} is duplicated at this "
                        f"location in type {type_name}",
                        child.sourceline,
                    )
                )
            seen.add(spec.name)
            self._check_value(child, spec, out)

    def _check_value(
        self, child: etree._Element, spec: SchemaElement, out: list[tuple[str, int | None]]
    ) -> None:
        prefix, _, local = spec.type.partition(":")
        if prefix == "tns" and local in self._complex:
            self._check(child, local, out)
            return
        text = (child.text or "").strip()
        if prefix == "tns" and local in self._enums:
            if text not in self._enums[local]:
                out.append(
                    (
                        f"Error parsing file: '{text}' is not a valid value for the enum '{local}'",
                        child.sourceline,
                    )
                )
        elif local == "boolean" and text.lower() not in _BOOL:
            out.append((f"Error parsing file: '{text}' is not a valid boolean", child.sourceline))
        elif local in ("int", "long") and not _is_int(text):
            out.append((f"Error parsing file: '{text}' is not a valid integer", child.sourceline))
        elif local == "double" and not _is_float(text):
            out.append((f"Error parsing file: '{text}' is not a valid number", child.sourceline))


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def metadata_schema() -> MetadataSchema:
    """The schema of the WSDL simple-salesforce ships (Metadata API 63.0), parsed once."""
    return MetadataSchema(Path(simple_salesforce.__file__).parent / "metadata.wsdl")
