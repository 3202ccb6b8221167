"""``billing-sync deploy``: deploy the Salesforce metadata, or write it as a DX project."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from metadata.package import PackageSpec, check_rules
from metadata.source_format import write_source
from scheduler.context import Context
from scheduler.settings import ConfigError, Settings
from sync.errors import SyncFailure
from sync.salesforce_io import DeployResult, deploy

NAME = "deploy"
HELP = "Deploy billing-sync's Salesforce metadata."

__all__ = ["HELP", "NAME", "configure", "is_sandbox", "run"]

_SANDBOX_HOSTS = ("test.salesforce.com", ".sandbox.my.salesforce.com")
POLL_SECONDS = 2.0  # between checkDeployStatus calls; a real deploy of this package takes ~1 min


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="validate the deploy in the org without saving anything",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="write the metadata as a Salesforce DX project to DIR instead of "
        "deploying (no credentials needed); deploy it with "
        "`sf project deploy start --source-dir force-app`",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="the org is a sandbox: skip Apex tests (NoTestRun). Implied by a "
        "test.salesforce.com or *.sandbox.my.salesforce.com login URL",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=600.0,
        help="give up waiting for the deploy after this long (default: 600); "
        "Salesforce finishes it anyway",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def is_sandbox(settings: Settings) -> bool:
    """A sandbox login URL: deploys skip Apex tests (NoTestRun)."""
    return any(h in settings.salesforce_login_url for h in _SANDBOX_HOSTS)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.out is not None:
        return _write_source(args, ctx)
    settings = ctx.settings  # raises ConfigError -> exit 2
    spec = PackageSpec.current(settings.salesforce_api_version)
    sandbox = args.sandbox or is_sandbox(settings)
    try:
        conn = ctx.salesforce()
        result = deploy(
            conn.sf,
            spec=spec,
            sandbox=sandbox,
            check_only=args.check_only,
            timeout=args.timeout,
            poll_interval=POLL_SECONDS,
            # With --json stdout holds the one object: progress goes to stderr.
            progress=_to_stderr if args.json else ctx.out,
            username=conn.username,
            identity_url=conn.identity_url,
        )
    except SyncFailure as exc:
        if args.json:
            ctx.out(json.dumps({"ok": False, "status": "Failed", "error": exc.message}))
        else:
            ctx.out(f"deploy failed: {exc.message}")
        return 1
    if args.json:
        ctx.out(json.dumps(_as_json(result), indent=2))
    else:
        _report(result, ctx)
    return 0 if result.ok else 1


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _as_json(result: DeployResult) -> dict[str, object]:
    return {
        "ok": result.ok,
        "status": result.status,
        "check_only": result.check_only,
        "deploy_id": result.deploy_id,
        "components": [
            {
                "type": c.type,
                "name": c.name,
                "outcome": c.outcome,
                "problem": c.problem or None,
                "file": c.file or None,
            }
            for c in result.components
        ],
        "problems": list(result.problems),
        "permission_set": result.permission_set or None,
        "seconds": round(result.seconds, 3),
    }


def _write_source(args: argparse.Namespace, ctx: Context) -> int:
    # The API version comes from settings when they load; --out must work without any.
    try:
        api_version = ctx.settings.salesforce_api_version
    except ConfigError:  # e.g. no credentials: fine for --out, use the default version
        api_version = PackageSpec.current().api_version
    spec = PackageSpec.current(api_version)
    problems = check_rules(spec)
    if problems:
        for problem in problems:
            ctx.out(f"metadata problem: {problem}")
        return 1
    written = write_source(spec, args.out)
    ctx.out(
        f"wrote {len(written)} files to {args.out} (Salesforce DX source format, API {api_version})"
    )
    ctx.out(
        f"deploy with: cd {args.out} && sf project deploy start --source-dir force-app "
        "--target-org <alias>"
    )
    ctx.out(
        "then assign the permission set: sf org assign permset --name "
        "Billing_Sync_Integration --on-behalf-of <integration username>"
    )
    return 0


def _report(result: DeployResult, ctx: Context) -> None:
    if result.components:
        ctx.out(ctx.table(("type", "component", "result", "problem"), result.table_rows()))
    for failure in result.failures:
        ctx.out(f"FAILED {failure.file or '-'}: {failure.type} {failure.name}: {failure.problem}")
    for problem in result.problems:
        ctx.out(f"problem: {problem}")
    what = "validation (check only)" if result.check_only else "deploy"
    counts = ", ".join(
        f"{result.count(o)} {o}"
        for o in ("created", "changed", "unchanged", "failed")
        if result.count(o)
    )
    summary = f"{what} {result.status}" + (f": {counts}" if counts else "")
    if result.permission_set:
        summary += f"; Billing_Sync_Integration {result.permission_set}"
    ctx.out(f"{summary} in {result.seconds:.1f} s")
