"""The benchmark's code path at a small size: the call-count relations `make bench` reports
must already hold at 200 Accounts, and the benchmark must count what the engine reports."""

from __future__ import annotations

import math

import pytest

from tests.bench_cycle import BenchResult, render, run_benchmark

ACCOUNTS = 200
SUBSCRIPTIONS = 240
SAMPLE = 40


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> BenchResult:
    return run_benchmark(tmp_path_factory.mktemp("bench"), accounts=ACCOUNTS,
                         subscriptions=SUBSCRIPTIONS, naive_sample=SAMPLE, sf_latency=0,
                         stripe_latency=0)


def test_first_cycle_calls_are_the_budget_lines(result: BenchResult) -> None:
    first = result.first
    # 1 page each: Accounts, Subscription__c (empty), open Sync_Error__c.
    assert first.sf_counters.get("GET query") == 3
    # Every subscription and Account is written, 200 per sObject Collections call; the
    # failures the seed provokes (mixed currencies) go to Sync_Error__c in their own calls.
    errors = first.budget.error_records
    assert first.written == SUBSCRIPTIONS + ACCOUNTS + errors
    assert first.sf_counters["PATCH composite/sobjects/{type}"] == (
        math.ceil(SUBSCRIPTIONS / 200) + math.ceil(errors / 200))
    assert first.sf_counters["PATCH composite/sobjects"] == math.ceil(ACCOUNTS / 200)
    # One status=all listing of the account, 100 a page, not one listing per customer.
    assert first.stripe_counters["GET /v1/subscriptions"] == math.ceil(SUBSCRIPTIONS / 100)
    assert first.total <= 1.1 * first.budget.total


def test_unchanged_cycle_writes_nothing(result: BenchResult) -> None:
    unchanged = result.unchanged
    assert unchanged.written == 0
    assert set(unchanged.sf_counters) == {"GET query"}
    assert unchanged.total == unchanged.budget.total


def test_changed_cycle_writes_only_the_changes(result: BenchResult) -> None:
    changed = result.cycles[2]
    subs_changed = round(SUBSCRIPTIONS * 0.01)
    # Each changed subscription, plus at most its Account's rollup.
    billing_records = changed.written - changed.budget.error_records
    assert subs_changed <= billing_records <= 2 * subs_changed
    # Subscriptions and Accounts go in separate collection calls (upsert vs update by Id).
    writes = {k: n for k, n in changed.sf_counters.items() if k.startswith("PATCH")}
    assert writes["PATCH composite/sobjects"] == 1
    assert writes["PATCH composite/sobjects/{type}"] == 1 + math.ceil(
        changed.budget.error_records / 200)


def test_engine_report_matches_the_stand_ins(result: BenchResult) -> None:
    for m in result.cycles:
        assert m.reported == {"salesforce": m.salesforce, "stripe": m.stripe}, m.scenario


def test_naive_makes_calls_per_account_and_subscription(result: BenchResult) -> None:
    naive = result.naive_sample
    assert naive.stripe_counters["GET /v1/subscriptions"] == SAMPLE
    assert naive.sf_counters["PATCH sobjects/{type}/{id}"] == SAMPLE
    # First SAMPLE customers each hold at least one subscription (seed_bulk deals them out).
    assert naive.sf_counters["PATCH sobjects/{type}/{field}/{value}"] >= SAMPLE
    assert result.naive_full.total == pytest.approx(naive.total * ACCOUNTS / SAMPLE, abs=1)
    # Even at 200 Accounts the naive integration makes many times our calls.
    assert result.naive_ratio(result.first) > 10
    assert result.naive_ratio(result.unchanged) > 10


def test_render_labels_extrapolation_and_goals(result: BenchResult) -> None:
    text = render(result)
    assert "EXTRAPOLATED" in text
    assert "| 2. unchanged cycle |" in text
    assert "writes nothing (0 records, 0 write calls)" in text
    assert "Sync_Error__c read" in text
