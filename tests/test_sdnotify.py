"""The notify protocol against real AF_UNIX datagram sockets, path and abstract."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from scheduler import sdnotify


class Listener:
    """What systemd does: a bound datagram socket, read without blocking the test."""

    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env = {"NOTIFY_SOCKET": env_value}

    def received(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return out


def _short_path(tmp_path: Path) -> Path:
    # sun_path holds 108 bytes: fail with the reason rather than a bind() error if too deep.
    path = tmp_path / "notify.sock"
    assert len(os.fsencode(path)) < 100, f"tmp_path too long for AF_UNIX: {path}"
    return path


@pytest.fixture
def path_listener(tmp_path: Path) -> Iterator[Listener]:
    path = _short_path(tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.setblocking(False)
        yield Listener(sock, str(path))


@pytest.fixture
def abstract_listener() -> Iterator[Listener]:
    name = f"billing-sync-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.setblocking(False)
        yield Listener(sock, "@" + name)


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest) -> Listener:
    fixture = "path_listener" if request.param == "path" else "abstract_listener"
    value: Listener = request.getfixturevalue(fixture)
    return value


def test_notify_sends_one_datagram(listener: Listener) -> None:
    assert sdnotify.notify("READY=1\nSTATUS=up", listener.env) is True
    assert listener.received() == ["READY=1\nSTATUS=up"]


@pytest.mark.parametrize(
    ("helper", "expected"),
    [
        (sdnotify.ready, "READY=1"),
        (sdnotify.stopping, "STOPPING=1"),
        (sdnotify.watchdog, "WATCHDOG=1"),
    ],
)
def test_helpers_send_their_assignment(
    listener: Listener, helper: Callable[[Mapping[str, str]], bool], expected: str
) -> None:
    assert helper(listener.env) is True
    assert listener.received() == [expected]


def test_status_is_a_single_line(listener: Listener) -> None:
    assert sdnotify.status("cycle 12 done:\n 40 written\r\n  0 failed", listener.env)
    assert listener.received() == ["STATUS=cycle 12 done: 40 written 0 failed"]


def test_status_keeps_non_ascii(listener: Listener) -> None:
    assert sdnotify.status("synchronisé ✓", listener.env)
    assert listener.received() == ["STATUS=synchronisé ✓"]


@pytest.mark.parametrize("env", [{}, {"NOTIFY_SOCKET": ""}, {"NOTIFY_SOCKET": "vsock:2:1234"}])
def test_nothing_to_talk_to_is_false(env: dict[str, str]) -> None:
    assert sdnotify.notify("READY=1", env) is False
    assert sdnotify.ready(env) is False


def test_default_environ_is_the_process_one(
    path_listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", path_listener.env["NOTIFY_SOCKET"])
    assert sdnotify.watchdog() is True
    assert path_listener.received() == ["WATCHDOG=1"]
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert sdnotify.watchdog() is False


def test_missing_socket_file_is_false_not_an_error(tmp_path: Path) -> None:
    assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone.sock")}) is False


def test_missing_abstract_socket_is_false() -> None:
    env = {"NOTIFY_SOCKET": f"@billing-sync-nobody-{uuid.uuid4().hex}"}
    assert sdnotify.notify("READY=1", env) is False


def test_a_socket_path_that_is_a_plain_file_is_false(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("")
    assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": str(plain)}) is False


def test_a_stream_socket_is_false(tmp_path: Path) -> None:
    path = _short_path(tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        sock.listen()
        assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": str(path)}) is False


def test_an_oversized_message_is_false(path_listener: Listener) -> None:
    # Larger than any datagram the kernel accepts: EMSGSIZE, reported as False.
    assert sdnotify.notify("STATUS=" + "x" * (1 << 24), path_listener.env) is False


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "120000000"}, 60.0),
        ({"WATCHDOG_USEC": " 1000000 "}, 0.5),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": str(os.getpid())}, 60.0),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": ""}, 60.0),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "abc"}, None),
        ({}, None),
        ({"WATCHDOG_USEC": ""}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "2min"}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert sdnotify.watchdog_interval(env) == expected


def test_watchdog_interval_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert sdnotify.watchdog_interval() == 15.0
