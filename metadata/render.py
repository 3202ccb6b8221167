"""Render Salesforce metadata XML from the schema with jinja2.

One function per document; ``metadata.package`` and ``metadata.source_format`` decide where
each document goes (mdapi zip or DX source tree). Templates live in ``metadata/templates``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import jinja2

from metadata.schema import CustomObject, Field, ListView, PermissionSet, Tab

__all__ = [
    "render_custom_object",
    "render_dx_field",
    "render_dx_list_view",
    "render_dx_object",
    "render_package_xml",
    "render_permission_set",
    "render_standard_object",
    "render_tab",
]


def _xbool(value: object) -> str:
    if not isinstance(value, bool):
        # StrictUndefined does not catch a None slipping into a boolean element.
        raise TypeError(f"expected a bool for an XML boolean element, got {value!r}")
    return "true" if value else "false"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("metadata", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["xbool"] = _xbool
    return env


def _render(template: str, **context: object) -> str:
    text = _environment().get_template(template).render(**context)
    # Macros and conditionals leave blank lines behind; none of our values spans lines.
    return "\n".join(line for line in text.splitlines() if line.strip()) + "\n"


def render_custom_object(obj: CustomObject) -> str:
    """``objects/X__c.object`` in mdapi format: settings, fields and list views inline."""
    return _render("mdapi/custom_object.object.j2", obj=obj)


def render_standard_object(fields: Iterable[Field]) -> str:
    """``objects/Account.object``: only the custom fields we own on a standard object."""
    return _render("mdapi/standard_object.object.j2", fields=tuple(fields))


def render_tab(tab: Tab) -> str:
    return _render("tab.xml.j2", tab=tab)


def render_permission_set(permission_set: PermissionSet) -> str:
    return _render("permissionset.xml.j2", ps=permission_set)


def render_package_xml(types: Iterable[tuple[str, Iterable[str]]], api_version: str) -> str:
    ordered = tuple((name, tuple(members)) for name, members in types)
    return _render("package.xml.j2", types=ordered, api_version=api_version)


def render_dx_object(obj: CustomObject) -> str:
    """``X__c.object-meta.xml``: the object without its fields and list views."""
    return _render("dx/object-meta.xml.j2", obj=obj)


def render_dx_field(field: Field) -> str:
    return _render("dx/field-meta.xml.j2", f=field)


def render_dx_list_view(list_view: ListView) -> str:
    return _render("dx/listView-meta.xml.j2", lv=list_view)
