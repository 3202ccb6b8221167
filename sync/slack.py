"""Slack adapters for the alerter port: an incoming webhook or a bot token, or nothing.

Sending never raises: a Slack failure (network, 4xx/5xx, ``ok: false``) is logged and
reported as "not delivered", so alerting can never break a cycle. The webhook URL and the bot
token are secrets: never logged or shown.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from .redact import scrub_text

__all__ = ["NullAlerter", "SlackBotAlerter", "SlackWebhookAlerter"]

log = logging.getLogger(__name__)

Blocks = list[dict[str, Any]]


class NullAlerter:
    """Slack is not configured: alerts go nowhere (and stay pending in the store)."""

    def send(self, text: str, *, blocks: Blocks | None = None) -> bool:
        return False

    def __repr__(self) -> str:
        return "NullAlerter()"


class SlackWebhookAlerter:
    """Posts to a Slack incoming webhook. The URL is a secret: never logged or shown."""

    def __init__(self, url: str, *, timeout: int = 10) -> None:
        self._client = WebhookClient(url=url, timeout=timeout)

    def send(self, text: str, *, blocks: Blocks | None = None) -> bool:
        try:
            resp = self._client.send(text=text, blocks=blocks)
        except Exception as exc:  # alerting must never break a cycle, whatever went wrong
            log.warning("Slack alert not delivered (webhook): %s", type(exc).__name__)
            return False
        if resp.status_code != 200:
            # The body is Slack's short reason ("invalid_payload", "no_service", ...).
            log.warning(
                "Slack alert not delivered (webhook): HTTP %s %s",
                resp.status_code,
                scrub_text(str(resp.body))[:100],
            )
            return False
        return True

    def __repr__(self) -> str:
        return "SlackWebhookAlerter(url='***')"


class SlackBotAlerter:
    """Posts with a bot token through chat.postMessage to one channel."""

    def __init__(
        self, token: str, channel: str, *, base_url: str | None = None, timeout: int = 10
    ) -> None:
        self.channel = channel
        kwargs: dict[str, Any] = {"token": token, "timeout": timeout}
        if base_url:
            kwargs["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
        self._client = WebClient(**kwargs)

    def send(self, text: str, *, blocks: Blocks | None = None) -> bool:
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
