"""status, errors and retry as an operator meets them: the real CLI against a SQLite file the
real engine wrote (the stand-ins' world), and against one filled with failures directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from metadata.schema import Category
from scheduler.cli import main
from scheduler.runlock import RunnerLock
from sync.core.failures import Failure, FailureState
from sync.store import StateStore

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def cli(capsys, env, *args):
    code = main(list(args), environ=env)
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys, env, *args):
    code, out, err = cli(capsys, env, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def synced(world):
    """One customer written correctly and one Account with a malformed customer id (a
    Matching failure), after one full reconcile by the real engine."""
    c = world.stripe
    product = c.v1.products.create(params={"name": "Team"}).id
    price = c.v1.prices.create(params={"product": product, "currency": "usd",
                                       "unit_amount": 5000,
                                       "recurring": {"interval": "month"}}).id
    cid = c.v1.customers.create(params={"name": "Good Co", "payment_method": "pm_card_visa",
                                        "invoice_settings": {
                                            "default_payment_method": "pm_card_visa"}}).id
    c.v1.subscriptions.create(params={"customer": cid, "items": [{"price": price}]})
    world.link("Good Co", cid)
    bad = world.link("Bad Co", "cus_bad id")
    report = world.cycle()
    assert report.errors == {"Matching": 1} and report.written > 0
    return world, bad


def config_env(db: Path) -> dict[str, str]:
    """Enough configuration to start a command that contacts nothing."""
    return {"STRIPE_API_KEY": "sk_test_fake_ops_key", "SALESFORCE_CLIENT_ID": "id",
            "SALESFORCE_CLIENT_SECRET": "fake-ops-secret", "BILLING_SYNC_DB": str(db)}


def failure(n: int, category: Category = Category.SALESFORCE_WRITE, **kw) -> Failure:
    return Failure(category=category, code=kw.pop("code", "STRING_TOO_LONG"),
                   message=kw.pop("message", f"Plan name too long on record {n}"),
                   subject=f"sub_{n:04d}", account_id=f"001000000000{n:03d}AAA",
                   customer_id=f"cus_{n:04d}", record={"Name": "x" * 300}, **kw)


def invalid() -> Failure:
    return failure(3, Category.VALIDATION, code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                   message="MRR must be positive\nsecond line " + "y" * 200)


@pytest.fixture
def queued(tmp_path):
    """A file filled directly: one dead letter (10 attempts), one retrying, one Validation."""
    db = tmp_path / "queued.db"
    with StateStore(db, rand=lambda: 0.5) as store:
        for i in range(10):
            store.record(failure(1), now=T0 + timedelta(hours=i))
        store.record(failure(2), now=T0)
        store.record(failure(2), now=T0 + timedelta(minutes=5))
        store.record(invalid(), now=T0)
        fps = {1: failure(1).fingerprint, 2: failure(2).fingerprint, 3: invalid().fingerprint}
        assert store.failure(fps[1]).status == FailureState.DEAD
    return db, config_env(db), fps



def test_status_table_from_the_engines_file(synced, capsys):
    world, _bad = synced
    code, out, _err = cli(capsys, world.env, "status")
    assert code == 0
    assert "none (no daemon or sync holds the lock)" in out
    assert "  Matching" in out and "deployed schema" in out and "not recorded" in out
    assert "full" in out and "failures new/seen" in out


def test_status_json_shape_numbers_and_nulls(synced, capsys):
    world, _bad = synced
    data = as_json(capsys, world.env, "status")
    assert data["runner"] is None and data["paused"] is False and data["pause_note"] is None
    assert data["open_failures"] == {"Matching": 1, "Stripe": 0, "Chargebee": 0, "Recurly": 0,
                                     "Salesforce Write": 0,
                                     "Validation": 0, "Limits": 0, "Configuration": 0}
    assert data["dead_letters"] == 0 and data["unmirrored"] == 0
    assert data["sync_errors_refused"] == 0
    # the cycle recorded the org's usage from Sforce-Limit-Info
    used, total = data["salesforce_api_usage"]
    assert total == 100_000 and 0 < used < total and data["schema_version"] is None
    # a full reconcile that reads events starts the events cursor
    datetime.fromisoformat(data["events_cursor"])
    assert isinstance(data["events_cursor_age_s"], int) and data["events_cursor_age_s"] >= 0
    [run] = data["runs"]
    assert run["kind"] == "full" and run["outcome"] == "failures" and run["dry_run"] is False
    assert isinstance(run["records_written"], int) and run["records_written"] > 0
    assert run["failures_seen"] == 1 and isinstance(run["duration_s"], float)
    assert run["api_calls"]["salesforce"] > 0 and "stripe" in run["api_calls"]
    datetime.fromisoformat(run["started_at"])


def test_status_shows_the_lock_holder_pause_cursor_usage_and_schema(synced, capsys):
    world, _bad = synced
    db = world.settings.db_path
    with StateStore(db) as store:
        store.set_flag("paused", "2026-12-01T09:00:00+00:00 by ops", now=T0)
        store.set_cursor("schema_version", "2", now=T0)
        store.set_events_cursor(datetime.now(UTC) - timedelta(minutes=7), now=T0)
        run_id = store.start_run("incremental", dry_run=False, now=T0)
        store.finish_run(run_id, status="ok", counts={"salesforce_api_usage": [250, 100_000],
                                                      "records_written": 0, "new_failures": 0},
                         api_calls={"salesforce": 2}, duration_s=0.5, now=T0)
    with RunnerLock(db, command="run") as lock:
        data = as_json(capsys, world.env, "status")
        code, out, _err = cli(capsys, world.env, "status")
        assert lock.info is not None
        since = lock.info.since.isoformat()
    assert data["runner"]["pid"] == os.getpid() and data["runner"]["command"] == "run"
    assert data["runner"]["since"] == since
    assert data["paused"] is True and data["pause_note"].endswith("by ops")
    assert 7 * 60 <= data["events_cursor_age_s"] < 8 * 60
    assert data["salesforce_api_usage"] == [250, 100_000] and data["schema_version"] == "2"
    # the engine's run recorded the refusals; the newer run did not say, so it does not count
    assert data["sync_errors_refused"] == 0
    assert [r["kind"] for r in data["runs"]] == ["incremental", "full"]
    assert data["runs"][0]["failures_new"] == 0 and data["runs"][1]["failures_new"] == 1
    assert code == 0 and f"run, pid {os.getpid()}" in out and "yes (" in out
    assert "250 of 100,000 (0%)" in out and "v2 (this release: v2)" in out and "7 min old" in out


def test_status_never_changes_the_file(synced, capsys):
    world, _bad = synced
    db = world.settings.db_path
    before = db.read_bytes()
    siblings = sorted(p.name for p in db.parent.iterdir())
    assert cli(capsys, world.env, "status")[0] == 0
    assert as_json(capsys, world.env, "status")["runs"]
    assert db.read_bytes() == before
    # A WAL reader may open SQLite's empty companions (-wal, -shm) when no writer left
    # them; that is SQLite's read protocol, not state: the log stays empty.
    added = sorted(set(p.name for p in db.parent.iterdir()) - set(siblings))
    assert set(added) <= {f"{db.name}-wal", f"{db.name}-shm"}
    wal = db.with_name(f"{db.name}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_status_in_a_subprocess_prints_one_json_object(synced):
    world, _bad = synced
    env = {k: v for k, v in os.environ.items() if not k.startswith(
        ("STRIPE_", "SALESFORCE_", "SLACK_", "BILLING_SYNC_"))}
    env.update(world.env)
    result = subprocess.run([sys.executable, "-m", "scheduler.cli", "status", "--json"],
                            env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["open_failures"]["Matching"] == 1 and data["runs"][0]["kind"] == "full"


def test_status_counts_dead_letters_apart(queued, capsys):
    _db, env, _fps = queued
    data = as_json(capsys, env, "status")
    assert data["dead_letters"] == 1
    assert data["open_failures"]["Salesforce Write"] == 1
    assert data["open_failures"]["Validation"] == 1
    assert data["unmirrored"] == 3 and data["runs"] == []
    assert data["sync_errors_refused"] is None


@pytest.mark.parametrize("command", ["status", "errors"])
def test_a_missing_file_says_nothing_has_run_and_is_not_created(tmp_path, capsys, command):
    db = tmp_path / "never.db"
    code, out, err = cli(capsys, config_env(db), command)
    assert code == 1 and out == ""
    assert err == f"billing-sync: no state yet at {db}: nothing has run\n"
    assert not db.exists()


@pytest.mark.parametrize("args", [["status"], ["status", "--json"], ["errors"]])
def test_an_empty_file_says_nothing_has_run(tmp_path, capsys, args):
    db = tmp_path / "empty.db"
    db.touch()
    code, _out, err = cli(capsys, config_env(db), *args)
    assert code == 1 and err.count("\n") == 1 and "nothing has run" in err
    assert db.stat().st_size == 0


def test_a_file_with_tables_but_no_run_is_still_nothing(tmp_path, capsys):
    db = tmp_path / "fresh.db"
    StateStore(db).close()  # what a first start leaves before its first run
    before = db.read_bytes()
    assert cli(capsys, config_env(db), "status")[0] == 1
    assert db.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_a_one_line_error(tmp_path, capsys):
    db = tmp_path / "junk.db"
    db.write_text("not a database, just text " * 100)
    code, _out, err = cli(capsys, config_env(db), "status")
    assert code == 2 and err.count("\n") == 1 and "not a usable billing-sync database" in err



def test_errors_table_from_the_engines_file(synced, capsys):
    world, bad = synced
    code, out, _err = cli(capsys, world.env, "errors")
    assert code == 0
    header, _rule, row, footer = out.splitlines()
    assert header.split() == ["fingerprint", "category", "subject", "Account", "customer",
                              "code", "message", "attempts", "next", "retry", "status"]
    assert "Matching" in row and bad in row and "open" in row
    assert footer == "1 of 1 open failures shown"


def test_errors_json_of_a_data_problem_has_no_next_retry(synced, capsys):
    world, bad = synced
    data = as_json(capsys, world.env, "errors")
    assert (data["category"], data["total"], data["shown"]) == (None, 1, 1)
    [f] = data["failures"]
    assert f["category"] == "Matching" and f["account_id"] == bad and f["attempts"] == 1
    assert f["next_retry"] is None and f["status"] == "open" and f["in_salesforce"] is True
    assert len(f["fingerprint"]) == 40


def test_errors_shows_dead_letters_cut_messages_and_retry_times(queued, capsys):
    _db, env, fps = queued
    code, out, _err = cli(capsys, env, "errors")
    assert code == 0
    lines = out.splitlines()
    dead = next(line for line in lines if line.startswith(fps[1][:12]))
    assert dead.split()[-1] == "dead" and " 10 " in dead
    retrying = next(line for line in lines if line.startswith(fps[2][:12]))
    assert retrying.split()[-1] == "retrying" and "UTC" in retrying
    validation = next(line for line in lines if line.startswith(fps[3][:12]))
    assert "second line" not in validation and "MRR must be positive" in validation
    assert lines[-1] == "3 of 3 open failures shown"
    data = as_json(capsys, env, "errors")
    by_fp = {f["fingerprint"]: f for f in data["failures"]}
    assert by_fp[fps[1]]["next_retry"] is None and by_fp[fps[1]]["attempts"] == 10
    assert datetime.fromisoformat(by_fp[fps[2]]["next_retry"]) > T0


def test_errors_message_is_cut_to_100_characters(tmp_path, capsys):
    db = tmp_path / "long.db"
    with StateStore(db) as store:
        store.record(failure(7, message="z" * 300), now=T0)
    _code, out, _err = cli(capsys, config_env(db), "errors")
    assert "z" * 99 + "…" in out and "z" * 100 not in out


@pytest.mark.parametrize("typed", ["Validation", "validation", "VALIDATION"])
def test_errors_category_filter(queued, capsys, typed):
    _db, env, fps = queued
    data = as_json(capsys, env, "errors", "--category", typed)
    assert data["category"] == "Validation" and data["total"] == 1
    assert [f["fingerprint"] for f in data["failures"]] == [fps[3]]
    data = as_json(capsys, env, "errors", "--category", "salesforce_write")
    assert data["category"] == "Salesforce Write" and data["total"] == 2


def test_errors_category_with_nothing_open(queued, capsys):
    _db, env, _fps = queued
    code, out, _err = cli(capsys, env, "errors", "--category", "Limits")
    assert code == 0 and out == "no open failures in Limits\n"


def test_errors_bad_category_is_one_line_exit_2(queued, capsys):
    _db, env, _fps = queued
    code, out, err = cli(capsys, env, "errors", "--category", "Typos")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "'Typos' is not a category" in err and "Salesforce Write" in err


def test_errors_limit_shows_the_total(queued, capsys):
    _db, env, _fps = queued
    code, out, _err = cli(capsys, env, "errors", "--limit", "1")
    assert code == 0 and out.splitlines()[-1] == "1 of 3 open failures shown"
    data = as_json(capsys, env, "errors", "--limit", "2")
    assert (data["total"], data["shown"], len(data["failures"])) == (3, 2, 2)
    code, _out, err = cli(capsys, env, "errors", "--limit", "0")
    assert code == 2 and err.count("\n") == 1


def test_errors_against_a_file_with_runs_but_no_failures(world, capsys):
    world.cycle()
    code, out, _err = cli(capsys, world.env, "errors")
    assert code == 0 and out == "no open failures\n"



def test_retry_a_prefix_revives_a_dead_letter(queued, capsys):
    db, env, fps = queued
    code, out, err = cli(capsys, env, "retry", fps[1][:8])
    assert code == 0, err
    assert out.startswith(f"requeued {fps[1]} (Salesforce Write, sub_0001)")
    with StateStore(db) as store:
        row = store.failure(fps[1])
        due = store.due_retries(datetime.now(UTC))
    assert row.status == FailureState.RETRYING and row.attempts == 10 and not row.mirrored
    assert fps[1] in {r.fingerprint for r in due}


def test_retry_the_full_fingerprint_in_upper_case(queued, capsys):
    db, env, fps = queued
    assert cli(capsys, env, "retry", fps[2].upper())[0] == 0
    with StateStore(db) as store:
        assert store.failure(fps[2]).next_retry <= datetime.now(UTC)


@pytest.mark.parametrize("typed, says", [
    ("deadbeefdeadbeef", "no open failure has fingerprint deadbeefdeadbeef"),
    ("abc", "give at least 8"),
    ("not-hex-at-all", "is not a fingerprint"),
])
def test_retry_unknown_or_malformed_fingerprint_is_one_line_exit_2(queued, capsys, typed, says):
    db, env, _fps = queued
    before = db.read_bytes()
    code, out, err = cli(capsys, env, "retry", typed)
    assert code == 2 and out == "" and err.count("\n") == 1 and says in err
    assert db.read_bytes() == before


def test_retry_an_ambiguous_prefix_asks_for_more(tmp_path, capsys, monkeypatch):
    from scheduler.commands import retry

    db = tmp_path / "many.db"
    with StateStore(db) as store:
        rows = [store.record(failure(n), now=T0) for n in range(40)]
    # Two of 40 fingerprints sharing 8 characters would take ~65,000 rows: shorten the
    # minimum instead, so a 1-character prefix several of them share is ambiguous.
    monkeypatch.setattr(retry, "MIN_PREFIX", 1)
    first = max("0123456789abcdef", key=lambda c: sum(r.fingerprint[0] == c for r in rows))
    code, out, err = cli(capsys, config_env(db), "retry", first)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "open failures: give more characters" in err


def test_retry_a_resolved_failure_says_so(queued, capsys):
    db, env, fps = queued
    with StateStore(db) as store:
        store.resolve(fps[2], now=T0 + timedelta(hours=1))
    code, _out, err = cli(capsys, env, "retry", fps[2])
    assert code == 2 and "already resolved" in err


def test_retry_all_requeues_every_open_failure(queued, capsys):
    db, env, fps = queued
    code, out, _err = cli(capsys, env, "retry", "--all")
    assert code == 0 and out == "requeued 3 open failures: the next cycle retries them\n"
    now = datetime.now(UTC)
    with StateStore(db) as store:
        assert {r.fingerprint for r in store.due_retries(now)} == set(fps.values())


@pytest.mark.parametrize("args", [[], ["--all", "0123456789"]])
def test_retry_needs_a_fingerprint_or_all(queued, args):
    with pytest.raises(SystemExit) as info:
        main(["retry", *args], environ=queued[1])
    assert info.value.code == 2


def test_retry_against_a_missing_file_creates_nothing(tmp_path, capsys):
    db = tmp_path / "never.db"
    code, _out, err = cli(capsys, config_env(db), "retry", "--all")
    assert code == 2 and err == f"billing-sync: no state yet at {db}: nothing to retry\n"
    assert not db.exists()


def test_retry_of_an_engine_matching_failure_then_the_next_cycle(synced, capsys):
    world, bad = synced
    [f] = as_json(capsys, world.env, "errors")["failures"]
    code, out, _err = cli(capsys, world.env, "retry", f["fingerprint"][:10])
    assert code == 0 and "data problem" in out
    assert as_json(capsys, world.env, "status")["unmirrored"] == 1
    report = world.cycle()  # the data is still wrong: the failure stays, shown again
    assert report.errors == {"Matching": 1}
    data = as_json(capsys, world.env, "status")
    assert data["unmirrored"] == 0 and data["open_failures"]["Matching"] == 1
    [err] = world.sync_errors()
    assert err["Status__c"] == "Open" and bad in json.dumps(err)
