"""The project's gate: the README agrees with the code, packages export what they say, and
imports flow one way (scheduler → sync → metadata)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from scheduler import settings as settings_module
from scheduler.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _config_table_names() -> set[str]:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_readme_configuration_table_lists_exactly_the_settings():
    assert _config_table_names() == set(settings_module.KNOWN)


@pytest.mark.parametrize("module", COMMANDS)
def test_every_subcommand_has_a_readme_section(module):
    command = importlib.import_module(f"scheduler.commands.{module.replace('-', '_')}").NAME
    assert re.search(rf"^### `billing-sync {command}\b", README, re.M), command


def test_the_readme_cites_no_design_notes_that_do_not_ship():
    for path in [ROOT / "README.md", *ROOT.glob("sync/**/*.py"), *ROOT.glob("metadata/**/*.py"),
                 *ROOT.glob("scheduler/**/*.py")]:
        assert not re.search(r"DESIGN(\.md)? ?[AB]\d", path.read_text()), path


# Each package's public names. A change here is a change of the package's interface: make
# it on purpose.
EXPORTS = {
    "sync": ["RetryLater", "SkipRecord", "StopCycle", "SyncFailure"],
    "sync.core": ["CustomerMapping", "CustomerMrr", "DesiredRecord", "Failure", "FailureRow",
                  "FailureState", "RecordChange", "account_status", "customer_mrr",
                  "diff_records", "map_customer", "subscription_mrr", "to_salesforce"],
    "sync.store": ["SCHEMA_VERSION", "StateStore", "StoreError", "StoreWriteFailed"],
    "sync.salesforce_io": ["ComponentResult", "DeployResult", "SalesforceGateway",
                           "WriteResult", "deploy", "deployed_version", "needs_deploy"],
    "sync.stripe_io": ["StripeSource", "choose_strategy"],
    "sync.chargebee_io": ["ChargebeeSource", "choose_strategy"],
    "metadata": ["schema"],
    "scheduler": ["ConfigError", "Settings", "load_settings"],
}


@pytest.mark.parametrize("package", sorted(EXPORTS))
def test_each_package_exports_a_short_pinned_all(package):
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(EXPORTS[package])
    assert all(hasattr(module, name) for name in module.__all__)


def _imports(path: Path) -> set[str]:
    """Top-level packages of ours that ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(ROOT).parts[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(package if node.level else (node.module or "").split(".")[0])
    return found & {"sync", "metadata", "scheduler", "standins"}


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "emulators" not in p.parts)


@pytest.mark.parametrize("package, allowed", [
    ("metadata", {"metadata"}),
    ("sync", {"sync", "metadata"}),
])
def test_imports_flow_one_way(package, allowed):
    for path in _modules(package):
        assert _imports(path) <= allowed, path


def test_no_engine_module_is_over_400_lines():
    for package in ("sync", "metadata", "scheduler"):
        for path in _modules(package):
            assert len(path.read_text().splitlines()) <= 400, path
