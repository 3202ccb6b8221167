"""``billing-sync run``: the daemon. Exit 0 after a signal, 2 for bad configuration or a held
runner lock, 3 when it cannot start (a service unreachable, the org's schema newer, a deploy
that failed)."""

from __future__ import annotations

import argparse
import logging
import sys

from scheduler.collector import tune_for_cycles
from scheduler.context import Context

NAME = "run"
HELP = (
    "Run the daemon: an incremental cycle every BILLING_SYNC_INTERVAL seconds, a full "
    "reconcile on BILLING_SYNC_FULL_RECONCILE, health and metrics over HTTP."
)
EXIT_OK, EXIT_USAGE, EXIT_CANNOT_START = 0, 2, 3

__all__ = ["HELP", "NAME", "configure", "run"]

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(_log_level="INFO")  # a daemon's log is its only voice


def run(args: argparse.Namespace, ctx: Context) -> int:
    from scheduler.runlock import LockHeld, RunnerLock

    settings = ctx.settings  # ConfigError -> exit 2, in the CLI
    lock = RunnerLock(settings.db_path, command=NAME)
    try:
        lock.acquire()
    except LockHeld as exc:
        print(f"billing-sync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    chatty = [logging.getLogger(name) for name in ("stripe", "apscheduler")]
    levels = [logger.level for logger in chatty]
    if logging.getLogger().level > logging.DEBUG:
        # Both libraries log every request or tick at INFO: the daemon's own lines say more.
        for logger in chatty:
            logger.setLevel(logging.WARNING)
    try:
        return _serve(ctx)
    finally:
        lock.release()
        for logger, level in zip(chatty, levels, strict=True):
            logger.setLevel(level)


def _serve(ctx: Context) -> int:
    from scheduler.clients import build_alerter
    from scheduler.commands.deploy import is_sandbox
    from scheduler.daemon import Daemon
    from scheduler.health import HealthServer
    from scheduler.startup import (
        CannotStart,
        connect_salesforce,
        ensure_schema,
        full_due,
        reach_billing,
    )

    settings = ctx.settings
    health: HealthServer | None = None
    daemon: Daemon | None = None
    try:
        try:
            salesforce = connect_salesforce(settings)
            billing_client = ctx.billing()
            reach_billing(billing_client, settings)
            log.info(ensure_schema(salesforce, settings, sandbox=is_sandbox(settings)))
            daemon = Daemon(
                settings,
                billing_client=billing_client,
                salesforce=salesforce,
                alerter=build_alerter(settings),
                redactor=ctx.redactor,
            )
            # We hold the lock: a run still marked running belongs to a process that died.
            interrupted = daemon.store.mark_interrupted(now=daemon.clock())
            if interrupted:
                log.warning(
                    "%d run(s) left running by a stopped process marked interrupted", interrupted
                )
            daemon.schedule(full_reason=full_due(daemon.store, daemon.clock()))
            # Everything built so far (modules, clients, the scheduler) lives as long as the
            # process: keep it out of every later collection, which then only walks what a
            # cycle allocates, and collect that less often (scheduler.collector says why).
            tune_for_cycles()
            if settings.http_addr is not None:
                health = HealthServer(settings.http_addr, daemon.snapshot)
                try:
                    health.start()
                except OSError as exc:
                    host, port = settings.http_addr
                    raise CannotStart(
                        f"BILLING_SYNC_HTTP_ADDR: cannot listen on {host}:{port} "
                        f"({exc.strerror}); set another address or off"
                    ) from None
        except CannotStart as exc:
            _record_start_failure(ctx, str(exc))
            print(f"billing-sync: cannot start: {ctx.redactor.text(str(exc))}", file=sys.stderr)
            return EXIT_CANNOT_START
        log.info(
            "running: incremental every %d s, full reconcile at '%s' UTC",
            settings.interval_s,
            settings.full_reconcile,
        )
        daemon.serve()
        log.info("stopped: %s", daemon.stop_reason or "scheduler shut down")
        return EXIT_OK
    finally:
        if health is not None:
            health.stop()
        if daemon is not None:
            daemon.close()


def _record_start_failure(ctx: Context, message: str) -> None:
    """The daemon could not start: recorded as a stopped run and alerted (hourly), like any
    other stop, when the state file can be written; `status` and Slack then say why."""
    from datetime import UTC, datetime

    from scheduler.clients import build_alerter
    from sync.stops import record_stop
    from sync.store import StateStore, StoreError

    try:
        with StateStore(ctx.settings.db_path, redactor=ctx.redactor) as store:
            record_stop(
                store,
                build_alerter(ctx.settings),
                kind="full",
                message=f"billing-sync run cannot start: {message}",
                now=datetime.now(UTC),
            )
    except StoreError as exc:
        log.error("could not record the failed start either: %s", exc)
