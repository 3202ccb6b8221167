"""The SOQL parser: what it understands, and that it refuses the rest with MALFORMED_QUERY."""

from __future__ import annotations

import pytest

from standins.salesforce.soql import BoolOp, Compare, Not, SoqlError, parse


def test_full_grammar_parses_into_a_tree() -> None:
    q = parse(
        "select Id, Account__r.Name FROM Subscription__c "
        "WHERE (Status__c IN ('active','past_due') OR MRR__c >= 10.5) AND NOT Name LIKE 'x\\_%' "
        "AND Current_Period_End__c < 2026-12-01 AND Last_Synced__c > 2026-11-26T11:17:22Z "
        "AND Plan__c != null AND Id NOT IN ('a0X5g0000000001') "
        "ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 5"
    )
    assert [f.path for f in q.fields] == [("Id",), ("Account__r", "Name")]
    assert q.sobject == "Subscription__c"
    assert isinstance(q.where, BoolOp) and q.where.op == "AND"
    first, second = q.where.items[:2]
    assert isinstance(first, BoolOp) and first.op == "OR"
    assert isinstance(second, Not) and second.item.op == "LIKE"
    assert second.item.value.like_escapes == (1,)
    ops = [c.op for c in q.where.items[2:]]
    assert ops == ["<", ">", "!=", "NOT IN"]
    assert q.where.items[3].value.kind == "datetime"
    assert q.order_by[0].descending and not q.order_by[0].nulls_last
    assert not q.order_by[1].descending and not q.order_by[1].nulls_last
    assert (q.limit, q.offset) == (10, 5)


def test_string_escapes_and_count() -> None:
    q = parse("SELECT COUNT() FROM Account WHERE Name = 'O\\'Brien \\\\ Co'")
    assert q.count
    assert isinstance(q.where, Compare) and q.where.value.value == "O'Brien \\ Co"


@pytest.mark.parametrize(
    "soql, fragment",
    [
        ("SELECT Id FROM Account GROUP BY Name", "GROUP BY"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "subqueries"),
        ("SELECT COUNT(Id) FROM Account", "aggregate"),
        ("SELECT MAX(Amount) FROM Account", "functions"),
        ("SELECT Id FROM Account WHERE CreatedDate = TODAY", "date literals"),
        ("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)", "semi-join"),
        ("SELECT Id FROM Account WHERE Name = :name", "bind variables"),
        ("SELECT Id FROM Account a", "aliases"),
        ("SELECT Id FROM Account WITH SECURITY_ENFORCED", "WITH"),
        ("SELECT Id FROM Account WHERE A = 1 AND B = 2 OR C = 3", "unexpected token: OR"),
        ("SELECT Id FROM", "unexpected token: <EOF>"),
        ("SELECT Id FROM Account WHERE Name = 'open", "<EOF>"),
        ("SELECT Id FROM Account LIMIT -1", "unexpected token"),
        ("SELECT Id FROM Account WHERE Name = 'a\\q'", "Illegal character sequence"),
    ],
)
def test_unsupported_or_wrong_soql_is_malformed(soql: str, fragment: str) -> None:
    with pytest.raises(SoqlError) as info:
        parse(soql)
    assert info.value.code == "MALFORMED_QUERY"
    assert fragment in info.value.message
