"""A Recurly full reconcile read in slices of Accounts: what it writes, record for record, and
the calls it makes are those of the same reconcile in one slice; the site (its subscriptions
and accounts) is listed at most once per cycle; a listing that fails part way stops the cycle
as it always has."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from standins.recurly import RecurlyStandIn
from sync.errors import RetryLater
from sync.recurly_io import RecurlySource
from tests.provider_slices import Org, link_all, orgs, outcome, run_full, state, stopped

from .conftest import KEY, T0

SUBS = "GET /subscriptions"
ACCOUNTS = "GET /accounts"
HEADS = ("HEAD /subscriptions", "HEAD /accounts")


def _env(standin: RecurlyStandIn) -> dict[str, str]:
    return {
        "BILLING_PROVIDER": "recurly",
        "RECURLY_API_KEY": KEY,
        "RECURLY_API_BASE": standin.base_url,
    }


def _codes(standin: RecurlyStandIn) -> list[str]:
    return [a["code"] for a in standin.store.data["account"].values()]


def _site(standin: RecurlyStandIn, client: Any) -> list[tuple[str, str]]:
    """60 accounts with 80 subscriptions (some several, in mixed currencies), two accounts
    without one, and the links Salesforce holds: in an order unrelated to the site's, one code
    in other letters' case, one unknown and one Recurly would refuse."""
    standin.seed_bulk(accounts=60, subscriptions=80)
    for code in ("lonely-1", "lonely-2"):
        client.create_account({"code": code, "company": f"{code} Ltd"})
    codes = _codes(standin)
    codes[codes.index("seed-00007")] = "SEED-00007"  # codes match ignoring case
    pairs = [(f"Co {c}", c) for c in codes]
    random.Random(3).shuffle(pairs)
    return [*pairs, ("Nobody Co", "nobody"), ("Bad Co", "-bad")]


@pytest.fixture
def sites(tmp_path, standin, client) -> Iterator[tuple[list[Org], list[tuple[str, str]]]]:
    pairs = _site(standin, client)
    with orgs(tmp_path, _env(standin)) as made:
        for org in made:
            link_all(org, "recurly", pairs)
        yield made, pairs


def _calls(standin: RecurlyStandIn) -> dict[str, int]:
    return {k: v for k, v in standin.counters.items() if not k.startswith(("POST", "PUT"))}


def test_a_sliced_listing_writes_what_one_pass_writes_with_the_same_calls(sites, standin):
    made, pairs = sites
    standin.reset_counters()
    one = run_full(made[0], T0)
    one_calls = _calls(standin)
    standin.reset_counters()
    many = run_full(made[1], T0, slice_size=9)  # eight slices
    many_calls = _calls(standin)
    assert one.strategy == many.strategy == "list_all"
    assert one.stop is None and one.written > 60, one.summary()
    assert outcome(many) == outcome(one)
    assert state(made[1]) == state(made[0])
    # the totals asked for once, the site listed once (a page of each), every plan once
    assert many_calls == one_calls, (many_calls, one_calls)
    assert [many_calls[k] for k in (*HEADS, SUBS, ACCOUNTS)] == [1, 1, 1, 1]
    assert many_calls["GET /plans/{plan_id}"] == len(standin.store.data["plan"])
    # the last Account (the last slice) and the code Salesforce spells in capitals
    sf = made[1].sf
    by_name = {a["Name"]: a for a in sf.org.all("Account")}
    last_name, last_code = pairs[-3]
    subs = sf.org.all("Subscription__c")
    for name, code in ((last_name, last_code), ("Co SEED-00007", "SEED-00007")):
        account = by_name[name]
        assert account["Billing_Status__c"] not in (None, "No Subscription"), name
        mine = [s for s in subs if s["Billing_Customer_Id__c"] == code]
        assert mine and all(s["Account__c"] == account["Id"] for s in mine), name
    assert by_name["Co lonely-1"]["Billing_Status__c"] == "No Subscription"
    codes = {e["Error_Code__c"] for e in sf.org.all("Sync_Error__c")}
    assert codes == {"UNKNOWN_CUSTOMER", "CUSTOMER_REFUSED", "MIXED_CURRENCY"}, codes


def test_sliced_per_customer_reads_ask_each_slice_for_its_own(tmp_path, standin, client):
    # A site far larger than the three linked accounts: two GETs each is the cheaper way.
    standin.seed_bulk(accounts=500, subscriptions=500)
    pairs = [(f"Co {c}", c) for c in _codes(standin)[::200]]
    with orgs(tmp_path, _env(standin)) as made:
        calls = []
        reports = []
        for org, size in zip(made, (1_000_000, 1), strict=True):
            link_all(org, "recurly", pairs)
            standin.reset_counters()
            reports.append(run_full(org, T0, slice_size=size))
            calls.append(_calls(standin))
        one, many = reports
        assert one.strategy == many.strategy == "per_customer"
        assert outcome(many) == outcome(one)
        assert state(made[1]) == state(made[0])
        # the totals asked for once in the cycle, not once a slice
        assert calls[1] == calls[0] and calls[1]["HEAD /accounts"] == 1, calls
        assert calls[1]["GET /accounts/{account_id}"] == 3


def test_a_listing_that_fails_part_way_stops_the_cycle_as_one_pass_does(sites, standin):
    made, _pairs = sites
    reports = []
    for org, size in zip(made, (1_000_000, 9), strict=True):
        # every subscription listed, then the account listing refused for as long as the
        # engine's backoff retries
        standin.fail_next(100, status=500, path="GET /accounts")
        standin.reset_counters()
        reports.append(run_full(org, T0, slice_size=size))
        assert standin.counters[SUBS] == 1 and standin.counters[ACCOUNTS] > 1
        standin.faults.clear()
    one, many = reports
    assert one.stop is not None, one.summary()
    assert stopped(many) == stopped(one) and many.accounts_read == 9
    assert many.written == 0 and state(made[1]) == state(made[0])


def test_one_cycle_lists_once_and_the_next_lists_afresh(standin, source: RecurlySource):
    standin.seed_bulk(accounts=60, subscriptions=80)
    codes = sorted(_codes(standin))
    whole = source.fetch(codes)
    assert whole.stats.strategy == "list_all"
    for cycle in range(2):
        source.begin_cycle()
        standin.reset_counters()
        parts = [source.fetch(codes[i : i + 9], population=60) for i in range(0, 60, 9)]
        assert [standin.counters[k] for k in (*HEADS, SUBS, ACCOUNTS)] == [1, 1, 1, 1], cycle
        merged = {cid: c for p in parts for cid, c in p.customers.items()}
        assert merged == dict(whole.customers)
        assert all(p.stats.subscriptions_listed == 80 for p in parts)


def test_a_listing_failed_part_way_is_not_kept_for_the_next_slice(standin, source: RecurlySource):
    standin.seed_bulk(accounts=60, subscriptions=80)
    codes = sorted(_codes(standin))
    standin.fail_next(100, status=500, path="GET /accounts")
    with pytest.raises(RetryLater):  # the subscriptions listed, the accounts refused
        source.fetch(codes[:9], population=60)
    standin.faults.clear()
    standin.reset_counters()
    again = source.fetch(codes[:9], population=60)
    assert (standin.counters[SUBS], standin.counters[ACCOUNTS]) == (1, 1)
    assert again.stats.subscriptions_listed == 80 and len(again.customers) == 9
    # one listing's subscriptions, not two: each of them once
    ids = [s.id for c in again.customers.values() for s in c.subscriptions]
    assert len(ids) == len(set(ids)) > 9
