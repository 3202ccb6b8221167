"""SOQL: a tokenizer and a recursive-descent parser for the subset the stand-in runs.

Supported: field lists with parent paths (``Account__r.Name``), ``COUNT()``, ``WHERE`` with
``= != <> < > <= >= IN, NOT IN, LIKE``, ``AND OR NOT`` and parentheses, literals (null, true,
false, numbers, 'strings' with escapes, date and datetime), ``ORDER BY ... ASC|DESC NULLS
FIRST|LAST``, ``LIMIT``, ``OFFSET``. Everything else is refused with MALFORMED_QUERY, naming the
construct, instead of being half-understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "BoolOp",
    "Compare",
    "FieldRef",
    "Literal",
    "Not",
    "OrderItem",
    "Select",
    "SoqlError",
    "parse",
]

KEYWORDS = frozenset(
    """SELECT FROM WHERE AND OR NOT IN LIKE ORDER BY ASC DESC NULLS FIRST LAST LIMIT OFFSET
    NULL TRUE FALSE GROUP HAVING WITH FOR USING INCLUDES EXCLUDES TYPEOF UPDATE VIEW
    REFERENCE ROLLUP CUBE""".split()
)
UNSUPPORTED_CLAUSES = {
    "GROUP": "GROUP BY",
    "HAVING": "HAVING",
    "WITH": "WITH",
    "FOR": "FOR VIEW/REFERENCE/UPDATE",
    "USING": "USING SCOPE",
    "TYPEOF": "TYPEOF",
    "INCLUDES": "INCLUDES",
    "EXCLUDES": "EXCLUDES",
}
NOT_SUPPORTED = "valid SOQL that the local Salesforce stand-in does not support"

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


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Literal:
    kind: str  # string number date datetime boolean null
    value: object
    pos: int
    like_escapes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Compare:
    field: FieldRef
    op: str  # = != < > <= >= IN NOT IN LIKE
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND | OR
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Select:
    fields: tuple[FieldRef, ...]
    count: bool
    sobject: str
    sobject_pos: int
    where: object | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None


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


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "IDENT" and self.tok.upper in words

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            self.unexpected()
        return self.advance()

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            self.unexpected()
        return self.advance()

    def unexpected(self, note: str = "") -> None:
        tok = self.tok
        shown = "<EOF>" if tok.kind == "EOF" else tok.text
        if not note and tok.kind == "IDENT" and tok.upper in UNSUPPORTED_CLAUSES:
            note = f"{UNSUPPORTED_CLAUSES[tok.upper]} is {NOT_SUPPORTED}"
        message = f"unexpected token: {shown}"
        raise SoqlError("MALFORMED_QUERY", f"{message} ({note})" if note else message, tok.pos)

    # select := SELECT fields FROM object [WHERE cond] [ORDER BY ...] [LIMIT n] [OFFSET n]
    def select(self) -> Select:
        self.expect_kw("SELECT")
        count = False
        fields: list[FieldRef] = []
        if self.is_kw("COUNT") and self.peek().kind == "(":
            self.advance()
            self.advance()
            if self.tok.kind != ")":
                self.unexpected(f"COUNT(field) is an aggregate function, {NOT_SUPPORTED}")
            self.advance()
            count = True
            if self.tok.kind == ",":
                self.unexpected()
        else:
            fields.append(self.select_item())
            while self.tok.kind == ",":
                self.advance()
                fields.append(self.select_item())
        self.expect_kw("FROM")
        obj = self.expect("IDENT")
        if obj.upper in KEYWORDS:
            self.i -= 1
            self.unexpected()
        if self.tok.kind == "IDENT" and self.tok.upper not in KEYWORDS:
            self.unexpected(f"object aliases are {NOT_SUPPORTED}")
        if self.tok.kind == ",":
            self.unexpected(f"several objects in FROM are {NOT_SUPPORTED}")
        where = None
        if self.is_kw("WHERE"):
            self.advance()
            where = self.condition()
        order: list[OrderItem] = []
        if self.is_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            order.append(self.order_item())
            while self.tok.kind == ",":
                self.advance()
                order.append(self.order_item())
        limit = offset = None
        if self.is_kw("LIMIT"):
            self.advance()
            limit = self.integer()
        if self.is_kw("OFFSET"):
            self.advance()
            offset = self.integer()
        if self.tok.kind != "EOF":
            self.unexpected()
        return Select(tuple(fields), count, obj.text, obj.pos, where, tuple(order), limit, offset)

    def select_item(self) -> FieldRef:
        if self.tok.kind == "(":
            self.unexpected(f"child relationship subqueries are {NOT_SUPPORTED}")
        if self.is_kw("TYPEOF"):
            self.unexpected()
        if self.tok.kind == "IDENT" and self.peek().kind == "(":
            self.unexpected(f"functions such as {self.tok.text}() are {NOT_SUPPORTED}")
        ref = self.field_path()
        if self.tok.kind == "IDENT" and self.tok.upper not in KEYWORDS:
            self.unexpected(f"field aliases are {NOT_SUPPORTED}")
        return ref

    def field_path(self) -> FieldRef:
        if self.tok.kind == "IDENT" and self.peek().kind == "(":
            self.unexpected(f"functions such as {self.tok.text}() are {NOT_SUPPORTED}")
        first = self.expect("IDENT")
        if first.upper in KEYWORDS:
            self.i -= 1
            self.unexpected()
        parts = [first.text]
        while self.tok.kind == ".":
            self.advance()
            parts.append(self.expect("IDENT").text)
        return FieldRef(tuple(parts), first.pos)

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "NUMBER" or not isinstance(tok.value, int) or tok.value < 0:
            if tok.kind == ":":
                self.unexpected(f"bind variables are {NOT_SUPPORTED}")
            self.unexpected()
        self.advance()
        return int(tok.value)

    # A condition is a chain of one connective; SOQL rejects a AND b OR c without parentheses.
    def condition(self) -> object:
        first = self.unary()
        if not self.is_kw("AND", "OR"):
            return first
        op = self.tok.upper
        items = [first]
        while self.is_kw("AND", "OR"):
            if self.tok.upper != op:
                self.unexpected()
            self.advance()
            items.append(self.unary())
        return BoolOp(op, tuple(items))

    def unary(self) -> object:
        if self.is_kw("NOT"):
            self.advance()
            return Not(self.unary())
        if self.tok.kind == "(":
            self.advance()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Compare:
        ref = self.field_path()
        tok = self.tok
        if tok.kind == "OP":
            self.advance()
            op = "!=" if tok.text == "<>" else tok.text
            return Compare(ref, op, self.literal())
        if self.is_kw("LIKE"):
            self.advance()
            return Compare(ref, "LIKE", self.literal())
        if self.is_kw("IN"):
            self.advance()
            return Compare(ref, "IN", self.literal_list())
        if self.is_kw("NOT") and self.peek().kind == "IDENT" and self.peek().upper == "IN":
            self.advance()
            self.advance()
            return Compare(ref, "NOT IN", self.literal_list())
        self.unexpected()
        raise AssertionError  # unreachable

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect("(")
        if self.is_kw("SELECT"):
            self.unexpected(f"semi-join subqueries are {NOT_SUPPORTED}")
        items = [self.literal()]
        while self.tok.kind == ",":
            self.advance()
            items.append(self.literal())
        self.expect(")")
        return tuple(items)

    def literal(self) -> Literal:
        tok = self.tok
        kinds = {"STRING": "string", "NUMBER": "number", "DATE": "date", "DATETIME": "datetime"}
        if tok.kind in kinds:
            self.advance()
            return Literal(kinds[tok.kind], tok.value, tok.pos, tok.like_escapes)
        if tok.kind == "IDENT":
            word = tok.upper
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Literal("boolean", word == "TRUE", tok.pos)
            if word == "NULL":
                self.advance()
                return Literal("null", None, tok.pos)
            if word not in KEYWORDS:
                self.unexpected(f"date literals such as {tok.text} are {NOT_SUPPORTED}")
        if tok.kind == ":":
            self.unexpected(f"bind variables are {NOT_SUPPORTED}")
        if tok.kind == "(":
            self.unexpected()
        self.unexpected()
        raise AssertionError  # unreachable

    def order_item(self) -> OrderItem:
        ref = self.field_path()
        descending = False
        if self.is_kw("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        nulls_last = descending  # Salesforce: ASC puts nulls first, DESC puts them last
        if self.is_kw("NULLS"):
            self.advance()
            if not self.is_kw("FIRST", "LAST"):
                self.unexpected()
            nulls_last = self.advance().upper == "LAST"
        return OrderItem(ref, descending, nulls_last)


def parse(text: str) -> Select:
    return _Parser(text).select()


def error_message(query: str, pos: int, message: str) -> str:
    """Salesforce's layout: the query line, a caret under the spot, row and column."""
    before = query[:pos]
    row = before.count("\n") + 1
    line_start = before.rfind("\n") + 1
    line_end = query.find("\n", pos)
    line = query[line_start : line_end if line_end != -1 else len(query)]
    column = pos - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{message}"
