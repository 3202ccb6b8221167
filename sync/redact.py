"""Redaction of secrets and card data from everything billing-sync stores and shows.

One redactor, one mask. Log lines, printed output, failure payloads and messages (before they
reach SQLite, Sync_Error__c or Slack) pass through a ``Redactor``: the secret values it was
told about (the configured keys and tokens) are masked wherever they appear, keys whose words
name a credential are masked whole, and string values shaped like a key, token, session id,
private key or a Luhn-valid card number are masked wherever they sit.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "Redactor", "scrub_payload", "scrub_text"]

REDACTED = "***"
# Shorter values would mask ordinary words; no real secret is this short.
MIN_SECRET_LENGTH = 4

# Words that, anywhere in a key, mean its value is a credential or card data.
_SECRET_WORDS = frozenset(
    {
        "token",
        "tokens",
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "pwd",
        "passphrase",
        "key",
        "keys",
        "apikey",
        "credential",
        "credentials",
        "authorization",
        "cookie",
        "cookies",
        "cvc",
        "cvv",
        "pin",
    }
)
# Whole keys (lower case, separators removed) that are secret though no single word says so.
_SECRET_NAMES = frozenset({"sessionid", "sid", "card", "cardnumber", "pan", "setcookie"})
# Keys with a secret-sounding word that hold no secret.
_SAFE_NAMES = frozenset({"lookupkey"})

_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

_SECRET_VALUE_RES = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b(?:sk|rk)_(?:live|test)_\w{6,}"),  # Stripe secret/restricted
    re.compile(r"\bwhsec_\w{6,}"),  # Stripe webhook signing secret
    re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{6,}"),  # Slack tokens
    re.compile(r"https://hooks\.slack\.com/\S+"),  # Slack webhook URLs carry their secret
    re.compile(r"\beyJ[0-9A-Za-z_-]{4,}\.eyJ[0-9A-Za-z_-]{4,}\.[0-9A-Za-z_-]*"),  # JWTs
    re.compile(r"\b00D[0-9A-Za-z]{12,15}![0-9A-Za-z._]{16,}"),  # Salesforce session ids
    re.compile(r"(?i)(?<=bearer )[0-9A-Za-z._~+/=!-]{8,}"),
)
# Brand-prefixed (2-6) runs of 13-19 digits, optionally grouped by spaces or dashes;
# confirmed with the Luhn check before redacting, so ids and amounts survive.
_CARD_RE = re.compile(r"(?<![\w-])[2-6](?:[ -]?\d){12,18}(?![\w-])")


def _is_secret_key(key: str) -> bool:
    flat = re.sub(r"[^0-9a-z]", "", key.lower())
    if flat in _SAFE_NAMES:
        return False
    if flat in _SECRET_NAMES:
        return True
    return any(w.lower() in _SECRET_WORDS for w in _WORD_RE.findall(key))


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _scrub_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return REDACTED if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)


class Redactor:
    """Masks known secret values and anything shaped like a secret."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._known: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        known = set(self._known) | {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is masked whole.
        self._known = sorted(known, key=len, reverse=True)

    def text(self, text: str) -> str:
        """``text`` with known secrets, credential-shaped values and card numbers masked."""
        for secret in self._known:
            text = text.replace(secret, REDACTED)
        for pattern in _SECRET_VALUE_RES:
            text = pattern.sub(REDACTED, text)
        return _CARD_RE.sub(_scrub_card, text)

    def payload(self, value: Any) -> Any:
        """A JSON-ready copy of ``value`` with secret-named keys and secret-shaped strings
        masked (dataclasses become dicts)."""
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if isinstance(value, Mapping):
            return {
                str(k): REDACTED if _is_secret_key(str(k)) else self.payload(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.payload(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value


_PATTERNS_ONLY = Redactor()


def scrub_text(text: str) -> str:
    """``text`` with anything shaped like a credential or a card number masked."""
    return _PATTERNS_ONLY.text(text)


def scrub_payload(value: Any) -> Any:
    """``value`` with secret-named keys and secret-shaped strings masked."""
    return _PATTERNS_ONLY.payload(value)
