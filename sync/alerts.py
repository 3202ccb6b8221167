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
- a cycle stopped by a whole-call failure (``failed_cycle``) always alerts, but the same stop
  message at most once per ``STOP_REPEAT``.
A Slack failure (network, 4xx/5xx, ``ok: false``) is logged and swallowed: alerting never
breaks a cycle, and after the first failed message the cycle sends no more (undelivered kind
and stop messages stay pending; a lost digest is not resent, the next one shows the open
totals). Messages carry category, code, counts, a customer id and the human message
(scrubbed, truncated); never payloads, tokens or card data.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from .redact import scrub_text
from .retry import MAX_ATTEMPTS
from .store import FailureRow, StateStore

__all__ = [
    "Alerter",
    "NullAlerter",
    "SlackBotAlerter",
    "SlackWebhookAlerter",
    "alert_cycle",
]

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 300  # characters of a failure's human message shown in Slack
MAX_KIND_MESSAGES = 5
STOP_REPEAT = timedelta(hours=1)
LIST_VIEW_TEXT = "open the 'Open sync errors' list view in Salesforce"


class Alerter(Protocol):
    def send(self, text: str, *, blocks: list | None = None) -> bool | None:
        """Post one message. Must not raise; False means it was not delivered."""
        ...


class NullAlerter:
    """Slack is not configured: alerts go nowhere (and stay pending in the store)."""

    def send(self, text: str, *, blocks: list | None = None) -> bool:
        return False

    def __repr__(self) -> str:
        return "NullAlerter()"


class SlackWebhookAlerter:
    """Posts to a Slack incoming webhook. The URL is a secret: never logged or shown."""

    def __init__(self, url: str, *, timeout: int = 10):
        self._client = WebhookClient(url=url, timeout=timeout)

    def send(self, text: str, *, blocks: list | None = None) -> bool:
        try:
            resp = self._client.send(text=text, blocks=blocks)
        except Exception as exc:  # alerting must never break a cycle, whatever went wrong
            log.warning("Slack alert not delivered (webhook): %s", type(exc).__name__)
            return False
        if resp.status_code != 200:
            # The body is Slack's short reason ("invalid_payload", "no_service", ...).
            log.warning(
                "Slack alert not delivered (webhook): HTTP %s %s",
                resp.status_code, scrub_text(str(resp.body))[:100],
            )
            return False
        return True

    def __repr__(self) -> str:
        return "SlackWebhookAlerter(url='***')"


class SlackBotAlerter:
    """Posts with a bot token through chat.postMessage to one channel."""

    def __init__(
        self, token: str, channel: str, *, base_url: str | None = None, timeout: int = 10
    ):
        self.channel = channel
        kwargs: dict[str, Any] = {"token": token, "timeout": timeout}
        if base_url:
            kwargs["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
        self._client = WebClient(**kwargs)

    def send(self, text: str, *, blocks: list | None = None) -> bool:
        try:
            self._client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)
        except Exception as exc:  # alerting must never break a cycle, whatever went wrong
            response = getattr(exc, "response", None)
            detail = ""
            if response is not None:
                data = getattr(response, "data", None)
                error = data.get("error") if isinstance(data, dict) else None
                detail = f" HTTP {getattr(response, 'status_code', '?')} {error or ''}"
            log.warning("Slack alert not delivered (bot): %s%s", type(exc).__name__, detail)
            return False
        return True

    def __repr__(self) -> str:
        return f"SlackBotAlerter(token='***', channel={self.channel!r})"


def alert_cycle(
    alerter: Alerter,
    store: StateStore,
    *,
    new_failures: list[FailureRow],
    summary: dict,
    failed_cycle: str | None = None,
    now: datetime | None = None,
) -> int:
    """Send this cycle's alerts under the policy above; returns the messages delivered.

    ``new_failures``: rows ``record_failure`` returned this cycle (passing all of them is fine:
    only ``is_new`` rows count as new). ``summary``: the cycle's report; read are ``kind``
    (e.g. "full"), ``dry_run``, ``counts`` (a dict of int counters; the summary's own int
    values when absent) and ``open_errors_url`` (turns the list-view hint into a link).
    """
    now = now or datetime.now(UTC)
    courier = _Courier(alerter)
    sent = 0
    stop_rows: list[FailureRow] = []
    if failed_cycle:
        # The cycle may also have recorded the stop as a failure; the stop message is that
        # failure's announcement, so it gets no kind message and no digest line of its own.
        stop_text = scrub_text(failed_cycle)
        stop_rows = [r for r in new_failures if r.message == stop_text]
        delivered, handled = _alert_stop(courier, store, failed_cycle, summary, now)
        sent += delivered
        if handled:
            for kind in {r.kind for r in stop_rows}:
                store.mark_alerted(kind, now=now)

    stop_fps = {r.fingerprint for r in stop_rows}
    rows = [r for r in new_failures if r.fingerprint not in stop_fps]
    open_rows = store.open_failures()
    fresh = [r for r in rows if r.is_new]
    sent += _alert_kinds(courier, store, fresh, open_rows, now)

    newly_dead = [r for r in rows if r.status == "dead" and r.attempts == MAX_ATTEMPTS]
    if fresh or newly_dead:
        text = _digest_text(fresh, newly_dead, open_rows, summary)
        sent += int(courier.deliver(text))
    return sent


# ---------------------------------------------------------------------- policy parts


def _alert_stop(
    courier: _Courier, store: StateStore, message: str, summary: Mapping, now: datetime
) -> tuple[int, bool]:
    """(messages delivered, whether Slack has heard of this stop within the hour)."""
    key = "stop:" + hashlib.sha256(message.encode()).hexdigest()[:32]
    last = store.alert_sent_at(key)
    if last is not None and now - last < STOP_REPEAT:
        return 0, True
    text = (
        f":octagonal_sign: billing-sync stopped the{_cycle_name(summary)} cycle: "
        f"{_human(message)}\nThe next cycle tries again; this alert repeats at most hourly."
    )
    if not courier.deliver(text):
        return 0, False
    store.mark_alert_sent(key, now=now)
    return 1, True


def _alert_kinds(
    courier: _Courier,
    store: StateStore,
    fresh: list[FailureRow],
    open_rows: list[FailureRow],
    now: datetime,
) -> int:
    # The example shown for a kind is the cycle's own freshest row when there is one.
    examples: dict[tuple[str, str], FailureRow] = {}
    for row in [*fresh, *open_rows]:
        examples.setdefault(row.kind, row)
    counts = Counter(r.kind for r in open_rows)
    alerted = store.alerted_kinds()
    pending = sorted(
        (k for k in examples if k not in alerted), key=lambda k: (-counts[k], k)
    )
    if not pending:
        return 0
    if len(pending) <= MAX_KIND_MESSAGES:
        singles, rest = pending, []
    else:
        singles, rest = pending[: MAX_KIND_MESSAGES - 1], pending[MAX_KIND_MESSAGES - 1 :]
    sent = 0
    for kind in singles:
        if courier.deliver(_kind_text(kind, examples[kind], max(counts[kind], 1))):
            store.mark_alerted(kind, now=now)
            sent += 1
    if rest and courier.deliver(_more_kinds_text(rest, counts)):
        for kind in rest:
            store.mark_alerted(kind, now=now)
        sent += 1
    return sent


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
    who = f" Example, customer `{_esc(example.customer_id)}`:" if example.customer_id else (
        " Example:"
    )
    return (
        f":warning: New billing-sync failure: *{_esc(category)}* `{_esc(code or '-')}` "
        f"({_plural(count, 'open failure')}).{who} {_human(example.message)}\n"
        f"To triage, {LIST_VIEW_TEXT}."
    )


def _more_kinds_text(kinds: list[tuple[str, str]], counts: Counter) -> str:
    shown = ", ".join(
        f"*{_esc(c)}* `{_esc(code or '-')}` ({max(counts[(c, code)], 1)})"
        for c, code in kinds[:10]
    )
    more = f" and {len(kinds) - 10} more" if len(kinds) > 10 else ""
    return (
        f":warning: {len(kinds)} more new billing-sync failure kinds: {shown}{more}.\n"
        f"To triage, {LIST_VIEW_TEXT}."
    )


def _digest_text(
    fresh: list[FailureRow],
    newly_dead: list[FailureRow],
    open_rows: list[FailureRow],
    summary: Mapping,
) -> str:
    parts = []
    if fresh:
        parts.append(f"{_plural(len(fresh), 'new failure')} ({_by_category(fresh)})")
    if newly_dead:
        parts.append(
            f"{len(newly_dead)} gave up after {MAX_ATTEMPTS} attempts and need a person "
            f"({_by_category(newly_dead)})"
        )
    lines = [f":bar_chart: billing-sync{_cycle_name(summary)} cycle: " + "; ".join(parts) + "."]
    if open_rows:
        lines.append(f"Open now: {len(open_rows)} ({_by_category(open_rows)}).")
    counters = _counters(summary)
    if counters:
        lines.append(" · ".join(f"{_esc(k)} {v}" for k, v in counters))
    url = summary.get("open_errors_url")
    hint = f"<{url}|{LIST_VIEW_TEXT}>" if url else LIST_VIEW_TEXT
    lines.append(f"To triage, {hint}.")
    return "\n".join(lines)


def _cycle_name(summary: Mapping) -> str:
    kind = summary.get("kind")
    name = f" {_esc(str(kind))}" if kind else ""
    return f"{name} (dry run)" if summary.get("dry_run") else name


def _counters(summary: Mapping) -> list[tuple[str, int]]:
    source = summary.get("counts")
    if not isinstance(source, Mapping):
        source = summary
    items = [
        (str(k), v) for k, v in source.items()
        if isinstance(v, int) and not isinstance(v, bool)
    ]
    return items[:8]


def _by_category(rows: Iterable[FailureRow]) -> str:
    counts = Counter(r.category for r in rows)
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
