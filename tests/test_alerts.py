"""Slack alerts: one per new failure kind plus a digest, never spam, never a broken cycle."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest

from metadata.schema import Category
from standins.slack import SlackStandIn
from sync.alerts import MAX_KIND_MESSAGES, MESSAGE_LIMIT, alert_cycle
from sync.core.failures import Failure
from sync.report import CycleReport
from sync.retry import MAX_ATTEMPTS
from sync.slack import NullAlerter, SlackBotAlerter, SlackWebhookAlerter
from sync.store import StateStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEBHOOK_PATH = "/services/T/B/X"
BOT_TOKEN = "xoxb-fake-0000-test-token"
LIST_VIEW = "open the 'Open sync errors' list view in Salesforce"


@pytest.fixture
def slack():
    standin = SlackStandIn()
    yield standin
    standin.close()


@pytest.fixture
def webhook(slack):
    return SlackWebhookAlerter(f"http://127.0.0.1:{slack.port}{WEBHOOK_PATH}", timeout=5)


@pytest.fixture
def store(tmp_path):
    with StateStore(tmp_path / "state.db", rand=lambda: 1.0) as s:
        yield s


class _Pinned(Failure):
    # These tests name failures; the store keys them by fingerprint, so pin it to the name.
    @property
    def fingerprint(self) -> str:
        return self.subject


def failure(fp, *, code="STRING_TOO_LONG", category="Salesforce Write", customer="cus_A",
            message="Plan name is longer than 255 characters", payload=None):
    return _Pinned(Category(category), code, message, fp, f"001{fp}", customer,
                   payload or {"Plan__c": "Gold"})


def fail(store, fp, *, now=T0, **kwargs):
    return store.record(failure(fp, **kwargs), now=now)


def report(recorded=(), *, stop=None, kind="full", **counts):
    """The cycle's report as the cycle fills it: the rows it recorded, what stopped it."""
    out = CycleReport(kind=kind, started=T0, **counts)
    out.recorded = list(recorded)
    out.stop = stop
    return out


def stop(message, code="invalid_grant", category="Configuration"):
    return Failure(Category(category), code, message, "cycle")


def test_one_message_per_new_kind_plus_one_digest(store, webhook, slack):
    rows = [fail(store, "a1"), fail(store, "a2", customer="cus_B"),
            fail(store, "m1", category="Matching", code="DUPLICATE_ID", customer="cus_C",
                 message="cus_C is on two Accounts")]
    assert alert_cycle(webhook, store, report(rows, accounts_changed=7), now=T0) == 3
    assert all(p["path"] == WEBHOOK_PATH for p in slack.posts)
    kind_a, kind_m, digest = slack.texts
    assert "*Salesforce Write* `STRING_TOO_LONG`" in kind_a and "2 open failures" in kind_a
    assert "cus_A" in kind_a and "longer than 255 characters" in kind_a and LIST_VIEW in kind_a
    assert "*Matching* `DUPLICATE_ID`" in kind_m and "cus_C is on two Accounts" in kind_m
    assert "full cycle: 3 new failures (Salesforce Write 2, Matching 1)" in digest
    assert "accounts changed 7" in digest and LIST_VIEW in digest
    assert slack.posts[0]["body"]["blocks"][0]["text"]["text"] == kind_a
    assert store.alerted_kinds() == {("Salesforce Write", "STRING_TOO_LONG"),
                                     ("Matching", "DUPLICATE_ID")}


def test_a_failure_seen_again_does_not_alert_again(store, webhook, slack):
    alert_cycle(webhook, store, report([fail(store, "a1")]), now=T0)
    sent_before = len(slack.posts)
    later = T0 + timedelta(minutes=5)
    again = [fail(store, "a1", now=later)]
    assert alert_cycle(webhook, store, report(again), now=later) == 0
    # A new record of an already announced kind: the digest only, no second kind message.
    more = [fail(store, "a2", now=later)]
    assert alert_cycle(webhook, store, report(more), now=later) == 1
    assert len(slack.posts) == sent_before + 1
    assert "1 new failure (Salesforce Write 1)" in slack.texts[-1]


def test_kind_alerts_again_once_all_its_failures_resolved(store, webhook, slack):
    alert_cycle(webhook, store, report([fail(store, "a1"), fail(store, "a2")]), now=T0)
    store.resolve("a1", now=T0)
    alert_cycle(webhook, store, report([fail(store, "a3")]), now=T0)
    assert not any("New billing-sync failure" in t for t in slack.texts[2:])
    store.resolve("a2", now=T0)
    store.resolve("a3", now=T0)
    assert alert_cycle(webhook, store, report([fail(store, "a1")]),
                       now=T0) == 2
    assert "New billing-sync failure" in slack.texts[-2]


def test_a_quiet_cycle_sends_nothing(store, webhook, slack):
    assert alert_cycle(webhook, store, report([], accounts_changed=12), now=T0) == 0
    assert slack.posts == []


def test_a_new_dead_letter_is_reported_once_in_a_digest(store, webhook, slack):
    alert_cycle(webhook, store, report([fail(store, "a1")]), now=T0)
    n = len(slack.posts)
    for i in range(1, MAX_ATTEMPTS):
        row = fail(store, "a1", now=T0 + timedelta(hours=i))
        alert_cycle(webhook, store, report([row]), now=row.last_seen)
    assert row.status == "dead"
    assert len(slack.posts) == n + 1
    assert f"1 gave up after {MAX_ATTEMPTS} attempts" in slack.texts[-1]
    row = fail(store, "a1", now=T0 + timedelta(days=1))
    assert alert_cycle(webhook, store, report([row]), now=T0) == 0


def test_many_new_kinds_are_capped(store, webhook, slack):
    rows = [fail(store, f"k{i}", code=f"CODE_{i}") for i in range(8)]
    sent = alert_cycle(webhook, store, report(rows), now=T0)
    assert sent == MAX_KIND_MESSAGES + 1  # capped kind messages + the digest
    combined = slack.texts[MAX_KIND_MESSAGES - 1]
    assert combined.startswith(":warning: 4 more new billing-sync failure kinds")
    assert len(store.alerted_kinds()) == 8


def test_stop_message_alerts_at_most_hourly(store, webhook, slack):
    msg = "Salesforce rejected the credentials: invalid_grant"
    kind = "incremental"
    assert alert_cycle(webhook, store, report(stop=stop(msg), kind=kind), now=T0) == 1
    assert "stopped the incremental cycle" in slack.texts[0] and "invalid_grant" in slack.texts[0]
    for minutes in (5, 59):
        assert alert_cycle(webhook, store, report(stop=stop(msg), kind=kind),
                           now=T0 + timedelta(minutes=minutes)) == 0
    daily = stop("Daily API limit reached", "REQUEST_LIMIT_EXCEEDED", "Limits")
    assert alert_cycle(webhook, store, report(stop=daily, kind=kind),
                       now=T0) == 1
    assert alert_cycle(webhook, store, report(stop=stop(msg), kind=kind),
                       now=T0 + timedelta(minutes=61)) == 1
    assert len(slack.posts) == 3


def test_messages_hold_no_payload_secret_or_mention_and_are_truncated(store, webhook, slack):
    long = "<!channel> Validation failed for sk_test_fake_abcdef123456: " + "x" * 1000
    row = fail(store, "v", category="Validation", code="MULTI_CURRENCY", message=long,
               payload={"Plan__c": "Platinum-PAYLOAD-MARKER", "card_last4": "4242"})
    alert_cycle(webhook, store, report([row]), now=T0)
    text = slack.texts[0]
    assert "PAYLOAD-MARKER" not in text and "sk_test_fake" not in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    shown = text.split("Example, customer `cus_A`: ")[1].split("\n")[0]
    assert len(shown) <= MESSAGE_LIMIT + len("&lt;&gt;") * 2 and shown.endswith("…")


def test_a_stop_recorded_as_a_failure_is_announced_once(store, webhook, slack):
    # The cycle records the stop as a failure too; Slack hears about it in one message.
    msg = "Salesforce login (jwt) was refused: invalid_grant: user hasn't approved this app"
    row = fail(store, "stop", category="Configuration", code="invalid_grant", message=msg,
               customer=None)
    the_stop = failure("stop", category="Configuration", code="invalid_grant", message=msg,
                       customer=None)
    assert alert_cycle(webhook, store, report([row], stop=the_stop), now=T0) == 1
    assert "stopped the full cycle" in slack.texts[0]
    store.resolve("stop", now=T0 + timedelta(minutes=5))  # the next cycle ran fine
    again = fail(store, "stop", category="Configuration", code="invalid_grant", message=msg,
                 customer=None, now=T0 + timedelta(minutes=10))
    assert again.is_new
    assert alert_cycle(webhook, store, report([again], stop=the_stop),
                       now=T0 + timedelta(minutes=10)) == 0
    assert len(slack.posts) == 1


def test_slack_500_is_swallowed_and_the_kind_stays_pending(store, webhook, slack, caplog):
    slack.status, slack.body = 500, b"internal_error"
    with caplog.at_level(logging.WARNING):
        assert alert_cycle(webhook, store, report([fail(store, "a1")]),
                           now=T0) == 0
    assert len(slack.posts) == 1  # after one failure the cycle stops trying
    assert "HTTP 500" in caplog.text and WEBHOOK_PATH not in caplog.text
    assert store.alerted_kinds() == set()
    slack.status, slack.body = 200, b"ok"
    later = T0 + timedelta(minutes=5)
    again = [fail(store, "a1", now=later)]
    assert alert_cycle(webhook, store, report(again), now=later) == 1
    assert "New billing-sync failure" in slack.texts[-1]


def test_unreachable_slack_does_not_break_the_cycle(store, webhook, slack, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: connection refused
    alerter = SlackWebhookAlerter(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", timeout=2)
    with caplog.at_level(logging.WARNING):
        down = stop("Stripe is down", "api_error", "Stripe")
        assert alert_cycle(alerter, store, report([fail(store, "a1")], stop=down), now=T0) == 0
    assert "not delivered" in caplog.text
    # Nothing was remembered as sent: once Slack answers, the stop and the kind go out.
    assert alert_cycle(webhook, store, report(stop=stop("Stripe is down", "api_error", "Stripe")),
                       now=T0 + timedelta(minutes=1)) == 2
    assert "Stripe is down" in slack.texts[0] and "STRING_TOO_LONG" in slack.texts[1]


def test_bot_alerter_posts_to_chat_post_message(store, slack):
    slack.body = b'{"ok": true, "ts": "1.2"}'
    bot = SlackBotAlerter(BOT_TOKEN, "#billing-alerts",
                          base_url=f"http://127.0.0.1:{slack.port}/api/")
    assert alert_cycle(bot, store, report([fail(store, "a1")]), now=T0) == 2
    post = slack.posts[0]
    assert post["path"] == "/api/chat.postMessage"
    assert post["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert post["body"]["channel"] == "#billing-alerts"
    assert "STRING_TOO_LONG" in post["body"]["text"]
    assert BOT_TOKEN not in repr(bot)


@pytest.mark.parametrize(("status", "body"), [(200, b'{"ok": false, "error": "channel_not_found"}'),
                                              (500, b"oops")])
def test_bot_alerter_swallows_api_errors(store, slack, caplog, status, body):
    slack.status, slack.body = status, body
    bot = SlackBotAlerter(BOT_TOKEN, "#nope", base_url=f"http://127.0.0.1:{slack.port}/api")
    with caplog.at_level(logging.WARNING):
        assert bot.send("hello") is False
    assert "not delivered" in caplog.text and BOT_TOKEN not in caplog.text


def test_null_alerter_sends_nothing_and_leaves_kinds_pending(store):
    assert alert_cycle(NullAlerter(), store, report([fail(store, "a1")], stop=stop("boom")),
                       now=T0) == 0
    assert store.alerted_kinds() == set()


def test_a_raising_custom_alerter_is_contained(store):
    class Broken:
        def send(self, text, *, blocks=None):
            raise RuntimeError("bug in a custom alerter")

    assert alert_cycle(Broken(), store, report([fail(store, "a1")]),
                       now=T0) == 0


def test_webhook_url_is_not_in_repr():
    alerter = SlackWebhookAlerter("https://hooks.slack.com/services/T0/B0/fakesecret")
    assert "fakesecret" not in repr(alerter)
