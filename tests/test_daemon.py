"""The daemon in-process: its settings, its jobs' configuration, each job called directly
(against both stand-ins), bounded cycles, the pause flag, the listeners, deploy on start,
and the small commands around it (pause, resume, systemd-unit)."""

from __future__ import annotations

import configparser
import dataclasses
import logging
import signal
import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from metadata import schema
from metadata.package import PackageSpec
from metadata.schema import Category
from scheduler import daemon as daemon_module
from scheduler.cli import main
from scheduler.daemon import CYCLES, Daemon
from scheduler.health import readiness
from scheduler.settings import ConfigError, load_settings
from scheduler.startup import CannotStart, ensure_schema, full_due
from sync.core.failures import CYCLE_SUBJECT, Failure
from sync.salesforce_io import deploy, deployed_version
from sync.store import StateStore

BASE = {"STRIPE_API_KEY": "sk_test_x", "SALESFORCE_INSTANCE_URL": "https://acme.example.com",
        "SALESFORCE_ACCESS_TOKEN": "token"}
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


class Alerts:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def send(self, text, *, blocks=None) -> bool:
        self.texts.append(text)
        return True


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_daemon(world):
    made: list[Daemon] = []

    def make(settings=None, *, environ=None, **kwargs) -> Daemon:
        d = Daemon(settings or world.settings, billing_client=world.stripe, salesforce=world.conn,
                   alerter=kwargs.pop("alerter", None) or Alerts(), scheduler=BackgroundScheduler(),
                   environ=environ or {}, engine_sleep=lambda _s: None, **kwargs)
        made.append(d)
        return d

    yield make
    for d in made:
        if d.scheduler.running:
            d.scheduler.shutdown(wait=False)
        d.close()


def customer(world, name: str, quantity: int = 1) -> tuple[str, str, str]:
    """A Stripe customer on a 50 USD monthly plan, linked to a new Account."""
    c = world.stripe
    product = c.v1.products.create(params={"name": f"Team {name}"}).id
    price = c.v1.prices.create(params={"product": product, "currency": "usd",
                                       "unit_amount": 5000,
                                       "recurring": {"interval": "month"}}).id
    cid = c.v1.customers.create(params={
        "name": name, "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}}).id
    sub = c.v1.subscriptions.create(params={"customer": cid,
                                            "items": [{"price": price, "quantity": quantity}]})
    return cid, world.link(name, cid), sub.id


def set_quantity(world, sub_id: str, quantity: int) -> None:
    sub = world.stripe.v1.subscriptions.retrieve(sub_id)
    world.stripe.v1.subscriptions.update(sub_id, params={
        "items": [{"id": sub["items"].data[0].id, "quantity": quantity}]})


# -- settings -------------------------------------------------------------------------------

def test_daemon_settings_defaults():
    s = load_settings(BASE)
    assert (s.interval_s, s.full_reconcile, s.retention_days, s.cycle_timeout_s) == (
        60, "0 3 * * *", 90, 900)
    assert s.http_addr == ("127.0.0.1", 9464)
    assert load_settings({**BASE, "BILLING_SYNC_HTTP_ADDR": "off"}).http_addr is None
    assert load_settings({**BASE, "BILLING_SYNC_INTERVAL": "5"}).interval_s == 5


@pytest.mark.parametrize("name, value", [
    ("BILLING_SYNC_INTERVAL", "4"),
    ("BILLING_SYNC_INTERVAL", "1m"),
    ("BILLING_SYNC_FULL_RECONCILE", "0 3 * *"),
    ("BILLING_SYNC_FULL_RECONCILE", "61 3 * * *"),
    ("BILLING_SYNC_RETENTION_DAYS", "0"),
    ("BILLING_SYNC_CYCLE_TIMEOUT", "-5"),
    ("BILLING_SYNC_HTTP_ADDR", "localhost"),
])
def test_a_bad_daemon_setting_is_one_line_naming_it(name, value):
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, name: value})
    assert str(info.value).startswith(name) and "\n" not in str(info.value)


# -- the scheduler's configuration ------------------------------------------------------------

def test_jobs_coalesce_run_one_at_a_time_and_have_an_explicit_grace(make_daemon, world):
    settings = dataclasses.replace(world.settings, interval_s=30, full_reconcile="15 2 * * *")
    d = make_daemon(settings, environ={"WATCHDOG_USEC": "4000000"})
    d.schedule(full_reason="no events cursor yet")
    d.scheduler.start(paused=True)
    jobs = {job.id: job for job in d.scheduler.get_jobs()}
    assert set(jobs) == {"incremental", "full", "full-at-start", "housekeeping", "watchdog"}
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time is not None and job.misfire_grace_time >= 1
    assert jobs["incremental"].misfire_grace_time == 30
    assert jobs["full"].misfire_grace_time == 3600
    # cycles share one worker, so they never write at once; the watchdog is not behind them
    assert {jobs[j].executor for j in ("incremental", "full", "full-at-start", "housekeeping")} == {
        CYCLES}
    assert jobs["watchdog"].executor == "default"
    assert str(d.scheduler.timezone) == "UTC"
    # the triggers' own arithmetic, from a clock we choose
    assert jobs["incremental"].trigger.interval == timedelta(seconds=30)
    assert jobs["full"].trigger.get_next_fire_time(None, NOW) == datetime(2026, 12, 3, 2, 15,
                                                                          tzinfo=UTC)
    assert jobs["housekeeping"].trigger.get_next_fire_time(None, NOW).date() == NOW.date() + \
        timedelta(days=1)
    assert jobs["watchdog"].trigger.interval == timedelta(seconds=2)


def test_no_watchdog_job_and_no_start_reconcile_unless_asked(make_daemon):
    d = make_daemon()
    d.schedule(full_reason=None)
    d.scheduler.start(paused=True)
    assert {job.id for job in d.scheduler.get_jobs()} == {"incremental", "full", "housekeeping"}


# -- the jobs, called directly ----------------------------------------------------------------

def test_incremental_job_runs_a_full_reconcile_first_then_only_what_changed(make_daemon, world):
    _cid, acct, sub_id = customer(world, "Acme")
    d = make_daemon()
    assert full_due(d.store, datetime.now(UTC)) == "no events cursor yet"
    first = d.incremental_job()
    assert first is not None and first.kind == "full" and first.exit_code == 0
    assert world.account(acct)["MRR__c"] == 50.0
    assert full_due(d.store, datetime.now(UTC)) is None
    set_quantity(world, sub_id, 3)
    report = d.incremental_job()
    assert report is not None and (report.kind, report.dirty) == ("incremental", 1)
    assert world.account(acct)["MRR__c"] == 150.0
    assert d.records_written == first.written + report.written
    snap = d.snapshot()
    assert set(snap.last_success) == {"full", "incremental"}
    assert snap.drift_fields == first.fields_changed and snap.events_lag_s is not None
    assert snap.api_calls_total["salesforce"] > 0 and snap.stop_open is None
    assert readiness(snap)[0] is True


def test_full_due_after_a_day_or_with_a_stale_cursor(make_daemon, world):
    customer(world, "Acme")
    d = make_daemon()
    assert d.full_job().exit_code == 0
    now = datetime.now(UTC)
    assert full_due(d.store, now + timedelta(hours=23)) is None
    assert "finished 25 h ago" in full_due(d.store, now + timedelta(hours=25))
    assert "28 days old" in full_due(d.store, now + timedelta(days=28))


def test_the_cycle_deadline_halts_writing_and_keeps_the_dirty_set(make_daemon, world):
    cid, acct, sub_id = customer(world, "Acme")
    assert world.cycle(track_events=True).exit_code == 0
    set_quantity(world, sub_id, 4)
    ticks = Ticks()
    settings = dataclasses.replace(world.settings, cycle_timeout_s=60)
    d = make_daemon(settings, monotonic=ticks)
    real_halt = d.halt_reason

    def late(started: float):
        ticks.now = started + 61  # the cycle has read everything and is about to write
        return real_halt(started)

    d.halt_reason = late
    report = d.incremental_job()
    assert report.halted == "cycle deadline of 60 s reached" and report.outcome == "halted"
    assert d.store.runs(1)[0]["status"] == "halted"
    assert world.account(acct)["MRR__c"] == 50.0  # nothing written
    assert cid in d.store.dirty()  # what was not done waits for the next cycle
    d.halt_reason = real_halt
    assert d.incremental_job().exit_code == 0
    assert world.account(acct)["MRR__c"] == 200.0 and d.store.dirty() == {}


def test_a_signal_halts_the_cycle_stops_the_scheduler_and_a_second_exits(make_daemon, monkeypatch):
    d = make_daemon()
    d.schedule()
    d.scheduler.start(paused=True)
    exits: list[int] = []
    monkeypatch.setattr(daemon_module, "_exit", exits.append)
    d.on_signal(signal.SIGTERM)
    assert d.halt_reason(d.monotonic()) == "stop requested (SIGTERM)"
    assert d.incremental_job() is None  # no new cycle starts once a stop is asked
    for thread in [t for t in threading.enumerate()
                   if t.name == "billing-sync-shutdown"]:
        thread.join(5)
    assert not d.scheduler.running
    d.on_signal(signal.SIGINT)
    assert exits == [130]


def test_pause_skips_cycles_and_says_so_once_per_change(make_daemon, world, caplog):
    customer(world, "Acme")
    d = make_daemon()
    caplog.set_level(logging.WARNING, "scheduler.daemon")
    d.store.set_flag("paused", "2026-12-02T10:00:00+00:00 by alice")
    assert d.incremental_job() is None and d.full_job() is None
    assert d.store.runs() == [] and world.writes() == 0
    d.store.set_flag("paused", None)
    assert d.incremental_job() is not None
    said = [r.getMessage() for r in caplog.records]
    assert len([m for m in said if m.startswith("paused")]) == 1
    assert "by alice" in said[0] and said[1].startswith("resumed")


def test_housekeeping_prunes_runs_older_than_the_retention(make_daemon, world):
    d = make_daemon(dataclasses.replace(world.settings, retention_days=30))
    old = d.store.start_run("full", dry_run=False, now=datetime.now(UTC) - timedelta(days=31))
    d.store.finish_run(old, status="ok", counts={}, api_calls={}, duration_s=1.0,
                       now=datetime.now(UTC) - timedelta(days=31))
    d.store.start_run("full", dry_run=False, now=datetime.now(UTC) - timedelta(days=29))
    assert d.housekeeping_job() == 1
    assert len(d.store.runs()) == 1


def test_job_errors_and_misses_are_logged_and_sent_to_slack(make_daemon, caplog):
    alerts = Alerts()
    d = make_daemon(alerter=alerts)
    secret = d.settings.stripe_api_key.reveal()
    d._on_event(JobExecutionEvent(EVENT_JOB_ERROR, "incremental", "default", NOW,
                                  exception=RuntimeError(f"boom {secret}"), traceback=None))
    for _ in range(3):
        d._on_event(JobExecutionEvent(EVENT_JOB_MISSED, "full", "default", NOW))
    assert len(alerts.texts) == 2
    assert "incremental job failed: RuntimeError: boom" in alerts.texts[0]
    assert secret not in alerts.texts[0] and "full job missed its run" in alerts.texts[1]
    assert any("job incremental failed" in r.getMessage() for r in caplog.records)


def test_an_open_cycle_stop_makes_the_daemon_not_ready(make_daemon):
    d = make_daemon()
    d.store.record(Failure(Category.CONFIGURATION, "INVALID_SESSION_ID", "token revoked",
                           CYCLE_SUBJECT), now=datetime.now(UTC))
    snap = d.snapshot()
    assert snap.stop_open == "token revoked" and snap.failures_open == {"Configuration": 1}
    assert readiness(snap) == (False, "stopped: token revoked")


# -- deploy on start --------------------------------------------------------------------------

def test_an_org_on_an_older_schema_is_upgraded_and_an_equal_one_left_alone(world):
    assert ensure_schema(world.conn, world.settings, poll_interval=0.01) == "schema v2 is deployed"
    older = PackageSpec.current().with_version("0")
    assert deploy(world.conn.sf, spec=older, username=world.sf_standin.username,
                  poll_interval=0.01).ok
    assert deployed_version(world.conn.sf) == "0"
    assert ensure_schema(world.conn, world.settings, poll_interval=0.01) == (
        "deployed schema v2 (the org had v0)")
    assert deployed_version(world.conn.sf) == schema.SCHEMA_VERSION


def test_an_org_without_our_schema_gets_it(tmp_path):
    from scheduler.clients import build_salesforce
    from standins.env import stand_in_environment
    from standins.salesforce import SalesforceStandIn

    with SalesforceStandIn(tmp_path / "sf") as sf:
        env = {**stand_in_environment(None, sf, tmp_path / "state.db"), **BASE}
        del env["SALESFORCE_INSTANCE_URL"], env["SALESFORCE_ACCESS_TOKEN"]
        settings = load_settings(env)
        conn = build_salesforce(settings)
        assert ensure_schema(conn, settings, poll_interval=0.01) == (
            "deployed schema v2 (the org had none)")
        assert deployed_version(conn.sf) == schema.SCHEMA_VERSION


def test_a_newer_org_schema_is_never_downgraded_and_run_exits_3(world, capsys):
    newer = PackageSpec.current().with_version("10")  # 10 > 1 as integers, not as strings
    assert deploy(world.conn.sf, spec=newer, username=world.sf_standin.username,
                  poll_interval=0.01).ok
    with pytest.raises(CannotStart, match="schema v10, newer than this billing-sync's v2"):
        ensure_schema(world.conn, world.settings)
    assert main(["run"], environ={**world.env, "BILLING_SYNC_HTTP_ADDR": "off"}) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "never downgrades" in err and "Traceback" not in err
    assert deployed_version(world.conn.sf) == "10"


@pytest.mark.parametrize("change, words", [
    ({"SALESFORCE_LOGIN_URL": "https://127.0.0.1:9"}, "cannot reach Salesforce"),
    ({"STRIPE_API_KEY": "sk_test_not_a_key_the_standin_knows"}, "cannot reach Stripe"),
])
def test_an_unreachable_service_is_one_line_and_exit_3(world, capsys, change, words):
    assert main(["run"], environ={**world.env, **change}) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"billing-sync: cannot start: {words}") and err.count("\n") == 1
    assert world.env["SALESFORCE_CLIENT_SECRET"] not in err
    # recorded like any stop, so `status` and Slack say why the daemon is not running
    from sync.store import StateStore

    with StateStore(world.settings.db_path) as store:
        [run] = store.runs()
        assert run["status"] == "stopped" and "cannot start" in run["counts"]["stopped"]


# -- the commands around it -------------------------------------------------------------------

def test_pause_and_resume_through_the_cli(world, capsys):
    assert main(["pause"], environ=world.env) == 0
    out = capsys.readouterr().out
    assert out.startswith("paused (") and out.count("\n") == 1
    with StateStore(world.settings.db_path) as store:
        assert " by " in store.get_flag("paused")
    assert main(["pause"], environ=world.env) == 0
    assert capsys.readouterr().out.startswith("already paused")
    assert main(["resume"], environ=world.env) == 0
    assert capsys.readouterr().out.startswith("resumed (was paused ")
    with StateStore(world.settings.db_path) as store:
        assert store.get_flag("paused") is None
    assert main(["resume"], environ=world.env) == 0
    assert capsys.readouterr().out.startswith("not paused")


def test_systemd_unit_prints_a_unit_that_parses(capsys):
    assert main(["systemd-unit", "--user", "sync"]) == 0
    text = capsys.readouterr().out
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read_string(text)
    assert unit.sections() == ["Unit", "Service", "Install"]
    exec_start = unit["Service"]["ExecStart"]
    assert exec_start.startswith("/") and exec_start.endswith(" run")
    assert unit["Service"]["Type"] == "notify" and unit["Service"]["User"] == "sync"


def test_a_full_reconcile_that_fixes_fields_after_incremental_cycles_reports_drift(
        make_daemon, world):
    _cid, acct, _sub_id = customer(world, "Acme")
    alerts = Alerts()
    d = make_daemon(alerter=alerts)
    assert d.incremental_job() is not None  # the first is a full reconcile
    assert d.incremental_job().kind == "incremental"
    # a hand edit nobody announced: only the nightly reconcile can see it
    world.sf_standin.org.update("Account", acct, {"MRR__c": 1.0})
    report = d.full_job()
    assert report is not None and report.kind == "full" and report.fields_changed == 1
    assert report.drift_examples == [f"Account {acct}: MRR__c"]
    assert any("drift" in t and "fixed 1 fields" in t for t in alerts.texts)
    assert world.account(acct)["MRR__c"] == 50.0
    # the run history keeps the count for status and metrics
    [last] = d.store.runs(limit=1, kind="full")
    assert last["counts"]["fields_changed"] == 1
