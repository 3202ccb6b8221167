"""`billing-sync run` as a process against both stand-ins: a Stripe change reaches Salesforce
within two intervals, health answers, the lock keeps a second runner out, SIGTERM stops it
cleanly, and a kill -9 mid-run is recovered on restart without duplicating anything."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter

from scheduler.runlock import lock_path, read_holder
from sync.store import StateStore
from tests.test_daemon import customer, set_quantity

INTERVAL = 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli_env(world, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("STRIPE_", "SALESFORCE_", "SLACK_", "BILLING_SYNC_"))}
    return {**clean, **world.env, "PYTHONPATH": ROOT, **extra}


class DaemonProcess:
    """`billing-sync run` in a subprocess, its stderr collected line by line."""

    def __init__(self, world, **extra: str) -> None:
        env = cli_env(world, BILLING_SYNC_INTERVAL=str(INTERVAL),
                      BILLING_SYNC_HTTP_ADDR="127.0.0.1:0", **extra)
        self.proc = subprocess.Popen([sys.executable, "-m", "scheduler.cli", "run"], env=env,
                                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate, timeout: float, what: str):
        """Poll an outside process's effect (no clock can decide when it lands), bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            assert self.proc.poll() is None, f"daemon exited {self.proc.returncode}:\n{self.log}"
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}:\n{self.log}")

    def health_url(self) -> str:
        found = self.wait_for(lambda: re.search(r"health and metrics on (http://\S+)", self.log),
                              15, "the health server")
        return found.group(1)

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> tuple[int, float]:
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code, time.monotonic() - t0

    def kill(self) -> None:
        """Clean-up: whatever state the test left it in."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def run_cli(world, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "scheduler.cli", *args], env=cli_env(world),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def runs(world) -> list[dict]:
    with StateStore(world.settings.db_path, read_only=True) as store:
        return store.runs(50)


def test_a_stripe_change_lands_health_answers_the_lock_holds_and_sigterm_stops(world):
    _cid, acct, sub_id = customer(world, "Acme")
    daemon = DaemonProcess(world)
    try:
        base = daemon.health_url()
        daemon.wait_for(lambda: world.account(acct)["MRR__c"] == 50.0, 15,
                        "the full reconcile at start")
        # Two more runners while it holds the lock, checked while we wait for a tick.
        others = [subprocess.Popen([sys.executable, "-m", "scheduler.cli", *args],
                                   env=cli_env(world),
                                   stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
                  for args in (["run"], ["sync"])]
        set_quantity(world, sub_id, 3)
        t0 = time.monotonic()
        daemon.wait_for(lambda: world.account(acct)["MRR__c"] == 150.0, 2 * INTERVAL + 1,
                        "the change to reach the Account")
        delay = time.monotonic() - t0
        print(f"\nStripe change reached Salesforce after {delay:.1f} s "
              f"(interval {INTERVAL} s)")
        for other in others:
            _out, err = other.communicate(timeout=30)
            assert other.returncode == 2, err
            assert f"pid {daemon.proc.pid}" in err and "run," in err and err.count("\n") == 1

        # Pause through the CLI while it runs: the next tick is skipped, resume lets it go on.
        assert run_cli(world, "pause").startswith("paused (")
        daemon.wait_for(lambda: "cycles are skipped until" in daemon.log, INTERVAL + 2,
                        "the daemon to see the pause")
        set_quantity(world, sub_id, 2)
        assert world.account(acct)["MRR__c"] == 150.0
        assert run_cli(world, "resume").startswith("resumed")
        daemon.wait_for(lambda: world.account(acct)["MRR__c"] == 100.0, INTERVAL + 2,
                        "the change made while paused to land after resume")
        assert "resumed: cycles run again" in daemon.log

        assert get(base + "/healthz") == (200, "ok\n")
        status, ready = get(base + "/readyz")
        assert status == 200 and ready.startswith("ok: last cycle"), ready
        status, metrics = get(base + "/metrics")
        assert status == 200 and "billing_sync_up 1.0" in metrics
        written = re.search(r"^billing_sync_records_written_total (\S+)", metrics, re.M)
        assert written and float(written.group(1)) >= 3
        assert 'billing_sync_last_success_timestamp_seconds{kind="incremental"}' in metrics

        code, took = daemon.stop()
        assert code == 0 and took < 30, daemon.log
        assert "Traceback" not in daemon.log
        recorded = runs(world)
        assert {r["kind"] for r in recorded} == {"full", "incremental"}
        assert all(r["status"] in ("ok", "halted") for r in recorded), recorded
    finally:
        daemon.kill()


def test_kill_9_mid_run_then_a_restart_marks_it_interrupted_and_duplicates_nothing(world):
    linked = [customer(world, name) for name in ("Acme", "Globex", "Initech")]
    world.link("Typo Corp", "cus_doesnotexist")  # one Sync_Error__c, UNKNOWN_CUSTOMER
    world.sf_standin.set_latency(0.4)  # every call slow: the first full reconcile takes seconds
    first = DaemonProcess(world)
    try:
        first.wait_for(lambda: any(r["status"] == "running" for r in runs(world)), 15,
                       "a run in progress")
        first.wait_for(lambda: world.subscriptions(), 15, "the first write")
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(10)
        assert [r["status"] for r in runs(world)] == ["running"]
        # The killed daemon's label is still in the lock file; the kernel dropped its flock.
        label = lock_path(world.settings.db_path).read_text()
        assert f'"pid": {first.proc.pid}' in label and read_holder(world.settings.db_path) is None
    finally:
        first.kill()
    world.sf_standin.set_latency(0)
    second = DaemonProcess(world)  # the killed one's lock file is still there, with its label
    try:
        second.wait_for(lambda: [r["status"] for r in runs(world)][:1] == ["failures"], 15,
                        "the full reconcile after the restart")
        holder = read_holder(world.settings.db_path)
        assert holder is not None and (holder.pid, holder.command) == (second.proc.pid, "run")
        statuses = [r["status"] for r in runs(world)]
        assert statuses[-1] == "interrupted", statuses
        assert "1 run(s) left running by a stopped process marked interrupted" in second.log
        for _cid, acct, _sub in linked:
            assert world.account(acct)["MRR__c"] == 50.0
        subs = Counter(r["Stripe_Subscription_Id__c"] for r in world.subscriptions())
        assert len(subs) == 3 and set(subs.values()) == {1}
        errors = Counter(r["Fingerprint__c"] for r in world.sync_errors())
        assert len(errors) == 1 and set(errors.values()) == {1}

        # SIGTERM in the middle of a slow incremental cycle: it stops writing after the call
        # in flight, records the run and exits 0; what it did not write stays dirty.
        set_quantity(world, linked[0][2], 2)
        world.sf_standin.set_latency(0.3)
        second.wait_for(lambda: [(r["kind"], r["status"]) for r in runs(world)][:1]
                        == [("incremental", "running")], INTERVAL + 2, "a cycle in progress")
        code, took = second.stop()
        assert code == 0 and took < 30, second.log
        last = runs(world)[0]
        assert last["status"] in ("halted", "ok"), last
        print(f"\nSIGTERM mid-cycle: exit 0 after {took:.1f} s, run {last['status']}")
        if last["status"] == "halted":
            assert last["counts"]["halted"] == "stop requested (SIGTERM)"
    finally:
        second.kill()
