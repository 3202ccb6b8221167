"""A Chargebee full reconcile read in slices of Accounts: what it writes, record for record,
and the calls it makes are those of the same reconcile in one slice; the site is listed at
most once per cycle; a listing that fails part way stops the cycle as it always has."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import chargebee
import pytest

from standins.chargebee import ChargebeeStandIn
from sync.chargebee_io import ChargebeeSource
from sync.errors import RetryLater
from tests.provider_slices import Org, link_all, orgs, outcome, run_full, state, stopped

from .conftest import T0, Http

LISTING = "GET /api/v2/subscriptions"
LOOKUP = "GET /api/v2/customers"
SEEDED = 150  # two listing pages


def _env(standin: ChargebeeStandIn) -> dict[str, str]:
    return {
        "BILLING_PROVIDER": "chargebee",
        "CHARGEBEE_SITE": standin.site,
        "CHARGEBEE_API_KEY": standin.api_key,
        "CHARGEBEE_API_BASE": standin.api_base,
    }


def _site(standin: ChargebeeStandIn) -> list[tuple[str, str]]:
    """150 customers with a subscription each, two without one, and the links Salesforce
    holds: in an order unrelated to the site's, with a malformed id and an unknown one."""
    seeded = standin.seed_bulk(customers=SEEDED)
    http = Http(standin)
    for cid in ("bare-1", "bare-2"):
        http.ok("/customers", id=cid, company=f"{cid} Ltd")
    http.session.close()
    pairs = [(f"Co {cid}", cid) for cid in seeded]
    random.Random(3).shuffle(pairs)
    # Customers the listing does not hold are looked up 100 ids a call within a slice: side
    # by side, they fall in one slice and one call either way (spread, see the test below).
    pairs[60:60] = [("Co bare-1", "bare-1"), ("Co bare-2", "bare-2"), ("Nobody Co", "nobody")]
    return [*pairs, ("Typo Co", "has space")]


@pytest.fixture
def sites(tmp_path, standin, monkeypatch) -> Iterator[tuple[list[Org], list[tuple[str, str]]]]:
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", True)
    pairs = _site(standin)
    with orgs(tmp_path, _env(standin)) as made:
        for org in made:
            link_all(org, "chargebee", pairs)
        yield made, pairs


def _compare(standin: ChargebeeStandIn, made: list[Org], **kw: Any) -> tuple[Any, ...]:
    """The unsliced reconcile on the first org, the sliced one on the second: their reports
    and the calls each made."""
    whole, sliced = made
    standin.reset_counters()
    one = run_full(whole, T0, **kw)
    one_calls = dict(standin.counters)
    standin.reset_counters()
    many = run_full(sliced, T0, slice_size=40, **kw)
    return one, one_calls, many, dict(standin.counters)


def test_a_sliced_listing_writes_what_one_pass_writes_with_the_same_calls(sites, standin):
    made, pairs = sites
    # A low site-wide total makes listing everything the cheaper way for both.
    one, one_calls, many, many_calls = _compare(standin, made, listed_total=50)
    assert one.strategy == many.strategy == "list_all"
    assert one.stop is None and one.written > 2 * SEEDED, one.summary()
    assert outcome(many) == outcome(one)
    assert state(made[1]) == state(made[0])
    # four slices, one listing of the site (two pages), the catalog and the customers
    # without a subscription asked for once each
    assert many_calls == one_calls and many_calls[LISTING] == 2, many_calls
    assert many_calls[LOOKUP] == 1
    # the last Account (the last slice) maps its customer, listed on the first slice
    last_name, last_cid = pairs[-2]
    sf = made[1].sf
    [account] = [a for a in sf.org.all("Account") if a["Name"] == last_name]
    assert account["Billing_Status__c"] not in (None, "No Subscription")
    [sub] = [s for s in sf.org.all("Subscription__c") if s["Billing_Customer_Id__c"] == last_cid]
    assert sub["Account__c"] == account["Id"]
    codes = sorted(e["Error_Code__c"] for e in sf.org.all("Sync_Error__c"))
    assert codes == ["MALFORMED_ID", "UNKNOWN_CUSTOMER"]


def test_customers_without_a_subscription_are_looked_up_by_each_slice_that_holds_some(
    sites, standin
):
    made, pairs = sites
    names = {cid: name for name, cid in pairs}
    # move "nobody" to the last Account of the second org: a slice of its own kind
    sf = made[1].sf
    [nobody] = [a for a in sf.org.all("Account") if a["Name"] == names["nobody"]]
    sf.org.update("Account", nobody["Id"], {"Chargebee_Customer_Id__c": None})
    link_all(made[1], "chargebee", [(names["nobody"] + " moved", "nobody")])
    standin.reset_counters()
    many = run_full(made[1], T0, slice_size=40, listed_total=50)
    assert many.strategy == "list_all" and many.accounts_matched == len(pairs) - 1
    # one ``id[in]`` call for the slice holding bare-1 and bare-2, one for the last slice:
    # one pass would have asked for the three in one call
    assert standin.counters[LOOKUP] == 2 and standin.counters[LISTING] == 2


def test_sliced_batches_by_id_ask_each_slice_for_its_own(sites, standin):
    made, _pairs = sites
    # A site-wide total far above the linked customers: ``customer_id[in]`` batches win.
    one, one_calls, many, many_calls = _compare(standin, made, listed_total=100_000)
    assert one.strategy == many.strategy == "per_customer"
    assert outcome(many) == outcome(one)
    assert state(made[1]) == state(made[0])
    # 152 well-formed ids: two batches in one pass; slices of 40 ask 40 (or fewer) a batch
    assert one_calls[LISTING] == 2 and many_calls[LISTING] == 4
    assert {k: v for k, v in many_calls.items() if k != LISTING} == {
        k: v for k, v in one_calls.items() if k != LISTING
    }


def test_slices_of_a_hundred_batch_as_one_pass_does(sites, standin):
    made, _pairs = sites
    standin.reset_counters()
    run_full(made[0], T0, listed_total=100_000)
    one_calls = dict(standin.counters)
    standin.reset_counters()
    assert run_full(made[1], T0, slice_size=100, listed_total=100_000).strategy == "per_customer"
    assert dict(standin.counters) == one_calls
    assert state(made[1]) == state(made[0])


def test_a_listing_that_fails_part_way_stops_the_cycle_as_one_pass_does(tmp_path, monkeypatch):
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", True)
    # One request a minute on a frozen clock: the listing's second page is refused (429)
    # for as long as the engine's backoff retries.
    with ChargebeeStandIn(api_key="test_fake_standin_key", site="acme-test", rate_limit=1) as s:
        s.set_time(T0)
        seeded = s.seed_bulk(customers=SEEDED)
        with orgs(tmp_path, _env(s)) as made:
            for org in made:
                link_all(org, "chargebee", [(f"Co {c}", c) for c in seeded])
            reports = []
            for org, size in zip(made, (1_000_000, 40), strict=True):
                s.advance_time(61)  # the window of the run before is over
                s.reset_counters()
                reports.append(run_full(org, T0, slice_size=size, listed_total=50))
                assert s.counters[LISTING] > 2  # page one, then page two refused and retried
            one, many = reports
            assert one.stop is not None, one.summary()
            # the same stop, nothing written; only the Accounts read before it differ
            assert stopped(many) == stopped(one) and many.accounts_read == 40
            assert many.written == 0 and state(made[1]) == state(made[0])


def test_one_cycle_lists_once_and_the_next_lists_afresh(standin, source: ChargebeeSource):
    seeded = standin.seed_bulk(customers=SEEDED)
    whole = source.fetch(seeded, expected_subscriptions=50)
    assert whole.stats.strategy == "list_all"
    for cycle in range(2):
        source.begin_cycle()
        standin.reset_counters()
        parts = [
            source.fetch(seeded[i : i + 40], expected_subscriptions=50, population=SEEDED)
            for i in range(0, SEEDED, 40)
        ]
        assert standin.counters[LISTING] == 2, (cycle, standin.counters)
        merged = {cid: c for p in parts for cid, c in p.customers.items()}
        assert merged == dict(whole.customers)
        assert all(p.stats.subscriptions_listed == SEEDED for p in parts)


def test_a_listing_failed_part_way_is_not_kept_for_the_next_slice(monkeypatch):
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", False)
    with ChargebeeStandIn(api_key="test_fake_standin_key", site="acme-test", rate_limit=1) as s:
        s.set_time(T0)
        seeded = s.seed_bulk(customers=SEEDED)
        source = ChargebeeSource(s.sdk_client(), sleep=lambda _s: None)
        with pytest.raises(RetryLater):  # page one listed, page two refused
            source.fetch(seeded[:40], expected_subscriptions=50, population=SEEDED)
        s.site_state.settings = replace(s.site_state.settings, rate_limit=None)
        s.reset_counters()
        again = source.fetch(seeded[:40], expected_subscriptions=50, population=SEEDED)
        assert s.counters[LISTING] == 2 and len(again.customers) == 40
        assert again.stats.subscriptions_listed == SEEDED
        assert all(len(c.subscriptions) == 1 for c in again.customers.values())
