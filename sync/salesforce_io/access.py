"""The integration user's access: the permission set assigned, every field checked by
describe (a freshly deployed field is invisible to the API until field-level security
grants it)."""

from __future__ import annotations

import logging
from typing import Any, cast

from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.format import format_soql

from metadata.package import PackageSpec
from metadata.schema import Category

from ..errors import RetryLater, StopCycle
from .errors import call as _call

__all__ = [
    "INTEGRATION_PERMISSION_SET",
    "assign_integration_permission_set",
    "sobject",
    "verify_access",
]

log = logging.getLogger(__name__)

INTEGRATION_PERMISSION_SET = "Billing_Sync_Integration"


def sobject(sf: Salesforce, name: str) -> SFType:
    """``sf.<name>`` as what it is: simple-salesforce types ``Salesforce.__getattr__`` as
    ``SFBulkHandler | SFBulk2Handler | SFType``, but every name other than bulk/bulk2 is an
    SObject's SFType."""
    return cast(SFType, getattr(sf, name))


def _user_id(sf: Salesforce, username: str | None, identity_url: str | None) -> str:
    if identity_url:
        # https://login.salesforce.com/id/<org id>/<user id>
        return identity_url.rstrip("/").rsplit("/", 1)[-1]
    if username:
        found = _call(
            "Finding the integration user",
            lambda: sf.query(format_soql("SELECT Id FROM User WHERE Username = {}", username)),
        )
        if not found["records"]:
            raise StopCycle(
                f"No Salesforce user has the username {username}",
                code="NOT_FOUND",
                category=Category.CONFIGURATION,
            )
        user_id: str = found["records"][0]["Id"]
        return user_id
    # A direct token carries no identity URL: OpenID userinfo answers for any token; Chatter
    # (which an org can switch off) only as a last resort.
    root = sf.base_url.split("/services/")[0]

    def userinfo() -> dict[str, Any]:
        resp = sf.session.get(f"{root}/services/oauth2/userinfo", headers=sf.headers)
        resp.raise_for_status()
        return cast(dict[str, Any], resp.json())

    try:
        info = _call("Finding the integration user", userinfo)
        return str(info["user_id"])
    except (RetryLater, StopCycle):
        log.info("userinfo unavailable; asking Chatter who the integration user is")
    me: dict[str, Any] = _call(
        "Finding the integration user", lambda: cast(dict[str, Any], sf.restful("chatter/users/me"))
    )
    return str(me["id"])


def assign_integration_permission_set(
    sf: Salesforce, username: str | None = None, identity_url: str | None = None
) -> str:
    """Assign Billing_Sync_Integration to the user unless it already is: returns what it did."""
    user_id = _user_id(sf, username, identity_url)
    found = _call(
        "Finding the permission set",
        lambda: sf.query(
            format_soql("SELECT Id FROM PermissionSet WHERE Name = {}", INTEGRATION_PERMISSION_SET)
        ),
    )
    if not found["records"]:
        raise StopCycle(
            f"Permission set {INTEGRATION_PERMISSION_SET} is not in the org",
            code="NOT_FOUND",
            category=Category.CONFIGURATION,
        )
    ps_id = found["records"][0]["Id"]
    assigned = _call(
        "Reading permission set assignments",
        lambda: sf.query(
            format_soql(
                "SELECT Id FROM PermissionSetAssignment "
                "WHERE AssigneeId = {} AND PermissionSetId = {}",
                user_id,
                ps_id,
            )
        ),
    )
    if assigned["records"]:
        return "already assigned"
    _call(
        "Assigning the permission set",
        lambda: sobject(sf, "PermissionSetAssignment").create(
            {"AssigneeId": user_id, "PermissionSetId": ps_id}
        ),
    )
    return "assigned"


def verify_access(sf: Salesforce, spec: PackageSpec) -> list[str]:
    """Every field we own, visible and writable to the connected user, checked by describe."""
    problems = []
    for obj_name, fields in spec.fields_by_object().items():

        def describe(o: str = obj_name) -> Any:
            return sobject(sf, o).describe()

        described = _call(f"Describing {obj_name}", describe)
        visible = {f["name"]: f for f in described.get("fields", [])}
        for f in fields:
            seen = visible.get(f.name)
            if seen is None:
                problems.append(f"{obj_name}.{f.name} is not visible to the integration user")
            elif seen.get("updateable") is False:
                problems.append(f"{obj_name}.{f.name} is read-only for the integration user")
    return problems
