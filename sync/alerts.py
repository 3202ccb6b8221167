"""Slack alerts: one message per new failure kind, one digest per eventful cycle, never one
message per record.

Policy (``alert_cycle``):
- a failure kind is (category, code). A kind is announced once, remembered in the store, and
  may be announced again only after every failure of that kind has resolved. Kinds whose
  announcement could not be delivered (Slack down, not configured) stay pending and are
  announced by the next cycle that reaches Slack. At most ``MAX_KIND_MESSAGES`` messages per
  cycle: beyond that the remaining kinds share one message.
- a digest is sent when the cycle recorded something a human should hear about: a new
  failure (``FailureRow.is_new``) or a failure that just became a dead letter. A failure that
  merely failed again is already announced and stays visible in Salesforce; repeating it every
  few minutes is the spam this module exists to prevent.
- a cycle stopped by a whole-call failure (``report.stop``) always alerts, but the same stop
  (by fingerprint: category and code) at most once per ``STOP_REPEAT``; the first cycle that
  completes afterwards sends one "recovered" message.
A Slack failure (network, 4xx/5xx, ``ok: false``) is logged and swallowed: alerting never
breaks a cycle, and after the first failed message the cycle sends no more (undelivered kind
and stop messages stay pending; a lost digest is not resent, the next one shows the open
totals). Messages carry category, code, counts, a customer id and the human message
(scrubbed, truncated); never payloads, tokens or card data.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from .core.failures import FailureRow
from .ports import Alerter, Store
from .redact import scrub_text
from .report import CycleReport
from .retry import MAX_ATTEMPTS

__all__ = ["alert_cycle"]

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 300  # characters of a failure's human message shown in Slack
MAX_KIND_MESSAGES = 5
STOP_REPEAT = timedelta(hours=1)
LIST_VIEW_TEXT = "open the 'Open sync errors' list view in Salesforce"


def alert_cycle(alerter: Alerter, store: Store, report: CycleReport, *, now: datetime) -> int:
    """Send the alerts for ``report`` under the policy above; returns the messages delivered.

    ``now`` is the cycle's clock: alert memory (which kinds were announced, when a stop was
    last told) is kept in ``store`` by it.
    """
    courier = _Courier(alerter)
    sent = 0
    stop_fp = report.stop.fingerprint if report.stop else None
    if report.stop is not None:
        # The stop may also have been recorded as a failure; the stop message is that
        # failure's announcement, so it gets no kind message and no digest line of its own.
        delivered, handled = _alert_stop(courier, store, report, now)
        sent += delivered
        if handled:
            store.mark_alerted(report.stop.kind, now=now)

    elif not report.halted:
        sent += _alert_recovered(courier, store, report)

    rows = [r for r in report.recorded if r.fingerprint != stop_fp]
    # Counted by kind in the file: the queue may hold any number of failures.
    open_kinds = Counter(store.open_kinds(exclude=stop_fp))
    fresh = [r for r in rows if r.is_new]
    sent += _alert_kinds(courier, store, fresh, open_kinds, stop_fp, now)

    if report.mirror_refused:
        sent += _alert_mirror_refused(courier, store, report, now)

    newly_dead = [r for r in rows if r.newly_dead]
    if fresh or newly_dead:
        text = _digest_text(fresh, newly_dead, open_kinds, report)
        sent += int(courier.deliver(text))
    return sent


# ---------------------------------------------------------------------- policy parts


def _alert_stop(
    courier: _Courier, store: Store, report: CycleReport, now: datetime
) -> tuple[int, bool]:
    """(messages delivered, whether Slack has heard of this stop within the hour)."""
    assert report.stop is not None
    message = report.stop.message
    key = f"stop:{report.stop.fingerprint}"
    last = store.alert_sent_at(key)
    if last is not None and now - last < STOP_REPEAT:
        return 0, True
    text = (
        f":octagonal_sign: billing-sync stopped the{_cycle_name(report)} cycle: "
        f"{_human(message)}\nThe next cycle tries again; this alert repeats at most hourly."
    )
    if not courier.deliver(text):
        return 0, False
    store.mark_alert_sent(key, now=now)
    return 1, True


def _alert_recovered(courier: _Courier, store: Store, report: CycleReport) -> int:
    """A cycle completed after Slack was told of a stop: one "recovered" message."""
    told = store.alert_keys("stop:")
    if not told:
        return 0
    text = (
        f":white_check_mark: billing-sync recovered: the{_cycle_name(report)} cycle completed "
        "again after the stop reported earlier."
    )
    if not courier.deliver(text):
        return 0
    store.forget_alerts(told)
    return 1


def _alert_kinds(
    courier: _Courier,
    store: Store,
    fresh: list[FailureRow],
    counts: Counter[tuple[str, str]],
    stop_fp: str | None,
    now: datetime,
) -> int:
    # The example shown for a kind is the cycle's own freshest row when there is one, else
    # the kind's oldest open failure.
    examples: dict[tuple[str, str], FailureRow] = {}
    for row in fresh:
        examples.setdefault(row.kind, row)
    alerted = store.alerted_kinds()
    kinds = set(examples) | set(counts)
    pending = sorted((k for k in kinds if k not in alerted), key=lambda k: (-counts[k], k))
    if not pending:
        return 0
    if len(pending) <= MAX_KIND_MESSAGES:
        singles, rest = pending, []
    else:
        singles, rest = pending[: MAX_KIND_MESSAGES - 1], pending[MAX_KIND_MESSAGES - 1 :]
    sent = 0
    for kind in singles:
        example = examples.get(kind) or store.first_open(kind, exclude=stop_fp)
        if example is None:
            continue
        if courier.deliver(_kind_text(kind, example, max(counts[kind], 1))):
            store.mark_alerted(kind, now=now)
            sent += 1
    if rest and courier.deliver(_more_kinds_text(rest, counts)):
        for kind in rest:
            store.mark_alerted(kind, now=now)
        sent += 1
    return sent


def _alert_mirror_refused(
    courier: _Courier, store: Store, report: CycleReport, now: datetime
) -> int:
    """Failures Salesforce would not take as Sync_Error__c are invisible to admins: say so,
    at most hourly."""
    key = "mirror-refused"
    last = store.alert_sent_at(key)
    if last is not None and now - last < STOP_REPEAT:
        return 0
    text = (
        f":warning: Salesforce refused {_plural(report.mirror_refused, 'Sync Error record')}: "
        "those failures are kept in billing-sync's local file but admins cannot see them. "
        "Run `billing-sync errors` on the VM, and check the Sync_Error__c fields' access "
        "(`billing-sync deploy`)."
    )
    if not courier.deliver(text):
        return 0
    store.mark_alert_sent(key, now=now)
    return 1


class _Courier:
    """Delivers one cycle's messages and stops at the first failure: a Slack that is down
    or black-holed would otherwise cost a timeout (and slack_sdk's retry) per message."""

    def __init__(self, alerter: Alerter):
        self.alerter = alerter
        self.down = False

    def deliver(self, text: str) -> bool:
        if self.down:
            return False
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        try:
            ok = self.alerter.send(text, blocks=blocks) is not False
        except Exception as exc:  # a third-party Alerter that raises must not break the cycle
            log.warning("Slack alert not delivered: %s", type(exc).__name__)
            ok = False
        self.down = not ok
        return ok


# ---------------------------------------------------------------------- message text


def _kind_text(kind: tuple[str, str], example: FailureRow, count: int) -> str:
    category, code = kind
    who = (
        f" Example, customer `{_esc(example.customer_id)}`:"
        if example.customer_id
        else (" Example:")
    )
    return (
        f":warning: New billing-sync failure: *{_esc(category)}* `{_esc(code or '-')}` "
        f"({_plural(count, 'open failure')}).{who} {_human(example.message)}\n"
        f"To triage, {LIST_VIEW_TEXT}."
    )


def _more_kinds_text(kinds: list[tuple[str, str]], counts: Counter[tuple[str, str]]) -> str:
    shown = ", ".join(
        f"*{_esc(c)}* `{_esc(code or '-')}` ({max(counts[(c, code)], 1)})" for c, code in kinds[:10]
    )
    more = f" and {len(kinds) - 10} more" if len(kinds) > 10 else ""
    return (
        f":warning: {len(kinds)} more new billing-sync failure kinds: {shown}{more}.\n"
        f"To triage, {LIST_VIEW_TEXT}."
    )


def _digest_text(
    fresh: list[FailureRow],
    newly_dead: list[FailureRow],
    open_kinds: Counter[tuple[str, str]],
    report: CycleReport,
) -> str:
    parts = []
    if fresh:
        parts.append(f"{_plural(len(fresh), 'new failure')} ({_by_category(fresh)})")
    if newly_dead:
        parts.append(
            f"{len(newly_dead)} gave up after {MAX_ATTEMPTS} attempts and need a person "
            f"({_by_category(newly_dead)})"
        )
    lines = [f":bar_chart: billing-sync{_cycle_name(report)} cycle: " + "; ".join(parts) + "."]
    if open_kinds:
        by_category: Counter[str] = Counter()
        for (category, _code), n in open_kinds.items():
            by_category[category] += n
        lines.append(f"Open now: {open_kinds.total()} ({_counted(by_category)}).")
    lines.append(" · ".join(f"{k} {v}" for k, v in _counters(report)))
    lines.append(f"To triage, {LIST_VIEW_TEXT}.")
    return "\n".join(lines)


def _cycle_name(report: CycleReport) -> str:
    name = f" {_esc(report.kind)}"
    return f"{name} (dry run)" if report.dry_run else name


def _counters(report: CycleReport) -> list[tuple[str, int]]:
    return [
        ("accounts read", report.accounts_read),
        ("accounts changed", report.accounts_changed),
        ("subscriptions changed", report.subscriptions_changed),
        ("records written", report.written),
        ("deferred", report.deferred),
        ("resolved", report.resolved),
    ]


def _by_category(rows: Iterable[FailureRow]) -> str:
    return _counted(Counter(str(r.category) for r in rows))


def _counted(counts: Counter[str]) -> str:
    return ", ".join(f"{_esc(c)} {n}" for c, n in sorted(counts.items(), key=lambda x: -x[1]))


def _human(message: str) -> str:
    text = " ".join(scrub_text(message).split())
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1].rstrip() + "…"
    return _esc(text)


def _esc(text: str | None) -> str:
    # Slack mrkdwn control characters; escaping also defuses <!channel> style mentions.
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
