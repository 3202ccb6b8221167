"""The one place that assembles the engine from settings: source, gateway, store, alerter,
cycle. The ``sync`` and ``demo`` commands, the tests and the daemon all build it here.

Clients come in from ``scheduler.clients`` (the only module that builds them) so a caller that
already holds them (the demo, a test replaying a cassette) passes its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from metadata.billing_systems import billing_system
from sync.budget import ApiBudget
from sync.cycle import Cycle, Progress
from sync.incremental import IncrementalCycle
from sync.ports import Alerter, BillingSource
from sync.redact import Redactor
from sync.report import CycleReport
from sync.salesforce_io import SalesforceGateway
from sync.store import StateStore, StoreError
from sync.stripe_io import StripeSource
from sync.stripe_io.pacing import Pacer, rate_for_key

from .clients import SalesforceConnection, build_alerter
from .settings import Settings

__all__ = ["Engine", "billing_identity", "build_engine", "build_source", "check_identity"]

IDENTITY = "identity"


@dataclass
class Engine:
    """Everything one cycle needs; close it to release the SQLite file."""

    source: BillingSource
    gateway: SalesforceGateway
    store: StateStore
    alerter: Alerter
    cycle: Cycle

    def run(
        self, *, dry_run: bool = False, account_id: str | None = None, track_events: bool = False
    ) -> CycleReport:
        return self.cycle.run(dry_run=dry_run, account_id=account_id, track_events=track_events)

    def run_incremental(self) -> CycleReport:
        """One incremental cycle; its report's ``needs_full`` says when a full reconcile must
        run instead (no cursor yet, or one too old to trust)."""
        return IncrementalCycle(self.cycle).run()

    def over_soft_budget(self) -> bool:
        """Whether the org's API usage is above the soft threshold: full reconciles wait."""
        return self.cycle.budget.over_soft(self.gateway.usage())

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_engine(
    settings: Settings,
    *,
    billing_client: Any,
    salesforce: SalesforceConnection,
    redactor: Redactor | None = None,
    read_only: bool = False,
    alerter: Alerter | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] | None = None,
    progress: Progress | None = None,
    halt: Callable[[], str | None] | None = None,
) -> Engine:
    """The engine for ``settings``. ``billing_client`` is the provider's client
    (``scheduler.clients.build_billing``); ``read_only`` opens the store without writing it (a
    dry run); ``sleep`` replaces the in-cycle backoff's sleep (tests); ``halt`` is asked
    before every write call for a reason to stop writing (the daemon's signals and
    deadline)."""
    source = build_source(settings, billing_client, sleep=sleep)
    gateway = SalesforceGateway(
        salesforce.sf,
        sleep=sleep,
        own_user_id=salesforce.user_id,
        system=billing_system(source.provider),
    )
    store = StateStore(
        settings.db_path,
        redactor=redactor or Redactor(settings.secrets()),
        clock=clock,
        read_only=read_only,
    )
    try:
        check_identity(
            store, f"Salesforce org {salesforce.org_id or 'unknown'}, {billing_identity(settings)}"
        )
    except StoreError:
        store.close()
        raise
    chosen = alerter if alerter is not None else build_alerter(settings)
    cycle = Cycle(
        source=source,
        gateway=gateway,
        store=store,
        alerter=chosen,
        clock=clock,
        progress=progress,
        halt=halt,
        budget=ApiBudget(
            settings.api_soft_percent, settings.api_hard_percent, settings.api_max_per_cycle
        ),
        write_concurrency=settings.salesforce_write_concurrency,
    )
    return Engine(source, gateway, store, chosen, cycle)


def build_source(
    settings: Settings, client: Any, *, sleep: Callable[[float], None] | None = None
) -> BillingSource:
    """The billing source of the configured provider, over ``client``."""
    if settings.billing_provider == "chargebee":
        from sync.chargebee_io import ChargebeeSource
        from sync.chargebee_io.limiter import RateLimiter

        # In tests ``sleep`` is a no-op, which also makes the limiter's waits free.
        limiter = RateLimiter(settings.chargebee_rate_limit, sleep=sleep or time.sleep)
        return ChargebeeSource(client, sleep=sleep, limiter=limiter)
    if settings.billing_provider == "recurly":
        from sync.recurly_io import RecurlySource

        return RecurlySource(client, sleep=sleep)
    # In tests ``sleep`` is a no-op, which also turns the pacing off.
    key = settings.stripe_api_key.reveal() if settings.stripe_api_key else ""
    pacer = Pacer(rate_for_key(key), sleep=sleep or time.sleep)
    return StripeSource(
        client, sleep=sleep, pacer=pacer, list_concurrency=settings.stripe_list_concurrency
    )


def billing_identity(settings: Settings) -> str:
    """Which billing account the settings reach, as the state file records it (no secret)."""
    if settings.billing_provider == "chargebee":
        return f"Chargebee site {settings.chargebee_site}"
    if settings.billing_provider == "recurly":
        # A v3 key belongs to one site; the key itself never goes into the state file, and a
        # rotated key must not make the file look like another account's.
        return f"Recurly at {settings.recurly_api_base}"
    return f"Stripe {settings.stripe_mode} mode"


def check_identity(store: StateStore, identity: str) -> None:
    """The file belongs to one org and one billing account: recorded on first use, refused
    for any other (a refreshed sandbox is another org; a live key after a test key is another
    account), so failures are never mirrored into the wrong org or lost to the right one."""
    known = store.get_cursor(IDENTITY)
    if known is None:
        if not store.read_only:
            store.set_cursor(IDENTITY, identity)
        return
    if known != identity and "unknown" not in (known + identity):
        raise StoreError(
            f"{store.path} belongs to {known}, but this configuration reaches {identity}: "
            "point BILLING_SYNC_DB at a new file, or run `billing-sync reset-state` to start "
            "this one afresh"
        )
