"""The systemd unit: every directive the daemon's contract needs, and systemd itself accepts it."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scheduler.systemd import unit_text

EXEC = "/opt/billing-sync/.venv/bin/billing-sync run"


class _MultiDict(dict[str, Any]):
    """Keeps every value of a repeated key, as systemd does, instead of the last one."""

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list) and key in self:
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


def parse(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(
        strict=False,
        dict_type=_MultiDict,
        empty_lines_in_values=False,
        interpolation=None,
        comment_prefixes=("#", ";"),
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    return parser


@pytest.fixture
def unit() -> configparser.RawConfigParser:
    return parse(unit_text(exec_start=EXEC))


def test_sections(unit: configparser.RawConfigParser) -> None:
    assert unit.sections() == ["Unit", "Service", "Install"]


def test_no_key_is_given_twice(unit: configparser.RawConfigParser) -> None:
    for section in unit.sections():
        for key, value in unit.items(section):
            assert "\n" not in value, f"{key}= repeated in [{section}]: {value!r}"


def test_service_contract(unit: configparser.RawConfigParser) -> None:
    service = dict(unit.items("Service"))
    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "ExecStart": EXEC,
        "EnvironmentFile": "/etc/billing-sync/env",
        "User": "billing-sync",
        "Group": "billing-sync",
        "WorkingDirectory": "/var/lib/billing-sync",
        "StateDirectory": "billing-sync",
        "WatchdogSec": "120",
        "Restart": "on-failure",
        "RestartSec": "30",
        "RestartPreventExitStatus": "2",
        "TimeoutStopSec": "45",
        "KillSignal": "SIGTERM",
    }
    assert {k: service.get(k) for k in expected} == expected


def test_hardening(unit: configparser.RawConfigParser) -> None:
    service = dict(unit.items("Service"))
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "RestrictRealtime": "yes",
        "SystemCallArchitectures": "native",
        "ReadWritePaths": "/var/lib/billing-sync",
    }
    assert {k: service.get(k) for k in expected} == expected


def test_environment_file_is_required_not_optional(unit: configparser.RawConfigParser) -> None:
    # A leading "-" would start the daemon without its settings when the file is missing.
    assert not unit.get("Service", "EnvironmentFile").startswith("-")


def test_install(unit: configparser.RawConfigParser) -> None:
    assert dict(unit.items("Install")) == {"WantedBy": "multi-user.target"}


def test_unit_section(unit: configparser.RawConfigParser) -> None:
    assert unit.get("Unit", "After") == "network-online.target"
    assert unit.get("Unit", "Wants") == "network-online.target"


def test_header_says_how_to_install() -> None:
    text = unit_text(exec_start=EXEC)
    header = text.split("[Unit]")[0]
    assert all(line.startswith("#") or not line for line in header.splitlines())
    assert "/etc/systemd/system/billing-sync.service" in header
    assert "systemctl daemon-reload" in header
    assert "systemctl enable --now billing-sync" in header


def test_parameters_land_in_their_directives() -> None:
    unit = parse(
        unit_text(
            exec_start="/usr/local/bin/billing-sync run",
            env_file="/srv/bs/settings.env",
            user="bsync",
            working_dir="/srv/bs/state",
        )
    )
    service = dict(unit.items("Service"))
    assert service["ExecStart"] == "/usr/local/bin/billing-sync run"
    assert service["EnvironmentFile"] == "/srv/bs/settings.env"
    assert (service["User"], service["Group"]) == ("bsync", "bsync")
    assert service["WorkingDirectory"] == service["ReadWritePaths"] == "/srv/bs/state"


def test_percent_is_escaped_from_specifier_expansion() -> None:
    unit = parse(unit_text(exec_start="/usr/bin/billing-sync run --tag 100%"))
    assert unit.get("Service", "ExecStart") == "/usr/bin/billing-sync run --tag 100%%"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"exec_start": "billing-sync run"}, "exec_start must be an absolute path"),
        ({"exec_start": ""}, "exec_start must be non-empty"),
        ({"exec_start": " /usr/bin/billing-sync run"}, "surrounding spaces"),
        ({"exec_start": "/bin/true\nExecStartPre=/bin/evil"}, "single line"),
        ({"exec_start": EXEC, "env_file": "env"}, "env_file must be an absolute path"),
        ({"exec_start": EXEC, "working_dir": "var/lib/x"}, "working_dir must be an absolute"),
        ({"exec_start": EXEC, "working_dir": "/x\r"}, "working_dir"),
        ({"exec_start": EXEC, "user": "billing sync"}, "user must be a plain user name"),
        ({"exec_start": EXEC, "user": ""}, "user"),
        ({"exec_start": EXEC, "user": "a\nGroup=root"}, "user"),
    ],
)
def test_values_that_would_break_the_unit_are_refused(kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        unit_text(**kwargs)


def test_systemd_analyze_verify_accepts_it(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here, so systemd cannot check the unit")
    # verify checks that the program exists and is executable: point it at this Python.
    env_file = tmp_path / "env"
    env_file.write_text("")
    path = tmp_path / "billing-sync.service"
    path.write_text(
        unit_text(
            exec_start=f"{sys.executable} -m scheduler.cli run",
            env_file=str(env_file),
            working_dir=str(tmp_path),
        )
    )
    done = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    # Unknown or malformed directives are only warnings (exit 0): fail on any about our file.
    ours = [line for line in (done.stdout + done.stderr).splitlines() if path.name in line]
    assert done.returncode == 0, done.stdout + done.stderr
    assert ours == []
