"""The Slack stand-in records webhook (JSON) and Web API (form) posts and answers as told."""

from __future__ import annotations

import pytest
import requests

from standins.slack import SlackStandIn


@pytest.fixture
def slack():
    standin = SlackStandIn()
    yield standin
    standin.close()


def test_records_json_and_form_posts(slack) -> None:
    base = f"http://127.0.0.1:{slack.port}"
    r1 = requests.post(base + "/services/T/B/X", json={"text": "hello"}, timeout=5)
    r2 = requests.post(base + "/api/chat.postMessage", data={"channel": "C1", "text": "there"},
                       headers={"Authorization": "Bearer xoxb-fake"}, timeout=5)
    assert (r1.status_code, r1.text) == (200, "ok") and r2.status_code == 200
    assert slack.texts == ["hello", "there"]
    assert [p["path"] for p in slack.posts] == ["/services/T/B/X", "/api/chat.postMessage"]
    assert slack.posts[1]["body"]["channel"] == "C1"
    assert slack.posts[1]["headers"]["Authorization"] == "Bearer xoxb-fake"


def test_answers_with_the_status_and_body_set_mid_test(slack) -> None:
    url = f"http://127.0.0.1:{slack.port}/api/chat.postMessage"
    slack.status, slack.body = 429, b'{"ok": false, "error": "ratelimited"}'
    r = requests.post(url, json={"text": "x"}, timeout=5)
    assert r.status_code == 429 and r.headers["Content-Type"] == "application/json"
    assert r.json() == {"ok": False, "error": "ratelimited"}
    slack.status, slack.body = 500, b"boom"
    r = requests.post(url, json={"text": "y"}, timeout=5)
    assert (r.status_code, r.text, r.headers["Content-Type"]) == (500, "boom", "text/plain")
    assert slack.texts == ["x", "y"]
