"""deploy and checkDeployStatus: an asynchronous deployment as the org sees it.

A deployment is kept in ``org.deployments`` and moves on each checkDeployStatus: the first
check finds it InProgress, the next one validates the zip against the org, applies it (unless
checkOnly, or a failure under rollbackOnError) and reports Succeeded, SucceededPartial or
Failed. Validation and apply happen in one step under the org's lock, so nothing can change the
schema between the check and the write.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from lxml import etree

from ..components import MetadataChange
from ..ids import to18
from .envelope import SoapFault, sub
from .package import read_bundle
from .parse import Component, Problem
from .references import Catalog, check_references
from .rules import check_component
from .schema import MD_NS

__all__ = ["DeployMessage", "Deployment", "check_deploy_status", "start_deploy"]

_NS = f"{{{MD_NS}}}"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TEST_LEVELS = ("NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg")


@dataclass(frozen=True)
class DeployMessage:
    component_type: str
    file_name: str
    full_name: str
    success: bool
    created: bool = False
    changed: bool = False
    deleted: bool = False
    problem: str = ""
    problem_type: str = ""
    line: int | None = None


@dataclass
class Deployment:
    id: str
    created_by: str
    created_date: datetime
    zip_bytes: bytes
    check_only: bool
    rollback_on_error: bool
    ignore_warnings: bool
    single_package: bool
    test_level: str | None
    status: str = "Pending"
    state_detail: str | None = None
    start_date: datetime | None = None
    completed_date: datetime | None = None
    total: int = 0
    deployed: int = 0
    errors: int = 0
    error_message: str | None = None
    messages: list[DeployMessage] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status in ("Succeeded", "SucceededPartial", "Failed", "Canceled")


def _bool_option(options: etree._Element | None, name: str, default: bool = False) -> bool:
    if options is None:
        return default
    node = options.find(f"{_NS}{name}")
    if node is None:
        return default
    text = (node.text or "").strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise SoapFault("soapenv:Client", f"Unable to parse {name}: '{node.text}' is not a boolean")
    return text in ("true", "1")


def _new_id() -> str:
    return to18("0Af5g" + "".join(secrets.choice(_B62) for _ in range(10)))


def start_deploy(org, user: str, request: etree._Element) -> etree._Element:
    """Handle <deploy>: record a Pending deployment, answer with its AsyncResult."""
    zip_node = request.find(f"{_NS}ZipFile")
    if zip_node is None or not (zip_node.text or "").strip():
        raise SoapFault("soapenv:Client", "Missing required element ZipFile in deploy")
    try:
        raw = base64.b64decode("".join((zip_node.text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SoapFault("soapenv:Client", f"Unable to decode ZipFile as base64: {exc}") from None
    options = request.find(f"{_NS}DeployOptions")
    test_level = None
    if options is not None:
        test_level = (options.findtext(f"{_NS}testLevel") or "").strip() or None
    if test_level is not None and test_level not in _TEST_LEVELS:
        raise SoapFault(
            "soapenv:Client", f"'{test_level}' is not a valid value for the enum 'TestLevel'"
        )
    sandbox = bool(getattr(org, "is_sandbox", False))
    if test_level == "NoTestRun" and not sandbox:
        raise SoapFault(
            "INVALID_OPERATION", "testLevel of NoTestRun cannot be used in production organizations"
        )
    run_tests = [] if options is None else options.findall(f"{_NS}runTests")
    if test_level == "RunSpecifiedTests" and not run_tests:
        raise SoapFault(
            "INVALID_OPERATION", "Must specify at least one test to run with RunSpecifiedTests"
        )
    deployment = Deployment(
        id=_new_id(),
        created_by=user,
        created_date=datetime.now(UTC),
        zip_bytes=raw,
        check_only=_bool_option(options, "checkOnly"),
        # Production deploys always roll back on error, whatever the client asks.
        rollback_on_error=_bool_option(options, "rollbackOnError") or not sandbox,
        ignore_warnings=_bool_option(options, "ignoreWarnings"),
        single_package=_bool_option(options, "singlePackage"),
        test_level=test_level,
    )
    with _lock(org):
        org.deployments[deployment.id] = deployment
    result = etree.Element(f"{_NS}result")
    sub(result, "done", False)
    sub(result, "id", deployment.id)
    sub(result, "state", "Queued")
    return result


def _lock(org):
    return getattr(org, "lock", None) or nullcontext()


def check_deploy_status(org, request: etree._Element) -> etree._Element:
    async_id = (request.findtext(f"{_NS}asyncProcessId") or "").strip()
    details = (request.findtext(f"{_NS}includeDetails") or "false").strip().lower() in ("true", "1")
    with _lock(org):
        deployment = org.deployments.get(async_id)
        if not isinstance(deployment, Deployment):
            raise SoapFault("INVALID_ID_FIELD", f"Invalid id: {async_id}")
        if deployment.status == "Pending":
            deployment.status = "InProgress"
            deployment.start_date = datetime.now(UTC)
            deployment.state_detail = "Processing Type: CustomObject"
        elif deployment.status == "InProgress":
            _run(org, deployment)
    return _result(deployment, details)


# --- running a deployment ----------------------------------------------------------------


def _run(org, dep: Deployment) -> None:
    bundle = read_bundle(dep.zip_bytes, dep.single_package)
    comps = bundle.components
    for comp in comps:
        check_component(comp, org)
    failed: dict[int, list[Problem]] = {id(c): list(c.problems) for c in comps if c.problems}
    if dep.rollback_on_error or bundle.package.problems:
        catalog = Catalog(org, comps)
        for comp in comps:
            for message in check_references(comp, catalog):
                failed.setdefault(id(comp), []).append(Problem(message, comp.line))
    else:
        # Partial deploy: drop what failed and re-check the rest until nothing else breaks.
        alive = [c for c in comps if id(c) not in failed]
        while True:
            catalog = Catalog(org, alive)
            broken = {id(c): check_references(c, catalog) for c in alive}
            broken = {k: v for k, v in broken.items() if v}
            if not broken:
                break
            for comp in alive:
                for message in broken.get(id(comp), []):
                    failed.setdefault(id(comp), []).append(Problem(message, comp.line))
            alive = [c for c in alive if id(c) not in broken]
    passed = [c for c in comps if id(c) not in failed]
    messages: list[DeployMessage] = []
    for problem in bundle.package.problems:
        messages.append(_failure(bundle.package, problem))
    for comp in comps:
        for problem in failed.get(id(comp), []):
            messages.append(_failure(comp, problem))
    package_ok = not bundle.package.problems
    if package_ok:
        messages.append(DeployMessage("", "package.xml", "package.xml", True, changed=True))
    for comp in passed:
        created, changed = _created_changed(comp, org)
        messages.append(
            DeployMessage(comp.type, comp.file_name, comp.full_name, True, created, changed)
        )
    all_ok = package_ok and not failed
    apply = package_ok and passed and (all_ok or not dep.rollback_on_error)
    if apply and not dep.check_only:
        try:
            org.apply_metadata(_change(passed))
        except ValueError as exc:
            # The org refuses what only its data can tell (a new unique field over duplicate
            # values): nothing was applied, so the whole deploy fails.
            culprit = next((c for c in passed if c.full_name in str(exc)), bundle.package)
            messages = [m for m in messages if not m.success]
            messages.append(_failure(culprit, Problem(str(exc), culprit.line)))
            failed[id(culprit)] = [Problem(str(exc))]
            passed = [c for c in passed if c is not culprit]
            all_ok = apply = False
    dep.messages = messages
    dep.total = len(comps)
    dep.errors = len(failed) + (0 if package_ok else 1)
    dep.deployed = len(passed)
    if all_ok:
        dep.status = "Succeeded"
    elif apply:
        dep.status = "SucceededPartial"
    else:
        dep.status = "Failed"
    dep.state_detail = None
    dep.completed_date = datetime.now(UTC)
    dep.zip_bytes = b""  # the results are all that is asked for from now on


def _failure(comp: Component, problem: Problem) -> DeployMessage:
    return DeployMessage(
        comp.type,
        comp.file_name,
        comp.full_name,
        False,
        problem=problem.message,
        problem_type="Error",
        line=problem.line,
    )


def _normalized(spec: object) -> object:
    """Specs compared without caring for the order of permission entries."""
    if spec is None:
        return None
    if hasattr(spec, "field_permissions"):
        return replace(
            spec,  # type: ignore[type-var]
            field_permissions=tuple(sorted(spec.field_permissions)),
            object_permissions=tuple(sorted(spec.object_permissions)),
            tab_settings=tuple(sorted(spec.tab_settings)),
        )
    return spec


def _created_changed(comp: Component, org) -> tuple[bool, bool]:
    if comp.type == "CustomObject":
        if comp.standard_parent:
            return False, False
        existing = org.get_object(comp.full_name)
        if existing is None:
            return True, False
        new = comp.spec
        keys = ("label", "plural_label", "sharing_model", "description")
        changed = any(getattr(existing, k) != getattr(new, k) for k in keys) or _name_changed(
            existing.name_field,
            new.name_field,  # type: ignore[attr-defined]
        )
        return False, changed
    if comp.type == "CustomField":
        existing = org.get_field(comp.object_name, comp.spec.full_name)  # type: ignore[attr-defined]
    elif comp.type == "ListView":
        obj = org.get_object(comp.object_name)
        views = {v.full_name: v for v in (obj.list_views if obj is not None else ())}
        existing = views.get(comp.spec.full_name)  # type: ignore[attr-defined]
    elif comp.type == "CustomTab":
        existing = org.get_tab(comp.full_name)
    elif comp.type == "PermissionSet":
        existing = org.get_permission_set(comp.full_name)
    else:
        existing = None
    if existing is None:
        return True, False
    return False, _normalized(existing) != _normalized(comp.spec)


def _name_changed(old, new) -> bool:
    return (old.type, old.label, old.display_format) != (new.type, new.label, new.display_format)


def _change(passed: list[Component]) -> MetadataChange:
    custom_objects = {
        c.full_name: c for c in passed if c.type == "CustomObject" and not c.standard_parent
    }
    fields_by_object: dict[str, list] = {}
    views_by_object: dict[str, list] = {}
    loose_fields = []
    for c in passed:
        if c.type == "CustomField":
            if c.object_name in custom_objects:
                fields_by_object.setdefault(c.object_name, []).append(c.spec)
            else:
                loose_fields.append(c.spec)
        elif c.type == "ListView":
            views_by_object.setdefault(c.object_name, []).append(c.spec)
    objects = tuple(
        replace(
            c.spec,  # type: ignore[type-var]
            fields=tuple(fields_by_object.get(name, ())),
            list_views=tuple(views_by_object.get(name, ())),
        )
        for name, c in custom_objects.items()
    )
    return MetadataChange(
        objects=objects,
        fields=tuple(loose_fields),
        permission_sets=tuple(c.spec for c in passed if c.type == "PermissionSet"),  # type: ignore[misc]
        tabs=tuple(c.spec for c in passed if c.type == "CustomTab"),  # type: ignore[misc]
    )


# --- DeployResult ------------------------------------------------------------------------


def _result(dep: Deployment, details: bool) -> etree._Element:
    result = etree.Element(f"{_NS}result")
    sub(result, "checkOnly", dep.check_only)
    if dep.completed_date is not None:
        sub(result, "completedDate", dep.completed_date)
    sub(result, "createdBy", dep.created_by)
    sub(result, "createdByName", dep.created_by)
    sub(result, "createdDate", dep.created_date)
    detail_node = sub(result, "details")
    if details and dep.done:
        for msg in dep.messages:
            if not msg.success:
                _message(sub(detail_node, "componentFailures"), msg, dep)
        for msg in dep.messages:
            if msg.success:
                _message(sub(detail_node, "componentSuccesses"), msg, dep)
    run = sub(detail_node, "runTestResult")
    sub(run, "numFailures", 0)
    sub(run, "numTestsRun", 0)
    sub(run, "totalTime", "0.0")
    sub(result, "done", dep.done)
    if dep.error_message:
        sub(result, "errorMessage", dep.error_message)
    sub(result, "id", dep.id)
    sub(result, "ignoreWarnings", dep.ignore_warnings)
    sub(result, "lastModifiedDate", dep.completed_date or dep.start_date or dep.created_date)
    sub(result, "numberComponentErrors", dep.errors)
    sub(result, "numberComponentsDeployed", dep.deployed)
    sub(result, "numberComponentsTotal", dep.total)
    sub(result, "numberTestErrors", 0)
    sub(result, "numberTestsCompleted", 0)
    sub(result, "numberTestsTotal", 0)
    sub(result, "rollbackOnError", dep.rollback_on_error)
    sub(
        result,
        "runTestsEnabled",
        dep.test_level in ("RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg"),
    )
    if dep.start_date is not None:
        sub(result, "startDate", dep.start_date)
    if dep.state_detail:
        sub(result, "stateDetail", dep.state_detail)
    sub(result, "status", dep.status)
    sub(result, "success", dep.status in ("Succeeded", "SucceededPartial"))
    return result


def _message(node: etree._Element, msg: DeployMessage, dep: Deployment) -> None:
    sub(node, "changed", msg.changed)
    if msg.line is not None and not msg.success:
        sub(node, "columnNumber", 1)
    sub(node, "componentType", msg.component_type)
    sub(node, "created", msg.created)
    sub(node, "createdDate", dep.completed_date or dep.created_date)
    sub(node, "deleted", msg.deleted)
    sub(node, "fileName", msg.file_name)
    sub(node, "fullName", msg.full_name)
    if msg.line is not None and not msg.success:
        sub(node, "lineNumber", msg.line)
    if not msg.success:
        sub(node, "problem", msg.problem)
        sub(node, "problemType", msg.problem_type)
    sub(node, "success", msg.success)
