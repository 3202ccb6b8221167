"""The benchmark's code path at a small size (a few seconds, zero latency): the scenarios run,
the budget is computed from the seeded data, and the relations `make bench` reports hold.
Nothing here is timed: the benchmark measures, the tests only check it still works."""

from __future__ import annotations

import math

import pytest

from tests.bench_cycle import Run, run_once
from tests.bench_report import render

ACCOUNTS = 200
SUBSCRIPTIONS = 240
WITHOUT = 4
SAMPLE = 10


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> Run:
    return run_once(tmp_path_factory.mktemp("bench"), accounts=ACCOUNTS,
                    subscriptions=SUBSCRIPTIONS, without_subs=WITHOUT,
                    latency={"salesforce": 0.0, "stripe": 0.0}, naive_sample=SAMPLE)


def test_budget_comes_from_the_seeded_data(result: Run) -> None:
    facts = result.facts
    assert facts.accounts == ACCOUNTS
    assert facts.customers_without_subs == WITHOUT
    assert facts.linked_subscriptions == facts.stripe_subscriptions == SUBSCRIPTIONS
    first = result.scenarios[0].budget
    lines = dict(first.stripe)
    assert lines[next(k for k in lines if k.startswith("Stripe subscription pages"))] == (
        math.ceil(SUBSCRIPTIONS / 100))


def test_every_scenario_stays_within_its_budget(result: Run) -> None:
    for m in result.scenarios:
        assert m.total <= 1.1 * m.budget.total, (m.scenario, m.endpoints, m.budget.lines())


def test_unchanged_cycle_writes_nothing(result: Run) -> None:
    unchanged = result.scenarios[1]
    assert unchanged.written == 0
    assert set(unchanged.endpoints["salesforce"]) == {"GET query"}


def test_idle_tick_is_three_calls(result: Run) -> None:
    idle = result.scenarios[3]
    assert idle.total == 3 and idle.written == 0


def test_engine_figures_are_its_own(result: Run) -> None:
    for m in result.scenarios:
        assert m.cpu_s > 0 and m.peak_mb > 0, m.scenario


def test_baselines_make_more_calls(result: Run) -> None:
    no_diff, naive, full = result.baselines
    assert no_diff.written == SUBSCRIPTIONS + ACCOUNTS
    assert no_diff.total > result.scenarios[1].total  # the diff's own saving
    assert naive.endpoints["stripe"]["GET /v1/subscriptions"] == SAMPLE
    assert full.total == pytest.approx(naive.total * ACCOUNTS / SAMPLE, abs=2)
    assert full.total > 10 * result.scenarios[0].total


def test_render_is_a_readme_table(result: Run) -> None:
    text = render(result, None)
    assert "| 2. unchanged full cycle |" in text
    assert "EXTRAPOLATED" in text
    assert "Machine:" in text
