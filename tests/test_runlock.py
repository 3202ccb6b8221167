"""The runner lock: one holder across processes, stale files never block, waiting is bounded."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from scheduler import runlock
from scheduler.runlock import LockHeld, LockInfo, RunnerLock, lock_path, read_holder

REPO = Path(__file__).resolve().parents[1]
FIXED = datetime(2026, 12, 2, 1, 15, 42, 123456, tzinfo=UTC)

# A helper process: takes the lock, says so on stdout, releases when stdin says "release"
# (or holds until killed when it says nothing).
HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from scheduler.runlock import RunnerLock

    lock = RunnerLock(Path(sys.argv[1]), command=sys.argv[2])
    lock.acquire()
    print("locked", flush=True)
    sys.stdin.readline()
    lock.release()
    print("released", flush=True)
    sys.stdin.readline()
    """
)


class Holder:
    def __init__(self, db: Path, command: str = "run") -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(db), command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line == "locked\n", f"holder did not lock: {line!r}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("release\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "released\n"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "billing-sync.db"


@pytest.fixture
def holder(db: Path) -> Iterator[Holder]:
    h = Holder(db)
    yield h
    h.close()


def no_sleep(_seconds: float) -> None:
    raise AssertionError("should not sleep")


def test_lock_file_sits_beside_the_database(db: Path) -> None:
    assert lock_path(db) == db.parent / "billing-sync.db.lock"


def test_acquire_labels_the_file_with_the_holder(db: Path) -> None:
    lock = RunnerLock(db, command="sync", clock=lambda: FIXED)
    info = lock.acquire()
    try:
        raw = json.loads(lock_path(db).read_text())
        assert raw == {
            "pid": os.getpid(),
            "since": "2026-12-02T01:15:42+00:00",
            "command": "sync",
            "hostname": socket.gethostname(),
        }
        assert info == LockInfo(os.getpid(), FIXED.replace(microsecond=0), "sync", raw["hostname"])
        assert lock.held and lock.info == info
    finally:
        lock.release()
    assert not lock.held
    assert lock_path(db).read_text() == ""


def test_second_process_gets_lock_held_with_the_first_ones_pid(db: Path, holder: Holder) -> None:
    lock = RunnerLock(db, command="sync")
    with pytest.raises(LockHeld) as caught:
        lock.acquire(sleep=no_sleep)
    held = caught.value
    assert held.holder is not None
    assert held.holder.pid == holder.pid
    assert held.holder.command == "run"
    assert held.path == lock_path(db)
    since = held.holder.since.strftime("%Y-%m-%d %H:%M UTC")
    assert (
        str(held)
        == f"another billing-sync (run, pid {holder.pid}, since {since}) holds {held.path}"
    )
    assert "\n" not in str(held)
    assert not lock.held


def test_lock_held_message_without_a_readable_label(tmp_path: Path) -> None:
    assert str(LockHeld(None, tmp_path / "x.db.lock")) == (
        f"another billing-sync holds {tmp_path / 'x.db.lock'}"
    )


def test_lock_held_names_a_foreign_host() -> None:
    info = LockInfo(7, FIXED, "run", "elsewhere.invalid")
    assert info.describe() == "run, pid 7, since 2026-12-02 01:15 UTC, on elsewhere.invalid"


def test_two_locks_in_one_process_also_exclude_each_other(db: Path) -> None:
    # flock belongs to the open file, not the process: a second open is a second contender.
    with RunnerLock(db, command="run"), pytest.raises(LockHeld):
        RunnerLock(db, command="sync").acquire(sleep=no_sleep)


def test_release_lets_the_next_process_in(db: Path, holder: Holder) -> None:
    holder.release()
    with RunnerLock(db, command="sync") as lock:
        assert lock.info is not None and lock.info.pid == os.getpid()


def test_killed_holder_leaves_a_stale_file_that_never_blocks(db: Path, holder: Holder) -> None:
    holder.kill()
    stale = LockInfo.from_json(lock_path(db).read_text())
    assert stale is not None and stale.pid == holder.pid  # the label outlives the process
    assert read_holder(db) is None
    lock = RunnerLock(db, command="run", clock=lambda: FIXED)
    info = lock.acquire(sleep=no_sleep)
    try:
        assert info.pid == os.getpid()
        assert json.loads(lock_path(db).read_text())["pid"] == os.getpid()
    finally:
        lock.release()


def test_wait_true_waits_until_the_holder_releases(db: Path, holder: Holder) -> None:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        assert len(sleeps) < 20, "waited too long"
        if len(sleeps) == 3:
            holder.release()

    lock = RunnerLock(db, command="sync")
    info = lock.acquire(wait=True, timeout=30, poll=0.5, sleep=sleep)
    try:
        assert info.pid == os.getpid()
        assert sleeps == [0.5, 0.5, 0.5]
    finally:
        lock.release()


def test_wait_gives_up_after_the_timeout(db: Path, holder: Holder) -> None:
    sleeps: list[float] = []
    lock = RunnerLock(db, command="sync")
    with pytest.raises(LockHeld) as caught:
        lock.acquire(wait=True, timeout=1.0, poll=0.3, sleep=sleeps.append)
    assert caught.value.holder is not None and caught.value.holder.pid == holder.pid
    assert sleeps == pytest.approx([0.3, 0.3, 0.3, 0.1])
    assert not lock.held


def test_wait_with_zero_timeout_tries_once(db: Path, holder: Holder) -> None:
    with pytest.raises(LockHeld):
        RunnerLock(db, command="sync").acquire(wait=True, timeout=0, sleep=no_sleep)


def test_poll_must_be_positive(db: Path) -> None:
    with pytest.raises(ValueError, match="poll"):
        RunnerLock(db, command="run").acquire(poll=0)


def test_acquire_twice_on_one_object_is_a_bug(db: Path) -> None:
    with RunnerLock(db, command="run") as lock:
        with pytest.raises(RuntimeError, match="already held"):
            lock.acquire()
        with lock:  # entering an already acquired lock does not re-acquire
            assert lock.held
        assert not lock.held


def test_release_is_idempotent(db: Path) -> None:
    lock = RunnerLock(db, command="run")
    lock.release()
    lock.acquire()
    lock.release()
    lock.release()
    assert read_holder(db) is None


def test_context_manager_releases_on_error(db: Path) -> None:
    with pytest.raises(KeyError), RunnerLock(db, command="run"):
        raise KeyError("boom")
    assert read_holder(db) is None


def test_a_probe_in_flight_does_not_look_like_a_holder(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Emulate read_holder()'s shared lock being taken at the moment of acquire.
    lock_path(db).write_text(LockInfo(2**22 + 1, FIXED, "run", socket.gethostname()).to_json())
    probe = os.open(lock_path(db), os.O_RDONLY)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        os.close(probe)  # the probe finishes

    monkeypatch.setattr(runlock, "_pid_alive", lambda pid: False)

    fcntl.flock(probe, fcntl.LOCK_SH)
    lock = RunnerLock(db, command="run")
    lock.acquire(sleep=sleep)
    lock.release()
    assert sleeps == [runlock._PROBE_RETRY_S]


def test_a_probe_that_outlasts_the_retries_is_reported(db: Path) -> None:

    probe = os.open(lock_path(db), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(probe, fcntl.LOCK_SH)
        sleeps: list[float] = []
        with pytest.raises(LockHeld) as caught:
            RunnerLock(db, command="run").acquire(sleep=sleeps.append)
        assert caught.value.holder is None
        assert len(sleeps) == runlock._PROBE_RETRIES
    finally:
        os.close(probe)


def test_read_holder_missing_file(db: Path) -> None:
    assert read_holder(db) is None


def test_read_holder_free_file_with_garbage(db: Path) -> None:
    lock_path(db).write_text("not json")
    assert read_holder(db) is None


def test_read_holder_of_another_live_process(db: Path, holder: Holder) -> None:
    info = read_holder(db)
    assert info is not None
    assert info.pid == holder.pid and info.command == "run"
    assert info.hostname == socket.gethostname()
    assert info.since.tzinfo is not None


def test_read_holder_in_the_holding_process(db: Path) -> None:
    with RunnerLock(db, command="sync", clock=lambda: FIXED) as lock:
        assert read_holder(db) == lock.info
        # The probe must not disturb the holder: still held, and still exclusive.
        assert lock.held
        with pytest.raises(LockHeld):
            RunnerLock(db, command="run").acquire(sleep=lambda s: None)


def test_read_holder_held_before_the_label_is_written(db: Path) -> None:

    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        info = read_holder(db)
        assert info is not None and info.pid == 0 and info.command == "unknown"
    finally:
        os.close(fd)


def test_label_parsing_is_lenient() -> None:
    assert LockInfo.from_json("") is None
    assert LockInfo.from_json("[]") is None
    assert LockInfo.from_json('{"pid": "x", "since": "2026-01-01", "command": 1}') is None
    naive = LockInfo.from_json(
        '{"pid": 3, "since": "2026-01-01T00:00:00", "command": "run", "hostname": "h"}'
    )
    assert naive is not None and naive.since.tzinfo == UTC


def test_since_is_stored_in_utc(db: Path) -> None:

    paris = datetime(2026, 12, 2, 2, 15, tzinfo=timezone(timedelta(hours=1)))
    with RunnerLock(db, command="run", clock=lambda: paris) as lock:
        assert lock.info is not None and lock.info.since == datetime(2026, 12, 2, 1, 15, tzinfo=UTC)
        assert json.loads(lock_path(db).read_text())["since"] == "2026-12-02T01:15:00+00:00"
