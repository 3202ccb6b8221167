"""Write the package as a Salesforce DX project, for admins who deploy with the `sf` CLI.

Same components as the mdapi zip, split the way source format wants them: one file per
field and per list view. ``sf project deploy start --source-dir force-app`` (or
``--manifest manifest/package.xml``) deploys it.
"""

from __future__ import annotations

import json
from pathlib import Path

from metadata import render
from metadata.package import PackageSpec, package_xml

__all__ = ["PACKAGE_DIR", "dx_files", "write_source"]

PACKAGE_DIR = "force-app/main/default"


def _sfdx_project(spec: PackageSpec) -> str:
    project = {
        "packageDirectories": [{"path": "force-app", "default": True}],
        "name": "billing-sync",
        "namespace": "",
        "sfdcLoginUrl": "https://login.salesforce.com",
        "sourceApiVersion": spec.api_version,
    }
    return json.dumps(project, indent=2) + "\n"


def dx_files(spec: PackageSpec) -> dict[str, str]:
    """Relative path in the DX project -> file text."""
    base = PACKAGE_DIR
    files = {
        "sfdx-project.json": _sfdx_project(spec),
        "manifest/package.xml": package_xml(spec),
    }
    for f in spec.account_fields:
        files[f"{base}/objects/Account/fields/{f.name}.field-meta.xml"] = render.render_dx_field(f)
    for obj in spec.objects:
        folder = f"{base}/objects/{obj.name}"
        files[f"{folder}/{obj.name}.object-meta.xml"] = render.render_dx_object(obj)
        for f in obj.fields:
            files[f"{folder}/fields/{f.name}.field-meta.xml"] = render.render_dx_field(f)
        for lv in obj.list_views:
            files[f"{folder}/listViews/{lv.name}.listView-meta.xml"] = render.render_dx_list_view(
                lv
            )
    for tab in spec.tabs:
        files[f"{base}/tabs/{tab.name}.tab-meta.xml"] = render.render_tab(tab)
    for ps in spec.permission_sets:
        files[f"{base}/permissionsets/{ps.name}.permissionset-meta.xml"] = (
            render.render_permission_set(ps)
        )
    return files


def write_source(spec: PackageSpec, out_dir: Path) -> list[Path]:
    """Write the DX project under ``out_dir`` (created if missing); returns the files written.

    Files of ours already there are overwritten; nothing else in ``out_dir`` is touched and
    an existing ``sfdx-project.json`` is kept, so it can be an existing DX project's root.
    """
    written: list[Path] = []
    for relative, text in dx_files(spec).items():
        path = out_dir / relative
        if relative == "sfdx-project.json" and path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
