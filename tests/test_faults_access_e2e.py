"""Faults an operator meets in Salesforce and in the local file, against the stand-ins: each
ends recorded, bounded and explained."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from metadata import schema
from metadata.package import PackageSpec
from metadata.schema import FieldPermission
from sync.salesforce_io import deploy
from sync.store import StateStore


@pytest.fixture
def linked(world):
    c = world.stripe
    product = c.v1.products.create(params={"name": "Team"}).id
    price = c.v1.prices.create(params={"product": product, "currency": "usd",
                                       "unit_amount": 5000,
                                       "recurring": {"interval": "month"}}).id
    subs = {}
    for name in ("Acme", "Globex"):
        cid = c.v1.customers.create(params={"name": name, "payment_method": "pm_card_visa",
                                            "invoice_settings": {
                                                "default_payment_method": "pm_card_visa"}}).id
        sub = c.v1.subscriptions.create(params={"customer": cid, "items": [{"price": price}]})
        subs[world.link(name, cid)] = sub
    return world, subs


def _without_edit(field: str) -> PackageSpec:
    spec = PackageSpec.current()
    sets = []
    for ps in spec.permission_sets:
        if ps.name == "Billing_Sync_Integration":
            perms = tuple(FieldPermission(p.field, readable=True, editable=False)
                          if p.field == field else p for p in ps.field_permissions)
            ps = dataclasses.replace(ps, field_permissions=perms)
        sets.append(ps)
    return dataclasses.replace(spec, permission_sets=tuple(sets))


def test_fault_edit_access_lost_on_one_field_is_one_configuration_stop(linked):
    world, _subs = linked
    result = deploy(world.conn.sf, spec=_without_edit("Account.MRR__c"),
                    username=world.sf_standin.username, poll_interval=0.01)
    assert any("Account.MRR__c is read-only" in p for p in result.problems)
    report = world.cycle()
    assert report.stop is not None and report.stop.code == "FIELD_NOT_EDITABLE"
    assert "MRR__c" in report.stop.message and "Billing_Sync_Integration" in report.stop.message
    # one stop, not one error per Account
    errors = world.sync_errors()
    assert [e["Error_Code__c"] for e in errors] == ["FIELD_NOT_EDITABLE"]
    assert errors[0]["Category__c"] == "Configuration"


def test_fault_an_account_deleted_resolves_its_failures(world):
    bad = world.link("Typo Inc", "cus_bad id")  # a Matching failure on this Account
    assert world.cycle().errors == {"Matching": 1}
    [err] = world.sync_errors()
    assert err["Account__c"] == bad and err["Status__c"] == "Open"
    world.sf_standin.org.delete("Account", bad)
    report = world.cycle()
    assert report.exit_code == 0 and report.resolved == 1
    [err] = world.sync_errors()
    assert err["Status__c"] == "Resolved"
    with StateStore(world.settings.db_path) as store:
        assert store.open_failures() == [] and store.unmirrored() == []


def test_fault_a_store_from_a_newer_billing_sync_stops_before_any_write(linked):
    world, _subs = linked
    StateStore(world.settings.db_path).close()
    with sqlite3.connect(world.settings.db_path) as raw:
        raw.execute("PRAGMA user_version = 99")
    world.sf_standin.reset_counters()
    result = subprocess.run([sys.executable, "-m", "scheduler.cli", "sync"],
                            env={**os.environ, **world.env}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "newer billing-sync" in result.stderr
    assert "Traceback" not in result.stderr and world.writes() == 0


def test_fault_a_corrupt_store_is_one_line_and_exit_2(linked):
    world, _subs = linked
    world.settings.db_path.write_bytes(b"not a database at all" * 200)
    result = subprocess.run([sys.executable, "-m", "scheduler.cli", "sync"],
                            env={**os.environ, **world.env}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert str(world.settings.db_path) in result.stderr and world.writes() == 0


def test_fault_a_writer_waits_for_another_instead_of_crashing(tmp_path):
    path = tmp_path / "state.db"
    StateStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process mid-transaction
    released = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    released.start()
    try:
        with StateStore(path) as store:  # waits on the busy timeout, then writes
            assert store.start_run("full", dry_run=False, now=datetime.now(UTC)) is not None
    finally:
        released.join()
        holder.close()


def test_fault_a_dry_run_reads_without_ever_writing_the_file(linked):
    world, _subs = linked
    assert world.cycle().exit_code == 0
    before = world.settings.db_path.read_bytes()
    report = world.cycle(dry_run=True)
    assert report.dry_run and world.settings.db_path.read_bytes() == before


def test_schema_enums_equal_the_deployed_picklists():
    import re
    from pathlib import Path

    golden = (Path(__file__).parent / "metadata/golden/mdapi/objects/Sync_Error__c.object")
    text = golden.read_text()

    def values(field: str) -> set[str]:
        block = text.split(f"<fullName>{field}</fullName>", 1)[1].split("</fields>", 1)[0]
        return set(re.findall(r"<fullName>([^<]+)</fullName>", block))

    assert values("Category__c") == {c.value for c in schema.Category}
    assert values("Status__c") == {s.value for s in schema.ErrorStatus}


def _hidden(*fields: str) -> PackageSpec:
    spec = PackageSpec.current()
    sets = []
    for ps in spec.permission_sets:
        if ps.name == "Billing_Sync_Integration":
            perms = tuple(p for p in ps.field_permissions if p.field not in fields)
            ps = dataclasses.replace(ps, field_permissions=perms)
        sets.append(ps)
    return dataclasses.replace(spec, permission_sets=tuple(sets))


def test_fault_fields_gone_are_all_named_in_one_stop(linked):
    world, _subs = linked
    deploy(world.conn.sf, spec=_hidden("Account.MRR__c", "Subscription__c.Plan__c"),
           username=world.sf_standin.username, poll_interval=0.01)
    report = world.cycle()
    assert report.exit_code == 3 and report.stop is not None
    assert report.stop.code == "FIELDS_MISSING"
    assert "Account.MRR__c" in report.stop.message
    assert "Subscription__c.Plan__c" in report.stop.message
    assert world.writes() <= 1  # at most the Sync_Error__c of the stop itself


def test_fault_the_login_answering_html_is_one_clear_stop(world, tmp_path, capsys):
    import http.server
    import ssl

    import trustme

    class Portal(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # a captive portal or proxy answering in the login URL's place
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b"<html><body>Please log in to the Wi-Fi</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    ca = trustme.CA()
    ca_file = tmp_path / "portal-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = http.server.HTTPServer(("127.0.0.1", 0), Portal)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from scheduler.cli import main

        env = {**world.env, "SALESFORCE_LOGIN_URL": f"https://127.0.0.1:{server.server_port}",
               "SALESFORCE_CA_BUNDLE": str(ca_file)}
        assert main(["sync"], environ=env) == 3
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "text/html instead of a token" in err[0]
        assert world.writes() == 0
        with StateStore(world.settings.db_path) as store:
            [run] = store.runs()
            assert run["status"] == "stopped"
            [row] = store.open_failures()
            assert (row.code, row.mirrored) == ("LOGIN_NOT_JSON", False)  # shown once it can
    finally:
        server.shutdown()
        server.server_close()


def test_budget_above_the_hard_threshold_writes_nothing_and_resumes(linked):
    world, _subs = linked
    world.sf_standin.set_api_usage(used=95_000, total=100_000)
    report = world.cycle()
    assert report.exit_code == 3 and report.stop is not None
    assert report.stop.code == "API_BUDGET"
    assert "of 100,000 daily requests (95%" in report.stop.message
    assert world.subscriptions() == []  # nothing written
    assert report.salesforce_api_usage is not None
    world.sf_standin.set_api_usage(used=1_000, total=100_000)
    again = world.cycle()
    assert again.exit_code == 0 and len(world.subscriptions()) == 2
    assert again.resolved >= 1  # the Limits failure of the stop resolves


def test_the_per_cycle_cap_stops_writing_when_reached(linked):
    world, _subs = linked
    env = {**world.env, "BILLING_SYNC_API_MAX_PER_CYCLE": "3"}
    from scheduler.settings import load_settings

    world.settings = load_settings(env)
    report = world.cycle()
    assert report.stop is not None and "BILLING_SYNC_API_MAX_PER_CYCLE" in report.stop.message
    assert world.subscriptions() == []


def test_fault_a_state_file_of_another_org_stops_until_reset(linked, capsys):
    from scheduler.cli import main

    world, _subs = linked
    assert world.cycle().exit_code == 0
    with StateStore(world.settings.db_path) as store:  # as if written against another org
        store.set_cursor("identity", "Salesforce org 00D000000000OTHER, Stripe test mode")
    world.sf_standin.reset_counters()
    assert main(["sync"], environ=world.env) == 2
    err = capsys.readouterr().err
    assert "belongs to Salesforce org 00D000000000OTHER" in err and "reset-state" in err
    assert world.writes() == 0
    assert main(["reset-state", "--yes"], environ=world.env) == 0
    assert list(world.settings.db_path.parent.glob("state.db.*.bak"))
    assert main(["sync"], environ=world.env) == 0


def test_fault_edit_access_lost_on_a_sync_error_field_says_failures_cannot_be_shown(world):
    deploy(world.conn.sf, spec=_without_edit("Sync_Error__c.Message__c"),
           username=world.sf_standin.username, poll_interval=0.01)
    world.link("Typo Inc", "cus_bad id")
    report = world.cycle()
    assert report.exit_code == 3 and report.stop is not None
    assert report.stop.code == "FIELD_NOT_EDITABLE"
    assert "Message__c" in report.stop.message and "cannot be shown" in report.stop.message
    assert world.sync_errors() == []
    with StateStore(world.settings.db_path) as store:  # nothing lost: kept for later
        assert {r.code for r in store.unmirrored()} == {"MALFORMED_ID", "FIELD_NOT_EDITABLE"}


def test_fault_a_ca_that_does_not_verify_the_server_names_the_setting(world, tmp_path, capsys):
    import trustme

    from scheduler.cli import main

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    assert main(["sync"], environ={**world.env, "SALESFORCE_CA_BUNDLE": str(other)}) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "SALESFORCE_CA_BUNDLE" in line and "does not verify" in line
    assert "Traceback" not in line and world.writes() == 0


def test_fault_deploy_with_a_direct_token_when_chatter_is_off(world, capsys):
    from scheduler.cli import main

    world.sf_standin.set_chatter_enabled(False)
    env = {k: v for k, v in world.env.items()
           if k not in ("SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET")}
    env |= {"SALESFORCE_INSTANCE_URL": world.sf_standin.instance_url,
            "SALESFORCE_ACCESS_TOKEN": world.sf_standin.issue_token()}
    assert main(["deploy"], environ=env) == 0, capsys.readouterr().out
    assert "Billing_Sync_Integration already assigned" in capsys.readouterr().out
