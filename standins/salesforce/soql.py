"""SOQL: a recursive-descent parser (over soql_lexer's tokens) for the subset the stand-in runs.

Supported: field lists with parent paths (``Account__r.Name``), ``COUNT()``, ``WHERE`` with
``= != <> < > <= >= IN, NOT IN, LIKE``, ``AND OR NOT`` and parentheses, literals (null, true,
false, numbers, 'strings' with escapes, date and datetime), ``ORDER BY ... ASC|DESC NULLS
FIRST|LAST``, ``LIMIT``, ``OFFSET``. Everything else is refused with MALFORMED_QUERY, naming the
construct, instead of being half-understood.
"""

from __future__ import annotations

from dataclasses import dataclass

from .soql_lexer import SoqlError, Token, error_message, tokenize

__all__ = [
    "BoolOp",
    "Compare",
    "FieldRef",
    "Literal",
    "Not",
    "OrderItem",
    "Select",
    "SoqlError",
    "error_message",
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
