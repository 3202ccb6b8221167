"""One billing-sync runner at a time per database: an flock on ``<db>.lock`` naming its holder."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

__all__ = ["LockHeld", "LockInfo", "RunnerLock", "lock_path", "read_holder"]

# A probe by read_holder() takes a shared lock for an instant; an acquire that lands in that
# instant would otherwise report a holder that does not exist. These retries cover it.
_PROBE_RETRIES = 3
_PROBE_RETRY_S = 0.05


def _utc_now() -> datetime:
    return datetime.now(UTC)


def lock_path(db_path: Path) -> Path:
    """The lock file beside the SQLite file: ``billing-sync.db`` -> ``billing-sync.db.lock``."""
    return db_path.with_name(db_path.name + ".lock")


@dataclass(frozen=True)
class LockInfo:
    """Who holds the lock, as the holder wrote it when it took the lock."""

    pid: int
    since: datetime
    command: str
    hostname: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "pid": self.pid,
                "since": self.since.isoformat(),
                "command": self.command,
                "hostname": self.hostname,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> LockInfo | None:
        """None for an empty or foreign file rather than an error: the file is only a label."""
        try:
            raw = json.loads(text)
            since = datetime.fromisoformat(raw["since"])
            info = cls(
                pid=int(raw["pid"]),
                since=since if since.tzinfo else since.replace(tzinfo=UTC),
                command=str(raw["command"]),
                hostname=str(raw["hostname"]),
            )
        except (ValueError, TypeError, KeyError):
            return None
        return info

    def describe(self) -> str:
        """``run, pid 1234, since 2026-12-02 01:15 UTC`` (plus the host when it is not this one)."""
        since = self.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = f"{self.command}, pid {self.pid}, since {since}"
        if self.hostname and self.hostname != socket.gethostname():
            text += f", on {self.hostname}"
        return text


class LockHeld(Exception):
    """Another live process holds the runner lock."""

    def __init__(self, holder: LockInfo | None, path: Path) -> None:
        self.holder = holder
        self.path = path
        who = f" ({holder.describe()})" if holder else ""
        super().__init__(f"another billing-sync{who} holds {path}")


def _read_info(fd: int) -> LockInfo | None:
    data = os.pread(fd, 4096, 0)
    return LockInfo.from_json(data.decode("utf-8", errors="replace"))


def _try_flock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(db_path: Path) -> LockInfo | None:
    """The live holder of the runner lock for ``db_path``, or None when nobody holds it.

    A file left by a killed process is stale: the kernel dropped its flock, so the probe below
    gets the lock and this returns None. When the lock is held but the holder has not written its
    label yet (it does so right after locking), the pid is 0 and the command "unknown".
    """
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        if _try_flock(fd, fcntl.LOCK_SH):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        info = _read_info(fd)
        if info is None:
            mtime = datetime.fromtimestamp(os.fstat(fd).st_mtime, UTC)
            info = LockInfo(pid=0, since=mtime, command="unknown", hostname="")
        return info
    finally:
        os.close(fd)


class RunnerLock:
    """An exclusive, non-blocking flock on ``<db>.lock``, held for the life of a run.

    The file is never deleted: unlinking it while another process waits on the old inode would
    let two runners lock two different files. Only the lock, not the file, says who runs.
    """

    def __init__(
        self,
        db_path: Path,
        *,
        command: str,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.db_path = db_path
        self.path = lock_path(db_path)
        self.command = command
        self._clock = clock
        self._fd: int | None = None
        self.info: LockInfo | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(
        self,
        wait: bool = False,
        timeout: float | None = None,
        poll: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LockInfo:
        """Take the lock and label it; raise LockHeld if another process holds it.

        With ``wait`` it polls every ``poll`` seconds until the lock is free or ``timeout``
        seconds (None: forever) have been slept. Time is counted in the sleeps made, so an
        injected ``sleep`` decides it without a wall clock.
        """
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this RunnerLock")
        if poll <= 0:
            raise ValueError("poll must be positive")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            slept = 0.0
            probe_retries = _PROBE_RETRIES
            while not _try_flock(fd, fcntl.LOCK_EX):
                holder = _read_info(fd)
                if probe_retries and (holder is None or not self._holder_alive(holder)):
                    # No live process behind the label: most likely a read_holder() probe.
                    probe_retries -= 1
                    sleep(_PROBE_RETRY_S)
                    continue
                if not wait or (timeout is not None and slept >= timeout):
                    raise LockHeld(holder, self.path)
                step = poll if timeout is None else max(0.0, min(poll, timeout - slept))
                sleep(step)
                slept += step
            self.info = self._label(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self.info

    @staticmethod
    def _holder_alive(holder: LockInfo) -> bool:
        # A pid from another host says nothing about processes here; trust the lock then.
        if holder.hostname and holder.hostname != socket.gethostname():
            return True
        return _pid_alive(holder.pid)

    def _label(self, fd: int) -> LockInfo:
        since = self._clock().astimezone(UTC).replace(microsecond=0)
        info = LockInfo(
            pid=os.getpid(), since=since, command=self.command, hostname=socket.gethostname()
        )
        # Truncate then write through the locked fd: a stale label from a killed run goes away.
        os.ftruncate(fd, 0)
        os.pwrite(fd, (info.to_json() + "\n").encode(), 0)
        return info

    def release(self) -> None:
        """Drop the lock; harmless when not held."""
        fd, self._fd = self._fd, None
        self.info = None
        if fd is None:
            return
        try:
            # Clear the label while still holding the lock, so nobody reads a departed holder.
            os.ftruncate(fd, 0)
        except OSError:
            pass
        finally:
            os.close(fd)  # closing the last fd releases the flock

    def __enter__(self) -> RunnerLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
