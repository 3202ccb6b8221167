"""What a pass keeps about failures lives on disk: the ledger, and the store's lookups that
serve one slice (or one page of the queue) at a time instead of the whole queue."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from metadata.schema import Category
from sync.core.failures import Failure, FailureState
from sync.ports import EXAMINED, SEEN, STILL
from sync.store import StateStore
from tests.test_store import T0, fail, failure


@pytest.fixture
def store(tmp_path):
    with StateStore(tmp_path / "state.db", rand=lambda: 1.0) as s:
        yield s


def test_the_ledger_keeps_marks_apart_by_kind(store):
    ledger = store.pass_ledger()
    ledger.mark(EXAMINED, ["a", "b"])
    ledger.mark(STILL, ["b"])
    ledger.mark(EXAMINED, ["a"])  # marking twice is harmless
    assert ledger.marked(EXAMINED, ["a", "b", "c"]) == {"a", "b"}
    assert ledger.marked(STILL, ["a", "b", "c"]) == {"b"}
    assert ledger.marked(SEEN, ["a", "b"]) == set()
    with pytest.raises(ValueError, match="no such mark"):
        ledger.mark("other", ["a"])
    ledger.close()


def test_marked_looks_up_more_values_than_one_statement_takes(store):
    ledger = store.pass_ledger()
    many = [f"fp-{i:05d}" for i in range(1_200)]
    ledger.mark(SEEN, many[::2])
    assert ledger.marked(SEEN, many) == set(many[::2])
    ledger.close()


def test_failures_come_back_in_order_a_page_at_a_time_and_only_once(store):
    ledger = store.pass_ledger()
    first = [failure(f"fp-{i}") for i in range(5)]
    ledger.add(first)
    ledger.add([])
    assert ledger.pending == 5
    pages = list(ledger.drain(page=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [f for p in pages for f in p] == first
    assert ledger.pending == 0 and list(ledger.drain()) == []
    later = Failure(Category.VALIDATION, "MIXED_CURRENCY", "two currencies", "001B", "001B")
    ledger.add([later])
    assert list(ledger.drain()) == [[later]]
    ledger.close()


def test_open_failures_are_looked_up_by_subject_account_or_fingerprint(store):
    fail(store, "fp-1", account="001A")
    fail(store, "fp-2", account="001B")
    fail(store, "fp-3", account="001B")
    store.resolve("fp-3", now=T0)
    assert [r.fingerprint for r in store.open_failures_where("account_id", ["001B"])] == ["fp-2"]
    assert [r.fingerprint for r in store.open_failures_where("subject", ["fp-1", "x"])] == ["fp-1"]
    found = store.open_failures_where("fingerprint", iter(["fp-2", "fp-3"]))
    assert [r.fingerprint for r in found] == ["fp-2"]
    with pytest.raises(ValueError, match="not looked up by"):
        store.open_failures_where("message; DROP TABLE failures", ["x"])


def test_a_lookup_of_more_values_than_one_statement_takes(store):
    for i in range(3):
        fail(store, f"fp-{i}")
    wanted = [f"nope-{i}" for i in range(1_100)] + ["fp-2", "fp-0"]
    assert [r.fingerprint for r in store.open_failures_where("fingerprint", wanted)] == [
        "fp-0",
        "fp-2",
    ]


def test_the_open_queue_is_walked_a_page_at_a_time(store):
    for i in range(7):
        fail(store, f"fp-{i}")
    store.resolve("fp-3", now=T0)
    pages = list(store.iter_open_failures(page=3))
    assert [len(p) for p in pages] == [3, 3]
    assert [r.fingerprint for p in pages for r in p] == [f"fp-{i}" for i in (0, 1, 2, 4, 5, 6)]
    assert list(store.iter_open_failures(page=6))[-1][-1].fingerprint == "fp-6"


def test_record_news_writes_only_what_the_file_does_not_know(store):
    """The same rule as the cycle always applied: a failed write inside its backoff, or a
    data problem seen again, is not rewritten."""
    [row] = store.record_news([failure("fp-1")], now=T0)
    assert row.is_new and row.attempts == 1
    assert store.record_news([failure("fp-1")], now=T0 + timedelta(seconds=5)) == []
    later = T0 + timedelta(hours=2)  # past the first backoff
    [again] = store.record_news(iter([failure("fp-1")]), now=later)
    assert again.attempts == 2 and not again.is_new
    data = Failure(Category.VALIDATION, "MIXED_CURRENCY", "mixed", "001B", "001B", attempted=False)
    assert len(store.record_news([data], now=T0)) == 1
    assert store.record_news([data], now=later) == []
    assert store.failure(data.fingerprint).status == FailureState.OPEN


def test_open_kinds_count_the_queue_and_first_open_names_the_oldest(store):
    fail(store, "fp-1", now=T0 + timedelta(minutes=1))
    fail(store, "fp-2", now=T0)
    fail(store, "fp-3", code="INVALID_FIELD", now=T0)
    fail(store, "fp-4", code="INVALID_FIELD", now=T0)
    store.resolve("fp-4", now=T0)
    assert store.open_kinds() == {
        ("Salesforce Write", "STRING_TOO_LONG"): 2,
        ("Salesforce Write", "INVALID_FIELD"): 1,
    }
    assert store.open_kinds(exclude="fp-3") == {("Salesforce Write", "STRING_TOO_LONG"): 2}
    kind = ("Salesforce Write", "STRING_TOO_LONG")
    assert store.first_open(kind).fingerprint == "fp-2"
    assert store.first_open(kind, exclude="fp-2").fingerprint == "fp-1"
    assert store.first_open(("Salesforce Write", "INVALID_FIELD"), exclude="fp-3") is None


def test_the_failures_account_column_is_indexed(store):
    with sqlite3.connect(store.path) as raw:
        plan = raw.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM failures WHERE account_id IN ('001A')"
        ).fetchall()
    assert "idx_failures_account" in " ".join(str(p) for p in plan)


def test_the_catalog_index_is_replaced_per_customer_writing_only_what_changed(store):
    store.index_catalog({"cus_A": ["price_1", "prod_1"], "cus_B": ["price_2"]})
    store.index_catalog({"cus_A": ["price_1", "price_3"], "cus_B": []})
    assert store.customers_using(["prod_1", "price_2"]) == set()
    assert store.customers_using(["price_3"]) == {"cus_A"}
    before = store.db.conn.total_changes
    store.index_catalog({"cus_A": ["price_3", "price_1"]})
    assert store.db.conn.total_changes == before  # unchanged: nothing written


def test_links_are_written_only_where_they_moved(store):
    store.set_links({"001A": "cus_A", "001B": "cus_B"})
    store.set_links({"001A": "cus_X", "001B": None, "001C": None})
    assert store.links(["001A", "001B", "001C"]) == {"001A": "cus_X"}
    before = store.db.conn.total_changes
    store.set_links({"001A": "cus_X", "001C": None})
    assert store.db.conn.total_changes == before


def test_unmirrored_rows_are_walked_a_page_at_a_time_once_each(store):
    """The mirror marks each page as it goes; a row Salesforce refused stays unmirrored, and
    the walk still ends (it goes by fingerprint, not by what is left)."""
    for i in range(5):
        fail(store, f"fp-{i}")
    seen = []
    for page in store.iter_unmirrored(page=2):
        seen += [r.fingerprint for r in page]
        store.mark_mirrored(r.fingerprint for r in page if r.fingerprint != "fp-1")
    assert seen == [f"fp-{i}" for i in range(5)]
    assert [r.fingerprint for r in store.unmirrored()] == ["fp-1"]
