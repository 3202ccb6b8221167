"""SOQL tokens: the tokenizer, string-literal escapes, and Salesforce's error layout."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SoqlError", "Token", "error_message", "tokenize"]

_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\d:T])")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b",
            "f": "\f"}


class SoqlError(Exception):
    def __init__(self, code: str, message: str, pos: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.pos = pos


@dataclass(frozen=True)
class Token:
    kind: str  # IDENT STRING NUMBER DATE DATETIME OP ( ) , . : EOF
    text: str
    pos: int
    value: object = None
    like_escapes: tuple[int, ...] = ()  # positions in value of escaped % and _

    @property
    def upper(self) -> str:
        return self.text.upper()



def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "'":
            tokens.append(_string(text, i))
            i = tokens[-1].pos + len(tokens[-1].text)
            continue
        if ch.isdigit() or (ch in "+-." and i + 1 < n and text[i + 1].isdigit()):
            m = _DATETIME.match(text, i) or _DATE.match(text, i)
            if m and ch.isdigit():
                kind = "DATETIME" if "T" in m.group() else "DATE"
                tokens.append(Token(kind, m.group(), i, m.group()))
                i = m.end()
                continue
            m = _NUMBER.match(text, i)
            if m:
                raw = m.group()
                value: object = float(raw) if "." in raw else int(raw)
                tokens.append(Token("NUMBER", raw, i, value))
                i = m.end()
                continue
        m = _IDENT.match(text, i)
        if m:
            tokens.append(Token("IDENT", m.group(), i))
            i = m.end()
            continue
        two = text[i : i + 2]
        if two in ("!=", "<=", ">=", "<>"):
            tokens.append(Token("OP", two, i))
            i += 2
            continue
        if ch in "=<>":
            tokens.append(Token("OP", ch, i))
            i += 1
            continue
        if ch in "(),.:":
            tokens.append(Token(ch, ch, i))
            i += 1
            continue
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{ch}'", i)
    tokens.append(Token("EOF", "", n))
    return tokens


def _string(text: str, start: int) -> Token:
    out: list[str] = []
    like_escapes: list[int] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                break
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in "%_":
                like_escapes.append(len(out))
                out.append(nxt)
            else:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"Invalid string literal '{text[start:i + 2]}'. Illegal character sequence "
                    f"'\\{nxt}' in string literal.",
                    i,
                )
            i += 2
            continue
        if ch == "'":
            return Token("STRING", text[start : i + 1], start, "".join(out), tuple(like_escapes))
        out.append(ch)
        i += 1
    raise SoqlError("MALFORMED_QUERY", "unexpected token: <EOF>", len(text))


def error_message(query: str, pos: int, message: str) -> str:
    """Salesforce's layout: the query line, a caret under the spot, row and column."""
    before = query[:pos]
    row = before.count("\n") + 1
    line_start = before.rfind("\n") + 1
    line_end = query.find("\n", pos)
    line = query[line_start : line_end if line_end != -1 else len(query)]
    column = pos - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{message}"
