"""The systemd service unit that runs ``billing-sync run`` as a hardened notify daemon."""

from __future__ import annotations

import re

__all__ = ["unit_text"]

_TEMPLATE = """\
# billing-sync: keeps Salesforce Accounts in step with Stripe billing.
#
# To install:
#   useradd --system --home-dir {working_dir} --shell /usr/sbin/nologin {user}
#   install -d -m 0750 {env_dir}
#   install -m 0600 /dev/null {env_file}   # then put the BILLING_SYNC_* settings in it
#   save this file as /etc/systemd/system/billing-sync.service
#   systemctl daemon-reload && systemctl enable --now billing-sync
#   journalctl -u billing-sync -f
#
# Exit status 2 means bad configuration: fix {env_file}, then systemctl restart billing-sync.

[Unit]
Description=billing-sync: Stripe to Salesforce billing sync
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
EnvironmentFile={env_file}
User={user}
Group={user}
WorkingDirectory={working_dir}
StateDirectory=billing-sync
StateDirectoryMode=0750
UMask=0077

# The daemon feeds the watchdog every 60 s (half of this); a hung cycle gets restarted.
WatchdogSec=120
Restart=on-failure
RestartSec=30
# Bad configuration exits 2: restarting cannot fix it, and a loop would only flood the journal.
RestartPreventExitStatus=2
# The daemon finishes or abandons its cycle within 30 s of SIGTERM; 15 s more of slack.
KillSignal=SIGTERM
TimeoutStopSec=45

NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
# AF_UNIX for the notify socket, AF_INET/AF_INET6 for Stripe, Salesforce and /metrics.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
LockPersonality=yes
MemoryDenyWriteExecute=yes
RestrictRealtime=yes
SystemCallArchitectures=native
# The SQLite file, its journal and the runner lock live here; the rest of / is read-only.
ReadWritePaths={working_dir}

[Install]
WantedBy=multi-user.target
"""


def _value(name: str, value: str, *, absolute: bool) -> str:
    if not value or value != value.strip():
        raise ValueError(f"{name} must be non-empty without surrounding spaces: {value!r}")
    if any(ch in value for ch in "\n\r\0"):
        # A newline would smuggle another directive into the unit.
        raise ValueError(f"{name} must be a single line: {value!r}")
    if absolute and not value.startswith("/"):
        raise ValueError(f"{name} must be an absolute path: {value!r}")
    # systemd expands %-specifiers in most settings; a literal % must be doubled.
    return value.replace("%", "%%")


def _user(user: str) -> str:
    # A name or a numeric id as User= takes them; a space would split the setting.
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}", user):
        raise ValueError(f"user must be a plain user name: {user!r}")
    return user


def unit_text(
    *,
    exec_start: str,
    env_file: str = "/etc/billing-sync/env",
    user: str = "billing-sync",
    working_dir: str = "/var/lib/billing-sync",
) -> str:
    """The unit file's text. ``exec_start`` is the whole command line, for instance
    ``/opt/billing-sync/.venv/bin/billing-sync run``; its program must be an absolute path.
    """
    env_file = _value("env_file", env_file, absolute=True)
    working_dir = _value("working_dir", working_dir, absolute=True)
    env_dir = env_file.rsplit("/", 1)[0] or "/"
    return _TEMPLATE.format(
        exec_start=_value("exec_start", exec_start, absolute=True),
        env_file=env_file,
        env_dir=env_dir,
        user=_user(user),
        working_dir=working_dir,
    )
