"""A deploy zip read the way the Metadata API reads it: package.xml decides what is deployed.

Members named in package.xml must have their file; files package.xml does not name are not
deployed. The stand-in deploys CustomObject (custom, or a standard object's custom fields),
CustomField, ListView, CustomTab and PermissionSet; any other type named in package.xml is a
component failure rather than a silent skip.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from .parse import (
    Component,
    parse_object_file,
    parse_permission_set_file,
    parse_tab_file,
)
from .schema import MD_NS, metadata_schema

__all__ = ["SUPPORTED_TYPES", "Bundle", "read_bundle"]

SUPPORTED_TYPES = ("CustomObject", "CustomField", "ListView", "CustomTab", "PermissionSet")
_NS = f"{{{MD_NS}}}"
_MAX_FILES = 10_000  # Salesforce's per-deploy file limit


@dataclass
class Bundle:
    components: list[Component] = field(default_factory=list)
    package: Component = field(default_factory=lambda: Component("", "package.xml", "package.xml"))
    version: str = ""


def _files(raw: bytes, single_package: bool, bundle: Bundle) -> dict[str, bytes] | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = [i for i in archive.infolist() if not i.is_dir()]
        if len(entries) > _MAX_FILES:
            bundle.package.fail(f"Maximum number of files exceeded: {_MAX_FILES}")
            return None
        files = {
            posixpath.normpath(i.filename.replace("\\", "/")).lstrip("/"): archive.read(i)
            for i in entries
            if not i.filename.startswith("__MACOSX/")
        }
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        bundle.package.fail(f"The zip file is not a valid zip archive: {exc}")
        return None
    if single_package or "package.xml" in files:
        return files
    # Without singlePackage the zip holds one or more package folders; the stand-in takes one.
    roots = {name.split("/", 1)[0] for name in files if "/" in name}
    if len(roots) != 1:
        return {}
    root = roots.pop()
    return {name[len(root) + 1 :]: data for name, data in files.items() if "/" in name}


def _manifest(data: bytes, bundle: Bundle) -> dict[str, list[str]] | None:
    comp = bundle.package
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        comp.fail(f"Error parsing file: {exc.msg}", exc.lineno)
        return None
    if root.tag != f"{_NS}Package":
        comp.fail(f"Error parsing file: Element {root.tag} invalid at this location", 1)
        return None
    for message, line in metadata_schema().check(root, "Package"):
        comp.fail(message, line)
    bundle.version = (root.findtext(f"{_NS}version") or "").strip()
    types: dict[str, list[str]] = {}
    for node in root.findall(f"{_NS}types"):
        name = (node.findtext(f"{_NS}name") or "").strip()
        members = [(m.text or "").strip() for m in node.findall(f"{_NS}members")]
        types.setdefault(name, []).extend(members)
    return None if comp.problems else types


def read_bundle(raw: bytes, single_package: bool = True) -> Bundle:
    bundle = Bundle()
    files = _files(raw, single_package, bundle)
    if files is None:
        return bundle
    if "package.xml" not in files:
        bundle.package.fail("No package.xml found")
        return bundle
    for name in files:
        if posixpath.basename(name).startswith("destructiveChanges"):
            bundle.package.fail(
                f"The Salesforce stand-in does not process {name}: it never deletes"
            )
    types = _manifest(files["package.xml"], bundle)
    if types is None:
        return bundle
    _Resolver(files, bundle).resolve(types)
    return bundle


class _Resolver:
    def __init__(self, files: dict[str, bytes], bundle: Bundle) -> None:
        self.files = files
        self.bundle = bundle
        self._objects: dict[str, tuple[Component, list[Component], list[Component]]] = {}
        self._seen: set[tuple[str, str]] = set()

    def _add(self, comp: Component) -> None:
        key = (comp.type, comp.full_name)
        if key not in self._seen:
            self._seen.add(key)
            self.bundle.components.append(comp)

    def _missing(self, type_name: str, member: str) -> None:
        comp = Component(type_name, member, "package.xml")
        comp.fail(
            f"An object '{member}' of type {type_name} was named in package.xml, "
            "but was not found in zipped directory"
        )
        self._add(comp)

    def _names(self, folder: str, suffix: str) -> list[str]:
        prefix = f"{folder}/"
        return sorted(
            name[len(prefix) : -len(suffix)]
            for name in self.files
            if name.startswith(prefix) and name.endswith(suffix) and "/" not in name[len(prefix) :]
        )

    def _object(self, name: str):
        if name not in self._objects:
            path = f"objects/{name}.object"
            if path not in self.files:
                return None
            self._objects[name] = parse_object_file(name, path, self.files[path])
        return self._objects[name]

    def resolve(self, types: dict[str, list[str]]) -> None:
        schema = metadata_schema()
        for type_name, members in types.items():
            if not (schema.has_type(type_name) and schema.extends(type_name, "Metadata")):
                self.bundle.package.fail(
                    f"Unknown type name '{type_name}' specified in package.xml"
                )
                continue
            if type_name not in SUPPORTED_TYPES:
                for member in members:
                    comp = Component(type_name, member, "package.xml")
                    comp.fail(
                        f"The Salesforce stand-in does not deploy metadata of type {type_name}"
                    )
                    self._add(comp)
                continue
            getattr(self, f"_resolve_{type_name}")(members)

    def _resolve_CustomObject(self, members: list[str]) -> None:
        if "*" in members:
            members = [m for m in members if m != "*"] + self._names("objects", ".object")
        for member in members:
            parsed = self._object(member)
            if parsed is None:
                self._missing("CustomObject", member)
                continue
            obj, fields, views = parsed
            self._add(obj)
            for comp in (*fields, *views):
                self._add(comp)

    def _resolve_children(self, type_name: str, members: list[str], index: int) -> None:
        if "*" in members:
            for name in self._names("objects", ".object"):
                parsed = self._object(name)
                if parsed is not None:
                    for comp in parsed[index]:
                        self._add(comp)
            members = [m for m in members if m != "*"]
        for member in members:
            object_name, dot, child = member.partition(".")
            parsed = self._object(object_name) if dot and child else None
            if parsed is None:
                self._missing(type_name, member)
                continue
            obj, *children = parsed
            if obj.problems and obj.node is None:
                # The file does not parse: the member's failure is the file's failure.
                comp = Component(type_name, member, obj.file_name, problems=list(obj.problems))
                self._add(comp)
                continue
            match = [c for c in children[index - 1] if c.full_name == member]
            if not match:
                self._missing(type_name, member)
                continue
            self._add(match[0])

    def _resolve_CustomField(self, members: list[str]) -> None:
        self._resolve_children("CustomField", members, 1)

    def _resolve_ListView(self, members: list[str]) -> None:
        self._resolve_children("ListView", members, 2)

    def _resolve_simple(self, type_name: str, folder: str, suffix: str, members: list[str], parse):
        if "*" in members:
            members = [m for m in members if m != "*"] + self._names(folder, suffix)
        for member in members:
            path = f"{folder}/{member}{suffix}"
            if path not in self.files:
                self._missing(type_name, member)
                continue
            self._add(parse(member, path, self.files[path]))

    def _resolve_CustomTab(self, members: list[str]) -> None:
        self._resolve_simple("CustomTab", "tabs", ".tab", members, parse_tab_file)

    def _resolve_PermissionSet(self, members: list[str]) -> None:
        self._resolve_simple(
            "PermissionSet", "permissionsets", ".permissionset", members, parse_permission_set_file
        )
