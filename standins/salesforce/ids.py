"""Salesforce record ids: 15-character case-sensitive ids plus the 3-character checksum."""

from __future__ import annotations

__all__ = ["IdAllocator", "is_id_shape", "normalize_id", "to18"]

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ALNUM = frozenset(_B62)


def _suffix(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for pos, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << pos
        out.append(_SUFFIX[bits])
    return "".join(out)


def to18(id15: str) -> str:
    return id15 + _suffix(id15)


def is_id_shape(value: str) -> bool:
    return len(value) in (15, 18) and all(ch in _ALNUM for ch in value)


def normalize_id(value: object) -> str | None:
    """The 18-character form of a 15- or 18-character id, or None when it is not an id.

    An 18-character id whose checksum does not match its first 15 characters is not an id
    (Salesforce answers MALFORMED_ID for it).
    """
    if not isinstance(value, str) or not is_id_shape(value):
        return None
    if len(value) == 15:
        return to18(value)
    # Salesforce accepts the checksum in any case; the 15-char body is case-sensitive.
    if _suffix(value[:15]) != value[15:].upper():
        return None
    return value[:15] + value[15:].upper()


class IdAllocator:
    """Sequential ids for one key prefix, e.g. 001 -> 0015g00000000001AAA."""

    def __init__(self, prefix: str) -> None:
        if len(prefix) != 3:
            raise ValueError(f"key prefix must be 3 characters: {prefix!r}")
        self.prefix = prefix
        self._next = 1

    def next(self) -> str:
        n = self._next
        self._next += 1
        digits = []
        while n:
            n, rem = divmod(n, 62)
            digits.append(_B62[rem])
        body = "".join(reversed(digits)).rjust(10, "0")
        return to18(self.prefix + "5g" + body)
