"""Deploy the package to an org through the Metadata API, then grant and verify access.

Salesforce I/O, so it lives beside the gateway; the package itself comes from ``metadata``.

Steps: local rule check -> pre-flight (an Account field we would create already exists with
another type) -> ``sf.deploy`` -> poll ``sf.checkDeployStatus`` until done or the deadline ->
component table -> assign ``Billing_Sync_Integration`` to the integration user if needed ->
describe each object we own and check every field is visible (and writable) to that user.

Every call goes through ``errors.call``: the one Salesforce error table decides between
``RetryLater`` (network, 503) and ``StopCycle`` (credentials, permissions, limits).
"""

from __future__ import annotations

import io
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simple_salesforce.api import Salesforce

from metadata.package import PackageSpec, build_zip, check_rules
from metadata.schema import Category

from ..errors import RetryLater, StopCycle
from .access import (
    INTEGRATION_PERMISSION_SET,
    assign_integration_permission_set,
    sobject,
    verify_access,
)
from .errors import call as _call
from .version import MD as _MD

__all__ = ["ComponentResult", "DeployResult", "deploy", "preflight"]

log = logging.getLogger(__name__)

TERMINAL_STATES = ("Succeeded", "SucceededPartial", "Failed", "Canceled")

# describe() reports SOAP types, the Metadata API speaks CustomField types.
_DESCRIBE_TYPES = {
    "Text": "string",
    "AutoNumber": "string",
    "Picklist": "picklist",
    "Currency": "currency",
    "Number": "double",
    "Date": "date",
    "DateTime": "datetime",
    "Checkbox": "boolean",
    "LongTextArea": "textarea",
    "Lookup": "reference",
}


@dataclass(frozen=True)
class ComponentResult:
    type: str  # CustomObject, CustomField, ListView, CustomTab, PermissionSet
    name: str  # full name, e.g. "Account.MRR__c"
    outcome: str  # created | changed | unchanged | deleted | failed
    problem: str = ""
    file: str = ""


@dataclass(frozen=True)
class DeployResult:
    # Succeeded | SucceededPartial | Failed | Canceled | TimedOut | PreflightFailed
    status: str
    check_only: bool
    deploy_id: str | None = None
    components: tuple[ComponentResult, ...] = ()
    # Problems that belong to no component: pre-flight, assignment, field visibility.
    problems: tuple[str, ...] = ()
    permission_set: str = ""  # "assigned" | "already assigned" | "" (not attempted)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "Succeeded" and not self.problems

    @property
    def failures(self) -> tuple[ComponentResult, ...]:
        return tuple(c for c in self.components if c.outcome == "failed")

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.components if c.outcome == outcome)

    def table_rows(self) -> list[tuple[str, str, str, str]]:
        return [(c.type, c.name, c.outcome, c.problem) for c in self.components]


# --- pre-flight ------------------------------------------------------------------------


def preflight(sf: Salesforce, spec: PackageSpec) -> list[str]:
    """Account fields we would create that already exist as something else.

    Only what the deploying user can see through describe is checked: run the deploy as a
    user with access to all fields (an admin, or the integration user with Modify Metadata).
    """
    described = _call("Describing Account", lambda: sobject(sf, "Account").describe())
    existing = {f["name"]: f for f in described.get("fields", [])}
    problems = []
    for ours in spec.account_fields:
        theirs = existing.get(ours.name)
        if theirs is None:
            continue
        want = _DESCRIBE_TYPES[ours.type]
        found = theirs.get("type")
        label = f"Account.{ours.name}"
        if found != want:
            problems.append(
                f"{label} already exists as a {found} field; billing-sync needs {ours.type}. "
                "billing-sync never changes a field it does not own: rename or delete that "
                "field, then deploy again."
            )
        elif theirs.get("calculated"):
            problems.append(
                f"{label} already exists as a formula field; billing-sync needs "
                f"a plain {ours.type} field. Rename or delete it, then deploy again."
            )
        elif ours.type == "Text" and theirs.get("length") not in (None, ours.length):
            problems.append(
                f"{label} already exists as Text({theirs.get('length')}); billing-sync needs "
                f"Text({ours.length}) and will not resize a field it may not own. Change its "
                "length or delete it, then deploy again."
            )
    return problems


# --- deploy and poll -------------------------------------------------------------------


def _progress_line(deploy_id: str, status: dict[str, Any]) -> str:
    detail = status.get("deployment_detail") or {}
    done, total = detail.get("deployed_count") or "0", detail.get("total_count") or "0"
    parts = []
    if total != "0":  # Salesforce counts components only once it has read the package
        parts.append(f"{done}/{total} components")
    failed = detail.get("failed_count")
    if failed and failed != "0":
        parts.append(f"{failed} failed")
    if status.get("state_detail"):
        parts.append(str(status["state_detail"]))
    return f"deploy {deploy_id}: {status.get('state')}" + (
        f" ({', '.join(parts)})" if parts else ""
    )


def _flag(node: ET.Element, name: str) -> bool:
    return (node.findtext(f"{_MD}{name}") or "").strip().lower() == "true"


def _component_results(
    sf: Salesforce, deploy_id: str, fallback: dict[str, Any]
) -> tuple[ComponentResult, ...]:
    """Every component with its outcome, from one checkDeployStatus(includeDetails) call.

    simple-salesforce's ``checkDeployStatus`` keeps only the failures; the successes (created
    / changed / unchanged) are in the same SOAP reply, which its ``_retrieve_deploy_result``
    returns whole.
    """
    try:
        result = _call(
            "Reading the deploy details", lambda: sf.mdapi._retrieve_deploy_result(deploy_id)
        )
    except (RetryLater, AttributeError, TypeError) as exc:
        log.warning("deploy details unavailable (%s); listing failures only", type(exc).__name__)
        errors = (fallback.get("deployment_detail") or {}).get("errors") or []
        return tuple(
            ComponentResult(
                e.get("type") or "", "", "failed", e.get("message") or "", e.get("file") or ""
            )
            for e in errors
        )
    rows: list[ComponentResult] = []
    details = result.find(f"{_MD}details")
    if details is None:
        return ()
    for node in details.findall(f"{_MD}componentSuccesses"):
        name = node.findtext(f"{_MD}fullName") or ""
        kind = node.findtext(f"{_MD}componentType") or ""
        if not kind or name == "package.xml":
            continue  # the manifest itself is reported as a component with no type
        if _flag(node, "created"):
            outcome = "created"
        elif _flag(node, "deleted"):
            outcome = "deleted"
        elif _flag(node, "changed"):
            outcome = "changed"
        else:
            outcome = "unchanged"
        rows.append(ComponentResult(kind, name, outcome, "", node.findtext(f"{_MD}fileName") or ""))
    for node in details.findall(f"{_MD}componentFailures"):
        problem = node.findtext(f"{_MD}problem") or ""
        line = node.findtext(f"{_MD}lineNumber")
        if line:
            problem = f"{problem} (line {line})"
        rows.append(
            ComponentResult(
                node.findtext(f"{_MD}componentType") or "",
                node.findtext(f"{_MD}fullName") or "",
                "failed",
                problem,
                node.findtext(f"{_MD}fileName") or "",
            )
        )
    order = {"failed": 0, "created": 1, "changed": 2, "deleted": 3, "unchanged": 4}
    return tuple(sorted(rows, key=lambda c: (order.get(c.outcome, 5), c.type, c.name)))


# --- the whole deploy --------------------------------------------------------------------


def deploy(sf: Salesforce, **kwargs: Any) -> DeployResult:
    """Deploy and make usable; see ``_deploy``. Leaves ``sf`` fit for REST calls afterwards."""
    try:
        return _deploy(sf, **kwargs)
    finally:
        # simple-salesforce's Metadata calls write their SOAP headers into sf.headers in
        # place; later REST calls would go out as text/xml with a SOAPAction.
        headers = vars(sf).get("headers")
        if isinstance(headers, dict):
            headers.pop("SOAPAction", None)
            headers["Content-Type"] = "application/json"


def _deploy(
    sf: Salesforce,
    *,
    spec: PackageSpec | None = None,
    sandbox: bool = False,
    check_only: bool = False,
    timeout: float = 600.0,
    poll_interval: float = 2.0,
    progress: Callable[[str], None] | None = None,
    username: str | None = None,
    identity_url: str | None = None,
    zip_bytes: bytes | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DeployResult:
    """Deploy ``spec`` (default: the current package) and make it usable by the connected user.

    ``zip_bytes`` sends those bytes instead of the rendered package and skips the local rule
    check (tests use it to send a broken package). ``username`` / ``identity_url`` name the
    integration user to assign; it must be the connected user for the describe check to mean
    anything. Raises ``StopCycle`` / ``RetryLater`` for failures outside the deploy itself.
    """
    spec = spec or PackageSpec.current()
    say = progress or (lambda _line: None)
    started = clock()

    def finish(status: str, **kw: Any) -> DeployResult:
        return DeployResult(status=status, check_only=check_only, seconds=clock() - started, **kw)

    if zip_bytes is None:
        problems = check_rules(spec)
        if problems:
            return finish("PreflightFailed", problems=tuple(problems))
        zip_bytes = build_zip(spec)
    problems = preflight(sf, spec)
    if problems:
        return finish("PreflightFailed", problems=tuple(problems))

    options: dict[str, Any] = {
        "checkOnly": check_only,
        "rollbackOnError": True,
        # simple-salesforce writes these two into the SOAP body verbatim; an empty string
        # leaves them out. Production rejects NoTestRun, and runs no tests for a package
        # without Apex anyway; a sandbox may skip them explicitly.
        "testLevel": "NoTestRun" if sandbox else "",
        "tests": "",
    }
    started_deploy = _call(
        "Starting the deploy", lambda: sf.deploy(io.BytesIO(zip_bytes), sandbox, **options)
    )
    deploy_id = started_deploy.get("asyncId")
    if not deploy_id:
        raise StopCycle(
            "Salesforce did not accept the deploy request (no id returned)",
            code="DEPLOY",
            category=Category.CONFIGURATION,
        )
    say(
        f"deploy {deploy_id}: {started_deploy.get('state') or 'Queued'}"
        f"{' (check only)' if check_only else ''}"
    )

    deadline = started + timeout
    last_line = ""
    status: dict[str, Any] = {}
    while True:
        status = _call(
            "Checking the deploy", lambda: sf.checkDeployStatus(deploy_id, sandbox=sandbox)
        )
        line = _progress_line(deploy_id, status)
        if line != last_line:
            say(line)
            last_line = line
        if status.get("state") in TERMINAL_STATES:
            break
        if clock() >= deadline:
            return finish(
                "TimedOut",
                deploy_id=deploy_id,
                problems=(
                    f"deploy {deploy_id} was still {status.get('state')} after {timeout:.0f} s; "
                    "Salesforce carries on with it: see Setup > Deployment Status, then run "
                    "deploy again to assign and verify access.",
                ),
            )
        sleep(poll_interval)

    state = status.get("state") or "Failed"
    components = _component_results(sf, deploy_id, status)
    if state != "Succeeded" or check_only:
        return finish(state, deploy_id=deploy_id, components=components)

    say(f"assigning {INTEGRATION_PERMISSION_SET}")
    assignment = assign_integration_permission_set(sf, username, identity_url)
    say("verifying field access through describe")
    missing = verify_access(sf, spec)
    return finish(
        state,
        deploy_id=deploy_id,
        components=components,
        permission_set=assignment,
        problems=tuple(missing),
    )
