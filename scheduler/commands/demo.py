"""``billing-sync demo``: the whole product on local stand-ins, nothing to configure."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from scheduler.context import show_value

from .demo_providers import PROVIDERS

if TYPE_CHECKING:
    from scheduler.clients import SalesforceConnection
    from scheduler.context import Context
    from scheduler.settings import Settings
    from sync.report import CycleReport

    from .demo_providers import Provider, Story

NAME = "demo"
HELP = (
    "Run billing-sync end to end against a local billing stand-in (Stripe, Chargebee or "
    "Recurly) and a Salesforce stand-in: deploy, dry run, sync, change customers in the "
    "billing system, sync again, then the daemon."
)

__all__ = ["HELP", "NAME", "configure", "run"]

ACCOUNT_COLUMNS = (
    "Billing_Status__c",
    "Billing_Plan__c",
    "MRR__c",
    "Billing_Currency__c",
    "Renewal_Date__c",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--provider",
        choices=PROVIDERS,
        default="stripe",
        help="the billing system the story is told in (default: stripe)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where the stand-ins keep their CA, keys and the SQLite file "
        "(default: a temporary directory)",
    )
    parser.add_argument(
        "--no-daemon",
        action="store_true",
        help="skip the last part, which runs `billing-sync run` for a few seconds",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    # Without --workdir the CA, the JWT private key and the SQLite file live in a temporary
    # directory that is removed afterwards: no key is left behind.
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return _run(ctx, args.workdir, not args.no_daemon, args.provider)
    with tempfile.TemporaryDirectory(prefix="billing-sync-demo-") as scratch:
        return _run(ctx, Path(scratch), not args.no_daemon, args.provider)


def _run(ctx: Context, workdir: Path, daemon: bool = True, provider_key: str = "stripe") -> int:
    from scheduler.clients import build_billing, build_salesforce
    from scheduler.settings import load_settings
    from standins.env import stand_in_environment
    from standins.salesforce import SalesforceStandIn

    from .demo_providers import open_provider

    started = time.monotonic()
    with open_provider(provider_key) as provider, SalesforceStandIn(workdir) as sf_si:
        # One environment for the demo's own cycles and the daemon it starts later.
        env = provider.env | stand_in_environment(None, sf_si, workdir / "billing-sync.db")
        settings = load_settings(env)
        client = build_billing(settings)
        ctx.out(
            f"{provider.title} stand-in at {provider.base_url}; Salesforce stand-in at "
            f"{sf_si.instance_url}; state in {workdir}"
        )
        demo = _Demo(
            ctx,
            settings,
            provider,
            client,
            provider.start_story(client),
            build_salesforce(settings),
            sf_si.username,
        )
        code = demo.play()
        if code == 0 and daemon:
            code = demo.daemon_segment(env)
    ctx.out(f"\nDemo finished in {time.monotonic() - started:.1f} s.")
    return code


class _Demo:
    def __init__(
        self,
        ctx: Context,
        settings: Settings,
        provider: Provider,
        client: Any,
        story: Story,
        connection: SalesforceConnection,
        username: str,
    ) -> None:
        self.ctx, self.settings = ctx, settings
        self.provider, self.title, self.system = provider, provider.title, provider.system
        self.client, self.story = client, story
        self.conn, self.username = connection, username

    def step(self, title: str) -> None:
        self.ctx.out(f"\n== {title}")

    def play(self) -> int:
        from sync.salesforce_io import deploy

        self.step("1. Deploy billing-sync's metadata (objects, fields, permission sets)")
        result = deploy(
            self.conn.sf, username=self.username, poll_interval=0.05, progress=self.ctx.out
        )
        self.ctx.out(f"deploy: {result.status}; {len(result.components)} components")
        if not result.ok:
            self.ctx.out(
                self.ctx.table(("type", "name", "outcome", "problem"), result.table_rows())
            )
            return 1

        self.step(f"2. Seed {self.title} and link Salesforce Accounts (two links are bad)")
        world = self.world = self.story.seed()
        self.accounts = self._link_accounts(world.customers)
        self.ctx.out(
            f"{len(world.customers)} {self.title} customers, "
            f"{len(self.accounts)} Accounts with a {self.provider.id_label}"
        )

        self.step("3. Dry run: what the first cycle would write (first 12 rows)")
        report = self._cycle(dry_run=True)
        rows = [
            (c.sobject, c.record_id or f"(new) {c.key}", f, show_value(o), show_value(n))
            for c in report.changes
            for f, (o, n) in c.fields.items()
        ][:12]
        self.ctx.out(self.ctx.table(("object", "record", "field", "old", "new"), rows))
        self.ctx.out(
            f"… {report.accounts_changed} Accounts and {report.subscriptions_changed} "
            "Subscriptions would change; nothing written."
        )

        self.step("4. First cycle")
        self._summary(self._cycle())
        before = self._account_rows()
        self.ctx.out(
            self.ctx.table(
                ("Account", "story", *_short(ACCOUNT_COLUMNS)),
                [(n, world.story.get(n, "bad link"), *v) for n, v in before.items()],
            )
        )

        self.step(
            f"5. In {self.title}: an upgrade, a failed payment, a cancellation, a re-subscribe"
        )
        changes = self.story.apply_changes()
        for company, what in changes:
            self.ctx.out(f"- {company}: {what}")

        self.step("6. Second cycle: only what changed is written")
        self._summary(self._cycle())
        after = self._account_rows()
        changed = [(n, *before[n], "→", *after[n]) for n in after if after[n] != before.get(n)]
        self.ctx.out(
            self.ctx.table(
                (
                    "Account",
                    "status",
                    "plan",
                    "MRR",
                    "cur",
                    "renewal",
                    "",
                    "status",
                    "plan",
                    "MRR",
                    "cur",
                    "renewal",
                ),
                changed,
            )
        )

        self.step(f"7. Third cycle: nothing changed in {self.title}, so nothing is written")
        self._summary(self._cycle())

        self.step("8. Open Sync_Error__c records (the 'Open sync errors' list view)")
        errors = self.conn.sf.query_all(
            "SELECT Name, Category__c, Error_Code__c, Attempts__c, Message__c FROM "
            "Sync_Error__c WHERE Status__c IN ('Open', 'Retrying') ORDER BY Name"
        )["records"]
        self.ctx.out(
            self.ctx.table(
                ("number", "category", "code", "attempts", "message"),
                [
                    (
                        e["Name"],
                        e["Category__c"],
                        e["Error_Code__c"],
                        int(e["Attempts__c"] or 0),
                        _cut(e["Message__c"], 90),
                    )
                    for e in errors
                ],
            )
        )
        return 0

    def daemon_segment(self, env: dict[str, str]) -> int:
        """9. The daemon: `billing-sync run` with a 5-second interval, three changes made in
        the billing system while it runs, each shown landing in Salesforce, then a clean SIGTERM."""
        import os
        import signal
        import subprocess
        import sys

        from scheduler.runlock import read_holder
        from standins.demo_data import COMPANIES

        interval = 5
        self.step(f"9. The daemon: billing-sync run, an incremental cycle every {interval} s")
        proc = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "run"],
            env={
                **os.environ,
                **env,
                "BILLING_SYNC_INTERVAL": str(interval),
                "BILLING_SYNC_HTTP_ADDR": "off",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while read_holder(self.settings.db_path) is None and time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
            if read_holder(self.settings.db_path) is None:
                self.ctx.out(
                    "the daemon did not start: "
                    + (proc.stderr.read() if proc.stderr else "")[-300:]
                )
                return 1
            self.ctx.out(f"daemon running (pid {proc.pid})")
            changed = self._three_changes(COMPANIES)
            started = time.monotonic()
            pending = dict(changed)
            while pending and time.monotonic() - started < 3 * interval:
                time.sleep(0.25)
                rows = self._account_rows()
                for name, before in list(pending.items()):
                    if rows.get(name) != before:
                        self.ctx.out(
                            f"- {name}: in Salesforce after {time.monotonic() - started:.1f} s"
                        )
                        del pending[name]
            for name in pending:
                self.ctx.out(f"- {name}: not in Salesforce after {3 * interval} s")
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=45)
            self.ctx.out(f"SIGTERM: the daemon finished its cycle and exited {code}")
            return 0 if code == 0 and not pending else 1
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()

    def _three_changes(self, companies: list[str]) -> dict[str, tuple[str, ...]]:
        """More seats for three customers with a live, per-unit subscription."""
        rows = self._account_rows()
        changed: dict[str, tuple[str, ...]] = {}
        for name in companies:
            if len(changed) == 3:
                break
            if name in rows and self.story.more_seats(name):
                self.ctx.out(f"- {name}: two more seats in {self.title}")
                changed[name] = rows[name]
        return changed

    def _link_accounts(self, customers: dict[str, str]) -> dict[str, str]:
        field = self.system.account_field
        rows = [{"Name": company, field: cid} for company, cid in customers.items()]
        rows += [
            {"Name": "Gekko & Co", field: self.provider.malformed},
            # Unknown to the provider. (A shared ID cannot be shown: the field is Unique.)
            {"Name": "Rekall", field: self.provider.unknown},
        ]
        sf = self.conn.sf
        accounts: dict[str, str] = {}
        for start in range(0, len(rows), 200):
            chunk = rows[start : start + 200]
            batch = [{"attributes": {"type": "Account"}, **r} for r in chunk]
            # A composite/sobjects POST answers with one result a record, never nothing.
            results = cast(
                list[dict[str, Any]],
                sf.restful(
                    "composite/sobjects", method="POST", json={"allOrNone": True, "records": batch}
                ),
            )
            for row, res in zip(chunk, results, strict=True):
                if not res.get("success"):
                    raise RuntimeError(f"demo Account {row['Name']} not created: {res}")
                accounts[row["Name"]] = res["id"]
        return accounts

    def _cycle(self, *, dry_run: bool = False) -> CycleReport:
        from scheduler.wiring import build_engine

        with build_engine(
            self.settings,
            billing_client=self.client,
            salesforce=self.conn,
            redactor=self.ctx.redactor,
            read_only=dry_run,
        ) as engine:
            return engine.run(dry_run=dry_run)

    def _summary(self, report: CycleReport) -> None:
        s = report.summary()
        errors = ", ".join(f"{k} {v}" for k, v in sorted(s["errors_by_category"].items()))
        self.ctx.out(
            f"{s['accounts_read']} Accounts read, {s['accounts_changed']} Accounts and "
            f"{s['subscriptions_changed']} Subscriptions changed, {s['records_written']} "
            f"records written; errors: {errors or 'none'}; API calls: Salesforce "
            f"{s['api_calls'].get('salesforce')}, {self.title} "
            f"{s['api_calls'].get(self.provider.key)} ({s['stripe_strategy']}); "
            f"{s['duration_s']:.2f} s"
        )

    def _account_rows(self) -> dict[str, tuple[str, ...]]:
        fields = ", ".join(ACCOUNT_COLUMNS)
        records = self.conn.sf.query_all(
            f"SELECT Name, {fields} FROM Account WHERE {self.system.account_field} != null "
            "ORDER BY Name"
        )["records"]
        return {r["Name"]: tuple(show_value(r[f]) for f in ACCOUNT_COLUMNS) for r in records}


def _short(columns: Iterable[str]) -> tuple[str, ...]:
    return tuple(
        c.replace("Billing_", "").replace("__c", "").replace("_", " ").lower() for c in columns
    )


def _cut(text: str | None, n: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"
