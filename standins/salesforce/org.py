"""The org: schema, records, users, permission sets and tokens of the Salesforce stand-in.

Everything the HTTP layer and the Metadata API side touch goes through ``Org``; every public
method takes ``org.lock`` so the threaded server sees consistent state.
"""

from __future__ import annotations

import threading

from .components import PermissionSetSpec, TabSpec
from .faults import FaultsMixin, ValidationRule
from .ids import to18
from .org_schema import SchemaMixin
from .records import RecordsMixin
from .rowlocks import RowLocks
from .schema import ObjectSchema, standard_objects
from .security import INTEGRATION_USERNAME, Access, SecurityMixin
from .storage import ObjectStore, index_key, indexed_fields
from .writes import WritesMixin

__all__ = ["INTEGRATION_USERNAME", "Access", "ObjectStore", "Org", "ValidationRule", "index_key"]

ADMIN_USERNAME = "admin@billing-sync.example"


class Org(SchemaMixin, SecurityMixin, FaultsMixin, RecordsMixin, WritesMixin):
    """One org. Its parts: org_schema (schema and deploys), security (users, tokens, FLS),
    records (reads and DML), writes (saving one record), faults (rules and lock failures)."""

    def __init__(self, *, token_ttl: float = 7200, daily_limit: int = 100_000) -> None:
        self.lock = threading.RLock()
        self.deployments: dict = {}
        self.token_ttl = token_ttl
        self.daily_limit = daily_limit
        self.api_usage = 0
        self.api_bursts: tuple[int, int] | None = None  # (used, monthly entitlement)
        self.chatter_enabled = True
        self.org_id = to18("00D5g000000BsYn")
        self._schemas: dict[str, ObjectSchema] = standard_objects()
        self._stores: dict[str, ObjectStore] = {}
        for schema in self._schemas.values():
            self._stores[schema.name] = ObjectStore(schema.key_prefix)
            self._stores[schema.name].index_fields = indexed_fields(schema)
            self._stores[schema.name].indexes = {
                f.full_name: {} for f in self._stores[schema.name].index_fields
            }
        self._obj_lower = {name.lower(): name for name in self._schemas}
        self._permission_sets: dict[str, PermissionSetSpec] = {}
        self._tabs: dict[str, TabSpec] = {}
        self._next_custom_prefix = 0
        self._tokens: dict[str, tuple[str, float]] = {}
        self._rules: dict[str, list[ValidationRule]] = {}
        self._lock_failures = 0
        # Taken outside ``lock`` (which only keeps the stand-in's own state consistent), so a
        # transaction in flight can make another wait for its rows, as in Salesforce.
        self.row_locks = RowLocks()
        self._perm_version = 0
        self._access_cache: dict[str, tuple[int, Access]] = {}
        self.admin_user_id = self.insert(
            "User",
            {"Username": ADMIN_USERNAME, "Name": "Org Admin", "Email": ADMIN_USERNAME,
             "IsActive": True},
        )
        self.integration_user_id = self.insert(
            "User",
            {"Username": INTEGRATION_USERNAME, "Name": "Billing Sync Integration",
             "Email": INTEGRATION_USERNAME, "IsActive": True},
        )
