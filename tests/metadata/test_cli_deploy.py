"""`billing-sync deploy` as the CLI runs it."""

from __future__ import annotations

import argparse
import io
from types import SimpleNamespace

import pytest

from scheduler.commands import deploy as command
from scheduler.context import Context, format_table

from .conftest import connect


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    monkeypatch.setattr(command, "POLL_SECONDS", 0.05)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return parser.parse_args(argv)


def test_out_writes_a_dx_project_without_any_credentials(tmp_path):
    out = io.StringIO()
    ctx = Context(environ={}, stdout=out)  # no settings at all: loading them fails
    code = command.run(_args("--out", str(tmp_path / "dx")), ctx)
    assert code == 0
    assert (tmp_path / "dx/sfdx-project.json").exists()
    assert (tmp_path / "dx/force-app/main/default/tabs/Sync_Error__c.tab-meta.xml").exists()
    assert "sf project deploy start" in out.getvalue()


class FakeContext:
    def __init__(self, conn, login_url: str):
        self.settings = SimpleNamespace(salesforce_api_version="66.0",
                                        salesforce_login_url=login_url)
        self._conn = conn
        self.lines: list[str] = []

    def salesforce(self):
        return self._conn

    def out(self, text: str = "") -> None:
        self.lines.append(text)

    @staticmethod
    def table(headers, rows) -> str:
        return format_table(headers, rows)


def test_deploy_prints_the_component_table_and_is_idempotent(standin):
    conn = SimpleNamespace(sf=connect(standin), username=standin.username, identity_url=None)
    ctx = FakeContext(conn, standin.login_url)
    assert command.run(_args("--timeout", "60"), ctx) == 0
    table_rows = [line.split() for line in "\n".join(ctx.lines).splitlines()]
    assert ["CustomField", "Account.MRR__c", "created"] in table_rows
    assert "deploy Succeeded" in ctx.lines[-1]
    assert "Billing_Sync_Integration assigned" in ctx.lines[-1]

    ctx.lines.clear()
    assert command.run(_args(), ctx) == 0
    assert "unchanged" in ctx.lines[-1] and "created" not in ctx.lines[-1]
    assert "already assigned" in ctx.lines[-1]


def test_check_only_reports_validation_and_exit_code(standin):
    conn = SimpleNamespace(sf=connect(standin), username=standin.username, identity_url=None)
    ctx = FakeContext(conn, standin.login_url)
    assert command.run(_args("--check-only"), ctx) == 0
    assert ctx.lines[-1].startswith("validation (check only) Succeeded")


def test_unreachable_org_is_exit_1_with_a_sentence(tmp_path):
    import requests
    from simple_salesforce import Salesforce

    session = requests.Session()
    sf = Salesforce(instance_url="https://127.0.0.1:9", session_id="00Dfake", version="66.0",
                    session=session)
    ctx = FakeContext(SimpleNamespace(sf=sf, username=None, identity_url=None),
                      "https://login.salesforce.com")
    assert command.run(_args(), ctx) == 1
    assert ctx.lines[-1].startswith("deploy failed: Describing Account: cannot reach Salesforce")
